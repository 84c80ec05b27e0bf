"""Find a layout folder, check what it declares, and render an edition to HTML with Jinja."""

import re
import traceback
from dataclasses import dataclass
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import fonts, yamlsource
from .errors import RenderError, SourceErrors
from .schema import Integer, ListOf, MapOf, Number, Pattern, Record, Text, validate

_NAME = dict(pattern=r'[a-z][a-z0-9_]*', hint='a name (a-z, 0-9 and _)')

LAYOUT = Record('A layout: layouts/<name>/layout.yaml.', {
    'title': Text('What the layout is, for people.'),
    'template': Pattern('The Jinja template, in the layout folder.',
                        r'[a-z0-9_-]+\.html', 'a file name like booklet.html'),
    'stylesheets': ListOf('CSS files, in the layout folder, in cascade order.',
                          Pattern('A CSS file.', r'[a-z0-9_-]+\.css', 'a .css file name')),
    'pages': Integer('How many pages the booklet has (a multiple of 4).', 4, 64),
    'facts': Integer('How many facts an edition must have.', 1, 50),
    'fact_pages': Integer('How many pages the facts are spread over.', 1, 50),
    'copyfit': MapOf(
        'Text the builder sets as large as its pages allow. For each name, the CSS '
        'variable --copyfit-<name> is a scale factor (1: the sizes the CSS gives).',
        Record('One copyfitted text.', {
            'pages': ListOf('The pages it is on.', Integer('A page.', 1, 64)),
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
                     Text('What the string is for.')),
})


@dataclass
class Layout:
    """A checked layout folder: its declarations, its strings per language."""

    name: str
    folder: Path
    spec: dict
    strings: dict  # lang -> name -> text
    string_sources: dict  # lang -> Source

    @property
    def families(self):
        """The font families, in declaration order, without repeats."""
        return list(dict.fromkeys(face['family'] for face in self.spec['fonts']))

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


def load_layout(root, name):
    """Load ``layouts/<name>``: its layout.yaml and its strings for every language."""
    folder = Path(root, 'layouts', name)
    source = yamlsource.load(folder / 'layout.yaml', root)
    errors = []
    spec = validate(LAYOUT, source, errors)
    if errors:
        raise SourceErrors(errors)
    for key in ('template',):
        if not (folder / spec[key]).is_file():
            errors.append(source.error((key,), f'{spec[key]} is not in {folder.name}/'))
    for i, sheet in enumerate(spec['stylesheets']):
        if not (folder / sheet).is_file():
            errors.append(source.error(('stylesheets', i), f'{sheet} is not in {folder.name}/'))
    fonts_folder = Path(root, 'fonts').resolve()
    for i, face in enumerate(spec['fonts']):
        path = Path(root, 'fonts', face['file'])
        if not path.resolve().is_relative_to(fonts_folder):
            errors.append(source.error(('fonts', i, 'file'), f"fonts/{face['file']} leads "
                                       'outside fonts/ (a link?): fonts must be in fonts/'))
        elif not path.is_file():
            errors.append(source.error(('fonts', i, 'file'), f"fonts/{face['file']} is missing"))
        elif problem := fonts.unreadable(path):
            errors.append(source.error(('fonts', i, 'file'), f"fonts/{face['file']} is not "
                                       f'a font fontTools can read ({problem})'))
    if not errors:
        errors += fonts.check_renderer_characters(spec['fonts'], root, source)
    if spec['pages'] % 4:
        errors.append(source.error(('pages',), f"{spec['pages']} pages cannot be "
                                               'saddle-stitched; use a multiple of 4'))
    if spec['fact_pages'] > spec['facts']:
        errors.append(source.error(('fact_pages',), f"{spec['fact_pages']} pages for "
                                   f"{spec['facts']} facts would leave a page empty"))
    for target, fit in spec['copyfit'].items():
        if not (0 < fit['min'] <= fit['max'] and fit['step'] > 0):
            errors.append(source.error(('copyfit', target), 'needs 0 < min <= max and step > 0'))
    strings, string_sources = {}, {}
    schema = Record('Strings of one language.', {
        key: Text(doc) for key, doc in spec['strings'].items()})
    for path in sorted((folder / 'strings').glob('*.yaml')):
        try:
            string_source = yamlsource.load(path, root)
        except SourceErrors as exc:
            errors.extend(exc.errors)
            continue
        strings[path.stem] = validate(schema, string_source, errors)
        string_sources[path.stem] = string_source
    if errors:
        raise SourceErrors(errors)
    return Layout(name, folder, spec, strings, string_sources)


_COMPOUND_HYPHEN = re.compile(r'(?<=\w)-(?=\w)')


def keep_compounds(text):
    """``text`` in which no line breaks at the hard hyphen of a compound
    (Сорос-Қазақстан): a WORD JOINER (U+2060, invisible, not drawn) follows the
    hyphen. PDF readers drop or garble a hyphen at a line end, so the word
    would not copy out whole. A Jinja filter for running text."""
    return _COMPOUND_HYPHEN.sub('-\u2060', text)


def environment(layout):
    """The Jinja environment for a layout: sandboxed, autoescaped, strict."""
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(layout.folder), autoescape=True,
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters['keep_compounds'] = keep_compounds
    return env


def render_html(layout, context):
    """The edition's HTML: the layout's template filled with ``context``.

    Any failure of the template (a syntax error, the sandbox refusing unsafe
    access, a range too big, runaway recursion) is a :class:`RenderError` naming
    the template file and line.
    """
    name = layout.spec['template']
    try:
        return environment(layout).get_template(name).render(context)
    except Exception as exc:  # a layout is outside code: whatever it does is its error
        filename = getattr(exc, 'filename', None) or name
        line = getattr(exc, 'lineno', None) or _template_line(exc, filename)
        where = f'layouts/{layout.name}/{Path(filename).name}:{line or 1}'
        kind = 'unsafe' if isinstance(exc, SecurityError) else type(exc).__name__
        raise RenderError(f'{where}: template: {kind}: {exc}') from None


def _template_line(exc, filename):
    """The template line an exception came from (Jinja maps its frames to them)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(Path(filename).name):
            return frame.lineno
    return None
