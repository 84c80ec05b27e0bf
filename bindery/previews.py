"""Pictures of pages: the cover PNG for press releases, and every page for ``serve``'s previews."""

import os
import tempfile
import zlib
from pathlib import Path

import pypdfium2

#: Width of the cover image in pixels: large enough for a press release or a
#: social post, small enough to mail.
COVER_WIDTH = 1200


def cover_png(pdf_path, target, width=COVER_WIDTH):
    """Render page 1 of ``pdf_path`` (trim size, no bleed) as a PNG ``width`` pixels wide."""
    document = pypdfium2.PdfDocument(str(pdf_path))
    try:
        page = document[0]
        scale = width / page.get_width()
        image = page.render(scale=scale, may_draw_forms=False).to_pil()
        # Run-length deflate: 60 % of the default's time for 7 % more bytes.
        image.save(target, format='PNG', compress_type=zlib.Z_RLE)
        page.close()
    finally:
        document.close()


#: Resolution of ``serve``'s page pictures; each is the size of its page (an A5
#: page, 583 × 827 pixels; an A3 one, twice as many each way).
PREVIEW_DPI = 100


def draw_pages(pdf, folder, dpi=PREVIEW_DPI):
    """Draw every page of ``pdf`` (a path, or the PDF's bytes) as
    ``folder/page-N.png``, at its own size, each renamed into place; remove the
    pictures of pages it no longer has. Returns the ``(width, height)`` in
    pixels of each picture, in page order.

    PDFium must not run in two threads of one process at once: callers that
    run threads hold a lock around this (see serve.py).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    document = pypdfium2.PdfDocument(pdf if isinstance(pdf, bytes) else str(pdf))
    sizes = []
    try:
        count = len(document)
        for index in range(count):
            page = document[index]
            try:
                image = page.render(scale=dpi / 72, may_draw_forms=False).to_pil()
            finally:
                page.close()
            target = folder / f'page-{index + 1}.png'
            with tempfile.NamedTemporaryFile(dir=folder, prefix=f'.{target.name}.',
                                             delete=False) as handle:
                image.save(handle, format='PNG')
            sizes.append(image.size)
            os.chmod(handle.name, 0o644)
            os.replace(handle.name, target)
    finally:
        document.close()
    for extra in folder.glob('page-*.png'):
        number = extra.stem.removeprefix('page-')
        if not number.isdigit() or int(number) > count:
            extra.unlink(missing_ok=True)
    return sizes
