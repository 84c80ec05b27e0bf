"""The end of a run: every problem, a table of editions, one summary line and the exit code.

Exit codes: 0 when every edition built and passed preflight; 1 when any edition
failed (the others are still built) or the input has errors; 2 for a usage error.
"""

from pathlib import Path

from rich.console import Console
from rich.table import Table

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

#: Problems go to stderr, one per line, so they can be grepped and clicked.
errors_console = Console(stderr=True, highlight=False, soft_wrap=True)
console = Console(highlight=False, soft_wrap=True)


def print_problems(lines, level='error'):
    """Print each problem on its own line (``path:line:col: field: message``)."""
    for line in lines:
        errors_console.print(line if level == 'error' else f'{level}: {line}', markup=False)


def _size(path):
    size = Path(path).stat().st_size
    return f'{size / 1024:,.0f} KB' if size < 1024 ** 2 else f'{size / 1024 ** 2:,.1f} MB'


def print_hyphenation(langs, warn=False):
    """One line per language: the hyphenation it gets (ours, TeX's, pyphen's or
    none). With ``warn``, a language with none is a warning on stderr."""
    from .hyphenation import describe

    for lang in sorted(set(langs)):
        info = describe(lang)
        if warn and info['source'] == 'none':
            print_problems([f"{lang}: no hyphenation dictionary (neither the project's nor "
                            f"pyphen's): justified text in {lang} will not be hyphenated"],
                           'warning')
        else:
            console.print(f'hyphenation {lang}: {info["label"]}', markup=False)


def summary(results, seconds, strict=False):
    """Print the table and the summary line; return the exit code (1 when an
    edition failed, or, when ``strict``, when there was a warning)."""
    shown = set()  # a shared file's problem fails the edition in every product: once
    warned = set()
    for result in results:
        print_problems(result.notes, 'note')
        print_problems((line for line in result.warnings
                        if not (line in warned or warned.add(line))),
                       'error' if strict else 'warning')
        print_problems(line for line in result.errors if not (line in shown or shown.add(line)))
    table = Table(title=None, show_edge=False, header_style='bold')
    for column in ('booklet', 'edition', 'pages', 'print', 'screen', 'status', 'time'):
        table.add_column(column, justify='right' if column in ('pages', 'time') else 'left')
    for result in results:
        files = result.files
        table.add_row(
            result.booklet, result.edition, str(result.pages or '–'),
            _size(files['print']) if 'print' in files else '–',
            _size(files['screen']) if 'screen' in files else '–',
            '[dim]up to date[/]' if result.fresh else '[green]ok[/]' if result.ok
            else '[red]FAILED[/] [yellow]stale kept[/]' if result.stale
            else '[red]FAILED[/]', '–' if result.fresh else f'{result.seconds:.1f} s')
    console.print(table)
    print_hyphenation(result.edition.rpartition('/')[2] for result in results)
    failed = [result for result in results if not result.ok]
    fresh = sum(1 for result in results if result.fresh)
    built = len(results) - len(failed) - fresh
    line = f'{built} of {len(results)} editions built in {seconds:.1f} s'
    if fresh:
        line += f', {fresh} already up to date'
    if failed:
        several = len({result.booklet for result in results}) > 1
        names = [f'{r.booklet}/{r.edition}' if several else r.edition for r in failed]
        line += f'; failed: {", ".join(names)}'
        kept = sum(1 for result in failed if result.stale)
        if kept == len(failed) == 1:
            line += (' (it keeps the files of its last good build, marked stale, until '
                     'a build of it succeeds)')
        elif kept:
            line += (f' ({kept} of them keep the files of their last good build, marked '
                     'stale, until a build of them succeeds)')
    if warned:
        line += f'; {len(warned)} warning(s)' + (' (--strict: they fail the build)'
                                                  if strict else '')
    console.print(line, markup=False)
    return EXIT_FAILED if failed or (strict and warned) else EXIT_OK


def fail(message, code=EXIT_FAILED):
    """Print a one-line error and return ``code``."""
    print_problems([message])
    return code




class progress:
    """A progress bar on stderr while editions build (quiet when not a terminal)."""

    def __init__(self, total):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
        self._progress = Progress(
            TextColumn('building'), BarColumn(), MofNCompleteColumn(),
            TextColumn('{task.description}'), console=errors_console, transient=True,
            disable=not errors_console.is_terminal)
        self._task = self._progress.add_task('', total=total)

    def __enter__(self):
        self._progress.start()
        return self.advance

    def advance(self, result):
        self._progress.update(self._task, advance=1, description=result.edition)

    def __exit__(self, *exc):
        self._progress.stop()
