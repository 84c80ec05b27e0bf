"""A third product that lives only in tests/: a product is HTML, CSS and YAML only.

tests/fixtures/products/card/ holds an anniversary card (A6, 2 pages) that the
engine has never heard of: its layout folder, its booklet file and its own text
per edition, with two fields no other product declares (``greeting``,
``signature``). Each test copies it into a fixture project beside the real
products (layout -> layouts/card/, booklet -> booklets/card.yaml, text ->
data/<country>/card/<lang>.yaml) and runs render.py there, as a user would. What
came out is read with tools nobody here wrote: pikepdf for the page boxes,
poppler's pdftotext for the words.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
import yaml

from conftest import FixtureProject, output_paths

CARD = Path(__file__).resolve().parent / 'fixtures' / 'products' / 'card'
#: The card's editions: every product file the fixture has, as (country, lang).
EDITIONS = sorted((path.parent.parent.name, path.stem)
                  for path in CARD.glob('data/*/card/*.yaml'))
TRIM_MM = (105, 148)
BLEED_MM = 3
#: How far a box may be from its size (WeasyPrint rounds to 1/100 pt or so).
TOLERANCE_MM = 0.1
KK_CARD = 'data/kazakhstan/card/kk.yaml'


def add_card(project):
    """Copy the card product into ``project``, where the real products already are."""
    shutil.copytree(CARD / 'layout', project.path('layouts/card'))
    shutil.copy2(CARD / 'booklet.yaml', project.path('booklets/card.yaml'))
    for path in CARD.glob('data/*/card/*.*'):  # the text, and what each was translated from
        project.write(path.relative_to(CARD).as_posix(), path.read_text(encoding='utf-8'))
    return project


def words(text):
    """The words of ``text``, in order (a WORD JOINER after a hyphen is no break)."""
    return re.findall(r'\w+', text.replace('\u2060', ''))


def contains_run(haystack, needle):
    """Whether the word list ``needle`` occurs in ``haystack`` as consecutive words."""
    return any(haystack[i:i + len(needle)] == needle
               for i in range(len(haystack) - len(needle) + 1))


def page_text(pdf, page):
    """Poppler's text of one page (numbers from 1), in reading order."""
    done = subprocess.run(['pdftotext', '-enc', 'UTF-8', '-f', str(page), '-l', str(page),
                           str(pdf), '-'], capture_output=True, check=True)
    return done.stdout.decode('utf-8')


def size_mm(box):
    x0, y0, x1, y1 = (float(value) for value in box)
    return abs(x1 - x0) * 25.4 / 72, abs(y1 - y0) * 25.4 / 72


def close(size, want):
    return all(abs(a - b) <= TOLERANCE_MM for a, b in zip(size, want))


@pytest.fixture(scope='module')
def card(tmp_path_factory):
    """A project with the card beside the real products: ``render.py check`` of
    everything, then ``render.py card`` (that booklet alone) built into ``out``."""
    base = tmp_path_factory.mktemp('card')
    project = add_card(FixtureProject(base / 'project'))
    out = base / 'out'
    check = project.run('check')
    build = project.run('card', '--out', out, '-j', '2')
    return project, out, check, build


def test_the_fixture_has_the_editions_the_issue_asks_for():
    assert ('kazakhstan', 'kk') in EDITIONS and ('kyrgyzstan', 'ky') in EDITIONS


def test_every_product_checks_with_the_card_beside_them(card):
    """The card's fields in data/ are no error for the nine-facts layout, nor the
    shared fields the card reads an error for the card."""
    _, _, check, _ = card
    assert check.returncode == 0, str(check)
    assert check.error_lines == [], str(check)
    assert 'Traceback' not in check.stdout + check.stderr, str(check)


def test_the_card_builds(card):
    _, _, _, build = card
    assert build.returncode == 0, str(build)
    assert 'Traceback' not in build.stdout + build.stderr, str(build)


@pytest.mark.parametrize('country, lang', EDITIONS, ids=[f'{c}-{l}' for c, l in EDITIONS])
def test_print_pdf_is_two_a6_pages(card, country, lang):
    _, out, _, build = card
    path = output_paths(out, country, lang, 'card')['print']
    assert path.is_file(), f'no {path}\n{build}'
    with pikepdf.open(path) as pdf:
        assert len(pdf.pages) == 2
        for number, page in enumerate(pdf.pages, 1):
            assert '/TrimBox' in page.obj, f'page {number} has no TrimBox'
            trim = size_mm(page.obj['/TrimBox'])
            assert close(trim, TRIM_MM), f'page {number}: TrimBox {trim} mm'
            bleed = size_mm(page.obj.get('/BleedBox', page.mediabox))
            assert close(bleed, [side + 2 * BLEED_MM for side in TRIM_MM]), (
                f'page {number}: BleedBox {bleed} mm')


@pytest.mark.parametrize('country, lang', EDITIONS, ids=[f'{c}-{l}' for c, l in EDITIONS])
def test_screen_pdf_has_the_cards_own_words(card, country, lang):
    """The greeting and the signature (the card's file) on page 2; the foundation
    (the edition's shared file) on page 1."""
    project, out, _, build = card
    path = output_paths(out, country, lang, 'card')['screen']
    assert path.is_file(), f'no {path}\n{build}'
    own = yaml.safe_load(project.read(f'data/{country}/card/{lang}.yaml'))
    shared = yaml.safe_load(project.read(f'data/{country}/{lang}.yaml'))
    back = words(page_text(path, 2))
    for field in ('greeting', 'signature'):
        assert contains_run(back, words(own[field])), (
            f'{field} {own[field]!r} not on page 2: {back}')
    front = words(page_text(path, 1))
    assert contains_run(front, words(shared['foundation'])), front


@pytest.mark.parametrize('country, lang', EDITIONS, ids=[f'{c}-{l}' for c, l in EDITIONS])
def test_the_other_outputs_asked_for_are_made(card, country, lang):
    _, out, _, build = card
    paths = output_paths(out, country, lang, 'card')
    for output in ('cover', 'preflight'):
        assert paths[output].is_file(), f'no {paths[output]}\n{build}'


def test_no_imposed_pdf_and_no_other_booklet(card):
    """The card's outputs leave out `imposed`; the target `card` builds it alone."""
    _, out, _, _ = card
    assert sorted(p.name for p in out.rglob('*imposed*')) == []
    assert not (out / 'nine-facts').exists()


def test_a_misspelled_card_field_is_the_cards_problem_alone(project):
    add_card(project)
    project.replace(KK_CARD, 'greeting:', 'greting:')
    line, col = project.position(KK_CARD, 'greting:')
    expected = (f"{KK_CARD}:{line}:{col}: unknown field 'greting' "
                "(did you mean 'greeting'?)")

    run = project.run('check')
    assert run.returncode == 1, str(run)
    assert expected in run.error_lines, str(run)
    # Every problem is in the card's file (the missing greeting, the misspelling):
    # neither the shared kk.yaml nor any other product is blamed.
    problems = [line for line in run.error_lines if re.match(r'\S+:\d+:\d+: ', line)]
    assert problems and all(line.startswith(f'{KK_CARD}:') for line in problems), str(run)

    nine_facts = project.run('check', 'nine-facts')
    assert nine_facts.returncode == 0, str(nine_facts)
    assert nine_facts.error_lines == [], str(nine_facts)

    # kazakhstan/kk across every product: only the card's edition fails.
    edition = project.run('check', 'kazakhstan/kk')
    assert edition.returncode == 1, str(edition)
    assert expected in edition.error_lines, str(edition)
    problems = [line for line in edition.error_lines if re.match(r'\S+:\d+:\d+: ', line)]
    assert all(line.startswith(f'{KK_CARD}:') for line in problems), str(edition)


def test_imposed_for_a_two_page_card_is_refused_at_its_line(project):
    add_card(project)
    project.replace('booklets/card.yaml', 'outputs: [print, screen, cover, preflight]',
                    'outputs: [print, screen, imposed, cover, preflight]')
    line, col = project.position('booklets/card.yaml', 'imposed, cover')

    run = project.run('check')
    assert run.returncode == 1, str(run)
    at = [entry for entry in run.error_lines
          if entry.startswith(f'booklets/card.yaml:{line}:')]
    assert at, f'nothing at booklets/card.yaml:{line} (col {col})\n{run}'
    assert any('imposed' in entry for entry in at), str(run)
    assert any(entry.startswith(f'booklets/card.yaml:{line}:{col}:') for entry in at), \
        str(run)
    # The booklet file's problem is the card's: the other products still check.
    others = [entry for entry in run.error_lines if re.match(r'\S+:\d+:\d+: ', entry)
              and not entry.startswith('booklets/card.yaml:')]
    assert others == [], str(run)
    nine_facts = project.run('check', 'nine-facts')
    assert nine_facts.returncode == 0, str(nine_facts)
