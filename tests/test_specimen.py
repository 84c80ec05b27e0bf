"""The language specimen: every language the project prints, built, copied out in
order, set in the fonts of fonts/, with the quotes CLDR gives.

The specimen (booklets/specimen.yaml) is built once for the module with
``render.py specimen --out TMP``. Its texts are read from data/specimen/ with
PyYAML, not bindery; the PDFs with poppler, PDFium, pikepdf and fontTools.
"""

import re
import subprocess
from pathlib import Path

import pikepdf
import pytest
import yaml
from fontTools.ttLib import TTFont

from conftest import EXTRACTORS, ROOT, FixtureProject, run_render
from seedtext import document, match, words

#: The languages the project supports: the specimen must have each.
LANGUAGES = ('en', 'hy', 'ka', 'kk', 'ky', 'ru', 'tg')
#: A letter of each script only a script face has, and the family that must set it.
SCRIPT_FACES = {'hy': ('ա', 'notoserifarmenian', 'notosansarmenian'),
                'ka': ('ა', 'notoserifgeorgian', 'notosansgeorgian')}


def _content(lang):
    return yaml.safe_load((ROOT / 'data' / 'specimen' / 'specimen' / f'{lang}.yaml').read_text(
        'utf-8'))


@pytest.fixture(scope='module')
def specimen(tmp_path_factory):
    out = tmp_path_factory.mktemp('specimen')
    run = run_render(['specimen', '--out', out, '-j', '2'], ROOT)
    assert run.returncode == 0, str(run)
    assert 'Traceback' not in run.stdout + run.stderr, str(run)
    return {lang: {output: out / 'specimen' / f'specimen-{lang}-{output}.pdf'
                   for output in ('print', 'screen')} for lang in LANGUAGES}


def test_the_specimen_has_every_supported_language():
    country = yaml.safe_load((ROOT / 'data' / 'specimen' / 'country.yaml').read_text('utf-8'))
    assert sorted(country['languages']) == sorted(LANGUAGES)
    for lang in LANGUAGES:
        edition = yaml.safe_load((ROOT / 'data' / 'specimen' / f'{lang}.yaml').read_text('utf-8'))
        assert edition == {'lang': lang}
        content = _content(lang)
        assert content['article_1']['text'] and content['article_26']['paragraphs']


def _blocks(lang):
    content = _content(lang)
    return [content['udhr_title'], content['article_1']['heading'],
            content['article_1']['text'],  # page 1, as a heading
            content['article_1']['heading'], content['article_1']['text'],  # page 2, justified
            content['article_26']['heading'], *content['article_26']['paragraphs']]


@pytest.mark.parametrize('extractor', ['poppler-raw', 'poppler-default', 'pdfium'])
@pytest.mark.parametrize('output', ['print', 'screen'])
@pytest.mark.parametrize('lang', LANGUAGES)
def test_every_text_extracts_in_order(specimen, lang, output, extractor):
    if (extractor == 'poppler-default' and lang in ('hy', 'ka')
            and not (ROOT / 'hyphenation' / f'hyph_{lang}.dic').is_file()):
        # Unhyphenated, their justified lines open word spaces of 20 pt, which
        # poppler's reading order takes for a gap between columns.
        pytest.xfail(f'no {lang} hyphenation dictionary in hyphenation/')
    doc = document(EXTRACTORS[extractor](specimen[lang][output]))
    start, problems = 0, []
    for block in _blocks(lang):
        end, missing = match(doc, words(block))
        if end < 0:
            problems.append(f'{block[:40]!r}: word {missing[0] + 1} {missing[1]!r}')
    # And in their order: article 1 before article 26 on page 2.
    text = ' '.join(doc[0])
    first = ' '.join(words(_content(lang)['article_1']['text'])[:3])
    last = ' '.join(words(_content(lang)['article_26']['paragraphs'][-1])[-3:])
    assert text.rfind(first) < text.rfind(last), (first, last)
    assert not problems, '\n'.join(problems)


def _font_names(pdf_path):
    names = set()
    with pikepdf.open(pdf_path) as pdf:
        for page in pdf.pages:
            for font in page.resources.get('/Font', {}).values():
                names.add(re.sub(r'^[A-Z]{6}\+', '', str(font.BaseFont)[1:]))
    return names


def _squash(name):
    return re.sub(r'[\s_-]', '', name).lower()


def _families_in_fonts_folder():
    """The family names (name IDs 1 and 16) of every font file in fonts/, squashed."""
    families = set()
    for path in (ROOT / 'fonts').rglob('*.[ot]tf'):
        font = TTFont(path, lazy=True)
        families |= {_squash(record.toUnicode()) for record in font['name'].names
                     if record.nameID in (1, 16)}
        font.close()
    return families


@pytest.mark.parametrize('lang', LANGUAGES)
def test_every_font_comes_from_the_fonts_folder(specimen, lang):
    ours = _families_in_fonts_folder()
    used = _font_names(specimen[lang]['print'])
    assert used
    strangers = [name for name in used if not any(_squash(name).startswith(family)
                                                  for family in ours)]
    assert not strangers, strangers
    with pikepdf.open(specimen[lang]['print']) as pdf:
        for page in pdf.pages:
            for font in page.resources.get('/Font', {}).values():
                descriptor = font.DescendantFonts[0].FontDescriptor
                assert any(key in descriptor for key in ('/FontFile', '/FontFile2',
                                                         '/FontFile3')), font.BaseFont


@pytest.mark.parametrize('lang', sorted(SCRIPT_FACES))
def test_armenian_and_georgian_are_set_in_their_noto_faces(specimen, lang):
    """Both the reading and the display face have a companion for the script; no
    Inter or Noto Serif font draws its letters (they have none)."""
    letter, serif, sans = SCRIPT_FACES[lang]
    used = {_squash(name) for name in _font_names(specimen[lang]['print'])}
    assert any(name.startswith(serif) for name in used), used
    assert any(name.startswith(sans) for name in used), used
    for path in ('noto-serif/NotoSerif-Regular.ttf', 'inter/Inter-Regular.otf'):
        assert ord(letter) not in TTFont(ROOT / 'fonts' / path).getBestCmap()
    # pdffonts (poppler) sees the same fonts, embedded, with a Unicode map.
    listing = subprocess.run(['pdffonts', str(specimen[lang]['screen'])], capture_output=True,
                             check=True, text=True).stdout.splitlines()[2:]
    script_rows = [row for row in listing if serif in _squash(row.split()[0])]
    assert script_rows and all(row.split()[-5:-2] == ['yes', 'yes', 'yes']
                               for row in script_rows), listing


# Quotes: CLDR's, per language

#: CLDR 48 (common/main/<lang>.xml, <delimiters>): outer open and close, inner
#: open and close, as CLDR's own survey tool shows them.
CLDR = {'en': '“”‘’', 'ru': '«»„“', 'kk': '«»“”', 'ky': '«»„“', 'tg': '“”‘’', 'hy': '«»«»',
        'ka': '„“«»', 'de': '„“‚‘', 'fr': '«»«»', 'ja': '「」『』'}


@pytest.mark.parametrize('lang', sorted(CLDR))
def test_quotes_are_cldrs(lang):
    from bindery.typography import typeset

    out = typeset('He said "one "two" three" today', lang)
    outer_open, outer_close, inner_open, inner_close = CLDR[lang]
    assert f'{outer_open}one {inner_open}two{inner_close} three{outer_close}' in out, out


def test_a_language_cldr_lacks_gets_cldrs_root_quotes_not_russian_ones():
    from bindery.typography import typeset

    assert 'said “word”' in typeset('said "word"', 'xx')
    assert '«' not in typeset('said "word"', 'zz')
    assert '«word»' in typeset('"word"', 'kk_XX') and '«' not in typeset('"word"', 'en')


def test_only_the_specimen_makes_the_specimen_editions():
    from bindery import manifest

    booklets = {booklet.name: booklet for booklet in manifest.load_booklets(ROOT)[0]}
    assert sorted(booklets['specimen'].editions) == [('specimen', lang) for lang in LANGUAGES]
    for name, booklet in booklets.items():
        if name != 'specimen':
            assert booklet.editions and all(country != 'specimen'
                                            for country, _ in booklet.editions), name


def test_font_stacks_name_the_script_faces(tmp_path):
    """A font-family that leaves out a script face is refused at its line."""
    project = FixtureProject(tmp_path, booklets=('specimen',))
    assert project.run('check').returncode == 0
    css = 'layouts/specimen/specimen.css'
    text = project.read(css)
    line = next(number for number, row in enumerate(text.splitlines(), 1)
                if row.startswith('.display-title'))
    project.write(css, text.replace(
        "font: 900 22pt/1.15 Inter, 'Noto Sans Armenian', 'Noto Sans Georgian';",
        "font: 900 22pt/1.15 Inter, 'Noto Sans Georgian';"))
    run = project.run('check', 'specimen')
    assert run.returncode == 1, str(run)
    assert any(row.startswith(f'{css}:{line}:') and "'Noto Sans Armenian'" in row
               for row in run.error_lines), run.error_lines


def test_quotes_typed_in_the_languages_own_style_stay_so():
    from bindery.typography import typeset

    assert typeset('„სიტყვა“ და "ორი"', 'ka') == '„სიტყვა“ და „ორი“'
    assert typeset('«բառ» և "երկու" բառ։', 'hy') == '«բառ» և «երկու» բառ։'
