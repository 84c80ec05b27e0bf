"""Compare the words a reader can copy out of a PDF with the words of the source."""

import re
import subprocess

from .fonts import IGNORABLE

_WORD = re.compile(r'\w+')
#: A hyphen inside a word, or at a line end before the rest of the word: the
#: hyphen WeasyPrint inserts (U+2010), a hard hyphen (Сорос-Қазақстан) or a
#: non-breaking one. Extractors differ in what they keep of a line-end hyphen,
#: so words are compared with their hyphens taken out.
_HYPHEN = re.compile('(?<=\\w)[-\u2010\u2011\u00ad]\\s*(?=\\w)')


def words(text):
    """The words of ``text``, lower-cased, hyphenated words joined up, without the
    characters that draw nothing (joiners, variation selectors, soft hyphens:
    :data:`fonts.IGNORABLE`), which no extractor gives back."""
    return _WORD.findall(_HYPHEN.sub('', IGNORABLE.sub('', text)).lower())


_HYPHENATED = re.compile('\\w+(?:[-\u2010\u2011\u00ad]\\s*\\w+)*')


def word_spans(text):
    """Where each of :func:`words` of ``text`` lies in it: ``(start, end, word)``."""
    spans = []
    for match in _HYPHENATED.finditer(text):
        # One stretch of letters and the hyphens joining them: one word, or more
        # where lower-casing splits it (İ becomes i and a combining dot).
        spans += [(match.start(), match.end(), word) for word in words(match.group())]
    return spans


class Pdftotext:
    """The text poppler extracts from ``path``, in the order it is drawn, read in
    the background from the moment this is made until :meth:`text` is called.

    ``-raw`` keeps a fact's numeral with its text and letter-spaced capitals
    together, as a reader selecting them would get them.
    """

    name = 'poppler'

    def __init__(self, path):
        self.command = ['pdftotext', '-raw', '-enc', 'UTF-8', str(path), '-']
        self._process = subprocess.Popen(self.command, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._process.poll() is None:  # left unread: an error came first
            self._process.kill()
            self._process.communicate()

    def text(self):
        out, err = self._process.communicate()
        if self._process.returncode:
            raise subprocess.CalledProcessError(self._process.returncode, self.command,
                                                out, err)
        return out.decode('utf-8')


class Pdfium:
    """The text PDFium extracts from ``path``, page after page (for the same use as
    :class:`Pdftotext`: a second reader, in this process)."""

    name = 'PDFium'

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def text(self):
        import pypdfium2

        document = pypdfium2.PdfDocument(str(self.path))
        try:
            pages = []
            for index in range(len(document)):
                page = document[index]
                textpage = page.get_textpage()
                pages.append(textpage.get_text_range())
                textpage.close()
                page.close()
            return '\n'.join(pages)
        finally:
            document.close()


def find_block(haystack, block, start=0, max_gap=8):
    """Index just past ``block`` (a word list) in ``haystack`` from ``start``, or -1.

    Words must come in order; up to ``max_gap`` other words may come between two
    of them (a running head or folio where a paragraph crosses a page).
    """
    if not block:
        return start
    for first in range(start, len(haystack)):
        if haystack[first] != block[0]:
            continue
        position, ok = first + 1, True
        for word in block[1:]:
            window = haystack[position:position + max_gap + 1]
            if word not in window:
                ok = False
                break
            position += window.index(word) + 1
        if ok:
            return position
    return -1


def locate_block(haystack, block, start=0, max_gap=8):
    """The indices in ``haystack`` of the words of ``block`` where :func:`find_block`
    finds it first, or an empty list."""
    end = find_block(haystack, block, start, max_gap)
    if end < 0 or not block:
        return []
    positions = [end - 1]
    for word in reversed(block[:-1]):  # back from the end, as near as it was found
        at = positions[-1] - 1
        while haystack[at] != word:
            at -= 1
        positions.append(at)
    return positions[::-1]


def missing_word(haystack, block, start=0):
    """The first word of ``block`` that cannot be found in order, for messages."""
    best = 0
    for size in range(1, len(block) + 1):
        if find_block(haystack, block[:size], start) < 0:
            return block[size - 1], size - 1
        best = size
    return None, best
