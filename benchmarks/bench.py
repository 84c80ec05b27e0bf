"""Time a full build against the floor: the same HTML rendered by bare WeasyPrint.

    .venv/bin/python benchmarks/bench.py [--runs 5]

Prints medians and their ratio, each measured in the same run: machines here are
noisy, so only ratios and medians mean anything. Not a test: nothing fails.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bindery import fonts, layouts, manifest, pdf, pipeline  # noqa: E402


def standalone_html(booklet, layout, country, lang):
    """The print HTML of an edition with its generated CSS inlined, for bare WeasyPrint."""
    edition, context = pipeline.check_edition(ROOT, booklet, layout, country, lang)
    context = dict(context, created=None, stylesheets=[
        (layout.folder / name).as_uri() for name in layout.spec['stylesheets']])
    html = layouts.render_html(layout, context)
    generated = [fonts.font_face_css(layout, ROOT), layout.colors_css('cmyk'),
                 pdf.page_css(booklet, 'print')]
    styles = ''.join(f'<style>{css}</style>' for css in generated)
    return html.replace('</head>', styles + '</head>', 1)


def timed(command, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=5)
    args = parser.parse_args()
    python = sys.executable
    booklet = manifest.load_booklets(ROOT)[0][0]
    layout = layouts.load_layout(ROOT, booklet.layout)
    with tempfile.TemporaryDirectory() as temp:
        os.environ['SOURCE_DATE_EPOCH'] = '1700000000'
        full, full_runs = timed([python, 'render.py', '-j1', '--out', temp], args.runs)
        bare_commands = []
        for country, lang in booklet.editions:
            html = Path(temp, f'{country}-{lang}.html')
            html.write_text(standalone_html(booklet, layout, country, lang), encoding='utf-8')
            bare_commands.append([python, '-m', 'weasyprint', str(html), str(html) + '.pdf'])
        bare = []
        for _ in range(args.runs):
            started = time.perf_counter()
            for command in bare_commands:
                subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
            bare.append(time.perf_counter() - started)
        bare_median = statistics.median(bare)
    editions = len(booklet.editions)
    print(f'editions: {editions}, runs: {args.runs}')
    print(f'python render.py -j1 (all outputs): median {full:.2f} s  '
          f'[{", ".join(f"{t:.2f}" for t in full_runs)}]')
    print(f'bare weasyprint, one process per edition: median {bare_median:.2f} s  '
          f'[{", ".join(f"{t:.2f}" for t in bare)}]')
    print(f'ratio full build / bare WeasyPrint: {full / bare_median:.2f}')


if __name__ == '__main__':
    main()
