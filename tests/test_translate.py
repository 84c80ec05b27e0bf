"""``render.py translate``: stale translations, XLIFF/PO exchange, pseudo-translation.

What bindery writes is read back with tools nobody here wrote: PyYAML for the
YAML, lxml with OASIS's XLIFF 1.2 schema (tests/data/xliff/) and translate-toolkit
for the exchange files, json for the preflight report.
"""

import difflib
import html
import json
import re
from pathlib import Path

import pytest
import yaml
from lxml import etree
from translate.storage import po, xliff

from conftest import FixtureProject

XLF = 'urn:oasis:names:tc:xliff:document:1.2'
SCHEMAS = Path(__file__).resolve().parent / 'data' / 'xliff'


def xliff_schema():
    """The OASIS XLIFF 1.2 strict schema, its xml.xsd import served from disk."""
    document = etree.parse(str(SCHEMAS / 'xliff-core-1.2-strict.xsd'))
    for element in document.getroot().iter('{http://www.w3.org/2001/XMLSchema}import'):
        element.set('schemaLocation', (SCHEMAS / 'xml.xsd').resolve().as_uri())
    return etree.XMLSchema(document)


def data_bytes(project):
    """Every file under data/, by path: what an import may change."""
    return {path.relative_to(project.root).as_posix(): path.read_bytes()
            for path in sorted(project.path('data').rglob('*')) if path.is_file()}


def value_position(project, relative, occurrence, key='- text: '):
    """``line:col`` of the value after the ``occurrence``-th ``key`` in a file."""
    line, col = project.position(relative, key, occurrence)
    return f'{line}:{col + len(key)}'


def change_fact(project, number, words=' Жаңа сөйлем.'):
    """Add ``words`` to the end of Kazakh fact ``number`` (as written in kk.yaml)."""
    text = project.read('data/kazakhstan/kk.yaml')
    starts = [m.end() for m in re.finditer(r'^  - text: ', text, re.MULTILINE)]
    end = text.index('\n    short:', starts[number - 1])
    project.write('data/kazakhstan/kk.yaml', text[:end] + words + text[end:])


def stale_lines(run):
    return sorted(line for line in run.error_lines if 'translated' in line)


def expected_stale(project, langs, number=4):
    original = value_position(project, 'data/kazakhstan/kk.yaml', number)
    return sorted(
        f'warning: data/kazakhstan/{lang}.yaml:'
        f'{value_position(project, f"data/kazakhstan/{lang}.yaml", number)}: '
        f'facts[{number}].text: the original changed since this was translated '
        f'(data/kazakhstan/kk.yaml:{original})' for lang in langs)


def test_the_shipped_translations_are_up_to_date(project):
    run = project.run('check', '--strict', fresh=True)  # python render.py, as a user runs it
    assert run.returncode == 0, str(run)
    assert not stale_lines(run), str(run)


def test_a_changed_fact_is_stale_in_each_translation_until_accepted(project):
    change_fact(project, 4)
    run = project.run('check')
    assert run.returncode == 0, str(run)  # a warning, not an error
    assert stale_lines(run) == expected_stale(project, ['en', 'ru']), str(run)
    strict = project.run('check', '--strict')
    assert strict.returncode == 1, str(strict)
    # Printed as errors are: the bare line.
    assert [line.removeprefix('warning: ') for line in expected_stale(
        project, ['en', 'ru'])] == sorted(strict.error_lines), str(strict)

    accepted = project.run('translate', 'accept', 'kazakhstan/ru', 'facts[4]')
    assert accepted.returncode == 0, str(accepted)
    run = project.run('check')
    assert stale_lines(run) == expected_stale(project, ['en']), str(run)

    # Re-translated through the exchange file: the report clears for en too.
    out = project.path('exchange/en.xlf')
    exported = project.run('translate', 'export', 'kazakhstan/kk', '--to', 'en', '-o', out)
    assert exported.returncode == 0, str(exported)
    document = etree.parse(str(out))
    unit = document.find(f'.//{{{XLF}}}trans-unit[@id="facts[4].text"]')
    target = unit.find(f'{{{XLF}}}target')
    assert target.get('state') == 'needs-review-translation'
    target.text += ' A new sentence.'
    target.set('state', 'translated')
    document.write(str(out), xml_declaration=True, encoding='UTF-8')
    imported = project.run('translate', 'import', out)
    assert imported.returncode == 0, str(imported)
    assert yaml.safe_load(project.read('data/kazakhstan/en.yaml'))['facts'][3][
        'text'].endswith(' A new sentence.')
    run = project.run('check', '--strict')
    assert run.returncode == 0 and not stale_lines(run), str(run)


def test_an_unknown_field_is_a_usage_error(project):
    run = project.run('translate', 'accept', 'kazakhstan/ru', 'facts[10]')
    assert run.returncode == 2, str(run)
    assert "no text field 'facts[10]' in kazakhstan/ru" in run.stderr, str(run)


def test_export_then_import_changes_no_byte(project):
    before = data_bytes(project)
    for lang, name in (('ru', 'x.xlf'), ('en', 'x.po')):
        out = project.path(f'exchange/{lang}-{name}')
        # python render.py translate …, as a translator runs it
        assert project.run('translate', 'export', 'kazakhstan/kk', '--to', lang,
                           '-o', out, fresh=True).returncode == 0
        run = project.run('translate', 'import', out, fresh=True)
        assert run.returncode == 0, str(run)
    assert data_bytes(project) == before


def test_a_changed_target_changes_only_that_field(project):
    out = project.path('exchange/ru.xlf')
    assert project.run('translate', 'export', 'kazakhstan/kk', '--to', 'ru',
                       '-o', out).returncode == 0
    document = etree.parse(str(out))
    new = {'facts[2].text': 'Центр «Сорос-Алматы»: площадка для художников, # не комментарий, '
                            '"в кавычках" и \'апострофах\'.',
           'title': 'ОТКРЫТОЕ ОБЩЕСТВО: КАЗАХСТАН'}
    for label, text in new.items():
        unit = document.find(f'.//{{{XLF}}}trans-unit[@id="{label}"]')
        unit.find(f'{{{XLF}}}target').text = text
    document.write(str(out), xml_declaration=True, encoding='UTF-8')
    before = project.read('data/kazakhstan/ru.yaml')
    others = data_bytes(project)
    run = project.run('translate', 'import', out)
    assert run.returncode == 0, str(run)
    after = project.read('data/kazakhstan/ru.yaml')

    old_data, new_data = yaml.safe_load(before), yaml.safe_load(after)
    assert new_data['facts'][1]['text'] == new['facts[2].text']
    assert new_data['title'] == new['title']
    old_data['facts'][1]['text'], old_data['title'] = new_data['facts'][1]['text'], \
        new_data['title']
    assert new_data == old_data  # nothing else changed
    comments = [line for line in before.splitlines() if line.lstrip().startswith('#')]
    assert comments == [line for line in after.splitlines()
                        if line.lstrip().startswith('#')]
    # Only the lines of those two values differ.
    lines = before.splitlines()
    title = next(i for i, line in enumerate(lines) if line.startswith('title:'))
    fact = [i for i, line in enumerate(lines) if line.startswith('  - text: ')][1]
    short = next(i for i in range(fact, len(lines)) if lines[i].startswith('    short:'))
    allowed = {title, *range(fact, short)}
    matcher = difflib.SequenceMatcher(None, lines, after.splitlines(), autojunk=False)
    touched = {i for tag, i1, i2, _, _ in matcher.get_opcodes() if tag != 'equal'
               for i in range(i1, max(i2, i1 + 1))}
    assert touched and touched <= allowed, (sorted(touched), sorted(allowed))
    others.pop('data/kazakhstan/ru.yaml')
    assert {k: v for k, v in data_bytes(project).items()
            if k != 'data/kazakhstan/ru.yaml'} == others  # the lock kept its fingerprints


@pytest.fixture
def every_product(tmp_path):
    """A fixture project with every booklet: every layout reads its files."""
    return FixtureProject(tmp_path / 'project', booklets=None)


def test_the_exported_xliff_is_valid_and_readable(every_product):
    project = every_product
    change_fact(project, 4)
    out = project.path('exchange/kk-ru.xlf')
    run = project.run('translate', 'export', 'kazakhstan/kk', '--to', 'ru', '-o', out)
    assert run.returncode == 0, str(run)
    document = etree.parse(str(out))
    schema = xliff_schema()
    assert schema.validate(document), schema.error_log
    broken = etree.parse(str(out))
    broken.find(f'.//{{{XLF}}}target').set('state', 'almost-done')
    assert not schema.validate(broken)  # the schema can fail

    store = xliff.xlifffile.parsefile(str(out))
    kk = yaml.safe_load(project.read('data/kazakhstan/kk.yaml'))
    ru = yaml.safe_load(project.read('data/kazakhstan/ru.yaml'))
    units = {unit.getid(): unit for unit in store.units}
    shared = {key.split('\x04', 1)[1]: unit for key, unit in units.items()
              if key.startswith('data/kazakhstan/kk.yaml\x04')}
    assert shared['title'].source == kk['title']
    assert shared['title'].target == ru['title']
    assert shared['facts[4].text'].source == kk['facts'][3]['text']
    assert len([k for k in shared if re.fullmatch(r'facts\[\d\]\.text', k)]) == 9
    assert len([k for k in shared if k.startswith('intro[')]) == len(kk['intro'])
    assert 'lang' not in shared and 'translation_of' not in shared
    states = {key: unit.xmlelement.find(f'{{{XLF}}}target').get('state')
              for key, unit in shared.items()}
    assert states['facts[4].text'] == 'needs-review-translation'
    approved = {key: unit.xmlelement.get('approved') for key, unit in shared.items()}
    assert approved.pop('facts[4].text') == 'no' and set(approved.values()) == {'yes'}
    assert {state for key, state in states.items() if key != 'facts[4].text'} == {
        'translated'}
    notes = shared['facts[4].text'].getnotes()
    assert 'The fact, one paragraph.' in notes and '1,200 characters' in notes
    assert shared['title'].xmlelement.get('maxwidth') == '120'
    files = {key.split('\x04', 1)[0] for key in units}
    assert 'data/kazakhstan/press-sheet/kk.yaml' in files  # a product's own text too


def test_the_exported_po_is_readable(every_product):
    project = every_product
    out = project.path('exchange/kk-en.po')
    run = project.run('translate', 'export', 'kazakhstan/kk', '--to', 'en', '-o', out)
    assert run.returncode == 0, str(run)
    store = po.pofile.parsefile(str(out))
    en = yaml.safe_load(project.read('data/kazakhstan/en.yaml'))
    units = {unit.getcontext(): unit for unit in store.units if not unit.isheader()}
    assert units['title'].target == en['title']
    assert units['press-sheet/lede'].getlocations() == ['data/kazakhstan/press-sheet/kk.yaml']
    assert units['facts[1].text'].getlocations() == ['data/kazakhstan/kk.yaml']
    assert store.gettargetlanguage() == 'en'


def test_import_refuses_units_whose_source_changed(project):
    out = project.path('exchange/ru.xlf')
    assert project.run('translate', 'export', 'kazakhstan/kk', '--to', 'ru',
                       '-o', out).returncode == 0
    document = etree.parse(str(out))
    for label, text in (('facts[4].text', 'Новый перевод.'), ('title', 'НОВЫЙ ЗАГОЛОВОК')):
        unit = document.find(f'.//{{{XLF}}}trans-unit[@id="{label}"]')
        unit.find(f'{{{XLF}}}target').text = text
    document.write(str(out), xml_declaration=True, encoding='UTF-8')
    change_fact(project, 4)
    run = project.run('translate', 'import', out)
    assert run.returncode == 1, str(run)
    refused = [line for line in run.error_lines if 'changed since the export' in line]
    assert len(refused) == 1 and 'facts[4].text' in refused[0], str(run)
    ru = yaml.safe_load(project.read('data/kazakhstan/ru.yaml'))
    assert ru['facts'][3]['text'] != 'Новый перевод.'
    assert ru['title'] == 'НОВЫЙ ЗАГОЛОВОК'  # the others are merged


def test_import_refuses_a_file_outside_data(project, tmp_path):
    out = project.path('exchange/ru.xlf')
    assert project.run('translate', 'export', 'kazakhstan/kk', '--to', 'ru',
                       '-o', out).returncode == 0
    out.write_text(out.read_text(encoding='utf-8').replace(
        'original="data/kazakhstan/kk.yaml"', 'original="../secrets/kk.yaml"'),
        encoding='utf-8')
    run = project.run('translate', 'import', out)
    assert run.returncode == 1 and 'not a content file of this project' in run.stderr, str(run)
    assert 'Traceback' not in run.stderr


def test_a_stale_translation_builds_with_a_warning_everywhere(project):
    change_fact(project, 4)
    out = project.path('out')
    run = project.run('nine-facts/kazakhstan/ru', '--out', out)
    assert run.returncode == 0, str(run)
    [line] = expected_stale(project, ['ru'])
    assert line in run.error_lines, str(run)
    message = line.removeprefix('warning: ')
    report = json.loads((out / 'nine-facts' / 'kazakhstan-ru-preflight.json').read_text())
    assert message in report['warnings']
    gallery = html.unescape((out / 'index.html').read_text(encoding='utf-8'))
    assert message in gallery
    strict = project.run('nine-facts/kazakhstan/ru', '--out', out, '--strict')
    assert strict.returncode == 1, str(strict)  # up to date, and still stale
    assert message in strict.error_lines, str(strict)


def test_a_translation_is_rebuilt_when_what_it_says_of_its_original_changes_only(project):
    """A translation's outputs depend on its original only through the warnings
    of its stale fields: editing an already stale fact again changes nothing in
    them, and the build leaves them as they are; a newly stale fact is rebuilt
    into them."""
    out = project.path('out')
    targets = ['nine-facts/kazakhstan/kk', 'nine-facts/kazakhstan/ru']
    report = out / 'nine-facts' / 'kazakhstan-ru-preflight.json'
    assert project.run(*targets, '--out', out).returncode == 0
    change_fact(project, 4)
    run = project.run(*targets, '--out', out)
    assert run.returncode == 0 and '2 of 2 editions built' in run.stdout, str(run)
    assert json.loads(report.read_text())['warnings'] == [
        line.removeprefix('warning: ') for line in expected_stale(project, ['ru'])]
    made = {path.name: path.stat().st_mtime_ns for path in report.parent.glob('kazakhstan-ru*')}

    change_fact(project, 4, ' Тағы бір сөйлем.')  # the same field, at the same line
    run = project.run(*targets, '--out', out)
    assert run.returncode == 0, str(run)
    assert '1 of 2 editions built' in run.stdout and '1 already up to date' in run.stdout, \
        str(run)
    assert stale_lines(run) == expected_stale(project, ['ru']), str(run)  # still said
    assert {path.name: path.stat().st_mtime_ns
            for path in report.parent.glob('kazakhstan-ru*')} == made

    change_fact(project, 6)
    run = project.run(*targets, '--out', out)
    assert run.returncode == 0 and '2 of 2 editions built' in run.stdout, str(run)
    assert json.loads(report.read_text())['warnings'] == sorted(
        line.removeprefix('warning: ') for number in (4, 6)
        for line in expected_stale(project, ['ru'], number))
    run = project.run(*targets, '--out', out, '--force')  # no shortcut under --force
    assert run.returncode == 0 and '2 of 2 editions built' in run.stdout, str(run)


#: An overflow message that names what does not fit (pdf.check_placement's forms).
#: What a pseudo-translation may break, each naming the field: its page runs
#: over, a line runs past its column, or (preflight) its ink lands on another
#: text or outside the page, or its text does not come back out of the PDF.
OVERFLOW = re.compile(r'(?:runs over by [\d.]+ mm \((?P<names>[^)]+) (?:does|do) not fit\)'
                      r'|: (?P<name>[^:]+): a line runs [\d.]+ mm past the right edge'
                      r'|preflight ink-bounds: page \d+: (?P<ink>[\w.\[\]-]+) paints'
                      r'|preflight text: (?P<text>[\w.\[\]-]+): )')


@pytest.mark.parametrize('target', ['nine-facts/kyrgyzstan/ky', 'poster/kazakhstan/ru',
                                    'press-sheet/kazakhstan/kk'])
def test_a_pseudo_translation_builds_or_names_what_overflows(tmp_path, target):
    project = FixtureProject(tmp_path / 'project', booklets=None)
    before = data_bytes(project)
    out = project.path('out')
    run = project.run('translate', 'pseudo', target, '--out', out)
    assert 'Traceback' not in run.stderr, str(run)
    assert data_bytes(project) == before  # a throw-away edition, outside data/
    booklet, country, lang = target.split('/')
    if run.returncode == 0:
        assert (out / 'pseudo' / booklet / f'{country}-{lang}-print.pdf').is_file()
    else:
        assert run.returncode == 1, str(run)
        failures = [line for line in run.error_lines
                    if not line.startswith(('note:', 'warning:'))]
        assert failures, str(run)
        for line in failures:
            said = line.split(': ', 1)[1]
            problems = [said] if said.startswith('preflight ') else said.split('; ')
            for problem in problems:
                assert OVERFLOW.search(problem), f'{problem!r} names no field\n{run}'
    # A text the product prints, in its pseudo-translated copy and as written.
    folder, name = {'nine-facts': ('', 'title'), 'poster': ('', 'title'),
                    'press-sheet': ('press-sheet/', 'headline')}[booklet]
    relative = f'{country}/{folder}{lang}.yaml'
    pseudo = yaml.safe_load((out / 'pseudo' / 'content' / relative).read_text(
        encoding='utf-8'))[name]
    written = yaml.safe_load(project.read(f'data/{relative}'))[name]
    assert len(pseudo) >= 1.4 * len(written)
    accented = re.compile('[\u00c0-\u024f\u04c0-\u04ff\u0450-\u045f]')
    assert len(accented.findall(pseudo)) > len(accented.findall(written))


SAMPLE = '''# a comment that stays
plain: old text
single: 'old text'
double: "old text"
folded: >-
  old text that runs on a line and then on another line, long enough to be folded
  here.
# another comment
list:
  - >-
    an item
after: unchanged
'''
AWKWARD = ['a: b', '- dash first', '#hash first', 'ends with a colon:', "it's", 'with "quotes"',
           'two  spaces  inside', ' leading space', 'trailing space ', 'yes', '~', '&anchor',
           '*alias', '!tag', '%percent', '@at', '`tick', '{brace}', '[bracket]', 'tab\there',
           'a very long sentence ' * 12 + 'that ends.', 'кириллица: «ёлочки» — тире']


@pytest.mark.parametrize('key', ['plain', 'single', 'double', 'folded', 'list'])
@pytest.mark.parametrize('value', AWKWARD)
def test_any_text_is_written_back_in_place(key, value):
    """Whatever the text, PyYAML reads back exactly it, and every byte outside
    the value is as it was."""
    from bindery import yamlsource
    from bindery.translate import replace_values

    raw = SAMPLE.encode('utf-8')
    source = yamlsource.loads(raw, 'sample.yaml')
    path = (key, 0) if key == 'list' else (key,)
    new = replace_values(raw, source, {path: value}).decode('utf-8')
    data = yaml.safe_load(new)
    assert (data['list'][0] if key == 'list' else data[key]) == value
    expected = yaml.safe_load(SAMPLE)
    data[key] = expected[key]
    assert data == expected
    mark = source.values[path]
    assert new.startswith(SAMPLE[:mark.start])
    rest = SAMPLE[mark.end:].lstrip('\n')
    assert new.endswith(rest)
    assert [line for line in new.splitlines() if line.startswith('#')] == [
        '# a comment that stays', '# another comment']
