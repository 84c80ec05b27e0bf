"""Incremental builds: an edition's fingerprint follows exactly what it depends on,
and the stamps of an output folder survive corruption and builds running at once.

Every dependency case changes one file of a fixture project (a copy of the real
inputs) and compares the fingerprint before and after; the unrelated cases
change a file the edition does not read and expect the same fingerprint.
"""

import json
import os
import subprocess
import sys
import textwrap
import time
from decimal import Decimal

import pytest

from bindery import cache
from bindery.cache import Stamps, edition_key, fingerprint
from conftest import EPOCH, ROOT

EDITION = ('nine-facts', 'nine-facts', 'kazakhstan', 'kk')


@pytest.fixture
def inputs(project, monkeypatch):
    """The fixture project with the files a checkout has beyond the copied inputs."""
    monkeypatch.setenv('SOURCE_DATE_EPOCH', str(EPOCH))
    project.write('requirements.txt', (ROOT / 'requirements.txt').read_text())
    project.write('README.md', '# a project\n')
    project.write('hyphenation/hyph_kk.dic', 'UTF-8\n1а1\n')
    return project


def print_of(project, *edition, **options):
    """The fingerprint of an edition of the fixture project, built by its own code."""
    options.setdefault('package', project.path('bindery'))
    return fingerprint(project.root, *(edition or EDITION), **options)


def flip_byte(project, relative):
    data = bytearray(project.path(relative).read_bytes())
    data[len(data) // 2] ^= 0x01
    project.write(relative, bytes(data))


def append(project, relative, text='\n# changed\n'):
    project.write(relative, project.read(relative) + text)


DEPENDENCIES = {
    'its content': lambda p: append(p, 'data/kazakhstan/kk.yaml'),
    'its country': lambda p: append(p, 'data/kazakhstan/country.yaml'),
    'the CSS': lambda p: append(p, 'layouts/nine-facts/booklet.css', '\n/* x */\n'),
    'the template': lambda p: append(p, 'layouts/nine-facts/booklet.html', '\n'),
    'layout.yaml': lambda p: append(p, 'layouts/nine-facts/layout.yaml'),
    'its strings': lambda p: append(p, 'layouts/nine-facts/strings/kk.yaml'),
    'its own text': lambda p: p.write('data/kazakhstan/nine-facts/kk.yaml', 'x: y\n'),
    'a new layout file': lambda p: p.write('layouts/nine-facts/picture.svg', '<svg/>'),
    'a font byte': lambda p: flip_byte(p, 'fonts/noto-serif/NotoSerif-Regular.ttf'),
    'another face': lambda p: flip_byte(p, 'fonts/inter/Inter-Black.otf'),
    'the ICC profile': lambda p: flip_byte(p, 'profiles/FOGRA39-bindery.icc'),
    'the booklet file': lambda p: append(p, 'booklets/nine-facts.yaml'),
    'a bindery module': lambda p: append(p, 'bindery/pipeline.py', '\n# changed\n'),
    'a new bindery module': lambda p: p.write('bindery/extra.py', '"""x"""\n'),
    'requirements.txt': lambda p: p.replace('requirements.txt', 'weasyprint==70.0',
                                            'weasyprint==70.1'),
    'render.py': lambda p: append(p, 'render.py'),
    'a hyphenation dictionary': lambda p: append(p, 'hyphenation/hyph_kk.dic', '1б1\n'),
}

UNRELATED = {
    'another edition': lambda p: append(p, 'data/kazakhstan/ru.yaml'),
    # Another language's words fail only that language's editions.
    'other strings': lambda p: append(p, 'layouts/nine-facts/strings/ru.yaml'),
    'a new language': lambda p: p.write('layouts/nine-facts/strings/uz.yaml', 'x: ""\n'),
    "another product's own text": lambda p: p.write('data/kazakhstan/poster/kk.yaml', 'x\n'),
    'another country': lambda p: append(p, 'data/kyrgyzstan/ky.yaml'),
    'the README': lambda p: append(p, 'README.md', 'more\n'),
    'a font the layout does not use': lambda p: p.write('fonts/other/Other.ttf', b'\0' * 9),
    'an output': lambda p: p.write('build/nine-facts/kazakhstan-kk-print.pdf', b'%PDF'),
    'a compiled module': lambda p: p.write('bindery/__pycache__/cache.cpython.pyc', b'x'),
    'an editor backup': lambda p: p.write('layouts/nine-facts/.booklet.css.swp', b'x'),
    'a test': lambda p: p.write('tests/test_new.py', 'x = 1\n'),
}


@pytest.mark.parametrize('change', sorted(DEPENDENCIES))
def test_a_dependency_changes_the_fingerprint(inputs, change):
    before = print_of(inputs)
    assert print_of(inputs) == before, 'not stable'
    DEPENDENCIES[change](inputs)
    assert print_of(inputs) != before


@pytest.mark.parametrize('change', sorted(UNRELATED))
def test_an_unrelated_file_does_not(inputs, change):
    before = print_of(inputs)
    UNRELATED[change](inputs)
    assert print_of(inputs) == before


def test_the_build_date_counts(inputs, monkeypatch):
    before = print_of(inputs)
    monkeypatch.setenv('SOURCE_DATE_EPOCH', str(EPOCH + 1))
    assert print_of(inputs) != before


def test_without_source_date_epoch_the_git_head_counts(inputs, monkeypatch):
    """The PDFs are then dated by the last commit: a new commit is a new date."""
    monkeypatch.delenv('SOURCE_DATE_EPOCH')
    inputs.write('.git/HEAD', 'ref: refs/heads/main\n')
    inputs.write('.git/refs/heads/main', 'a' * 40 + '\n')
    first = print_of(inputs)
    inputs.write('.git/refs/heads/main', 'b' * 40 + '\n')
    assert print_of(inputs) != first
    # A ref only in packed-refs (after `git gc`) is found there.
    inputs.path('.git/refs/heads/main').unlink()
    inputs.write('.git/packed-refs', f'# pack-refs\n{"a" * 40} refs/heads/main\n')
    assert print_of(inputs) == first


def test_git_head_is_read_as_git_reads_it():
    if not (ROOT / '.git').exists():
        pytest.skip('not a git checkout')
    try:
        head = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip('git cannot read this checkout')
    assert cache._git_head(ROOT) == head


def test_the_editions_differ(inputs):
    prints = {print_of(inputs, 'nine-facts', 'nine-facts', country, lang)
              for country, lang in [('kazakhstan', 'kk'), ('kazakhstan', 'ru'),
                                    ('kyrgyzstan', 'ky')]}
    assert len(prints) == 3


def test_a_translation_depends_on_its_original_and_its_fingerprints(inputs):
    """kazakhstan/en is translated from kk: the build reports the fields whose
    original changed since they were translated, so kk.yaml's text and
    en.lock.json count."""
    assert 'translation_of: kk' in inputs.read('data/kazakhstan/en.yaml')
    edition = ('nine-facts', 'nine-facts', 'kazakhstan', 'en')
    before = print_of(inputs, *edition)
    append(inputs, 'data/kazakhstan/kk.yaml')
    changed = print_of(inputs, *edition)
    assert changed != before
    append(inputs, 'data/kazakhstan/en.lock.json')
    assert print_of(inputs, *edition) != changed
    inputs.path('data/kazakhstan/kk.yaml').unlink()
    assert print_of(inputs, *edition) not in (before, changed)


def test_fonts_can_be_given(inputs):
    fonts = ['noto-serif/NotoSerif-Regular.ttf']
    before = print_of(inputs, fonts=fonts)
    assert before != print_of(inputs)
    flip_byte(inputs, 'fonts/inter/Inter-Black.otf')  # not among those given
    assert print_of(inputs, fonts=fonts) == before
    flip_byte(inputs, 'fonts/noto-serif/NotoSerif-Regular.ttf')
    assert print_of(inputs, fonts=fonts) != before


def test_extra_settings_count(inputs):
    assert print_of(inputs, extra=['outputs=print']) != print_of(inputs, extra=['outputs=all'])


def test_missing_files_give_a_fingerprint_not_an_error(inputs):
    before = print_of(inputs)
    inputs.path('data/kazakhstan/kk.yaml').unlink()
    inputs.path('layouts/nine-facts/layout.yaml').unlink()
    assert print_of(inputs) != before


def test_fingerprint_is_fast_and_loads_no_renderer(tmp_path):
    """Run where a build with nothing to do runs: a fresh interpreter, the real project."""
    script = textwrap.dedent(f'''
        import statistics, sys, time
        from bindery.cache import fingerprint
        times = []
        for _ in range(20):
            started = time.perf_counter()
            fingerprint({str(ROOT)!r}, 'nine-facts', 'nine-facts', 'kazakhstan', 'kk')
            times.append(time.perf_counter() - started)
        heavy = [name for name in ('weasyprint', 'pikepdf', 'fontTools', 'jinja2', 'pydyf')
                 if name in sys.modules]
        print(statistics.median(times), ','.join(heavy))
    ''')
    done = subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60,
                          env=dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH)))
    assert done.returncode == 0, done.stderr
    median, heavy = done.stdout.split(' ')
    assert heavy.strip() == '', f'fingerprint imported {heavy.strip()}'
    # The issue asks for < 20 ms; the bound leaves room for a loaded CI machine.
    assert float(median) < 0.05, f'median {float(median) * 1000:.1f} ms'


def test_the_running_package_is_the_default(inputs):
    """The code that builds counts, not a copy of it lying in the project."""
    before = fingerprint(inputs.root, *EDITION)
    assert before == print_of(inputs, package=cache.PACKAGE)
    append(inputs, 'bindery/pipeline.py')
    assert fingerprint(inputs.root, *EDITION) == before


# Stamps

def make_outputs(out, *names, size=10):
    paths = []
    for name in names:
        path = out / 'nine-facts' / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'x' * size)
        paths.append(path)
    return paths


def test_a_recorded_build_is_fresh_until_something_changes(tmp_path):
    out = tmp_path / 'build'
    key = edition_key('nine-facts', 'kazakhstan', 'kk')
    assert key == 'nine-facts/kazakhstan/kk'
    outputs = make_outputs(out, 'kazakhstan-kk-print.pdf', 'kazakhstan-kk-screen.pdf')
    stamps = Stamps(out)
    assert not stamps.is_fresh(key, 'f1')
    stamps.record(key, 'f1', outputs)
    stamps.save()

    again = Stamps(out)
    assert again.is_fresh(key, 'f1')
    assert not again.is_fresh(key, 'f2')
    assert not again.is_fresh('nine-facts/kazakhstan/ru', 'f1')
    data = json.loads((out / cache.STAMP_FILE).read_text())
    assert data['editions'][key]['outputs'] == {
        'nine-facts/kazakhstan-kk-print.pdf': 10, 'nine-facts/kazakhstan-kk-screen.pdf': 10}

    outputs[1].write_bytes(b'x' * 11)  # another size: another file
    assert not Stamps(out).is_fresh(key, 'f1')
    outputs[1].write_bytes(b'x' * 10)
    assert Stamps(out).is_fresh(key, 'f1')
    outputs[0].unlink()
    assert not Stamps(out).is_fresh(key, 'f1')


def test_a_failed_build_is_forgotten(tmp_path):
    out = tmp_path / 'build'
    stamps = Stamps(out)
    stamps.record('a/b/c', 'f', make_outputs(out, 'b-c-print.pdf'))
    stamps.save()
    stamps.forget('a/b/c')
    assert not stamps.is_fresh('a/b/c', 'f')
    stamps.save()
    assert Stamps(out).editions == {}


def test_a_moved_output_folder_keeps_its_stamps(tmp_path):
    out = tmp_path / 'build'
    stamps = Stamps(out)
    stamps.record('a/b/c', 'f', make_outputs(out, 'b-c-print.pdf'))
    stamps.save()
    out.rename(tmp_path / 'moved')
    assert Stamps(tmp_path / 'moved').is_fresh('a/b/c', 'f')


def test_relative_output_paths_are_relative_to_the_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_outputs(tmp_path / 'build', 'b-c-print.pdf')
    stamps = Stamps('build')
    stamps.record('a/b/c', 'f', ['build/nine-facts/b-c-print.pdf'])
    stamps.save()
    assert Stamps(tmp_path / 'build').editions['a/b/c']['outputs'] == {
        'nine-facts/b-c-print.pdf': 10}


@pytest.mark.parametrize('content', [
    b'', b'{', b'\xff\xfe not text', b'[]', b'null', b'{"format": 99, "editions": {}}',
    b'{"format": 1, "editions": []}',
    b'{"format": 1, "editions": {"a/b/c": {"fingerprint": 3, "outputs": {}}}}',
    b'{"format": 1, "editions": {"a/b/c": {"fingerprint": "f", "outputs": {"x": "10"}}}}',
])
def test_a_broken_stamp_file_counts_as_empty(tmp_path, content):
    out = tmp_path / 'build'
    out.mkdir()
    (out / cache.STAMP_FILE).write_bytes(content)
    stamps = Stamps(out)
    assert not stamps.is_fresh('a/b/c', 'f')
    stamps.record('a/b/d', 'g', make_outputs(out, 'b-d-print.pdf'))
    stamps.save()
    assert Stamps(out).is_fresh('a/b/d', 'g')


def test_an_unreadable_stamp_file_counts_as_empty(tmp_path):
    out = tmp_path / 'build'
    (out / cache.STAMP_FILE).mkdir(parents=True)  # a folder where the file should be
    assert Stamps(out).editions == {}


def test_saving_leaves_no_temporary_file(tmp_path):
    out = tmp_path / 'build'
    stamps = Stamps(out)
    stamps.record('a/b/c', 'f', make_outputs(out, 'b-c-print.pdf'))
    stamps.save()
    assert sorted(path.name for path in out.iterdir()) == [cache.STAMP_FILE, 'nine-facts']
    assert oct((out / cache.STAMP_FILE).stat().st_mode & 0o777) == oct(0o644)


def test_two_builds_keep_each_others_stamps(tmp_path):
    out = tmp_path / 'build'
    first, second = Stamps(out), Stamps(out)  # both read an empty folder
    first.record('a/b/c', 'f', make_outputs(out, 'b-c-print.pdf'))
    second.record('a/b/d', 'g', make_outputs(out, 'b-d-print.pdf'))
    first.save()
    second.save()
    stamps = Stamps(out)
    assert stamps.is_fresh('a/b/c', 'f') and stamps.is_fresh('a/b/d', 'g')


WRITER = '''
import sys
from bindery.cache import Stamps
out, name = sys.argv[1], sys.argv[2]
stamps = Stamps(out)
for i in range(25):
    stamps.record(f'{name}/{i}', 'f' * 64, [f'{out}/file'])
    stamps.save()
'''


def test_builds_saving_at_once_never_break_the_file(tmp_path):
    out = tmp_path / 'build'
    out.mkdir()
    (out / 'file').write_bytes(b'x')
    writers = [subprocess.Popen([sys.executable, '-c', WRITER, str(out), f'w{n}'], cwd=ROOT)
               for n in range(4)]
    reads = 0
    deadline = time.monotonic() + 60
    while any(writer.poll() is None for writer in writers) and time.monotonic() < deadline:
        try:
            text = (out / cache.STAMP_FILE).read_text()
        except FileNotFoundError:
            continue
        json.loads(text)  # never half a file
        reads += 1
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0, 0, 0]
    assert reads
    editions = Stamps(out).editions
    assert len(editions) == 100, sorted(editions)
    assert [path.name for path in out.iterdir() if path.name.endswith('.tmp')] == []



def test_copyfit_sizes_are_kept_and_trusted_only_for_the_same_fingerprint(tmp_path):
    out = tmp_path / 'build'
    stamps = Stamps(out)
    stamps.record('a/b/c', 'f', make_outputs(out, 'b-c-print.pdf'),
                  {'facts': '1.075', 'intro': '1.050'})
    stamps.save()
    again = Stamps(out)
    assert again.copyfit('a/b/c', 'f') == ({'facts': Decimal('1.075'),
                                            'intro': Decimal('1.05')}, True)
    assert again.copyfit('a/b/c', 'g') == ({'facts': Decimal('1.075'),
                                            'intro': Decimal('1.05')}, False)
    assert again.copyfit('a/b/d', 'f') == (None, False)


@pytest.mark.parametrize('sizes', [{'facts': 'big'}, ['1.1'], {'facts': None}, 'x'])
def test_broken_copyfit_sizes_are_dropped(tmp_path, sizes):
    out = tmp_path / 'build'
    stamps = Stamps(out)
    stamps.record('a/b/c', 'f', make_outputs(out, 'b-c-print.pdf'))
    stamps.save()
    data = json.loads((out / cache.STAMP_FILE).read_text())
    data['editions']['a/b/c']['copyfit'] = sizes
    (out / cache.STAMP_FILE).write_text(json.dumps(data))
    again = Stamps(out)
    assert again.is_fresh('a/b/c', 'f') and again.copyfit('a/b/c', 'f') == (None, False)


def test_a_build_starting_from_wrong_sizes_chooses_as_a_cold_one(project, tmp_path):
    """The sizes kept in the stamp file are only where the search starts."""
    out = tmp_path / 'out'
    cold = project.run('--out', out, 'kyrgyzstan/ky')
    notes = [line for line in cold.stderr.splitlines() if 'copyfit' in line]
    data = json.loads((out / cache.STAMP_FILE).read_text())
    kept = data['editions']['nine-facts/kyrgyzstan/ky']['copyfit']
    assert notes and all(f'copyfit {name} at {Decimal(size).normalize()} ' in ' '.join(notes)
                         for name, size in kept.items())
    data['editions']['nine-facts/kyrgyzstan/ky']['copyfit'] = {'facts': '0.95', 'intro': '0.9'}
    (out / cache.STAMP_FILE).write_text(json.dumps(data))
    # A comment: another fingerprint, so the kept sizes are a start, not trusted.
    project.write('data/kyrgyzstan/ky.yaml', project.read('data/kyrgyzstan/ky.yaml') + '# x\n')
    warm = project.run('--out', out, 'kyrgyzstan/ky')
    assert [line for line in warm.stderr.splitlines() if 'copyfit' in line] == notes


def test_the_text_engine_versions_are_the_ones_weasyprint_uses():
    """The versions the fingerprint counts, read through ctypes, are those of the
    libraries WeasyPrint itself loads."""
    from weasyprint.text.ffi import pango

    number = pango.pango_version()
    expected = f'{number // 10000}.{number // 100 % 100}.{number % 100}'
    assert f'libpango-1.0.so.0 {expected};' in cache.text_engine()
    assert 'unknown' not in cache.text_engine()


def test_a_text_engine_upgrade_changes_the_fingerprint(inputs, monkeypatch):
    before = print_of(inputs)
    monkeypatch.setattr(cache, 'text_engine', lambda: 'libpango-1.0.so.0 9.9.9')
    assert print_of(inputs) != before


def test_the_installed_packages_count_as_installed():
    """What the fingerprint reads from site-packages agrees with importlib.metadata."""
    from importlib.metadata import version

    for name in ('weasyprint', 'pyphen', 'pikepdf', 'fonttools'):
        assert f'{name}-{version(name)}' in cache.installed().splitlines(), name


def test_a_package_upgrade_changes_the_fingerprint(inputs, monkeypatch):
    before = print_of(inputs)
    monkeypatch.setattr(cache, 'installed', lambda: 'weasyprint-99.0')
    assert print_of(inputs) != before


def test_another_layouts_declaration_of_the_shared_files_counts(inputs):
    """Which keys a shared file may hold is what every layout declares: renaming a
    field another layout reads can make this edition's file wrong."""
    before = print_of(inputs)
    other = 'layouts/poster/layout.yaml'
    inputs.write(other, inputs.read(other) + '\n# a comment changes nothing\n')
    assert print_of(inputs) == before
    inputs.replace(other, '        short:\n', '        shorter:\n')
    assert print_of(inputs) != before
