"""The whole network in one build: 40 countries × 4 languages of the nine-facts booklet.

    .venv/bin/python benchmarks/scale.py [--countries 40] [--runs 1]

In a temporary copy of the project (never in ``data/``), ``data/`` is replaced
by ``--countries`` renamed copies of the shipped countries, each with four
languages: its own three, and a fourth, ``uk``, a copy of its Russian text
(with the layouts' Russian words), hyphenated by pyphen's Ukrainian dictionary;
``booklets/`` holds the nine-facts booklet alone. Measured, each as a median of
``--runs``:

- the 6 shipped editions, ``--force -j1``: seconds per edition (the baseline);
- all editions, ``--force -j1`` and ``-j2``: seconds per edition, and the
  ratios ``per edition at scale ÷ baseline`` (target ≤ 1.1) and ``-j2 ÷ -j1``
  (target ≤ 0.6);
- peak memory (VmHWM, sampled from /proc every 50 ms) of the main process,
  of the largest worker, and of the fork server the workers come from
  (targets: main ≤ 150 MB, worker ≤ 200 MB);
- a no-op rebuild of every edition (target ≤ 1.0 s).

Not a test: nothing fails; the targets are printed beside the figures.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
#: The shipped countries the copies are made of.
SOURCES = ('kazakhstan', 'kyrgyzstan')
#: The fourth language, and the language whose text it copies.
FOURTH, COPIED = 'uk', 'ru'


def make_project(temp, countries):
    project = Path(temp, 'project')
    for name in ('layouts', 'fonts', 'profiles', 'hyphenation', 'bindery', 'render.py',
                 'schemas'):
        source = ROOT / name
        if source.exists():
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, project / name)
    (project / 'booklets').mkdir()
    shutil.copy2(ROOT / 'booklets/nine-facts.yaml', project / 'booklets')
    baseline = Path(temp, 'baseline')
    shutil.copytree(project, baseline, symlinks=True)
    # Only the countries: data/ also holds other products' content (specimen/),
    # which the nine-facts booklet alone would try to build.
    for country in SOURCES:
        shutil.copytree(ROOT / 'data' / country, baseline / 'data' / country)
    for strings in (project / 'layouts').glob(f'*/strings/{COPIED}.yaml'):
        shutil.copy2(strings, strings.with_name(f'{FOURTH}.yaml'))
    for number in range(1, countries + 1):
        folder = project / 'data' / f'country-{number:02d}'
        shutil.copytree(ROOT / 'data' / SOURCES[number % 2], folder)
        for copied in list(folder.rglob(f'{COPIED}.*')):
            target = copied.with_name(copied.name.replace(COPIED, FOURTH, 1))
            text = copied.read_text(encoding='utf-8')
            target.write_text(text.replace(f'lang: {COPIED}', f'lang: {FOURTH}'),
                              encoding='utf-8')
        country = folder / 'country.yaml'
        text = country.read_text(encoding='utf-8')
        line = next(line for line in text.splitlines() if line.startswith('languages:'))
        country.write_text(text.replace(line, line.replace(']', f', {FOURTH}]')),
                           encoding='utf-8')
    return baseline, project


class Peaks:
    """The peak resident memory of a process tree, sampled from /proc."""

    def __init__(self, root_pid):
        self.root, self.peaks, self.names, self.parents = root_pid, {}, {}, {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _tree(self):
        children = {}
        for entry in os.listdir('/proc'):
            if entry.isdigit():
                try:
                    with open(f'/proc/{entry}/stat') as stat:
                        parent = int(stat.read().rsplit(')', 1)[1].split()[1])
                    children.setdefault(parent, []).append(int(entry))
                except (OSError, IndexError, ValueError):
                    pass
        found, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for child in children.get(pid, []):
                self.parents[child] = pid
                todo.append(child)
        return found

    def _sample(self):
        while not self.done.wait(0.05):
            for pid in self._tree():
                try:
                    with open(f'/proc/{pid}/status') as status:
                        fields = dict(line.split(':', 1) for line in status if ':' in line)
                    with open(f'/proc/{pid}/cmdline', 'rb') as cmdline:
                        command = cmdline.read().replace(b'\0', b' ').decode(errors='replace')
                except OSError:
                    continue
                peak = int(fields.get('VmHWM', '0 kB').split()[0]) / 1024
                self.peaks[pid] = max(self.peaks.get(pid, 0), peak)
                self.names[pid] = command

    def stop(self):
        self.done.set()
        self.thread.join()
        main = self.peaks.get(self.root, 0)
        # The fork server is the builder's child started for it; the workers are
        # its children (forked, so they carry its command line too).
        servers = {pid for pid in self.peaks if self.parents.get(pid) == self.root
                   and 'forkserver' in self.names[pid]}
        server = max((self.peaks[pid] for pid in servers), default=0)
        workers = max((peak for pid, peak in self.peaks.items()
                       if self.parents.get(pid) in servers), default=0)
        return main, workers, server


def build(project, *args, sample=False):
    environment = dict(os.environ, SOURCE_DATE_EPOCH='1700000000', NO_COLOR='1')
    started = time.perf_counter()
    process = subprocess.Popen([PYTHON, 'render.py', '--out', 'out', *args], cwd=project,
                               env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    peaks = Peaks(process.pid) if sample else None
    output = process.communicate()[0]
    seconds = time.perf_counter() - started
    memory = peaks.stop() if peaks else None
    if process.returncode != 0:
        raise SystemExit(f'render.py {" ".join(args)} failed:\n{output[-3000:]}')
    return seconds, memory


def median_of(runs, project, *args):
    return statistics.median(build(project, *args)[0] for _ in range(runs))


def mark(value, target):
    return f'(target ≤ {target}: {"met" if value <= target else "NOT met"})'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--countries', type=int, default=40)
    parser.add_argument('--runs', type=int, default=1)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        baseline, project = make_project(temp, options.countries)
        editions = options.countries * 4
        build(baseline, '-j1')  # stamps and copyfit sizes, as after any first build
        base = median_of(options.runs, baseline, '--force', '-j1') / 6
        build(project, '-j1')
        one, (main_mb, worker_mb, server_mb) = build(project, '--force', '-j1', sample=True)
        ones = [one] + [build(project, '--force', '-j1')[0] for _ in range(options.runs - 1)]
        one = statistics.median(ones)
        two = median_of(options.runs, project, '--force', '-j2')
        noop = median_of(max(options.runs, 3), project)
    print(f'nine-facts, {options.countries} countries × 4 languages = {editions} editions; '
          f'medians of {options.runs} run(s)')
    print(f'  6 shipped editions -j1: {base:.2f} s per edition')
    print(f'  {editions} editions -j1: {one:.1f} s, {one / editions:.2f} s per edition; '
          f'÷ the 6-edition build {one / editions / base:.2f} {mark(one / editions / base, 1.1)}')
    print(f'  {editions} editions -j2: {two:.1f} s; -j2 ÷ -j1 {two / one:.2f} '
          f'{mark(two / one, 0.6)}')
    print(f'  peak memory: main process {main_mb:.0f} MB {mark(main_mb, 150)}; largest '
          f'worker {worker_mb:.0f} MB {mark(worker_mb, 200)}; fork server {server_mb:.0f} MB')
    print(f'  no-op rebuild of {editions}: {noop:.2f} s {mark(noop, 1.0)}')


if __name__ == '__main__':
    main()
