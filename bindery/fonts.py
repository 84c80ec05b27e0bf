"""The layout's fonts: the @font-face rules that load them, and a glyph check before rendering."""

from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import regex
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


def unreadable(path):
    """Why the font file at ``path`` cannot be used, or None when it can."""
    try:
        _cmap(str(path))
    except Exception as exc:  # fontTools raises many kinds for a file that is no font
        return str(exc) or type(exc).__name__
    return None


def font_face_css(layout, root):
    """``@font-face`` rules for every face the layout declares, by file URL."""
    rules = []
    for face in layout.spec['fonts']:
        url = Path(root, 'fonts', face['file']).resolve().as_uri()
        rules.append(
            f"@font-face {{ font-family: '{face['family']}'; src: url('{url}'); "
            f"font-weight: {face['weight']}; font-style: {face['style']}; }}")
    return '\n'.join(rules) + '\n'


def missing_glyphs(faces, root, text):
    """``{char: [families]}`` for each character of ``text`` some of ``faces`` lacks."""
    missing = {}
    faces = [(face['family'], _cmap(str(Path(root, 'fonts', face['file']))))
             for face in faces]
    for char in sorted(set(text) - {'\n', '\t'}):
        if ignorable(char):  # drawn as nothing, whatever the font has
            continue
        lacking = [family for family, cmap in faces if ord(char) not in cmap]
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
