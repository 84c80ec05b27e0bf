"""Print finishing: the FOGRA39 profile, PDF/X-4, trim marks and 2-up imposition.

Results are read back with tools that share no code with the writers: pikepdf
for the PDF structure, Ghostscript's tiffsep device for where ink lands on
each plate, and poppler's pdftotext for the page numbers on imposed sheets.
The fixture is an 8-page A5 booklet with 3 mm bleed that WeasyPrint makes
here: a light cyan background over the bleed and the page number in black,
so magenta and yellow ink can only come from the marks.
"""

import io
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageCms

from bindery import imposition, marks, pdfx

ROOT = Path(__file__).resolve().parent.parent
FONT = ROOT / 'fonts' / 'inter' / 'Inter-Regular.otf'
PROFILE = ROOT / 'profiles' / 'FOGRA39-bindery.icc'
MM = 72 / 25.4
DPI = 50.8  # two pixels a millimetre: every box edge falls on a pixel edge
PX = DPI / 25.4  # pixels per mm
PAGES = 8
SLUG = 'test/xx · print · 2025-01-01 · page {page}/{pages}'
A4_LANDSCAPE = (297, 210)  # mm: the sheet for a spread of A5 pages

HTML = '''<!doctype html>
<html lang="kk"><head><style>
@font-face {{ font-family: Inter; src: url({font}); }}
@page {{ size: 148mm 210mm; bleed: 3mm; margin: 0; background: device-cmyk(0.3 0 0 0); }}
body {{ margin: 0; font-family: Inter; color: device-cmyk(0 0 0 1); }}
section {{ height: 210mm; page-break-after: always; text-align: center;
           font-size: 150pt; line-height: 210mm; }}
section:last-child {{ page-break-after: auto; }}
</style></head><body>{sections}</body></html>'''


@pytest.fixture(scope='module')
def booklet():
    """The bytes of an 8-page A5 print PDF as WeasyPrint makes it: bleed, CMYK."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    html = HTML.format(font=FONT.as_uri(), sections=''.join(
        f'<section>{number}</section>' for number in range(1, PAGES + 1)))
    font_config = FontConfiguration()
    document = weasyprint.HTML(string=html, base_url=str(ROOT)).render(font_config=font_config)
    data = document.write_pdf(pdf_version='1.6', pdf_identifier=b'finishing-test')
    assert len(pikepdf.open(io.BytesIO(data)).pages) == PAGES
    return data


def _open(data):
    return pikepdf.open(io.BytesIO(data))


def _save(pdf, **options):
    out = io.BytesIO()
    pdf.save(out, **(options or pdfx.SAVE_OPTIONS))
    return out.getvalue()


def _box(array):
    return tuple(float(value) for value in array)


def _grow(box, by):
    return (box[0] - by, box[1] - by, box[2] + by, box[3] + by)


def _close(box, other, tolerance=0.1 * MM):
    return all(abs(a - b) <= tolerance for a, b in zip(box, other))


# --- saddle order ------------------------------------------------------------

@pytest.mark.parametrize('pages, order', [
    (4, [(4, 1), (2, 3)]),
    (8, [(8, 1), (2, 7), (6, 3), (4, 5)]),
    (12, [(12, 1), (2, 11), (10, 3), (4, 9), (8, 5), (6, 7)]),
])
def test_saddle_order(pages, order):
    assert imposition.saddle_order(pages) == order


@pytest.mark.parametrize('pages', range(4, 65, 4))
def test_saddle_order_folds_into_reading_order(pages):
    order = imposition.saddle_order(pages)
    assert sorted(number for side in order for number in side) == list(range(1, pages + 1))
    for sheet in range(len(order) // 2):
        (front_left, front_right), (back_left, back_right) = order[2 * sheet:2 * sheet + 2]
        # Each side's pair faces across the fold: their numbers add up to pages + 1.
        assert front_left + front_right == back_left + back_right == pages + 1
        # Turned over on the short edge, the back's left page lies under the
        # front's right page, and follows it.
        assert back_left == front_right + 1 and back_right == front_left - 1
        # Nested sheets: sheet n starts at page 2n + 1.
        assert front_right == 2 * sheet + 1


@pytest.mark.parametrize('pages', [0, 2, 6, 10, -4])
def test_saddle_order_needs_a_multiple_of_4(pages):
    with pytest.raises(ValueError, match='multiple of 4'):
        imposition.saddle_order(pages)


# --- profile -----------------------------------------------------------------

def test_profile_is_a_cmyk_output_profile():
    assert PROFILE.stat().st_size < 300_000
    profile = ImageCms.getOpenProfile(str(PROFILE)).profile
    assert profile.xcolor_space.strip() == 'CMYK'
    assert profile.connection_space.strip() in ('Lab', 'XYZ')
    assert profile.device_class == 'prtr'
    assert 'FOGRA39' in profile.profile_description
    # It converts: paper white stays white, 100 % black is near the FOGRA39 black.
    transform = ImageCms.buildTransform(
        ImageCms.getOpenProfile(str(PROFILE)), ImageCms.createProfile('sRGB'), 'CMYK', 'RGB')
    white, black = (ImageCms.applyTransform(Image.new('CMYK', (1, 1), color), transform)
                    .getpixel((0, 0)) for color in ((0, 0, 0, 0), (0, 0, 0, 255)))
    assert min(white) > 245 and max(black) < 70


# --- PDF/X-4 -----------------------------------------------------------------

def test_pdfx4(booklet):
    pdf = _open(booklet)
    pdfx.make_pdfx4(pdf, PROFILE, 'Тест: 9 МӘЛІМЕТ', 'kk-KZ', '2025-01-01T00:00:00Z')
    data = _save(pdf)
    assert data.startswith(b'%PDF-1.6\n')
    pdf = _open(data)

    intents = pdf.Root.OutputIntents
    assert len(intents) == 1
    intent = intents[0]
    assert intent.S == '/GTS_PDFX' and intent.Type == '/OutputIntent'
    assert str(intent.OutputConditionIdentifier) == 'FOGRA39'
    assert str(intent.RegistryName) == 'http://www.color.org'
    assert 'FOGRA39' in str(intent.Info)
    assert intent.DestOutputProfile.N == 4
    assert intent.DestOutputProfile.read_bytes() == PROFILE.read_bytes()

    meta = pdf.open_metadata()
    assert meta.pdfx_status == 'PDF/X-4'
    assert meta['dc:title'] == 'Тест: 9 МӘЛІМЕТ'
    assert meta['pdf:Trapped'] == 'False'
    assert meta['xmp:CreateDate'].startswith('2025-01-01T00:00:00')
    assert meta['xmp:ModifyDate'] == meta['xmp:CreateDate']
    assert meta['xmpMM:DocumentID'].startswith('uuid:')
    assert pdf.docinfo.Trapped == '/False'
    assert str(pdf.docinfo.Title) == 'Тест: 9 МӘЛІМЕТ'
    assert str(pdf.docinfo.CreationDate).startswith('D:20250101000000')
    assert str(pdf.Root.Lang) == 'kk-KZ' and meta['dc:language'] == {'kk-KZ'}
    for page in pdf.pages:
        trim, bleed = _box(page.obj.TrimBox), _box(page.obj.BleedBox)
        assert _close((trim[2] - trim[0], trim[3] - trim[1]), (148 * MM, 210 * MM))
        assert _close(bleed, _grow(trim, 3 * MM)) and bleed == _box(page.obj.MediaBox)


def test_pdfx4_is_reproducible_and_embeds_the_profile_once(booklet, monkeypatch):
    monkeypatch.setenv('SOURCE_DATE_EPOCH', '1700000000')  # 2023-11-14T22:13:20Z

    def finish(times):
        pdf = _open(booklet)
        for _ in range(times):
            pdfx.make_pdfx4(pdf, PROFILE, 'Title', 'ky', None)
        return _save(pdf)

    first, second, twice = finish(1), finish(1), finish(2)
    assert first == second
    assert len(twice) < len(first) + 1000  # no second copy of the 71 KB profile
    pdf = _open(twice)
    profiles = [obj for obj in pdf.objects
                if isinstance(obj, pikepdf.Stream) and obj.get('/N') == 4]
    assert len(profiles) == 1
    assert pdf.open_metadata()['xmp:CreateDate'].startswith('2023-11-14T22:13:20')


def test_pdfx4_keeps_dates_without_source_date_epoch(booklet, monkeypatch):
    monkeypatch.delenv('SOURCE_DATE_EPOCH', raising=False)
    pdf = _open(booklet)
    pdf.docinfo.CreationDate = 'D:20200229120000Z'
    pdfx.make_pdfx4(pdf, PROFILE, 'Title', 'ky', None)
    pdf = _open(_save(pdf))
    assert pdf.open_metadata()['xmp:CreateDate'].startswith('2020-02-29T12:00:00')


def test_pdfx4_adds_missing_boxes(booklet):
    pdf = _open(booklet)
    del pdf.pages[0].obj.TrimBox
    del pdf.pages[0].obj.BleedBox
    pdfx.make_pdfx4(pdf, PROFILE, 'Title', 'kk', '2025-01-01')
    finished = _open(_save(pdf))  # kept: a page does not keep its Pdf alive
    page = finished.pages[0]
    assert _box(page.obj.TrimBox) == _box(page.obj.BleedBox) == _box(page.obj.MediaBox)


def test_pdfx4_refuses_an_rgb_profile(booklet, tmp_path):
    srgb = tmp_path / 'srgb.icc'
    srgb.write_bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile('sRGB')).tobytes())
    with pytest.raises(ValueError, match='CMYK output profile'):
        pdfx.make_pdfx4(_open(booklet), srgb, 'Title', 'kk', None)


# --- marks -------------------------------------------------------------------

@pytest.fixture(scope='module')
def marked(booklet):
    pdf = _open(booklet)
    marks.add_marks(pdf, 3, SLUG, FONT)
    return _save(pdf, deterministic_id=True)


def test_marks_keep_trim_and_bleed_and_grow_the_media(booklet, marked):
    before, after = _open(booklet), _open(marked)
    for old, new in zip(before.pages, after.pages):
        assert _box(new.obj.TrimBox) == _box(old.obj.TrimBox)
        assert _box(new.obj.BleedBox) == _box(old.obj.BleedBox)
        assert _close(_box(new.obj.MediaBox), _grow(_box(old.obj.BleedBox), 12 * MM))


def test_marks_are_drawn_in_default_user_space_in_registration_colour(marked):
    """Read every page's operators: the marks start after the page's own state is gone."""
    pdf = _open(marked)
    for number, page in enumerate(pdf.pages, 1):
        spaces = page.Resources.get('/ColorSpace', {})
        ctm, saved, marks_ctm = pikepdf.Matrix(), [], []
        for operands, operator in pikepdf.parse_content_stream(page):
            operator = str(operator)
            if operator == 'q':
                saved.append(ctm)
            elif operator == 'Q':
                assert saved, f'page {number}: Q without q'
                ctm = saved.pop()
            elif operator == 'cm':
                ctm = pikepdf.Matrix(*operands) @ ctm
            elif operator in ('CS', 'cs') and operands[0] in spaces:
                space = spaces[operands[0]]
                if isinstance(space, pikepdf.Array) and space[0] == '/Separation':
                    assert space[1] == '/All' and space[2] == '/DeviceCMYK'
                    tint = space[3]  # type 2: C0 + t^N (C1 - C0); at t = 1, C1
                    assert tint.FunctionType == 2 and list(tint.C1) == [1, 1, 1, 1]
                    marks_ctm.append(ctm)
        assert marks_ctm and all(matrix == pikepdf.Matrix() for matrix in marks_ctm), number
        assert not saved, f'page {number}: q without Q'


def test_marks_are_artifacts_outside_the_structure_tree(marked):
    """A tagged PDF's readers skip them: every registration-colour drawing lies in
    an /Artifact marked-content sequence, and marked content nests with q/Q."""
    pdf = _open(marked)
    for number, page in enumerate(pdf.pages, 1):
        spaces = page.Resources.get('/ColorSpace', {})
        nesting, found = [], 0
        for operands, operator in pikepdf.parse_content_stream(page):
            operator = str(operator)
            if operator in ('q', 'BMC', 'BDC'):
                nesting.append(operands[0] if operator != 'q' else 'q')
            elif operator in ('Q', 'EMC'):
                assert nesting and (nesting[-1] == 'q') == (operator == 'Q'), number
                nesting.pop()
            elif operator in ('CS', 'cs') and operands[0] in spaces:
                found += 1
                assert '/Artifact' in nesting, f'page {number}: a mark outside /Artifact'
        assert found and not nesting, number


def test_marks_are_reproducible(booklet, marked):
    pdf = _open(booklet)
    marks.add_marks(pdf, 3, SLUG, FONT)
    assert _save(pdf, deterministic_id=True) == marked


def test_marks_add_no_font_and_no_text(booklet, marked, tmp_path):
    def fonts(data):
        return sum(1 for obj in _open(data).objects
                   if isinstance(obj, pikepdf.Dictionary) and obj.get('/Type') == '/Font')

    assert fonts(marked) == fonts(booklet)
    for name, data in (('before', booklet), ('after', marked)):
        (tmp_path / f'{name}.pdf').write_bytes(data)
    before, after = (subprocess.run(
        ['pdftotext', '-f', '3', '-l', '3', str(tmp_path / f'{name}.pdf'), '-'],
        capture_output=True, check=True, text=True).stdout for name in ('before', 'after'))
    assert after == before and before.strip() == '3'


def test_marks_refuse_a_character_the_font_lacks(booklet):
    with pytest.raises(ValueError, match='U\\+4E00'):
        marks.add_marks(_open(booklet), 3, 'page 一', FONT)


def test_marks_refuse_to_mark_twice(marked):
    with pytest.raises(ValueError, match='already have marks'):
        marks.add_marks(_open(marked), 3, SLUG, FONT)


def _separations(path, page, tmp_path):
    """Ghostscript's plates for ``page``: name -> image where 0 is full ink, 255 none."""
    out = tmp_path / f'sep-{page}'
    out.mkdir(parents=True)
    subprocess.run(['gs', '-q', '-dSAFER', '-dBATCH', '-dNOPAUSE', '-sDEVICE=tiffsep',
                    f'-r{DPI}', f'-dFirstPage={page}', f'-dLastPage={page}',
                    f'-sOutputFile={out}/p.tif', str(path)], check=True)
    return {name: Image.open(out / f'p({name}).tif').convert('L')
            for name in ('Cyan', 'Magenta', 'Yellow', 'Black')}


def _ink(plate):
    """The set of (x, y) pixels with any ink."""
    width, height = plate.size
    data = plate.tobytes()
    return {(i % width, i // width) for i, value in enumerate(data) if value < 255}


def _region(media, box_mm):
    """Pixel rectangle [x0, x1) × [y0, y1) of a box in mm from the trim's lower left."""
    x0, y0, x1, y1 = box_mm
    return ((x0 * MM - media[0]) / MM * PX, (media[3] - y1 * MM) / MM * PX,
            (x1 * MM - media[0]) / MM * PX, (media[3] - y0 * MM) / MM * PX)


def _within(pixel, region):
    x, y = pixel
    return region[0] <= x < region[2] and region[1] <= y < region[3]


@pytest.mark.parametrize('page', [1, 6])
def test_marks_print_on_every_plate_between_bleed_and_media(marked, tmp_path, page):
    path = tmp_path / 'marked.pdf'
    path.write_bytes(marked)
    pdf = _open(marked)
    trim = _box(pdf.pages[page - 1].obj.TrimBox)
    assert trim[:2] == (0, 0)  # WeasyPrint puts the trim at the origin; regions rely on it
    media = _box(pdf.pages[page - 1].obj.MediaBox)
    width, height = trim[2] / MM, trim[3] / MM
    bleed = _region(media, (-3, -3, width + 3, height + 3))
    # Where each of the 8 marks must be: along a trim edge, 3 to 15 mm out.
    zones = [_region(media, box) for box in [
        (-15, -1, -3, 1), (-1, -15, 1, -3), (width + 3, -1, width + 15, 1),
        (width - 1, -15, width + 1, -3), (-15, height - 1, -3, height + 1),
        (-1, height + 3, 1, height + 15), (width + 3, height - 1, width + 15, height + 1),
        (width - 1, height + 3, width + 1, height + 15)]]
    slug = _region(media, (2, -15, width - 2, -3))
    plates = _separations(path, page, tmp_path)

    for name, plate in plates.items():
        assert plate.size == (round((media[2] - media[0]) / MM * PX),
                              round((media[3] - media[1]) / MM * PX))
        ink = _ink(plate)
        outside = {pixel for pixel in ink if not _within(pixel, bleed)}
        for zone in zones:
            assert any(_within(pixel, zone) for pixel in outside), (name, zone)
        assert sum(_within(pixel, slug) for pixel in outside) > 20, name
        # Nothing else outside the bleed: the marks are not drawn in the page's
        # flipped, scaled space, and nothing spills from the page.
        stray = {pixel for pixel in outside
                 if not any(_within(pixel, zone) for zone in zones + [slug])}
        assert not stray, (name, sorted(stray)[:5])
        if name in ('Magenta', 'Yellow'):
            # The page has no magenta or yellow: all of it is marks, off the bleed.
            assert ink == outside
    # The page itself is still there: cyan to the bleed edge, the number in black.
    cyan, black = _ink(plates['Cyan']), _ink(plates['Black'])
    corner = (round(bleed[0]), round(bleed[1]))
    assert corner in cyan and (round(bleed[2]) - 1, round(bleed[3]) - 1) in cyan
    assert sum(_within(pixel, bleed) for pixel in black) > 100


def test_marks_leave_the_page_untouched_inside_the_bleed(booklet, marked, tmp_path):
    (tmp_path / 'plain.pdf').write_bytes(booklet)
    (tmp_path / 'marked.pdf').write_bytes(marked)
    plain = _separations(tmp_path / 'plain.pdf', 2, tmp_path / 'plain')
    mark = _separations(tmp_path / 'marked.pdf', 2, tmp_path / 'mark')
    shift = round(12 * PX)  # the MediaBox grew by 12 mm on each side
    for name in plain:
        width, height = plain[name].size
        inner = mark[name].crop((shift, shift, shift + width, shift + height))
        assert inner.tobytes() == plain[name].tobytes(), name


# --- imposition --------------------------------------------------------------

@pytest.fixture(scope='module')
def imposed(booklet):
    pdf = _open(booklet)
    pdfx.make_pdfx4(pdf, PROFILE, 'Title', 'kk', '2025-01-01')
    marks.add_marks(pdf, 3, SLUG, FONT)  # outside the trim: imposition must cut them off
    sheets = imposition.impose(pdf, A4_LANDSCAPE)
    return _save(sheets, min_version=pdf.pdf_version, deterministic_id=True)


def test_imposed_sheets_read_in_saddle_order(imposed, tmp_path):
    path = tmp_path / 'imposed.pdf'
    path.write_bytes(imposed)
    pdf = _open(imposed)
    order = imposition.saddle_order(PAGES)
    assert len(pdf.pages) == len(order)
    for number, (left, right) in enumerate(order, 1):
        media = _box(pdf.pages[number - 1].obj.MediaBox)
        width, height = media[2] - media[0], media[3] - media[1]
        assert _close((width, height), (297 * MM, 210 * MM))
        halves = []
        for x in (0, width / 2):  # pdftotext crops in pixels at -r, here 72 dpi: points
            text = subprocess.run(
                ['pdftotext', '-f', str(number), '-l', str(number), '-r', '72',
                 '-x', str(int(x)), '-y', '0', '-W', str(int(width / 2)), '-H', str(int(height)),
                 str(path), '-'], capture_output=True, check=True, text=True).stdout
            halves.append(text.split())
        assert halves == [[str(left)], [str(right)]], f'sheet side {number}'


def test_imposed_sheets_are_clipped_to_trim_and_keep_the_print_metadata(imposed, tmp_path):
    pdf = _open(imposed)
    assert pdf.pdf_version >= '1.6'
    assert pdf.Root.OutputIntents[0].S == '/GTS_PDFX'
    assert pdf.open_metadata().pdfx_status == 'PDF/X-4'
    assert str(pdf.Root.Lang) == 'kk' and str(pdf.docinfo.Title) == 'Title'
    for page in pdf.pages:
        trim = _box(page.obj.TrimBox)
        assert _close(trim, (0.5 * MM, 0, 296.5 * MM, 210 * MM))  # two A5, centred
        for form in page.Resources.XObject.values():
            assert _close(_box(form.BBox), (0, 0, 148 * MM, 210 * MM))
    path = tmp_path / 'imposed.pdf'
    path.write_bytes(imposed)
    plates = _separations(path, 1, tmp_path)
    # Magenta and yellow exist only in the marks and slug, outside the trim.
    assert not _ink(plates['Magenta']) and not _ink(plates['Yellow'])
    assert _ink(plates['Cyan']) and _ink(plates['Black'])


def test_imposition_is_reproducible_and_leaves_its_source_alone(booklet):
    pdf = _open(booklet)
    first = _save(imposition.impose(pdf, A4_LANDSCAPE), deterministic_id=True)
    assert _save(imposition.impose(pdf, A4_LANDSCAPE), deterministic_id=True) == first
    assert len(pdf.pages) == PAGES and _box(pdf.pages[0].obj.MediaBox)[0] < 0


def test_impose_refuses_a_page_count_not_a_multiple_of_4(booklet):
    pdf = _open(booklet)
    del pdf.pages[-2:]
    with pytest.raises(ValueError, match='multiple of 4 pages, not 6'):
        imposition.impose(pdf, A4_LANDSCAPE)


def test_impose_refuses_pages_too_wide_for_the_sheet(booklet):
    with pytest.raises(ValueError, match='does not fit'):
        imposition.impose(_open(booklet), sheet_size_mm=(210, 297))
