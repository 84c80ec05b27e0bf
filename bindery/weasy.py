"""The only module that touches WeasyPrint's private layout objects, pinned to weasyprint==70.0 in requirements.txt."""

# Everything here reads or changes what WeasyPrint 70 lays out, through
# attributes and functions it does not document: ``Page._page_box``, the box
# classes of ``weasyprint.formatting_structure.boxes`` and their geometry
# (``position_y``, ``content_box_y()``, ``margin_top``, ``translate()`` …), and
# ``weasyprint.anchors.gather_anchors``. Boxes leave this module only as opaque
# handles, to be given back to its functions. All lengths are CSS pixels.
# WeasyPrint is imported late, as in pdf.py: `check` never loads it.

from pathlib import Path
from typing import NamedTuple

#: The WeasyPrint release this module is written against (and requirements.txt pins).
PINNED = '70.0'


class Area(NamedTuple):
    """A page's page area (inside its margins), in px from the page's top left."""

    top: float
    bottom: float
    left: float
    right: float
    height: float


class Line(NamedTuple):
    """One line box of text: where it ends, and the elements it sits in."""

    bottom: float  # the foot of the line
    right: float | None  # where its rightmost piece ends (margin edge); None if empty
    block_right: float  # the right edge of the content of the block holding it
    elements: tuple  # the elements it sits in, outermost first (its block's included)


def _boxes():
    from weasyprint.formatting_structure import boxes

    return boxes


def _page_box(page):
    return page._page_box


def page_area(page):
    """The :class:`Area` of ``page`` (a ``weasyprint.Page``)."""
    box = _page_box(page)
    top, left = box.content_box_y(), box.content_box_x()
    return Area(top, top + box.height, left, left + box.width, box.height)


def root_element(document):
    """The root element (``<html>``) of the tree ``document`` was laid out from, or
    None when no page shows it."""
    boxes = _boxes()
    for page in document.pages:
        for child in _page_box(page).children:
            if not isinstance(child, boxes.MarginBox) and child.element is not None:
                return child.element
    return None


def element_of(box):
    """The element ``box`` was made for (None for an anonymous box)."""
    return getattr(box, 'element', None)


def children(box):
    """The child boxes of ``box``, in order."""
    return list(getattr(box, 'children', ()))


def sections(page, attribute):
    """The boxes of the ``<section>`` elements with ``attribute`` on ``page``, in
    document order (one section carried over several pages has a box on each)."""
    return [box for box in _page_box(page).descendants()
            if getattr(box, 'element', None) is not None and box.element_tag == 'section'
            and attribute in box.element.attrib]


def height(box):
    """The height of the content of ``box``."""
    return box.height


def bottom(box):
    """Where the content of ``box`` ends, from the top of its page."""
    return box.content_box_y() + box.height


def filled_height(box):
    """How far below the top of its content the children of ``box`` reach (their
    margins included): its height without the blank its own height adds at the foot."""
    top = box.content_box_y()
    return max((child.position_y + child.margin_height() - top
                for child in getattr(box, 'children', ())), default=0)


def elements_in(box):
    """The set of elements with a box inside ``box`` (its own included)."""
    return {descendant.element for descendant in box.descendants()
            if getattr(descendant, 'element', None) is not None}


def element_heights(box, elements):
    """``{element: height}`` for each of ``elements`` with a box inside ``box``: the
    border-box height of its outermost box there (an element's text and anonymous
    boxes carry its element too; they are inside that box, and not counted), with
    what its children fill for its content: a box split at a page break is
    stretched to the foot of the page, and that blank is not the element's."""
    found = {}
    stack = [(box, None)]
    while stack:
        current, inside = stack.pop()
        element = getattr(current, 'element', None)
        if element is not None and element is not inside and element in elements:
            content = filled_height(current) if getattr(current, 'children', None) \
                else current.height
            found[element] = found.get(element, 0) + (
                current.border_height() - current.height + content)
            inside = element
        stack.extend((child, inside) for child in getattr(current, 'children', ()))
    return found


def hanging(box):
    """How far below the foot of ``box``'s content its children's border boxes
    reach (their margins aside: a bottom margin may collapse through its parent's
    foot), 0 when they do not."""
    foot = bottom(box)
    return max((child.border_box_y() + child.border_height() - foot
                for child in getattr(box, 'children', ())
                if hasattr(child, 'border_box_y')), default=0) if foot else 0


def overflowing(box, elements):
    """Those of ``elements`` whose outermost box inside ``box`` reaches below the
    foot of ``box``'s content, top to bottom: what a box of fixed height (a page
    section as tall as the page, a flex column) lets hang out of it."""
    foot = bottom(box)
    found = []
    stack = [(box, None)]
    while stack:
        current, inside = stack.pop()
        element = getattr(current, 'element', None)
        if element is not None and element is not inside and element in elements:
            end = current.border_box_y() + current.border_height()
            if end > foot + 0.5:
                found.append((current.border_box_y(), element))
            inside = element
        stack.extend((child, inside) for child in getattr(current, 'children', ()))
    return [element for _, element in sorted(found, key=lambda item: item[0])]


def lines(page):
    """Every :class:`Line` of text in the flow of ``page`` (the running heads and
    folios of its margin boxes aside), in document order, inline blocks' included."""
    boxes = _boxes()
    found = []
    stack = [(child, ()) for child in reversed(_page_box(page).children)
             if not isinstance(child, boxes.MarginBox)]
    while stack:
        box, ancestors = stack.pop()
        element = getattr(box, 'element', None)
        if element is not None and (not ancestors or ancestors[-1] is not element):
            ancestors = (*ancestors, element)
        if isinstance(box, boxes.BlockContainerBox):
            block_right = box.content_box_x() + box.width
            for line in box.children:
                if isinstance(line, boxes.LineBox):
                    right = max((child.position_x + child.margin_width()
                                 for child in line.children), default=None)
                    found.append(Line(line.position_y + line.height, right, block_right,
                                      ancestors))
        # As Box.descendants(): not into the placeholder of a positioned box.
        stack.extend((child, ancestors) for child in reversed(getattr(box, 'children', ()))
                     if isinstance(child, boxes.Box))
    return found


def largest_font_size(document):
    """The largest computed font size (px) of any box on the pages of
    ``document``, and the element it is on (None for a margin box); (0, None)
    for a document with no text."""
    largest, element = 0, None
    for page in document.pages:
        stack = [_page_box(page)]
        while stack:
            box = stack.pop()
            size = box.style['font_size'] if box.style is not None else 0
            own = getattr(box, 'element', None)
            # At one size, an element says more than a margin box (None).
            if size > largest or (size == largest and element is None and own is not None):
                largest, element = size, own
            stack.extend(getattr(box, 'children', ()))
    return largest, element


def deepest(root):
    """How deep the deepest element under ``root`` (an ElementTree element) is
    nested, and the trail to it, as ``html > body > section.x > div × 248``."""
    best, trail = 0, []
    stack = [(root, 1, None)]
    parents = {}
    while stack:
        element, depth, parent = stack.pop()
        parents[id(element)] = (element, parent)
        if depth > best:
            best, trail = depth, element
        stack.extend((child, depth + 1, element) for child in element
                     if isinstance(child.tag, str))
    labels = []
    node = trail
    while node is not None:
        element, node = parents[id(node)]
        tag = element.tag.rsplit('}', 1)[-1]
        label = tag + ''.join(f'.{name}' for name in (element.get('class') or '').split()[:2])
        labels.append(label)
    labels.reverse()
    runs = []
    for label in labels:
        if runs and runs[-1][0] == label:
            runs[-1][1] += 1
        else:
            runs.append([label, 1])
    return best, ' > '.join(label if count == 1 else f'{label} × {count}'
                            for label, count in runs)


# Moving laid-out boxes (see pdf.justify) ------------------------------------

def holders(page, box):
    """The boxes from the root element's box of ``page`` down to ``box``, ``box``
    included (empty when ``box`` is not on ``page``)."""
    return _path(_page_box(page), box)


def _path(root, box):
    for child in getattr(root, 'children', ()):
        if child is box:
            return [box]
        below = _path(child, box)
        if below:
            return [child, *below]
    return []


def in_flow(box):
    """Whether ``box`` is in the normal flow (not floated, positioned, running …)."""
    return box.is_in_normal_flow()


def last_in_flow(page, box):
    """Whether nothing in the flow of ``page`` comes after ``box``: it is the last
    box in the flow of each of its holders (the page's margin boxes, its running
    heads, are not in the flow)."""
    path = holders(page, box)

    def last(parent, child):
        flow = [each for each in parent.children if each.is_in_normal_flow()]
        return bool(flow) and flow[-1] is child

    return bool(path) and all(last(parent, child) for parent, child in zip(path, path[1:]))


def is_plain_gap(box, parent):
    """Whether ``box``, a child of ``parent``, is empty and its vertical margins
    are its own: no larger margin of a sibling beside it swallows them."""
    if box.children:
        return False
    siblings = parent.children
    index = siblings.index(box)
    before = siblings[index - 1] if index > 0 else None
    after = siblings[index + 1] if index + 1 < len(siblings) else None
    return ((before is None or before.margin_bottom <= box.margin_top)
            and (after is None or after.margin_top <= box.margin_bottom))


def open_gaps(section, gaps, share):
    """Grow each of ``gaps`` (children of ``section``) by ``share``, half above and
    half below, moving every child after it down; return how far the last moved."""
    shift = 0
    for child in section.children:
        child.translate(dy=shift)  # from its margin edge
        if any(child is gap for gap in gaps):
            child.margin_top += share / 2
            child.margin_bottom += share / 2
            shift += share
    return shift


def grow_holders(page, box, extra):
    """Make ``box`` and every box holding it on ``page`` ``extra`` taller."""
    for holder in holders(page, box):
        holder.height += extra


def regather_anchors(page):
    """Find the links, anchors, bookmarks and form fields of ``page`` again, where
    its boxes are now (WeasyPrint gathers them once, when it lays the page out)."""
    from weasyprint.anchors import gather_anchors

    page.links, page.anchors, page.bookmarks = [], {}, []
    page.forms = {None: []}
    gather_anchors(_page_box(page), page.anchors, page.links, page.bookmarks, page.forms)


# What WeasyPrint cannot draw ------------------------------------------------

#: The known places where WeasyPrint 70 raises for CSS it parses but cannot
#: draw: (exception, a WeasyPrint function (file, name) the traceback passes
#: through, its last frame (file, name), what the layout asked for).
_LIMITS = (
    # A box-shadow with a blur: `color.to(color.space)` rebuilds the colour, and
    # tinycss2's Color asserts that its space is one it knows: device-cmyk is not.
    (AssertionError, ('weasyprint/draw/__init__.py', '_draw_box_shadow'),
     ('tinycss2/color4.py', '__init__'),
     'a device-cmyk() colour (var(--…)) in a box-shadow with a blur'),
    # A gradient (background, border-image): its colours are converted to sRGB,
    # which tinycss2 has not implemented for device-cmyk.
    (NotImplementedError, ('weasyprint/images.py', 'draw'), ('tinycss2/color4.py', 'to'),
     'a device-cmyk() colour (var(--…)) in a gradient'),
)


def raised_inside(exc):
    """Whether the traceback of ``exc`` passes through WeasyPrint's code."""
    import traceback

    return any('/weasyprint/' in Path(frame.filename).as_posix()
               for frame in traceback.extract_tb(exc.__traceback__))


def _frame_is(frame, where):
    filename, function = where
    return (Path(frame.filename).as_posix().endswith('/' + filename)
            and frame.name == function)


def drawing_limit(exc):
    """What a layout asked for that WeasyPrint cannot draw, when ``exc`` comes from
    one of the known limits of WeasyPrint 70, as ``(description, where)``
    (``where`` the deepest WeasyPrint frame of its traceback, as
    ``weasyprint/draw/__init__.py:191``); None otherwise.

    An AssertionError is one only where it was raised for a known cause (the
    last frame of its traceback, and the WeasyPrint function it came through):
    elsewhere WeasyPrint's assertions guard its own workings, and one failing
    is a bug to report, not something the layout can change. A
    NotImplementedError raised in WeasyPrint or the libraries it calls (not in
    bindery, called back by it) is what it says, whatever the cause.
    """
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    inside = [frame for frame in frames
              if '/weasyprint/' in Path(frame.filename).as_posix()]
    if not inside:
        return None
    path = Path(inside[-1].filename).as_posix()
    where = f'{path[path.rindex("/weasyprint/") + 1:]}:{inside[-1].lineno}'
    for kind, through, last, description in _LIMITS:
        if (isinstance(exc, kind) and any(_frame_is(frame, through) for frame in inside)
                and _frame_is(frames[-1], last)):
            return description, where
    ours = Path(__file__).resolve().parent  # bindery's code, which WeasyPrint calls back
    if isinstance(exc, NotImplementedError) and Path(frames[-1].filename).resolve().parent != ours:
        return 'CSS it has not implemented', where
    return None
