"""Draw trim marks and a slug line outside the bleed, in registration colour."""

import os
from functools import lru_cache

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont
from pikepdf import Array, Dictionary, Name, Operator, unparse_content_stream

MM = 72 / 25.4

#: Room for marks and slug beyond the bleed on every side, in mm. With the
#: usual 3 mm bleed the sheet is the trim plus 15 mm a side (A5 becomes
#: 178 × 240 mm), which fits the 6 mm marks and the slug with room to spare.
MARK_AREA_MM = 12
#: Gap between the bleed edge and the start of each trim mark, in mm: the mark
#: must never print on the bleed, even after a little misregistration.
MARK_GAP_MM = 1
#: Length of each trim mark, in mm.
MARK_LENGTH_MM = 6
#: Line width of the marks, in pt: the hairline print shops expect.
MARK_WIDTH_PT = 0.25
#: Size of the slug line's type, in pt (shrunk when the line is wider than the page).
SLUG_SIZE_PT = 6
#: Distance of the slug line's baseline below the bleed edge, in mm.
SLUG_DROP_MM = 5

#: Resource names, long so as not to meet WeasyPrint's own short ones.
_COLOR = Name('/BinderyRegistration')
_GLYPH = 'BinderyGlyph'


def add_marks(pdf, bleed_mm, slug_text, font_path):
    """Draw trim marks and a slug line on every page of ``pdf`` (changed in place).

    Each MediaBox grows to :data:`MARK_AREA_MM` beyond the bleed on every
    side; TrimBox and BleedBox stay as they are. Eight 0.25 pt trim marks continue
    the trim edges outward from :data:`MARK_GAP_MM` beyond the bleed (or
    beyond ``bleed_mm``, whichever is further from the trim). Below the
    bottom marks runs ``slug_text``, in which ``{page}`` and ``{pages}`` are
    replaced by the page number and count. Its glyphs are drawn as outlines
    read from ``font_path`` (OpenType or TrueType), so no font is embedded
    and the slug never shows up in the PDF's extractable text.

    Everything is drawn in registration colour (``/Separation /All``), so it
    appears on every printing plate. Raises :class:`ValueError` for
    characters the font lacks and for pages that already have marks.
    """
    for page in pdf.pages:
        if _COLOR in page.obj.get(Name.Resources, {}).get(Name.ColorSpace, {}):
            # A second set would land on the first, and its glyph names would
            # point the first slug at other glyphs.
            raise ValueError('the pages already have marks')
    color = pdf.make_indirect(_registration())
    prefix = pdf.make_stream(b'q\n')
    pages = len(pdf.pages)
    info = os.stat(font_path)
    glyphs = _Glyphs(pdf, _outlines(str(font_path), info.st_mtime_ns, info.st_size))
    for number, page in enumerate(pdf.pages, 1):
        text = slug_text.replace('{page}', str(number)).replace('{pages}', str(pages))
        _mark_page(page, color, glyphs, prefix, bleed_mm, text)


def _registration():
    """``/Separation /All``: one tint that prints at that tint on every plate."""
    # A type 2 function maps the tint t to C = M = Y = K = t, the colour a
    # viewer shows for it; the separation itself goes to all plates anyway.
    tint = Dictionary(FunctionType=2, Domain=[0, 1], C0=[0, 0, 0, 0], C1=[1, 1, 1, 1], N=1)
    return Array([Name.Separation, Name.All, Name.DeviceCMYK, tint])


def _mark_page(page, color, glyphs, prefix, bleed_mm, text):
    trim = _box(page.trimbox)
    bleed = _box(page.bleedbox)
    # The distance from trim to the start of the marks, per side (left,
    # bottom, right, top): the bleed as declared or as the BleedBox has it,
    # whichever is larger, plus the gap.
    reach = [max(bleed_mm * MM, trim[0] - bleed[0]), max(bleed_mm * MM, trim[1] - bleed[1]),
             max(bleed_mm * MM, bleed[2] - trim[2]), max(bleed_mm * MM, bleed[3] - trim[3])]
    start = [value + MARK_GAP_MM * MM for value in reach]
    area = [value + MARK_AREA_MM * MM for value in reach]
    page.obj.MediaBox = Array([trim[0] - area[0], trim[1] - area[1],
                               trim[2] + area[2], trim[3] + area[3]])
    if Name.CropBox in page.obj:
        del page.obj.CropBox  # it would hide the marks; it defaults to the MediaBox
    resources = _resources(page)
    if Name.ColorSpace not in resources:
        resources.ColorSpace = Dictionary()
    resources.ColorSpace[_COLOR] = color

    ops = [([], 'Q'),  # closes the q put before the page's own content
           ([_COLOR], 'CS'), ([_COLOR], 'cs'), ([1], 'SCN'), ([1], 'scn'),
           ([MARK_WIDTH_PT], 'w'), ([0], 'J'), ([[], 0], 'd')]
    ops += _trim_marks(trim, start)
    ops += _slug(trim, reach[1], text, glyphs, resources)
    # Not text of the booklet: an artifact, kept out of the structure tree (after
    # the Q, so that marked content and saved states nest); of type /Page, as
    # ISO 32000 calls printer's marks, which tells them from the layout's
    # drawings (WeasyPrint's artifacts have no properties).
    ops = [ops[0], ([Name.Artifact, Dictionary(Type=Name.Page)], 'BDC'), *ops[1:],
           ([], 'EMC')]
    page.contents_add(prefix, prepend=True)
    page.contents_add(unparse_content_stream(
        [(operands, Operator(op)) for operands, op in ops]) + b'\n')


def _trim_marks(trim, start):
    """The 8 lines continuing each trim edge out from each corner."""
    x0, y0, x1, y1 = trim
    length = MARK_LENGTH_MM * MM
    left, bottom, right, top = start
    lines = [
        (x0 - left, y0, x0 - left - length, y0), (x0, y0 - bottom, x0, y0 - bottom - length),
        (x1 + right, y0, x1 + right + length, y0), (x1, y0 - bottom, x1, y0 - bottom - length),
        (x0 - left, y1, x0 - left - length, y1), (x0, y1 + top, x0, y1 + top + length),
        (x1 + right, y1, x1 + right + length, y1), (x1, y1 + top, x1, y1 + top + length),
    ]
    ops = []
    for xa, ya, xb, yb in lines:
        ops += [(_numbers(xa, ya), 'm'), (_numbers(xb, yb), 'l')]
    return ops + [([], 'S')]


def _slug(trim, bleed_bottom, text, glyphs, resources):
    """Place the glyph forms of ``text`` on a baseline below the bottom bleed."""
    if not text:
        return []
    indent = 3 * MM  # clear of the vertical trim marks at the trim's corners
    room = trim[2] - trim[0] - 2 * indent
    size = SLUG_SIZE_PT
    width = glyphs.width(text) * size
    if width > room:
        size *= room / width
    scale = size / glyphs.units
    x, y = trim[0] + indent, trim[1] - bleed_bottom - SLUG_DROP_MM * MM
    # The scale (about 0.002) stays unrounded: to 1/1000 it would be 6 % off.
    ops = [([], 'q'), ([scale, 0, 0, scale, *_numbers(x, y)], 'cm')]
    pen = 0  # font units advanced since the last glyph drawn
    for char in text:
        form, advance = glyphs.glyph(char)
        if form is not None:
            name, form = form
            if Name.XObject not in resources:
                resources.XObject = Dictionary()
            resources.XObject[name] = form
            if pen:
                ops.append(([1, 0, 0, 1, pen, 0], 'cm'))  # moves on from the last glyph
            ops.append(([name], 'Do'))
            pen = 0
        pen += advance
    return ops + [([], 'Q')]


@lru_cache(maxsize=8)
def _outlines(path, mtime_ns, size):
    """The :class:`_Outlines` of the font at ``path`` as it is now (a worker
    draws the same slug font for every edition it builds)."""
    return _Outlines(path)


class _Outlines:
    """A font's glyph outlines as PDF path operators, each drawn on first use."""

    def __init__(self, path):
        self.path = path
        with TTFont(path, lazy=False) as font:  # read whole, closed at once
            self.units = font['head'].unitsPerEm
            self.cmap = font.getBestCmap()
            glyph_set = font.getGlyphSet()
            self._glyphs = {name: glyph_set[name] for name in set(self.cmap.values())}
            self._set = glyph_set
        self._drawn = {}  # character -> (content bytes or None, bounds, advance)

    def glyph(self, char):
        """``(path operators or None for a blank glyph, bounds, advance)`` of
        ``char``, in font units."""
        if char not in self._drawn:
            name = self.cmap.get(ord(char))
            if name is None:
                raise ValueError(f'{self.path}: no glyph for {char!r} '
                                 f'(U+{ord(char):04X}) in the slug line')
            glyph = self._glyphs[name]
            pen = _PathPen(self._set)
            glyph.draw(pen)
            data = unparse_content_stream(
                [(operands, Operator(op)) for operands, op in pen.ops + [([], 'f')]]
            ) if pen.ops else None
            self._drawn[char] = (data, pen.bounds() if pen.ops else None, glyph.width)
        return self._drawn[char]


class _Glyphs:
    """Outlines of a font's glyphs as Form XObjects, one per glyph, shared by all pages."""

    def __init__(self, pdf, outlines):
        self.pdf = pdf
        self.outlines = outlines
        self.units = outlines.units
        self.forms = {}  # character -> ((resource name, form) or None, advance)

    def width(self, text):
        """The advance width of ``text`` in ems."""
        return sum(self.glyph(char)[1] for char in text) / self.units

    def glyph(self, char):
        """``((resource name, form), advance)`` for ``char``; no form for a blank glyph.

        The advance is in font units. The form is made on first use.
        """
        if char not in self.forms:
            data, bounds, advance = self.outlines.glyph(char)
            form = None
            if data is not None:
                # A form inherits the colour in force where it is drawn, so the
                # outlines fill in registration colour without saying so here.
                form = (Name(f'/{_GLYPH}{len(self.forms) + 1}'), self.pdf.make_stream(
                    data, Type=Name.XObject, Subtype=Name.Form, BBox=bounds,
                    Resources=Dictionary()))
            self.forms[char] = (form, advance)
        return self.forms[char]


class _PathPen(BasePen):
    """A fontTools pen that records PDF path operators, in font units."""

    def __init__(self, glyph_set):
        super().__init__(glyph_set)
        self.ops = []
        self.points = []

    def _add(self, op, *points):
        self.points += points
        self.ops.append(([value for point in points for value in _numbers(*point)], op))

    def _moveTo(self, pt):
        self._add('m', pt)

    def _lineTo(self, pt):
        self._add('l', pt)

    def _curveToOne(self, pt1, pt2, pt3):
        self._add('c', pt1, pt2, pt3)

    # Quadratic (TrueType) curves reach _curveToOne through BasePen's conversion.

    def _closePath(self):
        self.ops.append(([], 'h'))

    def bounds(self):
        """A bounding box of the control points, which contains the outline."""
        xs = [point[0] for point in self.points]
        ys = [point[1] for point in self.points]
        return _numbers(min(xs), min(ys), max(xs), max(ys))


def _resources(page):
    """The page's own /Resources, made so if they were inherited from its parent."""
    if Name.Resources not in page.obj:
        node = page.obj
        while Name.Resources not in node and Name.Parent in node:
            node = node.Parent
        # Adding to a shared parent's dictionary would change every page under
        # it, and an empty one of our own would hide what the page uses.
        page.obj.Resources = Dictionary(node.get(Name.Resources, Dictionary()))
    return page.obj.Resources


def _numbers(*values):
    """Round to 1/1000 of a unit: enough for print, and short. (+ 0.0 turns -0.0 into 0.)"""
    return [round(float(value), 3) + 0.0 for value in values]


def _box(array):
    x0, y0, x1, y1 = (float(value) for value in array)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
