"""Declared schemas: what each YAML file may hold, each field typed and documented.

A schema checks a loaded :class:`~bindery.yamlsource.Source` and returns the data
converted to Python values, appending every problem to a list of errors rather than
stopping at the first, so a translator sees all their mistakes in one run.
"""

import difflib
import re
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies

from .yamlsource import keypath

MISSING = object()


class Field:
    """One field: its documentation, whether it is required and its default."""

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
    return f'{value!r}' if len(value) < 40 else 'text'


class Text(Field):
    """A single piece of text, exactly as written; never markup or a template.

    ``multiline`` allows line breaks inside it (a paragraph may not have them:
    blank lines in a folded scalar would silently make one).
    """

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

    def __init__(self, doc, pattern, hint, **kwargs):
        super().__init__(doc, max_length=100, **kwargs)
        self.pattern, self.hint = re.compile(pattern), hint

    def check(self, source, path, value, errors):
        value = super().check(source, path, value, errors)
        if value is not None and not self.pattern.fullmatch(value):
            errors.append(source.error(path, f'{value!r} is not {self.hint}'))
            return None
        return value


class Language(Text):
    """A language code CLDR knows (``kk``, ``ky``, ``ru``, ``en``)."""

    def __init__(self, doc, **kwargs):
        super().__init__(doc, max_length=20, **kwargs)

    def check(self, source, path, value, errors):
        value = super().check(source, path, value, errors)
        if value is not None:
            try:
                Locale.parse(value)
            except (ValueError, UnknownLocaleError):
                errors.append(source.error(
                    path, f'{value!r} is not a language code CLDR knows (e.g. kk, ky, ru)'))
                return None
        return value


class Currency(Text):
    """An ISO 4217 currency code (``USD``, ``KZT``)."""

    def check(self, source, path, value, errors):
        value = super().check(source, path, value, errors)
        if value is not None and value not in list_currencies():
            errors.append(source.error(
                path, f'{value!r} is not an ISO 4217 currency code (e.g. USD, KZT)'))
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
    """A list of ``item``, at least ``min_items`` long."""

    def __init__(self, doc, item, min_items=1, max_items=100, **kwargs):
        super().__init__(doc, **kwargs)
        self.item, self.min_items, self.max_items = item, min_items, max_items

    def check(self, source, path, value, errors):
        if not isinstance(value, list):
            errors.append(source.error(path, f'expected a list, found {_found(value)}'))
            return None
        if not self.min_items <= len(value) <= self.max_items:
            errors.append(source.error(
                path, f'expected {self.min_items} to {self.max_items} items, found '
                      f'{len(value)}'))
            return None
        return [self.item.check(source, path + (i,), item, errors)
                for i, item in enumerate(value)]


class MapOf(Field):
    """A mapping from identifiers the file chooses to ``item`` values."""

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
    """A mapping with named fields; unknown names are errors with a suggestion."""

    def __init__(self, doc, fields, **kwargs):
        super().__init__(doc, **kwargs)
        self.fields = fields

    def check(self, source, path, value, errors):
        if not isinstance(value, dict):
            errors.append(source.error(path, f'expected a mapping, found {_found(value)}'))
            return None
        result = {}
        for key in value:
            if key not in self.fields:
                close = difflib.get_close_matches(key, self.fields, n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else (
                    f" (known fields: {', '.join(self.fields)})")
                errors.append(source.error(
                    path + (key,), f"unknown field '{key}'{hint}", at_key=True,
                    field=keypath(path)))
        for name, spec in self.fields.items():
            if name in value:
                result[name] = spec.check(source, path + (name,), value[name], errors)
            elif spec.required:
                errors.append(source.error(
                    path, f"missing field '{name}' ({spec.doc[0].lower()}{spec.doc[1:-1]})"))
            else:
                result[name] = None if spec.default is MISSING else spec.default
        return result


def validate(schema, source, errors):
    """Check a whole file against a :class:`Record` schema; return the data."""
    return schema.check(source, (), source.data, errors)


_ID = dict(pattern=r'[a-z0-9]+(-[a-z0-9]+)*', hint='an identifier (a-z, 0-9 and -)')
PARAGRAPH = Text('One paragraph, exactly as written.', max_length=1200)

COUNTRY = Record('A country file: data/<country>/country.yaml.', {
    'founded': Integer('The year the foundation started work.', 1900, 2100),
    'anniversary': Integer('The year the booklet celebrates.', 1900, 2100),
    'languages': ListOf('The languages this country is published in.',
                        Language('A language code.')),
    'grants_total': Record('All grants made since the foundation started.', {
        'amount': Number('The amount, in digits.'),
        'currency': Currency('ISO 4217 code.'),
        'approximate': Boolean('Whether the amount is rounded ("about").',
                               required=False, default=False),
    }, required=False, default=None),
    'figures': ListOf('Key figures, shown large, in this order.', Record('A figure.', {
        'id': Pattern('The name language files label it by.', **_ID),
        'amount': Number('The amount, in digits.'),
        'currency': Currency('ISO 4217 code.'),
        'year': Integer('The year it is for.', 1900, 2100),
    }), min_items=0, max_items=6, required=False, default=[]),
})

EDITION = Record('A language file: data/<country>/<lang>.yaml.', {
    'lang': Language('The language of this file, the same as its name.'),
    'translation_of': Language('The language this edition is translated from, when it '
                               'is a translation; the PDFs say so.',
                               required=False, default=None),
    'title': Text('The booklet title.', max_length=120),
    'foundation': Text("The foundation's name in this language.", max_length=120),
    'intro': ListOf('The introduction, one paragraph per item.', PARAGRAPH, max_items=8),
    'grants_total_label': Text("Label of the country's grants_total.", max_length=160,
                               required=False, default=None),
    'figures_title': Text('Heading above the key figures.', max_length=120,
                          required=False, default=None),
    'figures': MapOf("A label for each of the country's figures, by id.",
                     Text('A label.', max_length=160), required=False, default={}),
    'facts_kicker': Text('A line set above the facts title.', max_length=160,
                         required=False, default=None),
    'facts_title': Text('The heading of the facts.', max_length=80),
    # How many facts is the layout's rule (content.load_edition), which says so
    # in its own words; the schema only bounds the list.
    'facts': ListOf('The facts, in order.', Record('A fact.', {
        'text': PARAGRAPH,
    }), min_items=0, max_items=500),
})
