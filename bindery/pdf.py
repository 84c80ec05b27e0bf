"""Render an edition's HTML with WeasyPrint into the PDF of each output, and check the pages."""

import gc
import logging
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from . import hyphenation, marks, pdfx, screen
from .copyfit import Problem
from .errors import RenderError
from .fetcher import RefusedResource

PX_TO_MM = 25.4 / 96


def finish_print(path, job):
    """Make the print PDF at ``path`` a PDF/X-4 file with trim marks and a slug line."""
    with pikepdf.open(path, allow_overwriting_input=True) as document:
        pdfx.make_pdfx4(document, pdfx.PROFILE, job.title, job.lang, job.created)
        marks.add_marks(document, float(job.bleed_mm), job.slug, job.slug_font)
        document.save(path, **pdfx.SAVE_OPTIONS)


def finish_screen(path, job):
    """Make the screen PDF at ``path``, written from the print layout, RGB and trimmed."""
    screen.finish(path, job.screen_colors, pdfx.PROFILE)


@dataclass(frozen=True)
class Job:
    """What a finisher needs to know of the edition it finishes."""

    title: str
    lang: str
    created: str | None
    bleed_mm: object
    slug: str
    slug_font: Path
    screen_colors: dict = field(default_factory=dict)


#: How WeasyPrint writes the one PDF both outputs are finished from: PDF 1.6
#: (PDF/X-4's), tagged (the screen's accessibility; harmless in print). Not
#: ``optimize_images``: it re-encodes JPEGs at quality 75, and print must get
#: the pictures as they were placed.
WRITE_OPTIONS = {'pdf_version': '1.6', 'pdf_tags': True}

#: The PDF outputs and their finishers. Both are written once from one layout,
#: made with the print's CMYK colours and bleed: ``print`` is finished as PDF/X-4
#: with marks; ``screen`` is recoloured in RGB and trimmed.
OUTPUTS = {'print': finish_print, 'screen': finish_screen}


def page_css(booklet, bleed=True):
    """The ``@page`` size of ``booklet``, with its bleed unless ``bleed`` is false."""
    size = f'{booklet.bleed_mm}mm' if bleed else '0'
    return (f'@page {{ size: {booklet.width_mm}mm {booklet.height_mm}mm; '
            f'bleed: {size}; }}\n')


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []
        self.errors = []

    def emit(self, record):
        message = record.getMessage()
        self.messages.append(message)
        # A picture WeasyPrint could not load or draw is left out of the page
        # with a log line (an error or a mere warning): it fails the edition.
        if record.levelno >= logging.ERROR or message.startswith(('Failed to load',
                                                                   'Failed to render')):
            self.errors.append(message)


@contextmanager
def _collect_warnings():
    logger = logging.getLogger('weasyprint')
    handler = _Collect()
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _refuse_attachments(document):
    """A layout may not attach files to the PDF (``rel="attachment"``): anything in
    the project could leave with the booklet."""
    attached = list(document.metadata.attachments)
    attached += [link for page in document.pages for link in page.links
                 if link[0] == 'attachment']
    if attached:
        raise RenderError(f'the layout attaches files to the PDF ({len(attached)}): '
                          'attachments are not allowed; remove rel="attachment"')


#: The font configuration and parsed stylesheets of the last layout and fonts a
#: worker rendered with: ``{(base URL, font CSS): (FontConfiguration, {css: CSS})}``.
_FONTS = {}


def forget_fonts():
    """Drop the kept font configuration, so that WeasyPrint deletes the temporary
    folder it copied the fonts to (call it before a worker exits)."""
    _FONTS.clear()
    gc.collect()  # the configuration sits in reference cycles


class Renderer:
    """Lays out one edition's HTML, as often as copyfitting needs, with WeasyPrint.

    The font configuration and each parsed stylesheet are kept between layouts,
    and between the editions a worker builds from one layout with one set of
    fonts (``font_css``): parsing the CSS and loading the @font-face files again
    would cost more than a layout, and Pango's caches stay warm. @font-face rules
    only load through a FontConfiguration shared by the stylesheets and the
    render; without it WeasyPrint silently uses system fonts.
    """

    def __init__(self, html, base_url, fetcher, font_css):
        from weasyprint.text.fonts import FontConfiguration  # late: `check` stays fast

        hyphenation.register()  # pyphen has no Kazakh or Kyrgyz: ours

        self.html, self.base_url, self.fetcher = html, base_url, fetcher
        key = (base_url, font_css)
        if key not in _FONTS:
            _FONTS.clear()  # another layout: its fonts are not this one's
            _FONTS[key] = FontConfiguration(), {}
        self.font_config, self._sheets = _FONTS[key]

    def _sheet(self, text):
        import weasyprint

        if text not in self._sheets:
            self._sheets[text] = weasyprint.CSS(
                string=text, base_url=self.base_url, url_fetcher=self.fetcher,
                font_config=self.font_config)
        return self._sheets[text]

    def render(self, stylesheets):
        """Lay out the HTML with the extra ``stylesheets``; return it and its warnings."""
        import weasyprint

        with _collect_warnings() as log:
            try:
                sheets = [self._sheet(text) for text in stylesheets]
                document = weasyprint.HTML(
                    string=self.html, base_url=self.base_url,
                    url_fetcher=self.fetcher).render(
                        stylesheets=sheets, font_config=self.font_config)
            except RefusedResource as exc:
                raise RenderError(f'resource refused: {exc}') from None
            except _WEASYPRINT_LIMITS as exc:
                raise _cannot_draw(exc) from None
        # WeasyPrint reports a picture it could not load, or a refusal met inside
        # an SVG, as a log line and draws nothing: here that fails the edition.
        if self.fetcher.refused:
            raise RenderError(f'resource refused: {self.fetcher.refused[0]}')
        if log.errors:
            raise RenderError('; '.join(dict.fromkeys(log.errors)))
        _refuse_attachments(document)
        return document, log.messages


def check_placement(document, pages):
    """The :class:`~copyfit.Problem` list of a booklet that does not come out at
    ``pages`` pages.

    Every section of a layout is one page and says which (``data-page``). Text
    that does not fit carries part of its section onto a page of its own; that
    is found here, with the facts carried over and how much runs over.
    """
    spread = {}  # wanted page -> {page it landed on: [height, element ids, used]} (mm)
    rooms = {}  # page -> the height of its page area, in mm
    for number, page in enumerate(document.pages, 1):
        rooms[number] = page._page_box.height * PX_TO_MM
        for box in page._page_box.descendants():
            element = getattr(box, 'element', None)
            if element is None or box.element_tag != 'section' or 'data-page' not in element.attrib:
                continue
            landed = spread.setdefault(int(element.get('data-page')), {})
            entry = landed.setdefault(number, [0.0, set(), 0.0])
            entry[0] += box.height * PX_TO_MM
            top = box.content_box_y()  # what its children fill, blank at the foot aside
            entry[2] += max((child.position_y + child.margin_height() - top
                             for child in box.children), default=0) * PX_TO_MM
            entry[1] |= {descendant.element.get('id') for descendant in box.descendants()
                         if getattr(descendant, 'element', None) is not None}
    problems = _clipped(document)
    for wanted, landed in sorted(spread.items()):
        first, *rest = sorted(landed)
        if rest:
            height = sum(landed[number][0] for number in rest)
            moved = sorted({name for number in rest for name in landed[number][1]
                            if name and name.startswith('fact-')},
                           key=lambda name: int(name.split('-')[1]))
            names = ', '.join(name.replace('-', ' ') for name in moved)
            # What it needs: all its children fill, over the room of its page.
            room = rooms[first]
            used = sum(entry[2] for entry in landed.values())
            problems.append(Problem(
                wanted, f'page {wanted} runs over by {height:.1f} mm'
                + (f' ({names} do not fit)' if names else '')
                + ': shorten the text or let the layout give it more room',
                used / room if room > 0 else None))
    if not problems and len(document.pages) != pages:
        problems.append(Problem(None, f'the layout makes {len(document.pages)} pages, '
                                      f'not {pages}'))
    return problems


def justify(document, limit_mm):
    """Share out the room left on each page marked ``data-justify``: return the CSS
    that lays the pages out so, and whether ``document`` was changed to match.

    For every such section, the space between its last line and the foot of
    the page area is divided between its ``data-gap`` elements, at most
    ``limit_mm`` each, as the custom property ``--gap-share`` of the section
    (each gap's margins above and below grow by half its share). No line
    changes, so where the layout allows it the laid-out boxes are moved down
    instead of laying the pages out again: each section the last thing in the
    flow of its page, alone, its gaps empty, their margins not collapsing into
    larger ones beside them. Otherwise nothing is moved (False), and the caller
    lays out again with the CSS, which also goes into the hand-off.
    """
    from weasyprint.anchors import gather_anchors

    rules, moves = [], []
    for page in document.pages:
        box = page._page_box
        bottom = box.content_box_y() + box.height
        sections = [section for section in box.descendants()
                    if getattr(section, 'element', None) is not None
                    and section.element_tag == 'section'
                    and 'data-justify' in section.element.attrib]
        for section in sections:
            count = sum(1 for element in section.element.iter()
                        if 'data-gap' in element.attrib)  # the CSS reaches them all
            gaps = [child for child in section.children
                    if getattr(child, 'element', None) is not None
                    and 'data-gap' in child.element.attrib]
            free = bottom - (section.content_box_y() + section.height)
            if not count or free <= 0:
                continue
            # In whole hundredths of a mm, a hair short of the room: laid out
            # anew from the CSS, the last fact must not be pushed over.
            share_mm = math.floor(min(free * PX_TO_MM / count, float(limit_mm)) * 100
                                  - 1) / 100
            if share_mm <= 0:
                continue
            rules.append(f'section[data-page="{section.element.get("data-page")}"] '
                         f'{{ --gap-share: {share_mm:.2f}mm; }}')
            movable = (len(sections) == 1 and len(gaps) == count
                       and _last_in_flow(_path(box, section))
                       and all(child.is_in_normal_flow() for child in section.children)
                       and all(_plain_gap(gap, section) for gap in gaps))
            moves.append((page, section, gaps, share_mm / PX_TO_MM) if movable else None)
    css = '\n'.join(rules) + '\n' if rules else ''
    if None in moves:
        return css, False
    for page, section, gaps, share in moves:
        shift = 0
        for child in section.children:
            child.translate(dy=shift)  # from its margin edge
            if child in gaps:
                child.margin_top += share / 2
                child.margin_bottom += share / 2
                shift += share
        for holder in _path(page._page_box, section):  # those that hold it grow with it
            holder.height += shift
        # Links, anchors and bookmarks were gathered where the boxes were.
        page.links, page.anchors, page.bookmarks = [], {}, []
        page.forms = {None: []}
        gather_anchors(page._page_box, page.anchors, page.links, page.bookmarks, page.forms)
    return css, True


def _path(root, box):
    """The boxes from a child of ``root`` down to ``box``, ``box`` included."""
    for child in getattr(root, 'children', ()):
        if child is box:
            return [box]
        below = _path(child, box)
        if below:
            return [child, *below]
    return []


def _last_in_flow(path):
    """Whether nothing in the flow of the page comes after the last box of
    ``path`` (from the root element down: the page's margin boxes, its running
    heads, are not in the flow)."""
    def last_in_flow(parent, box):
        flow = [child for child in parent.children if child.is_in_normal_flow()]
        return bool(flow) and flow[-1] is box

    return all(last_in_flow(parent, box) for parent, box in zip(path, path[1:]))


def _plain_gap(gap, section):
    """An empty gap whose margins no larger margin beside it swallows."""
    if gap.children:
        return False
    children = section.children
    index = children.index(gap)
    before = children[index - 1] if index > 0 else None
    after = children[index + 1] if index + 1 < len(children) else None
    return ((before is None or before.margin_bottom <= gap.margin_top)
            and (after is None or after.margin_top <= gap.margin_bottom))


def _clipped(document):
    """Text that sticks out of the page area, below it or to the right of its
    column: what a fixed-size box cut off, or a word too long for its measure."""
    from weasyprint.formatting_structure.boxes import BlockContainerBox, LineBox, MarginBox

    problems = []
    for number, page in enumerate(document.pages, 1):
        box = page._page_box
        bottom = box.content_box_y() + box.height
        page_right = box.content_box_x() + box.width
        blocks = [block for child in box.children if not isinstance(child, MarginBox)
                  for block in child.descendants() if isinstance(block, BlockContainerBox)]
        below = wide = None
        for block in blocks:
            # A flex item grows to fit an unbreakable word: the page is the limit.
            edge = min(block.content_box_x() + block.width, page_right)
            for line in block.children:
                if not isinstance(line, LineBox):
                    continue
                if line.position_y + line.height > bottom + 1:  # the lowest line counts
                    below = max(below or 0, (line.position_y + line.height - bottom) * PX_TO_MM)
                right = max((child.position_x + child.margin_width()
                             for child in line.children), default=edge)
                if wide is None and right > edge + 1:
                    wide = ((right - edge) * PX_TO_MM, _fact_of(line, page))
        if below is not None:
            room = box.height * PX_TO_MM
            problems.append(Problem(
                number, f'page {number}: text runs {below:.1f} mm past the bottom of the '
                'page area and is cut off', (room + below) / room if room > 0 else None))
        if wide is not None:
            problems.append(Problem(
                number, f'page {number}: {wide[1]}a line runs {wide[0]:.1f} mm past the '
                'right edge of its column (a word too long to break?)'))
    return problems


def _fact_of(line, page):
    """``fact 6: `` for a line inside the sixth fact, else nothing."""
    for box in page._page_box.descendants():
        element = getattr(box, 'element', None)
        if (element is not None and box.element_tag == 'article'
                and str(element.get('id', '')).startswith('fact-')
                and line in box.descendants()):
            return element.get('id').replace('-', ' ') + ': '
    return ''


#: What WeasyPrint raises for CSS it parses but cannot draw (WeasyPrint 70: a
#: ``device-cmyk()`` colour in a gradient, NotImplementedError; in a shadow,
#: AssertionError): the layout's limit, not a bug of the builder.
_WEASYPRINT_LIMITS = (NotImplementedError, AssertionError)


def _cannot_draw(exc):
    import traceback

    import weasyprint

    where = traceback.extract_tb(exc.__traceback__)[-1]
    return RenderError(
        f'WeasyPrint {weasyprint.__version__} cannot draw something the layout asks '
        f'for ({type(exc).__name__} in {Path(where.filename).name}:{where.lineno}); '
        'a known cause is a device-cmyk() colour (var(--…)) in a gradient or a '
        'shadow: use plain fills there')


def write_pdf(document, target, identifier, fetcher):
    """Write ``document`` as the PDF the outputs are finished from; return warnings.

    SVG pictures are drawn, and what they link to fetched, only now: a refusal
    met then fails the edition too."""
    with _collect_warnings() as log:
        try:
            document.write_pdf(target, pdf_identifier=identifier, **WRITE_OPTIONS)
        except _WEASYPRINT_LIMITS as exc:
            raise _cannot_draw(exc) from None
    if fetcher.refused:
        raise RenderError(f'resource refused: {fetcher.refused[0]}')
    if log.errors:
        raise RenderError('; '.join(dict.fromkeys(log.errors)))
    return log.messages
