"""Find a layout folder, check what it declares, and render an edition to HTML with Jinja."""

import re
import traceback
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError
from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, pass_context
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import access, fonts, typography, yamlsource
from .errors import RenderError, SourceError, SourceErrors
from .schema import (Integer, Language, ListOf, MapOf, Number, Pattern, Record, Text,
                     declarations, declared_paths, tolerate, validate)

_SafeLoader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)

def layout_schema(name):
    """What a ``layouts/<name>/layout.yaml`` may hold (``name`` is the layout's,
    for messages such as "the nine-facts layout needs 9 facts")."""
    return Record('A layout: layouts/<name>/layout.yaml.', {
        'title': Text('What the layout is, for people.'),
        'template': Pattern('The Jinja template, in the layout folder.',
                            r'[a-z0-9_-]+\.html', 'a file name like booklet.html'),
        'stylesheets': ListOf('CSS files, in the layout folder, in cascade order.',
                              Pattern('A CSS file.', r'[a-z0-9_-]+\.css', 'a .css file name')),
        'pages': Integer('How many pages the product has.', 1, 256),
        'page_multiple': Integer('The page count must be a multiple of this: 4 for a '
                                 'saddle-stitched booklet.', 1, 64, required=False,
                                 default=1),
        'watch': Text('A CSS selector: the elements the overflow check names (by their '
                      'data-label, else their id) when they do not fit.', max_length=200,
                      required=False, default=None),
        'slug_font': Pattern('The font file, under fonts/, the slug line of the print PDF '
                             'is drawn in (default: the first face of fonts).',
                             r'[A-Za-z0-9_/.-]+\.(ttf|otf)', 'a .ttf or .otf path under fonts/',
                             required=False, default=None),
        'country': declarations('What the layout reads from data/<country>/country.yaml.',
                                name, required=False, default={}),
        'edition': declarations('What the layout reads from data/<country>/<lang>.yaml, the '
                                "text every product of the edition shares.", name,
                                required=False, default={}),
        'product': declarations('What the layout reads from data/<country>/<layout>/'
                                '<lang>.yaml, the text only this product prints.', name,
                                required=False, default={}),
        'copyfit': MapOf(
            'Text the builder sets as large as its pages allow. For each name, the CSS '
            'variable --copyfit-<name> is a scale factor (1: the sizes the CSS gives).',
            Record('One copyfitted text.', {
                'pages': ListOf('The pages it is on.', Integer('A page.', 1, 256)),
                'min': Number('The smallest scale.'),
                'max': Number('The largest scale.'),
                'step': Number('The steps between scales tried.'),
            }), required=False, default={}),
        'justify_max_mm': Number('Most room a gap gets from vertical justification (mm).',
                                 required=False, default=None),
        'fonts': ListOf('The font faces the CSS uses; nothing else is available.', Record(
            'A font face.', {
                'family': Text('The CSS font-family name.', max_length=60),
                'file': Pattern('The font file, under fonts/.', r'[A-Za-z0-9_/.-]+\.(ttf|otf)',
                                'a .ttf or .otf path under fonts/'),
                'weight': Integer('The CSS font-weight.', 100, 900),
                'style': Pattern('The CSS font-style.', 'normal|italic', 'normal or italic'),
                'script': Pattern(
                    'With fallback_for: the Unicode script this face sets (Armenian, '
                    'Georgian), and only that script.', r'[A-Z][A-Za-z_ ]+',
                    'a Unicode script name like Armenian', required=False, default=None),
                'fallback_for': Text(
                    'With script: the family this face stands in for in that script; '
                    "the CSS names it after that family ('Noto Serif', 'Noto Serif "
                    "Armenian'), and the glyph check counts them as one.", max_length=60,
                    required=False, default=None),
            })),
        'colors': MapOf('Every colour the layout uses, as CMYK for print and RGB for screen.',
                        Record('A colour.', {
                            'cmyk': ListOf('C, M, Y, K in percent.',
                                           Integer('A percentage.', 0, 100),
                                           min_items=4, max_items=4),
                            'rgb': Pattern('The screen equivalent.', r'#[0-9a-f]{6}',
                                           'a colour like #14285a'),
                        })),
        'strings': MapOf("The layout's own words, each translated in strings/<lang>.yaml.",
                         Text('What the string is for.'), required=False, default={}),
        'press_kit': Record(
            'The press kit (output presskit): the page its social pictures show, what '
            'they sit on, and the Markdown template of the release text.', {
                'page': Integer('The page the social pictures show (1, the cover, if '
                                'absent).', 1, 256, required=False, default=1),
                'background': Pattern(
                    'The colour (a name under colors) around the page in the pictures; '
                    "the page's own edge colour if absent.", r'[A-Za-z0-9_-]+',
                    'a colour name', required=False, default=None),
                'release': Pattern('The Markdown Jinja template of the release text, in '
                                   'the layout folder.', r'[a-z0-9_-]+\.md',
                                   'a file name like release.md'),
            }, required=False, default=None),
    })


#: The fields the engine itself reads: a country's languages, a language file's
#: language and the original it translates. Every other field is a layout's.
ENGINE_COUNTRY = {'languages': ListOf('The languages this country is published in.',
                                      Language('A language code.'))}
ENGINE_EDITION = {
    'lang': Language('The language of this file, the same as its name.'),
    'translation_of': Language('The language this edition is translated from, when it is '
                               'a translation; the PDFs say so.', required=False,
                               default=None),
}


@dataclass
class Layout:
    """A checked layout folder: its declarations, its words per language."""

    name: str
    folder: Path
    spec: dict
    strings: dict  # lang -> name -> text, for the languages whose words are good
    string_sources: dict  # lang -> Source
    string_errors: dict = field(default_factory=dict)  # lang -> [SourceError]
    #: The key paths of country and language files that some layout in the
    #: project declares (see :func:`shared_paths`): this one lets them pass.
    shared: dict = field(default_factory=lambda: {'country': set(), 'edition': set()})
    #: ``{(kind, field): (line, col)}`` of each top-level declaration, for messages.
    declared_at: dict = field(default_factory=dict)

    @property
    def families(self):
        """The font families, in declaration order, without repeats."""
        return list(dict.fromkeys(face['family'] for face in self.spec['fonts']))

    @property
    def slug_font(self):
        """The font file (under fonts/) the print PDF's slug line is drawn in."""
        return self.spec['slug_font'] or self.spec['fonts'][0]['file']

    def schema(self, kind):
        """The :class:`Record` a file of ``kind`` (``country``, ``edition`` or
        ``product``) must satisfy for this layout: the engine's fields and the
        layout's, with the fields other layouts declare in shared files let pass."""
        engine = {'country': ENGINE_COUNTRY, 'edition': ENGINE_EDITION}.get(kind, {})
        where = {'country': 'data/<country>/country.yaml',
                 'edition': 'data/<country>/<lang>.yaml',
                 'product': f'data/<country>/{self.name}/<lang>.yaml'}[kind]
        record = Record(f'A file {where}.', {**engine, **self.spec[kind]})
        return tolerate(record, self.shared.get(kind, set()) if kind != 'product' else set())

    def words(self, lang, root):
        """The layout's words in ``lang``, typeset later; or :class:`SourceErrors`
        naming the words file (only the editions in ``lang`` fail)."""
        if lang in self.string_errors:
            raise SourceErrors(self.string_errors[lang])
        if lang not in self.strings:
            if not self.spec['strings']:
                return {}
            raise SourceErrors([SourceError(
                f'layouts/{self.name}/strings/{lang}.yaml', 1, 1, '',
                f"missing: the {self.name} layout has no words for '{lang}' (write "
                f"{', '.join(self.spec['strings'])}; `render.py new` starts the file)")])
        return self.strings[lang]

    def colors_css(self, model):
        """``:root`` custom properties for every colour, in ``cmyk`` or ``rgb``."""
        lines = []
        for name, color in self.spec['colors'].items():
            if model == 'cmyk':
                c, m, y, k = (f'{value / 100:g}' for value in color['cmyk'])
                lines.append(f'  --{name}: device-cmyk({c} {m} {y} {k});')
            else:
                lines.append(f"  --{name}: {color['rgb']};")
        return ':root {\n' + '\n'.join(lines) + '\n}\n'

    def screen_colors(self):
        """``{CMYK: RGB}`` as fractions: what each print colour becomes on screen
        (the first colour declared wins when two share their CMYK)."""
        table = {}
        for color in self.spec['colors'].values():
            rgb = color['rgb'].lstrip('#')
            table.setdefault(tuple(value / 100 for value in color['cmyk']),
                             tuple(int(rgb[i:i + 2], 16) / 255 for i in (0, 2, 4)))
        return table


def shared_paths(root):
    """``{'country': paths, 'edition': paths}``: the keys of the shared content
    files that some layout in ``layouts/`` declares, read leniently (a layout
    with errors still names its fields), so that no layout refuses another's.

    When a layout.yaml cannot be read at all, what it declares is not known:
    the kinds are None, and every key of the shared files passes (that layout
    fails its own editions; no other edition fails for it)."""
    found = {'country': set(), 'edition': set()}
    for path in sorted(Path(root, 'layouts').glob('*/layout.yaml')):
        try:
            raw = yaml.load(path.read_bytes(), Loader=_SafeLoader)
        except (OSError, yaml.YAMLError):
            return {'country': None, 'edition': None}
        if isinstance(raw, dict):
            for kind in found:
                found[kind] |= declared_paths(raw.get(kind))
    return found


def _load_yaml(path, folder, root):
    """A YAML file of the layout (its layout.yaml, a strings file), opened as
    the build opens the layout's other files (access.py): a link out of the
    layout's folder, a FIFO or a device is refused, at the file."""
    try:
        raw = access.read(path, [folder], root)
    except access.Missing:
        return yamlsource.load(path, root)  # says it cannot be read, as for content
    except access.Refused as exc:
        raise SourceErrors([SourceError(access.shown(path, root), 1, 1, '',
                                        f'refused: {exc}')]) from None
    return yamlsource.loads(raw, access.shown(path, root))


def load_layout(root, name):
    """Load ``layouts/<name>``: its layout.yaml and its words for every language.

    Problems of the layout itself raise :class:`SourceErrors`; problems of one
    language's words are kept for the editions in that language (:meth:`Layout.words`).
    """
    folder = Path(root, 'layouts', name)
    source = _load_yaml(folder / 'layout.yaml', folder, root)
    errors = []
    spec = validate(layout_schema(name), source, errors)
    if errors:
        raise SourceErrors(errors)
    # Every file named here, as the build will open it (access.py): a link out
    # of the folder, a FIFO or a device is said here, at its line, by `check`.
    for at, file in [(('template',), spec['template'])] + [
            (('stylesheets', i), sheet) for i, sheet in enumerate(spec['stylesheets'])] + (
            [(('press_kit', 'release'), spec['press_kit']['release'])]
            if spec['press_kit'] else []):
        if problem := _unusable(folder / file, [folder], root,
                                f'{file} is not in {folder.name}/'):
            errors.append(source.error(at, problem))
    fonts_folder = Path(root, 'fonts').resolve()
    faces = [(('fonts', i, 'file'), face['file']) for i, face in enumerate(spec['fonts'])]
    if spec['slug_font']:
        faces.append((('slug_font',), spec['slug_font']))
    for at, file in faces:
        path = Path(root, 'fonts', file)
        if problem := _unusable(path, [fonts_folder], root, f'fonts/{file} is missing'):
            errors.append(source.error(at, problem))
        elif problem := fonts.unreadable(path):
            errors.append(source.error(at, f"fonts/{file} is not a font fontTools can "
                                           f'read ({problem})'))
    main = {face['family'] for face in spec['fonts'] if not face['fallback_for']}
    for i, face in enumerate(spec['fonts']):
        script = face['script']
        if bool(script) != bool(face['fallback_for']):
            errors.append(source.error(('fonts', i), 'a face for one script needs both '
                                       'script: and fallback_for:'))
        elif face['fallback_for'] and face['fallback_for'] not in main:
            errors.append(source.error(('fonts', i, 'fallback_for'), f"'{face['fallback_for']}'"
                                       ' is not a family of fonts: (without fallback_for)'))
        elif face['fallback_for'] and face['family'] in main:
            errors.append(source.error(('fonts', i, 'family'), f"'{face['family']}' is a "
                                       'main family too: give the face for one script its '
                                       'own family name'))
        if script and not fonts.script_known(script):
            errors.append(source.error(('fonts', i, 'script'), f"'{script}' is not a Unicode "
                                       'script name (Armenian, Georgian, Cyrillic…)'))
        elif script and not errors and not fonts.served(face, root):
            errors.append(source.error(('fonts', i, 'script'), f"fonts/{face['file']} has "
                                       f'no {script} letters'))
    if not errors:
        errors += fonts.check_renderer_characters(spec['fonts'], root, source)
        errors += fonts.check_stacks(spec['fonts'], folder, spec['stylesheets'],
                                     f'layouts/{name}')
    if spec['watch']:
        from cssselect2 import compile_selector_list
        from cssselect2.parser import SelectorError

        try:
            compile_selector_list(spec['watch'])
        except SelectorError as exc:
            errors.append(source.error(('watch',), f'is not a CSS selector ({exc})'))
    kit = spec['press_kit']
    if kit:
        if kit['page'] > spec['pages']:
            errors.append(source.error(('press_kit', 'page'),
                                       f"page {kit['page']} of {spec['pages']}"))
        if kit['background'] and kit['background'] not in spec['colors']:
            errors.append(source.error(('press_kit', 'background'),
                                       f"'{kit['background']}' is not one of colors "
                                       f"({', '.join(spec['colors'])})"))
    if spec['pages'] % spec['page_multiple']:
        errors.append(source.error(('pages',), f"{spec['pages']} pages is not a multiple of "
                                               f"page_multiple ({spec['page_multiple']})"))
    for target, fit in spec['copyfit'].items():
        if not (0 < fit['min'] <= fit['max'] and fit['step'] > 0):
            errors.append(source.error(('copyfit', target), 'needs 0 < min <= max and step > 0'))
        for i, page in enumerate(fit['pages']):
            if page > spec['pages']:
                errors.append(source.error(('copyfit', target, 'pages', i),
                                           f"page {page} of {spec['pages']}"))
    for kind in ('edition', 'product'):
        for field_name in spec[kind]:
            if field_name in ENGINE_EDITION:
                errors.append(source.error((kind, field_name), f"'{field_name}' is the engine's own "
                                           'field of every language file', at_key=True))
    for field_name in spec['product']:
        if field_name in spec['edition']:
            errors.append(source.error(('product', field_name), f"'{field_name}' is declared in edition "
                                       'too: a field lives in one file', at_key=True))
    for field_name in spec['country']:
        if field_name in ENGINE_COUNTRY:
            errors.append(source.error(('country', field_name), f"'{field_name}' is the engine's own "
                                       'field of every country file', at_key=True))
    errors += _check_references(spec, source)
    if errors:
        raise SourceErrors(errors)
    strings, string_sources, string_errors = {}, {}, {}
    schema = Record('Words of one language.', {
        key: Text(doc) for key, doc in spec['strings'].items()})
    for path in sorted((folder / 'strings').glob('*.yaml')):
        problems = []
        try:
            string_source = _load_yaml(path, folder, root)
        except SourceErrors as exc:
            string_errors[path.stem] = exc.errors
            continue
        words = validate(schema, string_source, problems)
        string_sources[path.stem] = string_source
        if problems:
            string_errors[path.stem] = problems
        else:
            strings[path.stem] = words
    declared_at = {(kind, key): (source.mark((kind, key), at_key=True).line,
                                 source.mark((kind, key), at_key=True).col)
                   for kind in ('country', 'edition', 'product') for key in spec[kind]}
    return Layout(name, folder, spec, strings, string_sources, string_errors,
                  shared_paths(root), declared_at)


def _unusable(path, roots, root, missing):
    """Why the build could not open ``path`` (see :mod:`access`): ``missing``
    when it does not exist; or ''."""
    try:
        access.read(path, roots, root)
    except access.Missing:
        return missing
    except access.Refused as exc:
        return str(exc)
    return ''


def _check_references(spec, source):
    """``keys_from`` and ``required_with`` name country fields that exist, and sit on
    top-level fields of the text files; ``after`` names a country field beside it."""
    errors = []
    country = spec['country']

    def deeper(kind, fields, path):
        for name, field in fields.items():
            at = (kind, *path, name)
            for key in ('keys_from', 'required_with', 'after'):
                if getattr(field, key, None):
                    errors.append(source.error(at + (key,), f"'{key}' applies to a top-level "
                                               'field only', at_key=True))
            item = getattr(field, 'item', None)
            inner = getattr(item, 'fields', None) or getattr(field, 'fields', None)
            if inner:
                deeper(kind, inner, (*path, name, 'item', 'fields') if item else
                       (*path, name, 'fields'))

    for kind in ('country', 'edition', 'product'):
        for name, field in spec[kind].items():
            at = (kind, name)
            after = getattr(field, 'after', None)
            for key, wrong in (('keys_from', kind == 'country'),
                               ('required_with', kind == 'country'),
                               ('after', kind != 'country')):
                if getattr(field, key, None) and wrong:
                    errors.append(source.error(at + (key,), f"'{key}' does not apply to a "
                                               f'field of {kind}', at_key=True))
            if kind == 'country':
                if after and not (after in country and after != name
                                  and isinstance(country[after], Integer)):
                    errors.append(source.error(at + ('after',), f"'{after}' is not another "
                                               'year or integer field of country'))
                continue
            if field.keys_from and not (
                    field.keys_from in country and country[field.keys_from].kind == 'list'
                    and getattr(country[field.keys_from].item, 'fields', {}).get('id')):
                errors.append(source.error(at + ('keys_from',), f"'{field.keys_from}' is not "
                                           'a country list of records with an id'))
            if field.required_with and field.required_with not in country:
                errors.append(source.error(at + ('required_with',), f"'{field.required_with}'"
                                           ' is not declared under country'))
            item = getattr(field, 'item', None)
            inner = getattr(item, 'fields', None) or getattr(field, 'fields', None)
            if inner:
                deeper(kind, inner, (name, 'item', 'fields') if item else (name, 'fields'))
    return errors


_COMPOUND_HYPHEN = re.compile(r'(?<=\w)-(?=\w)')


def keep_compounds(text):
    """``text`` in which no line breaks at the hard hyphen of a compound
    (Сорос-Қазақстан): a WORD JOINER (U+2060, invisible, not drawn) follows the
    hyphen. PDF readers drop or garble a hyphen at a line end, so the word
    would not copy out whole. A Jinja filter for running text."""
    return _COMPOUND_HYPHEN.sub('-\u2060', text)


class LayoutLoader(BaseLoader):
    """Loads templates (and what they include, import or extend) from the layout
    folder only: a name that climbs out (``..``) is not found, and a file that is
    a link leading outside the folder, a FIFO or a device is refused
    (:mod:`access`). Jinja's ``FileSystemLoader`` would open what a link points to."""

    def __init__(self, folder, project):
        self.folder, self.project = Path(folder), Path(project)

    def get_source(self, environment, template):
        path = self.folder.joinpath(*split_template_path(template))  # refuses '..'
        try:
            body = access.read(path, [self.folder], self.project)
        except access.Missing:
            raise TemplateNotFound(template) from None
        try:
            text = body.decode('utf-8')
        except UnicodeDecodeError as exc:
            raise access.Refused(f'{access.shown(path, self.project)}: not UTF-8 text '
                                 f'(byte {exc.start + 1})') from None
        return text, str(path), lambda: self._unchanged(path, body)

    def _unchanged(self, path, body):
        """Whether ``path`` still holds ``body``: a compiled template is reused
        (see :func:`environment`) only while its file's bytes are the same."""
        try:
            return access.read(path, [self.folder], self.project) == body
        except (access.Refused, access.Missing, OSError):
            return False


def _loader(layout):
    # The project is the folder above layouts/<name>.
    return LayoutLoader(layout.folder, Path(layout.folder).parent.parent)


#: The Jinja environments made, by kind and layout folder: each keeps its
#: compiled templates, so that a worker compiles a layout's templates once, not
#: once per edition; a template whose file changed is compiled again.
_ENVIRONMENTS = {}


def _kept(kind, layout, make):
    key = (kind, str(Path(layout.folder).resolve()))
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = make(layout)
    return _ENVIRONMENTS[key]


def environment(layout):
    """The Jinja environment for a layout: sandboxed, autoescaped, strict, and
    reading templates only from the layout folder (:class:`LayoutLoader`)."""
    return _kept('html', layout, _html_environment)


def _html_environment(layout):
    env = ImmutableSandboxedEnvironment(
        loader=_loader(layout), autoescape=True,
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.pop('safe')  # content is a value, never markup: no way to say otherwise
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    return env


@pass_context
def _money(context, amount, currency, approximate=False):
    """``{{ figure.amount | money(figure.currency) }}``: the amount as the edition's
    language writes it in running text (kk ``3,8 млн $``, en ``$3.8M``), through CLDR."""
    return typography.money(amount, currency, context['lang'], approximate)


def _balance(items, groups, by=None, overhead=0):
    """``{% for page in edition.facts | balance(4, by='text', overhead=150) %}``: the
    items in ``groups`` runs of consecutive items, as even in length as can be
    (each weighs the length of its ``by`` text, or of itself, plus ``overhead``)."""
    items = list(items)
    groups = max(1, min(int(groups), len(items))) if items else 0
    weights = [len(str(item[by] if by else item)) + overhead for item in items]
    return [[items[i] for i in run] for run in typography.balance(weights, groups)]


_WORD = re.compile(r'\w+')


@pass_context
def _hyphenate(context, text, total=5, left=2, right=2):
    """``{{ paragraph | hyphenate }}``: the text with a soft hyphen (U+00AD) at every
    point where the language's dictionary lets a word break: pyphen's, and the
    project's own for kk, ky, tg, hy and ka. Words shorter than ``total`` letters are left
    whole, and no break leaves fewer than ``left`` letters before it or ``right``
    after it (as CSS ``hyphenate-limit-chars``), and none inside an f-ligature,
    nor in a paragraph with a run of over 25 characters without a space.
    Set the text ``hyphens: manual``:
    every engine (the build, bare WeasyPrint, a browser) then breaks at the same
    points, so the hand-off's HTML lays out as the PDF. A language with no
    dictionary is left as it is."""
    dictionary = _dictionary(context['lang'], int(left), int(right))
    if dictionary is None:
        return text
    total = int(total)

    def soften(match):
        word = match.group()
        if len(word) < total:
            return word
        # Not inside an f-ligature (ff, fi, fl): the shaper joins the letters
        # across the soft hyphen, and the ligature then copies out of the PDF
        # as nothing.
        points = [point for point in dictionary.positions(word)
                  if not (word[point - 1] in 'fF' and word[point] in 'fil')]
        pieces = [word[start:end] for start, end in zip([0, *points], [*points, None])]
        return '\u00ad'.join(pieces)

    text = str(text)
    # A run of more than 25 characters without a space (a web address, a path)
    # must break where the line breaker finds a place (after a slash); with a
    # soft hyphen anywhere in the paragraph, WeasyPrint 70 tries only soft
    # hyphens there, and lets the run go over the edge. Such a paragraph is
    # not hyphenated.
    if any(len(run) > 25 for run in text.split()):
        return text
    return _WORD.sub(soften, text)


def _dictionary(lang, left, right):
    """The pyphen dictionary of ``lang`` (ours for kk, ky, tg, hy and ka), or None; made once
    per process and dictionary file, not once per paragraph."""
    import pyphen

    from . import hyphenation

    hyphenation.register()  # ours are parsed when first used, and again when changed
    code = pyphen.language_fallback(lang.replace('-', '_'))
    if not code:
        return None
    path = pyphen.LANGUAGES.get(code)
    return _pyphen(code, left, right, str(path), id(hyphenation.parsed(path)))


@lru_cache(maxsize=64)
def _pyphen(code, left, right, path, parsed):
    """One dictionary per language, limits and parse of its file."""
    import pyphen

    return pyphen.Pyphen(lang=code, left=left, right=right)


def _numbered(items, start=1):
    """``{% for fact in edition.facts | numbered %}``: each item with its ``number``
    (from 1), its fields kept (an item that is no mapping becomes ``value``)."""
    return [dict(item, number=i) if isinstance(item, dict) else {'value': item, 'number': i}
            for i, item in enumerate(items, start)]


def _first_words(text, count=6):
    """``{{ fact.text | first_words(6) }}``: the first words, and ``…`` when cut
    (a bookmark's label)."""
    words = str(text).split()
    return ' '.join(words[:count]) + (' …' if len(words) > count else '')


def _language_name(code, lang='en'):
    """``{{ translation_of | language_name }}``: the language's name, in English
    unless another language is given."""
    try:
        return Locale.parse(lang).languages.get(code, code)
    except (ValueError, UnknownLocaleError):
        return code


def _years_between(start, end):
    """``years_between(country.founded, country.anniversary)``: 30 for 1995 and 2025."""
    return int(end) - int(start)


#: The filters every layout may use, beside Jinja's own.
FILTERS = {'keep_compounds': keep_compounds, 'hyphenate': _hyphenate, 'money': _money,
           'year_span': lambda start, end: typography.year_span(start, end),
           'balance': _balance, 'numbered': _numbered, 'first_words': _first_words,
           'language_name': _language_name}
#: The functions every layout may call.
GLOBALS = {'years_between': _years_between}


# Markdown: the press kit's release text -------------------------------------

_MD_LINE_BREAKS = re.compile(r'[ \t]*(?:\r\n|\r|\n)[ \t]*')
#: Escaped wherever they are: code, emphasis, links and pictures, HTML and
#: autolinks, headings, tables, entities (``&amp;``), and a tilde that could
#: open a strikethrough (one followed by a space, as in ``~ $100M``, cannot).
_MD_SPECIAL = re.compile(r'[\\`*_\[\]<>#|]|&(?=#?[0-9A-Za-z]+;)|~(?!\s)')
#: Escaped at the start of a value, where a line may start: a list item, a
#: setext underline, an ordered item (``1993.``: its dot).
_MD_START = re.compile(r'[-+=]|[0-9]{1,9}[.)]')


def md(value):
    """``value`` as Markdown text that shows exactly it, however it is placed:
    its characters that Markdown reads as structure backslash-escaped, its line
    breaks and the spaces around them one space (content has none), leading and
    trailing spaces dropped (they would indent a code block, or break a line).
    Every ``{{ }}`` of a Markdown template goes through it: content can add no
    heading, list, link, emphasis, HTML or paragraph."""
    text = _MD_LINE_BREAKS.sub(' ', str(value)).strip(' \t')
    text = _MD_SPECIAL.sub(lambda match: '\\' + match.group(), text)
    start = _MD_START.match(text)
    if start:
        at = start.end() - 1
        text = f'{text[:at]}\\{text[at:]}'
    return text


def markdown_environment(layout):
    """The Jinja environment for a layout's Markdown templates: the HTML one's
    sandbox, strictness and helpers, with no HTML escaping but every printed
    value escaped for Markdown (:func:`md`)."""
    return _kept('markdown', layout, _markdown_environment)


def _markdown_environment(layout):
    env = ImmutableSandboxedEnvironment(
        loader=_loader(layout), autoescape=False, finalize=md,
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    env.filters.pop('safe')
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    return env


def render_markdown(layout, context):
    """The edition's release text: the layout's ``press_kit: release`` template
    filled with ``context`` (the HTML template's); failures as :func:`render_html`."""
    return _render(layout, markdown_environment(layout), layout.spec['press_kit']['release'],
                   context)


def render_html(layout, context):
    """The edition's HTML: the layout's template filled with ``context``.

    Any failure of the template (a syntax error, the sandbox refusing unsafe
    access, a range too big, runaway recursion) is a :class:`RenderError` naming
    the template file and line.
    """
    return _render(layout, environment(layout), layout.spec['template'], context)


def _render(layout, env, name, context):
    try:
        return env.get_template(name).render(context)
    except Exception as exc:  # a layout is outside code: whatever it does is its error
        filename = getattr(exc, 'filename', None) or name
        line = getattr(exc, 'lineno', None) or _template_line(exc, filename)
        where = f'layouts/{layout.name}/{Path(filename).name}:{line or 1}'
        kind = ('unsafe' if isinstance(exc, SecurityError) else
                'refused' if isinstance(exc, access.Refused) else type(exc).__name__)
        raise RenderError(f'{where}: template: {kind}: {exc}') from None


def _template_line(exc, filename):
    """The template line an exception came from (Jinja maps its frames to them)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(Path(filename).name):
            return frame.lineno
    return None


# Where a layout asked for it ----------------------------------------------

#: The files of a layout folder that can ask for a file or set a style.
_SEARCHED = ('.html', '.htm', '.css', '.svg', '.xml', '.md', '.j2', '.jinja', '.txt')


class Finder:
    """Where in a layout's own files (template, includes, stylesheets, SVG) a
    failure it caused was asked for: a refused URL, a font size. Positions are
    ``path:line:col``, project-relative, counted from 1 in characters."""

    def __init__(self, layout, project):
        self.folder, self.project = Path(layout.folder), Path(project)
        self.name = layout.name
        self.template = f'layouts/{layout.name}/{layout.spec["template"]}'
        self._texts = None

    @property
    def fallback(self):
        """What names the layout when no line of it can: its folder."""
        return f'layouts/{self.name}/'

    def texts(self):
        """``[(path shown, text)]`` of the searched files, the template first."""
        if self._texts is None:
            found = []
            paths = sorted(path for path in self.folder.rglob('*')
                           if path.suffix.lower() in _SEARCHED)[:500]
            for path in paths:
                try:
                    body = access.read(path, [self.folder], self.project)
                except access.Refused:
                    continue  # not a file the layout can use: it asked for nothing
                found.append((access.shown(path, self.project),
                              body.decode('utf-8', 'replace')))
            found.sort(key=lambda item: item[0] != self.template)
            self._texts = found
        return self._texts

    def url(self, url):
        """Where ``url`` (as WeasyPrint resolved it) is written, or None: the
        longest piece of it found (the whole URL, its path from the layout
        folder, its tail, or its start, for a ``<base href>``), first occurrence."""
        needles = _url_needles(url, self.folder.resolve())
        best = None
        for path, text in self.texts():
            for needle in needles:
                if best is not None and len(needle) <= len(best[0]):
                    break
                index = text.find(needle)
                if index >= 0:
                    best = (needle, path, _line_col(text, index))
                    break
        return f'{best[1]}:{best[2][0]}:{best[2][1]}' if best else None

    def declarations(self, names, test):
        """``[(where, value)]`` of the CSS declarations of a property in ``names``
        (None: any) in the layout's stylesheets whose value passes ``test`` (a list of
        tinycss2 tokens), in the order of the files and within them."""
        import tinycss2

        found = []
        for path, text in self.texts():
            if not path.endswith('.css'):
                continue
            rules = tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True)
            stack = list(reversed(rules))
            while stack:
                rule = stack.pop()
                content = getattr(rule, 'content', None)
                if not content:
                    continue
                for item in tinycss2.parse_blocks_contents(content, skip_comments=True,
                                                           skip_whitespace=True):
                    if item.type == 'declaration' and (names is None
                                                       or item.lower_name in names):
                        if test(item.value):
                            found.append((f'{path}:{item.source_line}:{item.source_column}',
                                          tinycss2.serialize(item.value).strip()))
                    elif item.type in ('qualified-rule', 'at-rule'):
                        stack.append(item)  # a nested rule (CSS nesting, @media)
        return found


def _url_needles(url, folder):
    """Pieces of ``url`` to search for, longest first."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    needles = {url, unquote(url)}
    if parts.scheme == 'file':
        path = unquote(parts.path)
        if Path(path).is_relative_to(folder):
            needles.add(Path(path).relative_to(folder).as_posix())
        pieces = path.split('/')
        needles.update('/'.join(pieces[i:]) for i in range(1, len(pieces)))
        needles.update('/' + '/'.join(pieces[i:]) for i in range(1, len(pieces) - 1))
    else:
        pieces = parts.path.split('/')
        needles.update('/'.join(pieces[i:]) for i in range(1, len(pieces)))
    origin = f'{parts.scheme}://{parts.netloc}' if parts.scheme else ''
    head = url.split('?')[0].split('#')[0]
    while '/' in head and len(head) > len(origin):  # the URL's start: a <base href>
        head = head[:head.rindex('/')]
        needles.update((head, head + '/'))
    if origin:
        needles.add(origin)
    # A needle shorter than a short file name finds anything.
    return sorted((n for n in needles if len(n.strip('/')) >= 3 and n not in ('file:',
                                                                                'file:/')),
                  key=len, reverse=True)


def _line_col(text, index):
    line = text.count('\n', 0, index) + 1
    return line, index - (text.rfind('\n', 0, index) + 1) + 1
