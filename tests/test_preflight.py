"""Preflight catches what a print shop's would: broken layouts fail with the right message.

Each test breaks one thing in a fixture project's layout, builds one edition and
expects exit 1, a preflight line that names the page and what to fix, the
report in -preflight.json, and no PDF left at a final path.
"""

import json
import re
import struct
import subprocess
import zlib

import pikepdf
import pytest
from PIL import Image

from bindery import preflight
from conftest import output_paths

CSS = 'layouts/nine-facts/booklet.css'
#: The font stacks of the shipped CSS: each family, then its faces for other scripts.
SANS = "Inter, 'Noto Sans Armenian', 'Noto Sans Georgian'"
SERIF = "'Noto Serif', 'Noto Serif Armenian', 'Noto Serif Georgian'"
HTML = 'layouts/nine-facts/booklet.html'


def build_kk(project, tmp_path):
    out = tmp_path / 'out'
    run = project.run('--out', out, 'kazakhstan/kk')
    return run, output_paths(out, 'kazakhstan', 'kk')


def preflight_lines(run, check):
    return [line for line in run.error_lines if f'preflight {check}:' in line]


def assert_failed_with(run, paths, check):
    assert run.returncode == 1, str(run)
    assert 'Traceback' not in run.stdout + run.stderr, str(run)
    lines = preflight_lines(run, check)
    assert lines, run.error_lines
    report = json.loads(paths['preflight'].read_text(encoding='utf-8'))
    assert report['ok'] is False
    failed = [finding for findings in report['outputs'].values() for finding in findings
              if finding['check'] == check and not finding['ok']]
    assert failed, report
    imposed = paths['print'].with_name('kazakhstan-kk-imposed.pdf')
    for path in (paths['print'], paths['screen'], paths['cover'], imposed):
        assert not path.exists(), f'{path.name} left behind'
    return lines


def png(width, height):
    """A plain grey RGB PNG of ``width`` × ``height`` pixels, made by hand."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body))
    rows = b''.join(b'\x00' + b'\x80\x80\x80' * width for _ in range(height))
    return (b'\x89PNG\r\n\x1a\n'
            + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))


def test_an_rgb_colour_in_the_css_fails_print(project, tmp_path):
    """A designer typing #ff0000 instead of a declared colour puts RGB in print."""
    title = f'.intro-title {{ font: 900 17pt/1.15 {SANS}; color: '
    project.replace(CSS, title + 'var(--navy);', title + '#ff0000;')
    run, paths = build_kk(project, tmp_path)
    lines = assert_failed_with(run, paths, 'colour')
    assert any('kazakhstan/kk print: preflight colour: page 2: RGB colour' in line
               and 'CMYK' in line for line in lines), lines


def test_a_72_ppi_picture_fails_print(project, tmp_path):
    """A 142 px picture placed 50 mm wide is 72 ppi: too coarse for offset."""
    project.write('layouts/nine-facts/logo.png', png(142, 14))
    project.replace(HTML, '<h2 class="intro-title">',
                    '<img src="logo.png" alt="logo" style="width: 50mm; height: 5mm">\n'
                    '  <h2 class="intro-title">')
    run, paths = build_kk(project, tmp_path)
    lines = assert_failed_with(run, paths, 'image-resolution')
    assert any(re.search(r'page 2: picture \S+ is 7[12] ppi', line) and '300 ppi' in line
               for line in lines), lines
    # It is an RGB picture too: print wants pictures in CMYK.
    assert any('page 2: picture' in line and 'RGB' in line
               for line in preflight_lines(run, 'colour')), run.error_lines


def test_a_font_outside_the_layout_fails(project, tmp_path):
    """A family the layout does not declare falls back to a system font: caught."""
    project.replace(CSS, f"html {{ color: var(--ink); font: 400 10pt/14.5pt {SERIF}; }}",
                    "html { color: var(--ink); font: 400 10pt/14.5pt 'DejaVu Serif'; }")
    run, paths = build_kk(project, tmp_path)
    lines = assert_failed_with(run, paths, 'fonts')
    assert any("is not one of the layout's fonts" in line for line in lines), lines


def test_small_type_in_colour_fails_print(project, tmp_path):
    """8 pt folios in navy (four inks) would blur with the slightest misregistration."""
    css = project.read(CSS)
    folio = f'font: 600 8pt/1 {SANS}; color: var(--ink); vertical-align: top;'
    assert css.count(folio) == 2  # left and right pages
    project.write(CSS, css.replace(folio, folio.replace('--ink', '--navy')))
    run, paths = build_kk(project, tmp_path)
    lines = assert_failed_with(run, paths, 'small-text')
    assert any('page 2: 8.0 pt text printed in C+M+Y+K' in line for line in lines), lines


def test_too_much_ink_fails_print(project, tmp_path):
    """A background at 100/100/100/100 is 400% ink: Ghostscript's separation shows it."""
    project.replace('layouts/nine-facts/layout.yaml',
                    'navy: {cmyk: [100, 80, 20, 35]', 'navy: {cmyk: [100, 100, 100, 100]')
    run, paths = build_kk(project, tmp_path)
    lines = assert_failed_with(run, paths, 'ink')
    assert any('400% total ink' in line and '300%' in line for line in lines), lines


@pytest.mark.parametrize('output', ['print', 'screen'])
def test_the_real_booklets_pass_with_a_report(built, output):
    """The shipped editions pass every check, and the report says what was checked."""
    for edition in built.values():
        report = json.loads(edition.preflight.read_text(encoding='utf-8'))
        assert report['ok'] is True
        checks = {finding['check'] for finding in report['outputs'][output]}
        expected = {'page-count', 'page-boxes', 'fonts', 'lang', 'title', 'text',
                    'ink-bounds'}
        if output == 'print':
            expected |= {'pdfx', 'colour', 'small-text', 'ink'}
        assert expected <= checks, checks


def ghostscript_ink(path, tmp_path, dpi=50):
    """The most C+M+Y+K (percent) of any pixel of each page, as Ghostscript separates
    it within the TrimBox."""
    subprocess.run(['gs', '-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=tiff32nc',
                    f'-r{dpi}', '-dUseTrimBox', f'-sOutputFile={tmp_path}/page-%03d.tif',
                    str(path)], check=True, capture_output=True)
    peaks = []
    for tiff in sorted(tmp_path.glob('page-*.tif')):
        with Image.open(tiff) as image:
            peaks.append(max(map(sum, image.get_flattened_data())) / 255 * 100)
        tiff.unlink()
    return peaks


def read_pages(path):
    with pikepdf.open(path) as pdf:
        return [preflight.read_page(page) for page in pdf.pages]


def test_ink_read_from_the_colours_is_what_ghostscript_separates(built, tmp_path):
    """The shipped booklets' ink is read from their colours, and Ghostscript agrees."""
    for edition in built.values():
        readings = read_pages(edition.print)
        assert [reading.unreadable for reading in readings] == [None] * len(readings)
        separated = ghostscript_ink(edition.print, tmp_path)
        assert len(separated) == len(readings)
        for number, (reading, measured) in enumerate(zip(readings, separated), 1):
            assert abs(reading.ink - measured) <= 1, (edition.lang, number, reading.ink,
                                                      measured)
        report = json.loads(edition.preflight.read_text(encoding='utf-8'))
        ink = [finding for finding in report['outputs']['print'] if finding['check'] == 'ink']
        assert ink[0]['ok'] and "read from the pages' colours" in ink[0]['message'], ink


def one_page_pdf(path, content, resources):
    """A 100 × 100 pt page (TrimBox the same) drawing ``content`` with the resource
    dictionary that ``resources(pdf)`` makes."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(100, 100))
    page = pdf.pages[0]
    page.obj.TrimBox = [0, 0, 100, 100]
    page.obj.Resources = resources(pdf)
    page.obj.Contents = pdf.make_stream(content)
    pdf.save(path)
    return path


@pytest.mark.parametrize('state, why', [
    (pikepdf.Dictionary(BM=pikepdf.Name.Multiply), 'blend mode /Multiply'),
    (pikepdf.Dictionary(OP=True, op=True, OPM=1), 'overprint'),
], ids=['multiply', 'overprint'])
def test_ink_that_only_rendering_shows_goes_to_ghostscript(tmp_path, state, why):
    """90% K multiplied (or overprinted) onto a 270% background is 360% where they meet,
    though no colour the page sets has more than 270%."""
    path = one_page_pdf(tmp_path / 'page.pdf', b'0.9 0.9 0.9 0 k 0 0 100 100 re f '
                        b'/S gs 0 0 0 0.9 k 20 20 60 60 re f',
                        lambda pdf: pikepdf.Dictionary(ExtGState=pikepdf.Dictionary(S=state)))
    readings = read_pages(path)
    assert readings[0].ink == pytest.approx(270) and readings[0].unreadable == why
    [finding] = preflight.check_ink(path, readings)
    assert not finding.ok and finding.page == 1
    assert re.match(r'3(59|60)% total ink as Ghostscript separates the page '
                    rf'\({re.escape(why)}\);.* 300%', finding.message), finding.message


def test_ink_of_a_picture_goes_to_ghostscript(tmp_path):
    """A picture of 100/100/100/100 pixels sets no colour, but it is 400% ink."""
    def resources(pdf):
        image = pdf.make_stream(b'\xff' * 16, Type=pikepdf.Name.XObject,
                                Subtype=pikepdf.Name.Image, Width=2, Height=2,
                                ColorSpace=pikepdf.Name.DeviceCMYK, BitsPerComponent=8)
        return pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im=image))

    path = one_page_pdf(tmp_path / 'page.pdf', b'q 100 0 0 100 0 0 cm /Im Do Q', resources)
    readings = read_pages(path)
    assert readings[0].unreadable == 'an image'
    [finding] = preflight.check_ink(path, readings)
    assert not finding.ok and finding.page == 1
    assert finding.message.startswith('400% total ink as Ghostscript separates the page '
                                      '(an image)'), finding.message


def test_a_good_cmyk_photo_reaches_print_as_placed(project, tmp_path):
    """A CMYK JPEG at print resolution passes preflight, and the print PDF carries
    its bytes as they were (no re-encoding at a lower quality)."""
    import io

    import pikepdf
    from PIL import Image

    photo = Image.new('CMYK', (600, 60), (30, 60, 0, 10))
    for x in range(0, 600, 7):  # detail a lossy re-encoding would change
        photo.paste((0, 0, 100, 20), (x, 0, x + 3, 60))
    data = io.BytesIO()
    photo.save(data, format='JPEG', quality=95)
    project.write('layouts/nine-facts/photo.jpg', data.getvalue())
    project.replace(HTML, '<h2 class="intro-title">',
                    '<img src="photo.jpg" alt="stripes" style="width: 50mm; height: 5mm">\n'
                    '  <h2 class="intro-title">')
    run, paths = build_kk(project, tmp_path)
    assert run.returncode == 0, str(run)
    with pikepdf.open(paths['print']) as pdf:
        images = [image for image in pdf.pages[1].get_images().values()
                  if image.get('/Filter') == '/DCTDecode']
        assert [image.read_raw_bytes() for image in images] == [data.getvalue()]
