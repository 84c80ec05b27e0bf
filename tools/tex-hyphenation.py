"""Write hyphenation/hyph_hy.dic and hyph_ka.dic: TeX's patterns, with the project's corrections."""

# Usage, from the repository root:
#
#     .venv/bin/python tools/tex-hyphenation.py          # convert both, then check them
#     .venv/bin/python tools/tex-hyphenation.py --check  # exit 1 if a file is stale or wrong
#
# The sources are hyph-utf8's hyph-hy.tex and hyph-ka.tex, kept unchanged in
# hyphenation/tex/ (from Debian's texlive-lang-other 2022.20230122-1; their
# licences, LGPL and LPPL 1.3, let them be passed on as they are). TeX's
# \patterns are Liang patterns, as pyphen reads them: the conversion copies
# them and appends what hyphenation/README.md says is wrong or missing in
# them, each family under its own comment. The check compares the dictionary,
# as the hyphenate filter uses it (2 letters at least on each side), with the
# spelling rules written out below, on the test lists tests/data/hyphenation-hy.txt
# and -ka.txt, whose words and divisions come from the rules' own examples.

import argparse
import itertools
import re
import sys
import tempfile
from pathlib import Path

import pyphen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bindery import hyphenation  # noqa: E402

SOURCES = ROOT / 'hyphenation' / 'tex'
DICTIONARIES = ROOT / 'hyphenation'
LANGS = ('hy', 'ka')
TITLE = {'hy': 'Armenian (հայերեն)', 'ka': 'Georgian (ქართული)'}
LIMIT = 2  # letters kept on each side, as the hyphenate filter and WeasyPrint do

# Armenian. ու is one vowel (u), և is ե + վ (ev); ֆ is missing from TeX's list.
HY_VOWELS = 'աեէըիոօ'
HY_CONSONANTS = 'բգդզթժլխծկհձղճմյնշչպջռսվտրցւփքֆ'
#: Sonority of Armenian consonants: a pair rising in it before a break hides
#: an unwritten ը (հետաքըր-քըրվել) that a line end would have to show.
HY_SONORITY = {**{c: 3 for c in 'մնրռլյ'}, **{c: 2 for c in 'վֆսզշժխղհ'},
               **{c: 1 for c in 'բպփգկքդտթձծցջճչւ'}}
# Georgian: the rules are bindery.hyphenation.georgian_breaks() (register() keeps
# only those of TeX's breaks), written out there.


# The rules, as syllabifiers: the points where a line may end inside a word.

def _hy_units(word):
    """``word`` as (letters, kind) units: 'V' for a vowel (ու is one), 'C' for
    a consonant; և gives a 'V' and a 'C' that no break may part."""
    units, index = [], 0
    while index < len(word):
        char = word[index]
        if word.startswith('ու', index):
            units.append(('ու', 'V'))
            index += 2
            continue
        if char == 'և':
            units.append(('ե', 'V'))
            units.append(('', 'C'))  # the վ of և: no letter of its own
        elif char in HY_VOWELS:
            units.append((char, 'V'))
        elif char in HY_CONSONANTS:
            units.append((char, 'C'))
        else:
            return None
        index += 1
    return units


def hy_breaks(word):
    """Armenian, by the rules hyphenation/README.md cites: a lone consonant
    between vowels goes on (ա-շա-կերտ), of more only the last (կար-դալ,
    Աստ-ղիկ, ա-ռանցք-ներ), two vowels part (մի-ա-սին, հե-քի-աթ), ու is one
    vowel, և is never parted from a vowel after it (հա-րե-վան needs եվ), and
    no break leaves an unwritten ը at the line end (հե-տաքրքրվել)."""
    units = _hy_units(word.lower())
    if units is None:
        return []
    offsets, position = [], 0
    for letters, _ in units:
        offsets.append(position)
        position += len(letters)
    nuclei = [index for index, (_, kind) in enumerate(units) if kind == 'V']
    points = []
    for left, right in zip(nuclei, nuclei[1:]):
        cluster = units[left + 1:right]
        if not cluster:
            points.append(offsets[right])
            continue
        if cluster[0][0] == '' and len(cluster) == 1:
            continue  # և before a vowel
        staying = [letters or 'վ' for letters, _ in cluster[:-1]]
        if (len(staying) >= 2 and staying[-2] != 'ւ'  # as the patterns: see corrections()
                and HY_SONORITY[staying[-2]] < HY_SONORITY[staying[-1]]):
            continue
        points.append(offsets[right - 1])
    return [point for point in points if LIMIT <= point <= len(word) - LIMIT]


def ka_breaks(word):
    """Georgian, by the rules (see bindery.hyphenation.georgian_breaks), at
    least two letters from either end."""
    return [point for point in hyphenation.georgian_breaks(word)
            if LIMIT <= point <= len(word) - LIMIT]


BREAKS = {'hy': hy_breaks, 'ka': ka_breaks}


# The conversion.

def tex_patterns(lang):
    """The patterns of hyph-<lang>.tex, and the header lines that describe it."""
    text = (SOURCES / f'hyph-{lang}.tex').read_text(encoding='utf-8')
    header = [line for line in text.splitlines() if line.startswith('% ')][:40]
    body = re.search(r'\\patterns\s*\{(.*?)\}', text, re.S).group(1)
    body = re.sub(r'%.*', '', body)
    assert '\\hyphenation' not in text, 'exceptions are not converted'
    return body.split(), header


def corrections(lang):
    """``[(why, [pattern, ...])]``: what the project adds to TeX's patterns."""
    if lang == 'ka':
        return [('Only the breaks the rules allow are kept (not ანსამ-ბლს, a piece '
                 'without a vowel, not ხუ-თწლიან): bindery.hyphenation.register() '
                 'filters them, as no pattern sees the whole word', [])]
    if lang == 'hy':
        vowels = HY_VOWELS
        # (not after ւ: a pattern cannot tell the ւ of ու, a vowel, from the
        # consonant ւ of the old spelling)
        rising = [(a, b) for a, b in itertools.product(HY_CONSONANTS, repeat=2)
                  if HY_SONORITY[a] < HY_SONORITY[b] and a != 'ւ']
        return [
            ('Of two or more consonants between vowels the last goes on (կար-դալ, '
             'Աստ-ղիկ); TeX breaks only before a consonant after a vowel, and knows no ֆ',
             [f'1{c}{v}' for c, v in itertools.product(HY_CONSONANTS, vowels + 'և')]),
            ('...but not inside the consonants that begin a word (սպորտ, գրքեր)',
             [f'.{c}2' for c in HY_CONSONANTS]
             + [f'.{c}{d}2' for c, d in itertools.product(HY_CONSONANTS, repeat=2)]),
            ('Two vowels side by side are two syllables (մի-ա-սին, հե-քի-աթ); ու is one vowel',
             [f'{v}1{w}' for v, w in itertools.product(vowels, repeat=2)]
             + [f'ու1{v}' for v in vowels] + ['ո2ւ']),
            ('և before a vowel is not parted: the rules write it եվ across a line end '
             '(հա-րե-վան); TeX breaks after it (հարև-ան)',
             [f'և2{v}' for v in vowels]),
            ('No break after a pair of consonants rising in sonority: an unwritten ը '
             'would have to show (հետաքըր-քըրվել)',
             [f'{a}{b}2{c}' for (a, b), c in itertools.product(rising, HY_CONSONANTS)]),
        ]
    return []


def dictionary_text(lang):
    patterns, header = tex_patterns(lang)
    lines = ['UTF-8', f'LEFTHYPHENMIN {LIMIT}', f'RIGHTHYPHENMIN {LIMIT}',
             f'% {TITLE[lang]} hyphenation patterns: TeX hyph-utf8 hyph-{lang}.tex, converted',
             '% by tools/tex-hyphenation.py, the corrections at the end. Do not edit by hand.',
             '% The source header:']
    lines += [line for line in header if line.split(':')[0].strip('% ') in
              ('title', 'copyright', 'version', 'name', 'url', 'source')]
    lines += patterns
    for why, added in corrections(lang):
        lines.append(f'% bindery: {why}')
        lines += added
    return '\n'.join(lines) + '\n'


def dictionary_path(lang):
    return DICTIONARIES / f'hyph_{lang}.dic'


def word_list(lang):
    """``[(line number, word, expected points)]`` of tests/data/hyphenation-<lang>.txt."""
    entries = []
    path = ROOT / 'tests' / 'data' / f'hyphenation-{lang}.txt'
    for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
        marked = line.split('#', 1)[0].strip()
        if marked:
            pieces = marked.split('-')
            points = [sum(map(len, pieces[:index])) for index in range(1, len(pieces))]
            entries.append((number, ''.join(pieces), points))
    return entries


def tex_only(lang, folder):
    """TeX's patterns of ``lang`` alone, as a pyphen dictionary written in ``folder``."""
    patterns, _ = tex_patterns(lang)
    path = Path(folder) / f'tex-only-{lang}.dic'
    path.write_text('UTF-8\n' + '\n'.join(patterns) + '\n', encoding='utf-8')
    return pyphen.Pyphen(filename=str(path), left=LIMIT, right=LIMIT, cache=False)


def check(lang, tex_folder=None):
    """Problems of the dictionary of ``lang`` on the test list: the list against
    the rules, and the patterns against the list; and counts of right, wrong and
    missed breaks. With ``tex_folder``, of TeX's patterns alone, to measure them."""
    if tex_folder:
        dictionary = tex_only(lang, tex_folder)
    else:  # as the build asks for it: through register(), which drops vowelless pieces
        hyphenation.register()
        dictionary = pyphen.Pyphen(lang=lang, left=LIMIT, right=LIMIT)
    problems, counts = [], {'right': 0, 'wrong': 0, 'missed': 0}
    for number, word, points in word_list(lang):
        rules = BREAKS[lang](word)
        if rules != points and not tex_folder:
            problems.append(f'hyphenation-{lang}.txt:{number}: {word}: listed {points}, '
                            f'rules give {rules}')
        found = dictionary.positions(word)
        counts['right'] += len(set(found) & set(points))
        counts['wrong'] += len(set(found) - set(points))
        counts['missed'] += len(set(points) - set(found))
        if found != points:
            problems.append(f'hyph_{lang}.dic: {word}: listed {points}, patterns give {found}')
    return problems, counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--check', action='store_true',
                        help='write nothing; fail if a file differs from what would be written')
    args = parser.parse_args(argv)
    failures = 0
    for lang in LANGS:
        path, text = dictionary_path(lang), dictionary_text(lang)
        if args.check:
            if not path.is_file() or path.read_text(encoding='utf-8') != text:
                print(f'{path.relative_to(ROOT)}: stale; run tools/tex-hyphenation.py',
                      file=sys.stderr)
                failures += 1
                continue
        else:
            path.write_text(text, encoding='utf-8')
        with tempfile.TemporaryDirectory() as folder:
            _, tex = check(lang, folder)
        problems, ours = check(lang)
        for problem in problems[:30]:
            print(problem, file=sys.stderr)
        print(f'{path.name}: {len(word_list(lang))} listed words; TeX alone: {tex}; '
              f'corrected: {ours}')
        failures += len(problems)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
