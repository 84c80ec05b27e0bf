"""Watch the sources, rebuild what changed and serve previews on 127.0.0.1.

``render.py serve`` builds once, then serves, on 127.0.0.1 only:

* ``/``: the gallery (:mod:`bindery.gallery`), with a link to each live preview;
  it reloads itself after every rebuild;
* ``/preview/<booklet>/<country>-<lang>/``: every page of the edition as a
  picture, which the page swaps for the new one after each rebuild; when the
  last build failed, its errors above the pages of the last good build, greyed
  (stale), or the errors alone when there was none;
* ``/status`` and ``/status/<booklet>/<country>-<lang>``: small JSON documents
  (``version``, ``ok``, ``errors``, ``building``, ``phase``, ``images``,
  ``sizes``…) the pages poll; ``/status.json``: every edition's, for scripts
  and tests (see :meth:`EditionState.as_json`);
* anything else: the files of the output folder.

A change under ``data/<country>/<lang>.yaml`` or a product's own
``data/<country>/<layout>/<lang>.yaml`` rebuilds that edition; anything
else in ``data/<country>/`` that country's editions; a change anywhere else
(``layouts/``, ``booklets/``, ``fonts/``…) every edition. Changes that come
while a build runs are collected and build together next.

Preview first: given a ``preview`` callable, a rebuild first lays each changed
edition out once and shows its pages (phase ``preview``), then makes the
outputs (print finishing, proof, preflight, bundle) and shows their verdict
(phase ``done``): the person editing sees the page before the files are made.
"""

import itertools
import json
import os
import queue
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from functools import partial
from html import escape
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from . import gallery, report
from .errors import UsageError

#: The only address served: the previews show unpublished work.
HOST = '127.0.0.1'
#: The folders whose changes trigger a rebuild (those that exist are watched).
WATCHED = ('data', 'layouts', 'booklets', 'fonts', 'hyphenation', 'profiles')
#: Resolution of the page pictures (see previews.py).
PREVIEW_DPI = 100
#: watchfiles' debouncing: a batch ends after this many ms without a change
#: (an editor's save is several writes), or after ``DEBOUNCE_MS`` at most.
STEP_MS, DEBOUNCE_MS = 200, 1600
#: How often the watcher wakes without changes (to say it is watching).
WAKE_MS = 500
PREVIEW_FOLDER = 'preview'
#: PDFium must never run in two threads at once (it would crash the process).
_PDFIUM = threading.Lock()


@dataclass
class EditionState:
    """What the pages of one edition show: the outcome of its last build."""

    booklet: str
    edition: str
    version: int = 0
    ok: bool = False
    errors: list = field(default_factory=list)
    pages: int = 0
    building: bool = False
    stale: bool = False  # failed; the pictures are of the last good build
    sizes: list = field(default_factory=list)  # [width, height] of each picture, in pixels
    phase: str = 'queued'  # queued, preview (pages laid out, outputs being made), done
    changed_at: float = 0.0  # when the change that started the last rebuild was seen
    preview_at: float = 0.0  # when the pages of the last preview were shown
    built_at: float = 0.0    # when the last build of it ended

    @property
    def stem(self):
        return self.edition.replace('/', '-')

    def as_json(self):
        """The edition's status: ``version`` (of its pictures), ``ok`` (its last
        build, or during ``phase`` ``preview`` its preview, made it), ``errors``,
        ``building``, ``phase``, ``stale`` (the pictures are the last good
        build's), ``images`` and their ``sizes``, and the times (seconds since
        the epoch, 0 for never) ``changed_at``, ``preview_at``, ``built_at``."""
        folder = f'/{quote(self.booklet)}/{PREVIEW_FOLDER}/{quote(self.stem)}'
        images = [f'{folder}/page-{n}.png?v={self.version}' for n in range(1, self.pages + 1)]
        shown = bool(self.sizes)
        return {'booklet': self.booklet, 'edition': self.edition, 'version': self.version,
                'ok': self.ok, 'errors': self.errors, 'pages': self.pages,
                'building': self.building, 'stale': self.stale, 'phase': self.phase,
                'changed_at': self.changed_at, 'preview_at': self.preview_at,
                'built_at': self.built_at,
                'images': images if shown else [],
                'sizes': [list(size) for size in self.sizes] if shown else []}


class Previews:
    """The builds and what they left: one :class:`EditionState` per edition.

    ``build(targets)`` builds the editions the targets name (all when empty)
    and returns their results (``.booklet``, ``.edition``, ``.ok``,
    ``.errors``, ``.files``: output -> path).
    """

    def __init__(self, root, out, build, targets=(), preview=None):
        self.root, self.out = Path(root).resolve(), Path(out)
        self.build, self.targets, self.preview = build, tuple(targets), preview
        self.lock = threading.Lock()
        self.editions = {}          # (booklet, stem) -> EditionState
        self.results = {}           # (booklet, stem) -> the last result
        self.version = 0            # bumped after every build
        self.building = False
        self._counter = itertools.count(1)

    # What to build -------------------------------------------------------

    def targets_for(self, paths):
        """The targets to rebuild for the changed ``paths`` (the default: everything)."""
        with self.lock:
            known = {state.edition for state in self.editions.values()}
        chosen = set()
        for path in paths:
            try:
                parts = Path(path).resolve().relative_to(self.root).parts
            except ValueError:
                return self.targets
            if len(parts) == 4 and parts[0] == 'data':  # a product's own text
                parts = parts[:2] + parts[3:]
            if len(parts) != 3 or parts[0] != 'data':
                return self.targets
            country, name = parts[1], parts[2]
            edition = f'{country}/{name.removesuffix(".yaml")}'
            if name.endswith('.yaml') and edition in known:
                chosen.add(edition)
                continue
            same_country = {e for e in known if e.partition('/')[0] == country}
            if not same_country:  # a new country or language: let the manifest decide
                return self.targets
            chosen |= same_country
        return tuple(sorted(chosen)) or self.targets

    def _matches(self, state, targets):
        return not targets or any(t in (state.booklet, state.edition.partition('/')[0],
                                        state.edition) for t in targets)

    # Building --------------------------------------------------------------

    def rebuild(self, targets, changed_at=None):
        """Preview ``targets`` (when there is a ``preview``), then build them;
        update the pictures, the gallery and the versions."""
        changed_at = changed_at or time.time()
        with self.lock:
            self.building = True
            for state in self.editions.values():
                state.building = self._matches(state, targets)
                if state.building:
                    state.changed_at, state.phase = changed_at, 'queued'
        started = time.perf_counter()
        if self.preview is not None:
            self._preview(targets)
        try:
            results, failure = self._run(targets), None
        except Exception as exc:  # a bug: keep serving, show it where the pictures were
            traceback.print_exc()
            results, failure = [], f'the build crashed ({type(exc).__name__}: {exc}); ' \
                                   'this is a bug in bindery: see the traceback in the terminal'
        states = [self._update(result) for result in results]
        with self.lock:
            version = next(self._counter)
            built = {(s.booklet, s.stem) for s in states}
            for key, state in list(self.editions.items()):
                if key in built:
                    state.version = version
                elif state.building and failure:
                    state.ok, state.errors = False, [failure]
                    state.stale = bool(state.sizes)  # the pictures of the last good build
                    state.version, state.phase = version, 'done'
                elif state.building and targets == self.targets:
                    # A full build that no longer makes it: gone from the booklets.
                    del self.editions[key]
                    self.results.pop(key, None)
                    _remove_pictures(self._picture_folder(state))
                state.building = False
            self.version = version
            self.building = False
            results = list(self.results.values())
        try:
            gallery.write_gallery(self.out, results)
        except OSError as exc:
            report.print_problems([f'{self.out / "index.html"}: cannot write the gallery: {exc}'])
        self._say_built(states, failure, time.perf_counter() - started)

    def _preview(self, targets):
        """Show the pages of ``targets`` laid out once, before their outputs are made."""
        try:
            for booklet, edition, sizes, errors in self.preview(targets):
                self._previewed(booklet, edition, sizes, errors)
        except Exception:  # a bug: the build that follows says what it can
            traceback.print_exc()

    def _previewed(self, booklet, edition, sizes, errors):
        """Show one edition's preview: its new pages, or its errors over the old ones."""
        key = (booklet, edition.replace('/', '-'))
        with self.lock:
            state = self.editions.setdefault(key, EditionState(booklet, edition, building=True))
            state.version = self.version = next(self._counter)
            state.phase = 'preview'
            if errors:  # the pictures stay those of the last good build
                state.ok, state.errors, state.stale = False, errors, bool(state.sizes)
            else:
                state.ok, state.errors, state.stale = True, [], False
                state.pages, state.sizes = len(sizes), [list(size) for size in sizes]
                state.preview_at = time.time()

    def _run(self, targets):
        try:
            return list(self.build(targets))
        except UsageError:
            # An edition named by a change may be gone (a file removed): build
            # everything, and let the manifest say what exists.
            if targets == self.targets:
                raise
            return list(self.build(self.targets))

    def _update(self, result):
        """Record one edition's result; draw its pages, or keep those of its last
        good build (stale) when it failed."""
        state = EditionState(result.booklet, result.edition)
        key = (state.booklet, state.stem)
        folder = self._picture_folder(state)
        errors = [str(error) for error in result.errors]
        with self.lock:
            previous = self.editions.get(key)
            sizes = list(previous.sizes) if previous else []
            # Pictures of this very change's layout (its preview), not an older build's.
            previewed = bool(previous and previous.phase == 'preview' and previous.ok)
        drawn = False
        if result.ok or (getattr(result, 'stale', False) and not sizes):
            source = result.files.get('screen') or result.files.get('print')
            try:
                if not source:
                    raise ValueError('the booklet makes neither a screen nor a print PDF')
                sizes, drawn = draw_pages(source, folder), True
            except Exception as exc:
                errors.append(f'{result.edition}: no preview: {exc}')
        ok = bool(result.ok) and not errors
        stale = not ok and bool(sizes) and not previewed
        if not ok and (not sizes or (result.ok and not drawn)):
            _remove_pictures(folder)
            sizes, stale = [], False
        with self.lock:
            state = self.editions.setdefault(key, state)
            state.ok, state.errors, state.stale = ok, errors, stale
            state.pages, state.sizes = len(sizes), sizes
            state.phase, state.built_at = 'done', time.time()
            self.results[key] = result
        return state

    def _picture_folder(self, state):
        return self.out / state.booklet / PREVIEW_FOLDER / state.stem

    def _say_built(self, states, failure, seconds):
        if failure:
            report.print_problems([failure])
        for state in states:
            if state.ok:
                report.console.print(f'{state.edition}: built, {state.pages} pages',
                                     markup=False)
            else:
                report.print_problems(state.errors or [f'{state.edition}: failed'])
        failed = sum(not state.ok for state in states)
        report.console.print(f'built {len(states) - failed} of {len(states)} edition(s) in '
                             f'{seconds:.1f} s' + (f'; {failed} failed' if failed else ''),
                             markup=False)

    # What the pages read -------------------------------------------------------

    def status(self, booklet, stem):
        """The JSON of one edition; None when there is no such edition."""
        with self.lock:
            state = self.editions.get((booklet, stem))
            if state is None:
                if self.version:  # built at least once, and not among the editions
                    return None
                state = EditionState(booklet, stem.replace('-', '/', 1), building=True)
            return state.as_json()


def draw_pages(pdf_path, folder, dpi=PREVIEW_DPI):
    """:func:`previews.draw_pages`, one thread at a time (PDFium is not thread-safe)."""
    from .previews import draw_pages as draw

    with _PDFIUM:
        return draw(pdf_path, folder, dpi)


def _remove_pictures(folder):
    """A failed edition shows its errors, never the pictures of an older build."""
    for path in Path(folder).glob('page-*.png'):
        path.unlink(missing_ok=True)


# Watching ------------------------------------------------------------------

def watch(root, out, changes, stop, watching=None):
    """Put every batch of changed paths under :data:`WATCHED` on ``changes`` until
    ``stop``; set ``watching`` (an event) once changes are seen."""
    import watchfiles

    watching = watching or threading.Event()
    root, out = Path(root).resolve(), Path(out).resolve()
    folders = [root / name for name in WATCHED if (root / name).is_dir()]
    if not folders:
        watching.set()
        return
    base = watchfiles.DefaultFilter()

    def wanted(change, path):
        # Outputs written inside a watched folder must not trigger a rebuild loop.
        return base(change, path) and not Path(path).is_relative_to(out)

    for batch in watchfiles.watch(*folders, watch_filter=wanted, step=STEP_MS,
                                  debounce=DEBOUNCE_MS, stop_event=stop,
                                  raise_interrupt=False, rust_timeout=WAKE_MS,
                                  yield_on_timeout=True):
        # The first answer, changes or a timeout, says the watches are in place.
        watching.set()
        added = {path for change, path in batch if change == watchfiles.Change.added}
        # An editor's temporary file, made and gone within the batch, changes nothing.
        paths = {Path(path) for _, path in batch
                 if not (path in added and not os.path.lexists(path))}
        if paths:
            changes.put(paths)


def _builder(previews, changes, stop):
    """Build once, then again for every batch of changes (several batches build as one)."""
    _rebuild(previews, previews.targets)
    while not stop.is_set():
        try:
            paths = changes.get(timeout=0.2)
        except queue.Empty:
            continue
        seen = time.time()
        while True:
            try:
                paths |= changes.get_nowait()
            except queue.Empty:
                break
        shown = sorted({_relative(path, previews.root) for path in paths})
        report.console.print(f'changed: {", ".join(shown[:5])}'
                             + (f' and {len(shown) - 5} more' if len(shown) > 5 else ''),
                             markup=False)
        _rebuild(previews, previews.targets_for(paths), seen)


def _rebuild(previews, targets, changed_at=None):
    try:
        previews.rebuild(targets, changed_at)
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches the build's workers too; serve() is stopping
    except Exception:  # a bug; the server keeps serving what it has
        traceback.print_exc()


def _relative(path, root):
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


# Serving -------------------------------------------------------------------

class Handler(SimpleHTTPRequestHandler):
    """The generated pages and JSON, then the output folder's files."""

    previews = None  # set per server
    #: The press kit's release text shows in the browser, to be copied, in UTF-8.
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      '.md': 'text/plain; charset=utf-8'}

    def do_GET(self):
        self._route(head=False)

    def do_HEAD(self):
        self._route(head=True)

    def _route(self, head):
        if not self._allowed():
            return self._send(HTTPStatus.FORBIDDEN, 'text/plain; charset=utf-8',
                              b'forbidden: the preview server answers 127.0.0.1 only\n', head)
        path = unquote(urlsplit(self.path).path)
        parts = [part for part in path.split('/') if part]
        previews = self.previews
        if path in ('/', '/index.html'):
            with previews.lock:
                results = list(previews.results.values())
            html = gallery.render_gallery(previews.out, results, preview=True,
                                          refresh='/status')
            return self._send(HTTPStatus.OK, 'text/html; charset=utf-8', html.encode(), head)
        if path == '/favicon.ico':  # browsers ask; there is none
            return self._send(HTTPStatus.NO_CONTENT, 'image/x-icon', b'', head)
        if path == '/status.json':
            with previews.lock:
                data = {'version': previews.version, 'building': previews.building,
                        'editions': [state.as_json() for _, state
                                     in sorted(previews.editions.items())]}
            return self._send(HTTPStatus.OK, 'application/json',
                              json.dumps(data, ensure_ascii=False).encode(), head)
        if parts[:1] == ['status']:
            if len(parts) == 1:
                with previews.lock:
                    data = {'version': previews.version, 'building': previews.building}
            else:
                data = previews.status(*parts[1:]) if len(parts) == 3 else None
            if data is None:
                return self._send(HTTPStatus.NOT_FOUND, 'application/json',
                                  b'{"error": "no such edition"}\n', head)
            return self._send(HTTPStatus.OK, 'application/json',
                              json.dumps(data, ensure_ascii=False).encode(), head)
        if parts[:1] == ['preview'] and len(parts) == 3:
            if not path.endswith('/'):
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header('Location', self.path.split('?')[0] + '/')
                self.send_header('Content-Length', '0')
                return self.end_headers()
            data = previews.status(parts[1], parts[2])
            if data is None:
                return self._send(HTTPStatus.NOT_FOUND, 'text/html; charset=utf-8',
                                  _not_found(parts[1], parts[2]).encode(), head)
            return self._send(HTTPStatus.OK, 'text/html; charset=utf-8',
                              preview_page(data).encode(), head)
        return super().do_HEAD() if head else super().do_GET()

    def _allowed(self):
        """Loopback clients naming this server; refuses DNS rebinding (``Host: evil.com``)."""
        if self.client_address[0] != HOST:
            return False
        host = self.headers.get('Host')
        port = self.server.server_address[1]
        return host is None or host in (f'{HOST}:{port}', f'localhost:{port}', HOST,
                                        'localhost')

    def _send(self, status, content_type, body, head):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        if content_type.startswith('text/html'):
            self.send_header('Content-Security-Policy', "default-src 'self'; "
                             "script-src 'unsafe-inline'; style-src 'unsafe-inline'")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def end_headers(self):
        # A rebuilt PDF keeps its name: the browser must not show the old one.
        self.send_header('Cache-Control', 'no-store')
        self.send_header('X-Content-Type-Options', 'nosniff')
        super().end_headers()

    def log_message(self, format, *args):
        """Quiet: the terminal shows builds, not requests."""


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A browser that leaves mid-download is not an error worth a traceback.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def make_server(previews, port):
    """An HTTP server on ``127.0.0.1:port`` (0: any free port) for ``previews``."""
    handler = type('PreviewHandler', (Handler,), {'previews': previews})
    try:
        return Server((HOST, port), partial(handler, directory=str(previews.out)))
    except (OSError, OverflowError) as exc:  # taken, or not a port number
        reason = getattr(exc, 'strerror', None) or exc
        raise UsageError(f'cannot serve on {HOST}:{port}: {reason}; '
                         'choose another port') from None


def serve(root, out, port=8000, build=None, targets=(), *, ready=None, stop=None,
          preview=None):
    """Build, then serve previews on ``http://127.0.0.1:port/`` and rebuild on change.

    Runs until Ctrl-C (or until ``stop``, a :class:`threading.Event`, is set);
    ``ready(url)`` is called once the server listens. Returns the exit code, 0.
    """
    if build is None:
        raise TypeError('serve() needs a build callable')
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    previews = Previews(root, out, build, targets, preview)
    server = make_server(previews, port)
    url = f'http://{HOST}:{server.server_address[1]}/'
    stop = stop or threading.Event()
    changes, watching = queue.Queue(), threading.Event()
    threads = [threading.Thread(target=server.serve_forever, name='serve', daemon=True),
               threading.Thread(target=watch, args=(root, out, changes, stop, watching),
                                name='watch', daemon=True),
               threading.Thread(target=_builder, args=(previews, changes, stop),
                                name='build', daemon=True)]
    for thread in threads:
        thread.start()
    watching.wait(10)  # so that no change made from now on is missed
    report.console.print(f'serving {url} (127.0.0.1 only); watching '
                         f'{", ".join(n + "/" for n in WATCHED if Path(root, n).is_dir())}; '
                         'Ctrl-C to stop', markup=False)
    if ready:
        ready(url)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        report.console.print('stopping', markup=False)
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        for thread in threads[1:]:
            thread.join(timeout=5)  # a build under way is not waited for to the end
    return report.EXIT_OK


# Pages -----------------------------------------------------------------------

def _json_for_script(data):
    """JSON safe inside <script>: no ``</script>`` or ``<!--`` can close it early."""
    return (json.dumps(data, ensure_ascii=False).replace('<', '\\u003c')
            .replace('>', '\\u003e').replace('&', '\\u0026')
            .replace('\u2028', '\\u2028').replace('\u2029', '\\u2029'))


def preview_page(status):
    """The page of one edition: its pages as pictures, or its errors."""
    edition = escape(status['edition'])
    # The width and height attributes give each picture its page's proportions
    # before it loads (CSS then scales it to the column's width).
    images = ''.join(f'<img src="{escape(src)}" alt="page {n}"{_size_attributes(status, n)}>\n'
                     for n, src in enumerate(status['images'], 1))
    errors = ''.join(f'<li>{escape(error)}</li>\n' for error in status['errors'])
    failed = not status['ok'] and not status['building']
    stale = bool(status.get('stale'))
    previewing = status['building'] and status.get('phase') == 'preview'
    state = ('preview · making the files…' if previewing and status['ok'] else
             'building…' if status['building'] and not status['errors'] else
             f'build {status["version"]} · {status["pages"]} pages' if status['ok'] else
             'failed · showing the last good build' if stale else 'failed')
    return _PREVIEW.format(
        edition=edition, booklet=escape(status['booklet']), state=escape(state),
        errors_hidden='' if failed else ' hidden', errors=errors,
        version=status['version'], images=images,
        pages_hidden='' if status['images'] else ' hidden',
        pages_class=' class="stale"' if stale else '',
        status_url=escape(f'/status/{quote(status["booklet"])}/'
                          f'{quote(status["edition"].replace("/", "-"))}'),
        initial=_json_for_script(status))


def _size_attributes(status, number):
    """`` width="…" height="…"`` of picture ``number`` (1-based), '' when unknown."""
    sizes = status.get('sizes') or []
    if number > len(sizes):
        return ''
    width, height = sizes[number - 1]
    return f' width="{int(width)}" height="{int(height)}"'


def _not_found(booklet, stem):
    return (f'<!DOCTYPE html><html lang="en"><meta charset="utf-8"><title>Not found</title>'
            f'<p>No edition {escape(stem)} in {escape(booklet)}. '
            '<a href="/">Back to the gallery</a></p></html>\n')


_PREVIEW = '''<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{edition} · {booklet} · preview</title>
<style>
body {{ margin: 0; background: #4a4f57; color: #1d2430;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }}
header {{ position: sticky; top: 0; z-index: 1; display: flex; gap: 16px; align-items: baseline;
         padding: 10px 24px; background: #fff; border-bottom: 1px solid #dde2ea; }}
h1 {{ margin: 0; font-size: 18px; font-weight: 650; }}
header a {{ color: #1f5fbf; text-decoration: none; }}
#state {{ color: #5d6778; }}
#state.building {{ color: #9a6700; }} #state.failed {{ color: #b42318; font-weight: 600; }}
#errors {{ margin: 24px auto; max-width: 900px; padding: 16px 24px; background: #fdecea;
          color: #8a1c12; border-radius: 8px; }}
#errors h2 {{ margin: 0 0 8px; font-size: 17px; }}
#errors ul {{ margin: 0; padding-left: 20px; font: 13px/1.5 ui-monospace, Menlo, Consolas,
             monospace; overflow-wrap: anywhere; }}
#pages {{ display: flex; flex-wrap: wrap; justify-content: center; align-items: flex-start;
          gap: 24px; padding: 24px; }}
#pages img {{ width: 420px; height: auto; background: #fff;
             box-shadow: 0 2px 10px rgba(0, 0, 0, .35); }}
#pages.stale img {{ filter: grayscale(1); opacity: .45; }}
[hidden] {{ display: none !important; }}
</style>
</head>
<body>
<header><a href="/">← Gallery</a><h1>{edition} <small>{booklet}</small></h1>
<span id="state">{state}</span></header>
<section id="errors"{errors_hidden}><h2>The last build failed: the pages shown, if any,
are those of the last good build (stale)</h2>
<ul>
{errors}</ul></section>
<main id="pages" data-version="{version}"{pages_class}{pages_hidden}>
{images}</main>
<script>
(function () {{
  var url = "{status_url}", shown = {initial};
  var pages = document.getElementById('pages'), errors = document.getElementById('errors');
  var state = document.getElementById('state');
  function show(s) {{
    var previewing = s.building && s.phase === 'preview';
    state.className = s.building && !s.errors.length ? 'building' : (s.ok ? '' : 'failed');
    state.textContent = previewing && s.ok ? 'preview · making the files…' :
      s.building && !s.errors.length ? 'building…' :
      (s.ok ? 'build ' + s.version + ' · ' + s.pages + ' pages' :
       s.stale ? 'failed · showing the last good build' : 'failed');
    if (s.version === shown.version && pages.dataset.version == s.version) return;
    var list = errors.querySelector('ul');
    list.textContent = '';
    s.errors.forEach(function (e) {{
      var li = document.createElement('li'); li.textContent = e; list.appendChild(li);
    }});
    errors.hidden = s.ok || (s.building && !s.errors.length);
    pages.className = s.stale ? 'stale' : '';
    if (!s.images.length) {{ pages.textContent = ''; pages.hidden = true; }}
    else {{
      s.images.forEach(function (src, i) {{
        var img = pages.children[i];
        if (!img) {{
          img = document.createElement('img'); img.alt = 'page ' + (i + 1);
          pages.appendChild(img);
        }}
        var size = (s.sizes || [])[i];
        if (size) {{ img.width = size[0]; img.height = size[1]; }}
        else {{ img.removeAttribute('width'); img.removeAttribute('height'); }}
        img.src = src;
      }});
      while (pages.children.length > s.images.length) pages.lastElementChild.remove();
      pages.hidden = false;
    }}
    pages.dataset.version = s.version;
  }}
  function poll() {{
    fetch(url, {{cache: 'no-store'}}).then(function (r) {{
      if (!r.ok) throw new Error(r.status); return r.json();
    }}).then(function (s) {{
      show(s); shown = s; setTimeout(poll, 1000);
    }}, function () {{
      state.className = 'failed'; state.textContent = 'the preview server stopped';
      setTimeout(poll, 2000);
    }});
  }}
  setTimeout(poll, 1000);
}})();
</script>
</body>
</html>
'''
