"""The seeds parsed by hand into blocks, and words compared the way a reader would.

Kept apart from bindery on purpose: nothing here reads the YAML content or calls
the package. See test_text_fidelity.py for what is compared and why.
"""

import re
import unicodedata
from decimal import Decimal

from conftest import EDITIONS, SEEDS

#: Words of page furniture that may come between two words of a block where it
#: runs on to the next page: running heads and folios at the foot and head of pages.
PAGE_BREAK_SKIP = 20
HYPHENS = '-\u2010\u2011\u00ad\ufffe'
_JOIN = re.compile(f'(?<=\\w)[{HYPHENS}]\\s*(?=\\w)')
_WORD = re.compile(r'\w+')
#: Digits before "млн" with "." or "," as the decimal mark. The Kazakh word for
#: million is written out in the seed's prose, abbreviated in the figures.
_MILLIONS = {'млн': Decimal(10) ** 6}
RUSSIAN = 'абвгдеёжзийклмнопрстуфхцчшщъыьэюя'


# The seeds, parsed by hand

def _is_caps(line):
    return any(c.isalpha() for c in line) and not any(c.islower() for c in line)


def _strip_markup(text):
    return text.replace('**', '').replace('\\', '').strip()


def parse_seed(text):
    """The seed's blocks as ``(kind, number, text)``; kind is heading, paragraph,
    figure or fact (number 1-9 for facts, else None)."""
    blocks, lines = [], []

    def flush():
        if lines:
            joined = ' '.join(lines)
            fact = re.fullmatch(r'([1-9])\s+(\S.*)', joined)
            blocks.append(('fact', int(fact[1]), fact[2]) if fact
                          else ('paragraph', None, joined))
            lines.clear()

    for chunk in re.split(r'\n[ \t]*\n', text):
        for raw in chunk.splitlines():
            line = raw.strip()
            if not line:
                continue
            if line.startswith('#'):
                flush()
                blocks.append(('heading', None, _strip_markup(line.lstrip('#'))))
            elif line.startswith('- '):
                flush()
                fact = re.fullmatch(r'([1-9])\s+(\S.*)', _strip_markup(line[2:]))
                blocks.append(('fact', int(fact[1]), fact[2]))
            elif line.startswith('**') and line.endswith('**'):
                flush()
                blocks.append(('figure', None, _strip_markup(line)))
            elif _is_caps(line):
                flush()
                blocks.append(('heading', None, line))
            else:  # a line of a paragraph, perhaps broken mid-sentence
                lines.append(_strip_markup(line))
        flush()
    return blocks


def seed_blocks(lang):
    return parse_seed((SEEDS / EDITIONS[lang][1]).read_text(encoding='utf-8'))


def _raw_words(text):
    return _WORD.findall(_JOIN.sub('', unicodedata.normalize('NFC', text)))


def words(text):
    """Lower-case words, hyphenated words joined up."""
    return [word.lower() for word in _raw_words(text)]


def _furniture(word):
    """A word that can be a running head (set in capitals) or a folio."""
    return word.isdigit() or word.isupper()


def document(text):
    """An extracted text as ``(words, page of each word, furniture-like?)``; pages end
    at form feeds."""
    found, pages, furniture = [], [], []
    for number, page in enumerate(text.split('\f'), 1):
        page_words = _raw_words(page)
        found += [word.lower() for word in page_words]
        pages += [number] * len(page_words)
        furniture += [_furniture(word) for word in page_words]
    return found, pages, furniture


def match(doc, needle, start=0):
    """``(end, None)`` if the words of ``needle`` follow each other in ``doc`` (from
    :func:`document`) from word ``start`` on; else ``(-1, (index, first word missing))``.

    Within a page the words must be consecutive. Where the block runs on to the
    next page, up to PAGE_BREAK_SKIP words of page furniture may come between:
    numbers and words in capitals (folios, running heads) at the foot of one page
    and the head of the next.
    """
    haystack, pages, furniture = doc
    best = 0
    for first in range(start, len(haystack)):
        if haystack[first] != needle[0]:
            continue
        at, found = first, 1
        for word in needle[1:]:
            if at + 1 < len(haystack) and haystack[at + 1] == word:
                at += 1
            else:
                nxt = next((j for j in range(at + 2, min(len(haystack),
                                                       at + 2 + PAGE_BREAK_SKIP))
                            if haystack[j] == word or not furniture[j]), None)
                if (nxt is None or haystack[nxt] != word or pages[nxt] != pages[at] + 1
                        or not all(furniture[at + 1:nxt])):
                    break
                at = nxt
            found += 1
        if found == len(needle):
            return at + 1, None
        best = max(best, found)
    return -1, (best, needle[best] if best < len(needle) else None)


def amounts(text):
    """Every amount written "<digits> млн" in ``text``, as numbers, in order."""
    found = []
    for digits, unit in re.findall(r'(\d+(?:[.,]\d+)?)\s*(млн)', text):
        found.append(Decimal(digits.replace(',', '.')) * _MILLIONS[unit])
    return found
