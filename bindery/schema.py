"""Field types and the declarations layouts make of them: what each YAML file may hold.

A schema checks a loaded :class:`~bindery.yamlsource.Source` and returns the data
converted to Python values, appending every problem to a list of errors rather than
stopping at the first, so a translator sees all their mistakes in one run. Which
fields a content file has is not written here: each layout declares the fields it
reads (``country:``, ``edition:``, ``product:`` in its layout.yaml), and
:class:`Declaration` turns such a declaration into the fields below.
"""

import difflib
import re
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies

from .yamlsource import invisible, keypath, quoted

class _Missing:
    """No default: the field is left out of the data (one object, kept so when a
    layout travels to a worker process)."""

    def __reduce__(self):
        return 'MISSING'

    def __repr__(self):
        return 'MISSING'


MISSING = _Missing()


class Field:
    """One field: its documentation, whether it is required and its default.

    What a layout declares beside the type is kept for the stages that need it:
    ``where`` (where it prints, for the comments of ``render.py new``),
    ``printed`` (whether the preflight looks for its text in the PDF),
    ``required_with`` (a country value it must come with) and ``keys_from``
    (the country list whose ids a mapping's keys must be).
    """

    kind = 'value'
    where = None
    printed = False
    required_with = None
    keys_from = None

    def __init__(self, doc, required=True, default=MISSING):
        self.doc, self.required, self.default = doc, required, default

    def check(self, source, path, value, errors):
        """Return ``value`` converted, or ``None`` after appending to ``errors``."""
        raise NotImplementedError


def _found(value):
    if isinstance(value, dict):
        return 'a mapping'
    if isinstance(value, list):
        return 'a list'
    return quoted(value) if len(value) < 40 else 'text'


class Text(Field):
    """A single piece of text, exactly as written; never markup or a template.

    It has no line break (a paragraph may not: blank lines in a folded scalar
    would silently make two) and at most ``max_length`` characters.
    """

    kind = 'text'
    printed = True

    def __init__(self, doc, max_length=2000, **kwargs):
        super().__init__(doc, **kwargs)
        self.max_length = max_length

    def check(self, source, path, value, errors):
        if not isinstance(value, str):
            errors.append(source.error(path, f'expected text, found {_found(value)}'))
            return None
        if not value.strip():
            errors.append(source.error(path, 'is empty; write the text or remove the field'))
            return None
        if '\n' in value:
            errors.append(source.error(
                path, 'has a line break; write one paragraph per list item'))
            return None
        if len(value) > self.max_length:
            errors.append(source.error(
                path, f'is {len(value):,} characters long; at most {self.max_length:,} '
                      'fit the layout'))
            return None
        return value


class Pattern(Text):
    """Text matching a regular expression (identifiers, codes)."""

    kind = 'code'
    printed = False

    def __init__(self, doc, pattern, hint, **kwargs):
        super().__init__(doc, max_length=100, **kwargs)
        self.pattern, self.hint = re.compile(pattern), hint

    def check(self, source, path, value, errors):
        value = super().check(source, path, value, errors)
        if value is not None and not self.pattern.fullmatch(value):
            errors.append(source.error(path, f'{quoted(value)} is not {self.hint}'))
            return None
        return value


class Language(Text):
    """A language code CLDR knows (``kk``, ``ky``, ``ru``, ``en``, ``zh_Hant``).

    First its shape, BCP 47's as Babel writes it: a language of two or three
    letters, then script, region or variant subtags; anything else (a path, a
    sentence) is "not a language code" before its length or CLDR is asked.
    """

    kind = 'code'
    printed = False
    #: A language subtag and up to three more, each 1–8 letters or digits.
    SHAPE = re.compile(r'[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{1,8}){0,3}')

    def __init__(self, doc, **kwargs):
        kwargs.setdefault('max_length', 35)
        super().__init__(doc, **kwargs)

    def check(self, source, path, value, errors):
        if isinstance(value, str) and value.strip() and '\n' not in value \
                and not self.SHAPE.fullmatch(value):
            errors.append(source.error(path, f'{quoted(value, 40)} is not a language code '
                                             '(such as kk, ky, ru or zh_Hant)'))
            return None
        value = super().check(source, path, value, errors)
        if value is not None:
            try:
                Locale.parse(value)
            except (ValueError, UnknownLocaleError):
                hint = 'e.g. kk, ky, ru'
                if '-' in value and _is_locale(value.replace('-', '_')):
                    hint = f"write {value.replace('-', '_')}"
                errors.append(source.error(
                    path, f'{quoted(value)} is not a language code CLDR knows ({hint})'))
                return None
        return value


def _is_locale(code):
    try:
        Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return False
    return True


class Currency(Text):
    """An ISO 4217 currency code (``USD``, ``KZT``)."""

    kind = 'code'
    printed = False

    def check(self, source, path, value, errors):
        value = super().check(source, path, value, errors)
        if value is not None and value not in list_currencies():
            errors.append(source.error(
                path, f'{quoted(value)} is not an ISO 4217 currency code (e.g. USD, KZT)'))
            return None
        return value


class Integer(Field):
    """A whole number written in digits, within ``[low, high]``."""

    def __init__(self, doc, low, high, **kwargs):
        super().__init__(doc, **kwargs)
        self.low, self.high = low, high

    def check(self, source, path, value, errors):
        if not isinstance(value, str) or not re.fullmatch(r'-?[0-9]{1,12}', value):
            errors.append(source.error(
                path, f'expected a whole number, found {_found(value)}'))
            return None
        number = int(value)
        if not self.low <= number <= self.high:
            errors.append(source.error(
                path, f'{number} is out of range ({self.low}–{self.high})'))
            return None
        return number


class Number(Field):
    """A non-negative number in digits, with an optional decimal point: ``3800000``, ``10.5``."""

    def check(self, source, path, value, errors):
        try:
            if not isinstance(value, str) or not re.fullmatch(r'[0-9]+(\.[0-9]+)?', value):
                raise InvalidOperation
            return Decimal(value)
        except InvalidOperation:
            errors.append(source.error(
                path, f'expected an amount in digits (e.g. 3800000), found {_found(value)}'))
            return None


class Boolean(Field):
    """``true`` or ``false``, spelled so (``yes``, ``no`` and ``on`` are refused)."""

    def check(self, source, path, value, errors):
        if value in ('true', 'false'):
            return value == 'true'
        errors.append(source.error(path, f'expected true or false, found {_found(value)}'))
        return None


class ListOf(Field):
    """A list of ``item``, at least ``min_items`` long; exactly ``count`` when given,
    as ``owner`` (a layout's name) needs, with ``unique`` naming a field of the
    items that no two may share."""

    kind = 'list'

    def __init__(self, doc, item, min_items=1, max_items=100, count=None, owner=None,
                 unique=None, **kwargs):
        super().__init__(doc, **kwargs)
        self.item, self.min_items, self.max_items = item, min_items, max_items
        self.count, self.owner, self.unique = count, owner, unique

    def check(self, source, path, value, errors):
        if not isinstance(value, list):
            errors.append(source.error(path, f'expected a list, found {_found(value)}'))
            return None
        if self.count is not None and len(value) != self.count:
            found, name = len(value), (path[-1] if path else 'items')
            at = path + (min(found, self.count + 1) - 1,) if found else path
            errors.append(source.error(
                at, f'the {self.owner or "layout"} layout needs {self.count} {name}, '
                    f'found {found}', field=keypath(path)))
            return None
        if not self.min_items <= len(value) <= self.max_items:
            errors.append(source.error(
                path, f'expected {self.min_items} to {self.max_items} items, found '
                      f'{len(value)}'))
            return None
        items = [self.item.check(source, path + (i,), item, errors)
                 for i, item in enumerate(value)]
        if self.unique:
            seen = set()
            for i, item in enumerate(items):
                key = item.get(self.unique) if isinstance(item, dict) else None
                if key is not None and key in seen:
                    errors.append(source.error(path + (i, self.unique),
                                               f'{quoted(key)} twice: each must be unique'))
                seen.add(key)
        return items


class MapOf(Field):
    """A mapping from identifiers the file chooses to ``item`` values."""

    kind = 'map'

    def __init__(self, doc, item, **kwargs):
        super().__init__(doc, **kwargs)
        self.item = item

    def check(self, source, path, value, errors):
        if not isinstance(value, dict):
            errors.append(source.error(path, f'expected a mapping, found {_found(value)}'))
            return None
        return {key: self.item.check(source, path + (key,), item, errors)
                for key, item in value.items()}


class Record(Field):
    """A mapping with named fields; unknown names are errors with a suggestion.

    ``tolerated`` names fields that another layout declares in the same shared
    file: this one neither checks nor refuses them (that layout does).
    """

    kind = 'record'

    def __init__(self, doc, fields, tolerated=(), **kwargs):
        super().__init__(doc, **kwargs)
        self.fields, self.tolerated = fields, frozenset(tolerated)

    def check(self, source, path, value, errors):
        if not isinstance(value, dict):
            errors.append(source.error(path, f'expected a mapping, found {_found(value)}'))
            return None
        result = {}
        for key in value:
            if key not in self.fields and key not in self.tolerated:
                known = [*self.fields, *sorted(self.tolerated)]
                hint = _suggest(key, known, 'known fields')
                errors.append(source.error(
                    path + (key,), f"unknown field {quoted(key)}{hint}", at_key=True,
                    field=keypath(path)))
        for name, spec in self.fields.items():
            if name in value:
                result[name] = spec.check(source, path + (name,), value[name], errors)
            elif spec.required:
                errors.append(source.error(
                    path, f"missing field '{name}' ({_lower(spec.doc)})"))
            else:
                result[name] = None if spec.default is MISSING else spec.default
        return result




def _suggest(key, known, listed):
    """The hint after an unknown ``key``: the known name it is closest to, and
    the invisible characters that alone make it differ, or the ``known`` names."""
    hidden = invisible(key)
    bare = ''.join(char for char in key if char not in hidden)
    if hidden and bare in known:
        codes = ', '.join(f'U+{ord(char):04X}' for char in dict.fromkeys(hidden))
        return f" (did you mean '{bare}'? delete the invisible {codes})"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else f" ({listed}: {', '.join(known)})"


def _lower(doc):
    """A field's documentation inside a sentence: ``The title.`` → ``the title``
    (``ISO 4217 code.`` → ``ISO 4217 code``: an acronym keeps its capitals)."""
    doc = doc.rstrip('.')
    if doc[1:2].isupper():
        return doc
    return doc[:1].lower() + doc[1:]


def validate(schema, source, errors):
    """Check a whole file against a :class:`Record` schema; return the data."""
    return schema.check(source, (), source.data, errors)


# Declarations: a layout's ``country:``, ``edition:`` and ``product:`` mappings,
# each field written as ``{type: text, doc: …, …}``.

_ID = dict(pattern=r'[a-z0-9]+(-[a-z0-9]+)*', hint='an identifier (a-z, 0-9 and -)')
_URL = dict(pattern=r'https?://[^\s<>"]+', hint='a web address (https://…)')
_EMAIL = dict(pattern=r'[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+', hint='an e-mail address')

#: The field types a layout may declare, each with its one line for the guide.
TYPES = {
    'text': 'One line of text, exactly as written (max: its most characters, 2000).',
    'paragraph': 'A paragraph of running text (max: its most characters, 1200).',
    'url': 'A web address, https://…',
    'email': 'An e-mail address.',
    'id': 'An identifier: a-z, 0-9 and -.',
    'language': 'A language code CLDR knows (kk, ru, en).',
    'currency': 'An ISO 4217 currency code (USD, KZT).',
    'year': 'A year in digits, 1900 to 2100 (after: a year field it may not precede).',
    'integer': 'A whole number (min, max).',
    'amount': 'A non-negative amount in digits, with an optional decimal point.',
    'boolean': 'true or false.',
    'list': 'A list of item (min, max items, or count: exactly so many; unique: a field '
            'of the items no two may share).',
    'map': 'A mapping from names the file chooses to item (keys_from: a country list '
           'whose ids must be its keys, every one).',
    'record': 'A mapping with the named fields.',
}

#: Every key a field declaration may have, and the one line the guide gives it.
KEYS = {
    'type': 'One of the types above.',
    'doc': 'What the field is, one line: shown in errors, comments and editors.',
    'required': 'true (the default) or false.',
    'default': 'The value when an optional field is left out (text types, boolean).',
    'where': 'Where the field prints, for the comments `render.py new` writes.',
    'printed': 'Whether the preflight looks for the text in the PDF (default true for '
               'text, paragraph, url and email; false for id, language and currency).',
    'max': 'text, paragraph: most characters; list: most items; integer: largest value.',
    'min': 'list: fewest items (default 1); integer: smallest value.',
    'count': 'list: exactly this many items (the layout needs them all).',
    'unique': 'list of records: a field no two items may share.',
    'item': 'list, map: the declaration of each item.',
    'fields': 'record: the declarations of its fields, by name.',
    'keys_from': 'map: a country list of records with an id; the map gives a value for '
                 'each id, and no other (top-level edition and product fields only).',
    'required_with': 'A country field: this one is required exactly when that one is '
                     'given (top-level edition and product fields only).',
    'after': 'year, integer: another field of the country file it may not be less than '
             '(top-level country fields only).',
}


class Declaration(Field):
    """A field declaration in a layout.yaml; ``check`` returns the :class:`Field`
    it declares (named ``owner``'s, for messages such as "needs 9 facts")."""

    def __init__(self, doc, owner, **kwargs):
        super().__init__(doc, **kwargs)
        self.owner = owner

    def check(self, source, path, value, errors):
        if not isinstance(value, dict):
            errors.append(source.error(path, 'expected a field declaration, e.g. '
                                             '{type: text, doc: "The title."}'))
            return None
        before = len(errors)
        for key in value:
            if key not in KEYS:
                hint = _suggest(key, list(KEYS), 'known keys')
                errors.append(source.error(path + (key,), f'unknown key {quoted(key)}{hint}',
                                           at_key=True, field=keypath(path)))
        kind = value.get('type')
        if not isinstance(kind, str) or kind not in TYPES:
            errors.append(source.error(path + ('type',) if 'type' in value else path,
                                       f"type must be one of {', '.join(TYPES)}"
                                       + (f', not {quoted(kind)}' if isinstance(kind, str) else '')))
            return None
        get = _Getter(source, path, value, errors)
        doc = get('doc', Text('', max_length=300))
        if doc is None:
            if 'doc' not in value:
                errors.append(source.error(path, "missing key 'doc' (one line saying what "
                                                 'the field is)'))
            return None
        common = dict(required=get('required', Boolean(''), True))
        allowed = {'type', 'doc', 'required', 'where', 'required_with'}
        if kind in ('text', 'paragraph', 'url', 'email', 'id', 'language', 'currency'):
            allowed |= {'printed', 'default'}
            if kind in ('text', 'paragraph'):
                allowed.add('max')
                limit = get('max', Integer('', 1, 100_000), 2000 if kind == 'text' else 1200)
                field = Text(doc, max_length=limit, **common)
            elif kind in ('url', 'email', 'id'):
                pattern = {'url': _URL, 'email': _EMAIL, 'id': _ID}[kind]
                field = Pattern(doc, **pattern, **common)
                field.printed = kind != 'id'
            else:
                field = (Language if kind == 'language' else Currency)(doc, **common)
            if 'default' in value:
                field.default = get('default', Text(''))
            field.printed = get('printed', Boolean(''), field.printed)
        elif kind in ('year', 'integer'):
            allowed |= {'min', 'max', 'after'} if kind == 'integer' else {'after'}
            low = get('min', Integer('', -10 ** 12, 10 ** 12), 1900 if kind == 'year' else 0)
            high = get('max', Integer('', -10 ** 12, 10 ** 12),
                       2100 if kind == 'year' else 10 ** 12)
            field = Integer(doc, low, high, **common)
            if low is not None and high is not None and low > high:
                errors.append(source.error(path + ('min',), f'min {low} is more than max '
                                           f'{high}: no number fits'))
            field.after = get('after', Pattern('', r'[a-z][a-z0-9_]*', 'a field name'))
        elif kind == 'amount':
            field = Number(doc, **common)
        elif kind == 'boolean':
            allowed.add('default')
            field = Boolean(doc, **common)
            field.default = get('default', Boolean(''), MISSING)
        elif kind == 'list':
            allowed |= {'item', 'min', 'max', 'count', 'unique'}
            item = self._nested(source, path, value, 'item', errors)
            count = get('count', Integer('', 0, 1000))
            unique = get('unique', Pattern('', r'[a-z][a-z0-9_]*', 'a field name'))
            if unique and item is not None and unique not in getattr(item, 'fields', {}):
                errors.append(source.error(path + ('unique',), f"'{unique}' is not a field "
                                           'of the items (a record) of this list'))
            field = ListOf(doc, item, min_items=get('min', Integer('', 0, 1000), 1),
                           max_items=get('max', Integer('', 1, 1000), 100), count=count,
                           owner=self.owner, unique=unique, **common)
            if field.min_items is not None and field.max_items is not None and (
                    field.min_items > field.max_items):
                errors.append(source.error(path + ('min',), f'min {field.min_items} is more '
                                           f'than max {field.max_items}: no list fits'))
            if count is not None and field.max_items is not None and 'max' in value and (
                    count > field.max_items or count < (field.min_items or 0)):
                errors.append(source.error(path + ('count',), f'{count} is outside min–max '
                                           f'({field.min_items}–{field.max_items})'))
        elif kind == 'map':
            allowed |= {'item', 'keys_from'}
            field = MapOf(doc, self._nested(source, path, value, 'item', errors), **common)
            field.keys_from = get('keys_from', Pattern('', r'[a-z][a-z0-9_]*',
                                                       'a country field name'))
        else:
            allowed.add('fields')
            fields = value.get('fields')
            if not isinstance(fields, dict) or not fields:
                errors.append(source.error(path, "a record needs 'fields', a mapping of "
                                                 'field declarations'))
                return None
            for name in fields:
                if why := _bad_name(name):
                    errors.append(source.error(path + ('fields', name), why, at_key=True,
                                               field=keypath(path)))
            field = Record(doc, fields={
                name: self.check(source, path + ('fields', name), item, errors)
                for name, item in fields.items()}, **common)
        for key in value:
            if key in KEYS and key not in allowed:
                errors.append(source.error(path + (key,), f"'{key}' does not apply to a "
                                           f'{kind} field', at_key=True, field=keypath(path)))
        field.where = get('where', Text('', max_length=300))
        required_with = get('required_with', Pattern('', r'[a-z][a-z0-9_]*',
                                                     'a country field name'))
        if required_with:
            field.required_with, field.required = required_with, False
        if len(errors) > before:
            return None
        field.kind_name = kind
        return field

    def _nested(self, source, path, value, key, errors):
        if key not in value:
            errors.append(source.error(path, f"a {value['type']} needs '{key}', the "
                                             'declaration of its items'))
            return None
        return self.check(source, path + (key,), value[key], errors)


class _Getter:
    """Reads one optional key of a declaration, checked by a field."""

    def __init__(self, source, path, value, errors):
        self.source, self.path, self.value, self.errors = source, path, value, errors

    def __call__(self, key, field, default=None):
        if key not in self.value:
            return default
        return field.check(self.source, self.path + (key,), self.value[key], self.errors)


#: What a field may be called: what YAML keys, JSON Schema and Jinja all read plainly.
FIELD_NAME = re.compile(r'[a-z][a-z0-9_]*')
#: Names Jinja would read as a mapping's method (``edition.items``), not the field.
_METHODS = frozenset(name for name in dir(dict) if not name.startswith('_'))


def _bad_name(name):
    """Why ``name`` cannot be a field's, or None."""
    if not isinstance(name, str) or not FIELD_NAME.fullmatch(name):
        return f'{quoted(name)} is not a field name (a-z, 0-9 and _, from a letter)'
    if name in _METHODS:
        return (f"'{name}' is a name templates read as a method of the mapping "
                f'(edition.{name}); choose another')
    return None


class Declarations(MapOf):
    """A mapping of field declarations (``edition:`` of a layout.yaml), by name."""

    def check(self, source, path, value, errors):
        if isinstance(value, dict):
            for name in value:
                if why := _bad_name(name):
                    errors.append(source.error(path + (name,), why, at_key=True,
                                               field=keypath(path)))
        return super().check(source, path, value, errors)


def declarations(doc, owner, **kwargs):
    """A mapping of field declarations (``edition:`` of a layout.yaml)."""
    return Declarations(doc, Declaration('A field declaration.', owner), **kwargs)


def declared_paths(raw, path=()):
    """The key paths (``('facts', '*', 'short')``, '*' for any list item or map key)
    a raw declaration mapping names, read leniently from PyYAML data: used to know
    which keys of a shared file some layout reads, even when that layout has errors."""
    found = set()
    if not isinstance(raw, dict):
        return found
    for name, decl in raw.items():
        if not isinstance(name, str):
            continue
        found.add(path + (name,))
        if isinstance(decl, dict):
            item = decl.get('item')
            while isinstance(item, dict) and item.get('type') in ('list', 'map'):
                item = item.get('item')
            inner = item.get('fields') if isinstance(item, dict) else decl.get('fields')
            if isinstance(decl.get('item'), dict):
                found |= declared_paths(inner, path + (name, '*'))
            else:
                found |= declared_paths(inner, path + (name,))
    return found


def tolerate(field, paths, path=()):
    """Let every :class:`Record` under ``field`` pass the keys that ``paths`` (as
    :func:`declared_paths` gives) name at its place: other layouts' fields."""
    if paths is None:  # not known: let every key pass
        paths = ANY
    if isinstance(field, Record):
        field.tolerated = ANY if paths is ANY else frozenset(
            p[-1] for p in paths if len(p) == len(path) + 1 and p[:-1] == path
        ) - set(field.fields)
        for name, sub in field.fields.items():
            tolerate(sub, paths, path + (name,))
    elif isinstance(field, (ListOf, MapOf)):
        tolerate(field.item, paths, path + ('*',))
    return field


class _Any(frozenset):
    """Every name: what a record lets pass when the other layouts' fields are not known."""

    def __contains__(self, name):
        return True

    def __reduce__(self):
        return 'ANY'


ANY = _Any()


def generic(path):
    """A key path with list indexes and map keys as '*' (for :func:`tolerate`)."""
    return tuple('*' if isinstance(part, int) else part for part in path)
