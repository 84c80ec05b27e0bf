"""Measure the gaps between words in justified text, without and with hyphenation.

    .venv/bin/python benchmarks/wordgaps.py

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
    main()
