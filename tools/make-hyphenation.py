"""Write hyphenation/hyph_kk.dic, hyph_ky.dic, hyph_tg.dic: Liang patterns from bindery's rules."""

# Usage, from the repository root:
#
#     .venv/bin/python tools/make-hyphenation.py          # write both, then verify them
#     .venv/bin/python tools/make-hyphenation.py --check  # exit 1 if a file is stale or wrong
#     .venv/bin/python tools/make-hyphenation.py --words kk:LIST --words ky:LIST
#                                                         # verify on word lists too
#
# The rules look only at the letters around a break (which are vowels, how many
# consonants stand between two vowels), so each is written as patterns over
# letter classes, expanded into letters since Liang patterns have no classes.
# The patterns are then checked against breaks() on every short word over one
# letter of each class, on the booklets and on the test lists.

import argparse
import itertools
import re
import sys
from pathlib import Path

import pyphen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bindery.hyphenation import (  # noqa: E402
    DICTIONARIES, IOTATED, LANGS, LETTERS, SIGNS, SYLLABLE_STARTERS, breaks, dictionary_path,
    kinds)

#: Words that verify the patterns besides the exhaustive short words.
WORD_SOURCES = {
    'kk': ['tests/fixtures/seeds/000_66f7a2c93d37a244.txt', 'tests/data/hyphenation-kk.txt'],
    'ky': ['tests/fixtures/seeds/004_6346bdd40dba20a4.txt', 'tests/data/hyphenation-ky.txt'],
    'tg': ['tests/data/hyphenation-tg.txt'],
}
#: One letter of each class the patterns tell apart: plain vowels (two, so that
#: a long vowel differs from two vowels), й + vowel letters (two), э, и, у,
#: two consonants (вс- may begin a four-consonant word, св- may not) and a sign.
SAMPLE_LETTERS = 'аоеяэиувсь'
#: Tajik's classes: plain vowels (two), й + vowel (two), ӣ, two consonants, й
#: (тай-ёр), the glottal stop ъ and the sign ь of Russian loanwords.
SAMPLE_LETTERS_TG = 'аоеяӣвсйъь'
#: How Russian words of four consonants begin (взгляд, вздрогнуть, встреча,
#: всплеск); no Kazakh or Kyrgyz word begins with more than three.
FOUR_CONSONANT_STARTS = ('вз', 'вс')
TITLE = {'kk': 'Kazakh (қазақ тілі)', 'ky': 'Kyrgyz (кыргыз тили)', 'tg': 'Tajik (тоҷикӣ)'}


class Patterns:
    """Liang patterns keyed by their letters; adding one twice keeps the higher
    value at each point, as the matcher would."""

    def __init__(self):
        self.table = {}

    def add(self, text):
        letters = re.sub(r'\d', '', text)
        values = [0] * (len(letters) + 1)
        position = 0
        for char in text:
            if char.isdigit():
                values[position] = int(char)
            else:
                position += 1
        old = self.table.get(letters, [0] * len(values))
        self.table[letters] = [max(a, b) for a, b in zip(old, values)]

    def lines(self):
        for letters in sorted(self.table):
            values = self.table[letters]
            yield ''.join(f'{value or ""}{letter}' for value, letter in
                          zip(values, letters)) + (str(values[-1]) if values[-1] else '')


def build(lang):
    """The patterns of ``lang``, rule by rule. Odd values allow a break, even
    ones forbid it, and the highest value at a point wins."""
    if lang == 'tg':
        return build_tajik()
    patterns = Patterns()
    vowels, consonants, _ = LETTERS[lang]
    # In Kazakh у next to a vowel is the consonant [w]: the vowel-only rules
    # below must not see it (see kinds()).
    true_vowels = vowels.replace('у', '') if lang == 'kk' else vowels
    clusters = consonants + SIGNS
    bare = [v for v in true_vowels if v not in IOTATED]  # vowels with no й in them

    # A lone consonant between vowels starts the next syllable, and of a
    # cluster only the last consonant moves: break before a consonant that
    # stands before a vowel (ба-ла, қа-зақс-тан).
    for c, v in itertools.product(consonants, vowels):
        patterns.add(f'1{c}{v}')
    # ь and ъ stay with the consonant before them (баталь-он, разъ-езд).
    for s, v in itertools.product(SIGNS, vowels):
        patterns.add(f'{s}1{v}')
    # After a vowel, я ю е ё (й + vowel) and э begin a syllable (бо-ек, по-эма);
    # a doubled vowel is one long vowel (тоо-лор-до).
    for v, starter in itertools.product(true_vowels, SYLLABLE_STARTERS):
        if v != starter:
            patterns.add(f'{v}1{starter}')
    if lang == 'kk':
        # у between vowels is a consonant and starts the syllable (да-уыс, жа-уап).
        for v, w in itertools.product(true_vowels, vowels):
            patterns.add(f'{v}1у{w}')
        # и, у after a consonant end their syllable before a vowel (бу-ын, қи-ын),
        # also before a у that is a consonant (жу-уы).
        for c, glide, v in itertools.product(consonants, 'иу', true_vowels):
            if v != glide:
                patterns.add(f'{c}{glide}1{v}')
        for c, v in itertools.product(clusters, vowels):
            patterns.add(f'{c}у1у{v}')
        # After ь, ъ у is a vowel, and so is a piece уа carried over: -сьуа.
        for s, v in itertools.product(SIGNS, bare):
            patterns.add(f'{s}2у{v}.')
    # Consonants that begin a word stay with its first vowel (спорт, стра-те-гия).
    for c in consonants:
        patterns.add(f'.{c}2')
    for c, d in itertools.product(consonants, clusters):
        patterns.add(f'.{c}{d}2')
    for start, c in itertools.product(FOUR_CONSONANT_STARTS, clusters):
        patterns.add(f'.{start}{c}2')
    # Neither a lone letter nor bare vowels are left at a line end or carried
    # over (а-та, ю-билей, аа-лам; акаци-я, поэзи-я); я ю е ё hold a й (ою-лы).
    for v in vowels:
        patterns.add(f'.{v}2')
        patterns.add(f'2{v}.')
    for v, w in itertools.product(bare, repeat=2):
        patterns.add(f'.{v}{w}2')
        patterns.add(f'2{v}{w}.')
    return patterns


def build_tajik():
    """The Tajik patterns: every vowel is a syllable of its own (шо-ир), only
    the last consonant of a cluster moves (дӯс-тӣ), ъ stays with the letter
    before it (лаъ-лӣ, аъ-ло), and only a lone letter is kept from either end
    (аро-ба, not а-роба)."""
    patterns = Patterns()
    vowels, consonants, signs = LETTERS['tg']
    for c, v in itertools.product(consonants, vowels):
        patterns.add(f'1{c}{v}')
    # я ю е ё hold a й of their own: тай-ёр, not та-йёр.
    for starter in IOTATED:
        patterns.add(f'2й{starter}')
        patterns.add(f'й1{starter}')
    # ъ and ь end their syllable: лаъ-лӣ, ҷамъ-ият; nothing breaks before them.
    for s, v in itertools.product(signs, vowels):
        patterns.add(f'{s}1{v}')
    # Two vowels side by side are two syllables (шо-ир, му-ал-лим), also two
    # of a kind (шу-да-аст, та-ас-суф): Tajik writes no long vowel double.
    for v, w in itertools.product(vowels, repeat=2):
        patterns.add(f'{v}1{w}')
    # Consonants that begin a word stay with its first vowel (Russian спорт, стансия).
    for c in consonants:
        patterns.add(f'.{c}2')
    for c, d in itertools.product(consonants, consonants + signs):
        patterns.add(f'.{c}{d}2')
    for start, c in itertools.product(FOUR_CONSONANT_STARTS, consonants + signs):
        patterns.add(f'.{start}{c}2')
    # ... also when the third is the й before я ю е ё (й1ё above breaks after it).
    for c, d in itertools.product(consonants, consonants + signs):
        patterns.add(f'.{c}{d}й2')
    # No lone letter at either end (а-роба, оро-мӣ).
    for v in vowels:
        patterns.add(f'.{v}2')
        patterns.add(f'2{v}.')
    return patterns


def dictionary_text(lang):
    """The whole .dic file of ``lang``."""
    lines = list(build(lang).lines())
    header = [
        'UTF-8',
        'LEFTHYPHENMIN 2',
        'RIGHTHYPHENMIN 2',
        f'% {TITLE[lang]} hyphenation patterns, {len(lines)} of them.',
        '% Written by tools/make-hyphenation.py from the rules in bindery/hyphenation.py;',
        '% hyphenation/README.md cites the orthographic rules. Do not edit by hand.',
        '% pyphen lowercases a word before matching and a pattern sees a few letters only, so',
        '% bindery.hyphenation.register() itself leaves abbreviations (two capitals in a row)',
        '% and words with digits or Latin letters whole.',
    ]
    return '\n'.join(header + lines) + '\n'


def out_of_reach(word, lang):
    """True for shapes no finite pattern set covers and that no Kazakh or Kyrgyz
    word has: three vowel letters at either end; four consonants at the start
    (save вз-, вс-), five or more; two and a sign (Russian взъерошить); in
    Kazakh, у thrice or у twice at the start."""
    letters = ''.join(kinds(word, lang))
    run = len(letters) - len(letters.lstrip('CS'))
    if run > 4 or (run == 4 and word[:2] not in FOUR_CONSONANT_STARTS):
        return True
    if run >= 3 and letters[run - 1] == 'S':
        return True
    if lang == 'tg' and run >= 4 and word[run - 1] == 'й':
        return True  # four consonants, the last a й before я ю е ё: no such word
    if lang == 'kk' and ('ууу' in word or word.startswith('уу')):
        return True
    return letters.startswith('VVV') or letters.endswith('VVV')


def sample_letters(lang):
    return SAMPLE_LETTERS_TG if lang == 'tg' else SAMPLE_LETTERS


def sample_words(max_length, lang='kk'):
    """Every word of up to ``max_length`` letters over the sample letters of ``lang``."""
    for length in range(1, max_length + 1):
        for letters in itertools.product(sample_letters(lang), repeat=length):
            yield ''.join(letters)


def text_words(path):
    """The words of a text or a test list, lower-cased, hyphens of a test list removed."""
    text = Path(path).read_text(encoding='utf-8')
    text = re.sub(r'#.*', '', text).replace('-', '')
    return {word.lower() for word in re.findall(r'[^\W\d_]+', text)}


def mismatches(lang, path, words):
    """``(word, expected, found)`` where the patterns and breaks() disagree.

    pyphen is asked with left=right=1, so that the patterns themselves must
    keep a bare vowel or a lone letter at each end, whatever WeasyPrint's
    hyphenate-limit-chars says.
    """
    dictionary = pyphen.Pyphen(filename=str(path), left=1, right=1, cache=False)
    found = []
    for word in words:
        letters = kinds(word, lang)
        if letters is None or out_of_reach(word, lang):
            continue
        expected = breaks(word, lang)
        got = [int(point) for point in dictionary.positions(word)]
        if got != expected:
            found.append((word, expected, got))
    return found


def verify(lang, path, extra, max_length):
    """Report and count disagreements between ``path`` and breaks()."""
    named = set()
    for source in [ROOT / name for name in WORD_SOURCES[lang]] + [Path(name) for name in extra]:
        named |= text_words(source)
    samples = sum(len(sample_letters(lang)) ** length for length in range(1, max_length + 1))
    wrong = mismatches(lang, path, itertools.chain(sample_words(max_length, lang), named))
    for word, expected, got in wrong[:20]:
        print(f'{path.name}: {word}: rules {expected}, patterns {got}', file=sys.stderr)
    print(f'{path.name}: {samples} sample words and {len(named)} named words, '
          f'{len(wrong)} disagreements')
    return len(wrong)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--check', action='store_true',
                        help='write nothing; fail if a file differs from what would be written')
    parser.add_argument('--words', action='append', default=[], metavar='LANG:FILE',
                        help='also verify on the words of FILE')
    parser.add_argument('--length', type=int, default=6,
                        help='verify on every sample word up to this length (default 6)')
    args = parser.parse_args(argv)
    failures = 0
    for lang in LANGS:
        path = dictionary_path(lang)
        text = dictionary_text(lang)
        if args.check:
            if not path.is_file() or path.read_text(encoding='utf-8') != text:
                print(f'{path.relative_to(ROOT)}: stale; run tools/make-hyphenation.py',
                      file=sys.stderr)
                failures += 1
                continue
        else:
            DICTIONARIES.mkdir(exist_ok=True)
            path.write_text(text, encoding='utf-8')
        extra = [name.split(':', 1)[1] for name in args.words if name.startswith(f'{lang}:')]
        failures += verify(lang, path, extra, args.length)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
