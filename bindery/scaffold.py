"""Write starter content for a new edition."""

import os
import re
import tempfile
import textwrap
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError

from . import yamlsource
from .errors import SourceErrors, UsageError
from .editorschema import merged
from .layouts import load_layout
from .schema import MISSING, ListOf, MapOf, Record

_COUNTRY = re.compile(r'[a-z0-9][a-z0-9-]{0,59}')
_LANG = re.compile(r'[a-z]{2,3}')
_SafeLoader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


class ScaffoldError(UsageError):
    """``render.py new`` was asked for what cannot be made: a bad name, or an edition
    that exists (a usage error: exit 2)."""


def new_edition(root, country, lang, *, say=print):
    """Write the starter files of the edition ``country``/``lang``; return their paths.

    Every file is made from what the layouts of the booklets declare (a layout
    with errors is left out, and ``say`` is told):

    * ``data/<country>/<lang>.yaml``: every field some layout reads from the
      shared language file, each under a comment with its documentation and
      where it prints. Required text is left empty (``title: ""``), which
      ``render.py check`` reports as "is empty; write the text or remove the
      field", so the file fails until written and passes once it is. Lists get
      as many empty items as the layouts need, mappings keyed by a country list
      an entry per id, and fields needed only with a country value the country
      file lacks, and optional ones, are commented out.
    * ``data/<country>/<layout>/<lang>.yaml`` for each layout with text of its own.
    * ``data/<country>/country.yaml`` when the country is new: the values the
      layouts read, required ones empty, ``languages: [<lang>]``. When it exists,
      ``<lang>`` is added to its ``languages:`` by a minimal edit of the text
      (comments kept), checked by reading the result back; when that cannot be
      done safely the file is left alone and ``say`` is told what to add.
    * ``layouts/<layout>/strings/<lang>.yaml`` for each layout the booklets use
      that has no words in ``<lang>``: its keys with empty values. Until they are
      written, that layout's editions in ``<lang>`` fail; no other edition does.

    Each new content file starts with a ``# yaml-language-server: $schema=``
    line naming the JSON Schema of its kind under ``schemas/``, so editors with
    the YAML language server complete and check field names as one types.
    ``say`` gets one line per thing done or left to do (default: print).
    For an edition that exists, only the files still missing are written (a
    product or a layout added since): each product's own text and the layouts'
    words in ``lang``.

    Raises :class:`ScaffoldError` for a country name that is not a-z, 0-9 and -,
    a language code Babel does not know, or an edition that has every file already.
    """
    root = Path(root)
    if not isinstance(country, str) or not _COUNTRY.fullmatch(country):
        raise ScaffoldError(f'{country!r} is not a country name: use a-z, 0-9 and - '
                            '(e.g. kyrgyzstan)')
    if not isinstance(lang, str) or not _LANG.fullmatch(lang):
        raise ScaffoldError(f'{lang!r} is not a language code: use two or three letters '
                            'a-z (e.g. ky, ru, en)')
    try:
        Locale.parse(lang)
    except (ValueError, UnknownLocaleError):
        raise ScaffoldError(f"'{lang}' is not a language code CLDR knows (e.g. kk, ky, "
                            'ru, en)') from None
    edition_path = root / 'data' / country / f'{lang}.yaml'
    exists = edition_path.exists()

    names, explicit = _booklet_layouts(root, country)
    layouts, later = [], []
    for name in names:
        try:
            layouts.append(load_layout(root, name))
        except SourceErrors:
            later.append(f'layouts/{name} has errors (render.py check lists them): its '
                         'fields are not in the new files')

    written = []
    country_path = root / 'data' / country / 'country.yaml'
    country_data = None
    if exists:  # a product or a language's words added since: only what is missing
        try:
            country_data = yamlsource.load(country_path, root).data
        except SourceErrors:
            country_data = None
        written = _products(root, country, lang, layouts, country_data, say)
        written += _words(root, lang, layouts, say)
        if not written:
            raise ScaffoldError(f'{_shown(edition_path, root)} exists already, and so do '
                                f"every product's text and the layouts' words in {lang}: "
                                'edit them, or remove the file to start again')
        say(f'then run: python render.py check {country}/{lang}')
        return written
    if country_path.exists():
        country_data, message = _add_language(country_path, root, lang)
        if message:
            later.append(message)
        elif message is None:
            written.append(country_path)
            say(f"added '{lang}' to languages: in {_shown(country_path, root)}")
    else:
        _create(country_path, _country_text(country, lang, layouts))
        written.append(country_path)
        say(f'wrote {_shown(country_path, root)}: fill in its empty values')

    text, blanks = _content_text(
        merged(layouts, 'edition'), country_data, schema='edition',
        about=f'{_language(lang)} edition for {country.title()}: the text every product '
              f'prints (data/{country}/country.yaml holds its numbers).', lang=lang)
    _create(edition_path, text)
    written.append(edition_path)
    say(f'wrote {_shown(edition_path, root)}: write the text of its {blanks} empty fields')

    written += _products(root, country, lang, layouts, country_data, say)
    written += _words(root, lang, layouts, say)
    for booklet in explicit:
        later.append(f"booklets/{booklet}.yaml lists its editions: add {country}/{lang} "
                     'to editions: to build it')
    for message in later:
        say(message)
    say(f'then run: python render.py check {country}/{lang}')
    return written


def _products(root, country, lang, layouts, country_data, say):
    """Write each product's own text file of the edition that is missing."""
    written = []
    for layout in layouts:
        if not layout.spec['product']:
            continue
        path = root / 'data' / country / layout.name / f'{lang}.yaml'
        if path.exists():
            continue
        text, blanks = _content_text(
            layout.spec['product'], country_data, schema=layout.name,
            about=f'{_language(lang)} text of the {layout.name} product for '
                  f'{country.title()}: what only it prints.', depth=2)
        _create(path, text)
        written.append(path)
        say(f'wrote {_shown(path, root)}: write the text of its {blanks} empty fields')
    return written


def _words(root, lang, layouts, say):
    """Write the words in ``lang`` of each layout that has none."""
    written = []
    for layout in layouts:
        strings_path = layout.folder / 'strings' / f'{lang}.yaml'
        if strings_path.exists() or not layout.spec['strings']:
            continue
        _create(strings_path, _strings_text(root, layout.name, lang, layout.spec['strings']))
        written.append(strings_path)
        say(f"wrote {_shown(strings_path, root)}: the layout's {len(layout.spec['strings'])} "
            f'words in {_language(lang)}; until they are written, the {lang} editions of '
            f'{layout.name} do not build (the others do)')
    return written


# The content files

def _content_text(fields, country_data, *, schema, about, lang=None, depth=1):
    """A starter content file for ``fields`` (declarations), and how many empty
    fields it has. Required text is left empty (``""``): `check` says "is empty"
    until it is written. Fields needed only with a country value the country
    file lacks, and optional ones, are commented out."""
    country_data = country_data if isinstance(country_data, dict) else {}
    lines = [f'# yaml-language-server: $schema={"../" * depth}../schemas/{schema}.json']
    lines += _comment(
        f'{about} Written by `render.py new`: replace each "" with the text exactly as '
        'it should print (never markup), then run `python render.py check`. A long '
        'paragraph can be written over several lines after >- , as the other '
        'editions do.') + ['']
    blanks = 0
    if lang:
        lines += _comment('The language of this file, the same as its name.') + [
            f'lang: {lang}', '']
        lines += _comment('The language this edition is translated from, when it is a '
                          'translation; the PDFs say so. Optional: remove the # and give '
                          'the code, e.g. kk.') + ['# translation_of: ""', '']
    for name, field in fields.items():
        doc = field.doc + (f' {field.where}' if field.where else '')
        needed = field.required or bool(field.required_with and country_data.get(
            field.required_with)) or bool(field.keys_from and country_data.get(
                field.keys_from))
        if field.required_with and not needed:
            doc += f' Only when country.yaml has {field.required_with}.'
        elif not needed:
            doc += ' Optional: remove the # to use it.'
        count_note = getattr(field, 'count', None)
        if count_note:
            doc += f' Exactly {count_note}.'
        lines += _comment(doc)
        body, count = _skeleton(name, field, country_data)
        if needed:
            blanks += count
        else:
            body = [f'# {line}' for line in body]
        lines += body + ['']
    return '\n'.join(lines).rstrip('\n') + '\n', blanks


def _skeleton(name, field, country_data, indent=''):
    """The empty YAML of one field, and how many values it leaves to write."""
    if isinstance(field, MapOf):
        items = country_data.get(field.keys_from) if field.keys_from else None
        ids = [item['id'] for item in items if isinstance(item, dict)
               and isinstance(item.get('id'), str)] if isinstance(items, list) else []
        body = [f'{indent}{name}:'] + [f'{indent}  {key}: ""' for key in ids or ['<name>']]
        return body, len(ids) or 1
    if isinstance(field, ListOf):
        count = field.count or max(field.min_items, 1)
        body = [f'{indent}{name}:']
        if isinstance(field.item, Record):
            subs = [key for key, sub in field.item.fields.items() if sub.required] or list(
                field.item.fields)[:1]
            for _ in range(count):
                body += [f'{indent}  - {subs[0]}: ""'] + [f'{indent}    {key}: ""'
                                                          for key in subs[1:]]
            return body, count * len(subs)
        return body + [f'{indent}  - ""'] * count, count
    if isinstance(field, Record):
        body, total = [f'{indent}{name}:'], 0
        for sub, spec in field.fields.items():
            if spec.required:
                lines, count = _skeleton(sub, spec, country_data, indent + '  ')
                body += lines
                total += count
        return body, total
    return [f'{indent}{name}: ""'], 1


# The country file

def _country_text(country, lang, layouts):
    """A new country file: every value the layouts read, the required ones empty,
    the optional ones in comments; the language listed."""
    lines = ['# yaml-language-server: $schema=../../schemas/country.json']
    lines += _comment(
        f'What is the same in every language of the products for {country.title()}: '
        'every language edition takes its numbers from here, so a translation cannot '
        'drift from them. Written by `render.py new`: fill in the empty values.') + ['']
    lines += _comment('The languages this country is published in. Each has its '
                      f'data/{country}/<lang>.yaml; `render.py new` adds to this list.')
    lines += [f'languages: [{lang}]', '']
    for name, field in merged(layouts, 'country').items():
        doc = field.doc + ('' if field.required else ' Optional: remove the # to give it.')
        lines += _comment(doc)
        body, _ = _skeleton(name, field, {})
        if not field.required:
            body = [f'# {line}' for line in body]
        lines += body + ['']
    return '\n'.join(lines).rstrip('\n') + '\n'


def _add_language(path, root, lang):
    """Add ``lang`` to the ``languages:`` of an existing country file.

    Returns the country's data (None if the file has errors) and None when the
    file was changed, '' when nothing needed changing, or the message saying
    what to do by hand."""
    shown = _shown(path, root)
    by_hand = f"{shown}: add '{lang}' to languages: (the file could not be changed safely)"
    try:
        source = yamlsource.load(path, root)
    except SourceErrors:
        return None, by_hand
    data = source.data if isinstance(source.data, dict) else {}
    languages = data.get('languages')
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        return data, by_hand
    if lang in languages:
        return data, ''
    text = source.text
    node = source.values[('languages',)]
    if languages and text[node.start] != '[':  # a block list: a new item after the last
        last = source.values[('languages', len(languages) - 1)]
        line_start = text.rfind('\n', 0, node.start) + 1
        indent = text[line_start:node.start]
        if indent.strip():
            return data, by_hand
        end = text.find('\n', last.end)
        end = len(text) if end < 0 else end
        new = text[:end] + f'\n{indent}- {lang}' + text[end:]
    elif text[node.start] == '[' and text[node.end - 1] == ']':
        inside = text[node.start + 1:node.end - 1]
        addition = f', {lang}' if inside.strip() else lang
        at = node.start + 1 + len(inside.rstrip())
        new = text[:at] + addition + text[at:]
    else:
        return data, by_hand
    try:
        check = yamlsource.loads(new.encode('utf-8'), shown).data
    except SourceErrors:
        return data, by_hand
    if check != dict(data, languages=languages + [lang]):
        return data, by_hand
    _replace(path, new)
    return data, None


# The layout's strings

def _strings_text(root, layout, lang, strings):
    english = {}
    english_path = root / 'layouts' / layout / 'strings' / 'en.yaml'
    if lang != 'en' and english_path.is_file():
        try:
            english = yaml.load(english_path.read_bytes(), Loader=_SafeLoader) or {}
        except yaml.YAMLError:
            english = {}
    lines = _comment(
        f'{_language(lang)} words of the {layout} layout (layouts/{layout}/layout.yaml '
        'lists them). Written by `render.py new`: replace each "" with the word as it '
        f'should print. Until all are written, the {lang} editions of the layout fail '
        '(no other edition does).') + ['']
    for key, doc in strings.items():
        lines += _comment(str(doc))
        if isinstance(english, dict) and isinstance(english.get(key), str):
            lines += _comment(f'In English: {english[key]}')
        lines += [f'{key}: ""']
    return '\n'.join(lines) + '\n'


# Reading the project

def _booklet_layouts(root, country):
    """The layouts of the booklets that make (or may be told to make) ``country``'s
    editions, and the booklets that list their editions without it.

    A booklet that lists no editions makes every country's but those another
    booklet keeps to itself (``<country>/*``); one that lists ``<country>/*`` makes
    that country's; one that lists only ``<other>/*`` never makes this one."""
    layouts, explicit = [], []
    owned = set()
    found = []
    for path in sorted(Path(root, 'booklets').glob('*.yaml')):
        try:
            data = yaml.load(path.read_bytes(), Loader=_SafeLoader)
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(data, dict) or not isinstance(data.get('layout'), str):
            continue
        editions = data.get('editions')
        editions = [item for item in editions if isinstance(item, str)] if isinstance(
            editions, list) else None
        owned |= {item[:-2] for item in editions or [] if item.endswith('/*')}
        found.append((path.stem, data['layout'], editions))
    for stem, layout, editions in found:
        if editions is None:
            makes = country not in owned
        elif f'{country}/*' in editions:
            makes = True
        else:  # a list of editions it may be told to add this one to, unless all sets
            makes = not all(item.endswith('/*') for item in editions)
            if makes:
                explicit.append(stem)
        if makes and layout not in layouts:
            layouts.append(layout)
    if not found:
        layouts = sorted(path.parent.name
                         for path in Path(root, 'layouts').glob('*/layout.yaml'))
    return layouts, explicit


# Writing

def _create(path, text):
    """Write a new file; never overwrite one (another run may have made it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, 'x', encoding='utf-8', newline='\n') as stream:
            stream.write(text)
    except FileExistsError:
        raise ScaffoldError(f'{path} appeared while it was being written; run again') from None


def _replace(path, text):
    """Rewrite a file through a temporary one, keeping its mode."""
    mode = path.stat().st_mode & 0o777
    handle, temp = tempfile.mkstemp(prefix=f'.{path.name}.', dir=path.parent)
    try:
        with os.fdopen(handle, 'w', encoding='utf-8', newline='\n') as stream:
            stream.write(text)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _comment(text, width=88):
    return ['# ' + line for line in textwrap.wrap(text, width - 2, break_on_hyphens=False)]


def _language(lang):
    return Locale('en').languages.get(lang, lang)


def _shown(path, root):
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)
