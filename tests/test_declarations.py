"""A layout's declaration (layout.yaml): mistakes in it are one line each at their
place, never a traceback; what it declares is what content files are held to."""

import re

import pytest

LAYOUT = 'layouts/nine-facts/layout.yaml'


def check(project, *targets):
    run = project.run('check', *targets)
    assert 'Traceback' not in run.stdout + run.stderr, str(run)
    assert 'internal error' not in run.stdout + run.stderr, str(run)
    return run


@pytest.mark.parametrize('old, new, find, message', [
    ('    where: Page 2; the first paragraph is set larger, as a lead.\n',
     '    wher: Page 2.\n', 'wher:', "unknown key 'wher' (did you mean 'where'?)"),
    ('  facts_title:\n    type: text\n', '  facts_title:\n    type: txt\n', 'txt',
     'type must be one of text, paragraph'),
    ('    count: 9\n', '    count: nine\n', 'count: nine', 'expected a whole number'),
    ('    keys_from: figures\n', '    keys_from: budgets\n', 'budgets',
     "'budgets' is not a country list of records with an id"),
    ('    required_with: grants_total\n', '    required_with: grants\n', 'grants\n',
     "'grants' is not declared under country"),
    ('    unique: id\n', '    unique: ident\n', 'ident', "'ident' is not a field of the items"),
    ('        text: {type: paragraph,', '        Text: {type: paragraph,', 'Text:',
     "'Text' is not a field name"),
    ('watch: .fact, .intro p\n', 'watch: .fact[, .intro p\n', '.fact[',
     'watch: is not a CSS selector'),
    ('    after: founded\n', '    after: founding\n', 'founding',
     "'founding' is not another year or integer field of country"),
    ('  facts_title:\n    type: text\n', '  lang:\n    type: text\n', 'lang:',
     "'lang' is the engine's own field"),
])
def test_a_mistake_in_a_declaration_is_one_line_at_its_place(project, old, new, find, message):
    project.replace(LAYOUT, old, new)
    line, col = project.position(LAYOUT, find)
    run = check(project)
    assert run.returncode == 1, str(run)
    ours = [error for error in run.error_lines if error.startswith(f'{LAYOUT}:{line}:')]
    assert any(message in error for error in ours), run.error_lines


def test_a_deeper_cross_file_rule_is_refused_not_ignored(project):
    """keys_from, required_with and after are checked on top-level fields only; on a
    nested one they would never be checked, so the layout says so."""
    project.replace(LAYOUT, '        text: {type: paragraph, doc: "The fact, one paragraph."}',
                    '        text: {type: paragraph, doc: "The fact.", required_with: figures}')
    run = check(project)
    assert run.returncode == 1
    assert any("'required_with' applies to a top-level field only" in line
               for line in run.error_lines), run.error_lines


def test_a_field_the_layout_declares_is_what_the_content_file_may_hold(project):
    """Declare a new field: the content file may hold it (and must, when required);
    take the declaration away and the same file is refused, with a suggestion."""
    project.replace(LAYOUT, '  facts_kicker:\n', '  motto:\n    type: text\n    max: 20\n'
                    '    doc: A motto.\n    required: false\n  facts_kicker:\n')
    ky = 'data/kyrgyzstan/ky.yaml'
    project.replace(ky, '\nfacts_title:', '\nmotto: Ачык коом\nfacts_title:')
    assert check(project, 'kyrgyzstan/ky').returncode == 0
    project.replace(ky, 'motto: Ачык коом', 'motto: Ачык коом, ачык коом, ачык коом')
    run = check(project, 'kyrgyzstan/ky')
    line, col = project.position(ky, 'Ачык коом, ')
    assert run.error_lines == [f'{ky}:{line}:{col}: motto: is 31 characters long; at most 20 '
                               'fit the layout'], run.error_lines
    project.replace(LAYOUT, '  motto:\n    type: text\n    max: 20\n    doc: A motto.\n'
                    '    required: false\n', '')
    run = check(project, 'kyrgyzstan/ky')
    line, col = project.position(ky, 'motto:')
    assert run.error_lines == [f"{ky}:{line}:{col}: unknown field 'motto' (known fields: "
                               + re.search(r"known fields: ([^)]*)\)", run.error_lines[0])[1]
                               + ')'], run.error_lines


def test_safe_is_not_a_filter_a_layout_can_use(project):
    """Content is a value, never markup: the sandbox has no |safe to say otherwise."""
    project.replace('layouts/nine-facts/booklet.html',
                    '<p class="cover-foundation">{{ edition.foundation }}</p>',
                    '<p class="cover-foundation">{{ edition.foundation | safe }}</p>')
    run = check(project, 'kyrgyzstan/ky')
    assert run.returncode == 1
    assert any('booklet.html' in line and "No filter named 'safe'" in line
               for line in run.error_lines), run.error_lines


@pytest.mark.parametrize('old, new, find, message', [
    ('  facts_title:\n    type: text\n', '  facts_title:\n    type: [text]\n', '[text]',
     'type must be one of'),
    ('    after: founded\n', '    after: anniversary\n', 'after: anniversary',
     "'anniversary' is not another year or integer field of country"),
    ('    min: 0\n    max: 6\n', '    min: 7\n    max: 6\n', 'min: 7', 'min 7 is more than max 6'),
    ('  facts_kicker:\n', '  items:\n    type: text\n    doc: Items.\n    required: false\n'
     '  facts_kicker:\n', 'items:', 'a name templates read as a method'),
    ('    required_with: grants_total\n', '    keys_from: figures\n    required_with: grants_total\n',
     'keys_from: figures\n    required_with: grants_total', "'keys_from' does not apply to a text"),
])
def test_more_mistakes_in_a_declaration(project, old, new, find, message):
    test_a_mistake_in_a_declaration_is_one_line_at_its_place(project, old, new, find, message)


def test_a_declared_text_the_template_never_prints_is_named_before_rendering(project):
    """The preflight would fail it in the PDF ("word 1 is not in the text"); check
    says so first, at the declaration, and says what to do."""
    project.replace('layouts/nine-facts/booklet.html',
                    '    <p class="opener-kicker">{{ edition.facts_kicker }}</p>\n', '')
    line, col = project.position(LAYOUT, 'facts_kicker:')
    run = check(project, 'kazakhstan/kk')
    assert run.returncode == 1
    assert run.error_lines == [
        f'{LAYOUT}:{line}:{col}: edition.facts_kicker: booklet.html does not print '
        'facts_kicker: print it, or declare printed: false'], run.error_lines
    project.replace(LAYOUT, '    where: Page 3, the small line over the facts title.\n',
                    '    where: Page 3, the small line over the facts title.\n'
                    '    printed: false\n')
    assert check(project, 'kazakhstan/kk').returncode == 0


def test_a_layout_yaml_that_does_not_parse_fails_its_own_editions_only(tmp_path):
    """What the broken layout declares of the shared files is unknown, so no other
    layout refuses those keys (the poster's short forms) because of it."""
    from conftest import FixtureProject

    project = FixtureProject(tmp_path / 'project', booklets=None)
    project.write('layouts/poster/layout.yaml', 'title: [\n')
    run = check(project)
    assert run.returncode == 1
    assert run.error_lines and all(line.startswith('layouts/poster/layout.yaml:')
                                   for line in run.error_lines), run.error_lines
    assert check(project, 'nine-facts', 'press-sheet').returncode == 0


@pytest.mark.parametrize('length', ['0mm', '20000mm'])
def test_a_trim_that_cannot_be_printed_is_named_in_the_booklet_file(project, length):
    project.replace('booklets/nine-facts.yaml', 'width: 148mm', f'width: {length}')
    line, col = project.position('booklets/nine-facts.yaml', length)
    run = check(project)
    assert run.returncode == 1
    assert run.error_lines == [f'booklets/nine-facts.yaml:{line}:{col}: trim.width: {length} '
                               'cannot be printed: give a length between 0mm and 10000mm']


def test_web_and_email_print_as_written_in_the_contact_block(tmp_path):
    """A web address and an e-mail are codes, not prose: no typographer's dash or
    no-break space inside them; and the contact block prints what is given."""
    import subprocess

    from conftest import FixtureProject

    project = FixtureProject(tmp_path / 'project', booklets=('press-sheet',))
    own = 'data/kazakhstan/press-sheet/en.yaml'
    project.write(own, project.read(own) + '\nweb: https://example.org/reports/2019-2020\n'
                  'email: press-2020@example.org\n')
    out = tmp_path / 'out'
    run = project.run('press-sheet/kazakhstan/en', '--out', out)
    assert run.returncode == 0, str(run)
    text = subprocess.run(['pdftotext', '-raw', str(out / 'press-sheet' /
                                                    'kazakhstan-en-screen.pdf'), '-'],
                          capture_output=True, check=True).stdout.decode()
    assert 'https://example.org/reports/2019-2020' in text.replace('\n', ''), text
    assert 'press-2020@example.org' in text, text
