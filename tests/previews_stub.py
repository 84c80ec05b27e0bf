"""A stub preview for serve's tests: draws a blank three-page PDF, at once."""

import threading


def held_build_and_preview(out, stub_build):
    """``(build, preview, release)``: the stub build waits for the event
    ``release`` before it builds; the preview draws three blank pages."""
    import pypdfium2

    from bindery.previews import draw_pages

    release = threading.Event()
    inner = stub_build(out)

    def build(targets):
        release.wait(60)
        return inner(targets)

    def preview(targets):
        for edition in inner.EDITIONS:
            if targets and not any(t in ('nine-facts', edition.split('/')[0], edition)
                                   for t in targets):
                continue
            document = pypdfium2.PdfDocument.new()
            for _ in range(3):
                document.new_page(420, 595)
            folder = out / 'nine-facts' / 'preview' / edition.replace('/', '-')
            path = out / f'{edition.replace("/", "-")}-preview.pdf'
            path.parent.mkdir(parents=True, exist_ok=True)
            document.save(str(path))
            document.close()
            yield 'nine-facts', edition, draw_pages(path, folder), []

    return build, preview, release
