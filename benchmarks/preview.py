"""How long ``render.py serve`` takes to show a one-fact edit: file written → new preview.

    .venv/bin/python benchmarks/preview.py [--edits 20] [--all]

In a copy of the project (never the real one), ``render.py serve`` runs on a
free port; once its first build is done, one fact of ``data/kazakhstan/kk.yaml``
is changed ``--edits`` times. Each latency runs from the moment the file is
written (closed) to the moment ``/status.json`` reports a preview of the
nine-facts kazakhstan/kk edition newer than the write (polled every 10 ms);
the script then waits for the outputs to be made before the next edit, as a
person reading the page would. Prints p50 and p95 and the targets (≤ 1.0 s,
≤ 2.0 s), and the time until the outputs are made, for scale. Not a test.

By default only the nine-facts booklet is served; ``--all`` serves every
booklet, so that an edit of the shared kk.yaml previews three products.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
FACT = 'data/kazakhstan/kk.yaml'
WATCHED = ('nine-facts', 'kazakhstan-kk')
ANCHOR = '300-ден астам түлек'


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def status(port):
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/status.json', timeout=10) as answer:
        return json.load(answer)


def edition(data):
    for state in data['editions']:
        if (state['booklet'], state['edition'].replace('/', '-')) == WATCHED:
            return state
    return None


def wait(port, test, server, timeout=600):
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise SystemExit(f'serve stopped:\n{server.stdout.read()}')
        try:
            data = status(port)
            if test(data):
                return data
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit('gave up waiting for serve')
        time.sleep(0.01)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--edits', type=int, default=20)
    parser.add_argument('--all', action='store_true', help='serve every booklet')
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        project = Path(temp, 'project')
        for name in ('data', 'layouts', 'booklets', 'fonts', 'profiles', 'hyphenation',
                     'bindery', 'render.py'):
            source = ROOT / name
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, project / name)
        if not options.all:
            for path in (project / 'booklets').glob('*.yaml'):
                if path.stem != 'nine-facts':
                    path.unlink()
        port = free_port()
        environment = dict(os.environ, SOURCE_DATE_EPOCH='1700000000', NO_COLOR='1')
        server = subprocess.Popen(
            [PYTHON, 'render.py', 'serve', '--port', str(port), '--out', str(Path(temp, 'out'))],
            cwd=project, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True)
        try:
            wait(port, lambda d: d['version'] and not d['building'] and edition(d), server)
            source = project / FACT
            original = source.read_text(encoding='utf-8')
            assert ANCHOR in original, f'{ANCHOR!r} is not in {FACT}'
            latencies, finished, noticed, laid_out = [], [], [], []
            for number in range(options.edits):
                before = edition(status(port))['preview_at']
                source.write_text(original.replace(ANCHOR, f'{ANCHOR} {number}'),
                                  encoding='utf-8')
                written = time.time()
                seen = wait(port, lambda d: edition(d)['preview_at'] > max(before, written - 0.001)
                            and edition(d)['phase'] in ('preview', 'done'), server)
                latencies.append(time.time() - written)
                state = edition(seen)
                noticed.append(state['changed_at'] - written)
                laid_out.append(state['preview_at'] - state['changed_at'])
                wait(port, lambda d: not d['building'], server)
                finished.append(time.time() - written)
                time.sleep(0.3)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.communicate(timeout=60)
    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    print(f'{options.edits} one-fact edits of {FACT}, serving '
          f'{"every booklet" if options.all else "nine-facts"}; write → new preview:')
    print(f'  p50 {p50:.2f} s (target ≤ 1.0: {"met" if p50 <= 1.0 else "NOT met"})')
    print(f'  p95 {p95:.2f} s (target ≤ 2.0: {"met" if p95 <= 2.0 else "NOT met"})')
    print(f'  all {", ".join(f"{value:.2f}" for value in latencies)}')
    print(f'  of which: write → change seen (the watcher) p50 {statistics.median(noticed):.2f} s; '
          f'change seen → pages shown p50 {statistics.median(laid_out):.2f} s')
    print(f'write → every output made: p50 {statistics.median(finished):.2f} s')


if __name__ == '__main__':
    main()
