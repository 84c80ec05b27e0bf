"""Hyphenation: the spelling rules as syllabifiers; register() and source() for every language."""

# breaks(word, lang) gives the points where the rules (hyphenation/README.md
# cites them) let a line end inside a word. tools/make-hyphenation.py turns the
# same rules into Liang patterns, hyphenation/hyph_kk.dic, hyph_ky.dic and
# hyph_tg.dic, and register() makes lang="kk", "ky" and "tg" use them (and the
# Armenian and Georgian files converted from TeX's patterns, see TEX_LANGS).

from pathlib import Path

import pyphen

from .cache import file_identity

#: Where the generated dictionaries live (repository root / hyphenation).
DICTIONARIES = Path(__file__).resolve().parent.parent / 'hyphenation'
LANGS = ('kk', 'ky', 'tg')
#: Languages whose dictionary is TeX's hyph-utf8 patterns, converted and
#: corrected (hyphenation/README.md says how and why); breaks() does not know them.
TEX_LANGS = ('hy', 'ka')
#: Codes under which register() files each dictionary, as WeasyPrint looks them up.
CODES = {'kk': ('kk', 'kk_KZ'), 'ky': ('ky', 'ky_KG'), 'tg': ('tg', 'tg_TJ'),
         'hy': ('hy', 'hy_AM'), 'ka': ('ka', 'ka_GE')}

# Both alphabets get every letter of both: a Kazakh name in Kyrgyz text is then
# still read as vowels and consonants instead of as unknown marks.
VOWELS = 'аәеёиоөуұүыіэюя'
CONSONANTS = 'бвгғджзйкқлмнңпрстфхһцчшщ'
SIGNS = 'ъь'
ALPHABET = frozenset(VOWELS + CONSONANTS + SIGNS)
#: Letters for й + vowel (бо-ек, то-ют): a syllable may start with them after a
#: vowel, and a piece of a word holding one has a consonant sound (ою-лы).
IOTATED = 'яюеё'
#: Vowels a syllable may start with right after another vowel (про-ект, по-эма).
SYLLABLE_STARTERS = IOTATED + 'э'

# Tajik: the 35 letters of its alphabet, with ӯ also as ў (older texts) and
# the letters of Russian loanwords (ц, щ, ы, ь). ъ is the glottal stop (сакта),
# a consonant that may follow a vowel (маъ-но) and never begins a line.
TG_VOWELS = 'аеёиӣоуӯўыэюя'
TG_CONSONANTS = 'бвгғджзйкқлмнпрстфхҳцчҷшщ'
#: Letters of each language: (vowels, consonants, signs).
LETTERS = {'kk': (VOWELS, CONSONANTS, SIGNS), 'ky': (VOWELS, CONSONANTS, SIGNS),
           'tg': (TG_VOWELS, TG_CONSONANTS, SIGNS)}
ALPHABETS = {lang: frozenset(''.join(letters)) for lang, letters in LETTERS.items()}


def is_abbreviation(word):
    """True when ``word`` has two capital letters in a row (СҚК, БАҚ, ЖОО,
    КАРПОУ, СССРдеги): the rules never break an abbreviation."""
    return any(a.isupper() and b.isupper() for a, b in zip(word, word[1:]))


def kinds(word, lang):
    """One of 'V' (vowel), 'C' (consonant) or 'S' (ь, ъ) per letter of the
    lower-case ``word``, or None if it is not spelled as a word can be: a
    character that is not a Cyrillic letter, or a sign not after a consonant.

    In Kazakh у after a vowel, or first in the word before a vowel, is the
    consonant [w] (да-уыс, тау-лы, уа-қыт); after a consonant it is a vowel
    (бу-ын, су-ық). In Kyrgyz and Tajik у and и are always vowels. Tajik ъ
    may also follow a vowel (маъ-но, аъ-ло).
    """
    vowels, consonants, signs = LETTERS[lang]
    result = []
    for index, char in enumerate(word):
        if char in signs:
            after = consonants + (vowels if lang == 'tg' and char == 'ъ' else '')
            if not index or word[index - 1] not in after:
                return None
            result.append('S')
        elif char in consonants:
            result.append('C')
        elif char in vowels:
            glide = lang == 'kk' and char == 'у' and (
                (index and result[-1] == 'V')
                or (index == 0 and len(word) > 1 and word[1] in VOWELS))
            result.append('C' if glide else 'V')
        else:
            return None
    return result


def _hiatus_break(word, index, lang):
    """May a line end between the vowels ``word[index - 1]`` and ``word[index]``?"""
    before, vowel = word[index - 1], word[index]
    if lang == 'tg':
        # Each Tajik vowel is a syllable of its own: шо-ир, му-ал-лим; Tajik
        # writes no long vowel double, so шу-да-аст, та-ас-суф part too.
        return True
    if vowel == before:
        return False  # a long vowel (Kyrgyz аа, оо, үү ...) is one sound
    if lang == 'kk' and before in 'иу' and index >= 2 and word[index - 2] in CONSONANTS:
        return True  # и, у written for ій/ый, ұу/үу end their syllable: бу-ын, қи-ын
    if lang == 'kk' and before == 'у':
        return False
    # Otherwise only before й + vowel or э. Other vowel pairs occur only in
    # loanwords (радио, социал, аудит), where the rules say nothing: no break.
    return vowel in SYLLABLE_STARTERS


def _bare(piece, piece_kinds, lang):
    """Is ``piece`` one letter, or (but in Tajik) vowels with no consonant sound?

    The Tajik rules forbid only a lone letter (аро-ба, not а-роба), so ои-ла
    stands; a piece with ъ has a consonant (аъ-ло).
    """
    if len(piece) < 2:
        return True
    if lang == 'tg':
        return False
    return not ('C' in piece_kinds or any(c in IOTATED for c in piece))


def breaks(word, lang):
    """Indexes ``i`` where ``word[:i] + '-'`` may end a line, by the rules.

    Empty for abbreviations, one-syllable words and words with characters that
    are not Cyrillic letters.
    """
    if lang not in LANGS:
        raise ValueError(f'no hyphenation rules for {lang!r}')
    if is_abbreviation(word):
        return []
    word = word.lower()
    letters = kinds(word, lang)
    if letters is None:
        return []
    nuclei = [index for index, kind in enumerate(letters) if kind == 'V']
    points = []
    for left, right in zip(nuclei, nuclei[1:]):
        if right == left + 1:
            if _hiatus_break(word, right, lang):
                points.append(right)
        elif letters[right - 1] == 'S':
            points.append(right)  # ь and ъ stay with their consonant: баталь-он, разъ-езд
        elif lang == 'tg' and word[right - 1] == 'й' and word[right] in IOTATED:
            points.append(right)  # я ю е ё hold the й already: тай-ёр, not та-йёр
        else:
            points.append(right - 1)  # only the last consonant moves on: қа-зақс-тан
    # Neither a lone letter nor a piece of bare vowels (а-та, ю-билей, аа-лам,
    # акаци-я) may be left at a line end or carried over.
    while points and _bare(word[:points[0]], letters[:points[0]], lang):
        points.pop(0)
    while points and _bare(word[points[-1]:], letters[points[-1]:], lang):
        points.pop()
    return points


def hyphenated(word, lang, hyphen='-'):
    """``word`` with ``hyphen`` at every point of ``breaks``."""
    pieces, start = [], 0
    for point in breaks(word, lang):
        pieces.append(word[start:point])
        start = point
    return hyphen.join(pieces + [word[start:]])


def dictionary_path(lang, folder=DICTIONARIES):
    """The pattern file of ``lang``."""
    return Path(folder) / f'hyph_{lang}.dic'


#: The letters a word must be made of to be hyphenated, per dictionary: pyphen
#: would otherwise break the letters of 350дөнүн or COVIDтин.
WORD_LETTERS = dict(ALPHABETS, kk=ALPHABET, ky=ALPHABET,
                    hy=frozenset(map(chr, range(0x0561, 0x0588))),
                    ka=frozenset(map(chr, range(0x10D0, 0x1100))))
#: Vowels of the languages whose patterns (TeX's) may leave a piece without one.
PIECE_VOWELS = {'hy': frozenset('աեէըիոօև'), 'ka': frozenset('აეიოუ')}

# Georgian (Mkhedruli): five vowels.
KA_VOWELS = 'აეიოუ'
KA_CONSONANTS = 'ბგდვზთკლმნპჟრსტფქღყშჩცძწჭხჯჰ'
#: Georgian's harmonic clusters: a stop or affricate and a velar or uvular of
#: the same kind (voiced, aspirated, ejective), said as one onset: never parted.
KA_HARMONIC = frozenset(a + b for group in (('ბდძჯ', 'გღ'), ('ფთცჩ', 'ქხ'), ('პტწჭ', 'კყ'))
                        for a in group[0] for b in group[1])


def georgian_breaks(word):
    """Where the Georgian rules (hyphenation/README.md) let a line end: between
    syllables, a lone consonant between vowels going on (სა-ხე), of more the
    first staying (ქარ-თუ-ლი) unless it begins a harmonic cluster (სი-ტყვა),
    two vowels parting (და-მო-უ-კი-დე-ბე-ლი). Every piece then has a vowel."""
    word = word.lower()
    if not set(word) <= set(KA_VOWELS + KA_CONSONANTS):
        return []
    nuclei = [index for index, char in enumerate(word) if char in KA_VOWELS]
    points = []
    for left, right in zip(nuclei, nuclei[1:]):
        gap = right - left - 1
        if gap > 1 and word[left + 1:left + 3] in KA_HARMONIC:
            points.append(left + 1)
        else:
            points.append(right if gap == 0 else left + 1 + (gap > 1))
    return points


class _CaseAwareDict(pyphen.HyphDict):
    """Patterns that leave abbreviations and words with other characters whole.

    pyphen lowercases every word before it matches patterns, so no pattern can
    tell КАРПОУ from карпоу; and a pattern sees one window of letters, so it
    cannot know that 350дөнүн has digits further back. This looks at the whole
    word first, as breaks() does.
    """

    def __init__(self, path, lang):
        super().__init__(path)
        self.lang, self.letters = lang, WORD_LETTERS[lang]

    def positions(self, word):
        if is_abbreviation(word) or not set(word.lower()) <= self.letters:
            return []
        points = super().positions(word)
        if self.lang == 'ka':  # TeX's patgen-made patterns propose, the rules dispose
            allowed = set(georgian_breaks(word))
            points = [point for point in points if point in allowed]
        vowels = PIECE_VOWELS.get(self.lang)
        if vowels:  # each piece has a vowel: TeX's Georgian breaks ანსამ-ბლს
            lower = word.lower()
            points = [point for point in points if set(lower[:point]) & vowels
                      and set(lower[point:]) & vowels]
        return points


#: The dictionaries parsed: path -> the file's identity (cache.file_identity).
_PARSED = {}
#: Our dictionary files, and the language of each.
_OURS = {}


class _ParsedFiles(dict):
    """pyphen's cache of parsed dictionary files (``pyphen.hdcache``), which
    parses one of ours, case-aware, when it is first looked for (pyphen asks
    ``path in hdcache`` before it parses a file itself), and again when the
    file has changed: a build in Kazakh parses only the Kazakh patterns."""

    def __contains__(self, path):
        lang = _OURS.get(Path(path))
        identity = file_identity(path) if lang is not None else None
        if identity is not None and not (isinstance(self.get(Path(path)), _CaseAwareDict)
                                         and _PARSED.get(Path(path)) == identity):
            self[Path(path)] = _CaseAwareDict(Path(path), lang)
            _PARSED[Path(path)] = identity
        return super().__contains__(path)


def register(folder=DICTIONARIES):
    """Make pyphen, and so WeasyPrint's ``hyphens: auto`` and the ``hyphenate``
    filter, use our dictionaries for ``lang`` kk, ky, tg, hy and ka (and kk-KZ,
    ky-KG, tg-TJ, hy-AM, ka-GE). Safe to call more than once.

    WeasyPrint asks ``pyphen.language_fallback(lang)``, which reads
    ``LANGUAGES_LOWERCASE``, then opens ``LANGUAGES[...]`` through pyphen's
    cache of parsed files, which parses ours as case-aware dictionaries when
    they are first asked for (:class:`_ParsedFiles`), not here.
    """
    for lang, path in _register_names(folder):
        _OURS[path] = lang
    if not isinstance(pyphen.hdcache, _ParsedFiles):
        pyphen.hdcache = _ParsedFiles(pyphen.hdcache)


def parsed(path):
    """The parsed dictionary of the file at ``path`` (ours parsed now if it is
    new or changed), or None if nothing parsed it yet."""
    return pyphen.hdcache.get(Path(path)) if Path(path) in pyphen.hdcache else None


#: Our languages whose dictionary file is missing, and the path it should have.
_MISSING = {}


def _register_names(folder=DICTIONARIES):
    """Tell pyphen which file each of our languages' codes opens, without parsing
    any; return ``(lang, path)`` for each. A language whose file is missing is
    left out (:func:`describe` says so): its words are not broken."""
    found = []
    for lang in LANGS + TEX_LANGS:
        path = dictionary_path(lang, folder)
        if not path.is_file():
            _MISSING[lang] = path
            for code in CODES[lang]:  # registered before the file went
                if pyphen.LANGUAGES.get(code) == path:
                    del pyphen.LANGUAGES[code]
                    pyphen.LANGUAGES_LOWERCASE.pop(code.lower(), None)
            continue
        _MISSING.pop(lang, None)
        for code in CODES[lang]:
            pyphen.LANGUAGES[code] = path
            pyphen.LANGUAGES_LOWERCASE[code.lower()] = code
        found.append((lang, path))
    return found


#: What each kind of source is called where a build names a language's hyphenation.
SOURCES = {'ours': "the project's own patterns, from the spelling rules",
           'tex': "TeX's hyph-utf8 patterns, checked and corrected by the project",
           'pyphen': "pyphen's bundled dictionary", 'none': 'no hyphenation dictionary'}


def source(lang):
    """Which hyphenation ``lang`` (a BCP 47 code: kk, tg-TJ, de-CH) gets:
    ``('ours' | 'tex' | 'pyphen' | 'none', dictionary code or None)``."""
    _register_names()  # which file, not its patterns: cheap enough for a no-op build
    code = pyphen.language_fallback(str(lang).replace('-', '_'))
    if not code:
        return 'none', None
    base = code.split('_')[0].lower()
    if base in LANGS:
        return 'ours', code
    if base in TEX_LANGS:
        return 'tex', code
    return 'pyphen', code


def describe(lang):
    """What a build says of the hyphenation of ``lang``: ``{'lang', 'source'
    ('ours', 'tex', 'pyphen' or 'none'), 'dictionary' (file name or None),
    'label'}``, the label as the build output, ``check`` and the gallery print it."""
    kind, code = source(lang)
    path = pyphen.LANGUAGES.get(code) if code else None
    name = Path(path).name if path else None
    missing = _MISSING.get(str(lang).replace('_', '-').split('-')[0].lower())
    label = {'ours': f"the project's own, from the spelling rules ({name})",
             'tex': f"TeX's patterns, corrected by the project ({name})",
             'pyphen': f"pyphen's bundled dictionary ({name})",
             'none': (f'none: {missing.parent.name}/{missing.name} is missing (make it again '
                      'with tools/make-hyphenation.py), words are never broken'
                      if missing else 'none: no dictionary, words are never broken')}[kind]
    return {'lang': str(lang), 'source': kind, 'dictionary': name, 'label': label}
