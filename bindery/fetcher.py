"""The one gate for every file WeasyPrint reads: project files only, and a missing one is fatal."""

import mimetypes
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

    def fetch(self, url, headers=None):
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
        return URLFetcherResponse(path.as_uri(), path.read_bytes(),
                                  headers={'Content-Type': mime})

    def _shown_roots(self):
        return [f'{root.relative_to(self.project)}/' for root in self.roots]


def _short(url):
    return url if len(url) < 80 else url[:77] + '...'
