"""The one gate for every file WeasyPrint reads: project files only, and a missing one is fatal."""

import io
import mimetypes
import re
import warnings
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from . import access


class RefusedResource(FatalURLFetchingError):
    """A URL outside the project, or a project file that does not exist.

    WeasyPrint logs and skips ordinary fetch errors (then silently falls back to
    a system font or draws nothing); a :class:`FatalURLFetchingError` stops the
    render instead, and is a ``BaseException``, so callers catch it by name.
    """


class ProjectFetcher(URLFetcher):
    """Serve ``file:`` URLs under ``roots`` and refuse everything else.

    Every file is opened through :func:`access.read` (a regular file, really
    inside ``roots``), and told apart by what it holds, not by its name: a
    picture (whatever Pillow recognises, by its header) goes to WeasyPrint as
    what it is, after :func:`_check_image`; so does an SVG (XML with an
    ``<svg>`` root). A file named like a picture that is neither is refused.
    ``log`` collects every path served, so tests can prove what was read.
    """

    def __init__(self, roots, project):
        super().__init__(allowed_protocols={'file'})
        self.roots = [Path(root).resolve() for root in roots]
        self.project = Path(project).resolve()
        self.log = []
        self.refused = []  # every refusal, also those WeasyPrint swallows (inside SVG)
        self.refused_urls = []  # the URL of each, in the same order

    def fetch(self, url, headers=None):
        try:
            return self._fetch(url)
        except RefusedResource as exc:
            exc.url = url
            self.refused.append(str(exc))
            self.refused_urls.append(url)
            raise

    def _fetch(self, url):
        parts = urlsplit(url)
        if parts.scheme != 'file' or parts.netloc not in ('', 'localhost'):
            raise RefusedResource(f'{_short(url)}: only files inside the project may be '
                                  'used (no network, no data: URLs)')
        path = Path(unquote(parts.path))
        try:
            body = access.read(path, self.roots, self.project)
        except access.Refused as exc:
            raise RefusedResource(str(exc)) from None
        self.log.append(path.resolve())
        shown = access.shown(path, self.project)
        named = mimetypes.guess_type(path.name)[0] or 'application/octet-stream'
        mime = sniff(body, shown, named)
        return URLFetcherResponse(path.resolve().as_uri(), body,
                                  headers={'Content-Type': mime})


#: The picture formats a layout may use (Pillow's names): what print and the
#: screen take. Pillow knows dozens more, some with a weak signature; a file in
#: one of them is refused rather than decoded.
FORMATS = {'PNG': 'image/png', 'JPEG': 'image/jpeg', 'TIFF': 'image/tiff',
           'GIF': 'image/gif', 'WEBP': 'image/webp'}

_XML_START = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*'
                        rb'(?:<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>\s*)?(?:<!--.*?-->\s*)*'
                        rb'<(?:[A-Za-z_][\w.-]*:)?svg[\s>/]', re.DOTALL)


def sniff(body, shown, named):
    """The Content-Type to serve ``body`` (the file ``shown``, whose name says
    ``named``) with: what it really is.

    A picture is checked (:func:`_check_image`) whatever its name, as WeasyPrint
    decodes any file it is given as a picture; a PNG named ``.svg`` is served as
    a PNG, an SVG named ``.png`` as SVG. Any file with XML entity declarations
    is refused (WeasyPrint parses whatever is no picture as SVG, as a last
    chance). A file named like a picture that is neither is refused, naming it.
    """
    if _xml(body) and _declares_entities(body):
        raise RefusedResource(f'{shown}: XML with entity declarations (<!ENTITY>): '
                              'refused, as they can expand without bound')
    kind = _picture_format(body)
    if kind is not None:
        if kind not in FORMATS:
            raise RefusedResource(f'{shown}: a {kind} picture; a layout may use '
                                  f'{", ".join(FORMATS)} pictures (or SVG)')
        _check_image(body, shown)
        return FORMATS[kind]
    if _XML_START.match(body[:4096]):
        return 'image/svg+xml'
    if named.startswith('image/'):
        start = body[:12]
        raise RefusedResource(
            f'{shown}: named like a picture, but neither a picture nor SVG (it starts '
            f'{start!r})' if body else f'{shown}: named like a picture, but empty')
    return named


def _xml(body):
    """Whether an XML parser could read ``body``: it starts with ``<``, after a
    byte-order mark and blanks (UTF-8, or UTF-16 either way)."""
    for bom, encoding in ((b'\xff\xfe', 'utf-16-le'), (b'\xfe\xff', 'utf-16-be')):
        if body.startswith(bom):
            return body[2:514].decode(encoding, 'ignore').lstrip().startswith('<')
    return body.removeprefix(b'\xef\xbb\xbf').lstrip().startswith(b'<')


def _declares_entities(body):
    return any(mark in body for mark in (b'<!ENTITY', '<!ENTITY'.encode('utf-16-le'),
                                         '<!ENTITY'.encode('utf-16-be')))


def _picture_format(body):
    """The format Pillow reads ``body`` in (from its header: nothing decoded), or None."""
    from PIL import Image

    with warnings.catch_warnings():  # our limit, not Pillow's, says no (below)
        warnings.simplefilter('ignore', Image.DecompressionBombWarning)
        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            with Image.open(io.BytesIO(body)) as image:
                return image.format
        except Exception:  # noqa: BLE001 (any plugin's failure: not a picture it reads)
            return None
        finally:
            Image.MAX_IMAGE_PIXELS = limit


#: The most pixels a picture may have: an A5 page at 300 ppi is 8.7 million, so
#: 40 million leaves room for crops; a "pixel bomb" has billions.
MAX_PIXELS = 40_000_000


def _check_image(body, shown):
    """Refuse a picture too large to decode (reading only its header), or damaged."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # our limit, not Pillow's, says no
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                with Image.open(io.BytesIO(body)) as image:  # the header; nothing decoded
                    width, height = image.size
                    image.verify()  # the structure (chunks, checksums), still no pixels
            finally:
                Image.MAX_IMAGE_PIXELS = limit
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise RefusedResource(f'{shown}: not a picture WeasyPrint can read ({exc})') from None
    if width * height > MAX_PIXELS:
        raise RefusedResource(f'{shown}: {width:,} × {height:,} pixels is more than '
                              f'{MAX_PIXELS // 1_000_000} million; scale the picture down')
    # Its size is sane: decoding it all is cheap, and finds a damaged picture.
    # WeasyPrint tells Pillow to load truncated pictures (as grey): not here.
    # What is decoded is held to the limit too: a container (a TIFF's pages, a
    # picture inside a picture) may decode to more than its header says.
    from PIL import ImageFile

    truncated, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, MAX_PIXELS  # a warning above
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body)) as image:
                image.load()
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RefusedResource(f'{shown}: decodes to more than {MAX_PIXELS // 1_000_000} '
                              'million pixels; scale the picture down') from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise RefusedResource(f'{shown}: a damaged picture ({exc})') from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated
        Image.MAX_IMAGE_PIXELS = limit
    if width * height > MAX_PIXELS:
        raise RefusedResource(f'{shown}: decodes to {width:,} × {height:,} pixels, more '
                              f'than {MAX_PIXELS // 1_000_000} million; scale it down')


def _short(url):
    return url if len(url) < 80 else url[:77] + '...'
