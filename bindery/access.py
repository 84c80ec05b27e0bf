"""Open a file a layout names only if it really is a regular file inside the folders it may use."""

# Templates (the Jinja loader of layouts.py) and everything WeasyPrint reads
# (fetcher.py) come through here. What is checked is the file actually opened,
# not its name: the path with every link resolved must lie inside an allowed
# folder, the last step is opened without following a link, a FIFO or device
# is opened without blocking and refused, and on Linux the kernel's own name
# of the open file (/proc/self/fd) is checked again, so that a link swapped in
# between the check and the open changes nothing.

import os
import stat
from pathlib import Path

#: The largest file a layout may use (a template, a stylesheet, a font, a
#: picture): a 40-million-pixel CMYK TIFF, uncompressed, is 160 MB.
MAX_BYTES = 256 * 1024 ** 2


class Refused(Exception):
    """A file a layout may not use: outside its folders, not a regular file, too big.

    ``str()`` is the whole reason, starting with the file as the user knows it."""


class Missing(Refused):
    """The file does not exist (a typo, more often than an attack)."""


def shown(path, project):
    """``path`` relative to ``project`` when inside it, else absolute."""
    path = Path(path)
    project = Path(project).resolve()
    return path.relative_to(project).as_posix() if path.is_relative_to(project) else str(path)


def read(path, roots, project):
    """The bytes of ``path``, if it resolves to a regular file inside one of
    ``roots``; :class:`Refused` (or :class:`Missing`) otherwise.

    ``path`` is the path as asked for (absolute, links not yet resolved);
    ``project`` is for messages only."""
    roots = [Path(root).resolve() for root in roots]
    asked = Path(os.path.abspath(path))
    name = shown(asked, project)
    real = asked.resolve()
    where = ', '.join(f'{shown(root, project)}/' for root in roots)
    if not _inside(real, roots):
        via = f' (a link to {shown(real, project)})' if real != asked else ''
        raise Refused(f'{name}{via}: outside the folders a layout may use ({where})')
    try:
        # Not following a link at the last step (the first resolve() already
        # did), not waiting for a writer at a FIFO.
        handle = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                         | getattr(os, 'O_CLOEXEC', 0))
    except FileNotFoundError:
        raise Missing(f'{name}: no such file') from None
    except OSError as exc:
        raise Refused(f'{name}: cannot be opened ({exc.strerror})') from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f'{name}: {_kind(info.st_mode)}, not a regular file')
        opened = _opened_path(handle)
        if opened is not None and not _inside(opened, roots):
            raise Refused(f'{name}: changed into a link to {shown(opened, project)} while '
                          f'being opened: outside the folders a layout may use ({where})')
        if info.st_size > MAX_BYTES:
            raise Refused(f'{name}: {info.st_size / 1024 ** 2:.0f} MB, more than the '
                          f'{MAX_BYTES // 1024 ** 2} MB a layout file may have')
        os.set_blocking(handle, True)
        with os.fdopen(handle, 'rb', closefd=False) as stream:
            return stream.read(MAX_BYTES + 1)
    finally:
        os.close(handle)


def _inside(path, roots):
    return any(path == root or path.is_relative_to(root) for root in roots)


def _opened_path(handle):
    """The path the kernel gives for an open file (Linux), or None."""
    try:
        return Path(os.readlink(f'/proc/self/fd/{handle}'))
    except OSError:
        return None


def _kind(mode):
    for test, name in ((stat.S_ISFIFO, 'a named pipe (FIFO)'), (stat.S_ISCHR, 'a device'),
                       (stat.S_ISBLK, 'a device'), (stat.S_ISSOCK, 'a socket'),
                       (stat.S_ISDIR, 'a folder')):
        if test(mode):
            return name
    return 'a special file'
