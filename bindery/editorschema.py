"""Export the layouts' declarations as JSON Schema, for editors with the YAML language server.

Editors and translators write content files in ordinary editors. With the YAML
language server (VS Code's YAML extension, and others), a file whose first line
is ``# yaml-language-server: $schema=<path>`` gets field names completed and
mistakes underlined as the person types. ``render.py schemas`` writes, under
``schemas/``:

* ``country.json``: ``data/<country>/country.yaml``, what every layout reads;
* ``edition.json``: ``data/<country>/<lang>.yaml``, the text every product shares;
* ``<layout>.json``: ``data/<country>/<layout>/<lang>.yaml``, one per layout that
  has text of its own.

The schemas are made from the declarations the build checks against, so they
cannot drift from them; the suite fails when the files in ``schemas/`` are not
what the layouts declare now. The build's own check stays the reference (it gives
``path:line:col`` messages and knows what JSON Schema cannot say, such as a
mapping keyed by the ids of a country list).
"""

import copy
import json
from pathlib import Path

from .errors import SourceErrors
from .layouts import ENGINE_COUNTRY, ENGINE_EDITION, load_layout
from .manifest import load_booklets, own_countries
from .schema import Boolean, Currency, Integer, Language, ListOf, MapOf, Number, Pattern, Record

DRAFT = 'https://json-schema.org/draft/2020-12/schema'


def field_schema(field):
    """The JSON Schema of one declared :class:`~bindery.schema.Field`."""
    doc = {'description': field.doc} if field.doc else {}
    if isinstance(field, Record):
        return {**doc, 'type': 'object', 'additionalProperties': False,
                'properties': {name: field_schema(sub) for name, sub in field.fields.items()},
                'required': [name for name, sub in field.fields.items() if sub.required]}
    if isinstance(field, ListOf):
        low = field.count if field.count is not None else field.min_items
        high = field.count if field.count is not None else field.max_items
        return {**doc, 'type': 'array', 'items': field_schema(field.item),
                'minItems': low, 'maxItems': high}
    if isinstance(field, MapOf):
        return {**doc, 'type': 'object', 'additionalProperties': field_schema(field.item)}
    if isinstance(field, Integer):
        return {**doc, 'type': 'integer', 'minimum': field.low, 'maximum': field.high}
    if isinstance(field, Number):
        return {**doc, 'type': 'number', 'minimum': 0}
    if isinstance(field, Boolean):
        return {**doc, 'type': 'boolean'}
    if isinstance(field, Language):
        return {**doc, 'type': 'string', 'pattern': '^[a-z]{2,3}([_-][A-Za-z0-9]+)*$'}
    if isinstance(field, Currency):
        return {**doc, 'type': 'string', 'pattern': '^[A-Z]{3}$'}
    text = {**doc, 'type': 'string', 'minLength': 1, 'maxLength': field.max_length}
    if isinstance(field, Pattern):
        text['pattern'] = f'^(?:{field.pattern.pattern})$'
    return text


def merged(layouts, kind):
    """The fields of ``kind`` all ``layouts`` declare, as one set: a name declared
    twice keeps its first declaration, pooling the fields of records (in lists or
    not) and counting it required if any layout requires it."""
    fields = {}
    for layout in layouts:
        for name, field in layout.spec[kind].items():
            if name not in fields:
                fields[name] = _copy(field)
            else:
                _pool(fields[name], field)
    return fields


def _copy(field):
    field = copy.copy(field)
    if isinstance(field, Record):
        field.fields = {name: _copy(sub) for name, sub in field.fields.items()}
    elif isinstance(field, (ListOf, MapOf)):
        field.item = _copy(field.item)
    return field


def _pool(known, other):
    known.required = known.required or other.required
    if isinstance(known, Record) and isinstance(other, Record):
        for name, sub in other.fields.items():
            if name in known.fields:
                _pool(known.fields[name], sub)
            else:
                known.fields[name] = _copy(sub)
    elif isinstance(known, (ListOf, MapOf)) and isinstance(other, type(known)):
        _pool(known.item, other.item)


def schemas(root):
    """``{file name: JSON Schema}`` for every kind of content file, from the layouts
    in ``layouts/`` that load (a layout with errors is left out: `check` names them)."""
    layouts = []
    for path in sorted(Path(root, 'layouts').glob('*/layout.yaml')):
        try:
            layouts.append(load_layout(root, path.parent.name))
        except SourceErrors:
            continue
    # A content set a booklet keeps to itself (editions: [<set>/*]) answers to
    # that booklet's layouts only: <set>-country.json, <set>-edition.json.
    sets = {}
    for booklet in load_booklets(root)[0]:
        for country in {country for country, _ in booklet.editions} & own_countries(root):
            sets.setdefault(country, set()).add(booklet.layout)
    found = {}
    for prefix, chosen in [('', layouts)] + [
            (f'{name}-', [layout for layout in layouts if layout.name in owners])
            for name, owners in sorted(sets.items())]:
        where = f'data/{prefix[:-1]}' if prefix else 'data/<country>'
        for kind, engine, title in (
                ('country', ENGINE_COUNTRY, f'{where}/country.yaml: what is the same in '
                                            'every language'),
                ('edition', ENGINE_EDITION, f'{where}/<lang>.yaml: the text every product '
                                            'of an edition shares')):
            record = Record(title, {**engine, **merged(chosen, kind)})
            found[f'{prefix}{kind}.json'] = _document(record, title, f'{prefix}{kind}')
    for layout in layouts:
        if not layout.spec['product']:
            continue  # the layout reads shared files only
        title = f"data/<country>/{layout.name}/<lang>.yaml: {layout.spec['title']}"
        found[f'{layout.name}.json'] = _document(Record(title, layout.spec['product']), title,
                                                 layout.name)
    return found


def _document(record, title, name):
    schema = field_schema(record)
    schema.pop('description', None)
    return {'$schema': DRAFT, '$id': f'{name}.json', 'title': title, **schema}


def render(schema):
    """The text of a schema file: stable, so that the same layouts give the same bytes."""
    return json.dumps(schema, ensure_ascii=False, indent=2) + '\n'


def write(root, check=False):
    """Write ``schemas/*.json`` (or, with ``check``, only compare); return the names
    of the files that were, or would be, changed or removed."""
    folder = Path(root, 'schemas')
    wanted = {name: render(schema) for name, schema in schemas(root).items()}
    changed = []
    for name, text in wanted.items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding='utf-8') != text:
            changed.append(name)
            if not check:
                folder.mkdir(exist_ok=True)
                path.write_text(text, encoding='utf-8')
    for path in sorted(folder.glob('*.json')) if folder.is_dir() else ():
        if path.name not in wanted:
            changed.append(path.name)
            if not check:
                path.unlink()
    return changed
