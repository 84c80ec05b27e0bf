"""Render an edition's HTML with WeasyPrint into the PDF of each output, and check the pages."""

import gc
import logging
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from . import hyphenation, marks, pdfx, screen, weasy
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


#: The font configurations and parsed stylesheets of the last layouts and fonts a
#: worker rendered with: ``{(base URL, font CSS): (FontConfiguration, {css: CSS})}``,
#: the most recent last; at most :data:`KEEP_FONTS` (a preview worker of ``serve``
#: goes from product to product for one edit).
_FONTS = {}
KEEP_FONTS = 4


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
        kept = _FONTS.pop(key, None) or (FontConfiguration(), {})
        while len(_FONTS) >= KEEP_FONTS:
            del _FONTS[next(iter(_FONTS))]  # the least recently used
        _FONTS[key] = kept
        self.font_config, self._sheets = kept

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
            except (NotImplementedError, AssertionError) as exc:
                error = _cannot_draw(exc)
                if error is None:
                    raise  # not the layout's: a bug, with WeasyPrint's traceback
                raise error from None
        # WeasyPrint reports a picture it could not load, or a refusal met inside
        # an SVG, as a log line and draws nothing: here that fails the edition.
        if self.fetcher.refused:
            raise RenderError(f'resource refused: {self.fetcher.refused[0]}')
        if log.errors:
            raise RenderError('; '.join(dict.fromkeys(log.errors)))
        _refuse_attachments(document)
        return document, log.messages


def check_placement(document, pages, watch=None):
    """The :class:`~copyfit.Problem` list of a booklet that does not come out at
    ``pages`` pages.

    Every section of a layout is one page and says which (``data-page``). Text
    that does not fit carries part of its section onto a page of its own; that
    is found here, with how much runs over. ``watch`` is the layout's CSS
    selector of the elements worth naming when they run over (``.fact``): a
    message names them by their ``data-label``, else their ``id`` (see
    :func:`_to_blame` for which); with no ``watch`` it names none.
    """
    watched = _watched(document, watch)
    spread = {}  # wanted page -> {page it landed on: [height, elements, used]} (mm)
    rooms = {}  # page -> the height of its page area, in mm
    heights = {}  # watched element -> its height, all pages, in mm
    for number, page in enumerate(document.pages, 1):
        rooms[number] = weasy.page_area(page).height * PX_TO_MM
        for box in weasy.sections(page, 'data-page'):
            landed = spread.setdefault(int(weasy.element_of(box).get('data-page')), {})
            entry = landed.setdefault(number, [0.0, set(), 0.0])
            entry[0] += weasy.height(box) * PX_TO_MM
            # What its children fill, the blank at its foot aside.
            entry[2] += weasy.filled_height(box) * PX_TO_MM
            entry[1] |= weasy.elements_in(box)
            for element, height in weasy.element_heights(box, watched).items():
                heights[element] = heights.get(element, 0.0) + height * PX_TO_MM
    problems = _clipped(document, watched)
    for wanted, landed in sorted(spread.items()):
        first, *rest = sorted(landed)
        if rest:
            height = sum(landed[number][0] for number in rest)
            names = _to_blame(wanted, spread, rooms, watched, heights)
            # What it needs: all its children fill, over the room of its page.
            room = rooms[first]
            used = sum(entry[2] for entry in landed.values())
            problems.append(Problem(
                wanted, f'page {wanted} runs over by {height:.1f} mm'
                + (f' ({_listed(names)} {"does" if len(names) == 1 else "do"} not fit)'
                   if names else '')
                + ': shorten the text or let the layout give it more room',
                used / room if room > 0 else None))
    if not problems and len(document.pages) != pages:
        problems.append(Problem(None, f'the layout makes {len(document.pages)} pages, '
                                      f'not {pages}'))
    return problems


#: A label's kind and number: ``fact 6`` → ``fact``, ``6``.
_NUMBERED = re.compile(r'(.*\S)\s+(\d+)')


def _kind(label):
    match = _NUMBERED.fullmatch(label)
    return match.group(1) if match else label


def _to_blame(wanted, spread, rooms, watched, heights):
    """The labels of the watched elements to name when the section of page
    ``wanted`` runs over, in document order.

    The elements carried over are where the page broke, not always what made
    it: a layout that shares numbered items out between pages (fact 1 … fact
    9, in runs as even as it can) overflows on the page of fact 4 when facts 6
    and 9 are too long. So the items of each kind on the section (labels alike
    but for their number: ``fact 4`` is of kind ``fact``), wherever they are,
    are measured against an even share of the room the sections that hold
    them leave them: those taller than it by more than a quarter are named, if
    they are fewer than half of their kind (else the items are too long
    together). When none is named so (or a kind has fewer than three items),
    the elements carried over are: it is said where the page broke.
    """
    landed = spread[wanted]
    first = min(landed)
    carried = set().union(*(entry[1] for number, entry in landed.items() if number != first))
    mine = set().union(*(entry[1] for entry in landed.values()))
    long = set()
    for kind in {_kind(watched[element]) for element in mine if element in watched}:
        items = [element for element, label in watched.items() if _kind(label) == kind]
        if len(items) < 3 or any(element not in heights for element in items):
            continue
        room = 0.0  # what the sections holding them leave them
        for section in spread.values():
            held = set().union(*(entry[1] for entry in section.values()))
            if held.isdisjoint(items):
                continue
            used = sum(entry[2] for entry in section.values())
            room += rooms[min(section)] - (used - sum(heights[element] for element in items
                                                      if element in held))
        over = [element for element in items if heights[element] > 1.25 * room / len(items)]
        if len(over) < len(items) / 2:
            long.update(over)
    named = long or carried
    return [label for element, label in watched.items() if element in named]


def _listed(labels):
    """``fact 7``; ``facts 6 and 9``; ``fact 3, lede and about``: labels of one
    kind and a number each are said once, in the plural."""
    groups = {}  # kind -> numbers, or label -> None
    for label in labels:
        match = _NUMBERED.fullmatch(label)
        if match:
            groups.setdefault(match.group(1), []).append(match.group(2))
        else:
            groups.setdefault(label, None)
    parts = []
    for kind, numbers in groups.items():
        if numbers is None or len(numbers) == 1:
            parts.append(kind if numbers is None else f'{kind} {numbers[0]}')
        else:
            parts.append(f'{_plural(kind)} {_and(numbers)}')
    if len(parts) > 1 and any(' and ' in part for part in parts):
        return f'{", ".join(parts[:-1])}, and {parts[-1]}'  # facts 3 and 4, and lede
    return _and(parts)


def _plural(noun):
    """``fact`` → ``facts``, ``box`` → ``boxes``, ``entry`` → ``entries`` (the
    labels are English, as the messages are)."""
    if noun.endswith(('s', 'x', 'z', 'ch', 'sh')):
        return noun + 'es'
    if noun.endswith('y') and noun[-2:-1] not in 'aeiou':
        return noun[:-1] + 'ies'
    return noun + 's'


def _and(items):
    return items[0] if len(items) == 1 else f'{", ".join(items[:-1])} and {items[-1]}'


def _watched(document, watch):
    """``{element: label}`` of the elements of ``document`` the CSS selector
    ``watch`` matches, in document order: labelled by ``data-label``, else ``id``
    (one with neither cannot be named, and is left out)."""
    if not watch:
        return {}
    import cssselect2

    root = weasy.root_element(document)
    if root is None:
        return {}
    try:
        matched = list(cssselect2.ElementWrapper.from_html_root(root).query_all(watch))
    except cssselect2.SelectorError as exc:
        raise RenderError(f'watch: {watch!r} is not a CSS selector bindery can use '
                          f'({exc})') from None
    labels = {}
    for wrapper in matched:
        element = wrapper.etree_element
        label = element.get('data-label') or element.get('id')
        if label:
            labels[element] = label
    return labels


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
    rules, moves = [], []
    for page in document.pages:
        foot = weasy.page_area(page).bottom
        sections = weasy.sections(page, 'data-justify')
        for section in sections:
            element = weasy.element_of(section)
            count = sum(1 for each in element.iter()
                        if 'data-gap' in each.attrib)  # the CSS reaches them all
            children = weasy.children(section)
            gaps = [child for child in children if _has(child, 'data-gap')]
            free = foot - weasy.bottom(section)
            if not count or free <= 0:
                continue
            # In whole hundredths of a mm, a hair short of the room: laid out
            # anew from the CSS, the last fact must not be pushed over.
            share_mm = math.floor(min(free * PX_TO_MM / count, float(limit_mm)) * 100
                                  - 1) / 100
            if share_mm <= 0:
                continue
            rules.append(f'section[data-page="{element.get("data-page")}"] '
                         f'{{ --gap-share: {share_mm:.2f}mm; }}')
            movable = (len(sections) == 1 and len(gaps) == count
                       and weasy.last_in_flow(page, section)
                       and all(weasy.in_flow(child) for child in children)
                       and all(weasy.is_plain_gap(gap, section) for gap in gaps))
            moves.append((page, section, gaps, share_mm / PX_TO_MM) if movable else None)
    css = '\n'.join(rules) + '\n' if rules else ''
    if None in moves:
        return css, False
    for page, section, gaps, share in moves:
        shift = weasy.open_gaps(section, gaps, share)
        weasy.grow_holders(page, section, shift)  # those that hold it grow with it
        # Links, anchors and bookmarks were gathered where the boxes were.
        weasy.regather_anchors(page)
    return css, True


def _has(box, attribute):
    element = weasy.element_of(box)
    return element is not None and attribute in element.attrib


def _clipped(document, watched):
    """Text that sticks out of the page area, below it or to the right of its
    column: what a fixed-size box cut off, or a word too long for its measure.
    A line in an element of ``watched`` (``{element: label}``) is named by it."""
    problems = []
    for number, page in enumerate(document.pages, 1):
        area = weasy.page_area(page)
        below = wide = None
        for line in weasy.lines(page):
            if line.bottom > area.bottom + 1:  # the lowest line counts
                below = max(below or 0, (line.bottom - area.bottom) * PX_TO_MM)
            # A flex item grows to fit an unbreakable word: the page is the limit.
            edge = min(line.block_right, area.right)
            if wide is None and line.right is not None and line.right > edge + 1:
                wide = ((line.right - edge) * PX_TO_MM, _label_of(line, watched))
        if below is not None:
            room = area.height * PX_TO_MM
            problems.append(Problem(
                number, f'page {number}: text runs {below:.1f} mm past the bottom of the '
                'page area and is cut off', (room + below) / room if room > 0 else None))
        if wide is not None:
            problems.append(Problem(
                number, f'page {number}: {wide[1]}a line runs {wide[0]:.1f} mm past the '
                'right edge of its column (a word too long to break?)'))
    return problems


def _label_of(line, watched):
    """``fact 6: `` for a line inside the watched element labelled ``fact 6`` (the
    innermost, if several hold it), else nothing."""
    for element in reversed(line.elements):
        if element in watched:
            return f'{watched[element]}: '
    return ''


def _cannot_draw(exc):
    """The :class:`RenderError` for ``exc``, raised by WeasyPrint for something the
    layout asks for that it cannot draw; None when it is not a known limit (a bug)."""
    import weasyprint

    limit = weasy.drawing_limit(exc)
    if limit is None:
        return None
    cause, where = limit
    return RenderError(
        f'WeasyPrint {weasyprint.__version__} cannot draw something the layout asks '
        f'for: {cause} ({type(exc).__name__} in {where}); use plain fills there')


def write_pdf(document, target, identifier, fetcher):
    """Write ``document`` as the PDF the outputs are finished from; return warnings.

    SVG pictures are drawn, and what they link to fetched, only now: a refusal
    met then fails the edition too."""
    with _collect_warnings() as log:
        try:
            document.write_pdf(target, pdf_identifier=identifier, **WRITE_OPTIONS)
        except (NotImplementedError, AssertionError) as exc:
            error = _cannot_draw(exc)
            if error is None:
                raise  # not the layout's: a bug, with WeasyPrint's traceback
            raise error from None
    if fetcher.refused:
        raise RenderError(f'resource refused: {fetcher.refused[0]}')
    if log.errors:
        raise RenderError('; '.join(dict.fromkeys(log.errors)))
    return log.messages
