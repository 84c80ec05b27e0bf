"""Pack the designer's hand-off bundle of an edition."""

import html as htmlescape
import os
import re
import tempfile
import struct
import time
import zlib
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from . import access
from .errors import BookletError

#: Names of the files beside a font that carry its licence (OFL.txt, LICENSE, …).
LICENCE = re.compile(r'(OFL|LICEN[CS]E|COPYING|COPYRIGHT)([._-].*)?', re.IGNORECASE)
_SHEET_NAME = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]*\.css')
_CSS_URL = re.compile(r'''url\(\s*(?:(["'])(?P<quoted>.*?)\1|(?P<bare>[^)"'\s]*))\s*\)'''
                      r'''|@import\s+(["'])(?P<imported>.*?)\4''', re.DOTALL)
_HTML_URL = re.compile(r'''(?P<attr>\s(?:href|src)\s*=\s*)(?P<q>["'])(?P<url>.*?)(?P=q)''',
                       re.IGNORECASE | re.DOTALL)
_STYLESHEET_LINK = re.compile(
    r'''<link\b[^>]*\brel\s*=\s*["']?stylesheet["']?[^>]*>''', re.IGNORECASE)
_HREF = re.compile(r'''\bhref\s*=\s*(["'])(.*?)\1''', re.IGNORECASE | re.DOTALL)
#: Already compressed: stored as they are, deflating them again gains nothing.
_STORED = {'.pdf', '.png', '.jpg', '.jpeg', '.zip', '.woff', '.woff2'}
#: The earliest moment a zip file can hold (MS-DOS dates start in 1980).
_ZIP_EPOCH = 315532800


class HandoffError(BookletError):
    """The bundle cannot be made from what the project holds (a font without its
    licence, a resource outside the project)."""


def make_bundle(target_zip, *, pdfs, html, stylesheets, layout_folder, font_files,
                content_files, preflight, root, name=None):
    """Write the hand-off bundle of one edition to ``target_zip``; return its path.

    Inside, under one folder ``<name>/`` (``/`` made ``-``; default: the zip's
    name without ``.zip`` and a trailing ``-handoff``; pass it when
    ``target_zip`` is a temporary name)::

        print.pdf, screen.pdf      each of ``pdfs`` (output name -> path; the
                                   paths may be temporary names)
        html/booklet.html          ``html``, as rendered
        html/<name>.css            each of ``stylesheets`` (file name -> CSS text,
                                   in cascade order)
        html/<file>                files of ``layout_folder`` the HTML or CSS use
        fonts/<family>/<file>      ``font_files`` (paths under <root>/fonts, or
                                   relative to it) and any font the CSS loads, each
                                   with the licence files beside it (OFL.txt, …)
        content/<path>             ``content_files``, by their path under ``root``
        preflight.json             ``preflight``
        README.txt                 what each part is and how to use it

    The HTML and CSS are made to stand alone: ``file:`` URLs into ``fonts/`` or
    the layout folder, and URLs relative to the layout folder (the render's base
    URL) that name a file in it, become paths relative to ``html/``; other URLs
    (``#fact-1``, ``https:``) are left as they are. Every sheet of
    ``stylesheets`` the HTML does not link is linked before the first sheet it
    does: the builder passes its sheets (fonts, colours, page size, copyfit)
    to WeasyPrint as user sheets, which yield to the layout's. A sheet the HTML
    links and ``stylesheets`` lacks is taken from ``layout_folder``. Then
    ``weasyprint html/booklet.html out.pdf`` in the unzipped folder reads only
    files of the bundle.

    The zip is reproducible: entries sorted, dated ``SOURCE_DATE_EPOCH`` (or
    1980-01-01), mode 0644, PDFs stored, the rest deflated at level 1 (the
    fonts are most of it: level 6 takes twice the time for 6% less). It is
    written to a temporary name beside ``target_zip`` and renamed into place.
    Raises :class:`HandoffError` for a font folder without a licence, a
    resource outside the fonts and the layout, or a content file outside ``root``.
    """
    target_zip, root = Path(target_zip), Path(root).resolve()
    layout_folder = Path(layout_folder).resolve()
    name = (name or re.sub(r'-handoff$', '', target_zip.name.removesuffix('.zip'))
            ).replace('/', '-')  # an edition name, kazakhstan/kk, is one folder
    packer = _Packer(root, layout_folder)

    files = {}
    for output, path in pdfs.items():
        path = Path(path)
        files[f'{output}.pdf'] = path.read_bytes()

    html_text, sheets = packer.html(html, dict(stylesheets))
    rendered = {f'html/{sheet_name}': packer.css(css).encode('utf-8')
                for sheet_name, css in sheets.items()}
    rendered['html/booklet.html'] = html_text.encode('utf-8')
    for font in font_files:
        font = Path(font)
        packer.font(font if font.is_absolute() else root / 'fonts' / font)
    for arcname, path in packer.files.items():
        # As WeasyPrint read them (access.py): a licence beside a font that
        # links out of fonts/ would otherwise carry any file into the bundle.
        try:
            files[arcname] = access.read(path, [layout_folder, root / 'fonts'], root)
        except access.Refused as exc:
            raise HandoffError(str(exc)) from None
    files.update(rendered)  # as rendered, even if the layout has a file of that name

    for path in content_files:
        path = Path(path)
        path = (path if path.is_absolute() else root / path).resolve()
        if not path.is_relative_to(root):
            raise HandoffError(f'{path}: content files must be inside the project')
        files[f'content/{path.relative_to(root).as_posix()}'] = path.read_bytes()
    files['preflight.json'] = Path(preflight).read_bytes()
    files['README.txt'] = _readme(name, files, list(sheets)).encode('utf-8')

    _write_zip(target_zip, {f'{name}/{arcname}': data for arcname, data in files.items()})
    return target_zip


class _Packer:
    """Maps the URLs of the rendered HTML and CSS to files of the bundle."""

    def __init__(self, root, layout_folder):
        self.root, self.layout = root, layout_folder
        self.fonts = root / 'fonts'
        self.files = {}  # arcname -> project file

    def html(self, text, sheets):
        """The HTML with its URLs made relative and every sheet linked; the sheets,
        with any the HTML links that ``sheets`` lacks read from the layout folder."""
        for sheet_name in sheets:
            if not _SHEET_NAME.fullmatch(sheet_name):
                raise HandoffError(f'{sheet_name!r}: a stylesheet needs a plain file name '
                                   'ending in .css')
        linked = []
        for link in _STYLESHEET_LINK.finditer(text):
            href = _HREF.search(link.group())
            if href:
                linked.append(htmlescape.unescape(href.group(2)))
        for href in linked:
            if href not in sheets and _SHEET_NAME.fullmatch(href):
                path = self.layout / href
                if path.is_file():
                    sheets[href] = path.read_text(encoding='utf-8')
        missing = [sheet_name for sheet_name in sheets if sheet_name not in linked]
        if missing:
            links = ''.join(f'<link rel="stylesheet" href="{quote(sheet_name)}">\n  '
                            for sheet_name in missing)
            first = _STYLESHEET_LINK.search(text)
            if first:
                text = text[:first.start()] + links + text[first.start():]
            elif re.search(r'</head\s*>', text, re.IGNORECASE):
                text = re.sub(r'</head\s*>', lambda m: links + m.group(), text, count=1,
                              flags=re.IGNORECASE)
            else:
                text = links + text

        def relink(match):
            url = htmlescape.unescape(match.group('url'))
            if url in sheets:
                return match.group()  # a sheet of the bundle, beside the HTML
            new = self.relink(url)
            return f"{match.group('attr')}{match.group('q')}{htmlescape.escape(new)}" \
                   f"{match.group('q')}" if new != url else match.group()
        return _HTML_URL.sub(relink, text), sheets

    def css(self, text):
        """The CSS with its ``url()`` and ``@import`` targets made relative."""
        def relink(match):
            url = match.group('quoted') if match.group('quoted') is not None else (
                match.group('bare') if match.group('bare') is not None
                else match.group('imported'))
            new = self.relink(url)
            if new == url:
                return match.group()
            if match.group('imported') is not None:
                return f'@import "{new}"'
            return f'url("{new}")'
        return _CSS_URL.sub(relink, text)

    def relink(self, url):
        """``url`` as a path relative to ``html/``, adding what it names to the bundle;
        ``url`` itself when it names no project file (a fragment, a web address)."""
        parts = urlsplit(url)
        if parts.scheme == 'file':
            path = Path(unquote(parts.path)).resolve()
        elif not parts.scheme and not parts.netloc and parts.path:
            path = (self.layout / unquote(parts.path)).resolve()
            if not path.is_file():
                return url
        else:
            return url
        suffix = (f'?{parts.query}' if parts.query else '') + (
            f'#{parts.fragment}' if parts.fragment else '')
        if path.is_relative_to(self.fonts):
            return '../' + quote(self.font(path)) + suffix
        if path.is_relative_to(self.layout) and path.is_file():
            arcname = f'html/{path.relative_to(self.layout).as_posix()}'
            self.files[arcname] = path
            return quote(arcname.removeprefix('html/')) + suffix
        shown = path.relative_to(self.root) if path.is_relative_to(self.root) else path
        raise HandoffError(f'{shown}: the HTML or CSS uses a file outside fonts/ and the '
                           'layout folder')

    def font(self, path):
        """Add a font and the licence beside it; return its name in the bundle."""
        path = Path(path).resolve()
        if not path.is_relative_to(self.fonts):
            raise HandoffError(f'{path}: fonts must be under fonts/')
        if not path.is_file():
            raise HandoffError(f'fonts/{path.relative_to(self.fonts).as_posix()}: no such '
                               'font file')
        licences = sorted(p for p in path.parent.iterdir()
                          if p.is_file() and LICENCE.fullmatch(p.name))
        folder = path.parent.relative_to(self.root).as_posix()
        if not licences:
            raise HandoffError(f'{folder}/: no licence file beside {path.name}; add the '
                               "font's licence (e.g. OFL.txt) before handing it on")
        for file in (path, *licences):
            self.files[file.relative_to(self.root).as_posix()] = file
        return path.relative_to(self.root).as_posix()


#: What each finished file is, for README.txt.
_OUTPUTS = {
    'print.pdf': 'for the print shop: trim size plus bleed, crop marks, CMYK, PDF/X-4',
    'screen.pdf': 'for reading on screen: trim size, RGB, tagged, small',
    'imposed.pdf': 'the pages in printer spreads, to proof the imposition',
    'cover.png': 'the cover as an image, for the press office',
}


def _readme(name, files, sheets):
    """README.txt: what each part of the bundle is and how to open the HTML."""
    def listing(prefix):
        return ''.join(f'  {arcname}\n' for arcname in sorted(files)
                       if arcname.startswith(prefix))
    finished = ''.join(
        f'  {arcname}: {_OUTPUTS.get(arcname, "an output of the builder")}\n'
        for arcname in sorted(files)
        if '/' not in arcname and arcname not in ('preflight.json', 'README.txt'))
    return f"""\
Hand-off bundle: {name}
{'=' * (17 + len(name))}

Everything the builder (bindery) used and made for this edition, so that a
designer can see, open and re-render it without the project.

What is here
------------

The finished files, as the builder made them:
{finished}
html/: the edition's HTML exactly as rendered, and its stylesheets in
cascade order:
{''.join(f'  html/{sheet}{chr(10)}' for sheet in sheets)}
  The sheets before the layout's own were generated for this edition: the
  @font-face rules, the colours, the page size and bleed, and the text sizes
  and spacing that make the text fit its pages.

fonts/: every font file the stylesheets use, each folder with the font's
licence (SIL Open Font License: OFL.txt). The licence travels with the fonts.
{listing('fonts/')}
content/: the source texts and numbers, as written (YAML, UTF-8):
{listing('content/')}
preflight.json: what the builder checked in each PDF and what it found.

Opening the HTML
----------------

Unzip the bundle and open html/booklet.html in a browser: it uses only files
inside this folder. Browsers show the text and styles but not the pages; to
make the PDF pages, run WeasyPrint (https://weasyprint.org) from this folder:

  weasyprint html/booklet.html booklet.pdf

That PDF has the same pages as the finished ones, but not what the builder
adds after WeasyPrint: the PDF/X-4 colour profile, crop marks and slug line
of print.pdf, and hyphenation by the builder's own dictionaries where
WeasyPrint has none for the language.
"""


def _write_zip(target, entries):
    """Write ``entries`` (arcname -> bytes) as a reproducible zip, atomically.

    The bytes are those Python's ``zipfile`` writes for the same entries (a
    test compares them); written here because ``zipfile`` cannot take data
    already deflated, and every edition packs the same fonts: each is deflated
    once per process (:func:`_deflated`), 0.05 s an edition less.
    """
    epoch = os.environ.get('SOURCE_DATE_EPOCH', '')
    moment = int(epoch) if epoch.isdigit() else _ZIP_EPOCH
    moment = min(max(moment, _ZIP_EPOCH), 4354819199)  # zip dates end in 2107
    year, month, day, hour, minute, second = time.gmtime(moment)[:6]
    dos_time = hour << 11 | minute << 5 | second // 2
    dos_date = (year - 1980) << 9 | month << 5 | day
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f'.{target.name}.', dir=target.parent)
    try:
        with os.fdopen(handle, 'wb') as stream:
            central, offset = [], 0
            for arcname in sorted(entries):
                data = entries[arcname]
                stored = Path(arcname).suffix.lower() in _STORED
                packed = data if stored else _deflated(data, arcname)
                try:
                    name, flags = arcname.encode('ascii'), 0
                except UnicodeEncodeError:
                    name, flags = arcname.encode('utf-8'), 0x800  # the UTF-8 flag
                fields = (flags, 0 if stored else 8, dos_time, dos_date, zlib.crc32(data),
                          len(packed), len(data), len(name))
                header = struct.pack('<4s2B4HL2L2H', b'PK\x03\x04', 20, 0, *fields, 0)
                stream.write(header + name)
                stream.write(packed)
                central.append(struct.pack(
                    '<4s4B4HL2L5H2L', b'PK\x01\x02', 20, 3, 20, 0, *fields, 0, 0, 0, 0,
                    0o100644 << 16, offset) + name)  # made on Unix, mode 0644
                offset += len(header) + len(name) + len(packed)
            directory = b''.join(central)
            stream.write(directory)
            stream.write(struct.pack('<4s4H2LH', b'PK\x05\x06', 0, 0, len(central),
                                     len(central), len(directory), offset, 0))
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


#: Deflated bytes of the fonts packed so far: ``(length, CRC) -> (bytes, deflated)``.
_FONTS_DEFLATED = {}


def _deflated(data, arcname):
    """``data`` deflated at level 1 (the fonts are most of a bundle: level 6 takes
    twice the time for 6% less), as ``zipfile`` does it; a font's once per
    process, for as long as its bytes are the same."""
    font = '/fonts/' in f'/{arcname}'
    key = (len(data), zlib.crc32(data))
    if font and key in _FONTS_DEFLATED and _FONTS_DEFLATED[key][0] == data:
        return _FONTS_DEFLATED[key][1]
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    packed = compressor.compress(data) + compressor.flush()
    if font:
        while len(_FONTS_DEFLATED) >= 64:  # a few layouts' faces
            del _FONTS_DEFLATED[next(iter(_FONTS_DEFLATED))]
        _FONTS_DEFLATED[key] = data, packed
    return packed
