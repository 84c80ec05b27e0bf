"""What a layout can reach and how its failures are told: bindery/access.py (a regular
file really inside the allowed folders), the Jinja loader of bindery/layouts.py, the
fetcher's pictures known by their content, layouts.Finder (where a layout asked for a
URL or set a length), and pdf.py / workers.py turning what WeasyPrint, Pango and the
time limit do into the layout's errors.

The end-to-end cases are in tests/hostile/cases.yaml (``# ---- issue 12``); these are
the pieces a case cannot isolate: a race, a format Pillow reads, a GLib line on fd 2.

Run: ``.venv/bin/python -m pytest -q tests/test_layout_access.py``.
"""

import io
import os
import signal
import struct
import threading
import time
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest
import weasyprint
from jinja2 import TemplateNotFound
from PIL import Image

from bindery import access, pdf, weasy, workers
from bindery.editions import Result
from bindery.errors import RenderError
from bindery.fetcher import ProjectFetcher, RefusedResource, sniff
from bindery.layouts import Finder, LayoutLoader, environment

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def folders(tmp_path):
    """A project with a layout folder ``layouts/x`` and ``fonts/``, and a secret outside."""
    layout = tmp_path / 'layouts' / 'x'
    layout.mkdir(parents=True)
    (tmp_path / 'fonts').mkdir()
    secret = tmp_path.parent / f'{tmp_path.name}-secret.txt'
    secret.write_text('the machine name\n')
    yield SimpleNamespace(root=tmp_path, layout=layout, secret=secret)
    secret.unlink()


# access.read ------------------------------------------------------------------

def test_a_regular_file_inside_is_read(folders):
    (folders.layout / 'a.css').write_text('p {}')
    assert access.read(folders.layout / 'a.css', [folders.layout], folders.root) == b'p {}'


def test_a_link_leading_outside_is_refused_naming_both_ends(folders):
    (folders.layout / 'leak.txt').symlink_to(folders.secret)
    with pytest.raises(access.Refused) as refused:
        access.read(folders.layout / 'leak.txt', [folders.layout], folders.root)
    assert str(refused.value).startswith(f'layouts/x/leak.txt (a link to {folders.secret}): '
                                         'outside the folders a layout may use (layouts/x/)')


def test_a_link_to_a_file_inside_is_followed(folders):
    (folders.layout / 'parts').mkdir()
    (folders.layout / 'parts' / 'real.html').write_text('real')
    (folders.layout / 'alias.html').symlink_to('parts/real.html')
    assert access.read(folders.layout / 'alias.html', [folders.layout], folders.root) == b'real'


def test_a_folder_linked_from_outside_the_allowed_ones_is_refused(folders):
    """A link to a folder outside, then a file under it: the whole path resolves outside."""
    (folders.layout / 'etc').symlink_to('/etc')
    with pytest.raises(access.Refused, match='outside'):
        access.read(folders.layout / 'etc' / 'hostname', [folders.layout], folders.root)


def test_a_fifo_is_refused_at_once_without_waiting_for_a_writer(folders):
    os.mkfifo(folders.layout / 'pipe.png')
    started = time.monotonic()
    with pytest.raises(access.Refused, match=r'pipe\.png: a named pipe \(FIFO\), not a '
                                             'regular file'):
        access.read(folders.layout / 'pipe.png', [folders.layout], folders.root)
    assert time.monotonic() - started < 2


def test_a_folder_and_a_missing_file_are_told_apart(folders):
    (folders.layout / 'sub').mkdir()
    with pytest.raises(access.Refused, match='a folder, not a regular file'):
        access.read(folders.layout / 'sub', [folders.layout], folders.root)
    with pytest.raises(access.Missing, match='layouts/x/none.png: no such file'):
        access.read(folders.layout / 'none.png', [folders.layout], folders.root)


def test_devices_are_outside_every_layout(folders):
    with pytest.raises(access.Refused, match='/dev/zero: outside'):
        access.read(Path('/dev/zero'), [folders.layout], folders.root)
    # …and a device inside the allowed folders (here: the allowed folder is /dev)
    # is still no regular file.
    with pytest.raises(access.Refused, match='a device, not a regular file'):
        access.read(Path('/dev/zero'), [Path('/dev')], folders.root)


def test_a_link_swapped_in_after_the_check_is_caught_on_the_open_file(folders, monkeypatch):
    """The race: the path is checked, then replaced by a link to a file outside
    before it is opened. The kernel's name of the opened file still says where it is."""
    target = folders.layout / 'swap.css'
    target.write_text('p {}')
    real_open = os.open

    def swapping_open(path, flags, *args):
        if Path(path) == target.resolve():
            target.unlink()
            target.symlink_to(folders.secret)
            # O_NOFOLLOW refuses a link at the last step: the same race one
            # folder up is what the /proc check is for; here the open fails.
        return real_open(path, flags, *args)

    monkeypatch.setattr(access.os, 'open', swapping_open)
    with pytest.raises(access.Refused):
        access.read(target, [folders.layout], folders.root)


def test_the_proc_check_refuses_an_open_file_outside(folders, monkeypatch):
    (folders.layout / 'a.css').write_text('p {}')
    monkeypatch.setattr(access, '_opened_path', lambda handle: folders.secret)
    with pytest.raises(access.Refused, match='changed into a link to .* while being opened'):
        access.read(folders.layout / 'a.css', [folders.layout], folders.root)


# The Jinja loader -------------------------------------------------------------

def _layout(folder, template='booklet.html'):
    return SimpleNamespace(folder=folder, name=folder.name, spec={'template': template})


def test_the_loader_refuses_an_included_link_leading_outside(folders):
    (folders.layout / 'booklet.html').write_text('<p>{% include "leak.txt" %}</p>')
    (folders.layout / 'leak.txt').symlink_to(folders.secret)
    env = environment(_layout(folders.layout))
    with pytest.raises(access.Refused, match='leak.txt'):
        env.get_template('booklet.html').render()


def test_the_loader_does_not_climb_out_and_finds_what_is_inside(folders):
    (folders.layout / 'booklet.html').write_text('{% include "part.html" %}!')
    (folders.layout / 'part.html').write_text('inside')
    loader = LayoutLoader(folders.layout, folders.root)
    env = environment(_layout(folders.layout))
    assert env.get_template('booklet.html').render() == 'inside!'
    with pytest.raises(TemplateNotFound):
        loader.get_source(env, '../../../etc/passwd')
    with pytest.raises(TemplateNotFound):
        loader.get_source(env, 'missing.html')


def test_a_kept_template_is_compiled_again_when_a_file_it_uses_changes(folders):
    """Workers keep each layout's compiled templates between editions (and serve's
    preview worker between edits): an edit of the template or of an include, even
    one keeping the file's size, and a link put in an include's place, must reach
    the next render."""
    (folders.layout / 'booklet.html').write_text('[{% include "part.html" %}]')
    (folders.layout / 'part.html').write_text('one')
    render = lambda: environment(_layout(folders.layout)).get_template('booklet.html').render()
    assert render() == '[one]'
    assert environment(_layout(folders.layout)) is environment(_layout(folders.layout))
    (folders.layout / 'part.html').write_text('two')
    assert render() == '[two]'
    (folders.layout / 'booklet.html').write_text('({% include "part.html" %})')
    assert render() == '(two)'
    (folders.layout / 'part.html').unlink()
    (folders.layout / 'part.html').symlink_to(folders.secret)
    with pytest.raises(access.Refused, match='part.html'):
        render()


# Pictures by their content ----------------------------------------------------

def _png(width, height):
    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data)))
    rows = zlib.compress((b'\x00' + b'\xff' * ((width + 7) // 8)) * height, 9)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height,
                                                              1, 0, 0, 0, 0))
            + chunk(b'IDAT', rows) + chunk(b'IEND', b''))


def _saved(image, form):
    out = io.BytesIO()
    image.save(out, form)
    return out.getvalue()


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'


@pytest.mark.parametrize('name', ['logo.svg', 'logo.png', 'logo.css', 'logo'])
def test_a_png_is_served_as_a_png_whatever_its_name(name):
    assert sniff(_png(8, 8), name, 'image/svg+xml') == 'image/png'


@pytest.mark.parametrize('name', ['bomb.svg', 'bomb.css', 'bomb.woff2', 'bomb.txt'])
def test_a_pixel_bomb_is_refused_by_its_header_whatever_its_name(name):
    with pytest.raises(RefusedResource, match=rf'{name}: 20,000 × 20,000 pixels'):
        sniff(_png(20000, 20000), name, 'text/css')


def test_an_svg_named_png_is_svg_and_keeps_the_svg_rules():
    assert sniff(SVG, 'logo.png', 'image/png') == 'image/svg+xml'
    bomb = (ROOT / 'tests' / 'hostile' / 'files' / 'entity-bomb.svg').read_bytes()
    with pytest.raises(RefusedResource, match='entity declarations'):
        sniff(bomb, 'logo.png', 'image/png')
    with pytest.raises(RefusedResource, match='entity declarations'):
        sniff(bomb.decode().encode('utf-16'), 'logo.css', 'text/css')
    # Only in what an XML parser could read: a stylesheet's comment may say it.
    assert sniff(b'/* no <!ENTITY> here */ p {}', 'a.css', 'text/css') == 'text/css'


def test_a_text_named_like_a_picture_is_refused_naming_it():
    with pytest.raises(RefusedResource, match=r"photo\.png: named like a picture, but "
                                              r"neither a picture nor SVG \(it starts b'just"):
        sniff(b'just some words', 'photo.png', 'image/png')
    with pytest.raises(RefusedResource, match='photo.png: named like a picture, but empty'):
        sniff(b'', 'photo.png', 'image/png')


def test_a_picture_in_a_format_print_does_not_take_is_refused():
    with pytest.raises(RefusedResource, match='logo.png: a TGA picture; a layout may use PNG'):
        sniff(_saved(Image.new('RGB', (4, 4)), 'TGA'), 'logo.png', 'image/png')


@pytest.mark.parametrize('form, mime', [('JPEG', 'image/jpeg'), ('TIFF', 'image/tiff'),
                                        ('GIF', 'image/gif'), ('WEBP', 'image/webp')])
def test_the_formats_print_takes_pass(form, mime):
    assert sniff(_saved(Image.new('RGB', (4, 4)), form), 'x.bin', 'x') == mime


def test_no_font_or_stylesheet_of_the_project_is_taken_for_a_picture():
    """Pillow has formats without a signature (TGA…): every real layout file must
    still be served as what its name says."""
    files = [path for folder in ('fonts', 'layouts') for path in (ROOT / folder).rglob('*')
             if path.is_file() and path.suffix in ('.otf', '.ttf', '.css', '.html', '.md',
                                                   '.txt')]
    assert len(files) > 20
    for path in files:
        named = {'.otf': 'font/otf', '.ttf': 'font/ttf', '.css': 'text/css'}.get(
            path.suffix, 'text/plain')
        assert sniff(path.read_bytes(), path.name, named) == named, path


def test_the_fetcher_refuses_a_link_out_and_remembers_the_url(folders):
    (folders.layout / 'bg.png').symlink_to(folders.secret)
    fetcher = ProjectFetcher([folders.layout, folders.root / 'fonts'], folders.root)
    url = (folders.layout / 'bg.png').as_uri()
    with pytest.raises(RefusedResource) as refused:
        fetcher.fetch(url)
    assert refused.value.url == url
    assert fetcher.refused_urls == [url]
    assert 'layouts/x/bg.png (a link to' in fetcher.refused[0]


# Where a layout asked for it ----------------------------------------------------

def test_the_finder_places_a_url_at_its_line_and_column(folders):
    (folders.layout / 'booklet.html').write_text(
        '<html>\n<head>\n  <base href="http://example.org/x/">\n</head>\n'
        '<img src="pictures/a.png"></html>\n')
    (folders.layout / 'booklet.css').write_text(
        'p {}\n.cover { background: url(../../../../etc/passwd); }\n')
    finder = Finder(_layout(folders.layout), folders.root)
    assert finder.url('file:///etc/passwd') == 'layouts/x/booklet.css:2:37'
    assert finder.url((folders.layout / 'pictures' / 'a.png').as_uri()) == \
        'layouts/x/booklet.html:5:11'
    # The stylesheet link made absolute by <base>: found by the URL's start.
    assert finder.url('http://example.org/x/booklet.css') == 'layouts/x/booklet.html:3:15'
    assert finder.url('file:///usr/share/elsewhere.png') is None


def test_the_finder_skips_a_fifo_and_a_link_out(folders):
    (folders.layout / 'booklet.html').write_text('<p>x</p>')
    os.mkfifo(folders.layout / 'pipe.html')
    (folders.layout / 'leak.css').symlink_to(folders.secret)
    finder = Finder(_layout(folders.layout), folders.root)
    assert [path for path, _ in finder.texts()] == ['layouts/x/booklet.html']


def test_the_finder_finds_a_font_size_in_a_shorthand_and_a_nested_rule(folders):
    (folders.layout / 'booklet.html').write_text('')
    (folders.layout / 'booklet.css').write_text(
        'p { font-size: 12pt }\n@media print {\n  h1 { font: 700 20000pt/1 Inter; }\n}\n')
    finder = Finder(_layout(folders.layout), folders.root)
    found = finder.declarations(('font-size', 'font'), pdf._over_max_font)
    assert found == [('layouts/x/booklet.css:3:8', '700 20000pt/1 Inter')]


# What WeasyPrint, Pango and the time limit do, as the layout's errors ------------------

def test_pango_lines_are_caught_and_never_reach_the_terminal(capfd):
    html = '<p style="font-size: 3000000pt">Large</p>'
    with pdf._glib_messages() as lines:
        weasyprint.HTML(string=html).render()
    assert lines and lines[0].startswith('Pango: '), lines
    assert 'CRITICAL' not in capfd.readouterr().err


def test_outside_a_render_glib_lines_go_where_they_went(capfd):
    pdf._install_glib_handler()
    weasyprint.HTML(string='<p style="font-size: 3000000pt">Large</p>').render()
    assert 'Pango-CRITICAL' in capfd.readouterr().err


def test_a_font_size_over_the_limit_names_the_element():
    document = weasyprint.HTML(string='<p class="huge" style="font-size: 20000pt">x</p>'
                               ).render()
    error = pdf._font_too_large(document, None)
    assert str(error).startswith('font-size of 20,000 pt on <p class="huge">: more than '
                                 '10,000 pt')
    assert pdf._font_too_large(weasyprint.HTML(string='<p style="font-size: 9000pt">x</p>')
                               .render(), None) is None


def _renderer(tmp_path, body):
    fetcher = ProjectFetcher([tmp_path], tmp_path)
    return pdf.Renderer(f'<html><body>{body}</body></html>', tmp_path.as_uri() + '/',
                        fetcher, '')


def test_nesting_deeper_than_weasyprint_recurses_is_a_layout_error(tmp_path):
    body = '<section class="deep">' + '<div>' * 260 + 'x' + '</div>' * 260 + '</section>'
    with pytest.raises(RenderError, match=r'^the template: elements nested 263 deep '
                                          r'\(html > body > section\.deep > div × 260\)'):
        _renderer(tmp_path, body).render([])


def test_deepest_counts_levels_and_runs():
    root = weasyprint.HTML(string='<p><b><i>x</i></b></p>').etree_element
    assert weasy.deepest(root) == (5, 'html > body > p > b > i')


class _Stop(BaseException):
    """Stands for the time limit's alarm."""


def test_an_interruption_inside_an_svg_goes_on_instead_of_being_logged(tmp_path, monkeypatch):
    """WeasyPrint's SVGImage.draw catches BaseException and logs "Failed to render
    SVG image"; the alarm of the time limit must not end there."""
    from weasyprint.svg import SVG as SvgTree

    (tmp_path / 'a.svg').write_bytes(SVG)

    def stopped(*args, **kwargs):
        raise _Stop

    monkeypatch.setattr(SvgTree, 'draw', stopped)
    renderer = _renderer(tmp_path, '<img src="a.svg">')
    document, _ = renderer.render([])
    with pytest.raises(_Stop):
        pdf.write_pdf(document, tmp_path / 'out.pdf', b'0' * 32, renderer.fetcher)


def test_an_svg_that_fails_says_why(tmp_path, monkeypatch):
    from weasyprint.svg import SVG as SvgTree

    (tmp_path / 'a.svg').write_bytes(SVG)

    def broken(*args, **kwargs):
        raise RecursionError('maximum recursion depth exceeded')

    monkeypatch.setattr(SvgTree, 'draw', broken)
    renderer = _renderer(tmp_path, '<img src="a.svg">')
    document, _ = renderer.render([])
    with pytest.raises(RenderError, match=r'Failed to render SVG image .*a\.svg '
                                          r'\(RecursionError: maximum recursion'):
        pdf.write_pdf(document, tmp_path / 'out.pdf', b'0' * 32, renderer.fetcher)


@pytest.fixture
def limited(monkeypatch):
    """``_build_limited`` with ``build_edition`` replaced, returning the message of
    the failure it reports (or the result)."""
    monkeypatch.setattr(workers, '_failed', lambda task, message, *rest: message)

    def run(build, seconds=1):
        monkeypatch.setattr(workers, 'build_edition', build)
        previous = signal.getsignal(signal.SIGALRM)
        try:
            return workers._build_limited(('root', None, None, 'c', 'l', 'out'), seconds)
        finally:
            signal.signal(signal.SIGALRM, previous)
    return run


def _swallowing(outcome):
    def build(*task):
        try:
            time.sleep(3)
        except BaseException:  # noqa: BLE001 (as WeasyPrint's SVGImage.draw does)
            pass
        return outcome()
    return build


def test_the_time_limit_wins_over_a_failure_said_after_it(limited):
    said = limited(_swallowing(lambda: Result('b', 'c/l', errors=[
        'c/l: Failed to render SVG image file:///x.svg'])))
    assert said.startswith('took longer than 1 s and was stopped'), said


def test_the_time_limit_wins_over_a_bug_raised_after_it(limited):
    def bug():
        raise ValueError('what the stopped render tripped on')
    said = limited(_swallowing(bug))
    assert said.startswith('took longer than 1 s'), said


def test_the_time_limit_wins_over_a_success_claimed_after_it(limited):
    said = limited(_swallowing(lambda: Result('b', 'c/l', ok=True)))
    assert said.startswith('took longer than 1 s'), said


def test_without_the_alarm_a_bug_is_still_a_bug_and_a_result_a_result(limited):
    def bug(*task):
        raise ValueError('ours')
    assert limited(bug, seconds=30).startswith('internal error (ValueError: ours)')
    good = Result('b', 'c/l', ok=True)
    assert limited(lambda *task: good, seconds=30) is good


def test_the_alarm_is_off_after_a_build(limited):
    limited(lambda *task: Result('b', 'c/l', ok=True), seconds=30)
    assert signal.alarm(0) == 0


# The hand-off bundle ------------------------------------------------------------

def test_a_font_licence_that_links_out_of_fonts_does_not_go_into_the_bundle(tmp_path):
    from bindery.handoff import HandoffError, make_bundle
    from test_handoff import tiny

    root = tmp_path / 'p'
    inputs = tiny(root)
    secret = tmp_path / 'secret.txt'
    secret.write_text('root:x:0:0:root:/root:/bin/bash\n')
    licence = root / 'fonts' / 'face' / 'OFL.txt'
    licence.unlink()
    licence.symlink_to(secret)
    with pytest.raises(HandoffError, match=r'fonts/face/OFL\.txt \(a link to .*secret\.txt\): '
                                           'outside'):
        make_bundle(tmp_path / 'e.zip', **dict(inputs, font_files=['face/Face.ttf']))
    assert not (tmp_path / 'e.zip').exists()


def test_a_drawing_limit_is_placed_at_the_declaration_that_asks_for_it(folders):
    (folders.layout / 'booklet.html').write_text('')
    (folders.layout / 'booklet.css').write_text(
        'h1 { box-shadow: 1mm 1mm 0 black; }\n'
        'h2 {\n  box-shadow: 1mm 1mm 2mm var(--navy);\n}\n'
        'h3 { background: url(a.png), linear-gradient(var(--a), var(--b)); }\n')
    finder = Finder(_layout(folders.layout), folders.root)
    assert pdf._drawing_limit_at('cannot draw: … in a box-shadow with a blur', finder) == \
        'layouts/x/booklet.css:3:3'
    assert pdf._drawing_limit_at('cannot draw: … in a gradient', finder) == \
        'layouts/x/booklet.css:5:6'
    assert pdf._drawing_limit_at('cannot draw: CSS it has not implemented', finder) is None


def test_a_recursion_error_without_deep_nesting_is_still_the_layouts(tmp_path, monkeypatch):
    import weasyprint.document

    def recursing(*args, **kwargs):
        raise RecursionError('maximum recursion depth exceeded')

    monkeypatch.setattr(weasyprint.document, 'layout_document', recursing)
    with pytest.raises(RenderError, match=r"^the layout: WeasyPrint .* recursed past Python's "
                                          r'limit .* nest only 3 deep'):
        _renderer(tmp_path, '<p>x</p>').render([])


@pytest.mark.parametrize('relative, target', [
    ('layouts/nine-facts/strings/ky.yaml', 'kyrgyzstan/ky'),
    ('layouts/nine-facts/layout.yaml', 'kazakhstan/kk'),
])
def test_a_layout_yaml_file_linked_from_outside_is_refused(project, tmp_path, relative,
                                                          target):
    """layout.yaml and the strings are opened as the layout's other files are: a
    link to a file outside the layout's folder (here a copy of the file itself,
    so that only the link is wrong) is refused at the file, by `check` and by
    the build, and nothing of it is read."""
    outside = tmp_path / 'outside.yaml'
    outside.write_bytes(project.path(relative).read_bytes())
    project.path(relative).unlink()
    project.path(relative).symlink_to(outside)
    for args in (['check', target], ['--out', tmp_path / 'out', target]):
        run = project.run(*args)
        assert run.returncode == 1, str(run)
        assert 'Traceback' not in run.stdout + run.stderr, str(run)
        assert any(line.startswith(f'{relative}:1:1: refused: {relative} (a link to ')
                   and 'outside the folders a layout may use (layouts/nine-facts/)' in line
                   for line in run.error_lines), str(run)
