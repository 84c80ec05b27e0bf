"""Decide which editions need building: fingerprints of everything an edition depends on.

An edition is rebuilt only when its :func:`fingerprint` differs from the one
recorded when it was last built into the same output folder, or when one of the
files that build made is gone or has another size (:class:`Stamps`).

The fingerprint covers the bytes of every file a build reads and the settings
that change the bytes it writes (see :func:`fingerprint`). It does not cover
the system libraries WeasyPrint uses (Pango, HarfBuzz, FreeType): after an
operating-system upgrade, build with ``--force``.

This module imports nothing heavier than PyYAML, so that a build with nothing
to do never loads WeasyPrint.
"""

import ctypes
import hashlib
import json
import os
import re
import stat
import sys
import sysconfig
import tempfile
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

from . import __version__

#: Changes whenever what goes into a fingerprint changes, so old stamps go stale.
FORMAT = 1
#: The stamp file in each output folder.
STAMP_FILE = '.bindery-cache.json'
#: The builder's own code: this package (the code that builds, not a copy in ``root``).
PACKAGE = Path(__file__).resolve().parent

_SafeLoader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)  # libyaml: 15x faster
_TRANSLATION_OF = re.compile(rb'''^translation_of:[ \t]*["']?([A-Za-z_-]+)''', re.MULTILINE)


def edition_key(booklet, country, lang):
    """The name an edition is stamped under: ``nine-facts/kyrgyzstan/ky``."""
    return f'{_booklet_name(booklet)}/{country}/{lang}'


def fingerprint(root, booklet, layout_name, country, lang, *, fonts=None, package=None,
                extra=(), split=False):
    """The SHA-256 (hex) of everything the outputs of one edition depend on.

    With ``split``, ``(that, own)``: ``own`` leaves out a translation's
    originals and fingerprints, which reach its outputs only through the
    warnings of the fields they make stale (see :meth:`Stamps.translation`).

    ``booklet`` is a booklet name or a :class:`~bindery.manifest.Booklet`. Folded
    in, each file by its project-relative path and its bytes (a missing file
    counts as missing, not as an error: the build will say what is wrong):

    * ``data/<country>/<lang>.yaml``, ``data/<country>/country.yaml`` and the
      product's own ``data/<country>/<layout_name>/<lang>.yaml``; of a
      translation, its originals (``<original>.yaml`` in both folders) and its
      fingerprints (``<lang>.lock.json``), which decide what the build warns of;
    * every file under ``layouts/<layout_name>/`` but dotfiles, ``__pycache__``
      and the words of other languages (``strings/<other>.yaml``: a broken one
      fails only that language's editions);
    * what the other layouts of ``layouts/`` declare of the shared files
      (their ``country:`` and ``edition:``): it decides which keys those may hold;
    * the font files the layout uses: ``fonts`` (paths under ``fonts/``, or
      absolute) when given, else those ``layouts/<layout_name>/layout.yaml``
      lists under ``fonts:`` (read here, with PyYAML only);
    * ``profiles/*.icc``, ``hyphenation/*.dic``, ``booklets/<booklet>.yaml``;
    * the builder: every ``.py`` file of ``package`` (default: the bindery
      package running), ``render.py``, ``requirements.txt`` (the pinned
      dependencies), the version and Python's version;
    * the Python packages installed beside it (the ``*.dist-info`` names in
      site-packages: name and version), which may differ from the pins;
    * the system libraries WeasyPrint sets text with (Pango, HarfBuzz,
      fontconfig), by version: an upgrade can move a line break;
    * the build date: ``SOURCE_DATE_EPOCH`` when set, else the commit git's
      HEAD names (the pipeline dates PDFs by the last commit);
    * ``extra``: strings the caller wants counted (outputs asked for, options).

    Reads about 4 MB (mostly fonts) and takes a few milliseconds.
    """
    root = Path(root)
    own = hashlib.sha256()
    digest = own

    def add(label, data):
        # Length-prefixed, so that no two different inputs can feed the same bytes.
        label = label.encode('utf-8')
        if data is None:
            digest.update(b'%d:%s:missing;' % (len(label), label))
        else:
            digest.update(b'%d:%s:%d:' % (len(label), label, len(data)))
            digest.update(data)

    def add_file(path, label=None):
        add(label or _relative(path, root), _digest(path))

    add('format', f'{FORMAT} bindery {__version__} python {sys.version}'.encode())

    # Content.
    data = Path(root, 'data', country)
    edition_file = data / f'{lang}.yaml'
    edition_bytes = _read(edition_file)
    add(_relative(edition_file, root), edition_bytes)
    add_file(data / 'country.yaml')
    add_file(data / layout_name / f'{lang}.yaml')  # the product's own text, if any
    original = _TRANSLATION_OF.search(edition_bytes or b'')
    if original:
        # The build reports the fields whose original changed since they were
        # translated (translate.py): the originals' text and the fingerprints count.
        name = original.group(1).decode('ascii')
        digest = originals = hashlib.sha256()
        add(f'original {name} exists', str((data / f'{name}.yaml').is_file()).encode())
        for folder in (data, data / layout_name):
            add_file(folder / f'{name}.yaml')
            add_file(folder / f'{lang}.lock.json')
        digest = own

    # The layout, its fonts and the files every build reads.
    folder = Path(root, 'layouts', layout_name)
    words = folder / 'strings'
    for path in _walk(folder):
        if path.parent == words and path.suffix == '.yaml' and path.stem != lang:
            continue  # another language's words: they fail only that language's editions
        add_file(path)
    for path in sorted(Path(root, 'layouts').glob('*/layout.yaml')):
        if path.parent != folder:  # what others declare the shared files may hold
            add(f'shared fields of {_relative(path, root)}', _shared_declarations(path))
    if fonts is None:
        fonts = _layout_fonts(folder / 'layout.yaml')
    font_root = Path(root, 'fonts')
    for path in sorted({font_root / font for font in fonts}):
        inside = _inside(path, root)
        add(_relative(path, root), _digest(path) if inside else b'outside the project')
    for pattern in ('profiles/*.icc', 'hyphenation/*.dic'):
        for path in sorted(root.glob(pattern)):
            add_file(path)
    booklet_path = getattr(booklet, 'path', None) or Path(
        root, 'booklets', f'{_booklet_name(booklet)}.yaml')
    add_file(Path(booklet_path), f'booklets/{Path(booklet_path).name}')

    # The builder.
    package = Path(package) if package is not None else PACKAGE
    for path in _walk(package, suffix='.py'):
        add_file(path, f'package/{path.relative_to(package).as_posix()}')
    add_file(root / 'render.py')
    add_file(root / 'requirements.txt')
    add('installed', installed().encode())
    add('text engine', text_engine().encode())

    # What else changes the bytes written.
    epoch = os.environ.get('SOURCE_DATE_EPOCH')
    add('build date', (f'SOURCE_DATE_EPOCH={epoch}' if epoch is not None
                       else f'git HEAD {_git_head(root)}').encode())
    for item in extra:
        add('extra', str(item).encode('utf-8'))
    whole = own.hexdigest()
    if original:
        whole = hashlib.sha256(f'{whole} originals {originals.hexdigest()}'.encode()).hexdigest()
    return (whole, own.hexdigest()) if split else whole


class Stamps:
    """What was built in one output folder: per edition, its fingerprint and files.

    Kept in ``<out>/.bindery-cache.json``::

        {"format": 1, "editions": {"nine-facts/kyrgyzstan/ky": {
            "fingerprint": "…", "outputs": {"nine-facts/kyrgyzstan-ky-print.pdf": 412345, …},
            "copyfit": {"facts": "1.075", "intro": "1.05"}}}}

    Output paths are relative to the folder (so it can be moved) and map to
    their size in bytes; ``copyfit`` keeps the sizes copyfitting chose, where the
    next build of the edition starts its search. A translation's entry also
    keeps ``own``, its fingerprint without its originals, and ``translation``,
    the lines its build warned of stale fields with (:meth:`translation`). A missing, unreadable or
    corrupt file counts as empty: everything is then rebuilt, nothing fails. :meth:`record` and :meth:`forget`
    change this object only; :meth:`save` writes them, merged into what is on
    disk by then, under a lock, through a temporary file renamed into place, so
    two builds into one folder never leave a broken file and keep each other's
    stamps.
    """

    def __init__(self, out):
        self.out = Path(out)
        self.path = self.out / STAMP_FILE
        self.editions = _load(self.path)
        self._changes = {}  # key -> entry, or None to forget it

    def is_fresh(self, key, fingerprint):
        """True when ``key`` was built from ``fingerprint`` and each file it made is
        still there with the size it had."""
        entry = self.editions.get(key)
        if not entry or entry['fingerprint'] != fingerprint:
            return False
        for name, size in entry['outputs'].items():
            try:
                if Path(self.out, name).stat().st_size != size:
                    return False
            except OSError:
                return False
        return True

    def copyfit(self, key, fingerprint):
        """The copyfit scales ``key`` was last built with (``{text: Decimal}``, or
        None), and whether they were found for ``fingerprint``."""
        entry = self.editions.get(key) or {}
        scales = entry.get('copyfit')
        if not scales:
            return None, False
        return ({name: Decimal(value) for name, value in scales.items()},
                entry['fingerprint'] == fingerprint)

    def translation(self, key, own):
        """What the build of translation ``key`` warned of its stale fields (a
        list of lines), when its outputs are all there and were made from the
        ``own`` fingerprint (:func:`fingerprint` with ``split``): then only its
        originals or fingerprints changed, and the outputs stand if those
        warnings are still the same. Else None."""
        entry = self.editions.get(key)
        if not entry or entry.get('own') != own or 'translation' not in entry:
            return None
        return list(entry['translation']) if self.is_fresh(
            key, entry['fingerprint']) else None

    def record(self, key, fingerprint, outputs, copyfit=None, own=None, translation=None):
        """Note that ``key`` was built from ``fingerprint`` into the files ``outputs``
        (paths, as the pipeline gives them; they must exist), with the ``copyfit``
        scales (``{text: '1.075'}``); of a translation, with its ``own``
        fingerprint and the ``translation`` warnings (see :meth:`translation`)."""
        files = {}
        for path in outputs:
            path = Path(path)
            files[self._name(path)] = path.stat().st_size
        entry = {'fingerprint': fingerprint, 'outputs': dict(sorted(files.items()))}
        if copyfit:
            entry['copyfit'] = dict(sorted(copyfit.items()))
        if own is not None and translation is not None:
            entry.update(own=own, translation=list(translation))
        self.editions[key] = self._changes[key] = entry

    def still(self, key, fingerprint):
        """Note that the outputs of ``key`` stand for ``fingerprint`` too (its
        translation warnings were found unchanged)."""
        entry = dict(self.editions[key], fingerprint=fingerprint)
        self.editions[key] = self._changes[key] = entry

    def forget(self, key):
        """Note that ``key`` must be built next time (its build failed)."""
        self.editions.pop(key, None)
        self._changes[key] = None

    def save(self):
        """Write the changes since the last save (cheap: call it after each edition)."""
        if not self._changes:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        with _locked(self.out):
            editions = _load(self.path)  # another build may have saved since we read
            for key, entry in self._changes.items():
                if entry is None:
                    editions.pop(key, None)
                else:
                    editions[key] = entry
            text = json.dumps({'format': FORMAT, 'editions': dict(sorted(editions.items()))},
                              indent=1, ensure_ascii=False) + '\n'
            handle, temp = tempfile.mkstemp(prefix=f'{STAMP_FILE}.', suffix='.tmp',
                                            dir=self.out)
            try:
                with os.fdopen(handle, 'w', encoding='utf-8') as stream:
                    stream.write(text)
                    stream.flush()
                    os.fsync(stream.fileno())
                os.chmod(temp, 0o644)
                os.replace(temp, self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        self.editions = editions
        self._changes = {}

    def _name(self, path):
        absolute = path if path.is_absolute() else Path.cwd() / path
        out = self.out if self.out.is_absolute() else Path.cwd() / self.out
        try:
            return absolute.relative_to(out).as_posix()
        except ValueError:
            return str(absolute)


def _load(path):
    """The editions of a stamp file; empty when it is missing, unreadable or not ours."""
    try:
        data = json.loads(Path(path).read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get('format') != FORMAT:
        return {}
    editions = data.get('editions')
    if not isinstance(editions, dict):
        return {}
    good = {}
    for key, entry in editions.items():
        if (isinstance(entry, dict) and isinstance(entry.get('fingerprint'), str)
                and isinstance(entry.get('outputs'), dict)
                and all(isinstance(name, str) and type(size) is int
                        for name, size in entry['outputs'].items())):
            good[key] = {'fingerprint': entry['fingerprint'], 'outputs': entry['outputs']}
            if _is_scales(entry.get('copyfit')):
                good[key]['copyfit'] = entry['copyfit']
            translation = entry.get('translation')
            if isinstance(entry.get('own'), str) and isinstance(translation, list) and all(
                    isinstance(line, str) for line in translation):
                good[key].update(own=entry['own'], translation=translation)
    return good


def _is_scales(value):
    """Whether ``value`` is a copyfit record, ``{text: '1.075'}``."""
    if not isinstance(value, dict):
        return False
    try:
        return all(isinstance(name, str) and Decimal(scale).is_finite()
                   for name, scale in value.items())
    except (TypeError, ArithmeticError):
        return False


class _locked:
    """An exclusive ``flock`` on a folder while a stamp file is merged and written.

    Where ``flock`` does not exist (Windows), two saves at once can drop one's
    stamps (those editions are rebuilt next time); the file is never broken.
    """

    def __init__(self, folder):
        self.folder, self.fd = folder, None

    def __enter__(self):
        try:
            import fcntl  # noqa: PLC0415 (POSIX only)
            self.fd = os.open(self.folder, os.O_RDONLY)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except (ImportError, OSError):
            if self.fd is not None:
                os.close(self.fd)
            self.fd = None
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)  # releases the lock


def _booklet_name(booklet):
    return booklet if isinstance(booklet, str) else booklet.name


def file_identity(path):
    """``(path, inode, size, modification time)`` of a file: the same for as long
    as the file is not changed or replaced; None for a file that is gone."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return str(path), info.st_ino, info.st_size, info.st_mtime_ns


def by_stat(compute):
    """``compute(path)``, computed once per process for a file that has not changed
    since (see :func:`file_identity`); None for a file that is gone."""
    cached = lru_cache(maxsize=4096)(lambda path, inode, size, mtime_ns: compute(path))

    def wrapper(path):
        identity = file_identity(path)
        return None if identity is None else cached(*identity)

    wrapper.__doc__ = compute.__doc__
    return wrapper


@by_stat
def _shared_declarations(path):
    """The ``country:`` and ``edition:`` declarations of a layout.yaml, as bytes
    (``unreadable`` when it does not parse): they decide which keys the shared
    content files may hold, for every layout."""
    try:
        raw = yaml.load(Path(path).read_bytes(), Loader=_SafeLoader)
    except (OSError, yaml.YAMLError):
        return b'unreadable'
    if not isinstance(raw, dict):
        return b'not a mapping'
    shared = {kind: raw.get(kind) for kind in ('country', 'edition')}
    return json.dumps(shared, sort_keys=True, default=str).encode()


def _read(path):
    """The bytes of a regular file, or None. Anything else (a named pipe, a
    device) is never opened: reading it could block the build forever; the
    build itself then refuses it by name."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return b'<not a regular file>'
        return Path(path).read_bytes()
    except OSError:
        return None


@by_stat
def _digest(path):
    """The SHA-256 of a file's bytes (as :func:`_read` gives them), computed once
    per process for a file that has not changed since: every edition of a
    booklet reads the same fonts, layout and package."""
    data = _read(path)
    return None if data is None else hashlib.sha256(data).digest()


def _relative(path, root):
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _inside(path, root):
    try:
        return Path(path).resolve().is_relative_to(Path(root).resolve())
    except OSError:
        return False


@lru_cache(maxsize=None)
def installed():
    """The Python distributions installed where the builder runs, one name-version
    a line (``weasyprint-70.0``), read from the folder names alone (fast)."""
    names = set()
    for folder in {sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib']}:
        try:
            names |= {name.removesuffix('.dist-info') for name in os.listdir(folder)
                      if name.endswith('.dist-info')}
        except OSError:
            pass
    return '\n'.join(sorted(names))


#: The system libraries WeasyPrint lays text out with, and how each says its version.
_ENGINE = (('libpango-1.0.so.0', 'pango_version_string'),
           ('libharfbuzz.so.0', 'hb_version_string'),
           ('libfontconfig.so.1', 'FcGetVersion'))


@lru_cache(maxsize=None)
def text_engine():
    """``libpango-1.0.so.0 1.50.12; …``: the versions of Pango, HarfBuzz and
    fontconfig, asked of the libraries themselves (without importing WeasyPrint,
    which a build with nothing to do must not); ``unknown`` for one not found."""
    versions = []
    for soname, function in _ENGINE:
        try:
            call = getattr(ctypes.CDLL(soname), function)
        except (OSError, AttributeError):
            versions.append(f'{soname} unknown')
            continue
        call.restype = ctypes.c_int if function == 'FcGetVersion' else ctypes.c_char_p
        version = call()
        versions.append(f'{soname} {version if isinstance(version, int) else version.decode()}')
    return '; '.join(versions)


def _walk(folder, suffix=None):
    """Every file under ``folder``, sorted, but dotfiles and ``__pycache__``."""
    found = []
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith('.') and d != '__pycache__']
        found += [Path(top, name) for name in files if not name.startswith('.')
                  and (suffix is None or name.endswith(suffix))]
    return sorted(found, key=lambda path: path.relative_to(folder).as_posix())


def _layout_fonts(layout_yaml):
    """The ``file`` of each face ``fonts:`` lists in a layout.yaml; none if it cannot be
    read (the build then fails on the layout and stamps nothing)."""
    try:
        spec = yaml.load(Path(layout_yaml).read_bytes(), Loader=_SafeLoader)
    except (OSError, yaml.YAMLError):
        return []
    faces = spec.get('fonts') if isinstance(spec, dict) else None
    if not isinstance(faces, list):
        return []
    return [face['file'] for face in faces
            if isinstance(face, dict) and isinstance(face.get('file'), str)]


def _git_head(root):
    """The commit git's HEAD names in the checkout holding ``root``, read from
    ``.git`` without running git; ``'none'`` outside a checkout."""
    try:
        top = Path(root).resolve()
        for folder in (top, *top.parents):
            if (folder / '.git').exists():
                break
        else:
            return 'none'
        git = folder / '.git'
        if git.is_file():  # a worktree or submodule: "gitdir: <path>"
            git = (folder / git.read_text().split(':', 1)[1].strip()).resolve()
        common = git
        if (git / 'commondir').is_file():
            common = (git / (git / 'commondir').read_text().strip()).resolve()
        head = (git / 'HEAD').read_text().strip()
        if not head.startswith('ref:'):
            return head  # detached
        ref = head[4:].strip()
        for base in (git, common):
            if (base / ref).is_file():
                return (base / ref).read_text().strip()
        packed = common / 'packed-refs'
        if packed.is_file():
            for line in packed.read_text().splitlines():
                commit, _, name = line.partition(' ')
                if name == ref:
                    return commit
        return f'unborn {ref}'
    except (OSError, IndexError):
        return 'unreadable'
