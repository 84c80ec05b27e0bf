"""The imposed proof follows the trim: the sheet it is printed on, and where the pages land.

The input PDFs are made here with pikepdf: blank pages with 3 mm of bleed
around a TrimBox, each page marked by a line width equal to its number (``n
w``), so that the page a placed form shows can be read from its content
without asking our code. The sheets are read back with pikepdf: the MediaBox,
the TrimBox, and each form's BBox carried through its /Matrix and the ``cm``
before its ``Do``.
"""

import io
from decimal import Decimal
from types import SimpleNamespace

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name

from bindery import imposition, preflight

MM = 72 / 25.4
BLEED = 3  # mm
TOLERANCE = 0.05 * MM  # pt
#: The sheet sides of a saddle-stitched booklet, (left, right), in print order.
SADDLE = {4: [(4, 1), (2, 3)], 8: [(8, 1), (2, 7), (6, 3), (4, 5)]}


def booklet(pages, width_mm, height_mm):
    """A PDF of ``pages`` blank pages of ``width_mm`` × ``height_mm`` trim, with bleed."""
    pdf = pikepdf.Pdf.new()
    width, height, bleed = width_mm * MM, height_mm * MM, BLEED * MM
    for number in range(1, pages + 1):
        page = pdf.add_blank_page(page_size=(width + 2 * bleed, height + 2 * bleed))
        trim = Array([bleed, bleed, bleed + width, bleed + height])
        page.obj.TrimBox = trim
        page.obj.BleedBox = Array([0, 0, width + 2 * bleed, height + 2 * bleed])
        # The page's number as its line width, and a stroke across the whole trim.
        page.obj.Contents = pdf.make_stream(
            f'{number} w {bleed:.4f} {bleed:.4f} {width:.4f} {height:.4f} re S'.encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _box(array):
    return [float(value) for value in array]


def _multiply(m, n):
    """The matrix of ``m`` then ``n`` (PDF order: a point goes through m first)."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return [a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u]


def _placed(bbox, matrix):
    """The rectangle ``bbox`` covers once ``matrix`` is applied."""
    x0, y0, x1, y1 = bbox
    a, b, c, d, e, f = matrix
    points = [(a * x + c * y + e, b * x + d * y + f) for x in (x0, x1) for y in (y0, y1)]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [min(xs), min(ys), max(xs), max(ys)]


def placements(page):
    """``[(page number, placed rectangle)]`` of the forms the sheet side draws, in order."""
    found, ctm, stack = [], [1, 0, 0, 1, 0, 0], []
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == 'q':
            stack.append(ctm)
        elif op == 'Q':
            ctm = stack.pop()
        elif op == 'cm':
            ctm = _multiply([float(value) for value in operands], ctm)
        elif op == 'Do':
            form = page.Resources.XObject[operands[0]]
            matrix = [float(v) for v in form.get(Name.Matrix, [1, 0, 0, 1, 0, 0])]
            widths = [float(ops[0]) for ops, o in pikepdf.parse_content_stream(form)
                      if str(o) == 'w']
            assert len(widths) == 1, widths
            found.append((int(widths[0]), _placed(_box(form.BBox), _multiply(matrix, ctm))))
    return found


def _inside(box, outer):
    return (box[0] >= outer[0] - TOLERANCE and box[1] >= outer[1] - TOLERANCE
            and box[2] <= outer[2] + TOLERANCE and box[3] <= outer[3] + TOLERANCE)


def _close(a, b):
    return all(abs(x - y) <= TOLERANCE for x, y in zip(a, b))


# --- the sheet -----------------------------------------------------------------

@pytest.mark.parametrize('page, sheet', [
    ((148, 210), ('A4', (297, 210))),                   # A5
    ((210, 297), ('A3', (420, 297))),                   # A4
    ((297, 420), ('A2', (594, 420))),                   # A3
    ((105, 148), ('A5', (210, 148))),                   # A6
    ((215.9, 279.4), ('Tabloid', (431.8, 279.4))),      # US Letter
    ((139.7, 215.9), ('Letter', (279.4, 215.9))),       # US half letter
    ((148.6, 210.4), ('A4', (297, 210))),               # over by less than 0.5 mm
    ((149, 210), ('Legal', (355.6, 215.9))),            # too wide for A4
    ((Decimal('148'), Decimal('210')), ('A4', (297, 210))),
    ((Decimal('215.9'), Decimal('279.4')), ('Tabloid', (431.8, 279.4))),
])
def test_proof_sheet_is_the_smallest_standard_sheet_that_holds_a_spread(page, sheet):
    assert imposition.proof_sheet(*page) == sheet


# Every standard sheet, written out here: (short, long) in mm.
STANDARD = {'A0': (841, 1189), 'A1': (594, 841), 'A2': (420, 594), 'A3': (297, 420),
            'A4': (210, 297), 'A5': (148, 210), 'A6': (105, 148), 'Letter': (215.9, 279.4),
            'Legal': (215.9, 355.6), 'Tabloid': (279.4, 431.8)}


@pytest.mark.parametrize('width, height', [
    (50, 50), (74, 105), (100, 300), (120, 120), (176, 250), (200, 200), (250, 176),
    (400, 400), (420, 594), (594, 841)])
def test_proof_sheet_is_landscape_holds_the_spread_and_none_smaller_does(width, height):
    name, (sheet_w, sheet_h) = imposition.proof_sheet(width, height)
    assert sheet_w >= sheet_h and sorted((sheet_w, sheet_h)) == list(STANDARD[name])
    assert 2 * width <= sheet_w + 0.5 and height <= sheet_h + 0.5
    smaller = [other for other, (short, long) in STANDARD.items() if short * long < sheet_w
               * sheet_h and 2 * width <= long + 0.5 and height <= short + 0.5]
    assert smaller == []


def test_proof_sheet_is_none_when_no_sheet_holds_a_spread():
    assert imposition.proof_sheet(841, 1189) is None  # an A0 spread is bigger than A0
    assert imposition.proof_sheet(600, 1200) is None  # taller than any sheet
    with pytest.raises(ValueError, match='positive'):
        imposition.proof_sheet(0, 210)


# --- imposing on it ------------------------------------------------------------

@pytest.mark.parametrize('pages, trim, name, sheet_mm', [
    (8, (215.9, 279.4), 'Tabloid', (431.8, 279.4)),    # US Letter
    (4, (210, 297), 'A3', (420, 297)),                  # A4
    (8, (148, 210), 'A4', (297, 210)),                  # A5
])
def test_imposed_sheets_hold_both_trims_side_by_side(tmp_path, pages, trim, name, sheet_mm):
    source, target = tmp_path / 'print.pdf', tmp_path / 'imposed.pdf'
    source.write_bytes(booklet(pages, *trim))
    sheet = imposition.proof_sheet(Decimal(str(trim[0])), Decimal(str(trim[1])))
    assert sheet == (name, sheet_mm)
    imposition.impose_file(source, target, sheet[1])

    with pikepdf.open(target) as pdf:
        assert len(pdf.pages) == pages // 2
        sheet_w, sheet_h = sheet_mm[0] * MM, sheet_mm[1] * MM
        width, height = trim[0] * MM, trim[1] * MM
        for page, (left, right) in zip(pdf.pages, SADDLE[pages]):
            media = _box(page.obj.MediaBox)
            assert _close(media, [0, 0, sheet_w, sheet_h])
            placed = placements(page)
            assert [number for number, _ in placed] == [left, right]
            (_, first), (_, second) = placed
            for box in (first, second):  # each page: its whole trim, no bleed, on the sheet
                assert _close([box[2] - box[0], box[3] - box[1]], [width, height]), box
                assert _inside(box, media), (box, media)
            # They meet at the fold, in the middle of the sheet, level.
            assert abs(first[2] - second[0]) <= TOLERANCE
            assert abs(first[2] - sheet_w / 2) <= TOLERANCE
            assert abs(first[1] - second[1]) <= TOLERANCE
            assert abs(first[1] - (sheet_h - height) / 2) <= TOLERANCE
            spread = [first[0], first[1], second[2], second[3]]
            assert _close(_box(page.obj.TrimBox), spread)
            assert _inside(_box(page.obj.TrimBox), media)


def test_impose_takes_the_sheet_as_a_decimal_too():
    pdf = pikepdf.open(io.BytesIO(booklet(4, 148, 210)))
    sheets = imposition.impose(pdf, (Decimal('297'), Decimal('210')))
    assert _close(_box(sheets.pages[0].obj.MediaBox), [0, 0, 297 * MM, 210 * MM])


def test_a_letter_booklet_does_not_fit_the_old_a4_sheet():
    pdf = pikepdf.open(io.BytesIO(booklet(8, 215.9, 279.4)))
    with pytest.raises(ValueError, match='does not fit on a sheet of 297 × 210 mm'):
        imposition.impose(pdf, (297, 210))


def test_preflight_of_the_imposed_proof_names_the_sheet(tmp_path):
    source, target = tmp_path / 'print.pdf', tmp_path / 'imposed.pdf'
    source.write_bytes(booklet(8, 215.9, 279.4))
    imposition.impose_file(source, target, (431.8, 279.4))
    layout = SimpleNamespace(spec={'fonts': []})  # the blank pages have no text

    findings = preflight.preflight_imposed(target, 8, layout, tmp_path, (431.8, 279.4))
    assert all(finding.ok for finding in findings), findings
    assert '431.8 × 279.4 mm' in findings[0].message

    wrong = preflight.preflight_imposed(target, 8, layout, tmp_path, (297, 210))
    sizes = [finding for finding in wrong if finding.check == 'sheet-size']
    assert len(sizes) == 4 and not any(finding.ok for finding in sizes)
    assert 'sheet is 431.8 × 279.4 mm, not 297 × 210 mm' in sizes[0].message
