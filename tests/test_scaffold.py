"""Starting a new edition: the starter files fail ``render.py check`` with one line per
empty field, and pass once every field is written.

Each case runs the scaffold in a fixture project, then ``render.py check`` there
as a user would. Where each error must point is computed from the written file
(the ``""`` of each field), never copied from the program's output.
"""

import re

import pytest
import yaml

from bindery.errors import BookletError
from bindery.scaffold import ScaffoldError, new_edition
from bindery.layouts import load_layout

EMPTY = 'is empty; write the text or remove the field'
FILLED = 'Filled in text'


def check(project, *targets, code):
    run = project.run('check', *targets)
    assert 'Traceback' not in run.stdout + run.stderr, str(run)
    assert run.returncode == code, str(run)
    return run


def empty_fields(project, relative):
    """``(line, column)`` of every ``""`` outside comments in a file, 1-based."""
    places = []
    for number, line in enumerate(project.read(relative).splitlines(), 1):
        if not line.lstrip().startswith('#') and '""' in line:
            places.append((number, line.index('""') + 1))
    return places


def fill(project, relative):
    project.write(relative, project.read(relative).replace('""', f'"{FILLED}"'))


def new(project, country, lang):
    said = []
    written = new_edition(project.root, country, lang, say=said.append)
    return written, said


def test_a_new_edition_of_a_country_fails_check_until_written(project):
    """Kazakhstan has a grants total and two figures: the starter file labels them too."""
    country_before = project.read('data/kazakhstan/country.yaml')
    written, said = new(project, 'kazakhstan', 'ky')
    assert written == [project.path('data/kazakhstan/country.yaml'),
                       project.path('data/kazakhstan/ky.yaml')]
    assert said[-1] == 'then run: python render.py check kazakhstan/ky'

    # The country file lists the language now, and nothing else changed in it.
    country = project.read('data/kazakhstan/country.yaml')
    assert yaml.safe_load(country)['languages'] == ['kk', 'ru', 'en', 'ky']
    assert country == country_before.replace('languages: [kk, ru, en]',
                                             'languages: [kk, ru, en, ky]')

    relative = 'data/kazakhstan/ky.yaml'
    run = check(project, code=1)
    expected = empty_fields(project, relative)
    fields = []
    for line in run.error_lines:
        match = re.fullmatch(rf'{re.escape(relative)}:(\d+):(\d+): (\S+): {EMPTY}', line)
        assert match, f'not an empty field of the new file: {line}'
        fields.append(match.group(3))
        assert (int(match.group(1)), int(match.group(2))) in expected, line
    assert len(fields) == len(expected) == 17
    assert fields == ['title', 'foundation', 'intro[1]', 'grants_total_label',
                      'figures_title', 'figures.budget-kazakhstan', 'figures.budget-eurasia',
                      'facts_title', *(f'facts[{n}].text' for n in range(1, 10))]
    assert any('17 empty fields' in line for line in said)

    fill(project, relative)
    run = check(project, 'kazakhstan/ky', code=0)
    assert run.error_lines == []
    check(project, code=0)  # and every other edition is still fine


def test_a_new_country_in_a_new_language(project):
    """Three files; check names the empty ones until each is written."""
    written, said = new(project, 'tajikistan', 'tg')
    strings = 'layouts/nine-facts/strings/tg.yaml'
    assert written == [project.path('data/tajikistan/country.yaml'),
                       project.path('data/tajikistan/tg.yaml'), project.path(strings)]
    assert any(line.startswith(f'wrote {strings}') and 'the tg editions of nine-facts do not build'
               in line for line in said), said

    layout = yaml.safe_load(project.read('layouts/nine-facts/layout.yaml'))
    assert list(yaml.safe_load(project.read(strings))) == list(layout['strings'])
    assert '# In English: Open Society Foundations' in project.read(strings)
    country = yaml.safe_load(project.read('data/tajikistan/country.yaml'))
    assert country == {'founded': '', 'anniversary': '', 'languages': ['tg']}

    # Every problem of the edition in one run: the layout's words, the country
    # file and the language file; and the other editions are still fine.
    run = check(project, 'tajikistan/tg', code=1)
    words = [f'{strings}:{line}:{col}: {key}: {EMPTY}' for (line, col), key
             in zip(empty_fields(project, strings), layout['strings'])]
    assert all(line in run.error_lines for line in words), run.error_lines
    assert sum(line.startswith('data/tajikistan/country.yaml:') for line in run.error_lines) == 2
    assert sum(line.startswith('data/tajikistan/tg.yaml:') and line.endswith(EMPTY)
               for line in run.error_lines) == len(
        empty_fields(project, 'data/tajikistan/tg.yaml')) == 13
    assert len(run.error_lines) == len(words) + 2 + 13
    check(project, 'kazakhstan', 'kyrgyzstan', code=0)

    fill(project, strings)
    project.replace('data/tajikistan/country.yaml', 'founded: ""', 'founded: 1996')
    project.replace('data/tajikistan/country.yaml', 'anniversary: ""', 'anniversary: 2026')
    run = check(project, 'tajikistan/tg', code=1)
    assert len(run.error_lines) == 13, run.error_lines
    fill(project, 'data/tajikistan/tg.yaml')
    check(project, 'tajikistan/tg', code=0)


def test_every_field_of_the_schema_is_explained(project):
    new(project, 'kazakhstan', 'ky')
    text = project.read('data/kazakhstan/ky.yaml')
    for name, field in load_layout(project.root, 'nine-facts').schema('edition').fields.items():
        at = re.search(rf'^(# )?{name}:', text, re.MULTILINE)
        assert at, f'{name} is not in the file'
        comment = text[:at.start()].rstrip('\n').rsplit('\n\n', 1)[-1]
        assert comment.startswith('# ' + field.doc.split()[0]), (name, comment)
    assert text.count('  - text: ""') == 9


def test_a_block_list_of_languages_gets_one_line(project):
    relative = 'data/kyrgyzstan/country.yaml'
    project.replace(relative, 'languages: [ky, ru, en]',
                    'languages:\n  - ky   # the original\n  - ru\n  - en\n# after the list\n')
    before = project.read(relative)
    new(project, 'kyrgyzstan', 'kk')
    assert project.read(relative) == before.replace('  - en\n', '  - en\n  - kk\n')


@pytest.mark.parametrize('languages', ['languages: ky', 'languages: {ky: 1}'])
def test_a_country_file_it_cannot_edit_is_left_alone(project, languages):
    relative = 'data/kyrgyzstan/country.yaml'
    project.replace(relative, 'languages: [ky, ru, en]', languages)
    before = project.read(relative)
    written, said = new(project, 'kyrgyzstan', 'kk')
    assert project.read(relative) == before
    assert written == [project.path('data/kyrgyzstan/kk.yaml')]
    assert f"{relative}: add 'kk' to languages: (the file could not be changed safely)" in said


def test_a_booklet_that_lists_its_editions_is_named(project):
    project.replace('booklets/nine-facts.yaml', '# editions: [kazakhstan/kk, kyrgyzstan/ky]',
                    'editions: [kazakhstan/kk, kyrgyzstan/ky]')
    _, said = new(project, 'kazakhstan', 'ky')
    assert ('booklets/nine-facts.yaml lists its editions: add kazakhstan/ky to editions: to '
            'build it') in said


@pytest.mark.parametrize('country, lang, message', [
    ('kazakhstan', 'kk', 'data/kazakhstan/kk.yaml exists already'),
    ('Kazakhstan', 'de', 'is not a country name'),
    ('../elsewhere', 'de', 'is not a country name'),
    ('new country', 'de', 'is not a country name'),
    ('', 'de', 'is not a country name'),
    ('-x', 'de', 'is not a country name'),
    ('tajikistan', 'xx', "'xx' is not a language code CLDR knows"),
    ('tajikistan', 'TG', 'is not a language code'),
    ('tajikistan', 'tajik', 'is not a language code'),
    ('tajikistan', 'tg/../x', 'is not a language code'),
])
def test_refusals_write_nothing(project, country, lang, message):
    before = sorted(path for path in project.root.rglob('*') if '__pycache__' not in path.parts)
    with pytest.raises(ScaffoldError, match=re.escape(message)):
        new(project, country, lang)
    assert sorted(path for path in project.root.rglob('*')
                  if '__pycache__' not in path.parts) == before
    assert issubclass(ScaffoldError, BookletError)


def test_a_product_added_to_an_existing_edition_gets_its_own_starter_file(tmp_path):
    """A product added after an edition was started: `check` says the product's
    file is missing and points at `new`, which then writes that file only."""
    from conftest import FixtureProject

    project = FixtureProject(tmp_path / 'project', booklets=None)
    own = 'data/kazakhstan/press-sheet/kk.yaml'
    project.path(own).unlink()
    run = check(project, 'press-sheet/kazakhstan/kk', code=1)
    assert run.error_lines == [
        f'{own}:1:1: missing: the press-sheet layout reads its own text from here '
        '(headline, lede, facts, about); `render.py new kazakhstan kk` starts it'], run
    shared = project.read('data/kazakhstan/kk.yaml')
    written, said = new(project, 'kazakhstan', 'kk')
    assert written == [project.path(own)], said
    assert project.read('data/kazakhstan/kk.yaml') == shared
    run = check(project, 'press-sheet/kazakhstan/kk', code=1)
    assert run.error_lines and all(line.startswith(f'{own}:') and line.endswith(EMPTY)
                                   for line in run.error_lines), run.error_lines
    fill(project, own)
    check(project, 'press-sheet/kazakhstan/kk', code=0)
