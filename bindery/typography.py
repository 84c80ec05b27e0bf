"""Text as it prints in a language: quotes and amounts from CLDR, the spaces and dashes CLDR leaves to us."""

import re

from babel.numbers import format_compact_currency

from .delimiters import QUOTES

#: The sign for "about" in front of a rounded amount, followed by a thin
#: no-break space so that it never ends a line. (≈ would be better, but Noto
#: Serif has no glyph for it, and every face must cover every character.)
APPROXIMATELY = '~\u202f'


def money(amount, currency, lang, approximate=False):
    """An amount as the language writes it in running text: kk ``3,8 млн $``, en ``$3.8M``."""
    text = format_compact_currency(amount, currency, locale=lang, fraction_digits=1)
    return APPROXIMATELY + text if approximate else text


def year_span(start, end):
    """``1995–2025``: an en dash between years, no spaces."""
    return f'{start}\u2013{end}'


def balance(weights, groups):
    """Split items of ``weights`` into ``groups`` runs of consecutive items, as even as
    possible (least sum of squared run weights; on a tie, earlier runs fuller).

    Returns the runs as lists of item indexes.
    """
    count = len(weights)
    prefix = [0]
    for weight in weights:
        prefix.append(prefix[-1] + weight)
    # best[g][i]: the least sum of squares splitting items[:i] into g runs
    best = [[float('inf')] * (count + 1) for _ in range(groups + 1)]
    cut = [[0] * (count + 1) for _ in range(groups + 1)]
    best[0][0] = 0
    for g in range(1, groups + 1):
        for i in range(g, count - (groups - g) + 1):
            for j in range(g - 1, i):
                cost = best[g - 1][j] + (prefix[i] - prefix[j]) ** 2
                if cost <= best[g][i]:
                    best[g][i], cut[g][i] = cost, j
    runs, end = [], count
    for g in range(groups, 0, -1):
        start = cut[g][end]
        runs.append(list(range(start, end)))
        end = start
    return runs[::-1]


NBSP, NNBSP = '\u00a0', '\u202f'

# What CLDR gives (delimiters.py, generated from it; Babel has the numbers):
# each language's quotes, outer and inner, for every locale it knows.
# What CLDR lacks, and so is ours: the rules below and in typeset().

#: Ours: languages whose one- and two-letter words (prepositions, conjunctions)
#: must not end a line: Russian typography's rule against "hanging" prepositions.
SHORT_WORDS_STAY = {'ru': 2, 'tg': 1, 'en': 1}

_QUOTE_CHARS = '"«»“”„'
_NUMBER_GROUPS = re.compile(r'(?<=\d) (?=\d{3}(?!\d))')
# A number ends in a digit: "1993, shortly" and "2020. The" end a clause, and
# keep no word.
_NUMBER_WORD = re.compile(r'(?<![\w.,])(\d(?:[\d.,\u202f]*\d)?) (?=\S)')
_NUMERO = re.compile(r'№ ?(?=\d)')
_DASH = re.compile(r' ([–—]) ')
_YEAR_RANGE = re.compile(r'\b(\d{4})-(\d{4})\b')


def typeset(text, lang):
    """``text`` with the typography of ``lang``: its quotes, no-break spaces, dashes.

    The words are untouched; only what sits between them changes:

    - quotes become the language's own, as CLDR gives them (:func:`quotes`: « »
      in kk, ky, ru, hy; “ ” in en; „ “ in ka), with the inner pair for quotes
      inside quotes;
    - a number keeps the word or sign after it on its line (``1995 жылы``,
      ``100 млн``), and its digit groups together (``50 000`` with a thin no-break
      space);
    - ``№`` keeps its number; a dash never starts a line (no-break space before it);
    - year ranges take an en dash (``1996–2004``);
    - in Russian and English, short prepositions and conjunctions keep the
      next word on their line.
    """
    text = _quotes(text, lang)
    text = _YEAR_RANGE.sub('\\1\u2013\\2', text)
    text = _NUMBER_GROUPS.sub(NNBSP, text)
    text = _NUMBER_WORD.sub(lambda m: m.group(1) + NBSP, text)
    text = _NUMERO.sub('№' + NBSP, text)
    text = _DASH.sub(NBSP + '\\1 ', text)
    limit = SHORT_WORDS_STAY.get(lang.split('_')[0])
    if limit:
        # Not the s of a possessive (government's): an apostrophe is part of the word.
        text = re.sub(r'(?<![\w’\'])(\w{1,%d}) (?=[\w«„“‘])' % limit,
                      lambda m: m.group(1) + NBSP, text)
    return text


def typeset_all(value, lang):
    """:func:`typeset` every string in a structure of dicts and lists."""
    if isinstance(value, str):
        return typeset(value, lang)
    if isinstance(value, dict):
        return {key: item if key == 'lang' else typeset_all(item, lang)
                for key, item in value.items()}
    if isinstance(value, list):
        return [typeset_all(item, lang) for item in value]
    return value


def quotes(lang):
    """``(outer open, outer close, inner open, inner close)`` of ``lang`` (``kk``,
    ``kk_KZ``, ``sr-Latn``) as CLDR gives them: the locale's own, else its
    language's, else CLDR's root (“ ” ‘ ’), never another language's."""
    tags = lang.replace('_', '-').split('-')
    for end in range(len(tags), 0, -1):
        found = QUOTES.get('-'.join(tags[:end]))
        if found:
            return tuple(found)
    return tuple(QUOTES['und'])


def _quotes(text, lang):
    """Pair up the quotes of ``text`` and set them as ``lang`` does.

    Quotes alternate open/close by nesting depth: a quote character opens when
    it follows a space, a bracket or the start, and closes otherwise.
    """
    outer_open, outer_close, inner_open, inner_close = quotes(lang)
    out, depth = [], 0
    for index, char in enumerate(text):
        if char not in _QUOTE_CHARS:
            out.append(char)
            continue
        before = text[index - 1] if index else ' '
        opening = char in '«„' or (char in '"“' and (before.isspace() or before in '([{=/'
                                                    or index == 0))
        if char in '»”':
            opening = False
        if opening:
            out.append(outer_open if depth == 0 else inner_open)
            depth += 1
        else:
            depth = max(depth - 1, 0)
            out.append(outer_close if depth == 0 else inner_close)
    return ''.join(out)
