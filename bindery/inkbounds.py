"""Find what a finished PDF paints where it must not: past the trim or bleed, or over other text."""

# PDFium reads each glyph's tight box (FPDFText_GetCharBox: the outline's
# bounds where it is drawn, marks stacked by the font included), so what is
# measured here is what paints, not the line box the layout reserved for it.
# A glyph belongs to a text by the words around it: the words PDFium copies
# out of the page, matched in order against the source text's blocks (as the
# preflight's text check matches them). What no block holds (a running head, a
# folio, the layout's own words) is the layout's, named by its line. In print,
# drawings (boxes, rules, pictures, shadings) are read as PDFium's page objects,
# with their clipping paths.

import ctypes
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from . import textcheck
from .cache import file_identity

MM = 72 / 25.4
#: How far a glyph may reach past the trim, or into another text's glyph, in mm
#: before it counts: below what any printing or trimming can show.
TOLERANCE_MM = 0.1
#: The side of a cell of the grid glyphs are sorted into to find overlaps, in pt.
_CELL = 12.0


@dataclass
class Stray:
    """Glyphs of one text on one page that paint where they must not."""

    page: int
    owner: str  # a block's label (``facts[3].text``), the layout's line, or a drawing's kind
    content: bool  # whether the text is a block of the source (else the layout's)
    side: str | None = None  # 'above', 'below', 'left of', 'right of' the trim
    reach_mm: float = 0.0  # how far past the trim the farthest glyph paints
    count: int = 0  # how many glyphs paint there
    marks: int = 0  # how many of them are combining marks (stacked on a letter)
    over: str | None = None  # the other text it paints over (for an overlap)
    drawing: bool = False  # a drawing (``owner`` says which kind) past the BleedBox
    where: str = ''  # where the drawing lies on the page


@dataclass(slots=True)
class _Glyph:
    box: tuple  # left, bottom, right, top in pt
    mark: bool  # a combining mark
    owner: object  # a block index, or ('layout', where its line starts in the page's text)


def read(path, blocks, graphics=False, baselines=False):
    """The :class:`Stray` list of the PDF at ``path``: each text (a block of
    ``blocks``, ``(label, text)`` pairs, or a line of the layout's own) with
    glyphs outside its page's TrimBox on a page, and each text with glyphs
    painting over another text's; with ``graphics``, each kind of drawing
    (boxes, pictures …) painting past the BleedBox; plus the number of glyphs
    read. With ``baselines``, each character's baseline is read along, for
    :func:`preflight.word_spaces` to find in :func:`read_pages`'s memory."""
    pages, drawings, _ = read_pages(path, graphics, baselines)
    strays, count = find_strays(pages, blocks)
    return drawings + strays, count


#: The last two PDFs :func:`read_pages` read, by path and file identity: the
#: preflight reads the print PDF's glyphs once for the ink check and the word
#: spaces both.
_LAST = {}


def read_pages(path, graphics=False, baselines=False):
    """What PDFium reads of the PDF at ``path``: per page ``(trim box, [(code
    point, tight box or None)])``; with ``graphics``, the :class:`Stray` drawings
    past the BleedBox; with ``baselines``, per page, each character's ``(font
    size, baseline)`` (in the order of its characters), else None."""
    import pypdfium2

    key = file_identity(path)
    if key is None:
        raise FileNotFoundError(f'{path}: no such file')
    kept = _LAST.get(key)
    if kept and (kept[1] is not None or not graphics) and (kept[2] or not baselines):
        pages, drawings, lines = kept
        return pages, drawings or [], lines
    document = pypdfium2.PdfDocument(str(path))
    try:
        pages, drawings, lines = [], [], []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            chars, places = _glyphs(textpage, baselines)
            pages.append((page.get_trimbox(), chars))
            lines.append(places)
            if graphics:
                drawings += _drawings(index + 1, page)
            textpage.close()
            page.close()
    finally:
        document.close()
    while len(_LAST) >= 2:  # an edition's print and screen PDFs
        del _LAST[next(iter(_LAST))]
    _LAST[key] = pages, (drawings if graphics else None), (lines if baselines else None)
    return pages, drawings, (lines if baselines else None)


def _glyphs(textpage, baselines=False):
    """``(code point, tight box or None)`` of each character PDFium reads on a
    page, and with ``baselines`` each one's ``(font size, baseline)``."""
    import pypdfium2.raw as raw

    chars, places = [], []
    # Six ctypes doubles, reused for every glyph: the cost is the calls.
    left, bottom, right, top, x, y = (ctypes.c_double() for _ in range(6))
    for char in range(raw.FPDFText_CountChars(textpage)):
        code = raw.FPDFText_GetUnicode(textpage, char)
        if raw.FPDFText_IsGenerated(textpage, char) == 1:
            chars.append((code, None))  # a line break PDFium put in
            places.append(None)
            continue
        raw.FPDFText_GetCharBox(textpage, char, left, right, bottom, top)
        chars.append((code, (left.value, bottom.value, right.value, top.value)))
        if baselines:
            raw.FPDFText_GetCharOrigin(textpage, char, x, y)
            places.append((raw.FPDFText_GetFontSize(textpage, char), y.value))
    return chars, places


#: PDFium's page object types, as messages name what paints (text aside: its
#: glyphs are read one by one).
_KINDS = {2: 'a box or rule', 3: 'a picture', 4: 'a shading', 5: 'a group of drawings'}


def _drawings(number, page):
    """Each kind of drawing on ``page`` (page ``number``) that paints past its
    BleedBox, where its clipping lets it: what the layout draws into the bleed
    must stop at its edge. The printer's marks are drawn outside the bleed on
    purpose, as artifacts of type /Page (see :mod:`marks`), and are left out."""
    import pypdfium2.raw as raw

    x0, y0, x1, y1 = page.get_bleedbox()
    slack = TOLERANCE_MM * MM
    worst = {}  # kind -> [reach, side, count, box]
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    for index in range(raw.FPDFPage_CountObjects(page)):
        thing = raw.FPDFPage_GetObject(page, index)
        kind = _KINDS.get(raw.FPDFPageObj_GetType(thing))
        if kind is None or _printers_mark(thing):
            continue
        raw.FPDFPageObj_GetBounds(thing, left, bottom, right, top)
        box = [left.value, bottom.value, right.value, top.value]
        clip = raw.FPDFPageObj_GetClipPath(thing)
        for path in range(raw.FPDFClipPath_CountPaths(clip) if clip else 0):
            points = [_point(raw.FPDFClipPath_GetPathSegment(clip, path, segment))
                      for segment in range(raw.FPDFClipPath_CountPathSegments(clip, path))]
            if points:  # only what lies inside every clipping path paints
                box = [max(box[0], min(x for x, _ in points)),
                       max(box[1], min(y for _, y in points)),
                       min(box[2], max(x for x, _ in points)),
                       min(box[3], max(y for _, y in points))]
        if box[2] <= box[0] or box[3] <= box[1]:
            continue  # clipped away: nothing paints
        reach = max((box[3] - y1, 'above'), (y0 - box[1], 'below'),
                    (x0 - box[0], 'left of'), (box[2] - x1, 'right of'))
        if reach[0] <= slack:
            continue
        entry = worst.setdefault(kind, [0.0, None, 0, box])
        if reach[0] > entry[0]:
            entry[0], entry[1], entry[3] = reach[0], reach[1], box
        entry[2] += 1
    return [Stray(number, kind, False, side, reach / MM, count, drawing=True,
                  where=_where(box, page.get_trimbox()))
            for kind, (reach, side, count, box) in worst.items()]


def _printers_mark(thing):
    """Whether a page object is one of the printer's marks: in an /Artifact
    sequence with properties (``/Artifact <</Type /Page>> BDC``); WeasyPrint
    marks its artifacts with none."""
    import pypdfium2.raw as raw

    name = (ctypes.c_ushort * 16)()
    length = ctypes.c_ulong()
    for index in range(raw.FPDFPageObj_CountMarks(thing)):
        mark = raw.FPDFPageObj_GetMark(thing, index)
        if (raw.FPDFPageObjMark_GetName(mark, name, ctypes.sizeof(name), length)
                and bytes(name)[:length.value] == 'Artifact\0'.encode('utf-16-le')
                and raw.FPDFPageObjMark_CountParams(mark) > 0):
            return True
    return False


def _point(segment):
    import pypdfium2.raw as raw

    x, y = ctypes.c_float(), ctypes.c_float()
    raw.FPDFPathSegment_GetPoint(segment, x, y)
    return x.value, y.value


def _where(box, trim):
    """Where ``box`` lies, for a designer: mm across from the trim's left edge
    and down from its top."""
    left, bottom, right, top = (round((value - origin) / MM) for value, origin in zip(
        box, (trim[0], trim[3], trim[0], trim[3])))

    def span(start, end):
        return f'{start}' if start == end else f'{start} to {end}'

    return f'{span(left, right)} mm across, {span(-top, -bottom)} mm down'


def find_strays(pages, blocks):
    """:func:`read` on pages already read: ``pages`` a list of ``(trim box,
    [(code point, box or None), …])``, boxes ``(left, bottom, right, top)`` in pt."""
    (glyphs, texts), count = _owned(pages, blocks), 0
    strays = []
    for number, ((trim, _), page_glyphs, text) in enumerate(zip(pages, glyphs, texts), 1):
        count += len(page_glyphs)
        name = lambda owner, text=text: _name(owner, blocks, text)  # noqa: E731
        strays += _outside(number, trim, page_glyphs, name)
        strays += _overlaps(number, trim, page_glyphs, name)
    return strays, count


def _owned(pages, blocks):
    """Per page, a :class:`_Glyph` for each glyph that paints (a box with area)."""
    texts, starts = [], []
    offset = 0
    for _, chars in pages:
        text = ''.join(chr(code) if 0 < code < 0x110000 else '\ufffd' for code, _ in chars)
        starts.append(offset)
        texts.append(text)
        offset += len(text) + 1
    whole = '\n'.join(texts)
    spans = textcheck.word_spans(whole)
    words = [word for _, _, word in spans]
    owner_of_word = {}
    for index, (_, text) in enumerate(blocks):
        wanted = textcheck.words(text)
        # Where it is first found, a running head or folio may come between
        # two of its words; printed again (a title over a page, a running
        # head), it is found whole.
        found = textcheck.locate_block(words, wanted)
        while found:
            for position in found:
                owner_of_word.setdefault(position, index)
            found = textcheck.locate_block(words, wanted, found[0] + 1, max_gap=0)
    found = []
    span_index = 0
    for (_, chars), start in zip(pages, starts):
        page_glyphs = []
        owner, line = None, 0  # line: where the current line starts on the page
        for position, (code, box) in enumerate(chars):
            at = start + position
            while span_index < len(spans) and spans[span_index][1] <= at:
                span_index += 1
            if span_index < len(spans) and spans[span_index][0] <= at:
                # The layout's words are told apart by the line they are on.
                owner = owner_of_word.get(span_index, ('layout', line))
            elif code in (10, 13):
                line = position + 1
            # Other characters (marks, punctuation) go with the word before them on
            # the page, across PDFium's line breaks: a combining mark belongs to
            # the letter it sits on, however far up the font stacks it.
            if box is None:
                continue
            left, bottom, right, top = box
            if right - left <= 0 and top - bottom <= 0:
                continue  # a space: no ink
            mark = 0 < code < 0x110000 and unicodedata.category(chr(code))[0] == 'M'
            page_glyphs.append(_Glyph(box, mark, owner if owner is not None
                                      else ('layout', line)))
        found.append(page_glyphs)
    return found, texts


def _line(text, position, limit=30):
    """The line of ``text`` (a page's) from ``position``, shortened for a message."""
    ends = [end for end in (text.find('\r', position), text.find('\n', position)) if end >= 0]
    line = ' '.join(''.join(char for char in text[position:min(ends, default=len(text))]
                            if unicodedata.category(char)[0] != 'M').split())
    return line if len(line) <= limit else line[:limit - 1] + '…'


def _name(owner, blocks, text):
    """The name of a text in a message, and whether it is a block of the source."""
    if isinstance(owner, int):
        return blocks[owner][0], True
    return f"the layout's text {_line(text, owner[1])!r}", False


def _outside(number, trim, glyphs, name_of):
    """Each text's glyphs that reach past the trim ``trim`` on page ``number``."""
    slack = TOLERANCE_MM * MM
    x0, y0, x1, y1 = trim[0] - slack, trim[1] - slack, trim[2] + slack, trim[3] + slack
    worst = {}  # owner -> [reach, side, glyphs, combining marks]
    for glyph in glyphs:
        left, bottom, right, top = glyph.box
        if left >= x0 and bottom >= y0 and right <= x1 and top <= y1:
            continue
        reach = max((top - trim[3], 'above'), (trim[1] - bottom, 'below'),
                    (trim[0] - left, 'left of'), (right - trim[2], 'right of'))
        entry = worst.setdefault(glyph.owner, [0.0, None, 0, 0])
        if reach[0] > entry[0]:
            entry[0], entry[1] = reach
        entry[2] += 1
        entry[3] += glyph.mark
    strays = []
    for owner, (reach, side, count, marks) in worst.items():
        name, content = name_of(owner)
        strays.append(Stray(number, name, content, side, reach / MM, count, marks))
    return strays


def _overlaps(number, trim, glyphs, name_of):
    """Each pair of texts on page ``number``, one of them the source's, with
    glyphs of one painting over glyphs of the other by more than the tolerance
    both ways. The one named first, as painting over the other, is the one out
    of place: the one whose glyph is a combining mark (a mark piled up out of
    its line), else the source's text where the other is the layout's (which
    stays where it was put), else the one drawn later."""
    slack = TOLERANCE_MM * MM
    # Glyphs are sorted into the cells of a grid over the page (and a little
    # beyond), by text: only glyphs of two texts in one cell can meet. Far off
    # the page they go into the cells of its edge, so a huge glyph costs no
    # more than the page.
    reach = 4 * _CELL
    low_x, high_x = int((trim[0] - reach) // _CELL), int((trim[2] + reach) // _CELL)
    low_y, high_y = int((trim[1] - reach) // _CELL), int((trim[3] + reach) // _CELL)
    cells = {}  # (column, row) -> {text: [glyph]}
    pairs = {}  # (text over, text under) -> [glyphs, combining marks]
    for glyph in glyphs:
        left, bottom, right, top = glyph.box
        owner, content = glyph.owner, isinstance(glyph.owner, int)
        met = set()
        for column in range(min(max(int(left // _CELL), low_x), high_x),
                            min(max(int(right // _CELL), low_x), high_x) + 1):
            for row in range(min(max(int(bottom // _CELL), low_y), high_y),
                             min(max(int(top // _CELL), low_y), high_y) + 1):
                here = cells.setdefault((column, row), {})
                for other_owner, others in here.items():
                    if other_owner == owner or other_owner in met or not (
                            content or isinstance(other_owner, int)):
                        continue  # the layout's texts over each other are its design
                    for other in others:
                        a = other.box
                        if (min(a[2], right) - max(a[0], left) > slack
                                and min(a[3], top) - max(a[1], bottom) > slack):
                            met.add(other_owner)
                            over, under = _out_of_place(glyph, other)
                            entry = pairs.setdefault((over.owner, under.owner), [0, 0])
                            entry[0] += 1
                            entry[1] += over.mark
                            break
                here.setdefault(owner, []).append(glyph)
    strays = []
    for (over, under), (count, marks) in pairs.items():
        name, content = name_of(over)
        strays.append(Stray(number, name, content, count=count, marks=marks,
                            over=name_of(under)[0]))
    return strays


def _out_of_place(later, earlier):
    """Of two glyphs of two texts painting over each other, ``(the one out of
    place, the other)``: a combining mark (piled up out of its line), else the
    source's text where the other is the layout's, else the one drawn later."""
    if later.mark != earlier.mark:
        return (later, earlier) if later.mark else (earlier, later)
    if isinstance(earlier.owner, int) and not isinstance(later.owner, int):
        return earlier, later
    return later, earlier
