"""Faults of the machine and of the moment: a full disk, a kill between two outputs,
a burst of saves under ``serve``. Each loses nothing and says what happened.

* disk full: an edition is built into a small tmpfs, the tmpfs is filled to
  96 KB of free space, and the edition is rebuilt with ``--force``: exit 1, a
  message that says the disk is full, the previous files byte for byte, no
  temporary file left. Needs root (``mount -t tmpfs``); skipped, saying why,
  where mounting is refused.
* a kill mid-set: a build is killed (the whole process group, kill -9) right
  after its n-th rename into the output folder, by a ``sitecustomize`` the
  test puts on the build's ``PYTHONPATH`` (nothing in bindery knows of it).
  Afterwards the edition's files are the old set, the new set, or a set whose
  record says it is being replaced; the next build then makes the new set.
* ``serve`` under 50 saves of a content file in 5 seconds: it does not crash,
  its last build is of the last save, and the preview says so.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import EPOCH, PYTHON
from test_safety import leftovers

KK = 'data/kazakhstan/kk.yaml'
TITLE = 'title: АШЫҚ ҚОҒАМ ҚАЗАҚСТАНДА\n'


def outputs(folder, stem='kazakhstan-kk'):
    """``{file name: bytes}`` of an edition's outputs in ``folder`` (not its record)."""
    return {path.name: path.read_bytes() for path in sorted(Path(folder).glob(f'{stem}-*'))
            if path.is_file()}


def text_of(pdf):
    """The PDF's text by poppler, without any white space (read afresh each time)."""
    done = subprocess.run(['pdftotext', '-enc', 'UTF-8', str(pdf), '-'], capture_output=True)
    return ''.join(done.stdout.decode('utf-8', 'replace').split())


def record(folder, stem='kazakhstan-kk'):
    """The edition's set record, as the build wrote it."""
    return json.loads((Path(folder) / f'.bindery-set-{stem}.json').read_text('utf-8'))


def render(project, *args, env=None, timeout=240):
    """``render.py ARGS`` in the project, in a session of its own (so that a
    fault may kill its whole process group)."""
    environment = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH), NO_COLOR='1',
                       COLUMNS='200', PYTHONDONTWRITEBYTECODE='1', **(env or {}))
    environment.pop('PYTHONPATH', None) if 'PYTHONPATH' not in (env or {}) else None
    return subprocess.run([PYTHON, 'render.py', *map(str, args)], cwd=project.root,
                          env=environment, capture_output=True, text=True, timeout=timeout,
                          start_new_session=True)


# A full disk ------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 24 MB tmpfs, unmounted at the end; skips where mounting is refused."""
    mount = tmp_path / 'small'
    mount.mkdir()
    done = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=24m,mode=0755', 'tmpfs',
                           str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f'cannot mount a tmpfs here (needs root): {done.stderr.strip()}')
    try:
        yield mount
    finally:
        subprocess.run(['umount', '-l', str(mount)], capture_output=True)


def fill(disk, leave):
    """Fill ``disk`` until ``leave`` bytes are free."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with open(disk / 'filler', 'wb') as filler:
        filler.truncate(0)
        remaining = free - leave
        chunk = b'\0' * (1024 * 1024)
        while remaining > 0:
            filler.write(chunk[:min(len(chunk), remaining)])
            remaining -= len(chunk)
    stats = os.statvfs(disk)
    return stats.f_bavail * stats.f_frsize


def test_a_full_disk_keeps_the_last_good_files(project, small_disk):
    out = small_disk / 'out'
    first = render(project, '--out', out, 'kazakhstan/kk')
    assert first.returncode == 0, first.stdout + first.stderr
    folder = out / 'nine-facts'
    before = outputs(folder)
    assert len(before) >= 5
    free = fill(small_disk, 96 * 1024)
    assert free <= 200 * 1024, free

    run = render(project, '--out', out, '--force', 'kazakhstan/kk')
    said = run.stdout + run.stderr
    assert run.returncode == 1, said
    assert 'Traceback' not in said and 'bug' not in said, said
    assert 'disk is full' in run.stderr, said
    assert 'kazakhstan/kk' in run.stderr, said
    now = outputs(folder)
    report = json.loads(now.pop('kazakhstan-kk-preflight.json'))
    assert now == {name: data for name, data in before.items()
                   if not name.endswith('-preflight.json')}, 'a file of the last good build changed'
    assert report['ok'] is True and 'disk is full' in ' '.join(report['stale']['errors'])
    assert record(folder)['state'] == 'stale'
    assert leftovers(out) == []
    print(run.stderr)

    (small_disk / 'filler').unlink()  # space again: the next build replaces the set
    again = render(project, '--out', out, '--force', 'kazakhstan/kk')
    assert again.returncode == 0, again.stdout + again.stderr
    assert record(folder)['state'] == 'complete'
    assert outputs(folder) == before  # the same input gives the same bytes


# A kill between two outputs -----------------------------------------------------

SITECUSTOMIZE = '''
import os, signal

_folder = os.environ['FAULT_FOLDER']
_after = int(os.environ['FAULT_KILL_AFTER'])
_count = 0
_replace = os.replace


def replace(source, target, *args, **kwargs):
    """os.replace, then kill the whole build after the n-th rename into the folder."""
    global _count
    result = _replace(source, target, *args, **kwargs)
    if os.path.dirname(os.path.abspath(target)) == _folder:
        _count += 1
        if _count == _after:
            os.killpg(os.getpgrp(), signal.SIGKILL)
    return result


os.replace = replace
'''


@pytest.fixture
def killer(tmp_path):
    """A folder with the ``sitecustomize`` that kills a build mid-set."""
    folder = tmp_path / 'fault'
    folder.mkdir()
    (folder / 'sitecustomize.py').write_text(SITECUSTOMIZE)
    return folder


def test_a_kill_between_two_outputs_leaves_old_new_or_a_set_marked_incomplete(
        project, built, tmp_path, killer):
    out = tmp_path / 'out'
    folder = out / 'nine-facts'
    shutil.copytree(built['kk'].print.parent, folder)  # yesterday's build
    old = outputs(folder)
    assert record(folder)['state'] == 'complete'
    renames = 1 + len(old) + 1  # the record says "replacing", each output, "complete"
    project.replace(KK, TITLE, 'title: АШЫҚ ҚОҒАМ ҚАЗАҚСТАНДА 2025\n')
    new = None
    for after in (2, renames - 1):  # after the first output; after the last, unrecorded
        killed = render(project, '--out', out, 'kazakhstan/kk',
                        env={'PYTHONPATH': str(killer), 'FAULT_FOLDER': str(folder),
                             'FAULT_KILL_AFTER': str(after)})
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
        now = outputs(folder)
        assert set(now) == set(old)  # never a missing or partial file
        state = record(folder)['state']
        mixed = now != old and (new is None or now != new)
        assert state == 'replacing' or not mixed, f'a mixed set marked {state}'
        assert state != 'complete' or now in (old, new)

        rebuilt = render(project, '--out', out, 'kazakhstan/kk')
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert 'up to date' not in rebuilt.stdout, 'a set marked incomplete was trusted'
        assert record(folder)['state'] == 'complete'
        assert leftovers(out) == []
        made = outputs(folder)
        assert made != old
        new = new or made
        assert made == new
        assert 'ҚАЗАҚСТАНДА2025' in text_of(folder / 'kazakhstan-kk-screen.pdf')
        # Put yesterday's set back for the next kill point.
        shutil.rmtree(folder)
        shutil.copytree(built['kk'].print.parent, folder)


def test_a_killed_build_leaves_no_fonts_in_the_temporary_folder(project, tmp_path, killer):
    """WeasyPrint copies a layout's fonts (4.5 MB) to a temporary folder that a
    worker removes at its end; kill -9 gives it none. The worker's folder, named
    by its process id, is removed by the next build, and nothing of WeasyPrint's
    stays. (multiprocessing's folder for the fork server's socket, pymp-*, is
    the killed process's own: empty, and left.) A short folder of the system's:
    a socket's path may not be longer than 107 bytes."""
    temp = Path(tempfile.mkdtemp(prefix='bindery-tmp-'))
    out = tmp_path / 'out'
    try:
        env = {'TMPDIR': str(temp)}
        first = render(project, '--out', out, 'kazakhstan/kk', env=env)
        assert first.returncode == 0, first.stdout + first.stderr
        project.replace(KK, TITLE, 'title: АШЫҚ ҚОҒАМ ҚАЗАҚСТАНДА 2026\n')
        killed = render(project, '--out', out, 'kazakhstan/kk', env=dict(
            env, PYTHONPATH=str(killer), FAULT_FOLDER=str(out / 'nine-facts'),
            FAULT_KILL_AFTER='2'))
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
        left = [path for path in temp.iterdir() if path.name.startswith('bindery-worker-')]
        assert left and any(inner.name.startswith('weasyprint-')
                            for path in left for inner in path.iterdir()), list(temp.iterdir())

        again = render(project, '--out', out, 'kazakhstan/kk', env=env)
        assert again.returncode == 0, again.stdout + again.stderr
        after = sorted(path.name for path in temp.iterdir())
        assert [name for name in after if not name.startswith('pymp-')] == [], after
    finally:
        shutil.rmtree(temp, ignore_errors=True)


# serve under a burst of saves ------------------------------------------------------

def test_serve_survives_50_saves_in_5_seconds_and_shows_the_last(project, tmp_path):
    import urllib.request

    out = tmp_path / 'out'
    port_probe = __import__('socket').socket()
    port_probe.bind(('127.0.0.1', 0))
    port = port_probe.getsockname()[1]
    port_probe.close()
    environment = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH), NO_COLOR='1',
                       PYTHONDONTWRITEBYTECODE='1')
    environment.pop('PYTHONPATH', None)
    server = subprocess.Popen([PYTHON, 'render.py', 'serve', '--out', str(out), '--port',
                               str(port), '-j', '1', 'kazakhstan/kk'], cwd=project.root,
                              env=environment, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def status():
        url = f'http://127.0.0.1:{port}/status/nine-facts/kazakhstan-kk'
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)

    def wait(test, timeout=240):
        deadline = time.monotonic() + timeout
        while True:
            assert server.poll() is None, f'serve stopped: {server.stdout.read()}'
            try:
                current = status()
                if test(current):
                    return current
            except OSError:
                pass
            assert time.monotonic() < deadline, 'gave up waiting for serve'
            time.sleep(0.2)

    try:
        first = wait(lambda s: s['version'] >= 1 and not s['building'])
        assert first['ok'], first
        source = project.path(KK)
        text = source.read_text(encoding='utf-8')
        started = time.monotonic()
        for n in range(1, 51):
            source.write_text(text.replace(TITLE, f'title: АШЫҚ ҚОҒАМ {n:02d}\n'),
                              encoding='utf-8')
            time.sleep(max(0.0, started + n * 0.1 - time.monotonic()))
        assert time.monotonic() - started < 6
        last = wait(lambda s: s['version'] > first['version'] and s['ok']
                    and not s['building'] and 'ҚОҒАМ50' in text_of(
                        out / 'nine-facts' / 'kazakhstan-kk-screen.pdf'))
        assert len(last['images']) == last['pages'] == 8
        page = urllib.request.urlopen(f'http://127.0.0.1:{port}/preview/nine-facts/'
                                      'kazakhstan-kk/', timeout=10).read().decode()
        assert f'build {last["version"]} · 8 pages' in page
        assert server.poll() is None
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            log = server.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            log = server.communicate()[0]
    assert 'Traceback' not in log, log


# A bug in a worker --------------------------------------------------------------

def test_a_bug_in_a_worker_fails_its_edition_and_debug_shows_where(project, tmp_path):
    """A bug planted in the project's copy of bindery: the edition fails with a
    line saying it is a bug, no traceback; ``--debug`` prints the worker's."""
    project.replace('bindery/previews.py', '    """Render page 1 of ``pdf_path``',
                    '    raise RuntimeError("planted bug")\n    """Render page 1 of ``pdf_path``')
    out = tmp_path / 'out'
    plain = render(project, '--out', out, 'kazakhstan/kk')
    assert plain.returncode == 1, plain.stdout + plain.stderr
    assert 'Traceback' not in plain.stdout + plain.stderr
    assert any(line.startswith('kazakhstan/kk: internal error (RuntimeError: planted bug)')
               and '--debug' in line for line in plain.stderr.splitlines()), plain.stderr
    debug = render(project, '--out', out, '--debug', 'kazakhstan/kk')
    assert debug.returncode == 1
    assert 'Traceback (most recent call last)' in debug.stderr, debug.stderr
    assert 'previews.py' in debug.stderr and 'planted bug' in debug.stderr
