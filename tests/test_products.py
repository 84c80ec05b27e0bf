"""One engine, many products: the shipped products side by side, another trim, and a
new edition that costs no other edition its files.

Read with tools nobody here wrote: pikepdf for page boxes, poppler for text.
"""

import hashlib
import re
import subprocess

import pikepdf
import pytest
import yaml

from conftest import ROOT

MM = 72 / 25.4
PRODUCTS = {  # booklet -> (trim in mm, pages)
    'nine-facts': ((148, 210), 8),
    'press-sheet': ((210, 297), 2),
    'poster': ((297, 420), 1),
}


def trim_mm(page):
    x0, y0, x1, y1 = (float(value) for value in page.obj.TrimBox)
    return round((x1 - x0) / MM, 1), round((y1 - y0) / MM, 1)


@pytest.fixture(scope='module')
def products(tmp_path_factory):
    """Every product of the repository, every edition, built once into a folder."""
    from conftest import run_render

    out = tmp_path_factory.mktemp('products')
    run = run_render(['press-sheet', 'poster', '--out', out], ROOT, fresh=True)
    assert run.returncode == 0, str(run)
    return out


@pytest.mark.parametrize('booklet', ['press-sheet', 'poster'])
@pytest.mark.parametrize('edition', ['kazakhstan-kk', 'kazakhstan-ru', 'kazakhstan-en',
                                     'kyrgyzstan-ky', 'kyrgyzstan-ru', 'kyrgyzstan-en'])
def test_each_product_prints_at_its_own_trim(products, booklet, edition):
    (width, height), pages = PRODUCTS[booklet]
    with pikepdf.open(products / booklet / f'{edition}-print.pdf') as pdf:
        assert len(pdf.pages) == pages
        assert {trim_mm(page) for page in pdf.pages} == {(width, height)}
    assert not (products / booklet / f'{edition}-imposed.pdf').exists()


def product_text(relative):
    """Every text value of a content file, as PyYAML reads it."""
    def walk(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for key, item in value.items():
                if key not in ('lang', 'translation_of'):
                    yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)
    return list(walk(yaml.safe_load((ROOT / relative).read_text(encoding='utf-8'))))


def words(text):
    return re.findall(r'\w+', re.sub('(?<=\\w)[-\u2010\u00ad]\\s*(?=\\w)', '', text).lower())


@pytest.mark.parametrize('country, lang', [('kazakhstan', 'kk'), ('kyrgyzstan', 'ky'),
                                           ('kazakhstan', 'en')])
def test_the_press_sheet_prints_every_word_of_its_own_text(products, country, lang):
    pdf = products / 'press-sheet' / f'{country}-{lang}-screen.pdf'
    found = ' '.join(words(subprocess.run(['pdftotext', '-raw', '-enc', 'UTF-8', str(pdf), '-'],
                                          capture_output=True, check=True).stdout.decode()))
    for text in product_text(f'data/{country}/press-sheet/{lang}.yaml'):
        for word in words(text):
            assert word in found, (word, text)


@pytest.mark.parametrize('country, lang', [('kazakhstan', 'kk'), ('kyrgyzstan', 'ky')])
def test_the_poster_prints_each_short_fact(products, country, lang):
    pdf = products / 'poster' / f'{country}-{lang}-screen.pdf'
    found = ' '.join(words(subprocess.run(['pdftotext', '-raw', '-enc', 'UTF-8', str(pdf), '-'],
                                          capture_output=True, check=True).stdout.decode()))
    facts = yaml.safe_load((ROOT / f'data/{country}/{lang}.yaml').read_text('utf-8'))['facts']
    assert len(facts) == 9
    for fact in facts:
        assert ' '.join(words(fact['short'])) in found, fact['short']


def test_a_us_letter_copy_of_the_booklet_builds_with_a_tabloid_proof(project, tmp_path):
    """The same layout at another trim: it builds, or fails naming the booklet file;
    never an internal error. Its 2-up proof goes on Tabloid, the smallest sheet
    that holds two Letter pages."""
    text = project.read('booklets/nine-facts.yaml')
    text = re.sub(r'width: 148mm', 'width: 215.9mm', text)
    text = re.sub(r'height: 210mm', 'height: 279.4mm', text)
    text = text.replace('\neditions:', '\n#').replace('# editions:', '#')
    project.write('booklets/letter.yaml', text + '\neditions: [kyrgyzstan/ky]\n')
    out = tmp_path / 'out'
    run = project.run('letter', '--out', out)
    assert 'Traceback' not in run.stdout + run.stderr and 'internal error' not in run.stderr
    if run.returncode:
        assert all('booklets/letter.yaml' in line for line in run.error_lines), str(run)
        return
    with pikepdf.open(out / 'letter' / 'kyrgyzstan-ky-print.pdf') as pdf:
        assert {trim_mm(page) for page in pdf.pages} == {(215.9, 279.4)}
    with pikepdf.open(out / 'letter' / 'kyrgyzstan-ky-imposed.pdf') as pdf:
        assert len(pdf.pages) == 4
        for page in pdf.pages:
            x0, y0, x1, y1 = (float(value) for value in page.mediabox)
            assert (round((x1 - x0) / MM, 1), round((y1 - y0) / MM, 1)) == (431.8, 279.4)


def test_a_new_edition_never_costs_the_others_their_files(project, tmp_path):
    """`new uzbekistan uz`, then a build: the uz editions fail, saying what they
    still need; every file of the existing editions is there, as built, and up to
    date (a second build has nothing to do for them)."""
    out = tmp_path / 'out'
    targets = ['nine-facts', '--out', out, '-j', '2']
    first = project.run(*targets)
    assert first.returncode == 0, str(first)
    before = {path.relative_to(out): hashlib.sha256(path.read_bytes()).hexdigest()
              for path in (out / 'nine-facts').iterdir()}
    # print, screen, imposed and the press kit's PDF of each of the 6 editions
    assert len([name for name in before if name.suffix == '.pdf']) == 24

    made = project.run('new', 'uzbekistan', 'uz')
    assert made.returncode == 0, str(made)
    run = project.run(*targets)
    assert run.returncode == 1, str(run)
    assert 'Traceback' not in run.stdout + run.stderr
    failed = [line for line in run.error_lines if line.startswith(('data/', 'layouts/'))]
    assert failed and all('uzbekistan' in line or '/uz.yaml' in line for line in failed), failed
    assert any(line.startswith('layouts/nine-facts/strings/uz.yaml:') for line in failed)
    after = {path.relative_to(out): hashlib.sha256(path.read_bytes()).hexdigest()
             for path in (out / 'nine-facts').iterdir()}
    assert {name: after.get(name) for name in before} == before
    assert '6 already up to date' in run.stdout, run.stdout
    assert run.stdout.count('up to date │') == 6 and run.stdout.count('FAILED') == 1, run.stdout


@pytest.mark.parametrize('text, glued, free', [
    ("the government's decision at a time", 'a\u00a0time', "government's decision"),
    ('the government’s decision a year on', 'a\u00a0year', 'government’s decision'),
])
def test_a_possessive_s_is_no_short_word_to_keep_with_the_next(text, glued, free):
    """English keeps a one-letter word with the next; the s after an apostrophe is
    part of its word, and gluing it forced "govern-/ment’s decision" breaks."""
    from bindery.typography import typeset

    out = typeset(text, 'en')
    assert glued in out and free in out, repr(out)


#: Bare WeasyPrint: a process that imports nothing of ours, rendering each
#: (html, pdf) pair it is given, as a designer would from the hand-off.
BARE = '''
import sys, weasyprint
for html, pdf in zip(sys.argv[1::2], sys.argv[2::2]):
    weasyprint.HTML(html).write_pdf(pdf)
'''


def layout_lines(pdf):
    """The lines of every page, as ``pdftotext -layout`` sets them out, stripped."""
    text = subprocess.run(['pdftotext', '-layout', '-enc', 'UTF-8', str(pdf), '-'],
                          capture_output=True, check=True).stdout.decode()
    return [[line.strip() for line in page.splitlines() if line.strip()]
            for page in text.split('\f')[:-1]]


def test_every_hand_off_renders_in_bare_weasyprint_as_its_print_pdf(products, built, tmp_path):
    """The zip's HTML carries every decision the build made (hyphenation as soft
    hyphens, copyfit sizes, vertical justification): bare WeasyPrint of the
    pinned version, without our dictionaries, gives the print PDF's pages, line
    for line. The PDFs in the zip carry their real names."""
    import sys
    import zipfile

    zips = sorted((products / 'press-sheet').glob('*-handoff.zip'))
    zips += sorted((products / 'poster').glob('*-handoff.zip'))
    zips += sorted(built['kk'].print.parent.glob('*-handoff.zip'))
    assert len(zips) == 18
    pairs, folders = [], []
    for number, path in enumerate(zips):
        folder = tmp_path / str(number)
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            archive.extractall(folder)
        stem = path.name.removesuffix('-handoff.zip')
        assert {f'{stem}/print.pdf', f'{stem}/screen.pdf'} <= set(names), names
        html = next((folder / stem / 'html').glob('*.html'))
        pairs += [str(html), str(folder / 'bare.pdf')]
        folders.append(folder / stem)
    env = {'PATH': '/usr/bin:/bin', 'SOURCE_DATE_EPOCH': '1700000000'}
    subprocess.run([sys.executable, '-I', '-c', BARE, *pairs], check=True, env=env,
                   cwd=tmp_path, capture_output=True, timeout=600)
    for folder in folders:
        bare, printed = layout_lines(folder.parent / 'bare.pdf'), layout_lines(
            folder / 'print.pdf')
        assert len(bare) == len(printed), folder
        for number, (ours, theirs) in enumerate(zip(bare, printed), 1):
            assert ours == theirs, (folder.name, number)
