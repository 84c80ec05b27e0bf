"""Shared fixtures: the real booklets built once per session, and throw-away fixture projects.

The suite checks what ``render.py`` makes with tools nobody here wrote (poppler,
PDFium, pikepdf, fontTools, Pillow), never by asking bindery what it meant to do.

* ``built``: both editions of the shipped booklet, built once per session with
  ``python render.py --out TMP`` from the repository root and ``SOURCE_DATE_EPOCH``
  set; maps ``'kk'``/``'ky'`` to an :class:`Edition` with the paths of its outputs.
* ``project``: a copy of the project's inputs (data/, layouts/, booklets/,
  fonts/, render.py, bindery/) in a temporary folder, so that a test can break
  one file and run ``render.py check`` or a build there (cwd = that folder).

How render.py is run (:func:`run_render`): through its entry,
``bindery.cli.main(argv)``, in this process, with the working folder, the
environment, ``sys.argv`` and the standard streams that ``python render.py``
would have, all put back afterwards (:func:`run_in_process`); a build's workers
then come from one fork server kept for the session, started with that same
environment. ``fresh=True``, and whatever cannot be run so faithfully (a build
into a relative folder, another environment, a console that is a terminal),
starts ``python render.py`` itself, as a user does: the session's build of the
shipped booklets and a few tests per command do, so that the real door stays
tested.

Run: ``.venv/bin/python -m pytest -q tests``.
"""

import contextlib
import fcntl
import io
import json
import locale
import os
import shutil
import subprocess
import sys
import traceback
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from launcher import relevant

ROOT = Path(__file__).resolve().parent.parent
SEEDS = Path(__file__).resolve().parent / 'fixtures' / 'seeds'
PYTHON = sys.executable

#: 2023-11-14T22:13:20Z: any fixed moment will do; the builds must honour it.
EPOCH = 1700000000
BOOKLET = 'nine-facts'
#: lang -> (country, seed file). The seeds are copies of ../shared/seeds/.
EDITIONS = {
    'kk': ('kazakhstan', '000_66f7a2c93d37a244.txt'),
    'ky': ('kyrgyzstan', '004_6346bdd40dba20a4.txt'),
}
#: What a fixture project copies from the repository: the inputs of a build.
PROJECT_INPUTS = ('data', 'layouts', 'booklets', 'fonts', 'render.py', 'bindery')
#: Inputs copied too when the project has them (colour profiles, hyphenation, the
#: editors' JSON Schemas).
OPTIONAL_INPUTS = ('profiles', 'hyphenation', 'schemas')
OUTPUT_SUFFIXES = {'print': 'print.pdf', 'screen': 'screen.pdf', 'cover': 'cover.png',
                   'preflight': 'preflight.json'}


@dataclass(frozen=True)
class Edition:
    """One built edition: its language, country and the paths of its outputs."""

    lang: str
    country: str
    print: Path
    screen: Path
    cover: Path
    preflight: Path
    seed: Path

    def pdf(self, output):
        return {'print': self.print, 'screen': self.screen}[output]


def output_paths(out, country, lang, booklet=BOOKLET):
    """Where render.py is documented to put each output of an edition."""
    stem = Path(out, booklet, f'{country}-{lang}')
    return {name: Path(f'{stem}-{suffix}') for name, suffix in OUTPUT_SUFFIXES.items()}


@dataclass
class Run:
    """What one run of render.py did, and how it was run (``door``: ``'python'``,
    a new interpreter, or ``'in-process'``)."""

    args: list
    returncode: int
    stdout: str
    stderr: str
    door: str = 'python'

    @property
    def error_lines(self):
        """The non-blank lines on stderr (a progress bar may leave a bare newline)."""
        return [line for line in self.stderr.splitlines() if line.strip()]

    def __str__(self):
        return (f'render.py {" ".join(self.args)} ({self.door}) -> exit {self.returncode}\n'
                f'--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}')


def environment(epoch=EPOCH):
    """The environment render.py runs in: this one, with the build date fixed,
    no colours, 200 columns and no PYTHONPATH."""
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch), PYTHONDONTWRITEBYTECODE='1',
               NO_COLOR='1', COLUMNS='200')
    env.pop('PYTHONPATH', None)
    return env


def run_render(args, cwd, epoch=EPOCH, timeout=240, fresh=False):
    """Run render.py ARGS in ``cwd``: through ``bindery.cli.main`` in this process
    (:func:`run_in_process`) unless ``fresh`` or it cannot be run so; otherwise
    ``python render.py ARGS``, as a user would (``timeout`` guards that one)."""
    args = [str(a) for a in args]
    if not fresh:
        run = run_in_process(args, cwd, epoch)
        if run is not None:
            return run
    done = subprocess.run([PYTHON, 'render.py', *args], cwd=cwd, env=environment(epoch),
                          capture_output=True, timeout=timeout)
    return Run(args, done.returncode,
               done.stdout.decode('utf-8', 'replace'), done.stderr.decode('utf-8', 'replace'))


def _stream(errors):
    """A standard stream as ``python render.py`` has one when its output is
    captured: the locale's encoding, strict on stdout, escaping on stderr."""
    return io.TextIOWrapper(io.BytesIO(), encoding=locale.getpreferredencoding(False),
                            errors=errors, write_through=True)


def _text(stream):
    return stream.buffer.getvalue().decode('utf-8', 'replace')


def _builds(args):
    """The output folder of a run that builds with workers (a build, a pseudo-
    translation), or None for one that does not (check, new, schemas, translate's
    other actions, a usage error); False for ``serve``."""
    from bindery import cli, translate

    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            if args[:1] == ['translate']:
                parsed = translate.parser().parse_args(args[1:])
                return parsed.out if parsed.action == 'pseudo' else None
            parsed = cli.parser().parse_intermixed_args(args)
        except SystemExit:
            return None  # a usage error: nothing is built
    command = parsed.command if parsed.command in cli.COMMANDS else 'build'
    return {'build': parsed.out, 'serve': False}.get(command)


#: The fork server that in-process builds start their workers from: its process
#: id and the environment it was started with (the workers' environment).
_FORK_SERVER = {}


def start_fork_server(env, folder):
    """Start the fork server that in-process builds' workers come from, with
    ``env`` and ``folder`` (an empty one) as its working folder, as a build's
    pool would (the same modules preloaded); nothing if one runs already."""
    import multiprocessing
    from multiprocessing import forkserver

    from bindery import workers

    if forkserver._forkserver._forkserver_pid is not None:
        return
    saved, cwd = dict(os.environ), os.getcwd()
    try:
        os.environ.clear()
        os.environ.update(env)
        os.chdir(folder)
        multiprocessing.get_context('forkserver').set_forkserver_preload(workers.PRELOAD)
        forkserver.ensure_running()
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(saved)
    _FORK_SERVER.update(pid=forkserver._forkserver._forkserver_pid, env=relevant(env))


def _fork_server(env):
    """Whether an in-process build's workers get ``env``: the fork server running
    is the one start_fork_server started, with that environment."""
    from multiprocessing import forkserver

    running = forkserver._forkserver._forkserver_pid
    return (running is not None and _FORK_SERVER.get('pid') == running
            and _FORK_SERVER.get('env') == relevant(env))


def run_in_process(args, cwd, epoch=EPOCH):
    """``render.py ARGS`` through ``bindery.cli.main`` in this process, with what
    ``python render.py`` would have: ``cwd`` as the working folder, the
    :func:`environment`, ``sys.argv``, stdout and stderr captured as a pipe
    encodes them, the exit code of ``sys.exit(main())`` (argparse's own exits,
    and an uncaught exception as the interpreter prints it, exit 1); each put
    back afterwards. None, having run nothing, when that cannot be faithful: a
    build into a relative folder (its workers do not share this working folder)
    or with another environment than the fork server's, ``serve``, or a console
    of bindery's that is a terminal, has colours or is not 200 columns wide."""
    from bindery import cli, report

    env = environment(epoch)
    out_folder = _builds(args)
    if out_folder is False:
        return None
    if out_folder is not None and not (os.path.isabs(out_folder) and _fork_server(env)):
        return None
    saved_env, saved_cwd, saved_argv = dict(os.environ), os.getcwd(), sys.argv
    consoles = (report.console, report.errors_console)
    # A console's size is fixed when it is made if COLUMNS was set then (as
    # pytest-xdist sets it in its workers); a new process makes its consoles
    # with COLUMNS=200: let these read it from the environment for the run.
    sizes = [(console._width, console._height) for console in consoles]
    stdout, stderr = _stream('strict'), _stream('backslashreplace')
    try:
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        sys.argv = ['render.py', *args]
        for console in consoles:
            console._width = console._height = None
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            if any(console.is_terminal or console.color_system or console.width != 200
                   for console in consoles):
                return None
            try:
                code = cli.main(args)
            except SystemExit as exc:  # as the interpreter ends on sys.exit(code)
                code = exc.code
                if code is None:
                    code = 0
                elif not isinstance(code, int):
                    print(code, file=sys.stderr)
                    code = 1
            except Exception:  # noqa: BLE001 (what an uncaught exception prints)
                traceback.print_exc()
                code = 1
    finally:
        for console, (width, height) in zip(consoles, sizes):
            console._width, console._height = width, height
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return Run(args, code, _text(stdout), _text(stderr), 'in-process')


@pytest.fixture(scope='session', autouse=True)
def fork_server(tmp_path_factory):
    """The fork server of in-process builds, started before any test may start
    one otherwise (test_serve's builds in this process use it too), in a
    folder of its own: a worker's relative path cannot reach the repository."""
    start_fork_server(environment(), tmp_path_factory.mktemp('fork-server'))


def build_into(out, cwd=ROOT, epoch=EPOCH, targets=(BOOKLET,)):
    """Build ``targets`` (every edition of the nine-facts booklet) into ``out``
    with ``python render.py``; fail the test unless it exits 0."""
    run = run_render([*targets, '--out', out], cwd, epoch, fresh=True)
    assert run.returncode == 0, str(run)
    assert 'Traceback' not in run.stdout + run.stderr, str(run)
    return editions_in(out)


def editions_in(out):
    """``{'kk': Edition, 'ky': Edition}``: where a build into ``out`` puts them."""
    return {lang: Edition(lang, country, **output_paths(out, country, lang),
                          seed=SEEDS / seed)
            for lang, (country, seed) in EDITIONS.items()}


@pytest.fixture(scope='session')
def built(tmp_path_factory):
    """Every edition of the shipped booklet, built once for the whole session;
    ``'kk'`` and ``'ky'`` map to their :class:`Edition`. The processes of one
    run (pytest-xdist's workers) share one build: the first to ask makes it,
    under a lock, in the folder that holds each worker's temporary folders."""
    worker = os.environ.get('PYTEST_XDIST_WORKER')
    if worker is None:
        return build_into(tmp_path_factory.mktemp('build'))
    shared = tmp_path_factory.getbasetemp().parent / 'built'
    shared.mkdir(exist_ok=True)
    with open(shared / 'lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / 'done.json'
        if not done.exists():
            build_into(shared / 'out')
            done.write_text(json.dumps({'built by': worker}), encoding='utf-8')
    return editions_in(shared / 'out')


@pytest.fixture(params=sorted(EDITIONS))
def edition(request, built):
    """Each built edition in turn."""
    return built[request.param]


class FixtureProject:
    """A throw-away copy of the project's inputs that a test may break.

    Of ``booklets/`` it keeps ``booklets`` only (the nine-facts booklet, unless
    told otherwise), so that a build makes what the test reads, and of ``data/``
    what the booklets left make (a content set a booklet keeps to itself goes
    with it); every layout is copied, as their declarations decide what the
    shared content files may hold.
    """

    def __init__(self, root, booklets=(BOOKLET,)):
        self.root = Path(root)
        for name in PROJECT_INPUTS + OPTIONAL_INPUTS:
            source = ROOT / name
            if name in OPTIONAL_INPUTS and not source.exists():
                continue
            if source.is_dir():
                shutil.copytree(source, self.root / name, ignore=shutil.ignore_patterns(
                    '__pycache__', '*.pyc'))
            else:
                shutil.copy2(source, self.root / name)
        if booklets is not None:
            for path in (self.root / 'booklets').glob('*.yaml'):
                if path.stem not in booklets:
                    # A content set the booklet keeps to itself (editions: [<set>/*])
                    # goes with it: the booklets left would make it otherwise.
                    for item in yaml.safe_load(path.read_text('utf-8')).get('editions') or []:
                        if item.endswith('/*'):
                            shutil.rmtree(self.root / 'data' / item[:-2], ignore_errors=True)
                    path.unlink()

    def path(self, relative):
        return self.root / relative

    def read(self, relative):
        return self.path(relative).read_text(encoding='utf-8')

    def write(self, relative, content):
        path = self.path(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding='utf-8')

    def replace(self, relative, old, new):
        """Replace the one occurrence of ``old`` in a file (fails if not exactly one)."""
        text = self.read(relative)
        assert text.count(old) == 1, f'{old!r} occurs {text.count(old)} times in {relative}'
        self.write(relative, text.replace(old, new))

    def position(self, relative, needle, occurrence=1):
        """1-based ``(line, column)`` of ``needle`` in a file, columns in characters."""
        text = self.read(relative)
        index = -1
        for _ in range(occurrence):
            index = text.index(needle, index + 1)
        line = text.count('\n', 0, index) + 1
        return line, index - (text.rfind('\n', 0, index) + 1) + 1

    def run(self, *args, epoch=EPOCH, fresh=False):
        """render.py ARGS here (see :func:`run_render`)."""
        return run_render(args, self.root, epoch, fresh=fresh)


@pytest.fixture
def project(tmp_path):
    """A fixture project: the real inputs copied to a temporary folder."""
    return FixtureProject(tmp_path / 'project')


# Text extraction by readers independent of bindery, cached per file.

@lru_cache(maxsize=None)
def poppler_text(path, mode):
    """``pdftotext`` output: ``mode`` is 'default' (reading order) or 'raw' (drawing order)."""
    args = ['pdftotext', '-enc', 'UTF-8'] + (['-raw'] if mode == 'raw' else [])
    done = subprocess.run(args + [str(path), '-'], capture_output=True, check=True)
    return done.stdout.decode('utf-8')


@lru_cache(maxsize=None)
def pdfium_pages(path):
    """The text PDFium gives for each page (``get_text_range``), as a tuple."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        pages = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return tuple(pages)
    finally:
        document.close()


EXTRACTORS = {
    'poppler-raw': lambda path: poppler_text(str(path), 'raw'),
    'poppler-default': lambda path: poppler_text(str(path), 'default'),
    'pdfium': lambda path: '\f'.join(pdfium_pages(str(path))),
}


#: Test files that take longest, longest first (10 s or more each in a run of
#: the suite in two processes on the 2-core machine). pytest-xdist hands out
#: whole files in the order they were collected (``--dist loadfile
#: --no-loadscope-reorder``, pytest.ini): the longest start first, and the
#: short ones fill in at the end.
LONGEST_FIRST = ('test_hostile.py', 'test_products.py', 'test_properties.py',
                 'test_translate.py', 'test_faults.py', 'test_errors.py', 'test_serve.py',
                 'test_safety.py', 'test_text_fidelity.py', 'test_cache.py')


def pytest_collection_modifyitems(config, items):
    rank = {name: number for number, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: files stay whole
