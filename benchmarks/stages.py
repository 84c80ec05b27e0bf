"""Where an edition's build time goes: CPU seconds per edition, stage by stage.

    .venv/bin/python benchmarks/stages.py [--runs 3]

Builds the six nine-facts editions in this one process (no workers), once to
find their copyfit sizes, then ``--runs`` times more with those sizes trusted
(one layout per edition, as a forced rebuild does), into a temporary folder.
Prints the best run's CPU time per edition, and each stage's share of it: a
timer wrapped around the pipeline's functions, nested ones counted in their
callers too (``check_ink_bounds`` is part of ``preflight``). The layout and
the PDF written are what bare WeasyPrint does too (bench.py's floor); the rest
is what the build adds. Not a test: nothing fails.
"""

import argparse
import collections
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bindery import (handoff, imposition, layouts, manifest, pdf, pipeline,  # noqa: E402
                     preflight, presskit, previews)

#: ``(module or class, function name, what it is)``, outermost first.
STAGES = [
    (pdf.Renderer, 'render', 'layout (WeasyPrint)'),
    (pdf, 'write_pdf', 'PDF written (WeasyPrint)'),
    (pipeline, 'check_edition', 'content loaded and checked'),
    (preflight, 'preflight', 'preflight of print and screen'),
    (preflight, 'check_ink_bounds', '  of which the ink check'),
    (preflight, 'check_rgb', '  of which the colour check'),
    (preflight, 'check_text', '  of which the text check'),
    (preflight, 'check_pdfua', '  of which PDF/UA'),
    (pdf, 'finish_print', 'print finished (PDF/X, marks)'),
    (pdf, 'finish_screen', 'screen finished (RGB, trimmed)'),
    (imposition, 'impose_file', 'imposed proof'),
    (previews, 'cover_png', 'cover PNG'),
    (presskit, 'make_kit', 'press-kit pictures'),
    (handoff, 'make_bundle', 'hand-off zip'),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=3)
    runs = parser.parse_args().runs
    os.environ['SOURCE_DATE_EPOCH'] = '1700000000'
    spent = collections.Counter()

    def timed(function, label):
        def wrapper(*args, **kwargs):
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - started
        return wrapper

    for owner, name, label in STAGES:
        original = getattr(owner, name)
        setattr(owner, name, timed(original, label))
        for output, finisher in pdf.OUTPUTS.items():  # called through this table
            if finisher is original:
                pdf.OUTPUTS[output] = getattr(owner, name)
    booklet = next(b for b in manifest.load_booklets(ROOT)[0] if b.name == 'nine-facts')
    layout = layouts.load_layout(ROOT, booklet.layout)
    with tempfile.TemporaryDirectory() as out:
        sizes = {}
        for country, lang in booklet.editions:
            result = pipeline.build_edition(ROOT, booklet, layout, country, lang, out)
            sizes[country, lang] = {k: Decimal(v) for k, v in result.copyfit.items()}
        best = None
        for _ in range(runs):
            spent.clear()
            started = time.process_time()
            for country, lang in booklet.editions:
                result = pipeline.build_edition(ROOT, booklet, layout, country, lang, out,
                                                sizes[country, lang], True)
                assert result.ok, result.errors
            total = time.process_time() - started
            if best is None or total < best[0]:
                best = total, dict(spent)
    total, stages = best
    count = len(booklet.editions)
    print(f'{count} nine-facts editions, best of {runs} run(s), CPU seconds per edition')
    print(f'{"all of it":34} {total / count:6.3f}')
    for _, _, label in STAGES:
        print(f'{label:34} {stages.get(label, 0) / count:6.3f}')
    named = sum(stages.get(label, 0) for _, _, label in STAGES if not label.startswith(' '))
    print(f'{"the rest (stamps, report, renames)":34} {(total - named) / count:6.3f}')


if __name__ == '__main__':
    main()
