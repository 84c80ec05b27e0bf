"""Render an edition's HTML with WeasyPrint into the PDF of each output, and check the pages."""

import ctypes
import ctypes.util
import gc
import logging
import math
import re
import sys
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
        self.errors = []  # (message, the URL it is about or None)

    def emit(self, record):
        # WeasyPrint logs and goes on where a picture fails to load or draw,
        # even for an exception that is no error: the time limit's alarm, a
        # MemoryError, a KeyboardInterrupt (SVGImage.draw catches BaseException).
        # It is being handled now: raised again from here, it stops the render,
        # and the limit, not "Failed to render SVG image", is what is reported.
        handled = sys.exc_info()[1]
        if handled is not None and (not isinstance(handled, Exception)
                                    or isinstance(handled, MemoryError)):
            raise handled
        message = record.getMessage()
        self.messages.append(message)
        # A picture WeasyPrint could not load or draw is left out of the page
        # with a log line (an error or a mere warning): it fails the edition.
        if record.levelno >= logging.ERROR or message.startswith(('Failed to load',
                                                                   'Failed to render')):
            url = None
            if message.startswith(('Failed to load image', 'Failed to render SVG')) \
                    and record.args:
                url = str(record.args[0])
            if handled is not None and message.startswith('Failed to render'):
                message += f' ({type(handled).__name__}: {_short(str(handled))})'
            self.errors.append((message, url))


def _short(text, size=160):
    return text if len(text) <= size else text[:size - 1] + '…'


@contextmanager
def _collect_warnings():
    logger = logging.getLogger('weasyprint')
    handler = _Collect()
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        with _glib_messages() as glib:
            handler.glib = glib
            yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


# Pango reports what it cannot do (a font size past its integers) through
# GLib's log, straight to the terminal, and goes on with garbage. A handler for
# the libraries' log domains keeps those lines while a render runs: they fail
# the edition, as the layout's error, and never reach the user's terminal.

_GLIB_DOMAINS = (b'Pango', b'GLib', b'GLib-GObject', b'HarfBuzz')
_GLIB_LEVELS = (1 << 3) | (1 << 4) | (1 << 5)  # CRITICAL, WARNING, MESSAGE
_GLIB_FLAGS = (1 << 0) | (1 << 1)  # RECURSION, FATAL
_glib = {'installed': False, 'collecting': None, 'callback': None}


def _install_glib_handler():
    """Route GLib log lines of :data:`_GLIB_DOMAINS` to :func:`_glib_messages`
    (once per process); outside a render they go where GLib sends them."""
    if _glib['installed']:
        return
    _glib['installed'] = True
    try:
        library = ctypes.CDLL(ctypes.util.find_library('glib-2.0') or 'libglib-2.0.so.0')
    except OSError:
        return  # no GLib to listen to: WeasyPrint would not run either
    log_func = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                ctypes.c_void_p)
    library.g_log_default_handler.argtypes = [ctypes.c_char_p, ctypes.c_int,
                                              ctypes.c_char_p, ctypes.c_void_p]
    library.g_log_set_handler.argtypes = [ctypes.c_char_p, ctypes.c_int, log_func,
                                          ctypes.c_void_p]
    library.g_log_set_handler.restype = ctypes.c_uint

    def handler(domain, level, message, data):
        collecting = _glib['collecting']
        if collecting is None:
            library.g_log_default_handler(domain, level, message, data)
        elif len(collecting) < 20:
            collecting.append(f"{(domain or b'').decode('utf-8', 'replace')}: "
                              f"{(message or b'').decode('utf-8', 'replace')}")

    _glib['callback'] = log_func(handler)  # kept: GLib calls it for the process's life
    for domain in _GLIB_DOMAINS:
        library.g_log_set_handler(domain, _GLIB_LEVELS | _GLIB_FLAGS, _glib['callback'], None)


@contextmanager
def _glib_messages():
    """A list that gets the GLib log lines (Pango's) of the block."""
    _install_glib_handler()
    collected, outer = [], _glib['collecting']
    _glib['collecting'] = collected
    try:
        yield collected
    finally:
        _glib['collecting'] = outer


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

    def __init__(self, html, base_url, fetcher, font_css, finder=None):
        from weasyprint.text.fonts import FontConfiguration  # late: `check` stays fast

        hyphenation.register()  # pyphen has no Kazakh or Kyrgyz: ours

        self.html, self.base_url, self.fetcher = html, base_url, fetcher
        #: A :class:`layouts.Finder`: where in the layout's files a failure was asked for.
        self.finder = finder
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
            except (Exception, RefusedResource) as exc:  # noqa: BLE001 (sorted below)
                error = _layout_failure(exc, log, self.finder, lambda: weasyprint.HTML(
                    string=self.html).etree_element)
                if error is None:
                    raise  # not the layout's: a bug, with WeasyPrint's traceback
                raise error from None
        # A font size past what Pango's integers hold: Pango complained (above)
        # or set garbage; either way the layout asked for it.
        error = _font_too_large(document, self.finder) or _logged_failure(
            log, self.fetcher, self.finder)
        if error:
            raise error
        _refuse_attachments(document)
        return document, log.messages


#: The largest font size a layout may set, in pt: 3.5 m, taller than any page.
#: Pango counts in integers of 1/1024 of a pixel: well above this, a line's
#: width overflows, and at 1.6 million pt the size itself.
MAX_FONT_PT = 10_000


def _font_too_large(document, finder):
    """The :class:`RenderError` for a font size over :data:`MAX_FONT_PT`, at the
    CSS declaration that asks for it when it can be found; None if none is."""
    size, element = weasy.largest_font_size(document)
    if size * 0.75 <= MAX_FONT_PT:
        return None
    if element is None:
        what = 'a page margin box'
    else:
        what = f'<{element.tag}' + (f' class="{element.get("class")}"'
                                    if element.get('class') else '') + '>'
    message = (f'font-size of {size * 0.75:,.0f} pt on {what}: more than {MAX_FONT_PT:,} pt, '
               'which no page holds and Pango cannot set')
    where = None
    if finder is not None:
        found = finder.declarations(('font-size', 'font'), _over_max_font)
        where = found[0][0] if found else finder.fallback
    return RenderError(f'{where}: {message}' if where else message)


#: CSS absolute lengths, in pt.
_PT = {'pt': 1, 'px': 0.75, 'pc': 12, 'in': 72, 'cm': 72 / 2.54, 'mm': 72 / 25.4,
       'q': 72 / 101.6}


def _over_max_font(tokens):
    """Whether a font-size value (tinycss2 tokens) is an absolute length over the
    limit, or a multiple (em, %) that alone could make one."""
    for token in tokens:
        if token.type == 'dimension':
            unit = token.lower_unit
            if unit in _PT and token.value * _PT[unit] > MAX_FONT_PT:
                return True
            if unit in ('em', 'rem', 'ex', 'ch') and token.value > 500:
                return True
        elif token.type == 'percentage' and token.value > 50_000:
            return True
        elif token.type == 'function':
            if _over_max_font(token.arguments):
                return True
    return False


def _at(finder, url, message):
    """``message`` after the place in the layout's files that asked for ``url``."""
    if finder is None:
        return message
    where = (finder.url(url) if url else None) or finder.fallback
    return f'{where}: {message}'


def _layout_failure(exc, log, finder, root):
    """The :class:`RenderError` for ``exc``, raised while WeasyPrint laid out or
    drew a layout, when the layout caused it; None for what is a bug. ``root()``
    gives the root element of the HTML."""
    if isinstance(exc, MemoryError):
        return None  # the worker's memory limit says it (workers.py)
    if isinstance(exc, RefusedResource):
        return RenderError(_at(finder, getattr(exc, 'url', None), f'resource refused: {exc}'))
    if isinstance(exc, RecursionError):
        return RenderError(_too_deep(exc, root(), finder))
    if isinstance(exc, (NotImplementedError, AssertionError)):
        error = _cannot_draw(exc)
        if error is not None:
            where = _drawing_limit_at(str(error), finder) if finder is not None else None
            return RenderError(f'{where}: {error}' if where else _at(finder, None, str(error)))
    if log.glib:  # Pango said what it could not do before the failure
        return _pango_error(log.glib, finder)
    if isinstance(exc, OverflowError) and weasy.raised_inside(exc):
        # A length handed to Pango or the PDF as a C integer.
        return _huge_length_error(f'{type(exc).__name__}: {_short(str(exc))}', finder)
    return None


def _functions(tokens):
    """The names of the CSS functions in ``tokens``, nested ones included."""
    names = []
    for token in tokens:
        if token.type == 'function':
            names.append(token.lower_name)
            names += _functions(token.arguments)
    return names


#: Where the known drawing limits of weasy.py are asked for: a word of their
#: description -> the properties, and a test of a declaration's value.
_LIMIT_DECLARATIONS = {
    'box-shadow': (('box-shadow',), lambda tokens: bool(
        {'var', 'device-cmyk'} & set(_functions(tokens)))),
    'gradient': (('background', 'background-image', 'border-image', 'border-image-source',
                  'list-style-image', 'content', 'mask-image'),
                 lambda tokens: any(name.endswith('gradient') for name in _functions(tokens))),
}


def _drawing_limit_at(message, finder):
    """The first CSS declaration of the layout that asks for the drawing limit
    ``message`` describes, as ``path:line:col``; None if none is found."""
    for word, (names, test) in _LIMIT_DECLARATIONS.items():
        if word in message:
            found = finder.declarations(names, test)
            if found:
                return found[0][0]
    return None


def _logged_failure(log, fetcher, finder):
    """The :class:`RenderError` for what WeasyPrint only logged and went on from:
    Pango's complaints, a refusal inside an SVG, a picture it could not load or
    draw (it would be left out of the page); None when nothing was."""
    if log.glib:
        return _pango_error(log.glib, finder)
    refused = getattr(fetcher, 'refused', [])
    if refused:
        urls = getattr(fetcher, 'refused_urls', [])
        return RenderError(_at(finder, urls[0] if urls else None,
                               f'resource refused: {refused[0]}'))
    if log.errors:
        messages = dict.fromkeys(message for message, _ in log.errors)
        url = next((url for _, url in log.errors if url), None)
        return RenderError(_at(finder, url, '; '.join(messages)))
    return None


def _pango_error(lines, finder):
    return _huge_length_error(f'Pango: {_short(lines[0])}', finder)


#: A length no layout means, in pt (35 m): where one is written, it is what
#: overflowed Pango's or the PDF's integers.
_ABSURD_PT = 100_000


def _huge_length_error(said, finder):
    """The :class:`RenderError` for a number too large for Pango or the PDF
    (``said`` is what they said), at the first CSS declaration of the layout
    with a length over :data:`_ABSURD_PT` or a font size over the limit."""
    message = (f'a length too large to set ({said}): a font size, letter-spacing or '
               'other length far too large?')
    where = None
    if finder is not None:
        found = (finder.declarations(('font-size', 'font'), _over_max_font)
                 or finder.declarations(None, _absurd))
        where = found[0][0] if found else finder.fallback
    return RenderError(f'{where}: {message}' if where else message)


def _absurd(tokens):
    for token in tokens:
        if token.type == 'dimension' and token.lower_unit in _PT and \
                abs(token.value * _PT[token.lower_unit]) > _ABSURD_PT:
            return True
        if token.type == 'function' and _absurd(token.arguments):
            return True
    return False


#: Deeper than this, nesting is what ran into Python's recursion limit.
_DEEP = 100


def _too_deep(exc, root, finder):
    """Why a layout's HTML (its ``root`` element) could not be laid out or drawn:
    WeasyPrint recursed past Python's limit (``exc``), as it does once per level
    of nested elements; says how deep, and where."""
    import weasyprint

    depth, trail = weasy.deepest(root)
    if depth >= _DEEP:
        where = finder.template if finder is not None else 'the template'
        return (f'{where}: elements nested {depth} deep ({trail}): more than WeasyPrint '
                f'{weasyprint.__version__} can lay out (it recurses once per level, and '
                'Python stops it); nest less deeply')
    where = finder.fallback if finder is not None else 'the layout'
    return (f'{where}: WeasyPrint {weasyprint.__version__} recursed past Python\'s limit '
            f'({type(exc).__name__}: {_short(str(exc))}), though elements nest only '
            f'{depth} deep: something the layout repeats within itself (var() chains, '
            'counters, an SVG that uses itself)?')


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
    hanging = {}  # page -> (mm its section's children fill past its foot, their share, names)
    for number, page in enumerate(document.pages, 1):
        rooms[number] = weasy.page_area(page).height * PX_TO_MM
        for box in weasy.sections(page, 'data-page'):
            wanted = int(weasy.element_of(box).get('data-page'))
            # A section of fixed height (as tall as the page) does not break: what
            # it cannot hold hangs out of it, on the same page.
            # Both by their border boxes and by their margin boxes: a background
            # let into the bleed by a negative margin, or a bottom margin that
            # collapses through the section's foot, hangs by one of them only.
            own = weasy.height(box)
            over = min(weasy.hanging(box), weasy.filled_height(box) - own)
            if over > 0.5 and own > 0:
                hanging[wanted] = (over * PX_TO_MM, (own + over) / own,
                                   [watched[e] for e in weasy.overflowing(box, watched)])
            landed = spread.setdefault(wanted, {})
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
        elif wanted in hanging:
            over, share, names = hanging[wanted]
            problems.append(Problem(
                wanted, f'page {wanted} runs over by {over:.1f} mm'
                + (f' ({_listed(names)} {"does" if len(names) == 1 else "do"} not fit)'
                   if names else '')
                + ': shorten the text or let the layout give it more room', share))
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


def write_pdf(document, target, identifier, fetcher, finder=None):
    """Write ``document`` as the PDF the outputs are finished from; return warnings.

    SVG pictures are drawn, and what they link to fetched, only now: a refusal
    met then fails the edition too. ``finder`` (a :class:`layouts.Finder`)
    places a failure in the layout's files."""
    with _collect_warnings() as log:
        try:
            document.write_pdf(target, pdf_identifier=identifier, **WRITE_OPTIONS)
        except (Exception, RefusedResource) as exc:  # noqa: BLE001 (sorted below)
            error = _layout_failure(exc, log, finder, lambda: weasy.root_element(document))
            if error is None:
                raise  # not the layout's: a bug, with WeasyPrint's traceback
            raise error from None
    error = _logged_failure(log, fetcher, finder)
    if error:
        raise error
    return log.messages
