"""``render.py serve``: watch, rebuild what changed, serve previews on 127.0.0.1 only.

Most tests use a stub build that writes blank PDFs, so they take a second; one
builds a real edition of a fixture project and watches its preview page refresh
in headless Chromium after a content change, and show the errors above the
greyed pictures of the last good build (stale) after a broken one.
"""

import json
import queue
import socket
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from bindery.serve import HOST, serve
from browser import chromium

BOOKLET = 'nine-facts'
PNG = b'\x89PNG\r\n\x1a\n'
#: Long enough for a real edition to build on a slow machine.
TIMEOUT = 60


@contextmanager
def serving(root, out, build, targets=()):
    """``serve()`` in a thread on a free port; yields its URL; stops it at the end."""
    ready, stop = queue.Queue(), threading.Event()
    thread = threading.Thread(target=serve, args=(root, out), daemon=True, kwargs=dict(
        port=0, build=build, targets=targets, ready=ready.put, stop=stop))
    thread.start()
    try:
        url = ready.get(timeout=30)
        yield url
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive(), 'serve() did not stop'


def fetch(url, headers=None):
    """``(status, content type, body)`` of a GET."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers['Content-Type'], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers['Content-Type'], error.read()


def status(url, stem):
    code, kind, body = fetch(f'{url}status/{BOOKLET}/{stem}')
    assert code == 200 and kind == 'application/json', (code, body)
    return json.loads(body)


def wait_status(url, stem, test, timeout=TIMEOUT):
    """Poll an edition's status until ``test(status)``; return that status."""
    deadline = time.monotonic() + timeout
    while not test(current := status(url, stem)):
        assert time.monotonic() < deadline, f'gave up waiting; last status: {current}'
        time.sleep(0.2)
    return current


class StubBuild:
    """Builds "editions" as blank two-page PDFs; records the targets asked for."""

    EDITIONS = ('kazakhstan/kk', 'kazakhstan/ru', 'kyrgyzstan/ky')

    def __init__(self, out):
        self.out, self.calls, self.errors, self.crash = Path(out), [], {}, False
        self.page_sizes = [(420, 595)] * 2  # in points: A5 portrait

    def __call__(self, targets):
        self.calls.append(tuple(targets))
        if self.crash:
            raise RuntimeError('stub crashed')
        import pypdfium2

        results = []
        for edition in self.EDITIONS:
            if targets and not any(t in (BOOKLET, edition.split('/')[0], edition)
                                   for t in targets):
                continue
            if edition in self.errors:
                results.append(SimpleNamespace(booklet=BOOKLET, edition=edition, ok=False,
                                               errors=self.errors[edition], files={}))
                continue
            path = self.out / BOOKLET / f'{edition.replace("/", "-")}-screen.pdf'
            path.parent.mkdir(parents=True, exist_ok=True)
            document = pypdfium2.PdfDocument.new()
            for width, height in self.page_sizes:
                document.new_page(width, height)
            document.save(str(path))
            document.close()
            results.append(SimpleNamespace(booklet=BOOKLET, edition=edition, ok=True,
                                           errors=[], files={'screen': str(path)}))
        return results


@pytest.fixture
def stub_root(tmp_path):
    """A project with just the files whose changes the tests make."""
    root = tmp_path / 'project'
    for name in ('data/kazakhstan/kk.yaml', 'data/kazakhstan/ru.yaml',
                 'data/kazakhstan/country.yaml', 'data/kyrgyzstan/ky.yaml',
                 'layouts/nine-facts/booklet.css'):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text('# v1\n')
    return root


def test_serves_on_127_0_0_1_only(stub_root, tmp_path):
    out = tmp_path / 'out'
    (tmp_path / 'secret.txt').write_text('not for the browser')
    with serving(stub_root, out, StubBuild(out)) as url:
        assert url.startswith(f'http://{HOST}:')
        port = int(url.rstrip('/').rsplit(':', 1)[1])
        # Listening on 127.0.0.1 alone: the kernel's own table, and a refusal on
        # another loopback address (which a server on 0.0.0.0 would accept).
        listening = [line.split()[1] for line in Path('/proc/net/tcp').read_text().splitlines()[1:]
                     if line.split()[3] == '0A']
        assert f'0100007F:{port:04X}' in listening
        assert not any(address.endswith(f':{port:04X}') and address != f'0100007F:{port:04X}'
                       for address in listening)
        assert not any(line.split()[1].endswith(f':{port:04X}') for line in
                       Path('/proc/net/tcp6').read_text().splitlines()[1:])
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(('127.0.0.2', port), timeout=5).close()

        wait_status(url, 'kazakhstan-kk', lambda s: s['version'] >= 1)
        code, kind, body = fetch(url)
        assert code == 200 and kind.startswith('text/html') and b'Booklet gallery' in body
        # Another site's page in the browser cannot read it through a DNS name.
        assert fetch(url, {'Host': 'attacker.example'})[0] == 403
        # Nothing outside the output folder.
        with socket.create_connection((HOST, port), timeout=5) as raw:
            raw.sendall(b'GET /../secret.txt HTTP/1.0\r\n\r\n')
            answer = raw.recv(65536)
        assert answer.startswith(b'HTTP/1.0 404') and b'not for the browser' not in answer
        assert fetch(f'{url}status/{BOOKLET}/nowhere-xx')[0] == 404
        assert fetch(f'{url}preview/{BOOKLET}/nowhere-xx/')[0] == 404


def test_a_change_rebuilds_only_the_editions_it_touches(stub_root, tmp_path):
    out = tmp_path / 'out'
    build = StubBuild(out)
    with serving(stub_root, out, build) as url:
        first = wait_status(url, 'kazakhstan-kk', lambda s: s['version'] >= 1)
        assert build.calls == [()]
        assert first['ok'] and first['pages'] == 2 and len(first['images']) == 2
        for image in first['images']:
            code, kind, body = fetch(url + image.lstrip('/'))
            assert code == 200 and kind == 'image/png' and body.startswith(PNG)

        steps = [('data/kazakhstan/kk.yaml', ('kazakhstan/kk',), {'kazakhstan-kk'}),
                 ('data/kazakhstan/country.yaml', ('kazakhstan/kk', 'kazakhstan/ru'),
                  {'kazakhstan-kk', 'kazakhstan-ru'}),
                 ('layouts/nine-facts/booklet.css', (),
                  {'kazakhstan-kk', 'kazakhstan-ru', 'kyrgyzstan-ky'})]
        for changed, targets, rebuilt in steps:
            before = {stem: status(url, stem)['version']
                      for stem in ('kazakhstan-kk', 'kazakhstan-ru', 'kyrgyzstan-ky')}
            calls = len(build.calls)
            (stub_root / changed).write_text('# v2\n')
            stem = sorted(rebuilt)[0]
            wait_status(url, stem, lambda s: s['version'] > before[stem])
            assert build.calls[calls:] == [targets], changed
            for other, version in before.items():
                assert (status(url, other)['version'] > version) == (other in rebuilt)


def test_a_failed_build_shows_its_errors_over_the_last_good_pages(stub_root, tmp_path):
    """A failed edition shows its errors above the greyed pages of its last good
    build (stale); one that never built shows its errors alone."""
    out = tmp_path / 'out'
    build = StubBuild(out)
    build.errors['kazakhstan/ru'] = ['data/kazakhstan/ru.yaml:1:1: never built']
    pictures = out / BOOKLET / 'preview' / 'kazakhstan-kk'
    with serving(stub_root, out, build) as url:
        first = wait_status(url, 'kazakhstan-kk', lambda s: s['version'] >= 1)
        assert sorted(p.name for p in pictures.iterdir()) == ['page-1.png', 'page-2.png']
        never = status(url, 'kazakhstan-ru')
        assert not never['ok'] and not never['stale'] and never['images'] == []
        code, _, body = fetch(f'{url}preview/{BOOKLET}/kazakhstan-ru/')
        assert code == 200 and '<img' not in body.decode().split('<script>')[0]

        build.errors['kazakhstan/kk'] = [
            "data/kazakhstan/kk.yaml:3:1: unknown field '<img src=x onerror=alert(1)>'"]
        (stub_root / 'data/kazakhstan/kk.yaml').write_text('# v2\n')
        failed = wait_status(url, 'kazakhstan-kk', lambda s: s['version'] > first['version'])
        assert not failed['ok'] and failed['stale'] and len(failed['images']) == 2
        assert failed['errors'] == build.errors['kazakhstan/kk']
        assert sorted(p.name for p in pictures.iterdir()) == ['page-1.png', 'page-2.png']
        code, _, body = fetch(f'{url}preview/{BOOKLET}/kazakhstan-kk/')
        html = body.decode()
        markup = html.split('<script>')[0]
        assert code == 200 and markup.count('<img') == 2 and 'class="stale"' in markup
        assert 'showing the last good build' in markup
        assert '&lt;img src=x onerror=alert(1)&gt;' in html

        build.crash = True  # a bug in the build: the server says so and keeps serving
        (stub_root / 'layouts/nine-facts/booklet.css').write_text('# v2\n')
        crashed = wait_status(url, 'kyrgyzstan-ky', lambda s: s['version'] > first['version'])
        assert not crashed['ok'] and 'stub crashed' in crashed['errors'][0]
        assert fetch(url)[0] == 200


def test_page_pictures_keep_the_proportions_of_their_pages(stub_root, tmp_path):
    """A5, landscape A4 and A3 pages each show in proportion: in the first HTML
    and after a rebuild that changes the sizes (the page's script)."""
    from PIL import Image

    out = tmp_path / 'out'
    build = StubBuild(out)
    build.page_sizes = [(420, 595), (842, 595), (842, 1191)]  # A5, A4 landscape, A3
    stem = 'kazakhstan-kk'
    pictures = out / BOOKLET / 'preview' / stem
    shown = ('Array.from(document.images).map(i => {{ const r = i.getBoundingClientRect(); '
             'return [r.width, r.height, i.naturalWidth, i.naturalHeight, i.complete, '
             'i.src.endsWith("?v={version}")]; }})')

    def check(status, page):
        assert len(status['sizes']) == len(build.page_sizes)
        for number, ((width, height), size) in enumerate(zip(build.page_sizes,
                                                            status['sizes']), 1):
            with Image.open(pictures / f'page-{number}.png') as picture:
                assert list(picture.size) == size
            # 100 dpi: the picture is the page's size, whatever the page.
            assert abs(size[0] - width * 100 / 72) <= 1 and abs(size[1] - height * 100 / 72) <= 1
        page.wait_for(f'Array.from(document.images).filter(i => i.complete && '
                      f'i.naturalWidth > 0 && i.src.endsWith("?v={status["version"]}"))'
                      f'.length == {len(build.page_sizes)}')
        boxes = page.evaluate(shown.format(version=status['version']))
        for (width, height), size, box in zip(build.page_sizes, status['sizes'], boxes):
            assert box[2:] == size + [True, True], box  # the new picture, loaded
            assert abs(box[1] / box[0] - height / width) < 0.01, (status["version"], boxes, build.page_sizes)

    with serving(stub_root, out, build) as url, \
            chromium(tmp_path / 'chromium') as browser:
        first = wait_status(url, stem, lambda s: s['version'] >= 1)
        code, _, body = fetch(f'{url}preview/{BOOKLET}/{stem}/')
        markup = body.decode().split('<script>')[0]
        for width, height in first['sizes']:
            assert f'width="{width}" height="{height}"' in markup
        page = browser.open(f'{url}preview/{BOOKLET}/{stem}/')
        check(first, page)

        build.page_sizes = [(842, 1191), (420, 595), (842, 595)]
        (stub_root / 'data/kazakhstan/kk.yaml').write_text('# v2\n')
        second = wait_status(url, stem, lambda s: s['version'] > first['version'])
        check(second, page)
        assert page.exceptions == [] and page.failed_requests == []


def test_preview_refreshes_in_chromium_after_a_content_change(project, tmp_path):
    from bindery.cli import run_build

    out = tmp_path / 'out'
    stem, source = 'kazakhstan-kk', 'data/kazakhstan/kk.yaml'

    def build(targets):
        problems, results = run_build(project.root, out, list(targets), 1)
        assert problems == []
        return results

    pictures = out / BOOKLET / 'preview' / stem
    with serving(project.root, out, build, targets=('kazakhstan/kk',)) as url, \
            chromium(tmp_path / 'chromium') as browser:
        first = wait_status(url, stem, lambda s: s['version'] >= 1)
        assert first['ok'], first['errors']
        assert first['pages'] == 8 and len(first['images']) == 8
        page = browser.open(f'{url}preview/{BOOKLET}/{stem}/')
        loaded = ('Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0 '
                  f'&& i.src.endsWith("?v={{}}")).length == {first["pages"]}')
        page.wait_for(loaded.format(first['version']))
        cover = (pictures / 'page-1.png').read_bytes()
        assert cover.startswith(PNG)

        # A new title: the page swaps in the new pictures by itself.
        project.replace(source, 'title: АШЫҚ ҚОҒАМ ҚАЗАҚСТАНДА\n',
                        'title: АШЫҚ ҚОҒАМ ҚАЗАҚСТАНДА 2025\n')
        second = wait_status(url, stem, lambda s: s['version'] > first['version'])
        assert second['ok'], second['errors']
        page.wait_for(loaded.format(second['version']))
        assert (pictures / 'page-1.png').read_bytes() != cover
        assert page.evaluate('document.getElementById("errors").hidden')

        # The gallery, served: its pictures load and its links answer.
        gallery = browser.open(url)
        images = gallery.images()
        assert images and all(image['loaded'] for image in images), images
        for link in gallery.links():
            assert link.startswith(url), link
            code, kind, body = fetch(link)
            assert code == 200, link
            if link.endswith('.pdf'):
                assert body.startswith(b'%PDF-')
        assert gallery.exceptions == [] and gallery.failed_requests == []

        # A mistake: the errors show above the last good pages, greyed (stale).
        project.replace(source, '\nfoundation: ', '\nfoundatio: ')
        third = wait_status(url, stem, lambda s: s['version'] > second['version'])
        assert not third['ok'] and third['stale']
        page.wait_for(f'document.getElementById("pages").dataset.version == "{third["version"]}"')
        assert page.evaluate('document.images.length') == first['pages']
        assert page.evaluate('document.getElementById("pages").className') == 'stale'
        assert page.evaluate('getComputedStyle(document.images[0]).filter') == 'grayscale(1)'
        assert not page.evaluate('document.getElementById("errors").hidden')
        shown = page.evaluate('document.getElementById("errors").innerText')
        assert "kk.yaml:" in shown and "unknown field 'foundatio'" in shown, shown
        assert (pictures / 'page-1.png').is_file()
        assert page.exceptions == []
        assert page.failed_requests == []


def test_preview_first_then_the_outputs_and_status_json(stub_root, tmp_path):
    """With a ``preview``, a change shows the new pages (phase ``preview``) while
    the build still runs, then the build's verdict (phase ``done``); /status.json
    gives every edition's state and times."""
    from previews_stub import held_build_and_preview

    out = tmp_path / 'out'
    build, preview, release = held_build_and_preview(out, StubBuild)
    with serving_with_preview(stub_root, out, build, preview) as url:
        release.set()  # the first build may finish
        first = wait_status(url, 'kazakhstan-kk', lambda s: s['phase'] == 'done')
        release.clear()  # the next build waits until the test has seen its preview
        written = time.time()
        (stub_root / 'data/kazakhstan/kk.yaml').write_text('# v2\n')
        shown = wait_status(url, 'kazakhstan-kk', lambda s: s['phase'] == 'preview'
                            and s['version'] > first['version'])
        assert shown['building'] and shown['ok'] and len(shown['images']) == 3
        assert shown['changed_at'] >= written - 1 and shown['preview_at'] >= shown['changed_at']
        code, kind, body = fetch(f'{url}status.json')
        data = json.loads(body)
        assert code == 200 and kind == 'application/json' and data['building']
        states = {(s['booklet'], s['edition']): s for s in data['editions']}
        assert states[(BOOKLET, 'kazakhstan/kk')]['phase'] == 'preview'
        assert states[(BOOKLET, 'kyrgyzstan/ky')]['phase'] == 'done'  # not touched
        code, _, body = fetch(f'{url}preview/{BOOKLET}/kazakhstan-kk/')
        assert 'preview · making the files' in body.decode()
        release.set()
        done = wait_status(url, 'kazakhstan-kk', lambda s: s['phase'] == 'done'
                           and s['version'] > shown['version'])
        assert done['ok'] and not done['building'] and done['built_at'] >= done['preview_at']
        assert len(done['images']) == 2  # the build's own pages, drawn from its PDF


@contextmanager
def serving_with_preview(root, out, build, preview):
    ready, stop = queue.Queue(), threading.Event()
    thread = threading.Thread(target=serve, args=(root, out), daemon=True, kwargs=dict(
        port=0, build=build, ready=ready.put, stop=stop, preview=preview))
    thread.start()
    try:
        yield ready.get(timeout=30)
    finally:
        stop.set()
        thread.join(timeout=20)
