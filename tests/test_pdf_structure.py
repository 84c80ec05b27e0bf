"""The PDFs as a print shop and a press office get them, read with pikepdf and Pillow.

Sizes are the product's (A5, 3 mm bleed), written here, not read from bindery.
Fonts are checked against the families named inside the font files in fonts/,
read with fontTools.
"""

import json
import re
import subprocess
from xml.etree import ElementTree
from decimal import Decimal

import pikepdf
import pytest
import yaml
from fontTools.ttLib import TTFont
from PIL import Image

from conftest import ROOT, output_paths, pdfium_pages

MM_TO_PT = 72 / 25.4

MM = Decimal(72) / Decimal('25.4')
TRIM_MM = (Decimal(148), Decimal(210))  # A5 portrait
BLEED_MM = Decimal(3)
TOLERANCE_MM = Decimal('0.1')
SCREEN_MAX_BYTES = 500 * 1024
COVER_WIDTH = 1200
SUBSET_TAG = re.compile(r'^[A-Z]{6}\+')
OUTPUTS = ('print', 'screen')


def box_mm(box):
    """``(x0, y0, x1, y1)`` of a PDF box, in mm, normalised."""
    x0, y0, x1, y1 = (Decimal(str(value)) / MM for value in box)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def size(box):
    return box[2] - box[0], box[3] - box[1]


def close(a, b):
    return abs(a - b) <= TOLERANCE_MM


def squash(name):
    return re.sub(r'[\s_-]', '', name).lower()


def font_families():
    """Family names (name IDs 1 and 16) of every font file in fonts/, squashed."""
    families = set()
    files = sorted(p for p in (ROOT / 'fonts').rglob('*') if p.suffix in ('.ttf', '.otf'))
    assert files, 'no font files in fonts/'
    for path in files:
        font = TTFont(path, lazy=True)
        for record in font['name'].names:
            if record.nameID in (1, 16):
                families.add(squash(record.toUnicode()))
        font.close()
    return families


def all_fonts(pdf):
    """Every font dictionary in the file (pages, form XObjects, patterns…)."""
    return [obj for obj in pdf.objects
            if isinstance(obj, pikepdf.Dictionary) and obj.get('/Type') == '/Font'
            and obj.get('/Subtype') not in ('/CIDFontType0', '/CIDFontType2')]  # descendants


@pytest.fixture(params=OUTPUTS)
def output(request):
    return request.param


@pytest.fixture
def pdf(edition, output):
    with pikepdf.open(edition.pdf(output)) as document:
        yield document


# Pages and boxes

def test_eight_pages_a_multiple_of_four(pdf):
    assert len(pdf.pages) == 8
    assert len(pdf.pages) % 4 == 0


def test_print_boxes_trim_bleed_media(edition):
    with pikepdf.open(edition.print) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            assert '/TrimBox' in page.obj and '/BleedBox' in page.obj, f'page {number}'
            trim = box_mm(page.obj.TrimBox)
            bleed = box_mm(page.obj.BleedBox)
            media = box_mm(page.mediabox)
            width, height = size(trim)
            assert close(width, TRIM_MM[0]) and close(height, TRIM_MM[1]), (
                f'page {number}: TrimBox {width:.2f} × {height:.2f} mm')
            # The BleedBox is the TrimBox grown by the bleed on every side.
            for edge, sign in zip(range(4), (-1, -1, 1, 1)):
                assert close(bleed[edge], trim[edge] + sign * BLEED_MM), (
                    f'page {number}: BleedBox {bleed} is not TrimBox {trim} + 3 mm')
            # The MediaBox holds the BleedBox (it may be larger, for marks).
            assert media[0] <= bleed[0] + TOLERANCE_MM and media[1] <= bleed[1] + TOLERANCE_MM
            assert media[2] + TOLERANCE_MM >= bleed[2] and media[3] + TOLERANCE_MM >= bleed[3]


def test_screen_has_no_bleed(edition):
    with pikepdf.open(edition.screen) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            media = box_mm(page.mediabox)
            width, height = size(media)
            assert close(width, TRIM_MM[0]) and close(height, TRIM_MM[1]), (
                f'page {number}: MediaBox {width:.2f} × {height:.2f} mm')
            for name in ('/TrimBox', '/BleedBox', '/CropBox'):
                if name in page.obj:
                    box = box_mm(page.obj[name])
                    assert all(close(a, b) for a, b in zip(box, media)), (
                        f'page {number}: {name} {box} differs from the MediaBox {media}')


# Fonts

def font_problems(pdf, families):
    """What is wrong with the fonts of ``pdf``, one line each."""
    fonts = all_fonts(pdf)
    if not fonts:
        return ['no fonts at all']
    problems = []
    for font in fonts:
        name = str(font.get('/BaseFont', '/?'))[1:]
        descendant = font.DescendantFonts[0] if '/DescendantFonts' in font else font
        descriptor = descendant.get('/FontDescriptor')
        if font.get('/Subtype') == '/Type3' or descriptor is None:
            problems.append(f'{name}: {font.get("/Subtype")} without a font file')
            continue
        if not any(key in descriptor for key in ('/FontFile', '/FontFile2', '/FontFile3')):
            problems.append(f'{name}: not embedded')
        if not SUBSET_TAG.match(name):
            problems.append(f'{name}: no subset tag')
        bare = squash(SUBSET_TAG.sub('', name))
        if 'dejavu' in bare or not any(bare.startswith(family) for family in families):
            problems.append(f'{name}: not a family of fonts/ ({sorted(families)})')
        if '/ToUnicode' not in font:
            problems.append(f'{name}: no /ToUnicode, copied text would be garbage')
    return problems


def test_every_font_embedded_subset_and_from_fonts_folder(pdf):
    problems = font_problems(pdf, font_families())
    assert not problems, '\n'.join(problems)


def test_font_check_can_fail(tmp_path):
    """A PDF set in a system font (DejaVu, as WeasyPrint falls back to) is caught."""
    import io

    import weasyprint

    html = '<p style="font-family: DejaVu Sans">Ашық қоғам</p>'
    data = weasyprint.HTML(string=html).write_pdf()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        names = [str(f.get('/BaseFont')) for f in all_fonts(pdf)]
        if not any('DejaVu' in name for name in names):
            pytest.skip(f'no DejaVu on this machine ({names})')
        problems = font_problems(pdf, font_families())
    assert any('not a family of fonts/' in problem for problem in problems), problems


def test_both_families_are_used(pdf):
    """Noto Serif for reading, Inter for the rest: both really are in the file."""
    names = {squash(SUBSET_TAG.sub('', str(f.get('/BaseFont'))[1:])) for f in all_fonts(pdf)}
    assert any(n.startswith('notoserif') for n in names), names
    assert any(n.startswith('inter') for n in names), names


# Metadata, structure, bookmarks

def test_lang_and_title(pdf, edition):
    assert str(pdf.Root.get('/Lang', '')) == edition.lang
    title = str(pdf.docinfo.get('/Title', '')).strip()
    assert title, '/Title is empty'
    assert not title.lower().endswith('.pdf') and title.lower() != 'untitled'


def test_screen_is_tagged(edition):
    with pikepdf.open(edition.screen) as pdf:
        assert '/StructTreeRoot' in pdf.Root
        assert '/K' in pdf.Root.StructTreeRoot, 'an empty structure tree'
        assert bool(pdf.Root.get('/MarkInfo', {}).get('/Marked', False)) is True


def _outline(pdf):
    """Every bookmark as ``(title, page number or None)``, depth first."""
    pages = {page.objgen: number for number, page in enumerate(pdf.pages, 1)}
    names = {}
    if '/Names' in pdf.Root and '/Dests' in pdf.Root.Names:
        names = dict(pikepdf.NameTree(pdf.Root.Names.Dests).items())
    found = []

    def page_of(item):
        dest = item.destination
        if dest is None and item.action is not None and '/D' in item.action:
            dest = item.action.D
        if isinstance(dest, (pikepdf.String, pikepdf.Name, str)):
            dest = names.get(str(dest))
            if isinstance(dest, pikepdf.Dictionary):
                dest = dest.D
        if isinstance(dest, pikepdf.Array) and len(dest):
            return pages.get(dest[0].objgen)
        return None

    def walk(items):
        for item in items:
            found.append((str(item.title), page_of(item)))
            walk(item.children)

    with pdf.open_outline() as outline:
        walk(outline.root)
    return found


def test_screen_bookmarks_lead_to_the_nine_facts(edition):
    from seedtext import seed_blocks, words

    facts = {number: text for kind, number, text in seed_blocks(edition.lang)
             if kind == 'fact'}
    pages = pdfium_pages(str(edition.screen))
    with pikepdf.open(edition.screen) as pdf:
        outline = _outline(pdf)
    assert len(outline) >= 9
    for number, text in facts.items():
        # "1. Қазақстанда «Ашық қоғам» …": the numeral, then the fact's first words.
        hits = [(title, page) for title, page in outline
                if words(title)[:1] == [str(number)] and len(words(title)) > 1
                and words(text)[:len(words(title)) - 1] == words(title.rstrip(' …'))[1:]]
        assert hits, f'no bookmark starting fact {number}: {outline}'
        title, page = hits[0]
        assert page is not None, f'bookmark {title!r} leads nowhere'
        assert ' '.join(words(text)[:4]) in ' '.join(words(pages[page - 1])), (
            f'bookmark {title!r} leads to page {page}, not to the fact')


# Colour

RGB_OPERATORS = {'rg', 'RG'}
RGB_SPACES = {'/DeviceRGB', '/CalRGB'}


def _space_is_rgb(space):
    if isinstance(space, pikepdf.Name):
        return str(space) in RGB_SPACES
    if isinstance(space, pikepdf.Array) and len(space):
        family = str(space[0])
        if family in RGB_SPACES:
            return True
        if family == '/ICCBased':
            return int(space[1].get('/N', 0)) == 3
        if family in ('/Indexed', '/Separation', '/DeviceN'):
            return any(_space_is_rgb(part) for part in list(space)[1:3])
    return False


def _content_problems(owner, resources, where, seen):
    """RGB operators and colour spaces in a content stream and what it calls."""
    problems = []
    spaces = resources.get('/ColorSpace', {}) if resources is not None else {}
    for operands, operator in pikepdf.parse_content_stream(owner):
        op = str(operator)
        if op in RGB_OPERATORS:
            problems.append(f'{where}: {op} {list(operands)}')
        elif op in ('cs', 'CS'):
            name = operands[0]
            space = spaces.get(name, name) if str(name).startswith('/') else name
            if _space_is_rgb(space):
                problems.append(f'{where}: {op} {name} is RGB')
    for kind in ('/XObject', '/Pattern'):
        children = resources.get(kind, {}) if resources is not None else {}
        for key in children.keys():
            child = children[key]
            if child.objgen in seen:
                continue
            seen.add(child.objgen)
            label = f'{where} {kind[1:]} {key}'
            if child.get('/Subtype') == '/Image':
                if _space_is_rgb(child.get('/ColorSpace')):
                    problems.append(f'{label}: RGB image')
            elif isinstance(child, pikepdf.Stream):  # a form or a tiling pattern
                group = child.get('/Group')
                if group is not None and _space_is_rgb(group.get('/CS')):
                    problems.append(f'{label}: RGB transparency group')
                problems += _content_problems(child, child.get('/Resources'), label, seen)
            elif '/Shading' in child and _space_is_rgb(child.Shading.get('/ColorSpace')):
                problems.append(f'{label}: RGB shading')
    for key in (resources.get('/Shading', {}) if resources is not None else {}).keys():
        if _space_is_rgb(resources.Shading[key].get('/ColorSpace')):
            problems.append(f'{where} shading {key}: RGB')
    return problems


def test_print_has_no_rgb(edition):
    problems, seen = [], set()
    with pikepdf.open(edition.print) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            group = page.obj.get('/Group')
            if group is not None and _space_is_rgb(group.get('/CS')):
                problems.append(f'page {number}: RGB transparency group')
            problems += _content_problems(page, page.resources, f'page {number}', seen)
    assert not problems, '\n'.join(problems[:20])


def test_rgb_check_can_fail(edition):
    """The screen PDF is RGB: the same check must see it."""
    with pikepdf.open(edition.screen) as pdf:
        page = pdf.pages[0]
        assert _content_problems(page, page.resources, 'page 1', set())


def _space_family(space, spaces):
    """The colour space a ``cs`` operand selects, as a word: DeviceCMYK, ICCBased4…"""
    if isinstance(space, pikepdf.Name) and str(space) in spaces:
        space = spaces[str(space)]
    if isinstance(space, pikepdf.Name):
        return str(space)[1:]
    family = str(space[0])[1:]
    if family == 'ICCBased':
        return f'ICCBased{int(space[1].get("/N", 0))}'
    if family in ('Separation', 'DeviceN'):
        return family + ('RGB' if _space_is_rgb(space[2]) else '')
    return family


def test_print_colours_are_cmyk(edition):
    """Every fill and stroke colour space chosen in print is a CMYK one (or gray, a
    spot or registration colour with a CMYK alternate, or a pattern)."""
    allowed = {'DeviceCMYK', 'DeviceGray', 'ICCBased4', 'ICCBased1', 'Separation',
               'DeviceN', 'Pattern'}
    chosen = set()
    with pikepdf.open(edition.print) as pdf:
        for page in pdf.pages:
            spaces = page.resources.get('/ColorSpace', {})
            spaces = {str(key): spaces[key] for key in spaces.keys()}
            for operands, operator in pikepdf.parse_content_stream(page):
                if str(operator) in ('cs', 'CS'):
                    chosen.add(_space_family(operands[0], spaces))
                elif str(operator) in ('k', 'K'):
                    chosen.add('DeviceCMYK')
    assert 'DeviceCMYK' in chosen and chosen <= allowed, chosen


# Size and cover

def test_screen_is_small(edition):
    assert edition.screen.stat().st_size < SCREEN_MAX_BYTES


def test_cover_png(edition):
    with Image.open(edition.cover) as image:
        assert image.format == 'PNG'
        width, height = image.size
        assert abs(width - COVER_WIDTH) <= 2, image.size
        ratio = Decimal(height) / Decimal(width)
        a5 = TRIM_MM[1] / TRIM_MM[0]
        assert abs(ratio - a5) / a5 < Decimal('0.01'), f'{image.size} is not A5'
        # The cover is the navy page 1, not a blank or a white page.
        colours = image.convert('RGB').resize((16, 16)).getcolors(256)
        darkest = min(sum(rgb) for _, rgb in colours)
        assert darkest < 3 * 128, 'the cover image looks blank'


def test_preflight_report_is_json_and_ok(edition):
    report = json.loads(edition.preflight.read_text(encoding='utf-8'))
    assert report.get('ok') is True, report


# Vertical justification

def _line_boxes(path, page):
    """``(yMin, yMax, text)`` of each line poppler finds on ``page``, in pt from the top."""
    done = subprocess.run(['pdftotext', '-bbox-layout', '-f', str(page), '-l', str(page),
                           str(path), '-'], capture_output=True, check=True)
    tree = ElementTree.fromstring(done.stdout)
    return [(float(line.get('yMin')), float(line.get('yMax')),
             ' '.join(word.text for word in line if word.tag.endswith('word')))
            for line in tree.iter() if line.tag.endswith('}line')]


def test_fact_pages_are_justified_vertically(edition):
    assert_justified(edition.screen)


def test_a_layout_whose_boxes_cannot_simply_move_is_justified_too(project, tmp_path):
    """Facts with margins larger than the gaps' collapse into them: the builder
    lays the pages out again with the shares rather than moving boxes."""
    css = 'layouts/nine-facts/booklet.css'
    project.write(css, project.read(css) + '\n.fact { margin: 9mm 0; }\n')
    out = tmp_path / 'out'
    run = project.run('--out', out, 'kyrgyzstan/ky')
    assert run.returncode == 0, str(run)
    assert_justified(output_paths(out, 'kyrgyzstan', 'ky')['screen'])


def assert_justified(screen):
    """On each facts page the space between facts is shared out evenly, until the
    last line ends at the foot of the page area (the same height on every such
    page, clear of the folio) or each space has grown by the layout's most
    (``justify_max_mm``)."""
    limit_pt = yaml.safe_load((ROOT / 'layouts/nine-facts/layout.yaml').read_text(
        encoding='utf-8'))['justify_max_mm'] * MM_TO_PT
    pages = {}
    for page in (4, 5, 6, 7):
        lines = sorted(_line_boxes(screen, page))
        folio = [line for line in lines if line[2] == str(page)][-1:]  # not fact 6's numeral
        body = [line for line in lines if line not in folio]
        numerals = [line for line in body if line[2].isdigit() and line[1] - line[0] > 20]
        spaces = [numeral[0] - max(bottom for _, bottom, _ in body if bottom <= numeral[0])
                  for numeral in numerals[1:]]
        bottom = max(bottom for _, bottom, _ in body)
        assert folio and folio[0][0] > bottom + 5 * MM_TO_PT, (page, folio, bottom)
        assert spaces and max(spaces) - min(spaces) < 1, (page, spaces)
        pages[page] = bottom, min(spaces)
    foot = max(bottom for bottom, _ in pages.values())
    for page, (bottom, space) in pages.items():
        assert bottom > foot - MM_TO_PT or space > limit_pt, (page, pages)
