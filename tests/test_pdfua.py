"""The screen PDF declares and meets PDF/UA-1, as far as it can be checked without veraPDF.

One edition, nine-facts kyrgyzstan/ky, of the session's build of the shipped
booklet (conftest's ``built``) is read with pikepdf (XMP, catalogue, structure tree, content streams, ToUnicode CMaps)
and poppler (``pdfinfo -struct-text``: the text in the structure tree's reading
order; ``pdftotext``: all the text drawn), with code written here, never by
asking bindery. The source text it is compared with is the seed (tests/seedtext.py)
and the edition's YAML, read with PyYAML.

Then what the finishing must not do (change a pixel) and what the screen
preflight must catch: a layout whose headings skip a level fails the build,
and content left untagged, a reading order broken or the XMP missing fail the
preflight's reading of a file.
"""

import re
import shutil
import subprocess
from collections import Counter

import pikepdf
import pytest
import yaml
from pikepdf import Name

from conftest import ROOT, FixtureProject, output_paths
from seedtext import seed_blocks, words

COUNTRY, LANG = 'kyrgyzstan', 'ky'
HTML = 'layouts/nine-facts/booklet.html'
#: Operators that paint: what PDF/UA wants either tagged or marked as an artifact.
PAINT = {'Tj', 'TJ', "'", '"', 'f', 'F', 'f*', 'S', 's', 'B', 'B*', 'b', 'b*', 'sh',
         'INLINE IMAGE'}
#: The standard structure types of ISO 32000-1, 14.8.4.
STANDARD = set('Document Part Art Sect Div BlockQuote Caption TOC TOCI Index NonStruct '
               'Private P H H1 H2 H3 H4 H5 H6 L LI Lbl LBody Table TR TH TD THead TBody '
               'TFoot Span Quote Note Reference BibEntry Code Link Annot Ruby RB RT RP '
               'Warichu WT WP Figure Formula Form'.split())


class Inputs:
    """The inputs the session's build was made from (the repository), read as a
    fixture project is."""

    def __init__(self, root):
        self.root = root

    def read(self, relative):
        return (self.root / relative).read_text(encoding='utf-8')


@pytest.fixture(scope='module')
def built(built):
    """The ky edition of the session's build: ``(its inputs, its output paths)``."""
    out = built[LANG].print.parent.parent
    return Inputs(ROOT), output_paths(out, COUNTRY, LANG)


@pytest.fixture(scope='module')
def screen(built):
    return built[1]['screen']


# Reading the structure tree and the content, here and independently of bindery

def tree_of(pdf):
    """``(elements in reading order, {(objgen of page or form, MCID): element})`` of
    every element reachable from the StructTreeRoot, through its /K only."""
    elements, items, seen = [], {}, set()

    def walk(node, page):
        if not isinstance(node, pikepdf.Dictionary) or node.objgen in seen:
            return
        seen.add(node.objgen)
        if node.get('/Type') in (Name.MCR, Name.OBJR):
            return
        page = node.get('/Pg', page)
        if node.get('/Type') != Name.StructTreeRoot:
            elements.append(node)
        kids = node.get('/K', [])
        for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
            if isinstance(kid, int):
                items[(page.objgen, int(kid))] = node
            elif isinstance(kid, pikepdf.Dictionary) and kid.get('/Type') == Name.MCR:
                owner = kid.get('/Stm', kid.get('/Pg', page))
                items[(owner.objgen, int(kid.MCID))] = node
            else:
                walk(kid, page)

    walk(pdf.Root.StructTreeRoot, None)
    return elements, items


def content_problems(pdf):
    """Every way the content of ``pdf`` breaks "tagged or artifact": a top-level
    marked-content sequence neither /Artifact nor an MCID the ParentTree maps to an
    element of the tree that holds it; painting outside any; artifacts and tagged
    content nested in each other. Forms are read where they are drawn."""
    _, items = tree_of(pdf)
    parents = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)
    problems = []

    def walk(number, source, owner, resources, stack, seen):
        key = owner.get('/StructParents')
        mapping = parents[int(key)] if key is not None and int(key) in parents else None
        for operands, operator in pikepdf.parse_content_stream(source):
            op = str(operator)
            if op in ('BDC', 'BMC'):
                properties = operands[1] if op == 'BDC' else None
                mcid = (int(properties.MCID) if isinstance(properties, pikepdf.Dictionary)
                        and '/MCID' in properties else None)
                if operands[0] == Name.Artifact:
                    if 'tagged' in stack:
                        problems.append(f'page {number}: an artifact inside tagged content')
                    stack.append('artifact')
                elif mcid is not None:
                    element = items.get((owner.objgen, mcid))
                    mapped = (mapping[mcid] if mapping is not None and mcid < len(mapping)
                              else None)
                    if element is None:
                        problems.append(f'page {number}: MCID {mcid} is in no element '
                                        'of the tree')
                    elif not isinstance(mapped, pikepdf.Dictionary) or (
                            mapped.objgen != element.objgen):
                        problems.append(f'page {number}: the ParentTree does not map '
                                        f'MCID {mcid} to its element')
                    if 'artifact' in stack:
                        problems.append(f'page {number}: MCID {mcid} inside an artifact')
                    stack.append('tagged')
                else:
                    if not stack:
                        problems.append(f'page {number}: {operands[0]} {op} at top level, '
                                        'neither an artifact nor tagged')
                    stack.append('other')
            elif op == 'EMC':
                stack.pop()
            elif op in PAINT and not any(kind != 'other' for kind in stack):
                problems.append(f'page {number}: {op} outside marked content')
            elif op == 'Do':
                xobject = resources.XObject[str(operands[0])]
                if xobject.Subtype == Name.Form:
                    if xobject.objgen not in seen:
                        seen.add(xobject.objgen)
                        walk(number, xobject, xobject, xobject.get('/Resources', resources),
                             list(stack), seen)
                elif not any(kind != 'other' for kind in stack):
                    problems.append(f'page {number}: a picture outside marked content')

    for number, page in enumerate(pdf.pages, 1):
        walk(number, page, page.obj, page.resources, [], set())
    return problems


def struct_text(path):
    """The text poppler reads from the structure tree, in its order (one line per
    content item, as ``pdfinfo -struct-text`` quotes them)."""
    out = subprocess.run(['pdfinfo', '-struct-text', str(path)], capture_output=True,
                         check=True).stdout.decode('utf-8')
    return '\n'.join(line.strip()[1:-1] for line in out.splitlines()
                     if len(line.strip()) > 1 and line.strip()[0] == line.strip()[-1] == '"')


def find(haystack, needle, start=0):
    """Index just past the first run of ``needle`` in ``haystack`` from ``start``, or -1."""
    for index in range(start, len(haystack) - len(needle) + 1):
        if haystack[index:index + len(needle)] == needle:
            return index + len(needle)
    return -1


# The built screen PDF

def test_xmp_declares_pdfua_1_with_title_and_language(screen):
    with pikepdf.open(screen) as pdf:
        metadata = pdf.Root.Metadata
        assert metadata.Type == Name.Metadata and metadata.Subtype == Name.XML
        with pdf.open_metadata(update_docinfo=False) as xmp:
            assert xmp['pdfuaid:part'] == '1'
            assert xmp['dc:title'] == str(pdf.docinfo.Title) != ''
            assert list(xmp['dc:language']) == [str(pdf.Root.Lang)] == [LANG]
        packet = metadata.read_bytes().decode('utf-8')
    # The namespace itself, as veraPDF looks for it.
    assert 'xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/"' in packet


def test_xmp_agrees_with_the_info_dictionary(screen):
    with pikepdf.open(screen) as pdf:
        info = {str(key): str(value) for key, value in pdf.docinfo.items()}
        with pdf.open_metadata(update_docinfo=False) as xmp:
            assert xmp['dc:description'] == info['/Subject']
            assert list(xmp['dc:creator']) == [info['/Author']]
            assert xmp['xmp:CreatorTool'] == info['/Creator']
            assert xmp['pdf:Producer'] == info['/Producer']
            assert xmp['xmp:CreateDate'].startswith('2023-11-14T22:13:20')  # EPOCH
    assert info['/CreationDate'].startswith('D:20231114221320')


def test_catalogue_and_pages(screen):
    with pikepdf.open(screen) as pdf:
        assert pdf.pdf_version == '1.7'  # PDF/UA-1 is a PDF 1.x file
        assert pdf.Root.MarkInfo.Marked is True
        assert pdf.Root.MarkInfo.get('/Suspects', False) is False
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert [page.obj.get('/Tabs') for page in pdf.pages] == [Name.S] * len(pdf.pages)


def test_no_content_outside_the_tree_unless_artifact(screen):
    with pikepdf.open(screen) as pdf:
        problems = content_problems(pdf)
        _, items = tree_of(pdf)
    assert not problems, '\n'.join(problems)
    assert len(items) > 100  # the text is tagged, not all artifacts


def test_structure_types_are_standard_and_headings_in_order(screen):
    with pikepdf.open(screen) as pdf:
        elements, _ = tree_of(pdf)
        assert '/RoleMap' not in pdf.Root.StructTreeRoot
        types = [str(element.S)[1:] for element in elements]
        assert set(types) <= STANDARD, set(types) - STANDARD
        assert all('/P' in element for element in elements)
        figures = [element for element in elements if element.S == Name.Figure]
        assert all(str(element.get('/Alt', '')).strip() for element in figures)
    headings = [kind for kind in types if re.fullmatch(r'H[1-6]', kind)]
    assert headings == ['H1', 'H2', 'H2']  # cover title; intro title; facts opener
    level = 0
    for heading in headings:
        assert int(heading[1]) <= level + 1, headings
        level = int(heading[1])


def test_no_empty_elements(screen):
    """An empty <p> (the running heads' string-set) and the spacers between facts
    hold nothing: a screen reader would announce empty paragraphs and groups."""
    with pikepdf.open(screen) as pdf:
        elements, _ = tree_of(pdf)
        empty = [str(element.S) for element in elements if not element.get('/K')]
    assert not empty, empty


def _to_unicode(stream):
    """The codes a ToUnicode CMap maps, and the text of each (bfchar and bfrange)."""
    data = stream.read_bytes().decode('latin-1')
    found = {}
    for body in re.findall(r'beginbfchar(.*?)endbfchar', data, re.S):
        for code, text in re.findall(r'<(\w+)>\s*<(\w*)>', body):
            found[int(code, 16)] = bytes.fromhex(text).decode('utf-16-be')
    for body in re.findall(r'beginbfrange(.*?)endbfrange', data, re.S):
        for low, high, text in re.findall(r'<(\w+)>\s*<(\w+)>\s*<(\w+)>', body):
            for offset in range(int(high, 16) - int(low, 16) + 1):
                found[int(low, 16) + offset] = chr(int(text, 16) + offset)
        assert '[' not in body  # none of the array form is written today
    return found


def shown_codes(pdf):
    """``{font objgen: (font, {code: first page shown on})}`` of the two-byte codes
    that text-showing operators use (all fonts are Type0, Identity-H)."""
    shown = {}
    for number, page in enumerate(pdf.pages, 1):
        fonts, codes = page.resources.Font, None
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op == 'Tf':
                font = fonts[str(operands[0])]
                assert font.Subtype == Name.Type0 and font.Encoding == Name('/Identity-H')
                codes = shown.setdefault(font.objgen, (font, {}))[1]
            elif op in ('Tj', 'TJ'):
                for part in (operands[0] if op == 'TJ' else operands):
                    if isinstance(part, pikepdf.String):
                        data = bytes(part)
                        for index in range(0, len(data), 2):
                            codes.setdefault(int.from_bytes(data[index:index + 2], 'big'),
                                             number)
    return shown


def test_every_glyph_maps_to_unicode(screen):
    """Each font has a ToUnicode CMap, and every code the pages show is in it, as
    text other than U+0000, U+FFFD, U+FFFE and U+FEFF; no code shows .notdef (CID 0)."""
    problems = []
    with pikepdf.open(screen) as pdf:
        for font, codes in shown_codes(pdf).values():
            mapping = _to_unicode(font.ToUnicode)
            for code, number in sorted(codes.items()):
                text = mapping.get(code, '')
                if code == 0 or not text or set(text) & {'\0', '\ufffd', '\ufffe', '\ufeff'}:
                    problems.append(f'page {number}: {font.BaseFont} code {code:04x} '
                                    f'-> {text!r}')
    assert not problems, problems[:10]


def _widths(cid_font):
    """``{CID: width}`` from a CIDFont's /W array."""
    entries, widths, index = list(cid_font.W), {}, 0
    while index < len(entries):
        first = int(entries[index])
        if isinstance(entries[index + 1], pikepdf.Array):
            widths.update((first + offset, float(width))
                          for offset, width in enumerate(entries[index + 1]))
            index += 2
        else:
            widths.update((cid, float(entries[index + 2]))
                          for cid in range(first, int(entries[index + 1]) + 1))
            index += 3
    return widths


def test_glyph_widths_agree_with_the_embedded_fonts(screen):
    """PDF/UA-1 7.21.5: the widths the font dictionary gives (/W) are those of the
    embedded font program (hmtx, read with fontTools), within 1/1000 em; and every
    glyph shown is in the program (7.21.4.1)."""
    import io as bytes_io

    from fontTools.ttLib import TTFont

    problems, checked = [], 0
    with pikepdf.open(screen) as pdf:
        for font, codes in shown_codes(pdf).values():
            cid_font = font.DescendantFonts[0]
            widths = _widths(cid_font)
            problems += [f'{font.BaseFont}: CID {cid} has no /W width' for cid in codes
                         if cid not in widths]
            assert cid_font.get('/CIDToGIDMap', Name.Identity) == Name.Identity
            descriptor = cid_font.FontDescriptor
            program = descriptor.get('/FontFile2') or descriptor.get('/FontFile3')
            with TTFont(bytes_io.BytesIO(program.read_bytes())) as embedded:
                glyphs = embedded.getGlyphOrder()
                scale = 1000 / embedded['head'].unitsPerEm
                advances = embedded['hmtx']
                for cid, width in widths.items():
                    checked += 1
                    if cid >= len(glyphs):
                        problems.append(f'{font.BaseFont}: CID {cid} is not in the font')
                    elif abs(advances[glyphs[cid]][0] * scale - width) > 1:
                        problems.append(f'{font.BaseFont}: CID {cid} is {width} wide in /W, '
                                        f'{advances[glyphs[cid]][0] * scale:.1f} in the font')
    assert checked > 100 and not problems, problems[:10]


def test_struct_text_reads_the_booklet_in_order(built, screen):
    """The structure tree reads the edition's text as the booklet prints it: every
    text of the YAML, whole and in the page order, nothing between two words."""
    project, _ = built
    edition = yaml.safe_load(project.read(f'data/{COUNTRY}/{LANG}.yaml'))
    strings = yaml.safe_load(project.read(f'layouts/nine-facts/strings/{LANG}.yaml'))
    country = yaml.safe_load(project.read(f'data/{COUNTRY}/country.yaml'))
    span = f'{country["founded"]}–{country["anniversary"]}'
    years = str(country['anniversary'] - country['founded'])
    order = [strings['network'], edition['foundation'], years, strings['years'], span,
             edition['title'], edition['facts_title'],  # the cover
             edition['title'], *edition['intro'],  # page 2
             edition['facts_kicker'], edition['facts_title']]  # page 3
    for number, fact in enumerate(edition['facts'], 1):
        order += [str(number), fact['text']]
    order += [years, edition['foundation'], strings['network'], span]  # the back
    found = words(struct_text(screen))
    position = 0
    for text in order:
        end = find(found, words(text), position)
        assert end >= 0, f'{text[:60]!r} is not whole, or not after what precedes it'
        position = end
    assert position == len(found), f'more in the tree: {found[position:]}'


def test_struct_text_holds_every_seed_block_whole(screen):
    """Every heading, paragraph and fact of the seed, word for word with nothing
    between (running heads and folios are artifacts now); the facts in order, each
    right after its numeral."""
    found = words(struct_text(screen))
    problems = [f'{kind} {text[:50]!r}' for kind, _, text in seed_blocks(LANG)
                if find(found, words(text)) < 0]
    assert not problems, problems
    position = 0
    for kind, number, text in seed_blocks(LANG):
        if kind == 'fact':
            position = find(found, [str(number)] + words(text), position)
            assert position >= 0, f'fact {number} out of order'


def test_running_heads_and_folios_are_the_only_text_left_out(screen):
    """Everything poppler sees drawn is in the tree, but for each page's running
    head (its first line) and folio (its last) on pages 2 and 4-7."""
    drawn = subprocess.run(['pdftotext', '-raw', '-enc', 'UTF-8', str(screen), '-'],
                           capture_output=True, check=True).stdout.decode('utf-8')
    furniture = []
    for number in (2, 4, 5, 6, 7):
        page = subprocess.run(['pdftotext', '-layout', '-enc', 'UTF-8', '-f', str(number),
                               '-l', str(number), str(screen), '-'], capture_output=True,
                              check=True).stdout.decode('utf-8')
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert lines[-1] == str(number)
        furniture += [lines[0], lines[-1]]
    left_out = Counter(words(drawn)) - Counter(words(struct_text(screen)))
    assert left_out == Counter(words('\n'.join(furniture)))
    assert not Counter(words(struct_text(screen))) - Counter(words(drawn))


def test_the_screen_preflight_reports_the_checks(built):
    import json

    report = json.loads(built[1]['preflight'].read_text(encoding='utf-8'))
    checks = {finding['check']: finding for finding in report['outputs']['screen']}
    for check in ('pdfua', 'tags', 'headings', 'alt-text', 'unicode', 'reading-order'):
        assert checks[check]['ok'], checks[check]
    assert 'pdfua' not in {finding['check'] for finding in report['outputs']['print']}


# The finishing draws what WeasyPrint drew, and tags what it left out

SYNTHETIC = '''<!doctype html>
<html lang="en"><head><title>Synthetic</title><style>
@font-face {{ font-family: Inter; src: url({font}); }}
@page {{ size: 148mm 210mm; margin: 20mm; background: #fafafa;
        @top-center {{ content: "Running head"; border-bottom: 0.5pt solid black; }}
        @bottom-center {{ content: counter(page); }} }}
body {{ font-family: Inter; }}
h2 {{ opacity: 0.5; border-bottom: 1pt solid black; }}
.box {{ background: #eee; border: 2pt solid #333; padding: 3mm; }}
ol {{ list-style: decimal; }}
</style></head><body>
<h1>Title</h1><h2>Faded heading</h2>
<div class="box"><p>A paragraph with <a href="https://example.org/">a link</a>.</p></div>
<ol><li>First item</li><li>Second item</li></ol>
<p><img src="{picture}" alt="A red block" style="width: 20mm"></p>
<p></p>
<p style="break-before: page">Second page.</p>
</body></html>'''


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    """A page WeasyPrint tags with margin boxes, a picture, a link, a list, an
    opacity group, borders and backgrounds, finished for screen twice: as the
    build does, and without the PDF/UA step (``(with, without)`` paths)."""
    import weasyprint
    from PIL import Image

    from bindery import pdf as bindery_pdf
    from bindery import pdfua, pdfx, screen

    temp = tmp_path_factory.mktemp('synthetic')
    picture = temp / 'red.png'
    Image.new('RGB', (60, 40), (200, 30, 30)).save(picture)
    html = SYNTHETIC.format(font=(ROOT / 'fonts' / 'inter' / 'Inter-Regular.otf').as_uri(),
                            picture=picture.as_uri())
    written = temp / 'written.pdf'
    weasyprint.HTML(string=html).write_pdf(written, **bindery_pdf.WRITE_OPTIONS)
    finished, plain = temp / 'finished.pdf', temp / 'plain.pdf'
    shutil.copyfile(written, finished)
    shutil.copyfile(written, plain)
    screen.finish(finished, {}, pdfx.PROFILE)
    real, pdfua.make_pdfua = pdfua.make_pdfua, lambda pdf, parsed=None: None
    try:
        screen.finish(plain, {}, pdfx.PROFILE)
    finally:
        pdfua.make_pdfua = real
    return finished, plain


def _pixels(path, prefix):
    subprocess.run(['pdftoppm', '-r', '96', str(path), str(prefix)], check=True)
    return [page.read_bytes() for page in sorted(prefix.parent.glob(f'{prefix.name}-*.ppm'))]


def test_finishing_changes_no_pixel(synthetic, tmp_path):
    finished, plain = synthetic
    before, after = _pixels(plain, tmp_path / 'plain'), _pixels(finished, tmp_path / 'ua')
    assert len(before) == len(after) == 2
    assert before == after


def test_what_weasyprint_leaves_out_is_tagged_or_an_artifact(synthetic):
    finished, plain = synthetic
    with pikepdf.open(plain) as pdf:  # the margin boxes: MCIDs of no element
        assert any('MCID' in problem for problem in content_problems(pdf))
    with pikepdf.open(finished) as pdf:
        assert not content_problems(pdf)
        # The opacity group's text is referenced through the form, not the page.
        forms = [xobject for xobject in pdf.pages[0].resources.XObject.values()
                 if xobject.Subtype == Name.Form]
        assert forms and all('/StructParents' in form for form in forms)
        annotations = list(pdf.pages[0].obj.Annots)
        assert annotations and all(str(a.Contents) for a in annotations)
    text = struct_text(finished)
    assert 'Faded heading' in text and 'Running head' not in text
    assert words(text) == words('Title Faded heading A paragraph with a link . 1. First '
                                'item 2. Second item Second page.')


def test_untagged_painting_is_wrapped_as_artifacts(tmp_path):
    """What a writer paints outside any marked content (a path, text, a picture)
    becomes an artifact each, the marks around whole path and text operations;
    the tagged run stays in the tree; nothing drawn changes."""
    from bindery import pdfua

    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(200, 100))
    picture = pikepdf.Stream(pdf, b'\xc8\x1e\x1e', Type=Name.XObject, Subtype=Name.Image,
                             Width=1, Height=1, ColorSpace=Name.DeviceRGB, BitsPerComponent=8)
    page.obj.Resources = pikepdf.Dictionary(
        Font=pikepdf.Dictionary(F1=pikepdf.Dictionary(Type=Name.Font, Subtype=Name.Type1,
                                                      BaseFont=Name.Helvetica)),
        XObject=pikepdf.Dictionary(Im1=picture))
    page.obj.Contents = pdf.make_stream(
        b'q 0 0 1 rg 10 10 50 20 re 70 10 20 20 re f Q '
        b'/P << /MCID 0 >> BDC BT /F1 12 Tf 10 60 Td (Tagged) Tj ET EMC '
        b'BT /F1 12 Tf 10 80 Td (Loose) Tj 0 -30 Td (text) Tj ET '
        b'q 20 0 0 20 150 40 cm /Im1 Do Q 0 0 m 200 100 l S')
    paragraph = pdf.make_indirect(pikepdf.Dictionary(Type=Name.StructElem, S=Name.P,
                                                     Pg=page.obj, K=pikepdf.Array([0])))
    root = pdf.make_indirect(pikepdf.Dictionary(
        Type=Name.StructTreeRoot, K=pikepdf.Array([paragraph]),
        ParentTree=pikepdf.Dictionary(Nums=pikepdf.Array([0, pikepdf.Array([paragraph])]))))
    paragraph.P = root
    page.obj.StructParents = 0
    pdf.Root.StructTreeRoot = root
    pdf.Root.Lang = pikepdf.String('en')
    pdf.docinfo.Title = pikepdf.String('Loose ends')
    before, after = tmp_path / 'before.pdf', tmp_path / 'after.pdf'
    pdf.save(before)
    pdfua.make_pdfua(pdf)
    pdf.save(after)
    with pikepdf.open(before) as reread:
        assert len(content_problems(reread)) == 5  # 2 paths, 2 text runs, 1 picture
    with pikepdf.open(after) as reread:
        assert content_problems(reread) == []
        operators = [str(operator) for _, operator in
                     pikepdf.parse_content_stream(reread.pages[0])]
        with reread.open_metadata() as xmp:
            assert xmp['pdfuaid:part'] == '1' and xmp['dc:title'] == 'Loose ends'
    # The path's marks open before its first 're', not between it and the fill.
    first = operators.index('re')
    assert operators[first - 1] == 'BMC' and operators[operators.index('f') + 1] == 'EMC'
    assert words(struct_text(after)) == ['tagged']
    assert _pixels(before, tmp_path / 'b') == _pixels(after, tmp_path / 'a')


# What the screen preflight catches

def test_a_heading_that_skips_a_level_fails_the_screen_preflight(tmp_path):
    project = FixtureProject(tmp_path / 'project')
    project.replace(HTML, '<h2 class="intro-title">{{ edition.title }}</h2>',
                    '<h4 class="intro-title">{{ edition.title }}</h4>')
    out = tmp_path / 'out'
    run = project.run('--out', out, f'nine-facts/{COUNTRY}/{LANG}')
    assert run.returncode == 1, str(run)
    lines = [line for line in run.error_lines if 'preflight headings:' in line]
    assert lines and all(line.startswith(f'{COUNTRY}/{LANG} screen: ') for line in lines)
    assert 'page 2: heading H4' in lines[0] and 'skips a level' in lines[0], lines
    assert '<h2>' in lines[0], lines  # what to write instead
    assert not output_paths(out, COUNTRY, LANG)['screen'].exists()


def _preflight(pdf, blocks=(('title', 'АЧЫК КООМ КЫРГЫЗСТАНДА'),)):
    from bindery import preflight

    return [f for f in preflight.check_pdfua(pdf, LANG, blocks) if not f.ok]


def test_the_preflight_passes_the_built_file(screen):
    with pikepdf.open(screen) as pdf:
        assert _preflight(pdf) == []


def test_text_left_untagged_fails_the_preflight(screen):
    """The running head and folio of page 2 drawn without their /Artifact marks."""
    with pikepdf.open(screen) as pdf:
        page = pdf.pages[1]
        unwrapped, stack = [], []
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op in ('BMC', 'BDC'):
                stack.append((len(unwrapped), operands[0] == Name.Artifact))
            elif op == 'EMC':
                start, artifact = stack.pop()
                if artifact and any(str(o) in ('Tj', 'TJ') for _, o in unwrapped[start + 1:]):
                    del unwrapped[start]  # its BMC; and this EMC is not kept
                    continue
            unwrapped.append((operands, operator))
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(unwrapped))
        problems = _preflight(pdf)
    assert problems and all(f.check == 'tags' and f.page == 2 for f in problems), problems
    assert '2 text runs drawn outside the structure tree' in problems[0].message


def test_words_out_of_order_in_the_tree_fail_the_preflight(built, screen):
    """Two lines of the first paragraph swapped in the tree, not on the page."""
    project, _ = built
    first = yaml.safe_load(project.read(f'data/{COUNTRY}/{LANG}.yaml'))['intro'][0]
    blocks = [('intro[1]', first)]
    with pikepdf.open(screen) as pdf:
        assert _preflight(pdf, blocks) == []
        elements, _ = tree_of(pdf)
        paragraph = next(element for element in elements if element.S == Name.P
                         and len(element.K) > 2)
        kids = list(paragraph.K)
        paragraph.K = pikepdf.Array([kids[1], kids[0], *kids[2:]])
        problems = _preflight(pdf, blocks)
    assert [f.check for f in problems] == ['reading-order'], problems
    assert problems[0].page == 2, problems
    assert re.match(r"intro\[1\]: word \d+ \('\w+'\) is not where the structure tree "
                    'reads it', problems[0].message), problems


def test_a_missing_declaration_fails_the_preflight(screen):
    with pikepdf.open(screen) as pdf:
        del pdf.Root.Metadata
        del pdf.pages[2].obj.Tabs
        problems = _preflight(pdf)
    messages = [(f.check, f.page, f.message) for f in problems]
    assert ('pdfua', None, 'no XMP metadata stream in the catalogue') in messages
    assert any(page == 3 and '/Tabs /S' in message for _, page, message in messages)


def test_a_glyph_without_unicode_fails_the_preflight(screen):
    """A ToUnicode CMap that lost the mapping of the letter 'А' (U+0410)."""
    with pikepdf.open(screen) as pdf:
        for font in pdf.pages[0].resources.Font.values():
            data = font.ToUnicode.read_bytes()
            font.ToUnicode.write(re.sub(rb'<[0-9a-f]{4}> <0410>\n', b'', data))
        problems = _preflight(pdf)
    unicode = [f for f in problems if f.check == 'unicode']
    assert unicode and unicode[0].page == 1 and 'map to no Unicode text' in unicode[0].message
