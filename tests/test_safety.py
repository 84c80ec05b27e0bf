"""A failed edition leaves nothing behind, and a layout cannot reach the network.

Builds run in fixture projects (copies of the real inputs) with one thing
broken: a font file deleted, a stylesheet pointing at a local HTTP server.
"""

import http.server
import json
import re
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import output_paths

FONT = 'fonts/inter/Inter-Black.otf'
PICTURES = ('print', 'screen', 'cover')


def leftovers(out):
    """Files in the output folder that look temporary (dot files, partial names)."""
    if not out.exists():
        return []
    return sorted(str(p.relative_to(out)) for p in out.rglob('*')
                  if p.is_file() and not re.fullmatch(r'\.bindery-(cache|set-[\w-]+)\.json',
                                                      p.name)  # the build's own records
                  and (p.name.startswith('.') or p.suffix in (
                      '.tmp', '.part') or '.pdf.' in p.name or '.png.' in p.name))


def assert_clean_failure(run):
    assert run.returncode == 1, str(run)
    assert 'Traceback' not in run.stdout + run.stderr, str(run)


def test_deleted_font_fails_naming_the_file_and_leaves_nothing(project, tmp_path):
    project.path(FONT).unlink()
    out = tmp_path / 'out'
    run = project.run('--out', out)
    assert_clean_failure(run)
    assert any(FONT in line for line in run.error_lines), run.error_lines
    for country, lang in (('kazakhstan', 'kk'), ('kyrgyzstan', 'ky')):
        for name in PICTURES:
            path = output_paths(out, country, lang)[name]
            assert not path.exists(), f'{path.name} written without its font'
    assert leftovers(out) == []


def test_a_broken_layout_never_costs_the_files_of_editions_it_could_not_try(
        project, built, tmp_path):
    """A layout that does not load stops its editions before they are tried: the
    files an earlier build made of them stay as they were, byte for byte."""
    out = tmp_path / 'out'
    shutil.copytree(built['kk'].print.parent, out / 'nine-facts')  # "yesterday's build"
    before = {path: path.read_bytes() for path in (out / 'nine-facts').iterdir()}
    project.path(FONT).unlink()
    run = project.run('--out', out)
    assert_clean_failure(run)
    assert any(FONT in line for line in run.error_lines), run.error_lines
    assert {path: path.read_bytes() for path in (out / 'nine-facts').iterdir()} == before


def _second_booklet_for_kyrgyz(project, font_copy):
    """kk in nine-facts; ky in its own booklet whose layout has its own copy of a font."""
    project.replace('booklets/nine-facts.yaml', '\noutputs:',
                    '\neditions: [kazakhstan/kk]\n\noutputs:')
    shutil.copytree(project.path('layouts/nine-facts'), project.path('layouts/nine-facts-ky'))
    project.write('booklets/nine-facts-ky.yaml',
                  project.read('booklets/nine-facts.yaml').replace(
                      'layout: nine-facts', 'layout: nine-facts-ky').replace(
                      'editions: [kazakhstan/kk]', 'editions: [kyrgyzstan/ky]'))
    project.replace('layouts/nine-facts-ky/layout.yaml', 'file: inter/Inter-Black.otf',
                    f'file: {font_copy}')
    copy = project.path('fonts') / font_copy
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(project.path(FONT), copy)
    shutil.copy(project.path('fonts/inter/OFL.txt'), copy.parent)  # the hand-off needs it


def test_two_booklets_fixture_builds(project, tmp_path):
    """The set-up of the next test, unbroken: both booklets build."""
    _second_booklet_for_kyrgyz(project, 'inter-ky/Inter-Black.otf')
    out = tmp_path / 'out'
    run = project.run('--out', out)
    assert run.returncode == 0, str(run)
    assert output_paths(out, 'kazakhstan', 'kk')['print'].is_file()
    assert output_paths(out, 'kyrgyzstan', 'ky', 'nine-facts-ky')['print'].is_file()


def test_deleted_font_fails_only_the_edition_that_uses_it(project, tmp_path):
    _second_booklet_for_kyrgyz(project, 'inter-ky/Inter-Black.otf')
    project.path('fonts/inter-ky/Inter-Black.otf').unlink()
    out = tmp_path / 'out'
    run = project.run('--out', out)
    assert_clean_failure(run)
    assert any('fonts/inter-ky/Inter-Black.otf' in line for line in run.error_lines), (
        run.error_lines)
    for name in PICTURES:
        assert not output_paths(out, 'kyrgyzstan', 'ky', 'nine-facts-ky')[name].exists()
    for name, path in output_paths(out, 'kazakhstan', 'kk').items():
        assert path.is_file(), f'{name}: the other edition was not built'
    assert leftovers(out) == []


# No network

class _Recorder(http.server.BaseHTTPRequestHandler):
    requests = []

    def do_GET(self):  # noqa: N802 (the standard library's name)
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header('Content-Type', 'image/png')
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    """A local HTTP server on a free port that records every request it gets."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    handler = type('Recorder', (_Recorder,), {'requests': []})
    server = http.server.ThreadingHTTPServer(('127.0.0.1', port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{port}', handler.requests
    finally:
        server.shutdown()
        server.server_close()


def test_http_server_fixture_records_requests(http_server):
    """The check below means something only if a fetch would be seen."""
    import urllib.request

    base, requests = http_server
    urllib.request.urlopen(f'{base}/probe.png', timeout=5).close()
    assert requests == ['/probe.png']


@pytest.mark.parametrize('css', [
    '.cover {{ background-image: url({base}/x.png); }}',
    '@font-face {{ font-family: Remote; src: url({base}/remote.woff2); }}\n'
    ".title {{ font-family: Remote, Inter, 'Noto Sans Armenian', 'Noto Sans Georgian'; }}",
], ids=['background-image', 'font-face'])
def test_layout_cannot_fetch_from_the_network(project, tmp_path, http_server, css):
    base, requests = http_server
    sheet = 'layouts/nine-facts/booklet.css'
    project.write(sheet, project.read(sheet) + '\n' + css.format(base=base) + '\n')
    out = tmp_path / 'out'
    run = project.run('--out', out, 'kazakhstan/kk')
    assert_clean_failure(run)
    assert requests == [], f'the build fetched {requests}'
    refusal = [line for line in run.error_lines if base in line]
    assert refusal and 'refused' in refusal[0].lower(), run.error_lines
    for name in PICTURES:
        assert not output_paths(out, 'kazakhstan', 'kk')[name].exists()
    assert leftovers(out) == []


def test_layout_cannot_read_files_outside_its_folders(project, tmp_path):
    secret = tmp_path / 'secret.png'
    secret.write_bytes(b'not for the booklet')
    sheet = 'layouts/nine-facts/booklet.css'
    project.write(sheet, project.read(sheet) +
                  f'\n.cover {{ background-image: url({secret.as_uri()}); }}\n')
    out = tmp_path / 'out'
    run = project.run('--out', out, 'kazakhstan/kk')
    assert_clean_failure(run)
    assert any('secret.png' in line and 'refused' in line.lower()
               for line in run.error_lines), run.error_lines
    assert not output_paths(out, 'kazakhstan', 'kk')['print'].exists()


def test_failed_edition_keeps_its_last_good_files_marked_stale(project, built, tmp_path):
    """A content mistake in kk: yesterday's kk files stay byte for byte, marked
    stale in the preflight report, the gallery and the summary; ky is built afresh;
    the next good build of kk replaces them and clears the mark."""
    out = tmp_path / 'out'
    shutil.copytree(built['kk'].print.parent, out / 'nine-facts')
    kk = output_paths(out, 'kazakhstan', 'kk')
    kept = {name: kk[name].read_bytes() for name in PICTURES}
    before = {path: path.stat().st_mtime_ns
              for path in output_paths(out, 'kyrgyzstan', 'ky').values()}
    good = project.read('data/kazakhstan/kk.yaml')
    project.replace('data/kazakhstan/kk.yaml', 'title: АШЫҚ ҚОҒАМ ҚАЗАҚСТАНДА\n',
                    'title:\n  - АШЫҚ ҚОҒАМ\n')
    run = project.run('--out', out)
    assert_clean_failure(run)
    assert {name: kk[name].read_bytes() for name in PICTURES} == kept
    report = json.loads(kk['preflight'].read_text(encoding='utf-8'))
    assert report['stale']['errors'] and any('data/kazakhstan/kk.yaml' in error
                                             for error in report['stale']['errors'])
    assert 'stale' in run.stdout and 'kazakhstan/kk' in run.stdout, run.stdout
    card = _card(out, 'nine-facts-kazakhstan-kk')
    assert 'class="edition is-stale"' in card and 'kazakhstan-kk-cover.png' in card
    assert 'last good files kept, stale' in card and 'data/kazakhstan/kk.yaml' in card
    for path, mtime in before.items():
        assert path.is_file() and path.stat().st_mtime_ns != mtime, f'{path.name} not rebuilt'
    assert leftovers(out) == []

    project.write('data/kazakhstan/kk.yaml', good)
    run = project.run('--out', out, 'kazakhstan/kk')
    assert run.returncode == 0, str(run)
    assert 'stale' not in json.loads(kk['preflight'].read_text(encoding='utf-8'))
    assert 'class="edition is-ok"' in _card(out, 'nine-facts-kazakhstan-kk')


def _card(out, card_id):
    """The HTML of one edition's card in the gallery."""
    html = (out / 'index.html').read_text(encoding='utf-8')
    match = re.search(rf'<li class="[^"]*" id="{card_id}">.*?</div>\n</li>', html, re.DOTALL)
    assert match, f'no card {card_id}'
    return match.group(0)


def test_a_build_leaves_nothing_in_the_temporary_folder(project, tmp_path, monkeypatch):
    """WeasyPrint copies the fonts of each font configuration to a temporary folder;
    a worker keeps its configuration between editions and must remove it at exit.

    The folder is a new one in the system's temporary folder, not under
    ``tmp_path``: the fork server's socket is made in it, and a socket's path
    may not be longer than 107 bytes (pytest-xdist's ``tmp_path`` is longer).
    render.py runs as a new interpreter: its workers must get this TMPDIR."""
    temp = Path(tempfile.mkdtemp(prefix='bindery-tmp-'))
    try:
        monkeypatch.setenv('TMPDIR', str(temp))
        run = project.run('--out', tmp_path / 'out', '-j2', 'kazakhstan/kk', 'kyrgyzstan/ky',
                          fresh=True)
        assert run.returncode == 0, str(run)
        assert sorted(path.name for path in temp.iterdir()) == []
    finally:
        shutil.rmtree(temp, ignore_errors=True)
