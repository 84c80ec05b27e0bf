"""Hyphenation of kk, ky, tg, hy, ka: the rules' examples, the patterns, WeasyPrint, the reports."""

# The word lists are tests/data/hyphenation-<lang>.txt, each example with its
# source. The dictionaries are remade and checked with
# .venv/bin/python tools/make-hyphenation.py (kk, ky, tg) and
# tools/tex-hyphenation.py (hy, ka, from TeX's patterns).

import html
import importlib.util
import logging
import re
import subprocess
import sys
from pathlib import Path

import pyphen
import pytest

from bindery import hyphenation
from bindery.hyphenation import breaks, dictionary_path, is_abbreviation

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / 'data'
SEEDS = Path(__file__).resolve().parent / 'fixtures' / 'seeds'
SEED = {'kk': SEEDS / '000_66f7a2c93d37a244.txt', 'ky': SEEDS / '004_6346bdd40dba20a4.txt'}
FONT = ROOT / 'fonts' / 'noto-serif' / 'NotoSerif-Regular.ttf'
LANGS = ('kk', 'ky', 'tg')
#: The languages with a booklet text to check on (tg has none yet).
SEEDED = ('kk', 'ky')
TEX_LANGS = ('hy', 'ka')
#: The hyphen WeasyPrint puts at a line end when the font has it.
HYPHEN = '\u2010'
#: The letters of a word, Cyrillic or Latin.
WORD = re.compile(r'[^\W\d_]+')


def _load_tool(name='make-hyphenation'):
    spec = importlib.util.spec_from_file_location(name.replace('-', '_'),
                                                  ROOT / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _load_tool()
TEX_TOOL = _load_tool('tex-hyphenation')


def word_list(lang):
    """``[(line number, word, expected points)]`` of the test list of ``lang``."""
    entries = []
    path = DATA / f'hyphenation-{lang}.txt'
    for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
        marked = line.split('#', 1)[0].strip()
        if marked:
            pieces = marked.split('-')
            points = [sum(map(len, pieces[:index])) for index in range(1, len(pieces))]
            entries.append((number, ''.join(pieces), points))
    return entries


def seed_words(lang):
    if lang not in SEED:
        return []
    return sorted(set(WORD.findall(SEED[lang].read_text(encoding='utf-8'))))


@pytest.mark.parametrize('lang', LANGS)
def test_rules_give_the_listed_breaks(lang):
    wrong = [f'hyphenation-{lang}.txt:{number}: {word}: expected {points}, '
             f'rules give {breaks(word, lang)}'
             for number, word, points in word_list(lang) if breaks(word, lang) != points]
    assert not wrong, '\n'.join(wrong)


@pytest.mark.parametrize('lang', SEEDED)
def test_word_lists_cover_the_booklets(lang):
    listed = {word for _, word, _ in word_list(lang)}
    missing = [word for word in seed_words(lang)
               if hyphenation.kinds(word.lower(), lang) is not None and word not in listed]
    assert not missing


@pytest.mark.parametrize('lang', LANGS)
def test_dictionary_is_up_to_date(lang):
    text = dictionary_path(lang).read_text(encoding='utf-8')
    assert text == TOOL.dictionary_text(lang), 'run tools/make-hyphenation.py'
    assert text.splitlines()[:3] == ['UTF-8', 'LEFTHYPHENMIN 2', 'RIGHTHYPHENMIN 2']


@pytest.mark.parametrize('lang', LANGS)
def test_patterns_agree_with_rules_on_every_short_word(lang):
    # Each letter of SAMPLE_LETTERS stands for a class the patterns were
    # expanded over, so these words reach every pattern family.
    words = TOOL.sample_words(5, lang)
    assert TOOL.mismatches(lang, dictionary_path(lang), words) == []


@pytest.mark.parametrize('lang', LANGS)
def test_patterns_agree_with_rules_on_listed_and_booklet_words(lang):
    words = {word.lower() for _, word, _ in word_list(lang)} | {
        word.lower() for word in seed_words(lang)}
    assert TOOL.mismatches(lang, dictionary_path(lang), words) == []


@pytest.mark.parametrize('lang', LANGS)
def test_registered_language_hyphenates_as_the_rules(lang):
    hyphenation.register()
    hyphenation.register()  # twice is harmless
    dictionary = pyphen.Pyphen(lang=lang)  # what WeasyPrint asks for, left = right = 2
    words = [word for _, word, _ in word_list(lang)] + seed_words(lang)
    wrong = [(word, breaks(word, lang), dictionary.positions(word)) for word in words
             if hyphenation.kinds(word.lower(), lang) is not None
             and dictionary.positions(word) != breaks(word, lang)]
    assert not wrong


@pytest.mark.parametrize('code, lang', [('kk', 'kk'), ('kk-KZ', 'kk'), ('KK_kz', 'kk'),
                                        ('kk-Cyrl-KZ', 'kk'), ('ky', 'ky'), ('ky-KG', 'ky'),
                                        ('tg', 'tg'), ('tg-TJ', 'tg'), ('tg-Cyrl-TJ', 'tg'),
                                        ('hy', 'hy'), ('hy-AM', 'hy'), ('ka', 'ka'),
                                        ('ka-GE', 'ka')])
def test_weasyprint_finds_our_dictionary_for(code, lang):
    hyphenation.register()
    found = pyphen.language_fallback(code)  # as weasyprint.text.line_break does
    assert pyphen.LANGUAGES[found] == dictionary_path(lang)


@pytest.mark.parametrize('word', ['СҚК', 'БАҚ', 'ЖОО', 'КАРПОУ', 'СССРдеги', 'ЖОЖдорго',
                                  'ҚАЗАҚСТАНДАҒЫ', 'ҚазҰУ'])
def test_abbreviations_are_never_broken(word):
    hyphenation.register()
    assert is_abbreviation(word)
    for lang in LANGS:
        assert breaks(word, lang) == []
        assert pyphen.Pyphen(lang=lang, left=1, right=1).positions(word) == []
    # The same letters in lower case are an ordinary word.
    assert breaks('карпоу', 'ky') == [3]


@pytest.mark.parametrize('word', ['350дөнүн', '1995жылы', 'COVIDтин', 'Stepтің'])
def test_words_with_digits_or_latin_letters_are_never_broken(word):
    # Patterns would break the Cyrillic end (350дө-нүн): a pattern sees only a
    # few letters, so register() looks at the whole word.
    hyphenation.register()
    for lang in LANGS:
        assert breaks(word, lang) == []
        assert pyphen.Pyphen(lang=lang, left=1, right=1).positions(word) == []


@pytest.mark.parametrize('lang, word', [('kk', 'төрт'), ('kk', 'жұрт'), ('kk', 'взвод'),
                                        ('kk', 'пункт'), ('ky', 'суук'), ('ky', 'таан'),
                                        ('ky', 'Кремль'), ('ky', 'тоо')])
def test_one_syllable_words_are_never_broken(lang, word):
    hyphenation.register()
    assert breaks(word, lang) == []
    assert pyphen.Pyphen(lang=lang, left=1, right=1).positions(word) == []


# WeasyPrint: a narrow justified column, then the line ends read back from the PDF.

def _paragraphs(lang):
    """The seed's prose, without its Markdown marks: long words, abbreviations."""
    text = SEED[lang].read_text(encoding='utf-8')
    text = re.sub(r'[#*\\$]', ' ', text)
    return [' '.join(block.split()) for block in re.split(r'\n\s*\n', text)
            if len(block.split()) > 8]


def _render(lang, paragraphs, tmp_path):
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    hyphenation.register()
    body = ''.join(f'<p>{html.escape(paragraph)}</p>' for paragraph in paragraphs)
    page = f'''<html lang="{lang}"><head><style>
      @font-face {{ font-family: Serif; src: url('{FONT.as_uri()}'); }}
      @page {{ size: 80mm 600mm; margin: 5mm; }}
      p {{ font-family: Serif; font-size: 9pt; width: 32mm; text-align: justify;
          hyphens: auto; margin: 0 0 3mm; }}
    </style></head><body>{body}</body></html>'''
    fonts = FontConfiguration()
    target = tmp_path / f'{lang}.pdf'
    HTML(string=page, base_url=str(ROOT)).write_pdf(target, font_config=fonts)
    done = subprocess.run(['pdftotext', '-raw', '-enc', 'UTF-8', str(target), '-'],
                          capture_output=True, check=True)
    return done.stdout.decode('utf-8')


def _hyphenated_words(text):
    """``(word, points)`` for each word WeasyPrint hyphenated at line ends; a
    long word may run over three lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    found, pieces = [], None
    for line in lines:
        words = WORD.findall(line)
        if pieces is not None:
            assert words and line.startswith(words[0]), f'no word goes on: {line!r}'
            pieces.append(words[0])
            if len(words) == 1 and line.endswith(HYPHEN):
                continue
            points = [sum(map(len, pieces[:index])) for index in range(1, len(pieces))]
            found.append((''.join(pieces), points))
            pieces = None
        if line.endswith(HYPHEN):
            pieces = [words[-1]]
    return found


@pytest.fixture
def quiet_weasyprint(caplog):
    """Fail on any warning WeasyPrint logs (a missing font, a CSS mistake)."""
    with caplog.at_level(logging.WARNING, logger='weasyprint'):
        yield
    assert not caplog.records, [record.getMessage() for record in caplog.records]


@pytest.mark.parametrize('lang', SEEDED)
def test_weasyprint_breaks_lines_only_where_the_rules_allow(lang, tmp_path, quiet_weasyprint):
    paragraphs = _paragraphs(lang)
    text = _render(lang, paragraphs, tmp_path)
    source_words = set(WORD.findall(' '.join(paragraphs)))
    hyphenated = _hyphenated_words(text)
    assert len(hyphenated) >= 15, 'the column should force many hyphenated line ends'
    wrong = []
    for word, points in hyphenated:
        assert word in source_words, f'{word} {points}: not a word of the text'
        if not set(points) <= set(breaks(word, lang)):
            wrong.append(f'{word} {points}: the rules allow only {breaks(word, lang)}')
    assert not wrong, '\n'.join(wrong)
    # U+2010 only ever ends a line: nothing else in the text puts one there.
    assert all(line.rstrip().endswith(HYPHEN) for line in text.splitlines() if HYPHEN in line)


@pytest.mark.parametrize('lang, words', [
    ('kk', 'СҚК БАҚ АҚШ ЖОО ҚАЗАҚСТАНДАҒЫ КАРПОУЛАРДЫҢ төрт жұрт взвод пункт'),
    ('ky', 'КАРПОУ СССРдеги ЖОЖдорго АКШ КЫРГЫЗСТАНДАГЫ суук таан Кремль тоо'),
])
def test_weasyprint_keeps_abbreviations_and_one_syllable_words_whole(
        lang, words, tmp_path, quiet_weasyprint):
    # Each word repeated with long words around it, in a column narrower than
    # the abbreviations: any break would have to be inside one of them.
    filler = {'kk': 'мемлекеттік', 'ky': 'мамлекеттик'}[lang]
    paragraph = ' '.join(f'{filler} {word}' for word in words.split() * 4)
    text = _render(lang, [paragraph], tmp_path)
    for word, points in _hyphenated_words(text):
        assert word == filler, f'{word} broken at {points}'


# Tajik in WeasyPrint: the Universal Declaration's first article and the rules'
# own examples, in a column narrow enough to break many of them.
TAJIK = ('Тамоми одамон озод ба дунё меоянд ва аз лиҳози манзалату ҳуқуқ бо ҳам '
         'баробаранд. Ҳама соҳиби ақлу виҷдонанд ва бояд бо якдигар муносибати '
         'бародарона дошта бошанд. ' + ' '.join(word for _, word, points in word_list('tg')
                                               if points) + ' ҶТ ИМА')


def test_weasyprint_breaks_tajik_only_where_the_rules_allow(tmp_path, quiet_weasyprint):
    text = _render('tg', [TAJIK] * 3, tmp_path)
    hyphenated = _hyphenated_words(text)
    assert len(hyphenated) >= 15, 'the column should force many hyphenated line ends'
    source_words = set(WORD.findall(TAJIK))
    wrong = [f'{word} {points}: the rules allow only {breaks(word, "tg")}'
             for word, points in hyphenated
             if word not in source_words or not set(points) <= set(breaks(word, 'tg'))]
    assert not wrong, '\n'.join(wrong)
    assert {'ҷ', 'ӣ', 'ӯ', 'ҳ', 'қ'} <= set(text)  # the letters copy out of the PDF


# Armenian and Georgian: TeX's patterns, converted and corrected.

@pytest.mark.parametrize('lang', TEX_LANGS)
def test_tex_dictionary_is_up_to_date(lang):
    text = dictionary_path(lang).read_text(encoding='utf-8')
    assert text == TEX_TOOL.dictionary_text(lang), 'run tools/tex-hyphenation.py'
    assert text.splitlines()[:3] == ['UTF-8', 'LEFTHYPHENMIN 2', 'RIGHTHYPHENMIN 2']
    # The licence of the source travels with the patterns.
    assert {'hy': 'LGPL', 'ka': 'LPPL'}[lang] in text


@pytest.mark.parametrize('lang', TEX_LANGS)
def test_tex_word_lists_follow_the_rules_and_the_dictionary_follows_them(lang):
    problems, counts = TEX_TOOL.check(lang)
    assert not problems, '\n'.join(problems)
    assert counts['wrong'] == counts['missed'] == 0 and counts['right'] > 40


@pytest.mark.parametrize('lang, word, wrong', [
    ('hy', 'հարևան', 4),     # TeX: հարև-ան; the rules write հա-րե-վան
    ('hy', 'թևավոր', 2),     # TeX: թև-ավոր; the rules write թե-վավոր
    ('ka', 'ანსამბლს', 5),   # TeX: ანსამ-ბლს, a piece without a vowel
    ('ka', 'ხუთწლიან', 2),   # TeX: ხუ-თწლიან; the rules: ხუთ-წლი-ან
    ('ka', 'სადგურს', 3),    # TeX: სად-გურს parts the harmonic cluster დგ
])
def test_what_tex_gets_wrong_is_corrected(lang, word, wrong, tmp_path):
    # Check, don't trust: TeX's own patterns break here, ours do not.
    assert wrong in TEX_TOOL.tex_only(lang, tmp_path).positions(word)
    hyphenation.register()
    assert wrong not in pyphen.Pyphen(lang=lang, left=2, right=2).positions(word)


def test_tex_armenian_never_breaks_between_consonants_and_ours_does():
    hyphenation.register()
    ours = pyphen.Pyphen(lang='hy', left=2, right=2)
    assert ours.positions('կարդալ') == [3]      # կար-դալ
    assert ours.positions('լուսամուտ') == [3, 5]  # լու-սա-մուտ: ու is one vowel
    assert ours.positions('հետաքրքրվել') == [2]  # no break needing an unwritten ը


@pytest.mark.parametrize('lang, kind', [
    ('kk', 'ours'), ('ky-KG', 'ours'), ('tg', 'ours'), ('hy', 'tex'), ('ka-GE', 'tex'),
    ('ru', 'pyphen'), ('en', 'pyphen'), ('mn', 'pyphen'), ('xx', 'none'), ('uz', 'none')])
def test_source_names_each_languages_hyphenation(lang, kind):
    assert hyphenation.source(lang)[0] == kind


# No silent language: each language's hyphenation is named, and justified text
# in a language with none is a warning with its widest word space.

UZBEK = ("Barcha odamlar erkin, qadr-qimmat va huquqlarda teng bo'lib tug'iladilar. Ular "
         "aql va vijdon sohibidirlar va bir-birlari ila birodarlarcha muomala qilishlari "
         "zarur. Ochiq jamiyat fondi ko'p yillar davomida ta'lim, sog'liqni saqlash va "
         "inson huquqlarini qo'llab-quvvatlab kelgan.")


@pytest.mark.parametrize('lang, source, dictionary', [
    ('tg-TJ', 'ours', 'hyph_tg.dic'), ('hy', 'tex', 'hyph_hy.dic'),
    ('ru', 'pyphen', 'hyph_ru_RU.dic'), ('uz', 'none', None)])
def test_describe_names_source_and_file(lang, source, dictionary):
    info = hyphenation.describe(lang)
    assert (info['source'], info['dictionary']) == (source, dictionary)
    assert (dictionary or 'none') in info['label']


def test_justified_text_without_hyphenation_is_a_warning_with_its_word_spaces(tmp_path):
    from bindery import preflight

    _render('uz', [UZBEK] * 3, tmp_path)
    info, warning = preflight.hyphenation_report(tmp_path / 'uz.pdf', 'uz')
    assert info['source'] == 'none'
    # A 32 mm column of unhyphenated text: wide spaces, measured from the PDF.
    assert info['word_space_max_pt'] >= info['word_space_p99_pt'] > 3
    assert warning and f"word spaces up to {info['word_space_max_pt']} pt" in warning
    assert info['warning'] == warning
    # The same measure in Tajik, which is hyphenated: no warning.
    _render('tg', [TAJIK], tmp_path)
    info, warning = preflight.hyphenation_report(tmp_path / 'tg.pdf', 'tg')
    assert info['source'] == 'ours' and warning is None and info['word_space_p99_pt'] > 0


def test_build_and_check_name_each_languages_hyphenation(capsys):
    from bindery import report

    report.print_hyphenation(['uz', 'tg', 'kk', 'tg'], warn=True)
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "hyphenation kk: the project's own, from the spelling rules (hyph_kk.dic)",
        "hyphenation tg: the project's own, from the spelling rules (hyph_tg.dic)"]
    assert err.startswith('warning: uz: no hyphenation dictionary')


@pytest.mark.parametrize('lang, text, marked', [
    ('tg', 'Ҷумҳурии Тоҷикистон', 'Ҷум-ҳу-рии То-ҷи-кис-тон'),
    ('hy', 'Երևանում հարևան գրականություն', 'Երևա-նում հա-րևան գրա-կա-նութ-յուն'),
    ('ka-GE', 'საქართველოს დამოუკიდებლობა', 'სა-ქარ-თვე-ლოს და-მო-უ-კი-დებ-ლო-ბა'),
])
def test_the_hyphenate_filter_marks_the_new_languages(lang, text, marked):
    # What the templates do: soft hyphens in the HTML, hyphens: manual.
    from jinja2 import Environment

    from bindery.layouts import FILTERS

    env = Environment()
    env.filters.update(FILTERS)
    out = env.from_string('{{ text | hyphenate }}').render(text=text, lang=lang)
    assert out == marked.replace('-', '\u00ad')


def test_check_names_hyphenation_and_warns_of_a_language_without(project):
    from bindery.scaffold import new_edition

    new_edition(project.root, 'uzbekistan', 'uz', say=lambda line: None)
    # python render.py: pyphen's languages as a new process has them, not as
    # this module's tests left them.
    run = project.run('check', 'uzbekistan/uz', 'kazakhstan/kk', fresh=True)
    assert 'Traceback' not in run.stderr, str(run)
    assert "hyphenation kk: the project's own, from the spelling rules (hyph_kk.dic)" \
        in run.stdout.splitlines(), str(run)
    assert [line for line in run.stderr.splitlines() if 'hyphenation' in line] == [
        "warning: uz: no hyphenation dictionary (neither the project's nor pyphen's): "
        'justified text in uz will not be hyphenated'], str(run)


def test_a_language_s_patterns_are_parsed_when_it_is_first_hyphenated_and_only_then():
    """Parsing all five of our dictionaries cost the first edition of every
    worker 0.12 s; each is parsed when a text in its language is hyphenated,
    and it is then the case-aware one (an abbreviation stays whole)."""
    script = """
import pyphen
from bindery import hyphenation
from bindery.layouts import _dictionary
hyphenation.register()
names = lambda: sorted(path.name for path in hyphenation._PARSED)
_dictionary('en', 2, 2).inserted('hyphenation')
print(names())
kazakh = _dictionary('kk', 2, 2)
print(kazakh.positions('КАРПОУ'), len(kazakh.positions('университеттің')))
print(names())
dictionary = pyphen.Pyphen(lang='ky')
print(names(), type(dictionary.hd).__name__)
"""
    done = subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == '[]'
    assert lines[1].startswith('[] ') and int(lines[1].split()[1]) >= 3  # у-ни-вер-си-тет-тің
    assert lines[2] == "['hyph_kk.dic']"
    assert lines[3] == "['hyph_kk.dic', 'hyph_ky.dic'] _CaseAwareDict"


def test_a_missing_dictionary_is_said_not_a_traceback(project):
    """hyph_kk.dic deleted from the project: `check` passes with a warning and
    the build names the missing file where it names each language's
    hyphenation; the Kazakh edition still builds, its words unbroken."""
    project.path('hyphenation/hyph_kk.dic').unlink()
    checked = project.run('check', 'kazakhstan/kk', fresh=True)
    assert checked.returncode == 0, str(checked)
    assert 'Traceback' not in checked.stdout + checked.stderr, str(checked)
    assert 'warning: kk: no hyphenation dictionary' in checked.stderr, str(checked)
    built = project.run('nine-facts/kazakhstan/kk', '--out', project.path('out'),
                        fresh=True)
    assert built.returncode == 0, str(built)
    assert ('hyphenation kk: none: hyphenation/hyph_kk.dic is missing (make it again with '
            'tools/make-hyphenation.py), words are never broken') in built.stdout, str(built)
