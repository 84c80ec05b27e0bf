"""Check a finished PDF with readers independent of our writer, and say what to fix."""

import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

import pikepdf
from fontTools.ttLib import TTFont

from . import inkbounds, textcheck, uaread
from .cache import by_stat

MM = Decimal('72') / Decimal('25.4')
TOLERANCE_MM = Decimal('0.1')
_SUBSET = re.compile(r'^[A-Z]{6}\+')


@dataclass
class Finding:
    """One check: its name, whether it passed, and a message that says what to fix."""

    check: str
    ok: bool
    message: str
    page: int | None = None


def _squash(name):
    return re.sub(r'[\s_-]', '', name).lower()


def allowed_font_names(layout, root):
    """The family names of the layout's font files, squashed (``notoserif``).

    WeasyPrint names an embedded font after its family and style
    (``ABCDEF+Noto-Serif``, ``ABCDEF+Inter-Semi-Bold``), so a PDF font is ours when
    its squashed name starts with one of these.
    """
    names = set()
    for face in layout.spec['fonts']:
        names |= _family_names(Path(root, 'fonts', face['file']))
    return names


@by_stat
def _family_names(path):
    """The family names a font file gives (name IDs 1 and 16), read once per worker."""
    font = TTFont(path, lazy=True)
    try:
        return frozenset(_squash(record.toUnicode()) for record in font['name'].names
                         if record.nameID in (1, 16))
    finally:
        font.close()


def _size_mm(box):
    x0, y0, x1, y1 = (Decimal(str(value)) for value in box)
    return (x1 - x0) / MM, (y1 - y0) / MM


def _close(a, b):
    return abs(a - b) <= TOLERANCE_MM


def check_boxes(pdf, booklet, output, pages, multiple=1):
    """The page count the layout declares (a multiple of ``multiple``: 4 for a
    saddle-stitched booklet); TrimBox the trim; BleedBox the trim plus bleed."""
    findings = []
    count = len(pdf.pages)
    good = count == pages and count % multiple == 0
    findings.append(Finding('page-count', good, f'{count} pages' + (
        '' if good else f'; the layout makes {pages}'
        + (f', a multiple of {multiple}' if multiple > 1 else ''))))
    width, height = booklet.width_mm, booklet.height_mm
    bleed = booklet.bleed_mm if output == 'print' else Decimal(0)
    for number, page in enumerate(pdf.pages, 1):
        trim = _size_mm(page.obj.get('/TrimBox', page.mediabox))
        bleed_box = _size_mm(page.obj.get('/BleedBox', page.mediabox))
        media = _size_mm(page.mediabox)
        if not (_close(trim[0], width) and _close(trim[1], height)):
            findings.append(Finding('trim-box', False, f'TrimBox is {trim[0]:.1f} × '
                                    f'{trim[1]:.1f} mm, not {width} × {height} mm', number))
        want = (width + 2 * bleed, height + 2 * bleed)
        if not (_close(bleed_box[0], want[0]) and _close(bleed_box[1], want[1])):
            findings.append(Finding('bleed-box', False, f'BleedBox is {bleed_box[0]:.1f} × '
                                    f'{bleed_box[1]:.1f} mm, not {want[0]} × {want[1]} mm '
                                    f'({bleed} mm bleed)', number))
        if media[0] + TOLERANCE_MM < want[0] or media[1] + TOLERANCE_MM < want[1]:
            findings.append(Finding('media-box', False, 'MediaBox is smaller than the '
                                    'BleedBox', number))
    if not any(f.check in ('trim-box', 'bleed-box', 'media-box') for f in findings):
        findings.append(Finding('page-boxes', True, f'TrimBox {width} × {height} mm, '
                                f'bleed {bleed} mm on every page'))
    return findings


def _fonts(resources, depth=0):
    """The fonts of ``resources`` and of the Form XObjects they hold (an imposed
    sheet keeps its pages' fonts inside forms)."""
    fonts = resources.get('/Font', {})
    found = [fonts[key] for key in fonts.keys()]
    xobjects = resources.get('/XObject', {})
    for key in xobjects.keys() if depth < 4 else ():
        xobject = xobjects[key]
        if xobject.get('/Subtype') == '/Form' and '/Resources' in xobject:
            found += _fonts(xobject.Resources, depth + 1)
    return found


def check_fonts(pdf, allowed):
    """Every font embedded, subset and one of the layout's own."""
    problems, seen = [], set()
    for number, page in enumerate(pdf.pages, 1):
        for font in _fonts(page.resources):
            name = str(font.get('/BaseFont', '?'))[1:]
            if name in seen:
                continue
            seen.add(name)
            descriptor = font.get('/FontDescriptor')
            if descriptor is None and '/DescendantFonts' in font:
                descriptor = font.DescendantFonts[0].get('/FontDescriptor')
            embedded = descriptor is not None and any(
                key in descriptor for key in ('/FontFile', '/FontFile2', '/FontFile3'))
            if not embedded:
                problems.append(Finding('fonts', False, f'{name} is not embedded', number))
            if not _SUBSET.match(name):
                problems.append(Finding('fonts', False, f'{name} is not subset', number))
            bare = _SUBSET.sub('', name)
            if not any(_squash(bare).startswith(family) for family in allowed):
                problems.append(Finding('fonts', False, f'{bare} is not one of the '
                                        "layout's fonts (a system fallback?)", number))
    return problems or [Finding('fonts', True, f'{len(seen)} fonts, all embedded, subset '
                                "and the layout's own")]


def check_embedded(pdf):
    """No files ride along: no embedded files, no file attachment annotations."""
    names = pdf.Root.get('/Names', {})
    problems = []
    if '/EmbeddedFiles' in names:
        problems.append(Finding('attachments', False, 'the PDF embeds files'))
    for number, page in enumerate(pdf.pages, 1):
        for annotation in page.obj.get('/Annots', []):
            if annotation.get('/Subtype') == '/FileAttachment':
                problems.append(Finding('attachments', False, 'a file attachment', number))
    return problems or [Finding('attachments', True, 'no embedded files')]


def check_metadata(pdf, lang):
    """``/Lang`` set to the edition's language and a ``/Title``."""
    findings = []
    found = str(pdf.Root.get('/Lang', ''))
    findings.append(Finding('lang', found == lang, f'/Lang is {found!r}' + (
        '' if found == lang else f', not {lang!r}')))
    title = str(pdf.docinfo.get('/Title', ''))
    findings.append(Finding('title', bool(title), f'/Title {title!r}' if title else
                            '/Title is missing'))
    return findings


def check_screen_colour(pdf, parsed=None):
    """For screen: no CMYK colour left in the page content (pages, forms, tiling
    patterns, shadings, transparency groups); pictures aside."""
    problems, seen = [], set()

    def cmyk(space, resources):
        named = resources.get('/ColorSpace', {}).get(str(space)) if resources else None
        return '/DeviceCMYK' in (str(space), str(named))

    def walk(owner, resources):
        group = owner.get('/Group') if isinstance(owner, pikepdf.Stream) else owner.obj.get(
            '/Group')
        if group is not None and group.get('/CS') == '/DeviceCMYK':
            return 'a transparency group blended in CMYK'
        for operands, op in _operations(owner, parsed):
            if op in ('k', 'K') or (op in ('cs', 'CS') and cmyk(operands[0], resources)):
                return f'a CMYK colour ({op})'
        for shading in resources.get('/Shading', {}).values():
            if cmyk(shading.get('/ColorSpace'), resources):
                return 'a CMYK shading'
        for child in [*resources.get('/XObject', {}).values(),
                      *resources.get('/Pattern', {}).values()]:
            if isinstance(child, pikepdf.Stream) and child.get('/Subtype') != '/Image' \
                    and child.objgen not in seen:
                seen.add(child.objgen)
                found = walk(child, child.get('/Resources', {}))
                if found:
                    return found
        return None

    for number, page in enumerate(pdf.pages, 1):
        found = walk(page, page.resources)
        if found:
            problems.append(Finding('colour', False, f'{found} left in the screen PDF: '
                                    'the builder could not make it RGB; use the '
                                    "layout's declared colours", number))
    return problems or [Finding('colour', True, 'no CMYK colour in page content')]


def check_rgb(pdf, parsed=None):
    """For print: no DeviceRGB colour space and no RGB colour operators anywhere."""
    problems = []
    for number, page in enumerate(pdf.pages, 1):
        spaces = page.resources.get('/ColorSpace', {})
        if any('/DeviceRGB' in str(spaces[key]) for key in spaces.keys()):
            problems.append(Finding('colour', False, 'a DeviceRGB colour space', number))
        for operands, op in _operations(page, parsed):
            if op in ('rg', 'RG') or (op in ('cs', 'CS') and str(operands[0]) == '/DeviceRGB'):
                problems.append(Finding('colour', False, f'RGB colour ({op}) in print: '
                                        'declare every colour as CMYK', number))
                break
    return problems or [Finding('colour', True, 'no RGB colour in page content')]


#: Text smaller than this must print from one plate (K only, or no ink at all):
#: a hair of misregistration makes small type in several inks blur.
SMALL_TEXT_PT = 12
#: The most ink (C + M + Y + K, percent) offset on coated paper can carry.
MAX_INK = 300
#: The least effective resolution of a picture in print, in pixels per inch.
MIN_PPI = 300


def _multiply(m, n):
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def _scale(m):
    return abs(m[0] * m[3] - m[1] * m[2]) ** 0.5


#: Operators that fill or stroke the current path, and those that show text.
_FILLS = {'f', 'F', 'f*', 'B', 'B*', 'b', 'b*'}
_STROKES = {'S', 's', 'B', 'B*', 'b', 'b*'}
_SHOWS = {'Tj', 'TJ', "'", '"'}
#: Blend modes in which what is painted covers the backdrop or mixes with it.
_NORMAL = {'/Normal', '/Compatible'}
#: The colour a space starts with when ``cs`` or ``CS`` selects it.
_INITIAL = {'/DeviceGray': (0.0,), '/DeviceCMYK': (0.0, 0.0, 0.0, 1.0)}


@dataclass
class PageReading:
    """What a page draws, from :func:`read_page`."""

    marks: list
    ink: float  # the most total ink (percent) of any colour the page paints
    unreadable: str | None = None  # why ``ink`` is no bound of the page's ink


def _family(space):
    return str(space[0]) if isinstance(space, pikepdf.Array) else str(space)


def _is_cmyk(space):
    """DeviceCMYK, or an ICC profile of four components (taken as CMYK)."""
    family = _family(space)
    return family == '/DeviceCMYK' or (family == '/ICCBased' and space[1].get('/N') == 4)


def _total_ink(space, values):
    """C+M+Y+K of a colour in percent, None unless it is CMYK or grey. Registration
    colour (``/Separation /All``) is 0: it marks the trim outside the bleed."""
    family = _family(space)
    if _is_cmyk(space) and len(values) == 4:
        return 100 * sum(min(max(value, 0.0), 1.0) for value in values)
    if family == '/DeviceGray' and len(values) == 1:
        return 100 * (1 - min(max(values[0], 0.0), 1.0))
    if family == '/Separation' and str(space[1]) == '/All':
        return 0.0
    return None


def _operations(owner, parsed):
    """The ``(operands, operator name)`` of a page's or a form's content, parsed
    once per document (``parsed``, by object id) however often it is read: a
    slug line draws each glyph's form on every page, and two checks read pages."""
    key = (owner.objgen if isinstance(owner, pikepdf.Stream)
           else owner.obj.objgen if isinstance(owner, pikepdf.Page) else None)
    if parsed is not None and key in parsed:
        return parsed[key]
    operations = [(operands, str(operator))
                  for operands, operator in pikepdf.parse_content_stream(owner)]
    if parsed is not None and key is not None and key != (0, 0):
        parsed[key] = operations
    return operations


def read_page(page, parsed=None):
    """What ``page`` draws, Form XObjects included: its marks, ``('text', size_pt,
    fill)`` for each run of text (fill as ``(colour space, components)``) and
    ``('image', name, ppi_x, ppi_y, components)`` for each picture; and the most
    total ink of any colour it fills or strokes.

    Painted opaque or with constant alpha, soft mask or anti-aliasing, in the Normal
    blend mode without overprint, a spot ends up with the colour painted last or a mix
    of it with what lay below; so the most ink of any colour painted bounds the
    page's total ink, and is that ink where the colour lies solid. Images, shadings,
    other blend modes, overprint, transfer functions, Type 3 glyphs, annotations,
    groups blended in other colour spaces and colours other than CMYK and grey break
    the bound: ``unreadable`` then says which. ``parsed``, a dict shared by the
    pages of a document, keeps the forms they draw parsed.
    """
    marks, ink, unreadable = [], 0.0, []

    def paint(colour):
        nonlocal ink
        total = _total_ink(*colour)
        if total is None:
            unreadable.append(f'colour space {_family(colour[0])}')
        else:
            ink = max(ink, total)

    def walk(stream_owner, resources, state):
        state, stack, text_matrix = dict(state), [], None
        spaces = resources.get('/ColorSpace', {})
        for operands, op in _operations(stream_owner, parsed):
            if op == 'q':
                stack.append(dict(state))
            elif op == 'Q' and stack:
                state = stack.pop()
            elif op == 'cm':
                state['ctm'] = _multiply(tuple(float(x) for x in operands), state['ctm'])
            elif op in ('cs', 'CS'):
                name = str(operands[0])
                space = spaces.get(name, name)
                state['fill' if op == 'cs' else 'stroke'] = (
                    space, _INITIAL.get(_family(space), (1.0,)))
            elif op in ('sc', 'scn', 'SC', 'SCN'):
                key = 'fill' if op.islower() else 'stroke'
                state[key] = (state[key][0], tuple(float(x) for x in operands
                                                   if not isinstance(x, pikepdf.Name)))
            elif op in ('k', 'K', 'g', 'G', 'rg', 'RG'):
                space = {'k': '/DeviceCMYK', 'g': '/DeviceGray', 'rg': '/DeviceRGB'}[op.lower()]
                state['fill' if op.islower() else 'stroke'] = (
                    space, tuple(float(x) for x in operands))
            elif op == 'gs':
                _check_state(resources.get('/ExtGState', {}).get(str(operands[0]), {}),
                             unreadable)
            elif op == 'Tf':
                state['size'] = float(operands[1])
                font = resources.get('/Font', {}).get(str(operands[0]), {})
                if font.get('/Subtype') == '/Type3':
                    unreadable.append('a Type 3 font')
            elif op == 'Tr':
                state['mode'] = int(operands[0])
            elif op == 'Tm':
                text_matrix = tuple(float(x) for x in operands)
            elif op in _SHOWS:
                matrix = _multiply(text_matrix or (1, 0, 0, 1, 0, 0), state['ctm'])
                marks.append(('text', state['size'] * _scale(matrix),
                              (_family(state['fill'][0]), state['fill'][1])))
                if state['mode'] in (0, 2, 4, 6):
                    paint(state['fill'])
                if state['mode'] in (1, 2, 5, 6):
                    paint(state['stroke'])
            elif op in _FILLS or op in _STROKES:
                if op in _FILLS:
                    paint(state['fill'])
                if op in _STROKES:
                    paint(state['stroke'])
            elif op == 'sh':
                unreadable.append('a shading')
            elif op == 'INLINE IMAGE':
                unreadable.append('an image')
            elif op == 'Do':
                xobject = resources.get('/XObject', {}).get(str(operands[0]))
                if xobject is None:
                    continue
                ctm = state['ctm']
                if xobject.get('/Subtype') == '/Image':
                    unreadable.append('an image')
                    width_in = (ctm[0] ** 2 + ctm[1] ** 2) ** 0.5 / 72
                    height_in = (ctm[2] ** 2 + ctm[3] ** 2) ** 0.5 / 72
                    marks.append(('image', str(operands[0]),
                                  int(xobject.Width) / max(width_in, 1e-9),
                                  int(xobject.Height) / max(height_in, 1e-9),
                                  _components(xobject.get('/ColorSpace'))))
                elif xobject.get('/Subtype') == '/Form':
                    _check_group(xobject, unreadable)
                    form_matrix = tuple(float(x) for x in xobject.get('/Matrix', [1, 0, 0, 1, 0, 0]))
                    walk(xobject, xobject.get('/Resources', resources),
                         dict(state, ctm=_multiply(form_matrix, ctm)))

    _check_group(page.obj, unreadable)
    if any('/AP' in annotation for annotation in page.obj.get('/Annots', [])):
        unreadable.append('an annotation')
    black = ('/DeviceGray', (0.0,))
    walk(page, page.resources, {'ctm': (1, 0, 0, 1, 0, 0), 'fill': black, 'stroke': black,
                                'size': 0.0, 'mode': 0})
    return PageReading(marks, ink, unreadable[0] if unreadable else None)


def _check_state(state, unreadable):
    """Note what in an ExtGState breaks the ink bound of :func:`read_page`."""
    blend = state.get('/BM', '/Normal')
    for mode in blend if isinstance(blend, pikepdf.Array) else [blend]:
        if str(mode) not in _NORMAL:
            unreadable.append(f'blend mode {mode}')
    if state.get('/OP', False) or state.get('/op', False):
        unreadable.append('overprint')
    if '/TR' in state or str(state.get('/TR2', '/Default')) != '/Default':
        unreadable.append('a transfer function')


def _check_group(xobject, unreadable):
    """Note a transparency group that blends in another colour space than CMYK."""
    space = xobject.get('/Group', {}).get('/CS')
    if space is not None and not _is_cmyk(space):
        unreadable.append(f'a transparency group in {_family(space)}')


def _components(space):
    """How many colour components an image's colour space has (3 for any RGB)."""
    if space is None:
        return 0
    if isinstance(space, pikepdf.Array):
        kind = str(space[0])
        if kind == '/ICCBased':
            return int(space[1].get('/N', 0))
        if kind == '/Indexed':
            return _components(space[1])
        return {'/CalRGB': 3, '/Lab': 3, '/DeviceN': len(space[1])}.get(kind, 1)
    return {'/DeviceRGB': 3, '/DeviceCMYK': 4, '/DeviceGray': 1}.get(str(space), 1)


def _inks(fill):
    space, values = fill
    if space == '/DeviceGray':
        return ['K'] if values and values[0] < 1 else []
    if space == '/DeviceCMYK':
        return [ink for ink, value in zip('CMYK', values) if value > 0]
    return [space.lstrip('/')]


def check_marks(readings):
    """Small text on one plate only; pictures at print resolution (``readings`` of
    :func:`read_page`, one a page)."""
    problems = []
    for number, reading in enumerate(readings, 1):
        for mark in reading.marks:
            if mark[0] == 'text':
                _, size, fill = mark
                inks = _inks(fill)
                if size < SMALL_TEXT_PT - 0.01 and inks and inks != ['K']:
                    problems.append(Finding(
                        'small-text', False, f'{size:.1f} pt text printed in '
                        f'{"+".join(inks)}: type under {SMALL_TEXT_PT} pt must be 100% K '
                        '(or white); set it in black or make it larger', number))
            else:
                _, name, ppi_x, ppi_y, components = mark
                if min(ppi_x, ppi_y) < MIN_PPI:
                    problems.append(Finding(
                        'image-resolution', False, f'picture {name} is '
                        f'{min(ppi_x, ppi_y):.0f} ppi where it is placed; print needs '
                        f'{MIN_PPI} ppi: use a larger image or place it smaller', number))
                if components == 3:
                    problems.append(Finding(
                        'colour', False, f'picture {name} is RGB: convert it to CMYK '
                        'with the output profile (FOGRA39) before placing it', number))
    unique = {(f.check, f.page, f.message): f for f in problems}
    return list(unique.values()) or [Finding(
        'small-text', True, f'text under {SMALL_TEXT_PT} pt is 100% K or white; '
        f'no picture under {MIN_PPI} ppi')]


def check_ink(path, readings, dpi=50):
    """Total ink (C+M+Y+K) per spot at most MAX_INK: the most of any colour a page paints
    (see :func:`read_page`), or, where that is no bound, as Ghostscript separates the page."""
    unread = [number for number, reading in enumerate(readings, 1) if reading.unreadable]
    separated = dict(zip(unread, _separate(path, unread, dpi))) if unread else {}
    problems, highest = [], 0.0
    for number, reading in enumerate(readings, 1):
        if reading.unreadable:
            total, how = separated[number], ('as Ghostscript separates the page '
                                             f'({reading.unreadable})')
        else:
            total, how = reading.ink, 'in a colour the page paints'
        highest = max(highest, total)
        if total > MAX_INK + 0.5:
            problems.append(Finding('ink', False, f'{total:.0f}% total ink {how}; coated '
                                    f'offset takes at most {MAX_INK}%: lighten the colour '
                                    'or take C, M, Y out of its black', number))
    how = "read from the pages' colours"
    if unread:
        pages = ', '.join(f'page {number} ({readings[number - 1].unreadable})'
                          for number in unread)
        how = (how + ' and ' if len(unread) < len(readings) else '') + (
            f'as Ghostscript separates {pages}')
    return problems or [Finding('ink', True, f'at most {highest:.0f}% total ink '
                                f'(limit {MAX_INK}%), {how}')]


def _separate(path, pages, dpi):
    """The most total ink (percent) of any pixel of each of ``pages`` (numbers from 1),
    as Ghostscript separates them within the TrimBox."""
    import subprocess
    import tempfile

    from PIL import Image, ImageMath

    with tempfile.TemporaryDirectory() as temp:
        subprocess.run(
            ['gs', '-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=tiff32nc',
             f'-r{dpi}', '-dUseTrimBox', f'-sPageList={",".join(map(str, pages))}',
             f'-sOutputFile={temp}/page-%03d.tif', str(path)],
            check=True, capture_output=True)
        peaks = []
        for tiff in sorted(Path(temp).glob('page-*.tif')):
            with Image.open(tiff) as image:
                c, m, y, k = (band.convert('I') for band in image.split())
                peak = ImageMath.lambda_eval(lambda a: a['c'] + a['m'] + a['y'] + a['k'],
                                             c=c, m=m, y=y, k=k).getextrema()[1]
            peaks.append(peak / 255 * 100)
    return peaks


def check_text(extraction, blocks):
    """Every block of source text can be copied out of the PDF (as ``extraction``,
    a :class:`textcheck.Pdftotext` or :class:`textcheck.Pdfium`, reads it)."""
    found = textcheck.words(extraction.text())
    problems = []
    for label, text in blocks:
        block = textcheck.words(text)
        if textcheck.find_block(found, block) < 0:
            word, index = textcheck.missing_word(found, block)
            problems.append(Finding('text', False, f'{label}: word {index + 1} '
                                    f'({word!r}) is not in the text {extraction.name} '
                                    'copies from the PDF'))
    return problems or [Finding('text', True, f'all {len(blocks)} blocks of source text '
                                f'extract from the PDF ({extraction.name})')]


def check_ink_bounds(path, blocks, layout_name, bleed=False):
    """Every glyph paints inside its page's TrimBox, and no text paints over
    another (one of them a block of ``blocks``): read from each glyph's tight
    box, as PDFium finds it in the PDF at ``path`` (see :mod:`inkbounds`).
    With ``bleed`` (print), no drawing paints past the BleedBox either. One
    finding per text (or kind of drawing) and page."""
    # In print, the baselines are read along for word_spaces (hyphenation_report).
    strays, count = inkbounds.read(path, blocks, graphics=bleed, baselines=bleed)
    grouped = {}  # (page, text) -> its strays
    problems = []
    for stray in strays:
        if stray.drawing:
            many = f'{stray.count} of them, the farthest ' if stray.count > 1 else ''
            problems.append(Finding('ink-bounds', False, f'{stray.owner} paints '
                                    f'{stray.reach_mm:.1f} mm {stray.side} the bleed '
                                    f'({many}at {stray.where} from the trim\'s top left): '
                                    f'layouts/{layout_name} puts it there; let it stop at '
                                    'the edge of the bleed', stray.page))
        else:
            grouped.setdefault((stray.page, stray.owner), []).append(stray)
    for (page, owner), found in grouped.items():
        places = [f'{stray.reach_mm:.1f} mm {stray.side} the trim' for stray in found
                  if stray.over is None]
        places += [f'over {stray.over}' for stray in found if stray.over is not None]
        glyphs = sum(stray.count for stray in found)
        marks = sum(stray.marks for stray in found)
        what = f'{glyphs} glyph{"s" if glyphs > 1 else ""}'
        if marks:
            what += (', all' if marks == glyphs else f', {marks} of them') + (
                ' combining marks stacked on a letter: write the text without the pile '
                'of accents')
        elif found[0].content:
            what += (': the text draws outside its line (an unusual character?) or '
                     f'layouts/{layout_name} puts it there; give it room on the page')
        elif places[0].startswith('over'):
            what += f': layouts/{layout_name} puts it there; give each text room'
        else:
            what += f': layouts/{layout_name} puts it there; move it inside the page'
        problems.append(Finding('ink-bounds', False, f'{owner} paints '
                                f'{_and(places)} ({what})', page))
    return problems or [Finding('ink-bounds', True, f'all {count} glyphs paint inside '
                                'the trim, no text over another' + (
                                    ', no drawing past the bleed' if bleed else ''))]


def _and(items):
    return items[0] if len(items) == 1 else ', '.join(items[:-1]) + ' and ' + items[-1]


def check_pdfx(pdf):
    """PDF/X-4: a CMYK output intent with its profile, the XMP version key, /Trapped."""
    problems = []
    intents = [intent for intent in pdf.Root.get('/OutputIntents', [])
               if intent.get('/S') == '/GTS_PDFX']
    if len(intents) != 1:
        problems.append(Finding('pdfx', False, f'{len(intents)} PDF/X output intents; '
                                'PDF/X-4 needs exactly one'))
    else:
        profile = intents[0].get('/DestOutputProfile')
        if profile is None or int(profile.get('/N', 0)) != 4:
            problems.append(Finding('pdfx', False, 'the output intent has no CMYK profile'))
        if not str(intents[0].get('/OutputConditionIdentifier', '')):
            problems.append(Finding('pdfx', False, 'the output intent names no condition'))
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
        version = xmp.get('pdfxid:GTS_PDFXVersion')
    if version != 'PDF/X-4':
        problems.append(Finding('pdfx', False, f'XMP GTS_PDFXVersion is {version!r}, '
                                "not 'PDF/X-4'"))
    if str(pdf.docinfo.get('/Trapped', '')) not in ('/True', '/False'):
        problems.append(Finding('pdfx', False, '/Trapped is not set'))
    for number, page in enumerate(pdf.pages, 1):
        media, bleed = _size_mm(page.mediabox), _size_mm(page.obj.get('/BleedBox', page.mediabox))
        if media[0] <= bleed[0] or media[1] <= bleed[1]:
            problems.append(Finding('marks', False, 'no room for trim marks outside the '
                                    'BleedBox', number))
            break
    return problems or [Finding('pdfx', True, f'PDF/X-4, output intent '
                                f'{intents[0].get("/OutputConditionIdentifier")}, trim marks '
                                'outside the bleed')]


# PDF/UA-1, as far as it can be read without veraPDF (ISO 14289-1; a check that
# follows a clause veraPDF's PDFUA-1 profile tests says which).

_HEADING = re.compile(r'^H([1-6])$')


def check_pdfua(pdf, lang, blocks=(), parsed=None):
    """For screen: PDF/UA-1 as far as it can be read without veraPDF. Identification
    (XMP ``pdfuaid:part`` 1, ``dc:title``, ``dc:language``, in step with Info) and the
    catalogue's keys; every piece of content in the structure tree or an artifact;
    standard structure types; headings in order; pictures with alternative text;
    links described; every glyph with Unicode; and the tree's reading order
    holding each block of ``blocks`` (label, text) whole and in order."""
    findings = _check_identification(pdf, lang)
    tree = uaread.StructureTree(pdf)
    if tree.root is None:
        return findings + [Finding('tags', False, 'the PDF has no structure tree: it '
                                   'must be written tagged (pdf_tags)')]
    parsed = {} if parsed is None else parsed
    reading = uaread.ContentReading(pdf, tree, lambda owner: _operations(owner, parsed))
    findings += _check_content(tree, reading)
    findings += _check_elements(pdf, tree, reading)
    findings += _check_unicode(reading)
    findings += _check_reading_order(tree, reading, blocks)
    return findings


def _check_identification(pdf, lang):
    problems = []

    def problem(message, page=None):
        problems.append(Finding('pdfua', False, message, page))

    if not str(pdf.pdf_version).startswith('1.'):
        problem(f'PDF {pdf.pdf_version}: PDF/UA-1 is written as PDF 1.x')
    metadata = pdf.Root.get('/Metadata')
    if not isinstance(metadata, pikepdf.Stream) or metadata.get('/Subtype') != '/XML':
        problem('no XMP metadata stream in the catalogue')
    else:
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
            part = xmp.get('pdfuaid:part')
            title = xmp.get('dc:title')
            languages = xmp.get('dc:language') or []
            twins = {'/Subject': xmp.get('dc:description'),
                     '/Creator': xmp.get('xmp:CreatorTool'),
                     '/Producer': xmp.get('pdf:Producer'),
                     '/Keywords': xmp.get('pdf:Keywords')}
        info_title = str(pdf.docinfo.get('/Title', ''))
        if str(part) != '1':
            problem(f'XMP pdfuaid:part is {part!r}, not 1: the file does not declare '
                    'PDF/UA-1')
        if not title:
            problem('XMP has no dc:title')
        elif str(title) != info_title:
            problem(f'XMP dc:title {str(title)!r} is not the /Title {info_title!r}')
        if lang not in [str(value) for value in languages]:
            problem(f'XMP dc:language is {list(languages)!r}, not [{lang!r}]')
        for key, value in twins.items():
            if key in pdf.docinfo and value is not None and str(value) != str(
                    pdf.docinfo[key]):
                problem(f'XMP says {str(value)!r} where Info {key} says '
                        f'{str(pdf.docinfo[key])!r}')
    if pdf.Root.get('/MarkInfo', {}).get('/Marked') is not True:
        problem('/MarkInfo /Marked is not true')
    if pdf.Root.get('/MarkInfo', {}).get('/Suspects') is True:
        problem('/MarkInfo /Suspects is true')
    if pdf.Root.get('/ViewerPreferences', {}).get('/DisplayDocTitle') is not True:
        problem('/ViewerPreferences /DisplayDocTitle is not true: a reader shows the '
                'file name instead of the title')
    for number, page in enumerate(pdf.pages, 1):
        if page.obj.get('/Tabs') != '/S':
            problem('no /Tabs /S: the tab order does not follow the structure', number)
    return problems or [Finding('pdfua', True, 'declares PDF/UA-1 (XMP pdfuaid:part 1, '
                                'dc:title and dc:language as in Info); marked, shows its '
                                'title, tab order by structure')]


def _check_content(tree, reading):
    problems = []
    for number, counts in sorted(reading.untagged.items()):
        if not counts:
            continue
        what = ', '.join(f'{count} {kind}{"s" if count > 1 else ""}'
                         for kind, count in sorted(counts.items()))
        problems.append(Finding('tags', False, f'{what} drawn outside the structure tree '
                                'and not marked as an artifact: a screen reader skips or '
                                'misplaces it', number))
    for number, count in sorted(reading.orphans.items()):
        problems.append(Finding('tags', False, f'{count} marked run(s) of content that no '
                                'element of the structure tree holds (running heads and '
                                'folios must be artifacts)', number))
    for number, count in sorted(reading.parentless.items()):
        problems.append(Finding('tags', False, f'{count} marked run(s) of content the '
                                'ParentTree does not lead back to their element', number))
    for number, what in sorted(reading.nesting.items()):
        problems.append(Finding('tags', False, f'{what}: marked content must not nest so',
                                number))
    for number, message in tree.problems:
        problems.append(Finding('tags', False, message, number))
    return problems or [Finding('tags', True, f'{len(tree.order)} runs of content in the '
                                'structure tree, everything else an artifact; standard '
                                'structure types')]


def _element_text(element, reading, tree, limit=40):
    """The first characters of what ``element`` and the elements below it show."""
    start = tree.elements.index(element)
    text = []
    for other in tree.elements[start:]:
        if other is not element and not _below(other.node, element.node):
            break
        text += [reading.item_text(item) for item in other.items]
    text = ' '.join(' '.join(text).split())
    return text if len(text) <= limit else text[:limit - 1] + '…'


def _below(node, ancestor):
    for _ in range(64):
        node = node.get('/P')
        if not isinstance(node, pikepdf.Dictionary):
            return False
        if node.objgen == ancestor.objgen:
            return True
    return False


def _check_elements(pdf, tree, reading):
    """Headings in order (7.4.2, 7.4.4), pictures and formulas described (7.3,
    7.7), annotations described (7.18)."""
    problems = []
    headings = [element for element in tree.elements if element.kind == 'H'
                or _HEADING.match(element.kind)]
    numbered = [element for element in headings if element.kind != 'H']
    if numbered and len(numbered) != len(headings):
        problems.append(Finding('headings', False, 'both H and H1–H6 headings: use the '
                                'numbered ones only', numbered[0].page))
    level = 0
    for element in numbered:
        found = int(element.kind[1])
        if found > level + 1:
            text = _element_text(element, reading, tree)
            want = 'H1 first' if level == 0 else f'after H{level}, at most H{level + 1}'
            problems.append(Finding('headings', False, f'heading {element.kind} {text!r} '
                                    f'skips a level ({want}): make it an <h{level + 1}> '
                                    '(CSS can make any level look as it should)',
                                    element.page))
        level = found
    if not problems:
        problems.append(Finding('headings', True, 'headings in order: ' + (' '.join(
            element.kind for element in numbered) or 'none')))
    described = 0
    for element in tree.elements:
        if element.kind in ('Figure', 'Formula'):
            alt = str(element.node.get('/Alt', '')).strip()
            if not alt and '/ActualText' not in element.node:
                what = 'picture' if element.kind == 'Figure' else 'formula'
                problems.append(Finding('alt-text', False, f'a {what} ({element.kind}) '
                                        'has no alternative text: give the <img> an alt '
                                        'attribute that says what it shows (or an SVG a '
                                        '<title>)', element.page))
            else:
                described += 1
    for number, page in enumerate(pdf.pages, 1):
        for annotation in page.obj.get('/Annots', []):
            hidden = int(annotation.get('/F', 0)) & 2
            kind = str(annotation.get('/Subtype', '')).lstrip('/')
            if hidden or kind in ('Widget', 'Popup', 'PrinterMark'):
                continue
            if not str(annotation.get('/Contents', '')).strip():
                problems.append(Finding('alt-text', False, f'a {kind} annotation has no '
                                        '/Contents describing it', number))
            else:
                described += 1
    if not any(f.check == 'alt-text' for f in problems):
        problems.append(Finding('alt-text', True, f'{described} pictures and links, all '
                                'described' if described else 'no pictures or links'))
    return problems


def _check_unicode(reading):
    problems = []
    for (number, font), codes in sorted(reading.missing.items()):
        if codes:
            shown = ', '.join(f'0x{code:04X}' for code in sorted(codes)[:5])
            problems.append(Finding('unicode', False, f'{font}: {len(codes)} glyph(s) map '
                                    f'to no Unicode text (codes {shown}): a screen reader '
                                    'cannot read them and copying loses them', number))
    fonts = {font for _, font in reading.missing}
    return problems or [Finding('unicode', True, f'every glyph shown in {len(fonts)} fonts '
                                'maps to Unicode text')]


def _check_reading_order(tree, reading, blocks):
    """Each block of source text whole and in order in the tree's reading order:
    what a screen reader reads (no other word may come between two of its words)."""
    text = '\n'.join(reading.item_text(item) for item in tree.order)
    found = textcheck.words(text)
    problems = []
    for label, block in blocks:
        wanted = textcheck.words(block)
        if textcheck.find_block(found, wanted, max_gap=0) >= 0:
            continue
        size = 1
        while textcheck.find_block(found, wanted[:size], max_gap=0) >= 0:
            size += 1  # the longest start of the block that reads whole
        at = textcheck.find_block(found, wanted[:size - 1], max_gap=0) if size > 1 else -1
        problems.append(Finding('reading-order', False, f'{label}: word {size} '
                                f'({wanted[size - 1]!r}) is not where the structure tree '
                                'reads it: a screen reader reads the page in another '
                                'order; write the HTML in reading order',
                                _page_of_word(tree, reading, at - 1) if at > 0 else None))
    return problems or [Finding('reading-order', True, f'all {len(blocks)} blocks of '
                                'source text read whole and in order from the structure '
                                'tree')]


def _page_of_word(tree, reading, index):
    """The page of word ``index`` of the tree's text (near it, where a word is
    hyphenated from one page to the next)."""
    count = 0
    for item in tree.order:
        count += len(textcheck.words(reading.item_text(item)))
        if count > index:
            return tree.owners[item].page
    return None


def preflight_imposed(path, pages, layout, root, sheet_mm):
    """The imposed proof: half as many sheet sides as pages, each of ``sheet_mm``
    (width, height in mm), our fonts."""
    sheet = tuple(Decimal(str(value)) for value in sheet_mm)
    size = f'{sheet[0].normalize():f} × {sheet[1].normalize():f} mm'
    with pikepdf.open(path) as pdf:
        findings = []
        sides = len(pdf.pages)
        findings.append(Finding('sheets', sides * 2 == pages, f'{sides} sheet sides of {size} '
                                f'for {pages} pages' + ('' if sides * 2 == pages else
                                                        f'; expected {pages // 2}')))
        for number, page in enumerate(pdf.pages, 1):
            width, height = _size_mm(page.mediabox)
            if not (_close(width, sheet[0]) and _close(height, sheet[1])):
                findings.append(Finding('sheet-size', False, f'sheet is {width:.1f} × '
                                        f'{height:.1f} mm, not {size}', number))
        findings += check_fonts(pdf, allowed_font_names(layout, root))
    return findings


def preflight(path, output, booklet, layout, root, lang, blocks):
    """All checks for one PDF output; a list of :class:`Finding`."""
    # Two readers, neither ours: poppler reads the screen PDF (in the background,
    # while pikepdf does the rest), PDFium the print PDF.
    reader = textcheck.Pdftotext if output == 'screen' else textcheck.Pdfium
    with reader(path) as extraction, pikepdf.open(path) as pdf:
        findings = check_boxes(pdf, booklet, output, layout.spec['pages'],
                               layout.spec['page_multiple'])
        findings += check_fonts(pdf, allowed_font_names(layout, root))
        findings += check_metadata(pdf, lang)
        findings += check_embedded(pdf)
        if output == 'screen':
            parsed = {}
            findings += check_screen_colour(pdf, parsed)
            findings += check_pdfua(pdf, lang, blocks, parsed)
        if output == 'print':
            findings += check_pdfx(pdf)
            parsed = {}
            findings += check_rgb(pdf, parsed)
            readings = [read_page(page, parsed) for page in pdf.pages]
            findings += check_marks(readings)
            findings += check_ink(path, readings)
        findings += check_text(extraction, blocks)
        findings += check_ink_bounds(path, blocks, layout.name, bleed=output == 'print')
    return findings


#: The widest word space a justified line should have (the project's measure, pt).
WORD_SPACE_LIMIT = 9.0


def word_spaces(path):
    """The spaces (pt) between words on the justified lines of the PDF at
    ``path``, read from PDFium's character boxes (as benchmarks/wordgaps.py):
    per page and font size, a line of over 12 characters that ends where two
    others of them end is justified (a paragraph's last line stops short).
    The glyphs are those the ink check read (:func:`inkbounds.read_pages`)."""
    pages, _, baselines = inkbounds.read_pages(path, baselines=True)
    gaps = []
    for (_, chars), places in zip(pages, baselines):
        lines = {}
        for (code, box), place in zip(chars, places):
            if box is None or not 0 < code < 0x110000 or not chr(code).strip():
                continue
            size, y = place
            lines.setdefault((round(size, 1), round(y, 1)), []).append((box[0], box[2]))
        rows = [sorted(chars) for chars in lines.values() if len(chars) > 12]
        ends = [round(chars[-1][1]) for chars in rows]
        justified = [chars for chars in rows
                     if ends.count(round(chars[-1][1])) >= 3]
        for chars in justified:
            gaps += [b[0] - a[1] for a, b in zip(chars, chars[1:]) if b[0] - a[1] > 1.2]
    return gaps


def hyphenation_report(path, lang):
    """What the preflight report says of ``lang``'s hyphenation, and a warning
    (or None) when justified text of the PDF at ``path`` has none."""
    from . import hyphenation

    info = hyphenation.describe(lang)
    gaps = sorted(word_spaces(path))
    if gaps:
        info.update(word_space_p99_pt=round(gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))], 1),
                    word_space_max_pt=round(gaps[-1], 1))
    warning = None
    if info['source'] == 'none' and gaps:
        warning = (f"{lang} has no hyphenation dictionary (neither the project's nor "
                   f"pyphen's): its justified text is not hyphenated; word spaces up to "
                   f"{info['word_space_max_pt']} pt (99th percentile "
                   f"{info['word_space_p99_pt']} pt, aim at {WORD_SPACE_LIMIT:g})")
        info['warning'] = warning
    return info, warning


def report(findings_by_output):
    """The JSON-ready preflight report of an edition."""
    return {
        'ok': all(f.ok for findings in findings_by_output.values() for f in findings),
        'outputs': {name: [asdict(f) for f in findings]
                    for name, findings in findings_by_output.items()},
    }
