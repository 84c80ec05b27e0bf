"""Mistakes in content give one line each, ``path:line:col: field: message``, exit 1.

Every case breaks a copy of the real content in a fixture project and runs
``render.py check`` there. The expected line and column are computed from where
the test put the problem (1-based, columns in characters), never copied from
the program's output. A file with several problems must give a line for each.
"""

import re
from pathlib import Path

import pytest
import yaml
from fontTools.ttLib import TTFont

from conftest import output_paths

KK = 'data/kazakhstan/kk.yaml'
KY = 'data/kyrgyzstan/ky.yaml'
LAYOUT = 'layouts/nine-facts/layout.yaml'
THAI_KO = '\u0e01'  # ก: no glyph in Noto Serif or Inter, nor their Armenian and Georgian companions


def check(project, *targets, code=1, fresh=False):
    run = project.run('check', *targets, fresh=fresh)
    assert 'Traceback' not in run.stdout + run.stderr, str(run)
    assert run.returncode == code, str(run)
    return run


def first_key_position(project, relative):
    """Where the file's top mapping starts: its first line that is not a comment."""
    for number, line in enumerate(project.read(relative).splitlines(), 1):
        if line.strip() and not line.lstrip().startswith('#'):
            return number, len(line) - len(line.lstrip()) + 1
    raise AssertionError('empty file')


def families_without(project, char):
    """The layout's font families (in its order) whose files have no glyph for ``char``:
    a face for one script (``fallback_for``) counts as part of the family it stands in for."""
    faces = yaml.safe_load(project.read(LAYOUT))['fonts']
    having, families = set(), []
    for face in faces:
        family = face.get('fallback_for') or face['family']
        if family not in families:
            families.append(family)
        font = TTFont(project.path('fonts') / face['file'], lazy=True)
        if ord(char) in font.getBestCmap():
            having.add((family, face['weight'], face['style']))
        font.close()
    return [family for family in families
            if any((family, face['weight'], face['style']) not in having
                   for face in faces if (face.get('fallback_for') or face['family']) == family)]


def glyph_error(project, relative, field, char, occurrence=1):
    line, col = project.position(relative, char, occurrence)
    families = ', '.join(families_without(project, char))
    assert families, f'{char!r} is in every font: pick another character'
    return (f"{relative}:{line}:{col}: {field}: {char!r} (U+{ord(char):04X}) has no glyph "
            f"in the layout's fonts ({families})")


def test_the_untouched_project_checks_clean(project):
    run = check(project, code=0, fresh=True)  # python render.py check, as a user runs it
    assert run.error_lines == []


# One problem, one line

def test_unknown_field_suggests_the_known_one(project):
    project.replace(KK, '\nintro:\n', '\nintor:\n')
    line, col = project.position(KK, 'intor:')
    top = first_key_position(project, KK)
    run = check(project)
    unknown = f"{KK}:{line}:{col}: unknown field 'intor' (did you mean 'intro'?)"
    assert unknown in run.error_lines, run.error_lines
    # 'intro' is missing now too; if that is said, it is said at the top of the file.
    for other in run.error_lines:
        assert other == unknown or re.fullmatch(
            rf"{re.escape(KK)}:{top[0]}:{top[1]}: missing field 'intro'( .*)?", other), other


def test_eight_facts(project):
    start = project.read(KY).index('  - text: >-\n      Фонд Википедиянын')
    end = project.read(KY).index('  - text:', start + 5)
    project.write(KY, project.read(KY)[:start] + project.read(KY)[end:])
    # Said at the last fact there is, where the ninth would go after it.
    line, col = project.position(KY, '- text:', occurrence=8)
    run = check(project)
    assert run.error_lines == [
        f'{KY}:{line}:{col + 2}: facts: the nine-facts layout needs 9 facts, found 8']


def test_ten_facts(project):
    text = project.read(KK)
    project.write(KK, text.rstrip('\n') + '\n  - text: Оныншы факт.\n')
    line, col = project.position(KK, '- text: Оныншы')
    run = check(project)
    assert run.error_lines == [
        f'{KK}:{line}:{col + 2}: facts: the nine-facts layout needs 9 facts, found 10']


def test_a_list_where_the_title_goes(project):
    project.replace(KK, 'title: АШЫҚ ҚОҒАМ ҚАЗАҚСТАНДА\n',
                    'title:\n  - АШЫҚ ҚОҒАМ\n  - ҚАЗАҚСТАНДА\n')
    line, col = project.position(KK, '- АШЫҚ ҚОҒАМ')
    run = check(project)
    assert run.error_lines == [f'{KK}:{line}:{col}: title: expected text, found a list']


def test_missing_required_field(project):
    top = first_key_position(project, KK)
    project.replace(KK, 'facts_title: 9 МӘЛІМЕТ\n', '')
    run = check(project)
    assert len(run.error_lines) == 1, run.error_lines
    assert re.fullmatch(rf"{re.escape(KK)}:{top[0]}:{top[1]}: missing field 'facts_title'( .*)?",
                        run.error_lines[0]), run.error_lines


def test_character_without_a_glyph(project):
    project.replace(KK, 'шалдыққан жандарға', f'шалдыққан {THAI_KO}жандарға')
    run = check(project)
    assert run.error_lines == [glyph_error(project, KK, 'facts[4].text', THAI_KO)]


def test_armenian_and_georgian_come_from_the_script_faces(project):
    """Noto Serif and Inter have no Armenian or Georgian; the layout's faces for those
    scripts (``script:``) give every weight and style of both families their glyphs."""
    faces = yaml.safe_load(project.read(LAYOUT))['fonts']

    def key(face):
        return face.get('fallback_for') or face['family'], face['weight'], face['style']

    for char in ('\u0561', '\u0589', '\u10d0'):  # ա, ։ (Armenian full stop), ა
        having = {key(face) for face in faces
                  if ord(char) in TTFont(project.path('fonts') / face['file']).getBestCmap()}
        assert having == {key(face) for face in faces}, char
        assert not any(ord(char) in TTFont(project.path('fonts') / face['file']).getBestCmap()
                       for face in faces if 'script' not in face), char
    project.replace(KK, 'шалдыққан жандарға', 'шалдыққан \u0561\u0589 \u10d0 жандарға')
    # Only warnings (the translations of kk now lag behind it), no glyph error.
    assert [line for line in check(project, code=0).error_lines
            if not line.startswith('warning:')] == []


def test_character_without_a_glyph_in_kyrgyz_intro(project):
    devanagari = '\u0915'  # क: no face has it
    project.replace(KY, 'өзгөчөлөнгөн грант', f'өзгөчөлөнгөн {devanagari} грант')
    run = check(project)
    assert run.error_lines == [glyph_error(project, KY, 'intro[2]', devanagari)]


# Characters that draw nothing: default-ignorable (Unicode's Default_Ignorable_Code_Point)

IGNORABLES = '\u2060\ufe0f\u034f\u200b\U000e0001'  # word joiner, VS16, CGJ, ZWSP, tag


def test_default_ignorable_characters_need_no_glyph(project):
    lacking = [char for char in IGNORABLES if families_without(project, char)]
    assert '\ufe0f' in lacking, 'a test that cannot fail: pick characters a font lacks'
    project.replace(KY, 'мугалимдердин квалификациясын',
                    f'мугалимдердин{IGNORABLES} квали\u00adфикациясын')
    assert check(project, 'kyrgyzstan/ky', code=0).error_lines == []


def test_an_ignorable_that_is_drawn_needs_a_glyph_and_shows_escaped(project):
    """HarfBuzz draws the Hangul fillers with the font's glyph: not ignorable for us."""
    filler = '\u3164'
    project.replace(KY, 'мугалимдердин квалификациясын', f'мугалимдердин{filler}квалификациясын')
    line, col = project.position(KY, filler)
    families = ', '.join(families_without(project, filler))
    run = check(project, 'kyrgyzstan/ky')
    assert run.error_lines == [f"{KY}:{line}:{col}: facts[1].text: '\\u3164' (U+3164) has no "
                               f"glyph in the layout's fonts ({families})"]


def test_ignorables_are_not_looked_for_in_the_pdf_text():
    from bindery import fonts, textcheck

    assert all(fonts.ignorable(char) for char in IGNORABLES + '\u00ad\u200d')
    assert not any(fonts.ignorable(char) for char in 'a \u3164\u115f\u00a0')
    assert textcheck.words(f'Мугалим{IGNORABLES}дердин квали\u00adфикациясы') == [
        'мугалимдердин', 'квалификациясы']


def test_a_byte_order_mark_before_a_key_is_shown(project):
    project.replace(KY, '\nfacts_title:', '\n\ufefffacts_title:')
    line, col = project.position(KY, '\ufefffacts_title')
    top = first_key_position(project, KY)
    run = check(project, 'kyrgyzstan/ky')
    assert f"{KY}:{line}:{col}: unknown field '\\ufefffacts_title' (did you mean " \
           "'facts_title'? delete the invisible U+FEFF)" in run.error_lines, run.error_lines
    assert any(error.startswith(f"{KY}:{top[0]}:{top[1]}: missing field 'facts_title'")
               for error in run.error_lines), run.error_lines


def test_a_language_that_is_a_path_is_no_language_code(project):
    project.replace(KY, 'lang: ky', 'lang: "../../tmp/x"')
    line, col = project.position(KY, '"../../tmp/x"')
    run = check(project, 'kyrgyzstan/ky')
    assert run.error_lines == [f"{KY}:{line}:{col}: lang: '../../tmp/x' is not a language "
                               'code (such as kk, ky, ru or zh_Hant)']


def test_duplicate_key(project):
    first, _ = project.position(KK, 'title: АШЫҚ')
    project.replace(KK, '\nfacts:\n', '\ntitle: Екінші тақырып\nfacts:\n')
    line, col = project.position(KK, 'title: Екінші')
    run = check(project)
    assert len(run.error_lines) == 1, run.error_lines
    prefix = f'{KK}:{line}:{col}: title: '
    assert run.error_lines[0].startswith(prefix), run.error_lines
    message = run.error_lines[0][len(prefix):]
    assert 'duplicate' in message and str(first) in message, message


def test_yaml_syntax_error(project):
    project.replace(KK, 'title: АШЫҚ ҚОҒАМ', 'title: АШЫҚ: ҚОҒАМ')
    line, col = project.position(KK, ': ҚОҒАМ')
    run = check(project)
    assert len(run.error_lines) == 1, run.error_lines
    assert run.error_lines[0].startswith(f'{KK}:{line}:{col}: '), run.error_lines
    assert 'YAML' in run.error_lines[0]


def test_a_second_yaml_document_is_said_in_a_sentence(project):
    project.write(KK, project.read(KK) + '---\ntitle: Екінші\n')
    line, col = project.position(KK, '---\ntitle')
    run = check(project, 'kazakhstan/kk')
    assert run.error_lines == [f'{KK}:{line}:{col}: YAML syntax: a second YAML document starts '
                               'here (---); a content file holds one: delete the line, or '
                               'what follows it']


def test_invalid_utf8(project):
    line, col = project.position(KK, 'журналистика')
    raw = project.path(KK).read_bytes()
    project.write(KK, raw.replace('журналистика'.encode(), b'\xff' + 'урналистика'.encode()))
    run = check(project)
    assert len(run.error_lines) == 1, run.error_lines
    assert run.error_lines[0].startswith(f'{KK}:{line}:{col}: '), run.error_lines
    assert 'UTF-8' in run.error_lines[0] and '0xff' in run.error_lines[0].lower()


def test_bidi_override_in_content(project):
    project.replace(KK, 'Step by\n      Step', 'Step by\n      \u202eStep')
    line, col = project.position(KK, '\u202e')
    run = check(project)
    assert len(run.error_lines) == 1, run.error_lines
    assert run.error_lines[0].startswith(f'{KK}:{line}:{col}: '), run.error_lines
    assert 'U+202E' in run.error_lines[0]


@pytest.mark.parametrize('args', [
    ['check', 'nowhere/xx'], ['nowhere/xx'], ['check', 'atlantis'], ['--no-such-option'],
    ['-j', '-1']])
def test_usage_errors_exit_2(project, tmp_path, args):
    out = tmp_path / 'out'
    run = project.run(*args, '--out', out, fresh=True)  # argparse's exits, as they are
    assert run.returncode == 2, str(run)
    assert 'Traceback' not in run.stdout + run.stderr, str(run)
    assert run.error_lines, 'a usage error says what is wrong'
    target = args[-1]
    if not target.startswith('-'):
        assert any(target in line for line in run.error_lines), run.error_lines
    assert not out.exists(), 'a usage error built something'


def test_a_product_and_a_country_name_that_country_s_editions_of_that_product():
    from bindery.cli import select
    from bindery.manifest import load_booklets

    booklets, _ = load_booklets(Path(__file__).resolve().parent.parent)
    poster = next(booklet for booklet in booklets if booklet.name == 'poster')
    chosen = [(booklet.name, country, lang)
              for booklet, country, lang in select(booklets, ['poster/kyrgyzstan'])]
    assert chosen == [('poster', country, lang) for country, lang in poster.editions
                      if country == 'kyrgyzstan']
    assert len(chosen) == 3  # ky, ru, en


@pytest.mark.parametrize('args', [['check'], ['check', 'nowhere/xx'], ['-j', '-1']])
def test_a_run_in_process_says_what_python_render_py_says(project, args):
    """Most runs of render.py in this suite go through ``bindery.cli.main`` in the
    test's own process (conftest.run_in_process): for broken content, an unknown
    target and a bad option it prints what ``python render.py`` prints, byte
    for byte, and exits with the same code."""
    project.replace(KK, '\nintro:\n', '\nintor:\n')
    args = [*args, '--out', project.path('out')]
    inside, fresh = project.run(*args), project.run(*args, fresh=True)
    assert (inside.door, fresh.door) == ('in-process', 'python')
    assert (inside.returncode, inside.stdout, inside.stderr) == (
        fresh.returncode, fresh.stdout, fresh.stderr), f'{inside}\n{fresh}'
    assert inside.returncode in (1, 2) and inside.error_lines, str(inside)


# Several problems: all of them at once

def test_two_problems_in_one_file_give_two_lines(project):
    project.replace(KK, 'title: АШЫҚ ҚОҒАМ ҚАЗАҚСТАНДА\n',
                    'title:\n  - АШЫҚ ҚОҒАМ\n  - ҚАЗАҚСТАНДА\n')
    project.replace(KK, 'facts_kicker: СОРОС', 'facts_kicker:\n  - СОРОС')
    title = project.position(KK, '- АШЫҚ ҚОҒАМ')
    kicker = project.position(KK, '- СОРОС')
    run = check(project)
    assert run.error_lines == [
        f'{KK}:{title[0]}:{title[1]}: title: expected text, found a list',
        f'{KK}:{kicker[0]}:{kicker[1]}: facts_kicker: expected text, found a list']


def test_two_missing_glyphs_give_two_lines(project):
    project.replace(KK, 'шалдыққан жандарға', f'шалдыққан {THAI_KO}жандарға')
    project.replace(KK, 'журналистика саласында', f'журналистика{THAI_KO} саласында')
    run = check(project)
    assert run.error_lines == [
        glyph_error(project, KK, 'facts[3].text', THAI_KO, occurrence=1),
        glyph_error(project, KK, 'facts[4].text', THAI_KO, occurrence=2)]


def test_problems_in_both_editions_are_all_reported(project):
    project.replace(KK, 'title: АШЫҚ ҚОҒАМ ҚАЗАҚСТАНДА\n',
                    'title:\n  - АШЫҚ ҚОҒАМ\n  - ҚАЗАҚСТАНДА\n')
    project.replace(KY, 'өзгөчөлөнгөн грант', f'өзгөчөлөнгөн {THAI_KO} грант')
    title = project.position(KK, '- АШЫҚ ҚОҒАМ')
    run = check(project)
    assert sorted(run.error_lines) == sorted([
        f'{KK}:{title[0]}:{title[1]}: title: expected text, found a list',
        glyph_error(project, KY, 'intro[2]', THAI_KO)])


def test_schema_error_and_missing_glyph_give_two_lines(project):
    project.replace(KK, 'title: АШЫҚ ҚОҒАМ ҚАЗАҚСТАНДА\n',
                    'title:\n  - АШЫҚ ҚОҒАМ\n  - ҚАЗАҚСТАНДА\n')
    project.replace(KK, 'шалдыққан жандарға', f'шалдыққан {THAI_KO}жандарға')
    title = project.position(KK, '- АШЫҚ ҚОҒАМ')
    run = check(project)
    assert run.error_lines == [
        f'{KK}:{title[0]}:{title[1]}: title: expected text, found a list',
        glyph_error(project, KK, 'facts[4].text', THAI_KO)]


def test_fact_count_and_missing_glyph_give_two_lines(project):
    start = project.read(KY).index('  - text: >-\n      Фонд Википедиянын')
    end = project.read(KY).index('  - text:', start + 5)
    project.write(KY, project.read(KY)[:start] + project.read(KY)[end:])
    project.replace(KY, 'өзгөчөлөнгөн грант', f'өзгөчөлөнгөн {THAI_KO} грант')
    line, col = project.position(KY, '- text:', occurrence=8)
    run = check(project)
    assert run.error_lines == [
        glyph_error(project, KY, 'intro[2]', THAI_KO),
        f'{KY}:{line}:{col + 2}: facts: the nine-facts layout needs 9 facts, found 8']


# The same mistakes stop a build, for that edition only

def test_a_build_reports_the_same_line_and_builds_the_other_edition(project, tmp_path):
    project.replace(KK, 'шалдыққан жандарға', f'шалдыққан {THAI_KO}жандарға')
    out = tmp_path / 'out'
    run = project.run('--out', out)
    assert run.returncode == 1, str(run)
    assert 'Traceback' not in run.stdout + run.stderr, str(run)
    assert glyph_error(project, KK, 'facts[4].text', THAI_KO) in run.error_lines
    for path in output_paths(out, 'kazakhstan', 'kk').values():
        assert not path.exists(), f'{path.name} left for a failed edition'
    for path in output_paths(out, 'kyrgyzstan', 'ky').values():
        assert path.is_file(), f'{path.name} not built for the good edition'


def test_css_weasyprint_cannot_draw_fails_the_edition_with_a_reason(project, tmp_path):
    """A gradient between two of the layout's (CMYK) colours: WeasyPrint 70 parses
    it and then cannot draw it. The edition fails with a reason, not a traceback."""
    css = 'layouts/nine-facts/booklet.css'
    project.write(css, project.read(css) + (
        '\n.intro-title { background: linear-gradient(var(--navy), var(--amber)); }\n'))
    run = project.run('--out', tmp_path / 'out', 'kazakhstan/kk')
    assert run.returncode == 1, str(run)
    assert 'Traceback' not in run.stderr and 'bug in bindery' not in run.stderr, run.stderr
    assert any('kazakhstan/kk' in line and 'cannot draw' in line and 'gradient' in line
               for line in run.error_lines), run.error_lines


def test_a_cmyk_colour_in_a_blurred_shadow_fails_the_edition_with_a_reason(project, tmp_path):
    """WeasyPrint 70 draws a blurred box-shadow of a device-cmyk() colour by
    failing an assertion: that one AssertionError, known by where it is raised,
    is the layout's limit, said as such; any other would be a bug."""
    css = 'layouts/nine-facts/booklet.css'
    project.write(css, project.read(css) + (
        '\n.intro-title { box-shadow: 1mm 1mm 2mm var(--navy); }\n'))
    run = project.run('--out', tmp_path / 'out', 'kazakhstan/kk')
    assert run.returncode == 1, str(run)
    assert 'Traceback' not in run.stderr and 'bug in bindery' not in run.stderr, run.stderr
    assert any('kazakhstan/kk' in line and 'cannot draw' in line and 'box-shadow' in line
               for line in run.error_lines), run.error_lines
