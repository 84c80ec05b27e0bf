"""Translators' workflow: what each translated field was made from, staleness, XLIFF/PO exchange, pseudo-translation."""

import argparse
import hashlib
import json
import math
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import yamlsource
from .editions import write_atomic
from .errors import BookletError, SourceError, SourceErrors, UsageError
from .schema import ListOf, MapOf, Record, Text, validate

#: The fingerprints of a translation live beside it: ``ru.yaml`` → ``ru.lock.json``.
LOCK_SUFFIX = '.lock.json'
#: XLIFF 1.2 is what OmegaT, memoQ, Trados Studio, Weblate and Crowdin all read
#: (see the README, "Translating").
XLIFF_NS = 'urn:oasis:names:tc:xliff:document:1.2'
_XLIFF_SKELETON = (f"<?xml version='1.0' encoding='UTF-8'?>\n<xliff version='1.2' "
                   f"xmlns='{XLIFF_NS}'>\n<file original='NoName' source-language='en' "
                   "datatype='plaintext'>\n<body>\n</body>\n</file>\n</xliff>")
_NAME = r'[a-z0-9]+(?:[-_][a-z0-9]+)*'
_LANG = r'[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*'
#: What an exchange file may name as its original: a content file, nothing else.
_ORIGINAL = re.compile(rf'data/({_NAME})/(?:({_NAME})/)?({_LANG})\.yaml')
#: States (XLIFF 1.2 ``state``) that say the translator has not yet confirmed a target.
_UNCONFIRMED = {'new', 'needs-translation', 'needs-adaptation', 'needs-l10n',
                'needs-review-translation', 'needs-review-adaptation', 'needs-review-l10n'}


def fingerprint(text):
    """The fingerprint of an original's text: the first 64 bits of its SHA-256."""
    return 'sha256:' + hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def lock_path(path):
    """``data/kazakhstan/ru.yaml`` → ``data/kazakhstan/ru.lock.json``."""
    path = Path(path)
    return path.with_name(path.stem + LOCK_SUFFIX)


def _natural(label):
    return [int(part) if part.isdigit() else part for part in re.split(r'[.\[\]]+', label)]


def read_lock(path):
    """``(original file name, {field label: fingerprint})`` or None when there is none."""
    try:
        data = json.loads(Path(path).read_text(encoding='utf-8'))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise BookletError(f'{path}: cannot be read ({exc}); delete it and run '
                           'render.py translate accept again') from None
    fields = data.get('fields') if isinstance(data, dict) else None
    if not isinstance(fields, dict):
        raise BookletError(f'{path}: not a fingerprint file (no "fields"); delete it and '
                           'run render.py translate accept again')
    return str(data.get('original', '')), {str(k): str(v) for k, v in fields.items()}


def write_lock(path, original, fields):
    """Write ``path`` when its content changes; return whether it did."""
    text = json.dumps({
        'about': 'Written by render.py translate (accept, import): for each field, a '
                 'fingerprint of the text of the original it was translated from. '
                 'Do not edit.',
        'original': original,
        'fields': {label: fields[label] for label in sorted(fields, key=_natural)},
    }, ensure_ascii=False, indent=2) + '\n'
    path = Path(path)
    if path.is_file() and path.read_text(encoding='utf-8') == text:
        return False
    write_atomic(path, text.encode('utf-8'))
    return True




# Which fields are translatable ---------------------------------------------------

def text_fields(data, spec, path=()):
    """``{keypath: Text}`` of the text and paragraph values written in ``data`` that
    ``spec`` (a :class:`Record` or a mapping of fields) declares: codes, web and
    e-mail addresses are not translated."""
    found = {}
    if isinstance(spec, dict):
        spec = Record('', spec)
    if isinstance(spec, Record) and isinstance(data, dict):
        for key, value in data.items():
            if key in spec.fields:
                found.update(text_fields(value, spec.fields[key], path + (key,)))
    elif isinstance(spec, ListOf) and isinstance(data, list):
        for i, value in enumerate(data):
            found.update(text_fields(value, spec.item, path + (i,)))
    elif isinstance(spec, MapOf) and isinstance(data, dict):
        for key, value in data.items():
            found.update(text_fields(value, spec.item, path + (key,)))
    elif type(spec) is Text and isinstance(data, str):
        found[path] = spec
    return found


def _value(data, path):
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data if isinstance(data, str) else None


@dataclass
class Pair:
    """A translation file and its original, with the fields that layouts declare
    text in it: ``specs`` maps a key path to ``[(layout name, Text)]``."""

    translation: Path       # absolute
    original: Path
    shown: str              # the translation, project-relative
    shown_original: str
    qualifier: str          # '' for the shared file, '<layout>/' for a product's own
    specs: dict = field(default_factory=dict)
    source: object = None   # yamlsource.Source of the translation, when it exists
    original_source: object = None

    @property
    def lock(self):
        return lock_path(self.translation)

    def label(self, path):
        return yamlsource.keypath(path)


def _load_layouts(root, country, langs):
    """The layouts of the booklets that make an edition of ``country`` in one of ``langs``."""
    from .layouts import load_layout
    from .manifest import load_booklets

    booklets, _ = load_booklets(root)
    names = sorted({b.layout for b in booklets
                    if any(c == country and l in langs for c, l in b.editions)})
    return [load_layout(root, name) for name in names]  # a broken one: SourceErrors


def pairs(root, country, lang, original, layouts):
    """The :class:`Pair` of every file of the edition ``country/lang`` that
    ``layouts`` read: the shared file and each product's own."""
    root = Path(root)
    folder = root / 'data' / country
    found = [(folder / f'{lang}.yaml', folder / f'{original}.yaml', '', 'edition')]
    for layout in layouts:
        if layout.spec['product']:
            found.append((folder / layout.name / f'{lang}.yaml',
                          folder / layout.name / f'{original}.yaml', f'{layout.name}/',
                          layout.name))
    result = []
    for translation, orig, qualifier, kind in found:
        if not orig.is_file():
            continue
        pair = Pair(translation, orig, _shown(translation, root), _shown(orig, root),
                    qualifier)
        pair.original_source = yamlsource.load(orig, root)
        if translation.is_file():
            pair.source = yamlsource.load(translation, root)
        for layout in layouts:
            if kind == 'edition':
                schema = layout.schema('edition')
            elif layout.name == kind:
                schema = layout.schema('product')
            else:
                continue
            for data in (pair.original_source.data,
                         pair.source.data if pair.source else None):
                for path, spec in text_fields(data, schema).items():
                    entry = pair.specs.setdefault(path, [])
                    if all(name != layout.name for name, _ in entry):
                        entry.append((layout.name, spec))
        marks = pair.original_source.values  # in the original's order, as written
        pair.specs = dict(sorted(pair.specs.items(), key=lambda item: (
            marks[item[0]].start if item[0] in marks else len(pair.original_source.text),
            _natural(yamlsource.keypath(item[0])))))
        result.append(pair)
    return result


def _shown(path, root):
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)


# Staleness --------------------------------------------------------------------------

def stale_fields(root, edition, layout):
    """The warnings (:class:`SourceError`) of a translated edition as ``layout``
    reads it: each text field whose original changed since it was translated, or
    that was never marked as translated from it."""
    original = edition.translation_of
    if not original:
        return []
    root = Path(root)
    folder = root / 'data' / edition.country
    found = [(edition.source, folder / f'{original}.yaml', layout.schema('edition'))]
    if edition.product_source is not None:
        found.append((edition.product_source, folder / layout.name / f'{original}.yaml',
                      layout.schema('product')))
    warnings = []
    for source, orig, schema in found:
        if source is None or not orig.is_file():
            continue
        try:
            original_source = yamlsource.load(orig, root)
        except SourceErrors:
            continue  # its own edition reports it
        problems = []
        validate(schema, original_source, problems)
        if problems:  # what it says is unsure until its own errors are fixed
            continue
        translation = Path(source.path)
        translation = translation if translation.is_absolute() else root / translation
        warnings += _stale(root, source, original_source, text_fields(source.data, schema),
                           translation, edition.name)
    return warnings


def _stale(root, source, original_source, paths, translation, edition_name):
    lock_file = lock_path(translation)
    try:
        lock = read_lock(lock_file)
    except BookletError as exc:
        return [SourceError(source.path, 1, 1, '', str(exc))]
    shown_original = original_source.path
    if lock is None or lock[0] != Path(shown_original).name:
        at = ('translation_of',) if isinstance(source.data, dict) and \
            'translation_of' in source.data else ()
        why = (f'{_shown(lock_file, root)} is missing' if lock is None else
               f'{_shown(lock_file, root)} is for {lock[0]}')
        return [source.error(at, f'no record of what this was translated from ({why}); '
                                 f'once it is checked: render.py translate accept '
                                 f'{edition_name}', field='translation_of' if at else '')]
    recorded = lock[1]
    warnings = []
    for path in paths:  # each names its original (``.original``) for `check`
        label = yamlsource.keypath(path)
        now = _value(original_source.data, path)
        mark = original_source.mark(path)
        there = f'{shown_original}:{mark.line}:{mark.col}'
        if now is None:
            warnings.append(source.error(path, f'the original has no such field '
                                               f'({shown_original})'))
        elif label not in recorded:
            warnings.append(source.error(path, f'not marked as translated from the '
                                               f'original ({there})'))
        elif recorded[label] != fingerprint(now):
            warnings.append(source.error(
                path, f'the original changed since this was translated ({there})'))
    for warning in warnings:
        warning.original = shown_original
    return warnings


# accept --------------------------------------------------------------------------------

def _edition(root, name):
    """``country/lang`` → ``(country, lang, original)`` of an existing translation."""
    match = re.fullmatch(rf'({_NAME})/({_LANG})', name or '')
    if not match:
        raise UsageError(f'{name!r} is not an edition (<country>/<lang>, e.g. kazakhstan/ru)')
    country, lang = match.groups()
    path = Path(root, 'data', country, f'{lang}.yaml')
    if not path.is_file():
        raise UsageError(f'no edition {name}: data/{country}/{lang}.yaml does not exist')
    return country, lang


def _original_of(root, country, lang):
    source = yamlsource.load(Path(root, 'data', country, f'{lang}.yaml'), root)
    original = source.data.get('translation_of') if isinstance(source.data, dict) else None
    if not original:
        raise UsageError(f'data/{country}/{lang}.yaml is no translation (it has no '
                         'translation_of)')
    return original


def _matches(pair, path, wanted):
    """Whether the field at ``path`` of ``pair`` is one of ``wanted`` or under one."""
    qualified = pair.qualifier + yamlsource.keypath(path)
    return any(qualified == w or qualified.startswith((w + '.', w + '[')) for w in wanted)


def _resolve(found, wanted):
    """The qualified labels ``wanted`` names: unqualified, a path is the shared
    file's field, or else the product files' that have it (``press-sheet/lede``)."""
    resolved, unknown = [], []
    for w in wanted:
        candidates = [w] if '/' in re.split(r'[.\[]', w)[0] else (
            [w] + [p.qualifier + w for p in found if p.qualifier])
        for candidate in candidates:
            hits = [p for p in found if p.source is not None
                    and any(_matches(p, path, [candidate]) for path in p.specs)]
            if hits:
                resolved.append(candidate)
                if candidate == w:
                    break
        else:
            if not any(r.endswith(w) for r in resolved):
                unknown.append(w)
    return resolved, unknown


def accept(root, name, fields=(), say=print):
    """Mark ``fields`` (labels or their prefixes; all when empty) of the
    translation ``name`` as translated from the original's current text; return
    how many fields were marked."""
    root = Path(root)
    country, lang = _edition(root, name)
    original = _original_of(root, country, lang)
    found = pairs(root, country, lang, original, _load_layouts(root, country, {lang}))
    targets, unknown = _resolve(found, fields)
    if unknown:
        known = [p.qualifier + p.label(path) for p in found for path in p.specs
                 if p.source is not None]
        raise UsageError(f"no text field {unknown[0]!r} in {name} (known: "
                         f"{', '.join(known[:12])}{', …' if len(known) > 12 else ''})")
    accepted = 0
    for pair in found:
        if pair.source is None:
            continue
        lock = read_lock(pair.lock)
        recorded = dict(lock[1]) if lock and lock[0] == pair.original.name else {}
        count = 0
        for path in pair.specs:
            now = _value(pair.original_source.data, path)
            if _value(pair.source.data, path) is None or now is None:
                continue
            if fields and not _matches(pair, path, targets):
                continue
            recorded[pair.label(path)] = fingerprint(now)
            count += 1
        if count:
            write_lock(pair.lock, pair.original.name, recorded)
            say(f'{pair.shown}: {count} field(s) marked as translated from '
                f'{pair.shown_original}')
        accepted += count
    return accepted


# export ------------------------------------------------------------------------------

@dataclass
class Unit:
    """One translatable field as it goes to a translator."""

    file: str           # the original, project-relative: the exchange file's <file>
    label: str          # its key path in the file (facts[4].text)
    qualifier: str      # '' for the shared file, '<layout>/' for a product's own
    source: str
    target: str
    state: str          # XLIFF 1.2 state
    notes: list
    max_length: int


def units(root, country, original, lang):
    """The :class:`Unit` of every text field of ``country/original`` for ``lang``."""
    found = pairs(root, country, lang, original, _load_layouts(root, country,
                                                                {lang, original}))
    result = []
    for pair in found:
        lock = read_lock(pair.lock) if pair.source is not None else None
        recorded = lock[1] if lock and lock[0] == pair.original.name else {}
        for path, specs in pair.specs.items():
            text = _value(pair.original_source.data, path)
            if text is None:
                continue
            label = pair.label(path)
            target = _value(pair.source.data, path) if pair.source is not None else None
            notes = []
            for layout_name, spec in specs:
                note = f'{layout_name}: {spec.doc}'
                if spec.where:
                    note += f' Where: {spec.where}'
                notes.append(note + f' At most {spec.max_length:,} characters.')
            limit = min(spec.max_length for _, spec in specs)
            if not target:
                state, target = 'new', ''
            elif recorded.get(label) == fingerprint(text):
                state = 'translated'
            else:
                state = 'needs-review-translation'
                notes.append('bindery: the original changed since this was translated '
                             '(or it was never marked as translated from it): check it '
                             'against the source.')
            result.append(Unit(pair.shown_original, label, pair.qualifier, text, target,
                               state, notes, limit))
    return result


def export(root, name, lang, output=None, out='build', say=print):
    """Write the exchange file (XLIFF 1.2, or PO for a ``.po`` output) of the
    edition ``name`` (the original, ``country/lang``) to translate into ``lang``."""
    root = Path(root)
    country, original = _edition(root, name)
    if not re.fullmatch(_LANG, lang or ''):
        raise UsageError(f'--to {lang!r} is not a language code (e.g. ru)')
    if lang == original:
        raise UsageError(f'--to {lang}: that is the original itself')
    found = units(root, country, original, lang)
    output = Path(output) if output else Path(out, 'translate',
                                              f'{country}-{original}-{lang}.xlf')
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix == '.po':
        data = _po(found, original, lang)
    else:
        data = _xliff(found, original, lang)
    write_atomic(output, data)
    stale = sum(unit.state == 'needs-review-translation' for unit in found)
    new = sum(unit.state == 'new' for unit in found)
    say(f'wrote {output}: {len(found)} unit(s), {stale} to review, {new} to translate')
    return output


def _xliff(found, original, lang):
    from translate.storage import xliff

    store = xliff.xlifffile.parsestring(_XLIFF_SKELETON.encode())
    store.setsourcelanguage(original)
    store.settargetlanguage(lang)
    for unit in found:
        made = store.addsourceunit(unit.source, filename=unit.file, createifmissing=True)
        made.setid(unit.label)
        made.xmlelement.set('resname', unit.label)
        made.xmlelement.set('maxwidth', str(unit.max_length))
        made.xmlelement.set('size-unit', 'char')
        if unit.target:
            made.target = unit.target
            made.xmlelement.find(f'{{{XLIFF_NS}}}target').set('state', unit.state)
        # Approved: final, as a CAT tool shows it (and locks it, in some); a stale
        # or missing translation is not.
        made.xmlelement.set('approved', 'yes' if unit.state == 'translated' else 'no')
        for note in unit.notes:
            made.addnote(note, origin='developer')
    for filenode in store.document.getroot().iterchildren(f'{{{XLIFF_NS}}}file'):
        filenode.set('target-language', lang)
    store.removedefaultfile()
    from lxml import etree

    etree.cleanup_namespaces(store.document.getroot())  # the toolkit's 1.1 declarations
    return bytes(store)


def _po(found, original, lang):
    from translate.storage import po

    store = po.pofile()
    store.updateheader(add=True, Language=lang, X_Source_Language=original,
                       Content_Type='text/plain; charset=UTF-8')
    for unit in found:
        made = store.addsourceunit(unit.source)
        made.setcontext(unit.qualifier + unit.label)  # unique across the files
        made.addlocation(unit.file)
        for note in unit.notes:
            made.addnote(note, origin='developer')
        made.target = unit.target
        made.markfuzzy(unit.state == 'needs-review-translation')
    return bytes(store)


# import ------------------------------------------------------------------------------

def import_file(root, file, say=print):
    """Merge the targets of an exchange file back into the translations; return
    the refused units as messages (their source changed since the export)."""
    root = Path(root)
    file = Path(file)
    if not file.is_file():
        raise UsageError(f'{file}: no such file')
    incoming = _read_exchange(file)
    refused = []
    for (original_shown, lang), items in incoming.items():
        refused += _merge(root, file, original_shown, lang, items, say)
    return refused


def _read_exchange(file):
    """``{(original file, target language): [(label, source, target, confirmed)]}``."""
    from translate.storage import factory

    try:
        store = factory.getobject(str(file))
    except Exception as exc:  # the toolkit raises many kinds for a file it cannot read
        raise BookletError(f'{file}: cannot be read as XLIFF or PO ({exc})') from None
    found = {}
    if file.suffix == '.po':
        lang = store.gettargetlanguage()
        for unit in store.units:
            if unit.isheader():
                continue
            locations = unit.getlocations()
            if not locations or not lang:
                raise BookletError(f'{file}: a unit without its file (#: data/…) or a '
                                   'file without Language: it was not made by '
                                   'render.py translate export')
            label = re.sub(rf'^{_NAME}/', '', unit.getcontext())
            found.setdefault((locations[0], lang), []).append(
                (label, unit.source, unit.target, not unit.isfuzzy()))
        return found
    for unit in store.units:
        node = unit.xmlelement
        filenode = next(node.iterancestors(f'{{{XLIFF_NS}}}file'), None)
        if filenode is None:
            filenode = next(node.iterancestors(f'{{{store.namespace}}}file'))
        target_node = node.find(f'{{{store.namespace}}}target')
        state = target_node.get('state') if target_node is not None else 'new'
        # Confirmed: by its state; a tool that writes none says so with approved.
        confirmed = state not in _UNCONFIRMED if state else node.get('approved') == 'yes'
        found.setdefault((filenode.get('original'), filenode.get('target-language')),
                         []).append((node.get('id'), unit.source, unit.target or '',
                                     confirmed))
    return found


def _merge(root, file, original_shown, lang, items, say):
    match = _ORIGINAL.fullmatch(original_shown or '')
    if not match or not re.fullmatch(_LANG, lang or ''):
        raise BookletError(f'{file}: names {original_shown!r} in {lang!r}: not a '
                           'content file of this project (data/<country>/<lang>.yaml)')
    country, product, original = match.groups()
    translation = Path(root, 'data', country, *([product] if product else []),
                       f'{lang}.yaml')
    if not translation.is_file():
        raise BookletError(f'{file}: {_shown(translation, root)} does not exist: start it '
                           f'(render.py new {country} {lang}) and import again')
    found = [p for p in pairs(root, country, lang, original,
                              _load_layouts(root, country, {lang, original}))
             if p.shown_original == original_shown]
    if not found:
        raise BookletError(f'{file}: no layout reads {original_shown}')
    pair = found[0]
    by_label = {pair.label(path): path for path in pair.specs}
    refused, edits, accepted = [], {}, {}
    for label, source, target, confirmed in items:
        path = by_label.get(label)
        if path is None:
            refused.append(f'{file}: {original_shown}: {label}: no such text field')
            continue
        now = _value(pair.original_source.data, path)
        if now != source:
            mark = pair.original_source.mark(path)
            refused.append(f'{file}: {label}: the original changed since the export '
                           f'({original_shown}:{mark.line}:{mark.col}); export again')
            continue
        if not target:
            continue
        current = _value(pair.source.data, path)
        if current is None:
            refused.append(f'{file}: {label}: {pair.shown} has no such field: add it '
                           'there first, then import again')
            continue
        if target != current:
            edits[path] = target
        if confirmed:
            accepted[label] = fingerprint(now)
    if edits:
        raw = pair.translation.read_bytes()
        new = replace_values(raw, pair.source, edits)
        write_atomic(pair.translation, new)
    lock = read_lock(pair.lock)
    recorded = dict(lock[1]) if lock and lock[0] == pair.original.name else {}
    recorded.update(accepted)
    if accepted and recorded != (lock[1] if lock else None):
        write_lock(pair.lock, pair.original.name, recorded)
    say(f'{pair.shown}: {len(edits)} field(s) changed, {len(accepted)} marked as '
        f'translated, {len(refused)} refused')
    return refused


# Editing YAML in place ---------------------------------------------------------------

_PLAIN_SAFE = re.compile(r'[^\s\-?:,\[\]{}#&*!|>\'"%@`](?:[^\n\t]*[^\s:])?')


def replace_values(raw, source, edits):
    """The bytes ``raw`` of ``source``'s file with the scalars at the key paths of
    ``edits`` replaced by new values, each written in its old style where it can
    be (plain, quoted or a folded block), everything else byte for byte."""
    bom = raw.startswith(b'\xef\xbb\xbf')
    crlf = b'\r\n' in raw
    text = source.text
    for path in sorted(edits, key=lambda p: source.values[p].start, reverse=True):
        mark = source.values[path]
        old = text[mark.start:mark.end]
        # A block scalar's span runs to the start of the next line: keep that.
        tail = old[len(old.rstrip()):]
        old = old[:len(old) - len(tail)]
        for written in (_styled(old, edits[path]), _double(edits[path])):
            if written is None:
                continue
            attempt = text[:mark.start] + written + tail + text[mark.end:]
            if _reads_back(attempt, source, path, edits[path]):
                text = attempt
                break
        else:
            raise BookletError(f'{source.path}: {yamlsource.keypath(path)}: could not '
                               'write the new text (a bug in bindery)')
    check = yamlsource.loads(text.encode('utf-8'), source.path)
    for path, value in edits.items():
        if _value(check.data, path) != value:
            raise BookletError(f'{source.path}: {yamlsource.keypath(path)}: the edit did '
                               'not read back (a bug in bindery)')
    if crlf:
        text = text.replace('\n', '\r\n')
    return (b'\xef\xbb\xbf' if bom else b'') + text.encode('utf-8')


def _reads_back(text, source, path, value):
    try:
        check = yamlsource.loads(text.encode('utf-8'), source.path)
    except SourceErrors:
        return False
    return _value(check.data, path) == value


def _double(value):
    return json.dumps(value, ensure_ascii=False)


def _styled(old, value):
    """``value`` written as ``old`` was (its first character says the style), or None."""
    if '\n' in value or '\t' in value:
        return None
    if old[:1] in '>|':
        header, _, body = old.partition('\n')
        if old[:1] == '|' or not body or value != value.strip() or not value:
            return None
        indent = body[:len(body) - len(body.lstrip(' '))]
        width = max(60, max(len(line) for line in old.split('\n')))
        lines, line = [], ''
        for word in re.split(r'(?<! ) (?! )', value):  # only single spaces fold
            if line and len(indent) + len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f'{line} {word}' if line else word
        lines.append(line)
        return header + '\n' + '\n'.join(indent + line for line in lines)
    if old[:1] == "'":
        return "'" + value.replace("'", "''") + "'"
    if old[:1] == '"':
        return _double(value)
    if _PLAIN_SAFE.fullmatch(value) and ': ' not in value and ' #' not in value \
            and _reads_as_text(value):
        return value
    return None


def _reads_as_text(value):
    """Whether other YAML readers take ``value`` unquoted as text, not as a
    boolean, number or null (``yes``, ``1.10``, ``~``): bindery's loader keeps
    it text, editors and other tools would not."""
    import yaml

    return yaml.resolver.Resolver().resolve(yaml.ScalarNode, value, (True, False)) == \
        'tag:yaml.org,2002:str'


# pseudo -------------------------------------------------------------------------------

#: Letters and their accented look-alikes, Latin and Cyrillic (the letters a
#: layout's fonts lack are left as they are).
ACCENTED = dict(zip(
    'aceinosuyzACEINOSUYZаеиоуыэкгАЕИОУЫЭКГ',
    'áçéîñöšûýžÁÇÉÎÑÖŠÛÝŽӓёӣӧӯӹӭќѓӒЁӢӦӮӸӬЌЃ'))
#: How much longer a pseudo-translation is than the text it comes from.
GROWTH = 1.4


def pseudo_text(text, accents=ACCENTED):
    """``text`` with its letters accented and lengthened to at least 140 % with its
    own words, whole (a word cut in two could end in a hyphen the typesetter
    would take for a dash)."""
    accented = ' '.join(''.join(accents.get(char, char) for char in text).split())
    want = math.ceil(len(text) * GROWTH)
    words = [word for word in accented.split() if any(c.isalnum() for c in word)] or [
        accented]
    filler, i = '', 0
    while len(accented) + len(filler) < want:
        filler += ' ' + words[i % len(words)].strip('-–—,;:')
        i += 1
    return accented + filler


def _cut(text, limit):
    """``text`` cut at the last space that leaves at most ``limit`` characters."""
    cut = text[:limit + 1].rsplit(' ', 1)[0] if ' ' in text[:limit + 1] else text[:limit]
    return cut.rstrip(' -–—,;:')


def pseudo(root, target, out='build', jobs=0, say=print):
    """Build a throw-away pseudo-translation of ``target`` (``[booklet/]country/lang``)
    in a temporary copy of the project; outputs go to ``<out>/pseudo/``. Return
    the exit code and the results."""
    from . import cli, report
    from .manifest import load_booklets

    root = Path(root)
    match = re.fullmatch(rf'(?:({_NAME})/)?({_NAME})/({_LANG})', target or '')
    if not match:
        raise UsageError(f'{target!r} is not an edition ([booklet/]<country>/<lang>)')
    booklet_name, country, lang = match.groups()
    booklets, _ = load_booklets(root)
    chosen = [b for b in booklets if (country, lang) in b.editions
              and booklet_name in (None, b.name)]
    if not chosen:
        raise UsageError(f'no booklet makes {target}')
    layouts = _load_layouts(root, country, {lang})
    layouts = [layout for layout in layouts if layout.name in {b.layout for b in chosen}]
    accents = _covered(root, layouts)
    out_dir = Path(out, 'pseudo')
    with tempfile.TemporaryDirectory(prefix='bindery-pseudo-') as temp:
        project = Path(temp)
        for name in ('layouts', 'fonts', 'profiles', 'hyphenation'):
            if Path(root, name).is_dir():
                shutil.copytree(Path(root, name), project / name)
        shutil.copytree(Path(root, 'data', country), project / 'data' / country)
        (project / 'booklets').mkdir()
        for booklet in chosen:
            _pseudo_booklet(booklet, country, lang, project)
        lengthened = 0
        for pair in pairs(root, country, lang, lang, layouts):
            relative = Path(pair.shown)
            edits = {}
            for path, specs in pair.specs.items():
                if not _value(pair.source.data, path):
                    continue
                text = pseudo_text(_value(pair.source.data, path), accents)
                limit = min(spec.max_length for _, spec in specs)
                if len(text) > limit:  # no translation may be longer: test the limit
                    say(f'note: {pair.source.error(path, "")}'.rstrip(': ')
                        + f': 40 % longer is {len(text)} characters, over the {limit} '
                          'the layout allows: cut to fit')
                    text = _cut(text, limit)
                edits[path] = text
            copy = project / relative
            copy.write_bytes(replace_values(pair.translation.read_bytes(), pair.source,
                                            edits))
            kept = out_dir / 'content' / relative.relative_to('data')
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(copy, kept)
            lengthened += len(edits)
        say(f'pseudo-translated {lengthened} text(s) of {country}/{lang} by '
            f'{round((GROWTH - 1) * 100)} % (copies in {out_dir / "content"}); building')
        started = time.perf_counter()
        problems, results = cli.run_build(project, out_dir, [f'{country}/{lang}'], jobs,
                                          force=True)
        seconds = time.perf_counter() - started
    from .gallery import write_gallery

    write_gallery(out_dir, results)
    report.print_problems(problems)
    code = report.summary(results, seconds)
    return (report.EXIT_FAILED if problems else code), results


def _covered(root, layouts):
    """The accented letters every face of every layout has."""
    from .fonts import missing_glyphs

    missing = set()
    for layout in layouts:
        missing |= set(missing_glyphs(layout.spec['fonts'], root, ''.join(ACCENTED.values())))
    return {plain: accented for plain, accented in ACCENTED.items() if accented not in missing}


def _pseudo_booklet(booklet, country, lang, project):
    """The booklet file for the pseudo build: one edition, the print PDF and its report."""
    import yaml

    data = yaml.safe_load(Path(booklet.path).read_text(encoding='utf-8'))
    data['editions'] = [f'{country}/{lang}']
    data['outputs'] = ['print', 'preflight']
    (project / 'booklets' / f'{booklet.name}.yaml').write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding='utf-8')


# The command ------------------------------------------------------------------------

def parser():
    p = argparse.ArgumentParser(
        prog='render.py translate',
        description="Translators' workflow: which translated fields are out of date, "
                    'exchange files for CAT tools, pseudo-translation.')
    sub = p.add_subparsers(dest='action', required=True)
    a = sub.add_parser('accept', help='mark fields as translated from the current original')
    a.add_argument('edition', help='the translation, <country>/<lang> (kazakhstan/ru)')
    a.add_argument('fields', nargs='*', help='field paths (facts[4], press-sheet/lede); '
                                             'every field when none is given')
    e = sub.add_parser('export', help='write an XLIFF 1.2 (or PO) file for translators')
    e.add_argument('edition', help='the original, <country>/<lang> (kazakhstan/kk)')
    e.add_argument('--to', required=True, metavar='LANG', help='the language to translate to')
    e.add_argument('-o', '--output', metavar='FILE', help='where to write it (default '
                   '<out>/translate/<country>-<lang>-<to>.xlf; a .po name writes PO)')
    e.add_argument('--out', default='build', metavar='DIR', help='output folder (build/)')
    i = sub.add_parser('import', help="merge an exchange file's translations back")
    i.add_argument('file', help='the XLIFF or PO file')
    s = sub.add_parser('pseudo', help='build a pseudo-translation, 40 %% longer, to test '
                                      'a layout')
    s.add_argument('edition', help='[booklet/]<country>/<lang>')
    s.add_argument('--out', default='build', metavar='DIR', help='output folder (build/): '
                   'the pseudo edition goes to DIR/pseudo/')
    s.add_argument('-j', '--jobs', type=int, default=0, metavar='N')
    return p


def main(argv, root):
    """``render.py translate …``; return the exit code."""
    from . import report

    args = parser().parse_args(argv)
    say = lambda line: report.console.print(line, markup=False)  # noqa: E731
    try:
        if args.action == 'accept':
            accept(root, args.edition, args.fields, say)
        elif args.action == 'export':
            export(root, args.edition, args.to, args.output, args.out, say)
        elif args.action == 'import':
            refused = import_file(root, args.file, say)
            if refused:
                report.print_problems(refused)
                report.console.print(f'{len(refused)} unit(s) refused', markup=False)
                return report.EXIT_FAILED
        else:
            return pseudo(root, args.edition, args.out, args.jobs, say)[0]
        return report.EXIT_OK
    except UsageError as exc:
        return report.fail(str(exc), report.EXIT_USAGE)
    except SourceErrors as exc:
        report.print_problems(str(e) for e in exc.errors)
        return report.EXIT_FAILED
    except BookletError as exc:
        return report.fail(str(exc))
