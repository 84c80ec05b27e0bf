"""Measure the gaps between words in justified text, without and with hyphenation.

    .venv/bin/python benchmarks/wordgaps.py
    .venv/bin/python benchmarks/wordgaps.py build/   # every justified paragraph built

With a folder (or PDF files), every justified paragraph of every print PDF in
it is found from the character positions alone, by PDFium and by poppler, and
its 99th percentile word space printed, worst first, with the worst per PDF
(see paragraphs()).
Without, as follows.

For every edition, the justified reading text (the intro, page 2) is set twice,
once with ``hyphens: manual`` (no hyphenation) and once with ``hyphens: auto``
(what the booklet ships), and the space between words on every justified line
is read back from the PDF with PDFium (character boxes: the gap from one word's
last glyph to the next word's first, side bearings included). Prints the median
and 99th percentile gap per language, in points.
"""

import ctypes
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pypdfium2  # noqa: E402

from benchmarks.bench import standalone_html  # noqa: E402
from bindery import layouts, manifest  # noqa: E402

JUSTIFY = '.intro p {{ text-align: justify !important; hyphens: {} !important; }}'


def gaps_in(pdf_path, pages):
    """The gaps (pt) between words on justified lines of ``pages`` (1-based)."""
    document = pypdfium2.PdfDocument(str(pdf_path))
    gaps = []
    for number in pages:
        text = document[number - 1].get_textpage()
        lines = {}
        for index in range(text.count_chars()):
            char = text.get_text_range(index, 1)
            size = pypdfium2.raw.FPDFText_GetFontSize(text.raw, index)
            if not char.strip() or not 8.5 <= size <= 14.5:
                continue  # spaces, and what is not reading text (numerals, headings)
            left, bottom, right, top = text.get_charbox(index)
            lines.setdefault(round(_baseline(text, index), 1), []).append(
                (left, right, top - bottom, char))
        rows = [sorted(chars) for chars in lines.values() if len(chars) > 20]
        if not rows:
            continue
        # The right edge of the measure: where most lines end (a hyphen may
        # stick out a little past it, the last line of a paragraph stops short).
        ends = sorted(round(chars[-1][1]) for chars in rows)
        edge = max(set(ends), key=ends.count)
        for chars in rows:
            if abs(edge - chars[-1][1]) > 1.5:  # a paragraph's last line: not justified
                continue
            for (_, r1, _, _), (l2, _, _, _) in zip(chars, chars[1:]):
                if l2 - r1 > 1.2:  # more than tracking: a word space
                    gaps.append(l2 - r1)
    document.close()
    return gaps


#: The sizes of text measured per paragraph: running text, not display type.
PARAGRAPH_SIZES = (6.0, 20.0)


def _lines(text):
    """The lines of a text page: ``[(baseline, size, [(left, right, char)])]``,
    a line split where a gap is wider than a column gutter could be a space.
    Characters of one baseline are one line whatever their font: a script face
    (Noto Serif Armenian) may report another size than the face of the spaces."""
    rows = {}
    for index in range(text.count_chars()):
        char = text.get_text_range(index, 1)
        size = pypdfium2.raw.FPDFText_GetFontSize(text.raw, index)
        if not char.strip() or not PARAGRAPH_SIZES[0] <= size <= PARAGRAPH_SIZES[1]:
            continue
        left, _, right, _ = text.get_charbox(index)
        rows.setdefault(round(_baseline(text, index), 1), []).append(
            (left, right, char, round(size, 1)))
    lines = []
    for baseline, chars in rows.items():
        chars.sort()
        sizes = [size for *_, size in chars]
        size = max(set(sizes), key=sizes.count)
        chars = [(left, right, char) for left, right, char, _ in chars]
        start = 0
        for i in range(1, len(chars) + 1):
            if i == len(chars) or chars[i][0] - chars[i - 1][1] > 2.5 * size:
                lines.append((baseline, size, chars[start:i]))
                start = i
    lines.sort(key=lambda line: (-line[0], line[2][0][0]))
    return lines


def _poppler_lines(pdf_path):
    """``{page: [(baseline, size, [(left, right, word)])]}`` from poppler's word
    boxes (``pdftotext -bbox-layout``): boxes by advance widths, placed by the
    text operators as the PDF specification says."""
    import re
    import subprocess
    from html import unescape

    xhtml = subprocess.run(['pdftotext', '-bbox-layout', str(pdf_path), '-'],
                           capture_output=True, check=True, text=True).stdout
    pages = {}
    for number, page in enumerate(xhtml.split('<page ')[1:], 1):
        # poppler's own lines split at a wide word space: words of one baseline
        # are one line here, split only where a gap is wider than a gutter.
        rows = {}
        for x0, y0, x1, y1, text in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                r'yMax="([\d.]+)">(.*?)</word>', page):
            size = (float(y1) - float(y0)) / 1.36  # the box is ascent + descent
            if PARAGRAPH_SIZES[0] <= size <= PARAGRAPH_SIZES[1]:
                rows.setdefault(round(float(y1), 1), []).append(
                    (float(x0), float(x1), unescape(text), round(size, 1)))
        lines = []
        for bottom, words in rows.items():
            words.sort()
            sizes = [size for *_, size in words]
            size = max(set(sizes), key=sizes.count)
            words = [(x0, x1, text) for x0, x1, text, _ in words]
            start = 0
            for i in range(1, len(words) + 1):
                if i == len(words) or words[i][0] - words[i - 1][1] > 2.5 * size:
                    lines.append((-bottom, size, words[start:i]))
                    start = i
        pages[number] = sorted(lines, key=lambda line: (-line[0], line[2][0][0]))
    return pages


def paragraphs(pdf_path, reader='pdfium'):
    """``[(page, first words, gaps)]``: each justified paragraph of the PDF and the
    word spaces (pt) of its justified lines, read by ``reader``: 'pdfium' (the
    ink of each character: a gap runs from one glyph's ink to the next, side
    bearings included) or 'poppler' (word boxes by advance widths).

    PDFium drops the positioning a TJ array puts after an empty string, which
    WeasyPrint 70 writes for a justified space when the words around it are in
    another font (Armenian or Georgian words, spaces in Noto Serif): there it
    sees lines far shorter than they print, and only poppler measures them.

    Lines of one size and one line pitch, over one another, make a block (a
    paragraph, or several with no space between); a block of two lines or more
    is justified when its right edge, where its longest line ends, is where
    another line of the page ends too (within 1.5 pt: glyphs differ in side
    bearings); a paragraph ends at a line that stops short of the edge (its last
    line, not measured) or where the block ends."""
    if reader == 'poppler':
        pages = _poppler_lines(pdf_path)
    else:
        document = pypdfium2.PdfDocument(str(pdf_path))
        pages = {number + 1: _lines(document[number].get_textpage())
                 for number in range(len(document))}
        document.close()
    found = []
    for number, lines in pages.items():
        blocks = []
        for line in lines:
            baseline, size, chars = line
            for block in blocks:
                last_base, last_size, last_chars = block[-1]
                pitch = last_base - baseline
                same_pitch = (len(block) < 2 or abs(pitch - (block[-2][0] - last_base)) < 0.6)
                overlap = chars[0][0] < last_chars[-1][1] and last_chars[0][0] < chars[-1][1]
                if (abs(size - last_size) < 0.05 * size and 0 < pitch < 2.2 * size and same_pitch
                        and overlap):
                    block.append(line)
                    break
            else:
                blocks.append([line])
        all_ends = [chars[-1][1] for _, _, chars in lines]
        for block in blocks:
            ends = [chars[-1][1] for _, _, chars in block]
            edge = max(ends)
            if len(block) < 2 or sum(abs(edge - end) <= 1.5 for end in all_ends) < 2:
                continue  # one line, or ragged: no other line ends where it does
            paragraph = []
            for _, size, chars in block:
                if abs(edge - chars[-1][1]) <= 1.5:
                    paragraph.append(chars)
                    continue
                if paragraph:
                    found.append(_paragraph(number, paragraph))
                paragraph = []
            if paragraph:
                found.append(_paragraph(number, paragraph))
    return found


def _paragraph(page, lines):
    gaps = [l2 - r1 for chars in lines for (_, r1, _), (l2, _, _) in zip(chars, chars[1:])
            if l2 - r1 > 1.2]
    first = ''.join(char for _, _, char in lines[0][:40])
    return page, first, gaps


def report_paragraphs(paths, limit=9.0):
    """Print the p99 word space of every justified paragraph of ``paths``, worst
    first, read by PDFium and by poppler; a PDF's worst is the larger reading."""
    rows = []
    for path in paths:
        name = f'{Path(path).parent.name}/{Path(path).name}'
        for reader in ('pdfium', 'poppler'):
            for page, first, gaps in paragraphs(path, reader):
                if gaps:
                    rows.append((percentile(gaps, 0.99), len(gaps), reader, name, page, first))
    worst = {}
    for p99, _, reader, name, _, _ in rows:
        worst.setdefault(name, {'pdfium': 0.0, 'poppler': 0.0})
        worst[name][reader] = max(worst[name][reader], p99)
    print(f'{"p99 pt":>7} {"gaps":>5} {"reader":8} {"pdf":40} page  starts')
    for p99, count, reader, name, page, first in sorted(rows, reverse=True):
        flag = '  over' if p99 > limit else ''
        print(f'{p99:7.2f} {count:5} {reader:8} {name:40} {page:4}  {first[:30]}{flag}')
    print(f'\nworst paragraph per PDF (limit {limit} pt): PDFium, poppler')
    for name, readings in sorted(worst.items()):
        over = '  over' if max(readings.values()) > limit else ''
        print(f"{readings['pdfium']:7.2f} {readings['poppler']:7.2f}  {name}{over}")
    return {name: max(readings.values()) for name, readings in worst.items()}


def _baseline(text, index):
    """The y of a character's origin: letters with descenders share it with the rest."""
    x, y = ctypes.c_double(), ctypes.c_double()
    pypdfium2.raw.FPDFText_GetCharOrigin(text.raw, index, ctypes.byref(x), ctypes.byref(y))
    return y.value


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    import weasyprint

    from bindery import hyphenation
    hyphenation.register()
    booklet = manifest.load_booklets(ROOT)[0][0]
    layout = layouts.load_layout(ROOT, booklet.layout)
    by_lang = {}
    with tempfile.TemporaryDirectory() as temp:
        for country, lang in booklet.editions:
            html = standalone_html(booklet, layout, country, lang)
            for mode in ('manual', 'auto'):
                styled = html.replace('</head>', f'<style>{JUSTIFY.format(mode)}</style></head>')
                target = Path(temp, f'{country}-{lang}-{mode}.pdf')
                weasyprint.HTML(string=styled, base_url=layout.folder.as_uri() + '/').write_pdf(
                    target)
                by_lang.setdefault(lang, {}).setdefault(mode, []).extend(
                    gaps_in(target, [2]))
    print(f'{"lang":5} {"hyphenation":12} {"gaps":>6} {"median pt":>10} {"p99 pt":>8}')
    for lang, modes in sorted(by_lang.items()):
        for mode, gaps in modes.items():
            label = 'off' if mode == 'manual' else 'on'
            print(f'{lang:5} {label:12} {len(gaps):6} {statistics.median(gaps):10.2f} '
                  f'{percentile(gaps, 0.99):8.2f}')


if __name__ == '__main__':
    if len(sys.argv) > 1:
        targets = [Path(arg) for arg in sys.argv[1:]]
        report_paragraphs(sorted(
            path for target in targets
            for path in (target.rglob('*-print.pdf') if target.is_dir() else [target])))
    else:
        main()
