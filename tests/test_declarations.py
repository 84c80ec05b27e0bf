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
    ('watch: .fact\n', 'watch: .fact[\n', '.fact[', 'watch: is not a CSS selector'),
    ('    after: founded\n', '    after: founding\n', 'founding',
     "'founding' is not a field of country"),
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
