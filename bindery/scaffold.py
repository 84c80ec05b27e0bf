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
from .schema import COUNTRY, EDITION, ListOf, MapOf, Record

_COUNTRY = re.compile(r'[a-z0-9][a-z0-9-]{0,59}')
_LANG = re.compile(r'[a-z]{2,3}')
_SafeLoader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)

#: Where the nine-facts layout prints each field of a language file, for the
#: comments of a new one (other layouts get the schema's documentation only).
WHERE = {'nine-facts': {
    'title': 'On the cover (page 1) and over the introduction (page 2).',
    'foundation': 'On the cover, and as the running head of left-hand pages.',
    'intro': 'Page 2; the first paragraph is set larger, as a lead.',
    'grants_total_label': 'Page 3, under the grants total shown large.',
    'figures_title': 'Page 3, over the key figures.',
    'figures': 'Page 3, under each figure.',
    'facts_kicker': 'Page 3, the small line over the facts title.',
    'facts_title': 'Page 3 large, on the cover, and as the running head of right-hand '
                   'pages.',
    'facts': 'Pages 4 to 7, numbered, spread over the pages by the builder.',
}}


class ScaffoldError(UsageError):
    """``render.py new`` was asked for what cannot be made: a bad name, or an edition
    that exists (a usage error: exit 2)."""


def new_edition(root, country, lang, *, say=print):
    """Write the starter files of the edition ``country``/``lang``; return their paths.

    * ``data/<country>/<lang>.yaml``: every field of the language-file schema
      (:data:`~bindery.schema.EDITION`), each under a comment saying what it is
      and where it prints. Required text is left empty (``title: ""``), which
      ``render.py check`` reports as "is empty; write the text or remove the
      field", so the file fails until written and passes once it is. There are
      as many empty facts as the layouts need (9), a label per figure of the
      country file, and the optional fields the country file does not call for
      commented out.
    * ``data/<country>/country.yaml`` when the country is new: founding and
      anniversary year empty, ``languages: [<lang>]``, no figures (their form
      in comments). When it exists, ``<lang>`` is added to its ``languages:``
      by a minimal edit of the text (comments kept), checked by reading the
      result back; when that cannot be done safely the file is left alone and
      ``say`` is told what to add.
    * ``layouts/<layout>/strings/<lang>.yaml`` for each layout the booklets use
      that has no strings in ``<lang>``: its keys (``strings:`` of layout.yaml)
      with empty values. Until they are written that layout has errors.

    ``say`` gets one line per thing done or left to do (default: print).
    Raises :class:`ScaffoldError` for a country name that is not a-z, 0-9 and -,
    a language code Babel does not know, or an edition that exists already.
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
    if edition_path.exists():
        raise ScaffoldError(f'{_shown(edition_path, root)} exists already: edit it, or '
                            'remove it to start again')

    layouts, explicit = _booklet_layouts(root)
    specs = {name: _layout_spec(root, name) for name in layouts}
    facts = max((spec['facts'] for spec in specs.values() if spec['facts']), default=9)
    facts_from = [name for name, spec in specs.items() if spec['facts'] == facts]

    written, later = [], []
    country_path = root / 'data' / country / 'country.yaml'
    country_data = None
    if country_path.exists():
        country_data, message = _add_language(country_path, root, lang)
        if message:
            later.append(message)
        elif message is None:
            written.append(country_path)
            say(f"added '{lang}' to languages: in {_shown(country_path, root)}")
    else:
        _create(country_path, _country_text(country, lang))
        written.append(country_path)
        say(f'wrote {_shown(country_path, root)}: fill in the founding and anniversary '
            'years')

    text, blanks = _edition_text(country, lang, country_data, facts,
                                 facts_from[0] if facts_from else None)
    _create(edition_path, text)
    written.append(edition_path)
    say(f'wrote {_shown(edition_path, root)}: write the text of its {blanks} empty fields')

    for name, spec in specs.items():
        strings_path = root / 'layouts' / name / 'strings' / f'{lang}.yaml'
        if strings_path.exists() or not spec['strings']:
            continue
        _create(strings_path, _strings_text(root, name, lang, spec['strings']))
        written.append(strings_path)
        say(f"wrote {_shown(strings_path, root)}: the layout's {len(spec['strings'])} "
            f'words in {_language(lang)}; until they are written, no edition of '
            f'{name} builds')
    for booklet in explicit:
        later.append(f"booklets/{booklet}.yaml lists its editions: add {country}/{lang} "
                     'to editions: to build it')
    for message in later:
        say(message)
    say(f'then run: python render.py check {country}/{lang}')
    return written


# The edition file

def _edition_text(country, lang, country_data, facts, layout):
    """The starter language file and how many empty fields it has."""
    where = WHERE.get(layout, {})
    figures = (country_data or {}).get('figures')
    figures = [figure for figure in figures if isinstance(figure, dict)
               and isinstance(figure.get('id'), str)] if isinstance(figures, list) else []
    needed = {
        'grants_total_label': bool((country_data or {}).get('grants_total')),
        'figures_title': bool(figures), 'figures': bool(figures),
    }
    country_file = f'data/{country}/country.yaml'
    lines = _comment(
        f'{_language(lang)} edition of the booklet for {country.title()} '
        f'({country_file} holds its numbers). Written by `render.py new`: replace each '
        '"" with the text exactly as it should print (never markup), then run '
        f'`python render.py check {country}/{lang}`. A long paragraph can be written '
        'over several lines after >- , as the other editions do.') + ['']
    blanks = 0
    for name, field in EDITION.fields.items():
        doc = field.doc + (f' {where[name]}' if name in where else '')
        if name == 'lang':
            lines += _comment(doc) + [f'lang: {lang}', '']
            continue
        if name == 'translation_of':
            lines += _comment(f'{doc} Optional: remove the # and give the language code, '
                              'e.g. en.') + [f'# {name}: ""', '']
            continue
        optional = not field.required and not needed.get(name, False)
        if optional:
            why = ('Only when country.yaml has ' + ('grants_total' if name ==
                   'grants_total_label' else 'figures') + '.') if name in needed else (
                'Optional: remove the # to use it.')
            doc = f'{doc} {why}'
        lines += _comment(doc)
        if isinstance(field, MapOf) and name == 'figures':
            entries = [(figure['id'], f"{figure.get('amount')} {figure.get('currency')} "
                                      f"in {figure.get('year')}") for figure in figures] or [
                ('<figure id>', 'as country.yaml names it')]
            body = [f'{name}:']
            for key, note in entries:
                body += [f'  {key}: ""    # {note}']
            count = len(entries)
        elif isinstance(field, ListOf) and isinstance(field.item, Record):
            count = facts if name == 'facts' else field.min_items
            if name == 'facts':
                lines += _comment(f'The {layout} layout needs exactly {facts}.' if layout
                                 else f'Write {facts}.')
            subfields = [key for key, sub in field.item.fields.items() if sub.required]
            body = [f'{name}:']
            for _ in range(count):
                body += [f'  - {subfields[0]}: ""'] + [
                    f'    {key}: ""' for key in subfields[1:]]
            count *= len(subfields)
        elif isinstance(field, ListOf):
            count = max(field.min_items, 1)
            body = [f'{name}:'] + ['  - ""'] * count
        else:
            count, body = 1, [f'{name}: ""']
        if optional:
            body = [f'# {line}' for line in body]
        else:
            blanks += count
        lines += body + ['']
    return '\n'.join(lines).rstrip('\n') + '\n', blanks


# The country file

def _country_text(country, lang):
    """A new country file: the years empty, the language listed, figures described."""
    fields = COUNTRY.fields
    lines = _comment(
        f'What is the same in every language of the booklet for {country.title()}: '
        'every language edition takes its numbers from here, so a translation cannot '
        'drift from them. Written by `render.py new`: fill in the years.') + ['']
    lines += _comment(f"{fields['founded'].doc} In digits, e.g. 1995.") + ['founded: ""']
    lines += _comment(f"{fields['anniversary'].doc} In digits; the cover shows the years "
                      'between.') + ['anniversary: ""']
    lines += _comment(f"{fields['languages'].doc} Each has its data/{country}/<lang>.yaml; "
                      '`render.py new` adds to this list.') + [f'languages: [{lang}]', '']
    for name in ('grants_total', 'figures'):
        field = fields[name]
        record = field.item if isinstance(field, ListOf) else field
        lines += _comment(f'{field.doc} Optional: remove the # to give '
                          + ('it; every language file then needs a grants_total_label.'
                             if name == 'grants_total' else
                             'them; every language file then labels each by its id, '
                             'under a figures_title.'))
        lines.append(f'# {name}:')
        for i, (key, sub) in enumerate(record.fields.items()):
            lead = '  - ' if isinstance(field, ListOf) and i == 0 else '    ' if (
                isinstance(field, ListOf)) else '  '
            lines.append(f'# {lead}{key}:    # {sub.doc}')
        lines.append('')
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
        'should print. Until all are written, the layout has errors and none of its '
        'editions builds.') + ['']
    for key, doc in strings.items():
        lines += _comment(str(doc))
        if isinstance(english, dict) and isinstance(english.get(key), str):
            lines += _comment(f'In English: {english[key]}')
        lines += [f'{key}: ""']
    return '\n'.join(lines) + '\n'


# Reading the project

def _booklet_layouts(root):
    """The layouts the booklets use, and the booklets that list their editions."""
    layouts, explicit = [], []
    for path in sorted(Path(root, 'booklets').glob('*.yaml')):
        try:
            data = yaml.load(path.read_bytes(), Loader=_SafeLoader)
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(data, dict) or not isinstance(data.get('layout'), str):
            continue
        if data['layout'] not in layouts:
            layouts.append(data['layout'])
        if data.get('editions') is not None:
            explicit.append(path.stem)
    if not layouts:
        layouts = sorted(path.parent.name
                         for path in Path(root, 'layouts').glob('*/layout.yaml'))
    return layouts, explicit


def _layout_spec(root, name):
    """What a layout asks of an edition: its number of facts and its strings."""
    try:
        spec = yaml.load(Path(root, 'layouts', name, 'layout.yaml').read_bytes(),
                         Loader=_SafeLoader)
    except (OSError, yaml.YAMLError):
        spec = None
    spec = spec if isinstance(spec, dict) else {}
    facts = spec.get('facts')
    strings = spec.get('strings')
    return {'facts': facts if isinstance(facts, int) and facts > 0 else None,
            'strings': strings if isinstance(strings, dict) else {}}


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
