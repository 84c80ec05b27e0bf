"""Pictures of pages: the cover PNG for press releases and social posts."""

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
        image.save(target, format='PNG')  # optimize: 3× the time for 4% less
        page.close()
    finally:
        document.close()
