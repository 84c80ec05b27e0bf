"""Impose a booklet 2-up for saddle stitching, on a standard sheet that holds a spread."""

import pikepdf
from pikepdf import Array, Dictionary, Name, Rectangle

MM = 72 / 25.4
_TOLERANCE = 0.01  # pt

#: Standard sheets a proof can be printed on: name -> (short side, long side) in mm.
#: ISO 216 A sizes and the US sizes (Tabloid turned landscape is called Ledger).
SHEETS = {
    'A6': (105, 148), 'A5': (148, 210), 'A4': (210, 297), 'A3': (297, 420),
    'A2': (420, 594), 'A1': (594, 841), 'A0': (841, 1189),
    'Letter': (215.9, 279.4), 'Legal': (215.9, 355.6), 'Tabloid': (279.4, 431.8),
}
#: How far, in mm, a spread may exceed a sheet and still fit it: the proof
#: then loses at most a quarter of a millimetre at each edge.
SHEET_TOLERANCE_MM = 0.5


def proof_sheet(width_mm, height_mm):
    """The standard sheet to print the 2-up proof of ``width_mm`` × ``height_mm`` pages on.

    Returns ``(name, (sheet_width_mm, sheet_height_mm))`` for the sheet of
    :data:`SHEETS` with the smallest area that holds a spread, two trimmed
    pages side by side (``2 × width_mm`` by ``height_mm``), within
    :data:`SHEET_TOLERANCE_MM`; None when no sheet does. The sheet is always
    landscape (width ≥ height), the fold parallel to its short edge. A5 pages
    give ``('A4', (297, 210))``, A4 ``('A3', (420, 297))``, US Letter
    ``('Tabloid', (431.8, 279.4))``. The sizes may be :class:`~decimal.Decimal`
    or float; raises :class:`ValueError` unless both are positive.
    """
    width, height = float(width_mm), float(height_mm)
    if not (width > 0 and height > 0):  # also refuses NaN
        raise ValueError(f'a page must have a positive size, not {width_mm} × {height_mm} mm')
    fits = [(short * long, name, (long, short)) for name, (short, long) in SHEETS.items()
            if 2 * width <= long + SHEET_TOLERANCE_MM and height <= short + SHEET_TOLERANCE_MM]
    if not fits:
        return None
    _, name, sheet = min(fits, key=lambda fit: fit[0])  # the first listed of equal areas
    return name, sheet


def saddle_order(pages):
    """The (left, right) page numbers, 1-based, of each sheet side in print order.

    Sides alternate front and back: sheet 1 front, sheet 1 back, sheet 2
    front… For 8 pages: ``[(8, 1), (2, 7), (6, 3), (4, 5)]``. Folded and
    nested, the sheets read 1 to ``pages``. Raises :class:`ValueError` unless
    ``pages`` is a positive multiple of 4.
    """
    if isinstance(pages, bool) or not isinstance(pages, int):
        raise TypeError(f'the page count must be an integer, not {pages!r}')
    if pages <= 0 or pages % 4:
        fix = f': make it {pages + 4 - pages % 4}' if pages > 0 else ''
        if pages > 4:
            fix += f' or {pages - pages % 4}'
        raise ValueError(
            f'a saddle-stitched booklet needs a multiple of 4 pages, not {pages}{fix}')
    sides = []
    for side in range(pages // 2):
        outer, inner = pages - side, side + 1
        # On the front the last page of the pair goes left (the back cover
        # beside the cover); on the back the mirror order.
        sides.append((outer, inner) if side % 2 == 0 else (inner, outer))
    return sides


def impose(src, sheet_size_mm):
    """A new :class:`pikepdf.Pdf` with the pages of ``src`` two-up in saddle order.

    Each page's TrimBox area becomes a Form XObject clipped to the trim; a
    pair sits centred on a sheet of ``sheet_size_mm`` (width, height in mm;
    :func:`proof_sheet` chooses it), the two pages meeting at the fold. Print
    both sides flipping on the edge parallel to the fold (the short edge of a
    landscape sheet); the back sides need no rotation. Each sheet's TrimBox
    and BleedBox are the pair's area, within the sheet. The output intents, XMP metadata, Info,
    /Lang and PDF version of ``src`` are carried over (save with
    ``min_version=src.pdf_version`` for the header to say so too).

    Raises :class:`ValueError` when the page count is not a multiple of 4 or
    a pair does not fit on the sheet (overhangs it by more than
    :data:`SHEET_TOLERANCE_MM`, which the sheet's edges then cut off).
    """
    order = saddle_order(len(src.pages))
    sheet_w, sheet_h = (float(value) * MM for value in sheet_size_mm)
    imposed = pikepdf.Pdf.new()
    forms = {}  # page number -> form in ``imposed``, each page copied once
    overhang = SHEET_TOLERANCE_MM * MM
    for left, right in order:
        for number in (left, right):
            if number not in forms:
                forms[number] = imposed.copy_foreign(_trimmed_form(src.pages[number - 1]))
        sizes = [_size(forms[number]) for number in (left, right)]
        pair_w = sizes[0][0] + sizes[1][0]
        pair_h = max(sizes[0][1], sizes[1][1])
        if pair_w > sheet_w + overhang or pair_h > sheet_h + overhang:
            raise ValueError(
                f'pages {left} and {right} make a pair of {pair_w / MM:.1f} × '
                f'{pair_h / MM:.1f} mm, which does not fit on a sheet of '
                f'{float(sheet_size_mm[0]):g} × {float(sheet_size_mm[1]):g} mm')
        # The pair is centred; the fold is where the two trims meet.
        x0 = (sheet_w - pair_w) / 2
        fold = x0 + sizes[0][0]
        page = imposed.add_blank_page(page_size=(sheet_w, sheet_h))
        page.obj.Resources = Dictionary(XObject=Dictionary())
        content = b''
        for number, (width, height), x in ((left, sizes[0], x0), (right, sizes[1], fold)):
            name = Name(f'/Page{number}')
            page.obj.Resources.XObject[name] = forms[number]
            y = (sheet_h - height) / 2
            # qpdf computes the placement (it undoes any /Matrix the form got
            # from the page's /Rotate); at exactly the form's size it only moves it.
            content += page.calc_form_xobject_placement(
                forms[number], name, Rectangle(x, y, x + width, y + height),
                allow_shrink=False, allow_expand=False)
        page.obj.Contents = imposed.make_stream(content)
        # Within the sheet, when the pair hangs over its edges (by the tolerance at most).
        pair = Array([max(x0, 0), max((sheet_h - pair_h) / 2, 0),
                      min(x0 + pair_w, sheet_w), min((sheet_h + pair_h) / 2, sheet_h)])
        page.obj.TrimBox = pair
        page.obj.BleedBox = pair
    _carry_over(src, imposed)
    return imposed


def _trimmed_form(page):
    """The page as a Form XObject whose bounding box, and so its clip, is the TrimBox."""
    form = page.as_form_xobject()
    form.BBox = Array(page.trimbox)
    return form


def _size(form):
    """Width and height of a form's BBox as placed, after its /Matrix (quarter turns only)."""
    x0, y0, x1, y1 = (float(value) for value in form.BBox)
    width, height = abs(x1 - x0), abs(y1 - y0)
    matrix = [float(value) for value in form.get(Name.Matrix, [1, 0, 0, 1, 0, 0])]
    if abs(matrix[0]) < _TOLERANCE and abs(matrix[3]) < _TOLERANCE:  # turned 90° or 270°
        width, height = height, width
    return width, height


def _carry_over(src, imposed):
    """Copy what describes the document, not its pages: the new file starts bare."""
    for key in (Name.OutputIntents, Name.Metadata, Name.Lang):
        if key in src.Root:
            imposed.Root[key] = _copy(imposed, src.Root[key])
    if Name.Info in src.trailer:
        imposed.docinfo = _copy(imposed, src.trailer.Info)
    versions = [str(src.pdf_version), str(src.Root.get(Name.Version, '/1.3')).lstrip('/')]
    version = max(versions, key=lambda text: tuple(int(part) for part in text.split('.')))
    if version != '1.3':  # the version of a new file; a later one needs saying
        imposed.Root.Version = Name(f'/{version}')


def _copy(pdf, obj):
    """``obj`` from another file, for ``pdf``. copy_foreign takes indirect objects only."""
    if obj.is_indirect:
        return pdf.copy_foreign(obj)
    if isinstance(obj, Array):
        return Array([_copy(pdf, item) for item in obj])
    if isinstance(obj, Dictionary):
        return Dictionary({key: _copy(pdf, value) for key, value in obj.items()})
    return obj  # a number, name or string: the same in any file


def impose_file(source, target, sheet_size_mm):
    """Impose the PDF at ``source`` into ``target`` on ``sheet_size_mm`` sheets, reproducibly."""
    with pikepdf.open(source) as pdf:
        sheets = impose(pdf, sheet_size_mm)
        sheets.save(target, min_version=pdf.pdf_version, deterministic_id=True)
