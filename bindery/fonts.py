"""The layout's fonts: the @font-face rules that load them, and a glyph check before rendering."""

import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import regex
from fontTools import unicodedata as ucd
from fontTools.ttLib import TTFont

from .errors import SourceError
from .yamlsource import quoted

#: Characters the renderer itself may put on a page: the hyphen WeasyPrint inserts
#: at a line-end break (U+2010), and the spaces, quotes and dashes that
#: typography.typeset puts in place of what was typed.
RENDERER_CHARACTERS = '\u2010\u00a0\u2009\u202f«»„“”‘’–~'

#: Characters that need no glyph: Unicode's Default_Ignorable_Code_Point (the
#: `regex` module's copy of DerivedCoreProperties.txt: soft hyphen, joiners,
#: word joiner, variation selectors, tags…), which the shaper (HarfBuzz) hides
#: when the font lacks them; typesetting inserts some itself (U+2060 in
#: compounds, soft hyphens). But for HarfBuzz's exceptions, which it draws with
#: the font's ordinary glyph and so must be covered: the Hangul fillers U+115F,
#: U+1160, U+3164, U+FFA0 and the shorthand format controls U+1BCA0–U+1BCA3
#: (harfbuzz src/hb-unicode.hh, is_default_ignorable).
IGNORABLE = regex.compile(
    r'[\p{Default_Ignorable_Code_Point}--[\u115f\u1160\u3164\uffa0\U0001bca0-\U0001bca3]]',
    flags=regex.V1)


def ignorable(char):
    """Whether ``char`` needs no glyph (see :data:`IGNORABLE`)."""
    return IGNORABLE.match(char) is not None


@lru_cache(maxsize=None)
def _cmap(path):
    font = TTFont(path, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


@lru_cache(maxsize=None)
def _script_cmap(path, script):
    """The characters of the file at ``path`` that belong to ``script`` (a Unicode
    script name: ``Armenian``), by their script extensions, so punctuation two
    scripts share (``։``, U+0589, Armenian and Georgian) is each one's."""
    code = ucd.script_code(script)
    return frozenset(point for point in _cmap(path) if code in ucd.script_extension(chr(point)))


def script_known(script):
    """Whether ``script`` is a Unicode script name fontTools knows (``Georgian``)."""
    try:
        ucd.script_code(script)
    except KeyError:
        return False
    return True


def served(face, root):
    """The characters ``face`` sets: its file's, or with ``script``, only those of
    that script (the rest of the text is its family's)."""
    path = str(Path(root, 'fonts', face['file']))
    return _script_cmap(path, face['script']) if face.get('script') else _cmap(path)


def fallbacks(faces):
    """``{family: [fallback families]}``: the families a layout's CSS must name after
    each one (``font-family: 'Noto Serif', 'Noto Serif Armenian'``), in order."""
    found = {}
    for face in faces:
        if face.get('fallback_for'):
            found.setdefault(face['fallback_for'], [])
            if face['family'] not in found[face['fallback_for']]:
                found[face['fallback_for']].append(face['family'])
    return found


#: A font size (with its unit) and line height in a ``font`` shorthand: the
#: families come after it.
_FONT_SIZE = re.compile(r'[\d.]+(?:pt|px|mm|cm|in|q|pc|em|rem|ex|ch|%)(?:\s*/\s*\S+)?\s+(?=\S)'
                        r'|\)(?:\s*/\s*\S+)?\s+(?=[\'"A-Za-z])', re.I)


def _families(name, value):
    """The family names of a ``font`` or ``font-family`` declaration's value."""
    if name == 'font':
        sizes = list(_FONT_SIZE.finditer(value))
        if not sizes:
            return []
        value = value[sizes[-1].end():]
    return [part.strip().strip('\'"') for part in value.split(',')]


def _declarations(rules):
    """Every declaration of ``rules`` (tinycss2 nodes), in nested blocks too."""
    import tinycss2

    for rule in rules:
        if rule.type in ('qualified-rule', 'at-rule') and rule.content is not None:
            yield from _declarations(tinycss2.parse_blocks_contents(
                rule.content, skip_comments=True, skip_whitespace=True))
        elif rule.type == 'declaration':
            yield rule


def check_stacks(faces, folder, stylesheets, shown):
    """Errors for each ``font``/``font-family`` of the stylesheets that names a family
    without the families that stand in for it for other scripts after it; ``shown``
    is the folder as messages name it (``layouts/nine-facts``)."""
    import tinycss2

    needed = fallbacks(faces)
    errors = []
    for sheet in stylesheets:
        path = Path(folder, sheet)
        try:
            css = path.read_text(encoding='utf-8')
        except (OSError, UnicodeDecodeError):
            continue  # the layout's own check says so
        rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
        for declaration in _declarations(rules):
            if declaration.lower_name not in ('font', 'font-family'):
                continue
            families = _families(declaration.lower_name,
                                 tinycss2.serialize(declaration.value).strip())
            for index, family in enumerate(families):
                lacking = [name for name in needed.get(family, [])
                           if name not in families[index + 1:]]
                if lacking:
                    errors.append(SourceError(
                        f'{shown}/{sheet}', declaration.source_line,
                        declaration.source_column, '',
                        f"{declaration.name}: '{family}' without "
                        f"{', '.join(repr(name) for name in lacking)} after it: those set "
                        f'the scripts it lacks (layout.yaml fallback_for); without them a '
                        'system font would'))
    return errors


def unicode_range(points):
    """``U+531-556, U+559-58A``: the CSS unicode-range of the code points."""
    ranges, points = [], sorted(points)
    for point in points:
        if ranges and point == ranges[-1][1] + 1:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    return ', '.join(f'U+{a:X}' if a == b else f'U+{a:X}-{b:X}' for a, b in ranges)


def unreadable(path):
    """Why the font file at ``path`` cannot be used, or None when it can."""
    try:
        _cmap(str(path))
    except Exception as exc:  # fontTools raises many kinds for a file that is no font
        return str(exc) or type(exc).__name__
    return None


def font_face_css(layout, root):
    """``@font-face`` rules for every face the layout declares, by file URL; a
    face for one script gets the ``unicode-range`` of that script's characters in
    its file: named after the family it stands in for, it sets that script only."""
    rules = []
    for face in layout.spec['fonts']:
        url = Path(root, 'fonts', face['file']).resolve().as_uri()
        limit = (f" unicode-range: {unicode_range(served(face, root))};"
                 if face.get('script') else '')
        rules.append(
            f"@font-face {{ font-family: '{face['family']}'; src: url('{url}'); "
            f"font-weight: {face['weight']}; font-style: {face['style']};{limit} }}")
    return '\n'.join(rules) + '\n'


def missing_glyphs(faces, root, text):
    """``{char: [families]}`` for each character of ``text`` that some face of
    ``faces`` lacks: a face is a family at a weight and style, with the faces that
    stand in for it for one script each (``fallback_for``); one of them must have
    the glyph."""
    missing = {}
    composed = {}
    for face in faces:
        key = face.get('fallback_for') or face['family'], face['weight'], face['style']
        composed[key] = composed.get(key, frozenset()) | served(face, root)
    for char in sorted(set(text) - {'\n', '\t'}):
        if ignorable(char):  # drawn as nothing, whatever the font has
            continue
        lacking = [key[0] for key, cmap in composed.items() if ord(char) not in cmap]
        if lacking:
            missing[char] = list(dict.fromkeys(lacking))
    return missing


def check_renderer_characters(faces, root, source):
    """Errors (at ``fonts`` in the layout's ``source``) for characters the renderer
    inserts that one of ``faces`` lacks."""
    return [source.error(('fonts',), f'{", ".join(families)} has no glyph for '
                                     f'U+{ord(char):04X}, which the renderer inserts')
            for char, families in missing_glyphs(faces, root, RENDERER_CHARACTERS).items()]


def check_coverage(layout, root, texts):
    """Errors for characters without a glyph; ``texts`` is ``(source, keypath, text)``.

    Every face must cover every character: any text may be set in any face (a
    fact in bold, a title in the body face), and a fallback to a system font would
    be silent.
    """
    errors = []
    for source, path, text in texts:
        for char, families in missing_glyphs(layout.spec['fonts'], root, text).items():
            errors.append(source.char_error(
                path, char, f"{quoted(char)} (U+{ord(char):04X}) has no glyph in the "
                            f"layout's fonts ({', '.join(families)})"))
    return errors


class _Text(HTMLParser):
    """The text an HTML page shows: its text nodes and ``data-*`` attributes (CSS
    may print them), outside ``<head>``, ``<style>`` and ``<script>``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ('head', 'style', 'script', 'title'):
            self.hidden += 1
        self.parts += [value for name, value in attrs if name.startswith('data-') and value]

    def handle_endtag(self, tag):
        if tag in ('head', 'style', 'script', 'title'):
            self.hidden = max(0, self.hidden - 1)

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def html_text(html):
    """The text an HTML page shows (see :class:`_Text`), as one string."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return '\n'.join(parser.parts)


def check_html(layout, root, html, known=''):
    """Errors for characters of the rendered page (what the template made of the
    content: amounts, year spans, its own words) that a face lacks, but for those
    in ``known``: the content's own, reported at their place in its files."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    parser.parts = [''.join(char for char in part if char not in known)
                    for part in parser.parts]
    template = f"layouts/{layout.name}/{layout.spec['template']}"
    return [SourceError(template, 1, 1, '', f'the page shows {quoted(char)} (U+{ord(char):04X}), '
                        f"which has no glyph in the layout's fonts ({', '.join(families)})")
            for char, families in missing_glyphs(layout.spec['fonts'], root,
                                                 ''.join(parser.parts)).items()]
