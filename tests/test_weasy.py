"""bindery/weasy.py against the WeasyPrint requirements.txt pins, on tiny documents
laid out in-process; and what bindery/pdf.py builds on it: the overflow messages
(``check_placement`` with a ``watch`` selector), moving boxes (``justify``), and
which WeasyPrint exceptions mean "cannot draw"."""

import re
from pathlib import Path

import pytest
import weasyprint
from weasyprint.text.fonts import FontConfiguration

from bindery import pdf, weasy
from bindery.errors import RenderError

ROOT = Path(__file__).resolve().parent.parent
FONT = ROOT / 'fonts' / 'inter' / 'Inter-Regular.otf'
MM = 96 / 25.4  # px


def lay_out(body, css=''):
    html = f'''<html lang="en"><head><style>
      @font-face {{ font-family: Inter; src: url('{FONT.as_uri()}'); }}
      @page {{ size: 100mm 60mm; margin: 10mm 6mm 12mm 4mm; }}
      html {{ font-family: Inter; font-size: 10pt; }}
      body, section, article, p, h1, h2 {{ margin: 0; }}
      section + section {{ break-before: page; }}
      article {{ break-inside: avoid; }}
      {css}
    </style></head><body>{body}</body></html>'''
    return weasyprint.HTML(string=html, base_url=str(ROOT)).render(
        font_config=FontConfiguration())


# The pin -------------------------------------------------------------------

def test_the_installed_weasyprint_is_the_one_the_adapter_is_pinned_to():
    """weasy.py reaches into WeasyPrint's private objects: an upgrade must fail
    here, loudly, before it fails somewhere else, quietly."""
    pins = re.findall(r'^weasyprint==(\S+)\s*$',
                      (ROOT / 'requirements.txt').read_text(encoding='utf-8'),
                      re.MULTILINE | re.IGNORECASE)
    assert pins == [weasy.PINNED], pins
    assert weasyprint.__version__ == weasy.PINNED


# Reading the layout ----------------------------------------------------------

def test_the_page_area_is_the_page_size_less_its_margins():
    document = lay_out('<section data-page="1"><p>One</p></section>')
    area = weasy.page_area(document.pages[0])
    assert area.top == pytest.approx(10 * MM)
    assert area.left == pytest.approx(4 * MM)
    assert area.height == pytest.approx((60 - 10 - 12) * MM)
    assert area.bottom == pytest.approx((60 - 12) * MM)
    assert area.right == pytest.approx((100 - 6) * MM)


def test_sections_heights_and_elements():
    document = lay_out('<section data-page="1"><p id="a" style="height: 5mm">A</p>'
                       '<p id="b" style="height: 7mm">B</p></section>'
                       '<section data-page="2" data-justify><p>C</p></section>')
    first, second = document.pages
    [section] = weasy.sections(first, 'data-page')
    assert weasy.element_of(section).get('data-page') == '1'
    assert weasy.filled_height(section) == pytest.approx(12 * MM)
    assert weasy.height(section) == pytest.approx(12 * MM)
    assert weasy.bottom(section) == pytest.approx(weasy.page_area(first).top + 12 * MM)
    ids = {element.get('id') for element in weasy.elements_in(section)}
    assert {'a', 'b'} <= ids
    assert weasy.sections(first, 'data-justify') == []
    assert len(weasy.sections(second, 'data-justify')) == 1
    assert weasy.root_element(document).tag == 'html'


def test_element_heights_sum_each_elements_outermost_boxes_over_pages():
    document = lay_out('<section data-page="1"><article id="a" style="padding: 1mm 0">'
                       '<p style="height: 5mm">A</p></article>'
                       '<article id="b" style="break-inside: auto">'
                       + '<p style="height: 10mm">B</p>' * 5 + '</article></section>')
    elements = {element for element in weasy.elements_in(weasy.sections(
        document.pages[0], 'data-page')[0]) if element.get('id')}
    found = {}
    for page in document.pages:
        for section in weasy.sections(page, 'data-page'):
            for element, height in weasy.element_heights(section, elements).items():
                found[element.get('id')] = found.get(element.get('id'), 0) + height
    assert len(document.pages) == 2  # b is carried over
    assert found['a'] == pytest.approx(7 * MM)  # its padding, not its <p> again
    assert found['b'] == pytest.approx(50 * MM)


def test_lines_know_their_block_and_the_elements_holding_them():
    document = lay_out('<section data-page="1"><article id="narrow" style="width: 20mm">'
                       '<p>Supercalifragilisticexpialidocious</p></article>'
                       '<p>Short</p></section>')
    lines = weasy.lines(document.pages[0])
    assert len(lines) == 2
    long_word, short = lines
    assert long_word.right > long_word.block_right + 1  # sticks out of its column
    assert any(element.get('id') == 'narrow' for element in long_word.elements)
    assert short.right < short.block_right
    assert not any(element.get('id') == 'narrow' for element in short.elements)
    assert long_word.bottom < short.bottom


# Moving boxes --------------------------------------------------------------

def _bookmark(page, label):
    [(y)] = [target[1] for level, text, target, state in page.bookmarks if text == label]
    return y


JUSTIFIED = ('<section data-page="1" data-justify>'
             '<h1 style="bookmark-label: \'One\'; bookmark-level: 1">One</h1>'
             '<div data-gap style="border-top: 1px solid"></div>'  # its margins stay apart
             '<h2 id="two" style="bookmark-label: \'Two\'; bookmark-level: 1">Two</h2>'
             '</section>')


def test_moving_boxes_then_regathering_anchors_keeps_the_bookmarks_where_they_went():
    document = lay_out(JUSTIFIED)
    page = document.pages[0]
    [section] = weasy.sections(page, 'data-justify')
    gap = weasy.children(section)[1]
    assert weasy.is_plain_gap(gap, section)
    assert weasy.last_in_flow(page, section)
    height = weasy.height(section)
    one, two, anchor = _bookmark(page, 'One'), _bookmark(page, 'Two'), page.anchors['two']

    shift = weasy.open_gaps(section, [gap], 20)
    weasy.grow_holders(page, section, shift)
    assert shift == 20
    assert weasy.height(section) == pytest.approx(height + 20)
    assert all(weasy.height(holder) >= weasy.height(section)
               for holder in weasy.holders(page, section))
    assert _bookmark(page, 'Two') == two  # gathered where the boxes were

    weasy.regather_anchors(page)
    assert [text for level, text, target, state in page.bookmarks] == ['One', 'Two']
    assert _bookmark(page, 'One') == pytest.approx(one)
    assert _bookmark(page, 'Two') == pytest.approx(two + 20)
    assert page.anchors['two'][1] == pytest.approx(anchor[1] + 20)


def test_justify_moves_the_boxes_and_the_bookmarks_follow():
    document = lay_out(JUSTIFIED)
    page = document.pages[0]
    before = _bookmark(page, 'Two')
    css, moved = pdf.justify(document, 5)
    assert moved
    share = float(re.search(r'--gap-share: ([\d.]+)mm', css).group(1))
    assert 0 < share <= 5
    assert _bookmark(page, 'Two') == pytest.approx(before + share * MM)
    # What was moved lays out the same as the CSS does from scratch.
    again = lay_out(JUSTIFIED, css=css + '[data-gap] { margin: calc(var(--gap-share) / 2) 0; }')
    assert _bookmark(again.pages[0], 'Two') == pytest.approx(_bookmark(page, 'Two'), abs=0.5)


def test_a_gap_a_larger_margin_swallows_is_not_plain():
    document = lay_out(JUSTIFIED, css='h2 { margin-top: 5mm; }')
    page = document.pages[0]
    [section] = weasy.sections(page, 'data-justify')
    assert not weasy.is_plain_gap(weasy.children(section)[1], section)


# Overflow messages: watch ----------------------------------------------------

def facts(*specs):
    """Articles of class ``fact``: ``(attributes, height in mm)``."""
    return ''.join(f'<article class="fact" {attributes} style="height: {height}mm">'
                   '</article>' for attributes, height in specs)


OVERFLOWING = ('<section data-page="1">'
               + facts(('data-label="fact 1"', 30), ('data-label="fact 2"', 8),
                       ('data-label="fact 6"', 10), ('data-label="fact 9"', 6))
               + '</section><section data-page="2"><p>Back</p></section>')


def test_an_overflow_names_the_watched_element_far_over_its_share_not_those_pushed_out():
    """Facts 6 and 9 are carried over, but fact 1 takes 30 of the page's 38 mm:
    four facts have 9.5 mm each, and it is the one that does not fit."""
    document = lay_out(OVERFLOWING)
    problems = pdf.check_placement(document, 2, watch='.fact')
    assert [problem.page for problem in problems] == [1]
    [problem] = problems
    assert problem.message == ('page 1 runs over by 16.0 mm (fact 1 does not fit): '
                               'shorten the text or let the layout give it more room')
    assert problem.need == pytest.approx((30 + 8 + 10 + 6) / 38)


def test_items_alike_in_length_name_those_carried_over_as_one_plural():
    body = ('<section data-page="1">'
            + facts(*((f'data-label="fact {n}"', 10) for n in range(1, 6)))
            + '</section>')
    [problem] = pdf.check_placement(lay_out(body), 1, watch='.fact')
    # 38 mm hold three 10 mm facts: 4 and 5 go over, none is longer than another.
    assert '(facts 4 and 5 do not fit)' in problem.message, problem.message


def test_items_shared_out_between_pages_name_the_long_ones_wherever_they_are():
    """As a layout that balances facts over pages: page 1 runs over with facts
    of even length, because facts 5 and 8, on pages 2 and 3, take the room."""
    body = ('<section data-page="1">' + facts(*((f'data-label="fact {n}"', 14)
                                                   for n in range(1, 4))) + '</section>'
            '<section data-page="2">' + facts(('data-label="fact 4"', 6),
                                                ('data-label="fact 5"', 30)) + '</section>'
            '<section data-page="3">' + facts(('data-label="fact 6"', 6),
                                                ('data-label="fact 7"', 6),
                                                ('data-label="fact 8"', 24)) + '</section>')
    [problem] = pdf.check_placement(lay_out(body), 3, watch='.fact')
    assert problem.page == 1
    assert '(facts 5 and 8 do not fit)' in problem.message, problem.message


def test_items_are_measured_against_their_own_kind_only():
    """A lede beside the facts is no fact: the facts share what it leaves them,
    and being alike, it is said where the page broke."""
    body = ('<section data-page="1">' + facts(('data-label="lede"', 20))
            + facts(*((f'data-label="fact {n}"', 6) for n in range(1, 5))) + '</section>')
    [problem] = pdf.check_placement(lay_out(body), 1, watch='.fact')
    assert '(fact 4 does not fit)' in problem.message, problem.message


def test_the_names_of_items_are_listed_as_a_sentence_lists_them():
    assert pdf._listed(['fact 7']) == 'fact 7'
    assert pdf._listed(['fact 6', 'fact 9']) == 'facts 6 and 9'
    assert pdf._listed(['lede', 'about']) == 'lede and about'
    assert pdf._listed(['fact 3', 'fact 4', 'lede']) == 'facts 3 and 4, and lede'
    assert pdf._listed(['box 1', 'box 2', 'entry 3', 'entry 4']) == (
        'boxes 1 and 2, and entries 3 and 4')
    assert pdf._listed(['key figure 1', 'key figure 2', 'key figure 5']) == (
        'key figures 1, 2 and 5')


def test_one_element_that_does_not_fit_and_labels_from_ids():
    body = ('<section data-page="1">'
            + facts(('id="first"', 30), ('id="second"', 10)) + '</section>')
    [problem] = pdf.check_placement(lay_out(body), 1, watch='article')
    assert '(second does not fit)' in problem.message
    assert 'first' not in problem.message


def test_without_watch_an_overflow_names_nothing():
    [problem] = pdf.check_placement(lay_out(OVERFLOWING), 2)
    assert problem.message.startswith('page 1 runs over by 16.0 mm: shorten the text')
    [problem] = pdf.check_placement(lay_out(OVERFLOWING), 2, watch='.nothing')
    assert 'fit)' not in problem.message


def test_a_laid_out_booklet_that_fits_has_no_problems():
    body = '<section data-page="1">' + facts(('data-label="fact 1"', 30)) + '</section>'
    assert pdf.check_placement(lay_out(body), 1, watch='.fact') == []
    [problem] = pdf.check_placement(lay_out(body), 2, watch='.fact')
    assert problem.page is None and 'makes 1 pages, not 2' in problem.message


def test_a_line_past_the_right_edge_is_named_by_its_watched_element():
    body = ('<section data-page="1"><article class="fact" data-label="fact 2" '
            'style="width: 20mm"><p>Supercalifragilisticexpialidocious</p></article>'
            '</section>')
    [problem] = pdf.check_placement(lay_out(body), 1, watch='.fact')
    assert problem.message.startswith('page 1: fact 2: a line runs ')
    assert 'past the right edge of its column' in problem.message
    [problem] = pdf.check_placement(lay_out(body), 1)
    assert problem.message.startswith('page 1: a line runs ')


def test_a_watch_that_is_no_selector_is_a_render_error():
    with pytest.raises(RenderError, match='watch'):
        pdf.check_placement(lay_out(OVERFLOWING), 2, watch='.fact[')


# What WeasyPrint cannot draw -------------------------------------------------

class _Fetcher:
    refused = []


def write(document, tmp_path):
    return pdf.write_pdf(document, tmp_path / 'out.pdf', b'0' * 32, _Fetcher())


def test_a_device_cmyk_colour_in_a_blurred_box_shadow_is_a_clear_render_error(tmp_path):
    document = lay_out('<p style="box-shadow: 1mm 1mm 2mm device-cmyk(0 0 0 1)">A</p>')
    with pytest.raises(RenderError, match=r'cannot draw .*device-cmyk\(\).* box-shadow'):
        write(document, tmp_path)


def test_a_device_cmyk_colour_in_a_gradient_is_a_clear_render_error(tmp_path):
    document = lay_out('<p style="background: linear-gradient(device-cmyk(0 0 0 1), '
                       'device-cmyk(1 0 0 0))">A</p>')
    with pytest.raises(RenderError, match=r'cannot draw .*device-cmyk\(\).* gradient'):
        write(document, tmp_path)


def test_any_other_assertion_error_in_weasyprint_is_a_bug_not_a_limit(tmp_path, monkeypatch):
    """An AssertionError raised anywhere but the known shadow path is not read as
    "cannot draw" (nor as a page that is full): it propagates, traceback and all."""
    import weasyprint.document

    def broken(*args, **kwargs):
        raise AssertionError('an invariant of WeasyPrint')

    monkeypatch.setattr(weasyprint.document, 'draw_page', broken)
    document = lay_out('<p>A</p>')
    with pytest.raises(AssertionError, match='an invariant of WeasyPrint'):
        write(document, tmp_path)


def test_drawing_limit_knows_the_shadow_only_by_where_it_was_raised(tmp_path):
    document = lay_out('<p style="box-shadow: 1mm 1mm 2mm device-cmyk(0 0 0 1)">A</p>')
    with pytest.raises(AssertionError) as raised:
        document.write_pdf(tmp_path / 'raw.pdf')
    cause, where = weasy.drawing_limit(raised.value)
    assert 'box-shadow' in cause
    assert re.fullmatch(r'weasyprint/draw/__init__\.py:\d+', where), where
    try:
        assert False, 'an assertion of our own'
    except AssertionError as exc:
        assert weasy.drawing_limit(exc) is None


def test_a_section_as_tall_as_its_page_that_cannot_hold_its_items_runs_over():
    """A flex column as tall as the page does not break: what it cannot hold hangs
    out of it on the same page. That is an overflow too, naming what hangs out."""
    body = ('<section data-page="1" style="height: 38mm; display: flex; '
            'flex-direction: column">'
            + facts(('data-label="fact 1"', 20), ('data-label="fact 2"', 14),
                    ('data-label="fact 3"', 12))
            + '</section>')
    css = 'section > * { flex-shrink: 0; }'
    [problem] = pdf.check_placement(lay_out(body, css), 1, watch='.fact')
    assert problem.page == 1
    assert problem.message.startswith('page 1 runs over by 8.0 mm (fact 3 does not fit)'), (
        problem.message)
    fits = body.replace('38mm', '46mm')
    assert pdf.check_placement(lay_out(fits, css), 1, watch='.fact') == []


def test_a_panel_let_into_the_bleed_or_a_collapsing_margin_is_no_overflow():
    """A last item whose negative margin lets its background run past the foot
    (into the bleed), or whose bottom margin collapses through it, hangs out by
    one measure only: neither is text that does not fit."""
    column = ('<section data-page="1" style="height: 38mm; display: flex; '
              'flex-direction: column">{}</section>')
    into_bleed = column.format(facts(('data-label="fact 1"', 20))
                               + '<article class="fact" data-label="panel" style="height: 21mm;'
                               ' margin: auto 0 -3mm"></article>')
    assert pdf.check_placement(lay_out(into_bleed), 1, watch='.fact') == []
    collapsing = ('<section data-page="1">' + facts(('data-label="fact 1"', 20))
                  + '</section>')
    css = '.fact { margin: 0 0 30mm; }'
    assert pdf.check_placement(lay_out(collapsing, css), 1, watch='.fact') == []
