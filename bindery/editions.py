"""What an edition's build made: where its outputs go, and the result of building it."""

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Result:
    """What happened to one edition: its files, pages, problems and time."""

    booklet: str
    edition: str
    ok: bool = False
    pages: int = 0
    files: dict = field(default_factory=dict)  # output -> path
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    copyfit: dict = field(default_factory=dict)  # text -> the scale chosen, as a string
    seconds: float = 0.0
    fresh: bool = False  # already up to date: nothing was built


#: The press kit's pictures: file key -> (name, width, height in pixels). Link
#: previews (Open Graph, X, LinkedIn) are 1200 × 630; square posts 1080 × 1080.
PRESSKIT_PICTURES = {'presskit-social': ('social', 1200, 630),
                     'presskit-square': ('square', 1080, 1080)}
#: The files of the ``presskit`` output, one output made of several files, each
#: named to be sent as it is: file key -> suffix after ``<country>-<lang>``
#: (``{booklet}``: the booklet's name, so the PDF says what it is).
PRESSKIT = {**{key: f'-{name}-{width}x{height}.png'
               for key, (name, width, height) in PRESSKIT_PICTURES.items()},
            'presskit-release': '-release.md',
            'presskit-pdf': '-{booklet}.pdf'}


def output_of(key):
    """The output a file of :func:`output_paths` belongs to (``presskit`` for
    ``presskit-social``; every other output is one file of its own name)."""
    return 'presskit' if key in PRESSKIT else key


def output_paths(out, booklet, edition):
    """Where each output of ``edition`` goes: ``<out>/<booklet>/<country>-<lang>-…``
    (the press kit's files by their keys in :data:`PRESSKIT`)."""
    stem = Path(out, booklet.name, edition.replace('/', '-'))
    return {'print': Path(f'{stem}-print.pdf'), 'screen': Path(f'{stem}-screen.pdf'),
            'imposed': Path(f'{stem}-imposed.pdf'), 'cover': Path(f'{stem}-cover.png'),
            **{key: Path(f'{stem}{suffix.format(booklet=booklet.name)}')
               for key, suffix in PRESSKIT.items()},
            'handoff': Path(f'{stem}-handoff.zip'),
            'preflight': Path(f'{stem}-preflight.json')}


def wanted_paths(out, booklet, edition):
    """The output paths of the outputs ``booklet`` asks for."""
    return {name: path for name, path in output_paths(out, booklet, edition).items()
            if output_of(name) in booklet.outputs}


def remove_stale(paths):
    """A failed edition leaves no output that could pass for current."""
    for path in paths.values():
        path.unlink(missing_ok=True)


def unbuildable(booklet, country, lang, out):
    """The result of an edition whose layout is broken: failed, and not tried, so
    whatever an earlier build made of it is left as it was."""
    name = f'{country}/{lang}'
    return Result(booklet.name, name, errors=[
        f'{name}: not built: layout {booklet.layout} has errors (above)'])


def up_to_date(booklet, country, lang, out):
    """The result of an edition whose outputs are current: nothing to build."""
    name = f'{country}/{lang}'
    paths = wanted_paths(out, booklet, name)
    pages, warnings = 0, []
    if 'preflight' in paths:
        try:
            report = json.loads(paths['preflight'].read_text(encoding='utf-8'))
            pages = report['pages']
            # What the build warned of still holds (a stale translation): say it again.
            warnings = [str(line) for line in report.get('warnings') or ()]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pages = 0
    return Result(booklet.name, name, ok=True, pages=pages, fresh=True, warnings=warnings,
                  files={key: str(path) for key, path in paths.items()})


_TEMP_NAME = re.compile(r'\..+\.(\d+)\.[^.]+')


def remove_leftovers(folder):
    """Delete the temporary files in ``folder`` of builds that were killed: their
    names say which process made them, and that process is gone."""
    if not folder.is_dir():
        return
    for temp in folder.glob('.*'):
        match = _TEMP_NAME.fullmatch(temp.name)
        if not match:
            continue
        if not _alive(int(match.group(1))):
            temp.unlink(missing_ok=True)


def _alive(pid):
    """Whether process ``pid`` still runs (a zombie, killed but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's, or not a process id: leave its files alone
    try:
        with open(f'/proc/{pid}/stat', encoding='ascii', errors='replace') as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return True
