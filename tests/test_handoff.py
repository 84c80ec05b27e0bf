"""The designer's hand-off bundle: complete, standalone, reproducible.

The real edition kazakhstan/kk is rendered to HTML in a fixture project and
packed; the project is then deleted, so the bundle can only work with what it
holds. WeasyPrint's own command line renders the unzipped HTML, and pikepdf
reads which fonts it used. The PDFs in these bundles are stand-ins: packing
does not look inside them.
"""

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pikepdf
import pytest

from bindery import copyfit, fonts, pdf
from bindery.errors import BookletError
from bindery.handoff import HandoffError, make_bundle
from bindery.layouts import load_layout, render_html
from bindery.manifest import load_booklets
from bindery.pipeline import check_edition
from conftest import EPOCH, FixtureProject

NAME = 'kazakhstan-kk'
#: What the builder passes WeasyPrint beside the layout's booklet.css, in order.
SHEETS = ('fonts.css', 'colors.css', 'page.css', 'copyfit.css')
CONTENT = ('data/kazakhstan/kk.yaml', 'data/kazakhstan/country.yaml',
           'layouts/nine-facts/strings/kk.yaml')
#: Project files as they were when the bundles were made (the project is deleted then).
ORIGINALS = {}


def edition_inputs(root):
    """The keyword arguments of make_bundle for kazakhstan/kk, made as pipeline._render
    makes its HTML and stylesheets."""
    booklets, errors = load_booklets(root)
    assert not errors
    booklet = booklets[0]
    layout = load_layout(root, booklet.layout)
    edition, context = check_edition(root, booklet, layout, 'kazakhstan', 'kk')
    context = dict(context, created='2023-11-14T22:13:20Z',
                   stylesheets=layout.spec['stylesheets'])
    for name, data in (('print.pdf', b'%PDF-1.6 print'), ('screen.pdf', b'%PDF-1.7 screen'),
                       ('preflight.json', b'{"ok": true}\n')):
        (root / 'build' / name).parent.mkdir(exist_ok=True)
        (root / 'build' / name).write_bytes(data)
    return dict(
        pdfs={'print': root / 'build' / 'print.pdf', 'screen': root / 'build' / 'screen.pdf'},
        html=render_html(layout, context),
        stylesheets=dict(zip(SHEETS, (
            fonts.font_face_css(layout, root), layout.colors_css('cmyk'),
            pdf.page_css(booklet), copyfit.css({})), strict=True)),
        layout_folder=layout.folder,
        font_files=[face['file'] for face in layout.spec['fonts']],
        content_files=[root / path for path in CONTENT],
        preflight=root / 'build' / 'preflight.json', root=root)


@pytest.fixture(scope='module')
def bundles(tmp_path_factory):
    """Two bundles of the same edition, made from a project that is then deleted."""
    folder = tmp_path_factory.mktemp('handoff')
    project = FixtureProject(folder / 'project')
    inputs = edition_inputs(project.root)
    assert 'file://' in inputs['stylesheets']['fonts.css']  # what the bundle must undo
    old = os.environ.get('SOURCE_DATE_EPOCH')
    os.environ['SOURCE_DATE_EPOCH'] = str(EPOCH)
    try:
        made = [make_bundle(folder / f'{n}' / f'{NAME}-handoff.zip', **inputs)
                for n in (1, 2)]
    finally:
        if old is None:
            del os.environ['SOURCE_DATE_EPOCH']
        else:
            os.environ['SOURCE_DATE_EPOCH'] = old
    ORIGINALS.update({path: project.path(path).read_bytes() for path in (
        *CONTENT, 'layouts/nine-facts/booklet.css', 'fonts/noto-serif/NotoSerif-Bold.ttf',
        'fonts/inter/OFL.txt')})
    shutil.rmtree(project.root)
    return made


@pytest.fixture(scope='module')
def unzipped(bundles, tmp_path_factory):
    folder = tmp_path_factory.mktemp('unzipped')
    with zipfile.ZipFile(bundles[0]) as archive:
        archive.extractall(folder)
    return folder / NAME


def test_the_bundle_holds_every_part(bundles):
    with zipfile.ZipFile(bundles[0]) as archive:
        names = archive.namelist()
    expected = {'print.pdf', 'screen.pdf', 'preflight.json', 'README.txt',
                'html/booklet.html', 'html/booklet.css', *(f'html/{s}' for s in SHEETS),
                *(f'content/{path}' for path in CONTENT),
                'fonts/noto-serif/OFL.txt', 'fonts/inter/OFL.txt',
                *(f'fonts/noto-serif/NotoSerif-{face}.ttf'
                  for face in ('Regular', 'Italic', 'Bold', 'BoldItalic')),
                *(f'fonts/inter/Inter-{face}.otf'
                  for face in ('Regular', 'Medium', 'SemiBold', 'Bold', 'Black')),
                # The faces for Armenian and Georgian, which the CSS names after
                # Noto Serif and Inter: bare WeasyPrint loads every @font-face.
                *(f'fonts/noto-{script.lower()}/{name}'
                  for script in ('Armenian', 'Georgian')
                  for name in ('OFL.txt', *(f'NotoSerif{script}-{face}.ttf'
                                            for face in ('Regular', 'Bold')),
                               *(f'NotoSans{script}-{face}.ttf' for face in (
                                   'Regular', 'Medium', 'SemiBold', 'Bold', 'Black'))))}
    assert set(names) == {f'{NAME}/{name}' for name in expected}
    assert names == sorted(names)


def test_the_parts_are_what_was_given(unzipped):
    assert (unzipped / 'print.pdf').read_bytes() == b'%PDF-1.6 print'
    assert (unzipped / 'preflight.json').read_bytes() == b'{"ok": true}\n'
    for path in CONTENT:
        assert (unzipped / 'content' / path).read_bytes() == ORIGINALS[path]
    for path in ('noto-serif/NotoSerif-Bold.ttf', 'inter/OFL.txt'):
        assert (unzipped / 'fonts' / path).read_bytes() == ORIGINALS[f'fonts/{path}']
    css = (unzipped / 'html' / 'booklet.css').read_bytes()
    assert css == ORIGINALS['layouts/nine-facts/booklet.css']


def test_the_html_and_css_name_only_files_of_the_bundle(unzipped):
    texts = {path: path.read_text(encoding='utf-8') for path in (unzipped / 'html').iterdir()}
    for path, text in texts.items():
        assert 'file:' not in text, path
        assert '/project/' not in text, path
    fonts_css = texts[unzipped / 'html' / 'fonts.css']
    assert "url(\"../fonts/noto-serif/NotoSerif-Regular.ttf\")" in fonts_css
    # The builder's sheets come before the layout's, as WeasyPrint's user sheets do.
    html = texts[unzipped / 'html' / 'booklet.html']
    links = [html.index(f'<link rel="stylesheet" href="{name}">')
             for name in (*SHEETS, 'booklet.css')]
    assert links == sorted(links)


def test_the_readme_says_what_is_where(unzipped):
    readme = (unzipped / 'README.txt').read_text()
    for part in ('print.pdf', 'screen.pdf', 'html/booklet.html', 'html/fonts.css',
                 'fonts/inter/OFL.txt', 'content/data/kazakhstan/kk.yaml', 'preflight.json',
                 'weasyprint html/booklet.html'):
        assert part in readme, part


def test_the_html_renders_with_bare_weasyprint(unzipped):
    """With the project gone, only the bundle's fonts can be Noto Serif and Inter."""
    done = subprocess.run([sys.executable, '-m', 'weasyprint', 'html/booklet.html', 'x.pdf'],
                          cwd=unzipped, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == '', done.stderr  # a font that failed to load warns here
    with pikepdf.open(unzipped / 'x.pdf') as document:
        assert len(document.pages) == 8
        names = set()
        for page in document.pages:
            for font in page.Resources.get('/Font', {}).values():
                descendants = font.get('/DescendantFonts')
                base = descendants[0] if descendants is not None else font
                assert any(key in base.FontDescriptor for key in
                           ('/FontFile', '/FontFile2', '/FontFile3')), 'not embedded'
                names.add(str(font.BaseFont).split('+', 1)[-1])
    assert names, 'no fonts'
    for name in names:
        assert name.replace('-', '').startswith(('NotoSerif', 'Inter')), names


def test_weasyprint_reads_nothing_outside_the_bundle(unzipped):
    script = textwrap.dedent('''
        import weasyprint
        from weasyprint.urls import URLFetcher
        class Recording(URLFetcher):
            def fetch(self, url, headers=None):
                print(url)
                return super().fetch(url, headers)
        weasyprint.HTML('html/booklet.html', url_fetcher=Recording()).write_pdf('y.pdf')
    ''')
    done = subprocess.run([sys.executable, '-c', script], cwd=unzipped, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    read = [line for line in done.stdout.splitlines() if line]
    inside = unzipped.resolve().as_uri() + '/'
    assert read and all(url.startswith(inside) for url in read), read
    # One fetch per @font-face: 9 faces of Noto Serif and Inter, 18 for Armenian and Georgian.
    assert sum(url.endswith(('.ttf', '.otf')) for url in read) == 27, read


def test_the_same_inputs_give_the_same_bytes(bundles):
    assert bundles[0].read_bytes() == bundles[1].read_bytes()


def test_entries_have_fixed_dates_and_modes(bundles):
    with zipfile.ZipFile(bundles[0]) as archive:
        for info in archive.infolist():
            assert info.date_time == (2023, 11, 14, 22, 13, 20), info
            assert info.external_attr >> 16 == 0o100644, info
            stored = info.filename.endswith('.pdf')
            assert info.compress_type == (
                zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED), info


# Small fixture projects for the edge cases

def tiny(root, css='', html=None):
    """A tiny project: one font with its licence, a layout folder and its CSS."""
    (root / 'fonts' / 'face').mkdir(parents=True)
    (root / 'fonts' / 'face' / 'Face.ttf').write_bytes(b'font')
    (root / 'fonts' / 'face' / 'OFL.txt').write_text('licence')
    (root / 'layouts' / 'l' / 'img').mkdir(parents=True)
    (root / 'layouts' / 'l' / 'img' / 'logo.png').write_bytes(b'png')
    (root / 'layouts' / 'l' / 'style.css').write_text(css)
    (root / 'content.yaml').write_text('title: x\n')
    (root / 'preflight.json').write_text('{}')
    (root / 'print.pdf').write_bytes(b'%PDF')
    return dict(pdfs={'print': root / 'print.pdf'},
                html=html or '<html><head><link rel="stylesheet" href="style.css"></head>'
                             '<body><img src="img/logo.png"><a href="#top">top</a>'
                             '<a href="https://example.org/">web</a></body></html>',
                stylesheets={}, layout_folder=root / 'layouts' / 'l', font_files=[],
                content_files=['content.yaml'], preflight=root / 'preflight.json', root=root)


def read_bundle(path):
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_layout_files_and_sheets_the_html_links_come_along(tmp_path, monkeypatch):
    monkeypatch.delenv('SOURCE_DATE_EPOCH', raising=False)
    root = tmp_path / 'p'
    face = (root / 'fonts' / 'face' / 'Face.ttf').as_uri()
    inputs = tiny(root, css=f"@font-face {{ src: url({face}) }}\n"
                            "body {{ background: url('img/logo.png') }}")
    made = make_bundle(tmp_path / 'e-handoff.zip', **inputs)
    entries = read_bundle(made)
    assert sorted(entries) == [
        'e/README.txt', 'e/content/content.yaml', 'e/fonts/face/Face.ttf',
        'e/fonts/face/OFL.txt', 'e/html/booklet.html', 'e/html/img/logo.png',
        'e/html/style.css', 'e/preflight.json', 'e/print.pdf']
    css = entries['e/html/style.css'].decode()
    assert 'url("../fonts/face/Face.ttf")' in css and "url('img/logo.png')" in css
    html = entries['e/html/booklet.html'].decode()
    assert 'src="img/logo.png"' in html and 'href="#top"' in html
    assert 'href="https://example.org/"' in html
    with zipfile.ZipFile(made) as archive:  # no SOURCE_DATE_EPOCH: the zip format's epoch
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_a_font_without_its_licence_is_refused(tmp_path):
    root = tmp_path / 'p'
    inputs = tiny(root)
    (root / 'fonts' / 'face' / 'OFL.txt').unlink()
    with pytest.raises(HandoffError, match=r'fonts/face/: no licence file beside Face\.ttf'):
        make_bundle(tmp_path / 'out' / 'e.zip', **dict(inputs, font_files=['face/Face.ttf']))
    assert not (tmp_path / 'out').exists() or list((tmp_path / 'out').iterdir()) == []
    assert issubclass(HandoffError, BookletError)


def test_a_file_outside_the_project_folders_is_refused(tmp_path):
    root = tmp_path / 'p'
    secret = tmp_path / 'secret.ttf'
    secret.write_bytes(b'x')
    inputs = tiny(root, css=f'@font-face {{ src: url({secret.as_uri()}) }}')
    with pytest.raises(HandoffError, match='outside fonts/ and the layout folder'):
        make_bundle(tmp_path / 'e.zip', **inputs)
    with pytest.raises(HandoffError, match='inside the project'):
        make_bundle(tmp_path / 'e.zip', **dict(tiny(tmp_path / 'q'),
                                               content_files=[secret]))
    assert not (tmp_path / 'e.zip').exists()


def test_a_failed_bundle_leaves_the_old_one_whole(tmp_path):
    root = tmp_path / 'p'
    inputs = tiny(root)
    made = make_bundle(tmp_path / 'e.zip', **inputs)
    before = made.read_bytes()
    with pytest.raises(HandoffError):
        make_bundle(made, **dict(inputs, stylesheets={'../evil.css': ''}))
    assert made.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ['e.zip', 'p']


def test_the_zip_has_the_bytes_python_zipfile_writes(tmp_path, monkeypatch):
    """The bundle's zip writer (its own, so that a font is deflated once per
    process) gives the bytes Python's zipfile gives the same entries, a font
    packed a second time included; Info-ZIP's unzip tests it clean."""
    import random
    import time

    from bindery import handoff

    monkeypatch.setenv('SOURCE_DATE_EPOCH', '1700000000')
    noise = random.Random(7).randbytes(300_000)
    entries = {'e/fonts/face/Face.ttf': noise[:1000] * 50 + noise,
               'e/print.pdf': b'%PDF-1.7 ' + noise[:5000], 'e/README.txt': b'read me\n' * 99,
               'e/content/data/\u049b\u0430\u0437.yaml': 'қоғам: 1\n'.encode(), 'e/empty.css': b''}
    for attempt in range(2):
        ours = tmp_path / f'ours{attempt}.zip'
        handoff._write_zip(ours, entries)
    theirs = tmp_path / 'theirs.zip'
    with zipfile.ZipFile(theirs, 'w') as archive:
        for arcname in sorted(entries):
            info = zipfile.ZipInfo(arcname, time.gmtime(1700000000)[:6])
            info.create_system, info.external_attr = 3, 0o100644 << 16
            stored = arcname.endswith('.pdf')
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[arcname], compresslevel=None if stored else 1)
    assert (tmp_path / 'ours0.zip').read_bytes() == theirs.read_bytes()
    assert (tmp_path / 'ours1.zip').read_bytes() == theirs.read_bytes()
    tested = subprocess.run(['unzip', '-t', str(ours)], capture_output=True, text=True)
    assert tested.returncode == 0 and 'No errors detected' in tested.stdout, tested.stdout
    listed = subprocess.run(['unzip', '-Z1', str(ours)], capture_output=True, text=True)
    assert listed.stdout.splitlines() == sorted(entries)
