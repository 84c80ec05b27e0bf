"""The command line: ``build`` (the default) and ``check``; turns errors into exit codes."""

import argparse
import os
import sys
import time
from pathlib import Path

from . import __version__, cache, report
from .editions import is_complete, remove_leftovers, unbuildable, up_to_date, write_fault
from .errors import BookletError, SourceErrors, UsageError
from .manifest import load_booklets

# The pipeline and its workers load WeasyPrint: they are imported only when an
# edition has to be checked in full or built, so that a build with nothing to
# do stays fast.
TIME_LIMIT = 120
COMMANDS = ('build', 'check', 'new', 'schemas', 'serve', 'translate')


def parser():
    """The argument parser (``render.py --help``)."""
    p = argparse.ArgumentParser(
        prog='render.py', description='Build the booklets in booklets/ from the content '
        'in data/: print and screen PDFs, cover image and preflight report per edition.',
        epilog='Targets narrow the work: a product (nine-facts), a country (kyrgyzstan), '
        'an edition (kyrgyzstan/ky) or an edition of one product (poster/kyrgyzstan/ky). '
        'Exit status: 0 all built, 1 something failed, 2 usage error.')
    p.add_argument('command', nargs='?', default='build', help='build (default); check: '
                   'validate content, layouts and font coverage without rendering; '
                   'new COUNTRY LANG: write starter content for a new edition; schemas: '
                   'write schemas/*.json, the JSON Schema of each kind of content file '
                   'for editors; serve: '
                   'build, watch the sources, rebuild and preview on 127.0.0.1; '
                   'translate accept|export|import|pseudo: the translators\' workflow '
                   '(render.py translate --help)')
    p.add_argument('targets', nargs='*', help='booklets, countries or editions to build')
    p.add_argument('--out', default='build', metavar='DIR', help='output folder (build/)')
    p.add_argument('-j', '--jobs', type=int, default=0, metavar='N',
                   help='worker processes (default: one per core)')
    p.add_argument('--port', type=int, default=8000,
                   help='the port serve listens on, on 127.0.0.1 (8000)')
    p.add_argument('--force', action='store_true',
                   help='rebuild every edition, even those already up to date')
    p.add_argument('--time-limit', type=int, default=TIME_LIMIT, metavar='S',
                   help=f'seconds an edition may take before it is stopped '
                        f'({TIME_LIMIT})')
    p.add_argument('--strict', action='store_true',
                   help='build, check: warnings (an out-of-date translation) fail the run')
    p.add_argument('--debug', action='store_true', help='show tracebacks of bugs')
    p.add_argument('--version', action='version', version=f'bindery {__version__}')
    return p


def select(booklets, targets):
    """The ``(booklet, country, lang)`` to work on; :class:`UsageError` for unknown targets."""
    chosen, matched = [], set()
    for booklet in booklets:
        for country, lang in booklet.editions:
            edition = f'{country}/{lang}'
            hits = {t for t in targets
                    if t in (booklet.name, country, edition, f'{booklet.name}/{country}',
                             f'{booklet.name}/{edition}')}
            matched |= hits
            if not targets or hits:
                chosen.append((booklet, country, lang))
    unknown = [t for t in targets if t not in matched]
    if unknown:
        known = sorted({b.name for b in booklets} | {c for b in booklets for c, _ in b.editions}
                       | {f'{c}/{l}' for b in booklets for c, l in b.editions}
                       | {f'{b.name}/{c}' for b in booklets for c, _ in b.editions}
                       | {f'{b.name}/{c}/{l}' for b in booklets for c, l in b.editions})
        raise UsageError(f"unknown target {unknown[0]!r} (known: {', '.join(known)})")
    return chosen


def _select(root, targets):
    """The work, ``(booklet, country, lang)`` triples, and the broken booklet files."""
    booklets, errors = load_booklets(root)
    if not booklets and not errors:
        raise UsageError('no booklets in booklets/: add one, e.g. booklets/nine-facts.yaml')
    return select(booklets, targets), [str(error) for error in errors]


def _load_layouts(root, names):
    """The layouts that load, and the errors of those that do not (their editions
    fail alone)."""
    from .layouts import load_layout  # Jinja and fontTools: only when there is work

    layouts, errors = {}, []
    for name in sorted(names):
        try:
            layouts[name] = load_layout(root, name)
        except SourceErrors as exc:
            errors += [str(error) for error in exc.errors]
    return layouts, errors


def run_check(root, targets, strict=False):
    """Validate every selected edition; return the exit code (warnings fail it
    when ``strict``)."""
    from .pipeline import check_edition
    from .translate import stale_fields

    work, problems = _select(root, targets)
    layouts, broken = _load_layouts(root, {booklet.layout for booklet, _, _ in work})
    problems += broken
    seen, warnings = set(problems), []
    for booklet, country, lang in work:
        if booklet.layout not in layouts:
            continue
        try:
            edition, _ = check_edition(root, booklet, layouts[booklet.layout], country, lang)
            warnings += stale_fields(root, edition, layouts[booklet.layout])
        except SourceErrors as exc:
            problems += [str(e) for e in exc.errors if str(e) not in seen]
            seen.update(str(e) for e in exc.errors)
    # Against an original with errors of its own, staleness is unsure: those first.
    broken_files = {line.split(':', 1)[0] for line in problems}
    warnings = list(dict.fromkeys(str(w) for w in warnings
                                  if getattr(w, 'original', None) not in broken_files))
    report.print_problems(warnings, 'error' if strict else 'warning')
    report.print_problems(problems)
    report.print_hyphenation({lang for _, _, lang in work}, warn=True)
    editions = len({(c, l) for _, c, l in work})
    if warnings and (strict or not problems):
        report.console.print(f'{len(warnings)} warning(s)'
                             + (' (--strict: they count as errors)' if strict else ''))
    if strict and warnings and not problems:
        return report.EXIT_FAILED
    if problems:
        report.console.print(f'{len(problems)} problem(s) in {editions} edition(s)')
        return report.EXIT_FAILED
    report.console.print(f'{editions} edition(s) checked: content, layouts and fonts are '
                         'fine')
    return report.EXIT_OK


def run_build(root, out, targets, jobs, time_limit=TIME_LIMIT, force=False):
    """Build every selected edition that is not up to date; return the problems
    found before building (broken booklet and layout files) and a result per
    edition, in order.

    Whether an edition is up to date is decided from fingerprints alone, before
    any layout is loaded: a build with nothing to do loads no layout, font or
    renderer.
    """
    work, problems = _select(root, targets)
    for folder in {Path(out, booklet.name) for booklet, _, _ in work}:
        remove_leftovers(folder)  # of a build that was killed
    stamps = cache.Stamps(out)
    results, todo = [], []
    for booklet, country, lang in work:
        key = cache.edition_key(booklet, country, lang)
        stamp = cache.fingerprint(root, booklet, booklet.layout, country, lang, split=True)
        if not force and stamps.is_fresh(key, stamp[0]) and is_complete(
                out, booklet, f'{country}/{lang}'):
            results.append(up_to_date(booklet, country, lang, out))
            continue
        results.append(None)
        todo.append((len(results) - 1, key, stamp, booklet, country, lang, force))
    if todo:
        from . import workers

        jobs = jobs or min(len(todo), os.cpu_count() or 1)
        pool = workers.start(jobs)  # they import WeasyPrint while the layouts load
        try:
            _build(root, out, todo, jobs, time_limit, pool, stamps, results, problems)
        finally:
            pool.shutdown()  # done already, unless something failed before the build
    try:
        stamps.save()
    except OSError as exc:  # the editions are built; they will be rebuilt next time
        message = write_fault(exc, Path(out, cache.STAMP_FILE))
        if message is None:
            raise
        problems.append(message.replace('the last good files are kept',
                                        'the editions built are rebuilt next time'))
    return problems, results


def _build(root, out, todo, jobs, time_limit, pool, stamps, results, problems):
    """Load the layouts of ``todo`` and build its editions in ``pool``, filling in
    ``results``, ``problems`` and ``stamps``."""
    from . import workers

    layouts, broken = _load_layouts(root, {booklet.layout for *_, booklet, _, _, _ in todo})
    problems += broken
    tasks = []
    for index, key, (stamp, own), booklet, country, lang, force in todo:
        if booklet.layout in layouts:
            # Copyfitting starts from the sizes the last build chose (copyfit.fit);
            # a translation whose original alone changed may need no build at all.
            recheck = None if force else stamps.translation(key, own)
            tasks.append((index, key, (stamp, own),
                          (root, booklet, layouts[booklet.layout], country, lang, out,
                           *stamps.copyfit(key, stamp), recheck)))
        else:
            results[index] = unbuildable(booklet, country, lang, out)
            stamps.forget(key)
    if tasks:
        with report.progress(len(tasks)) as advance:
            built = workers.build_all([task for *_, task in tasks], jobs, advance,
                                      time_limit, pool=pool)
        for (index, key, (stamp, own), _), result in zip(tasks, built):
            results[index] = result
            if result.ok and result.fresh:
                stamps.still(key, stamp)
            elif result.ok:
                stamps.record(key, stamp, result.files.values(), result.copyfit, own,
                              result.translation)
            else:
                stamps.forget(key)


def _serve(root, args):
    """``render.py serve``: build, then watch, rebuild and preview on 127.0.0.1."""
    from .serve import serve

    def build(targets):
        problems, results = run_build(root, args.out, list(targets), args.jobs,
                                      args.time_limit)
        for result in results:  # a broken layout's errors belong on its editions' pages
            if not result.ok and problems:
                result.errors = problems + result.errors
        return results

    from .workers import PreviewWorker

    worker = PreviewWorker()

    def preview(targets):
        yield from run_preview(root, args.out, list(targets), worker, args.time_limit)

    try:
        return serve(root, Path(args.out), args.port, build, args.targets, preview=preview)
    finally:
        worker.close(kill=True)


def run_preview(root, out, targets, worker, time_limit=TIME_LIMIT):
    """Lay out each selected edition once and draw its pages into the folder
    ``serve`` shows (``<out>/<booklet>/preview/<country>-<lang>/``), in
    ``worker`` (a :class:`workers.PreviewWorker`); yield ``(booklet, edition,
    sizes, errors)`` as each is drawn. Editions whose layout does not load are
    left to the build, which says why."""
    from concurrent.futures.process import BrokenProcessPool

    from .pipeline import preview_edition
    from .serve import PREVIEW_FOLDER

    work, _ = _select(root, targets)
    layouts, _ = _load_layouts(root, {booklet.layout for booklet, _, _ in work})
    stamps = cache.Stamps(out)
    for booklet, country, lang in work:
        if booklet.layout not in layouts:
            continue
        edition = f'{country}/{lang}'
        scales, _ = stamps.copyfit(cache.edition_key(booklet, country, lang), None)
        folder = Path(out, booklet.name, PREVIEW_FOLDER, f'{country}-{lang}')
        try:
            sizes, errors = worker.run(preview_edition, root, booklet, layouts[booklet.layout],
                                       country, lang, folder, scales, seconds=time_limit)
        except (TimeoutError, BrokenProcessPool) as exc:
            sizes, errors = [], [f'{edition}: the preview {exc or "worker died"}']
        yield booklet.name, edition, sizes, errors


def main(argv=None):
    """Run the command line; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    root = Path.cwd()
    if argv[:1] == ['translate']:  # its own actions and options: translate.parser()
        from .translate import main as translate

        return translate(argv[1:], root)
    args = parser().parse_intermixed_args(argv)  # options before or after targets
    if args.command not in COMMANDS:  # a bare target: `render.py kyrgyzstan/ky`
        args.targets.insert(0, args.command)
        args.command = 'build'
    if args.jobs < 0:
        return report.fail('-j must be 0 (one per core) or more', report.EXIT_USAGE)
    if args.time_limit < 1:
        return report.fail('--time-limit must be 1 second or more', report.EXIT_USAGE)
    try:
        if args.command == 'check':
            return run_check(root, args.targets, args.strict)
        if args.command == 'new':
            if len(args.targets) != 2:
                raise UsageError('usage: render.py new <country> <lang>')
            from .scaffold import new_edition

            new_edition(root, *args.targets,
                        say=lambda line: report.console.print(line, markup=False))
            return report.EXIT_OK
        if args.command == 'schemas':
            from .editorschema import write

            changed = write(root)
            for name in changed:
                report.console.print(f'wrote schemas/{name}', markup=False)
            report.console.print('schemas/ is up to date' if not changed else
                                 f'{len(changed)} schema file(s) written')
            return report.EXIT_OK
        if args.command == 'serve':
            return _serve(root, args)
        started = time.perf_counter()
        problems, results = run_build(root, args.out, args.targets, args.jobs,
                                      args.time_limit, args.force)
        if not all(result.fresh for result in results) or not Path(
                args.out, 'index.html').is_file():
            from .gallery import write_gallery

            try:
                write_gallery(Path(args.out), results)
            except OSError as exc:
                message = write_fault(exc, Path(args.out, 'index.html'))
                if message is None:
                    raise
                problems.append(message.replace('the last good files are kept',
                                                'the last gallery is kept'))
        report.print_problems(problems)
        code = report.summary(results, time.perf_counter() - started, args.strict)
        if args.debug:
            for result in results:
                if result.trace:
                    report.errors_console.print(f'{result.booklet}/{result.edition}:\n'
                                                f'{result.trace}', markup=False)
        return report.EXIT_FAILED if problems else code
    except UsageError as exc:
        return report.fail(str(exc), report.EXIT_USAGE)
    except SourceErrors as exc:
        report.print_problems(str(e) for e in exc.errors)
        return report.EXIT_FAILED
    except BookletError as exc:
        return report.fail(str(exc))
    except KeyboardInterrupt:
        return report.fail('interrupted', 130)
    except Exception as exc:
        message = write_fault(exc, getattr(exc, 'filename', None) or args.out)
        if message and not args.debug:
            return report.fail(message)
        if args.debug:
            raise
        import traceback
        traceback.print_exc()
        return report.fail('this is a bug in bindery, not in your files: please report '
                           'it with the traceback above')


if __name__ == '__main__':
    sys.exit(main())
