"""The hostile corpus: broken, oversized, exotic and malicious inputs, each in a fixture project.

Every case is data, in ``tests/hostile/cases.yaml`` (the format is described at
the top of that file): which files of a fresh fixture project it patches, the
command it runs (``render.py check`` or a build of one edition), and the outcome
a good tool must give: exit status, every problem line (exact where the README
fixes the format, a regex on the key words otherwise), no traceback, what is
left in the output folder, what the PDFs hold and do not hold, that no request
reached a local HTTP server, and how long it may take. Bulky inputs (a pixel
bomb, a 2 MB file, deep nesting) are made by the generators below, named in
the case.

A case the current code does not meet carries ``xfail:`` with the evidence; it
runs as ``xfail(strict=True)``, so a fix shows up as an XPASS to un-mark.

The cases run in parallel threads (each its own process, fixture project and
output folder, with a wall-clock timeout and a memory cap that only guard the
suite), started together when the first case is asked for, so that a case that
hangs the current code costs its timeout once, not in sequence. A case's
process is forked from a launcher that has bindery imported already
(tests/launcher.py says how it becomes ``python render.py`` in the project);
the kill -9 and two-builds-at-once cases start ``python render.py`` itself.

Run: ``.venv/bin/python -m pytest -q tests/test_hostile.py`` (``-k <case id>``
for one case).
"""

import http.server
import itertools
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
import pytest
import yaml

from conftest import EPOCH, PYTHON, FixtureProject, poppler_text
from launcher import Launcher

HERE = Path(__file__).resolve().parent / 'hostile'
CASES_FILE = HERE / 'cases.yaml'
FILES = HERE / 'files'

#: Output names per edition, as the README documents them.
OUTPUTS = {'print': 'print.pdf', 'screen': 'screen.pdf', 'imposed': 'imposed.pdf',
           'cover': 'cover.png', 'preflight': 'preflight.json'}
PICTURES = ('print', 'screen', 'imposed', 'cover')
#: Written at the final paths before a build, as "yesterday's" outputs.
STALE = b'%PDF-1.4\n% stale output of an earlier build\n'
#: A guard for the machine, not a limit under test: a runaway render may not
#: take the whole host down with it.
MEMORY_CAP = 8 * 1024 ** 3
#: Parallel cases. Most are single-threaded subprocesses.
WORKERS = 3

#: What a case may say; anything else is a typo in cases.yaml.
CASE_KEYS = {'id', 'group', 'about', 'setup', 'patch', 'run', 'target', 'args', 'at', 'expect',
             'xfail', 'timeout', 'slow'}
EXPECT_KEYS = {'exit', 'lines', 'contains', 'outputs', 'others', 'pdf_text',
               'pdf_text_absent', 'pdf_title', 'no_attachments', 'no_requests',
               'absent', 'max_seconds', 'reproducible', 'valid_after_kill',
               'clean_after_rebuild'}

SHORT = {'KY': 'data/kyrgyzstan/ky.yaml', 'KK': 'data/kazakhstan/kk.yaml',
         'KY_COUNTRY': 'data/kyrgyzstan/country.yaml',
         'KK_COUNTRY': 'data/kazakhstan/country.yaml',
         'BOOKLET': 'booklets/nine-facts.yaml'}


def load_cases():
    cases = yaml.safe_load(CASES_FILE.read_text(encoding='utf-8'))['cases']
    seen = set()
    for case in cases:
        assert set(case) <= CASE_KEYS, f"{case.get('id')}: unknown keys {set(case) - CASE_KEYS}"
        assert set(case.get('expect', {})) <= EXPECT_KEYS, (
            f"{case['id']}: unknown expect keys {set(case['expect']) - EXPECT_KEYS}")
        assert case['id'] not in seen, f"{case['id']} twice"
        seen.add(case['id'])
    return cases


CASES = load_cases()


# Placeholders: ⟨name⟩ in patches and expectations.

class Pos:
    """A 1-based position; ``⟨pos⟩`` prints ``line:col``, ``⟨pos.line⟩`` the line."""

    def __init__(self, line, col):
        self.line, self.col = line, col

    def __str__(self):
        return f'{self.line}:{self.col}'


def fill(text, values, escape=False):
    def one(match):
        name, _, attribute = match.group(1).partition('.')
        if name not in values:
            raise KeyError(f'no value for ⟨{match.group(1)}⟩')
        value = values[name]
        value = str(getattr(value, attribute) if attribute else value)
        return re.escape(value) if escape else value
    return re.sub(r'⟨([\w.]+)⟩', one, text)


def position(text, needle, nth=1, offset=0):
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    index += offset
    line = text.count('\n', 0, index) + 1
    return Pos(line, index - (text.rfind('\n', 0, index) + 1) + 1)


# Generators for inputs too big or too binary for cases.yaml.

def _png_chunk(kind, data):
    body = kind + data
    return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body))


def pixel_bomb_png(width, height):
    """A valid 1-bit greyscale PNG of ``width`` × ``height`` white pixels: a few
    kilobytes on disk, ``width * height`` pixels (gigabytes) once decoded."""
    compressor = zlib.compressobj(9)
    row = b'\x00' + b'\xff' * ((width + 7) // 8)
    parts = [compressor.compress(row) for _ in range(height)]
    data = b''.join(parts) + compressor.flush()
    return (b'\x89PNG\r\n\x1a\n'
            + _png_chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 1, 0, 0, 0, 0))
            + _png_chunk(b'IDAT', data) + _png_chunk(b'IEND', b''))


def corrupt_png():
    """A PNG header that promises 400 × 300 pixels, then garbage where the pixels should be."""
    return (b'\x89PNG\r\n\x1a\n'
            + _png_chunk(b'IHDR', struct.pack('>IIBBBBB', 400, 300, 8, 2, 0, 0, 0))
            + _png_chunk(b'IDAT', b'this is not zlib data' * 20) + _png_chunk(b'IEND', b''))


GENERATORS = {
    'pixel_bomb_png': lambda width, height: pixel_bomb_png(width, height),
    'corrupt_png': lambda: corrupt_png(),
    # `title: [[[[…]]]]`, nested `depth` deep: a kilobyte or two of YAML.
    'deep_nesting': lambda depth: ('title: ' + '[' * depth + ']' * depth + '\n'),
    # A comment line of `size` bytes (the file stays valid YAML).
    'comment': lambda size: '# ' + 'x' * size + '\n',
    # One fact of `chars` characters: real words, no line break.
    'long_fact': lambda chars: '  - text: ' + ('сөз ' * (chars // 4 + 1))[:chars].strip()
                               .ljust(chars, 'з') + '\n',
    # A fact with one word of `chars` letters: no break opportunity in it.
    'long_word_fact': lambda chars: f'  - text: Фонд {"Ы" * chars} колдоду.\n',
    # A fact whose first letter carries `count` combining marks (U+0301 unless
    # `mark` says), which the body font stacks one above the other.
    'stacked_marks': lambda count, mark='\u0301': f'  - text: "а{mark * count} Фонд."\n',
    # `count` facts, each one short sentence, as the whole facts list.
    'facts': lambda count: 'facts:\n' + ''.join(
        f'  - text: Факт {n}.\n' for n in range(1, count + 1)) if count else 'facts: []\n',
}


# Applying a case to a fixture project.

def split_booklets(project):
    """kk stays in nine-facts; ky goes to booklet 'hostile' with its own layout copy,
    so a broken layout breaks ky alone and kk must still be built."""
    project.replace('booklets/nine-facts.yaml', '\noutputs:',
                    '\neditions: [kazakhstan/kk]\n\noutputs:')
    shutil.copytree(project.path('layouts/nine-facts'), project.path('layouts/hostile'))
    project.write('booklets/hostile.yaml', project.read('booklets/nine-facts.yaml').replace(
        'layout: nine-facts', 'layout: hostile').replace(
        'editions: [kazakhstan/kk]', 'editions: [kyrgyzstan/ky]'))


def _fact_block(lines, nth):
    """The line range of the ``nth`` (1-based) item of the facts list."""
    starts = [i for i, line in enumerate(lines) if line.startswith('  - ')]
    facts_at = lines.index('facts:')
    starts = [i for i in starts if i > facts_at]
    start = starts[nth - 1]
    end = starts[nth] if nth < len(starts) else len(lines)
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return start, end


def apply_patch(project, op, values):
    relative = fill(op['file'], values)
    path = project.path(relative)
    kinds = set(op) - {'file', 'with', 'count', 'nth', 'args', 'text', 'raw'}
    assert len(kinds) == 1, f'one operation per patch, got {kinds}'
    kind = kinds.pop()
    if kind == 'replace':
        text = project.read(relative)
        old, new = fill(op['replace'], values), fill(op['with'], values)
        count = op.get('count', 1)
        assert text.count(old) == count, f'{old!r} occurs {text.count(old)} times in {relative}'
        project.write(relative, text.replace(old, new))
    elif kind == 'append':
        project.write(relative, project.read(relative) + fill(op['append'], values))
    elif kind == 'prepend':
        project.write(relative, fill(op['prepend'], values) + project.read(relative))
    elif kind == 'write':
        project.write(relative, fill(op['write'], values))
    elif kind == 'copy':
        project.write(relative, (FILES / op['copy']).read_bytes())
    elif kind == 'generate':
        made = GENERATORS[op['generate']](**op.get('args', {}))
        mode = op.get('with', 'write')
        if mode == 'append':
            made = project.read(relative) + made
        elif mode.startswith('replace:'):
            old = mode[len('replace:'):]
            text = project.read(relative)
            assert text.count(old) == 1, f'{old!r} occurs {text.count(old)} times'
            made = text.replace(old, made)
        elif mode.startswith('fact:'):  # the nth fact, 1-based
            lines = project.read(relative).split('\n')
            start, end = _fact_block(lines, int(mode[len('fact:'):]))
            lines[start:end] = made.rstrip('\n').split('\n')
            made = '\n'.join(lines)
        elif mode == 'facts':  # the whole facts list, to the end of the file
            text = project.read(relative)
            made = text[:text.index('\nfacts:\n') + 1] + made
        project.write(relative, made)
    elif kind == 'replace_bytes':
        raw = path.read_bytes()
        old, new = op['replace_bytes'].encode('utf-8'), bytes.fromhex(op['with'])
        assert raw.count(old) == 1, f'{old!r} occurs {raw.count(old)} times in {relative}'
        path.write_bytes(raw.replace(old, new))
    elif kind == 'encode':
        path.write_bytes(project.read(relative).encode(op['encode'], 'replace'))
    elif kind == 'fact':
        lines = project.read(relative).split('\n')
        start, end = _fact_block(lines, op['fact'])
        payload = (fill(op['raw'], values) if 'raw' in op
                   else json.dumps(fill(op['text'], values), ensure_ascii=False))
        lines[start:end] = [f'  - text: {payload}']
        project.write(relative, '\n'.join(lines))
    elif kind == 'crlf':
        path.write_bytes(path.read_bytes().replace(b'\n', b'\r\n'))
    elif kind == 'delete':
        path.unlink()
    elif kind == 'symlink':
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(fill(op['symlink'], values))
    elif kind == 'mkfifo':
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
    else:
        raise AssertionError(f'unknown patch operation {kind}')


# Running render.py

@dataclass
class Run:
    args: list
    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    seconds: float

    @property
    def problem_lines(self):
        """Non-blank stderr lines, notes aside (copyfit notes of a good build)."""
        return [line for line in self.stderr.splitlines()
                if line.strip() and not line.startswith('note:')]

    def __str__(self):
        status = ('killed after the timeout' if self.returncode is None
                  else f'exit {self.returncode}')
        return (f'render.py {" ".join(self.args)} -> {status} in {self.seconds:.1f} s\n'
                f'--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-6000:]}')


#: Runs render.py under an address-space cap (see MEMORY_CAP), as its own
#: process group, so a timeout can end it and every worker it started.
LAUNCH = ('import os, resource, sys; '
          'resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1]))); '
          'os.execv(sys.executable, [sys.executable, "render.py", *sys.argv[2:]])')


def environment():
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH), PYTHONDONTWRITEBYTECODE='1',
               NO_COLOR='1', COLUMNS='200')
    env.pop('PYTHONPATH', None)
    return env


def start(args, cwd, fresh=False):
    """render.py ARGS in ``cwd``, in a session of its own, under the memory cap:
    forked from the launcher (tests/launcher.py: bindery already imported), or
    with ``fresh`` a new interpreter, ``python render.py``."""
    if not fresh:
        runs = Path(cwd).parent / 'runs'  # beside the project and its output folder
        runs.mkdir(exist_ok=True)
        number = next(_RUNS)
        return launcher().start(args, cwd, environment(), runs / f'{number}.stdout',
                                runs / f'{number}.stderr', session=True,
                                address_space=MEMORY_CAP)
    return subprocess.Popen(
        [PYTHON, '-c', LAUNCH, str(MEMORY_CAP), *map(str, args)], cwd=cwd,
        env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)


_RUNS = itertools.count(1)
_LAUNCHER = []
_LAUNCHER_LOCK = threading.Lock()


def launcher():
    """The launcher of this process, started when first asked for."""
    with _LAUNCHER_LOCK:
        if not _LAUNCHER:
            _LAUNCHER.append(Launcher(environment()))
        return _LAUNCHER[0]


def finish(process, args, started, timeout):
    try:
        stdout, stderr = process.communicate(timeout=max(0.1, timeout - (
            time.monotonic() - started)))
        code = process.returncode
    except subprocess.TimeoutExpired:
        kill_group(process)
        stdout, stderr = process.communicate()
        code = None
    kill_group(process)  # workers the tool left running
    return Run([str(a) for a in args], code, stdout.decode('utf-8', 'replace'),
               stderr.decode('utf-8', 'replace'), time.monotonic() - started)


def kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_render(args, cwd, timeout, fresh=False):
    started = time.monotonic()
    return finish(start(args, cwd, fresh), args, started, timeout)


# A local HTTP server that records what reaches it

class _Recorder(http.server.BaseHTTPRequestHandler):
    requests = []

    def do_GET(self):  # noqa: N802 (the standard library's name)
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header('Content-Type', 'image/png')
        self.end_headers()
        self.wfile.write(pixel_bomb_png(2, 2))

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args):
        pass


# One case, run

@dataclass
class Outcome:
    case: dict
    project: FixtureProject = None
    out: Path = None
    run: Run = None
    values: dict = field(default_factory=dict)
    paths: dict = field(default_factory=dict)  # edition -> {output: path}
    requests: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    error: str = ''  # the harness itself failed (a bad patch): a bug in the case


def edition_paths(out, booklet, edition):
    stem = out / booklet / edition.replace('/', '-')
    return {name: Path(f'{stem}-{suffix}') for name, suffix in OUTPUTS.items()}


def prepare(case, base, http_base):
    split = case.get('setup') == 'split'
    project = FixtureProject(base / 'project')
    if split:
        split_booklets(project)
    values = dict(SHORT, LAYOUT='layouts/hostile' if split else 'layouts/nine-facts',
                  http=f"{http_base}/{case['id']}", PROJECT=str(project.root))
    values['STRINGS'] = values['LAYOUT'] + '/strings/ky.yaml'
    for op in case.get('patch', []):
        apply_patch(project, op, values)
    for name, spec in case.get('at', {}).items():
        raw = project.path(fill(spec['file'], values)).read_bytes()
        text = raw.decode('utf-8', 'replace')
        text = text[1:] if text.startswith('\ufeff') else text
        values[name] = position(text, fill(spec['find'], values), spec.get('nth', 1),
                                spec.get('offset', 0))
    return project, values, split


def execute(case, base, http_base, requests):
    outcome = Outcome(case)
    try:
        project, values, split = prepare(case, base, http_base)
    except Exception as exc:  # noqa: BLE001 (reported by the test)
        outcome.error = f'the case could not be set up: {type(exc).__name__}: {exc}'
        return outcome
    outcome.project, outcome.values = project, values
    out = outcome.out = base / 'out'
    kind = case.get('run', 'check')
    target = case.get('target', 'kyrgyzstan/ky')
    timeout = case.get('timeout', 60)
    ky_booklet = 'hostile' if split else 'nine-facts'
    outcome.paths = {'kyrgyzstan/ky': edition_paths(out, ky_booklet, 'kyrgyzstan/ky'),
                     'kazakhstan/kk': edition_paths(out, 'nine-facts', 'kazakhstan/kk')}
    if kind == 'check':
        outcome.run = run_render(['check'] + ([target] if target else []), project.root, timeout)
    elif kind == 'build':
        args = ['--out', out, '-j', '2' if split else '1', *case.get('args', [])] + (
            [] if split or not target else [target])
        if case['expect'].get('outputs') == 'kept':  # yesterday's files, to be kept
            for path in outcome.paths[target].values():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(STALE)
        outcome.run = run_render(args, project.root, timeout)
        if case['expect'].get('reproducible'):
            again = run_render(['--out', base / 'again'] + args[2:], project.root, timeout)
            outcome.extra['again'] = (again, base / 'again')
    elif kind == 'kill9':
        outcome.run = kill_mid_render(outcome, project, out, target, timeout)
    elif kind == 'concurrent':
        args = ['--out', out, '-j', '1', target]
        started = time.monotonic()
        first, second = (start(args, project.root, fresh=True),
                         start(args, project.root, fresh=True))
        outcome.run = finish(first, args, started, timeout)
        outcome.extra['second'] = finish(second, args, started, timeout)
    else:
        outcome.error = f'unknown run kind {kind}'
    outcome.requests = [r for r in list(requests) if r.startswith(f"/{case['id']}")]
    return outcome


def kill_mid_render(outcome, project, out, target, timeout):
    """Build once (good outputs in place), change a fact, start a second build and
    kill -9 its process group as soon as it has a temporary file in the output folder.
    Each build is a new interpreter, ``python render.py``."""
    args = ['--out', out, '-j', '1', target]
    first = run_render(args, project.root, timeout, fresh=True)
    outcome.extra['first'] = first
    project.replace(SHORT['KY'], 'мугалимдердин квалификациясын',
                    'мугалимдердин жаңы квалификациясын')
    folder = outcome.paths[target]['print'].parent
    before = set(folder.iterdir()) if folder.exists() else set()
    started = time.monotonic()
    process = start(args, project.root, fresh=True)
    seen = None
    while time.monotonic() - started < timeout and process.poll() is None:
        now = set(folder.iterdir()) if folder.exists() else set()
        fresh = [p for p in now - before if p.name.startswith('.') or p not in before]
        if fresh:
            seen = sorted(p.name for p in fresh)
            time.sleep(0.05)
            break
        time.sleep(0.005)
    killed_while_running = process.poll() is None
    kill_group(process)
    run = finish(process, args, started, timeout)
    outcome.extra.update(seen=seen, killed_while_running=killed_while_running)
    outcome.extra['rebuild'] = run_render(args, project.root, timeout, fresh=True)
    return run


class Corpus:
    """Runs the selected cases in parallel threads, once, and hands out their outcomes."""

    def __init__(self, base, selected):
        self.base = base
        handler = type('Recorder', (_Recorder,), {'requests': []})
        self.requests = handler.requests
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            port = probe.getsockname()[1]
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', port), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.http_base = f'http://127.0.0.1:{port}'
        self.pool = ThreadPoolExecutor(max_workers=WORKERS)
        order = sorted(selected, key=lambda case: not case.get('slow'))
        self.futures = {case['id']: self.pool.submit(
            execute, case, base / case['id'], self.http_base, self.requests)
            for case in order}

    def outcome(self, case):
        return self.futures[case['id']].result()

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope='module')
def corpus(request, tmp_path_factory):
    selected = {item.callspec.params['case']['id'] for item in request.session.items
                if item.module is request.module and hasattr(item, 'callspec')
                and 'case' in item.callspec.params}
    runner = Corpus(tmp_path_factory.mktemp('hostile'),
                    [case for case in CASES if case['id'] in selected])
    yield runner
    runner.close()
    with _LAUNCHER_LOCK:
        while _LAUNCHER:
            _LAUNCHER.pop().close()


# Checking an outcome against its expectation

def pdf_problems(path):
    """Attachments, and any stream that holds a line of /etc/passwd, in a PDF."""
    problems = []
    with pikepdf.open(path) as document:
        names = document.Root.get('/Names')
        if names is not None and '/EmbeddedFiles' in names:
            problems.append(f'{path.name} has /EmbeddedFiles')
        for number, page in enumerate(document.pages, 1):
            for annot in page.obj.get('/Annots', []):
                if annot.get('/Subtype') == '/FileAttachment':
                    problems.append(f'{path.name} page {number}: a file attachment annotation')
        for obj in document.objects:
            if isinstance(obj, pikepdf.Stream):
                try:
                    data = obj.read_bytes()
                except pikepdf.PdfError:
                    data = obj.read_raw_bytes()
                if b'root:x:0:0' in data or b'/bin/bash' in data:
                    problems.append(f'{path.name}: a stream holds a line of /etc/passwd')
                    break
    return problems


def squash(text):
    """Text without whitespace and invisible joiners, case-folded: a fragment set
    over two lines (hyphenated with U+2010), or in capitals by the CSS, still matches."""
    text = re.sub(r'[\u2010\u00ad][ \t]*\n', '', text)
    return re.sub(r'[\s\u00ad\u2060\u200b]', '', text).casefold()


def valid_output(path):
    """Why ``path`` is not a complete output file, or ''."""
    try:
        if path.suffix == '.pdf':
            with pikepdf.open(path) as document:
                if len(document.pages) < 1:
                    return f'{path.name}: no pages'
        elif path.suffix == '.png':
            from PIL import Image
            with Image.open(path) as image:
                image.load()
        elif path.suffix == '.json':
            json.loads(path.read_text(encoding='utf-8'))
    except Exception as exc:  # noqa: BLE001 (any failure to read is the finding)
        return f'{path.name}: not a complete file ({type(exc).__name__}: {exc})'
    return ''


def leftovers(out):
    """Temporary-looking files in the output folder."""
    if not out or not out.exists():
        return []
    return sorted(str(p.relative_to(out)) for p in out.rglob('*')
                  if p.is_file() and (p.suffix in ('.tmp', '.part') or re.search(
                      r'\.(pdf|png|json|html)\.', p.name)))


def match_lines(specs, lines, values, exhaustive):
    """Problems matching the expected line ``specs`` against the actual ``lines``."""
    problems = []
    patterns = []
    for spec in specs:
        if spec.startswith('re:'):
            patterns.append((spec, re.compile(fill(spec[3:], values, escape=True))))
        else:
            patterns.append((spec, re.compile(re.escape(fill(spec, values)))))
    used = set()
    for spec, pattern in patterns:
        hits = [i for i, line in enumerate(lines) if pattern.fullmatch(line)]
        if not hits:
            problems.append(f'no line matches {fill(spec, values)!r}')
        used.update(hits)
    if exhaustive:
        extra = [line for i, line in enumerate(lines) if i not in used]
        problems += [f'unexpected line {line!r}' for line in extra[:6]]
        if len(extra) > 6:
            problems.append(f'and {len(extra) - 6} more unexpected lines')
    return problems


def judge(outcome):
    """Every way the outcome differs from what its case expects."""
    case, run, expect = outcome.case, outcome.run, outcome.case.get('expect', {})
    if outcome.error:
        return [outcome.error]
    problems = []
    kind = case.get('run', 'check')
    if run.returncode is None and kind != 'kill9':
        problems.append(f'did not finish within the suite timeout of '
                        f"{case.get('timeout', 60)} s (killed)")
    text = run.stdout + run.stderr
    if 'Traceback' in text:
        problems.append('a traceback was printed')
    wanted = expect.get('exit', 1)
    wanted = wanted if isinstance(wanted, list) else [wanted]
    if run.returncode is not None and run.returncode not in wanted:
        problems.append(f'exit {run.returncode}, expected {" or ".join(map(str, wanted))}')
    lines = run.problem_lines
    if 'lines' in expect:
        problems += match_lines(expect['lines'], lines, outcome.values, exhaustive=True)
    if 'contains' in expect:
        problems += match_lines(expect['contains'], lines, outcome.values, exhaustive=False)
    if 'max_seconds' in expect and run.seconds > expect['max_seconds']:
        problems.append(f"took {run.seconds:.1f} s, at most {expect['max_seconds']} s expected")
    for relative in expect.get('absent', []):
        if outcome.project.path(relative).exists():
            problems.append(f'{relative} exists: something was executed')
    if expect.get('no_requests', False) and outcome.requests:
        problems.append(f'the local HTTP server was asked for {outcome.requests}')
    if kind in ('build', 'kill9', 'concurrent'):
        problems += [f'temporary file left in the output folder: {name}'
                     for name in leftovers(outcome.out) if kind != 'kill9']
    target = case.get('target', 'kyrgyzstan/ky')
    paths = outcome.paths.get(target, {})
    if expect.get('outputs') == 'all':
        for name, path in paths.items():
            if not path.is_file():
                problems.append(f'{path.name} was not made')
            elif why := valid_output(path):
                problems.append(why)
        if paths and paths['preflight'].is_file():
            report = json.loads(paths['preflight'].read_text(encoding='utf-8'))
            if report.get('ok') is not True:
                problems.append(f'preflight not ok: {report}')
    elif expect.get('outputs') == 'kept':
        for name, path in paths.items():
            if not path.exists():
                problems.append(f'{path.name} of an earlier build is gone')
            elif path.read_bytes() != STALE:
                problems.append(f'{path.name} was replaced though the edition failed')
        record = outcome.out / paths['print'].parent.name / (
            f".bindery-set-{paths['print'].name.removesuffix('-print.pdf')}.json")
        try:
            state = json.loads(record.read_text(encoding='utf-8')).get('state')
        except (OSError, ValueError) as exc:
            state = f'unreadable ({exc})'
        if state != 'stale':
            problems.append(f'{record.name}: the kept files are not marked stale ({state})')
    if expect.get('others') == 'built':
        for name, path in outcome.paths['kazakhstan/kk'].items():
            if not path.is_file():
                problems.append(f'the other edition was not built: no {path.name}')
            elif why := valid_output(path):
                problems.append(why)
    pdfs = sorted(outcome.out.rglob('*.pdf')) if outcome.out and outcome.out.exists() else []
    if expect.get('no_attachments'):
        for path in pdfs:
            if path.read_bytes() != STALE:
                problems += pdf_problems(path)
    screen = paths.get('screen')
    if expect.get('pdf_text') or expect.get('pdf_text_absent'):
        if screen is None or not screen.is_file():
            problems.append('no screen PDF to read the text of')
        else:
            got = squash(poppler_text(str(screen), 'default'))
            for fragment in expect.get('pdf_text', []):
                if squash(fragment) not in got:
                    problems.append(f'{fragment!r} is not in the text of {screen.name}')
            for fragment in expect.get('pdf_text_absent', []):
                if squash(fragment) in got:
                    problems.append(f'{fragment!r} is in the text of {screen.name}')
    if expect.get('pdf_title') and screen is not None and screen.is_file():
        with pikepdf.open(screen) as document:
            title = str(document.docinfo.get('/Title', ''))
        if expect['pdf_title'] not in title:
            problems.append(f"/Title is {title!r}, without {expect['pdf_title']!r}")
    if expect.get('reproducible'):
        again, folder = outcome.extra['again']
        for name, path in paths.items():
            twin = folder / path.relative_to(outcome.out)
            if name != 'preflight' and path.is_file() and (
                    not twin.is_file() or twin.read_bytes() != path.read_bytes()):
                problems.append(f'{path.name} differs between two builds of the same input')
    if kind == 'concurrent':
        second = outcome.extra['second']
        if second.returncode != 0 or 'Traceback' in second.stdout + second.stderr:
            problems.append(f'the second of two simultaneous builds failed:\n{second}')
    if kind == 'kill9':
        problems += judge_kill(outcome, paths, expect)
    return problems


def judge_kill(outcome, paths, expect):
    problems = []
    first, rebuild = outcome.extra['first'], outcome.extra['rebuild']
    if first.returncode != 0:
        return [f'the first build failed, nothing to test:\n{first}']
    if not outcome.extra['killed_while_running']:
        problems.append('the build finished before it could be killed (the test proves nothing)')
    if outcome.extra['seen'] is None:
        problems.append('no temporary file was seen in the output folder before the kill')
    if expect.get('valid_after_kill'):
        for path in paths.values():
            if path.exists() and (why := valid_output(path)):
                problems.append(f'after kill -9: {why}')
            elif not path.exists():
                problems.append(f'after kill -9: {path.name} of the earlier good build is gone')
    if expect.get('clean_after_rebuild'):
        if rebuild.returncode != 0:
            problems.append(f'the build after the kill failed:\n{rebuild}')
        problems += [f'after the next build, a temporary file of the killed one is still '
                     f'there: {name}' for name in leftovers(outcome.out)]
    return problems


def _param(case):
    marks = [pytest.mark.xfail(strict=True, reason=case['xfail'])] if case.get('xfail') else []
    return pytest.param(case, id=case['id'], marks=marks)


@pytest.mark.parametrize('case', [_param(case) for case in CASES])
def test_case(case, corpus):
    outcome = corpus.outcome(case)
    problems = judge(outcome)
    assert not problems, (f"{case['id']} ({case.get('about', '').strip()}):\n  - "
                          + '\n  - '.join(problems) + f'\n{outcome.run or ""}')


def test_the_corpus_is_big_enough_and_documented():
    groups = {}
    for case in CASES:
        assert case.get('about'), f"{case['id']}: say what the case is about"
        assert case.get('expect'), f"{case['id']}: no expectation"
        groups.setdefault(case['group'], []).append(case['id'])
    assert len(CASES) >= 40, len(CASES)
    assert set(groups) >= {'malformed', 'hostile-yaml', 'injection', 'oversized', 'characters',
                           'counts', 'fields', 'text-stays-text', 'layout', 'limits',
                           'atomic'}, sorted(groups)


def test_bomb_files_are_what_they_claim():
    laughs = (FILES / 'billion-laughs.yaml').read_bytes()
    assert len(laughs) < 500 and laughs.count(b'*') >= 70
    bomb = pixel_bomb_png(20000, 20000)
    assert len(bomb) < 200_000
    width, height = struct.unpack('>II', bomb[16:24])
    assert (width, height) == (20000, 20000)


def test_the_pdf_check_finds_an_attachment_and_a_leaked_file(tmp_path):
    """``no_attachments`` means something only if it can fail."""
    path = tmp_path / 'leaky.pdf'
    with pikepdf.new() as document:
        document.add_blank_page()
        document.attachments['passwd'] = pikepdf.AttachedFileSpec(
            document, b'root:x:0:0:root:/root:/bin/bash\n', filename='passwd')
        document.save(path)
    problems = pdf_problems(path)
    assert any('/EmbeddedFiles' in p for p in problems), problems
    assert any('/etc/passwd' in p for p in problems), problems


def test_the_http_recorder_sees_a_request(tmp_path):
    """``no_requests`` means something only if a fetch would be seen."""
    import urllib.request

    corpus = Corpus(tmp_path, [])
    try:
        urllib.request.urlopen(f'{corpus.http_base}/probe/x.png', timeout=5).close()
        assert corpus.requests == ['/probe/x.png']
    finally:
        corpus.close()
