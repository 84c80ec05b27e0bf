"""The one gate for every file WeasyPrint reads: project files only, and a missing one is fatal."""

import io
import mimetypes
import warnings
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse


class RefusedResource(FatalURLFetchingError):
    """A URL outside the project, or a project file that does not exist.

    WeasyPrint logs and skips ordinary fetch errors (then silently falls back to
    a system font or draws nothing); a :class:`FatalURLFetchingError` stops the
    render instead, and is a ``BaseException``, so callers catch it by name.
    """


class ProjectFetcher(URLFetcher):
    """Serve ``file:`` URLs under ``roots`` and refuse everything else.

    ``log`` collects every path served, so tests can prove what was read.
    """

    def __init__(self, roots, project):
        super().__init__(allowed_protocols={'file'})
        self.roots = [Path(root).resolve() for root in roots]
        self.project = Path(project).resolve()
        self.log = []
        self.refused = []  # every refusal, also those WeasyPrint swallows (inside SVG)

    def fetch(self, url, headers=None):
        try:
            return self._fetch(url)
        except RefusedResource as exc:
            self.refused.append(str(exc))
            raise

    def _fetch(self, url):
        parts = urlsplit(url)
        if parts.scheme != 'file' or parts.netloc not in ('', 'localhost'):
            raise RefusedResource(f'{_short(url)}: only files inside the project may be '
                                  'used (no network, no data: URLs)')
        path = Path(unquote(parts.path)).resolve()
        shown = path.relative_to(self.project) if path.is_relative_to(self.project) else path
        if not any(path.is_relative_to(root) for root in self.roots):
            raise RefusedResource(f'{shown}: outside the folders a layout may use '
                                  f'({", ".join(self._shown_roots())})')
        if not path.is_file():
            raise RefusedResource(f'{shown}: no such file')
        self.log.append(path)
        mime = mimetypes.guess_type(path.name)[0] or 'application/octet-stream'
        body = path.read_bytes()
        if mime.startswith('image/') and mime != 'image/svg+xml':
            _check_image(body, shown)
        elif mime == 'image/svg+xml' and b'<!ENTITY' in body:
            raise RefusedResource(f'{shown}: SVG with entity declarations (<!ENTITY>): '
                                  'refused, as they can expand without bound')
        return URLFetcherResponse(path.as_uri(), body, headers={'Content-Type': mime})

    def _shown_roots(self):
        return [f'{root.relative_to(self.project)}/' for root in self.roots]


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
    from PIL import ImageFile

    truncated, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        with Image.open(io.BytesIO(body)) as image:
            image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise RefusedResource(f'{shown}: a damaged picture ({exc})') from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated


def _short(url):
    return url if len(url) < 80 else url[:77] + '...'
