"""Text as it prints in a language: numbers and amounts through CLDR, spans of years."""

from babel.numbers import format_compact_currency

#: The sign for "about" in front of a rounded amount, followed by a thin
#: no-break space so that it never ends a line.
APPROXIMATELY = '≈\u202f'


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
