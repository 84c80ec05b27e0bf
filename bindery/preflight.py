"""Check a finished PDF with readers independent of our writer, and say what to fix."""

import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

import pikepdf
from fontTools.ttLib import TTFont

from . import textcheck

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
        font = TTFont(Path(root, 'fonts', face['file']), lazy=True)
        for record in font['name'].names:
            if record.nameID in (1, 16):
                names.add(_squash(record.toUnicode()))
        font.close()
    return names


def _size_mm(box):
    x0, y0, x1, y1 = (Decimal(str(value)) for value in box)
    return (x1 - x0) / MM, (y1 - y0) / MM


def _close(a, b):
    return abs(a - b) <= TOLERANCE_MM


def check_boxes(pdf, booklet, output):
    """Page count a multiple of 4; TrimBox the trim; BleedBox the trim plus bleed."""
    findings = []
    count = len(pdf.pages)
    findings.append(Finding('page-count', count % 4 == 0,
                            f'{count} pages' + ('' if count % 4 == 0 else
                                                '; saddle stitching needs a multiple of 4')))
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


def check_fonts(pdf, allowed):
    """Every font embedded, subset and one of the layout's own."""
    problems, seen = [], set()
    for number, page in enumerate(pdf.pages, 1):
        fonts = page.resources.get('/Font', {})
        for key in fonts.keys():
            font = fonts[key]
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


def check_rgb(pdf):
    """For print: no DeviceRGB colour space and no RGB colour operators anywhere."""
    problems = []
    for number, page in enumerate(pdf.pages, 1):
        spaces = page.resources.get('/ColorSpace', {})
        if any('/DeviceRGB' in str(spaces[key]) for key in spaces.keys()):
            problems.append(Finding('colour', False, 'a DeviceRGB colour space', number))
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op in ('rg', 'RG') or (op in ('cs', 'CS') and str(operands[0]) == '/DeviceRGB'):
                problems.append(Finding('colour', False, f'RGB colour ({op}) in print: '
                                        'declare every colour as CMYK', number))
                break
    return problems or [Finding('colour', True, 'no RGB colour in page content')]


def check_text(path, blocks):
    """Every block of source text can be copied out of the PDF (poppler's reading)."""
    found = textcheck.words(textcheck.pdftotext(path))
    problems = []
    for label, text in blocks:
        block = textcheck.words(text)
        if textcheck.find_block(found, block) < 0:
            word, index = textcheck.missing_word(found, block)
            problems.append(Finding('text', False, f'{label}: word {index + 1} '
                                    f'({word!r}) is not in the text copied from the PDF'))
    return problems or [Finding('text', True, f'all {len(blocks)} blocks of source text '
                                'extract from the PDF')]


def preflight(path, output, booklet, layout, root, lang, blocks):
    """All checks for one PDF output; a list of :class:`Finding`."""
    with pikepdf.open(path) as pdf:
        findings = check_boxes(pdf, booklet, output)
        findings += check_fonts(pdf, allowed_font_names(layout, root))
        findings += check_metadata(pdf, lang)
        if output == 'print':
            findings += check_rgb(pdf)
    findings += check_text(path, blocks)
    return findings


def report(findings_by_output):
    """The JSON-ready preflight report of an edition."""
    return {
        'ok': all(f.ok for findings in findings_by_output.values() for f in findings),
        'outputs': {name: [asdict(f) for f in findings]
                    for name, findings in findings_by_output.items()},
    }
