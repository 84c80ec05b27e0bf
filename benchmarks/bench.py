"""How long people wait on the build, each figure as a ratio measured in the same run.

    .venv/bin/python benchmarks/bench.py [--runs 5]

Machines here are noisy: only medians and ratios mean anything. Not a test:
nothing fails; the targets are printed beside the ratios.

- full build ÷ floor: ``render.py --force -j1`` (every output of every edition)
  against the floor: bare WeasyPrint laying out each edition's print HTML once
  and writing one PDF, all in one process. Beside it, as more flattering
  floors, not instead: that one layout written as two PDFs (a tagged one too),
  and the print and the screen HTML each laid out and written (the build did
  that once). The forced build starts copyfitting from the sizes the last build
  into the folder chose (for unchanged inputs, one layout); a build into an
  empty folder, which has to search for them, is shown beside it;
- no-op rebuild ÷ ``python -c "import weasyprint"``;
- a one-fact edit ÷ one cold edition (``--force`` of that edition alone): the
  same Kazakh fact edited again, so only kk is rebuilt; beside it, a fact's
  first edit, which rebuilds the Russian and English translations too (their
  reports now say the fact is stale);
- ``-j2`` ÷ ``-j1`` (full builds);
- peak memory of a worker (the largest resident set of the build's children).
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bindery import fonts, layouts, manifest, pdf, pipeline  # noqa: E402

PYTHON = sys.executable
FACT = 'data/kazakhstan/kk.yaml'


def standalone_html(booklet, layout, country, lang, output='print'):
    """The HTML of an edition's ``output`` with its generated CSS inlined, for bare
    WeasyPrint."""
    edition, context = pipeline.check_edition(ROOT, booklet, layout, country, lang)
    context = dict(context, created=None, stylesheets=[
        (layout.folder / name).as_uri() for name in layout.spec['stylesheets']])
    html = layouts.render_html(layout, context)
    generated = [fonts.font_face_css(layout, ROOT),
                 layout.colors_css('cmyk' if output == 'print' else 'rgb'),
                 pdf.page_css(booklet, bleed=output == 'print')]
    styles = ''.join(f'<style>{css}</style>' for css in generated)
    return html.replace('</head>', styles + '</head>', 1)


FLOOR = '''
import sys, weasyprint
for path in sys.argv[1:]:
    weasyprint.HTML(path).write_pdf(path + '.pdf')
'''

FLOOR_STRICT = '''
import sys, weasyprint
for path in sys.argv[1:]:
    weasyprint.HTML(path).render().write_pdf(path + '.pdf')
'''

FLOOR_TWO_PDFS = '''
import sys, weasyprint
for path in sys.argv[1:]:
    document = weasyprint.HTML(path).render()
    document.write_pdf(path + '.pdf')
    document.write_pdf(path + '.tagged.pdf', pdf_tags=True)
'''


def timed(command, runs, cwd=ROOT, before=None):
    """The median wall time of ``command`` over ``runs``, and the runs."""
    times = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=cwd)
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def line(label, value, target=None, unit=''):
    mark = '' if target is None else f'   (target ≤ {target}{unit}: ' + (
        'met)' if value <= target else 'NOT met)')
    print(f'{label:44} {value:8.2f}{unit}{mark}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=5)
    runs = parser.parse_args().runs
    os.environ['SOURCE_DATE_EPOCH'] = '1700000000'
    booklet = next(b for b in manifest.load_booklets(ROOT)[0] if b.name == 'nine-facts')
    layout = layouts.load_layout(ROOT, booklet.layout)
    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp)
        # A copy of the project, so that the edit below never touches the real one.
        project = temp / 'project'
        for name in ('data', 'layouts', 'booklets', 'fonts', 'profiles', 'hyphenation',
                     'bindery', 'render.py', 'requirements.txt'):
            source = ROOT / name
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, project / name)
        build = [PYTHON, 'render.py', booklet.name, '--out', str(temp / 'out')]

        htmls = []  # what bare WeasyPrint needs for both PDFs: the print and the screen HTML
        for country, lang in booklet.editions:
            for output in ('print', 'screen'):
                path = temp / f'{country}-{lang}-{output}.html'
                path.write_text(standalone_html(booklet, layout, country, lang, output),
                                encoding='utf-8')
                htmls.append(str(path))
        strict, strict_runs = timed([PYTHON, '-c', FLOOR_STRICT, *htmls[::2]], runs)
        two_pdfs, _ = timed([PYTHON, '-c', FLOOR_TWO_PDFS, *htmls[::2]], runs)
        floor, floor_runs = timed([PYTHON, '-c', FLOOR, *htmls], runs)
        empty, empty_runs = timed(build + ['--force', '-j1'], runs, project,
                                  before=lambda: shutil.rmtree(temp / 'out', True))
        full, full_runs = timed(build + ['--force', '-j1'], runs, project)
        full2, full2_runs = timed(build + ['--force', '-j2'], runs, project)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run(build + ['--force', '-j2'], check=True, capture_output=True,
                       cwd=project)
        peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        noop, noop_runs = timed(build, runs, project)
        importing, _ = timed([PYTHON, '-c', 'import weasyprint'], runs)
        cold, _ = timed([PYTHON, 'render.py', '--out', str(temp / 'out'), '--force',
                         f'{booklet.name}/kazakhstan/kk'], runs, project)

        fact_file = project / FACT
        original = fact_file.read_text(encoding='utf-8')
        edits = iter(range(10 ** 6))

        def edit_one_fact():
            text = original.replace('300-ден астам түлек', f'300-ден астам түлек {next(edits)}')
            fact_file.write_text(text, encoding='utf-8')
        edit, edit_runs = timed(build, runs, project, before=edit_one_fact)

        def first_edit():  # the fact's first change: its translations now say it is stale
            fact_file.write_text(original, encoding='utf-8')
            subprocess.run(build, check=True, capture_output=True, cwd=project)
            edit_one_fact()
        first, _ = timed(build, runs, project, before=first_edit)

    editions = len(booklet.editions)
    print(f'{editions} editions, medians of {runs} runs; every output (print, screen, '
          'imposed, cover, hand-off, preflight)')
    line('full build -j1 (s)', full)
    line('floor: bare WeasyPrint, one layout, one PDF (s)', strict)
    line('  full build ÷ floor', full / strict, 1.3)
    line('full build -j1 into an empty folder (s)', empty)
    line('  ÷ floor', empty / strict)
    print('beside it, more flattering floors:')
    line('floor: one layout written as two PDFs (s)', two_pdfs)
    line('  full build ÷ that floor', full / two_pdfs)
    line('floor: print + screen HTML each laid out (s)', floor)
    line('  full build ÷ that floor', full / floor)
    line('no-op rebuild (s)', noop)
    line('python -c "import weasyprint" (s)', importing)
    line('  no-op ÷ import weasyprint', noop / importing, 0.5)
    line('one-fact edit (s)', edit)
    line('one cold edition (s)', cold)
    line('  one-fact edit ÷ one cold edition', edit / cold, 1.2)
    line('a fact\'s first edit (its translations too) (s)', first)
    line('  ÷ one cold edition', first / cold)
    line('full build -j2 (s)', full2)
    line('  -j2 ÷ -j1', full2 / full, 0.65)
    line('peak memory of a worker (MB)', peak_mb, 200, ' MB')
    print('runs (s): full -j1 ' + ', '.join(f'{t:.2f}' for t in full_runs)
          + '; empty folder ' + ', '.join(f'{t:.2f}' for t in empty_runs)
          + '; -j2 ' + ', '.join(f'{t:.2f}' for t in full2_runs)
          + '; floor ' + ', '.join(f'{t:.2f}' for t in strict_runs)
          + '; no-op ' + ', '.join(f'{t:.2f}' for t in noop_runs)
          + '; edit ' + ', '.join(f'{t:.2f}' for t in edit_runs))


if __name__ == '__main__':
    main()
