"""Where ink lands: every glyph inside its page's trim, no text painting over another.

Small pages are laid out with WeasyPrint and read back by the preflight's
ink-bounds check, which measures each glyph's tight box as PDFium finds it in
the PDF, not the line box the layout gave it: a letter carrying a pile of
combining accents has an ordinary line box and paints far above it.
"""

import time

import pikepdf
import pypdfium2
import pytest

from bindery import inkbounds, preflight, textcheck
from conftest import ROOT

#: Noto Serif stacks mark on mark (its mkmk feature), as the booklets' body text
#: does; Inter draws a pile of acutes on one spot, where it paints no further.
SERIF = (ROOT / 'fonts' / 'noto-serif' / 'NotoSerif-Regular.ttf').as_uri()
ACUTE = '\u0301'
BLOCKS = [('first.text', 'The first block of the page, a sentence or two of plain words.'),
          ('second.text', 'a' + ACUTE * 300 + ' second block.')]


def page_pdf(path, second, extra=''):
    """A 100 × 80 mm page (bleed 3 mm, TrimBox the page) with two paragraphs in
    Noto Serif: BLOCKS' first, then ``second``; ``extra`` HTML after them."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    html = f'''<style>
      @font-face {{ font-family: T; src: url({SERIF}); }}
      @page {{ size: 100mm 80mm; margin: 12mm; bleed: 3mm; }}
      body {{ font: 10pt/1.3 T; margin: 0; }}
      p {{ margin: 0 0 2mm; }}
    </style>
    <p>{BLOCKS[0][1]}</p><p>{second}</p>{extra}'''
    fonts = FontConfiguration()  # without it, @font-face is ignored
    weasyprint.HTML(string=html).write_pdf(path, font_config=fonts)
    return path


def ink(path, blocks=BLOCKS):
    return preflight.check_ink_bounds(path, blocks, 'test')


def test_plain_text_passes(tmp_path):
    path = page_pdf(tmp_path / 'plain.pdf', 'A second block.')
    [finding] = ink(path, [BLOCKS[0], ('second.text', 'A second block.')])
    assert finding.ok and finding.check == 'ink-bounds', finding
    assert 'inside the trim' in finding.message


def test_a_pile_of_combining_marks_paints_past_the_trim(tmp_path):
    """300 acutes on one letter: the line box is a line's, the ink is not."""
    path = page_pdf(tmp_path / 'marks.pdf', BLOCKS[1][1])
    with pikepdf.open(path) as pdf:  # the page's own line boxes are fine: one page
        assert len(pdf.pages) == 1
    findings = ink(path)
    assert [f.ok for f in findings] == [False], findings
    [finding] = findings
    assert finding.page == 1
    assert finding.message.startswith('second.text paints '), finding.message
    reach = float(finding.message.split(' paints ')[1].split(' mm ')[0])
    assert reach > 20, finding.message  # far past the 3 mm bleed, not a hair
    assert 'above the trim' in finding.message
    assert 'over first.text' in finding.message  # on its way up
    assert 'combining marks stacked on a letter' in finding.message
    assert 'write the text without' in finding.message


def test_a_few_marks_paint_over_the_block_above(tmp_path):
    """Twelve acutes stay on the page but paint over the paragraph above."""
    text = 'a' + ACUTE * 12 + ' second block.'
    path = page_pdf(tmp_path / 'few.pdf', text)
    [finding] = ink(path, [BLOCKS[0], ('second.text', text)])
    assert not finding.ok
    assert finding.message.startswith('second.text paints over first.text ('), finding
    assert 'the trim' not in finding.message


def test_the_layouts_text_off_the_page_is_named_by_its_line(tmp_path):
    """Every text is checked, not only the source's: a folio the CSS pushes off
    the page is the layout's to fix."""
    path = page_pdf(tmp_path / 'folio.pdf', 'A second block.',
                    '<div style="position: absolute; left: -30mm; top: 5mm">Folio 7</div>')
    [finding] = ink(path, [BLOCKS[0], ('second.text', 'A second block.')])
    assert not finding.ok
    assert finding.message.startswith("the layout's text 'Folio 7' paints "), finding
    assert 'left of the trim' in finding.message
    assert 'layouts/test puts it there' in finding.message


def test_the_trim_is_the_trimbox_not_the_bleed(tmp_path):
    """Text in the bleed, outside the TrimBox, is outside the page once trimmed."""
    path = page_pdf(tmp_path / 'bleed.pdf', 'A second block.',
                    '<div style="position: absolute; left: -13.5mm; top: 5mm">Edge</div>')
    with pikepdf.open(path) as pdf:
        trim = [float(value) for value in pdf.pages[0].obj.TrimBox]
        media = [float(value) for value in pdf.pages[0].mediabox]
        assert media[0] < trim[0]  # the text lies inside the MediaBox
    [finding] = ink(path, [BLOCKS[0], ('second.text', 'A second block.')])
    assert not finding.ok and "'Edge' paints" in finding.message, finding


def test_glyph_boxes_are_pdfiums_tight_boxes(tmp_path):
    """The check's idea of where a mark paints is PDFium's: the highest glyph of
    the pile reaches as far above the trim as the finding says."""
    path = page_pdf(tmp_path / 'marks.pdf', BLOCKS[1][1])
    document = pypdfium2.PdfDocument(str(path))
    page = document[0]
    textpage = page.get_textpage()
    top = max(textpage.get_charbox(index)[3] for index in range(textpage.count_chars()))
    trim_top = page.get_trimbox()[3]
    textpage.close()
    page.close()
    document.close()
    [finding] = ink(path)
    reach = float(finding.message.split(' paints ')[1].split(' mm ')[0])
    assert reach == pytest.approx((top - trim_top) * 25.4 / 72, abs=0.06)


@pytest.mark.parametrize('text', [
    'Сорос-Қазақстан қоры 1995-жылы', 'İstanbul and ﬁne words', 'a\u0301\u0301b c',
    'line-\nbreak and hy\u00adphen\u2010ated', 'x - y -- z', '', '... ;',
])
def test_word_spans_are_the_words(text):
    """Glyphs are given to blocks by the words around them: the spans must be
    exactly the words the text check compares."""
    spans = textcheck.word_spans(text)
    assert [word for _, _, word in spans] == textcheck.words(text)
    for start, end, _ in spans:
        assert text[start:end].strip() == text[start:end]


def test_locate_block_gives_the_positions_find_block_found():
    haystack = textcheck.words('head one two three foot four five six one two')
    block = textcheck.words('one two three four')
    positions = textcheck.locate_block(haystack, block)
    assert [haystack[at] for at in positions] == block
    assert positions == [1, 2, 3, 5]
    assert textcheck.locate_block(haystack, ['nine']) == []


def test_the_check_is_cheap_on_the_shipped_booklets(built):
    """Tens of milliseconds for an 8-page booklet (about 30 ms on the 2-core
    build machine), not a second layout: bounded here with room for a busy one."""
    for edition in built.values():
        for output in ('print', 'screen'):
            path = edition.pdf(output)
            preflight.check_ink_bounds(path, [], 'nine-facts')  # PDFium loaded
            started = time.perf_counter()
            [finding] = preflight.check_ink_bounds(path, [], 'nine-facts',
                                                   bleed=output == 'print')
            assert time.perf_counter() - started < 1.0, (edition.lang, output)
            assert finding.ok, finding


# Drawings: in print, what the layout draws may run into the bleed, not past it.

def drawn_pdf(path, body, marked=False):
    """A 100 × 80 mm page with 3 mm bleed drawing ``body`` (a navy page
    background into the bleed), with trim marks and a slug line if ``marked``."""
    import weasyprint

    from bindery import marks

    html = f'''<style>
      @page {{ size: 100mm 80mm; margin: 12mm; bleed: 3mm; background: #123; }}
      body {{ margin: 0; }}
    </style>{body}'''
    weasyprint.HTML(string=html, base_url=str(path.parent) + '/').write_pdf(path)
    if marked:
        with pikepdf.open(path, allow_overwriting_input=True) as pdf:
            marks.add_marks(pdf, 3, 'slug · page {page}/{pages}',
                            ROOT / 'fonts' / 'inter' / 'Inter-Regular.otf')
            pdf.save(path)
    return path


def picture(path):
    from PIL import Image

    Image.new('RGB', (60, 60), (200, 30, 30)).save(path)
    return path.name


def bleed_findings(path):
    return preflight.check_ink_bounds(path, [], 'test', bleed=True)


def test_a_full_bleed_background_and_the_printers_marks_pass(tmp_path):
    """The page background fills the bleed; the trim marks and slug line lie
    outside it on purpose, and are no drawing of the layout's."""
    path = drawn_pdf(tmp_path / 'marked.pdf', '<p style="color: white">Text</p>', marked=True)
    with pikepdf.open(path) as pdf:  # the marks are there, past the bleed
        media = [float(value) for value in pdf.pages[0].mediabox]
        bleed = [float(value) for value in pdf.pages[0].obj.BleedBox]
        assert media[0] < bleed[0] - 20
    [finding] = bleed_findings(path)
    assert finding.ok, finding
    assert 'no drawing past the bleed' in finding.message


def test_a_box_past_the_bleed_fails(tmp_path):
    """A panel pushed 25 mm left of the page margin: 13 mm past the trim, 10 mm
    past the 3 mm bleed."""
    path = drawn_pdf(tmp_path / 'box.pdf', '<div style="position: absolute; left: -25mm; '
                     'top: 10mm; width: 40mm; height: 10mm; background: #c00"></div>',
                     marked=True)
    [finding] = bleed_findings(path)
    assert not finding.ok and finding.page == 1
    assert finding.message.startswith('a box or rule paints 10.0 mm left of the bleed ('), \
        finding.message
    assert '-13 to 27 mm across, 22 to 32 mm down' in finding.message, finding.message
    assert 'layouts/test puts it there' in finding.message


def test_a_picture_past_the_bleed_fails_and_a_clipped_one_passes(tmp_path):
    name = picture(tmp_path / 'red.png')
    loose = drawn_pdf(tmp_path / 'loose.pdf', f'<img src="{name}" style="position: '
                      'absolute; left: 60mm; top: 0; width: 60mm">')
    [finding] = bleed_findings(loose)
    assert not finding.ok and finding.message.startswith('a picture paints '), finding
    assert 'right of the bleed' in finding.message
    # The same picture inside a box that clips it at the trim paints no further.
    clipped = drawn_pdf(tmp_path / 'clipped.pdf', '<div style="position: absolute; '
                        'left: 60mm; top: 0; width: 28mm; height: 30mm; overflow: hidden">'
                        f'<img src="{name}" style="width: 60mm"></div>')
    [finding] = bleed_findings(clipped)
    assert finding.ok, finding


def test_the_screen_pdf_is_not_held_to_the_bleed(tmp_path):
    """Drawings are checked in print only: the screen PDF is cut at the trim."""
    path = drawn_pdf(tmp_path / 'box.pdf', '<div style="position: absolute; left: -25mm; '
                     'top: 10mm; width: 40mm; height: 10mm; background: #c00"></div>')
    [finding] = preflight.check_ink_bounds(path, [], 'test')
    assert finding.ok, finding


def test_the_text_with_the_piled_marks_is_the_one_out_of_place():
    """A text drawn after a pile of marks (a running head) does not paint over
    them: the marks paint over it, and their text is named, whatever the order."""
    def glyph(char, box):
        return ord(char), box

    chars = [glyph('a', (10, 40, 15, 45)), glyph('l', (15, 40, 17, 46)),
             glyph('\u0301', (11, 50, 14, 52)), glyph('\u0301', (11, 53, 14, 55)),
             (13, None), (10, None),  # PDFium's line break
             glyph('h', (9, 51, 14, 56)), glyph('e', (14, 51, 18, 56))]
    blocks = [('facts[1].text', 'al'), ('foundation', 'he')]
    strays, count = inkbounds.find_strays([((0, 0, 100, 100), chars)], blocks)
    assert count == 6
    assert [(stray.owner, stray.over, stray.marks) for stray in strays] == [
        ('facts[1].text', 'foundation', 1)]
