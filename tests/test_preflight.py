"""Preflight catches what a print shop's would: broken layouts fail with the right message.

Each test breaks one thing in a fixture project's layout, builds one edition and
expects exit 1, a preflight line that names the page and what to fix, the
report in -preflight.json, and no PDF left at a final path.
"""

import json
import re
import struct
import zlib

import pytest

from conftest import output_paths

CSS = 'layouts/nine-facts/booklet.css'
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
    project.replace(CSS, '.intro-title { font: 900 17pt/1.15 Inter; color: var(--navy);',
                    '.intro-title { font: 900 17pt/1.15 Inter; color: #ff0000;')
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
    project.replace(CSS, "html { color: var(--ink); font: 400 10pt/14.5pt 'Noto Serif'; }",
                    "html { color: var(--ink); font: 400 10pt/14.5pt 'DejaVu Serif'; }")
    run, paths = build_kk(project, tmp_path)
    lines = assert_failed_with(run, paths, 'fonts')
    assert any("is not one of the layout's fonts" in line for line in lines), lines


def test_small_type_in_colour_fails_print(project, tmp_path):
    """8 pt folios in navy (four inks) would blur with the slightest misregistration."""
    css = project.read(CSS)
    folio = 'font: 600 8pt/1 Inter; color: var(--ink); vertical-align: top;'
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
        expected = {'page-count', 'page-boxes', 'fonts', 'lang', 'title', 'text'}
        if output == 'print':
            expected |= {'pdfx', 'colour', 'small-text', 'ink'}
        assert expected <= checks, checks
