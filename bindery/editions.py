"""What an edition's build made: where its outputs go, whether they form a whole set, and the result."""

import errno
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
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
    stale: bool = False  # failed, and the files of its last good build are kept
    trace: str = ''      # a bug's traceback, shown under --debug
    translation: list | None = None  # of a translation: its stale fields' warnings


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


#: The prefix of the files a build keeps for itself in an output folder (its
#: stamps, each edition's set record); never temporary, never an output.
OWN_PREFIX = '.bindery-'
#: The states of an edition's set record: its files are one build's whole set;
#: they are being replaced (a build was stopped between two renames: a mixed
#: set, rebuilt next time); or they are the last good set, kept after a build of
#: the edition failed.
COMPLETE, REPLACING, STALE = 'complete', 'replacing', 'stale'


def record_path(out, booklet, edition):
    """The record of which files of ``edition`` form one set, and their state."""
    return Path(out, booklet.name, f"{OWN_PREFIX}set-{edition.replace('/', '-')}.json")


def read_record(path):
    """The set record at ``path`` as a dict, or None (missing or unreadable)."""
    try:
        data = json.loads(Path(path).read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_record(path, state, files, **more):
    """Write the set record (temporary name, then renamed)."""
    data = {'state': state, 'files': {key: Path(name).name for key, name in files.items()},
            **more}
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1) + '\n')


def write_atomic(path, data):
    """Write ``data`` (text, as UTF-8, or bytes) to ``path`` under a temporary name,
    then rename it: a reader sees the old file or the new one, and a full disk
    leaves the old one."""
    path = Path(path)
    handle, temp = tempfile.mkstemp(prefix=f'.{path.name}.{os.getpid()}.', dir=path.parent)
    try:
        with os.fdopen(handle, 'wb') as stream:
            stream.write(data.encode('utf-8') if isinstance(data, str) else data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def is_complete(out, booklet, edition):
    """Whether the files of ``edition`` are one build's whole set (not a set whose
    replacement was stopped half-way, nor the last good set of a failed build)."""
    record = read_record(record_path(out, booklet, edition))
    return bool(record) and record.get('state') == COMPLETE


def keep_last_good(out, booklet, edition, errors, failed_report=None):
    """After a failed build of ``edition``: keep whatever files an earlier build
    made, and mark them stale, in the set record and in their preflight report.

    Nothing is deleted: a failure (ours, the layout's or the machine's) never
    costs a file that was there. Returns the files kept (output -> path). When
    there are none and preflight is what failed, its report is written, saying why.
    Marking is best effort: on a full disk the summary still says it.
    """
    paths = {key: path for key, path in wanted_paths(out, booklet, edition).items()
             if path.is_file()}
    record = record_path(out, booklet, edition)
    previous = read_record(record) or {}
    since = previous.get('failed_since') if previous.get('state') == STALE else None
    now = datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    kept = {key: path for key, path in paths.items() if key != 'preflight'}
    try:
        if kept:
            write_record(record, STALE, paths, failed_since=since or now, errors=errors,
                         was=previous.get('state', 'unknown'))
            _mark_report(paths.get('preflight'), errors, since or now, failed_report)
        elif failed_report is not None and 'preflight' in wanted_paths(out, booklet, edition):
            path = wanted_paths(out, booklet, edition)['preflight']
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps(failed_report, ensure_ascii=False, indent=2) + '\n')
            record.unlink(missing_ok=True)
        else:
            record.unlink(missing_ok=True)
    except OSError as exc:
        if exc.errno not in WRITE_FAULTS:
            raise
    return paths if kept else {}


def _mark_report(path, errors, since, failed_report):
    """Add ``stale`` to a kept preflight report: what failed, and since when."""
    if path is None:
        return
    try:
        report = json.loads(path.read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return  # not a report of ours: left as it is
    if not isinstance(report, dict):
        return
    report['stale'] = {'since': since, 'errors': errors,
                       'about': 'the files beside this report are the last good build of '
                                'this edition; a later build failed for the reasons given'}
    if failed_report is not None:
        report['stale']['failed_report'] = failed_report
    write_atomic(path, json.dumps(report, ensure_ascii=False, indent=2) + '\n')


#: Errors of the machine, not of the build, when a file is written: a full
#: disk or quota, a read-only or failing device, no permission, too many files.
WRITE_FAULTS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EACCES,
                          errno.EPERM, errno.EFBIG, errno.EMFILE, errno.ENFILE})


def write_fault(exc, where):
    """A one-line message for an ``OSError`` from writing the outputs, or None
    when it is not a fault of the machine."""
    if not isinstance(exc, OSError) or exc.errno not in WRITE_FAULTS:
        return None
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        why = 'the disk is full (no space left on device)'
    else:
        why = f'cannot write ({exc.strerror})'
    return f'{why} writing to {where}: the last good files are kept'


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
