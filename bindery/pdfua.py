"""Finish the tagged screen PDF as PDF/UA-1: furniture as artifacts, XMP identification.

WeasyPrint (``pdf_tags=True``) writes a structure tree, marks backgrounds and
borders as artifacts and gives every run of text a marked-content id (MCID).
What it leaves short of PDF/UA-1 is put right here, on the written file,
without changing a pixel of what is drawn (only marked-content operators are
added or rewritten):

* the text of ``@page`` margin boxes (running heads, folios) gets MCIDs whose
  structure elements hang in the ParentTree but not in the tree: it becomes an
  ``/Artifact``, and leaves the ParentTree;
* anything painted outside every marked-content sequence (WeasyPrint 70 leaves
  nothing so in the shipped layouts; another version, or an element it does not
  tag, might) is wrapped in ``/Artifact BMC … EMC``, one painting operation at a
  time, so that marked content nests with paths, text objects and saved states;
* text drawn inside a Form XObject (an element with ``opacity``) is referenced
  through the form: an ``/MCR`` with ``/Stm`` and the form's own
  ``/StructParents``, as ISO 32000-1 14.7.4 asks, instead of the page's MCIDs;
* structure elements left with nothing in them (an empty ``<p>`` that only
  carries a ``string-set``, an empty spacer ``<div>``) are removed;
* ``/MarkInfo /Marked true``, ``/ViewerPreferences /DisplayDocTitle true``,
  ``/Tabs /S`` on every page, and an XMP packet with ``dc:title`` (the
  ``/Title``), ``dc:language`` (the ``/Lang``), ``pdfuaid:part`` 1 and the
  other Info entries, kept in step with the Info dictionary.

What cannot be made right here (heading levels, pictures without
alternative text, glyphs without Unicode) is the layout's to fix: the screen
preflight reads the finished file and says so.
"""

from pikepdf import Array, Dictionary, Name, NumberTree, Operator, String
from pikepdf.models.metadata import DOCINFO_MAPPING

#: Path construction (a path object starts with ``m`` or ``re``) and the
#: operators that paint a path; ``n`` ends one without painting (a clip).
_PATH = {'m', 'l', 'c', 'v', 'y', 'h', 're', 'W', 'W*'}
_PAINT_PATH = {'f', 'F', 'f*', 'S', 's', 'B', 'B*', 'b', 'b*'}
#: Operators that paint on their own: text, shadings, inline pictures.
_PAINT = {'Tj', 'TJ', "'", '"', 'sh', 'INLINE IMAGE'}
#: Structure types whose element says nothing once it holds nothing.
_PRUNABLE = {'/P', '/Div', '/Span', '/Sect', '/Art', '/Part', '/NonStruct'}

#: The operators the rewriting looks at; it copies all others as they are.
_WATCHED = {'BDC', 'BMC', 'EMC', 'Do', 'n'} | _PATH | _PAINT_PATH | _PAINT

_OPEN = ([Name.Artifact], Operator('BMC'))
_CLOSE = ([], Operator('EMC'))


def make_pdfua(pdf, parsed=None):
    """Make ``pdf`` (a tagged :class:`pikepdf.Pdf`, changed in place) PDF/UA-1.

    ``parsed`` may hold the content of pages and forms as it is now, parsed, by
    object id (``objgen``), so that it is not parsed again. A PDF without a
    structure tree is left alone: marking all its content as artifacts would
    hide it from assistive technology, not tag it.
    """
    root = pdf.Root.get('/StructTreeRoot')
    if root is None:
        return
    tree = _Tree(pdf, root)
    for page in pdf.pages:
        _Rewriter(pdf, tree, page, parsed or {}).run()
    tree.settle()
    _prune(root)
    pdf.Root.MarkInfo = Dictionary(Marked=True)
    if '/ViewerPreferences' not in pdf.Root:
        pdf.Root.ViewerPreferences = Dictionary()
    pdf.Root.ViewerPreferences.DisplayDocTitle = True
    for page in pdf.pages:
        page.obj.Tabs = Name.S
    _set_metadata(pdf)


class _Tree:
    """Which marked content the structure tree holds, and the ParentTree's edits."""

    def __init__(self, pdf, root):
        self.pdf, self.root = pdf, root
        #: (objgen of the page or form whose content it is, MCID) -> (element, index
        #: of the kid in the element's /K, or None when /K is the MCID itself).
        self.items = {}
        self._walk(root)
        self.parents = NumberTree(root.ParentTree) if '/ParentTree' in root else None
        self.gone = {}  # page objgen -> MCIDs its ParentTree array no longer maps
        self.forms = []  # (form, {MCID: element}) to give /StructParents

    def _walk(self, root):
        seen = set()
        stack = [(root, None)]
        while stack:
            node, page = stack.pop()
            if node.objgen != (0, 0):
                if node.objgen in seen:
                    continue
                seen.add(node.objgen)
            page = node.get('/Pg', page)
            kids = node.get('/K')
            if kids is None:
                continue
            for index, kid in (enumerate(kids) if isinstance(kids, Array) else [(None, kids)]):
                if isinstance(kid, int):
                    if page is not None:
                        self.items[(page.objgen, int(kid))] = (node, index)
                elif isinstance(kid, Dictionary):
                    kind = kid.get('/Type')
                    if kind == Name.MCR:
                        owner = kid.get('/Stm', kid.get('/Pg', page))
                        if owner is not None:
                            self.items[(owner.objgen, int(kid.MCID))] = (node, index)
                    elif kind != Name.OBJR:
                        stack.append((kid, page))

    def holds(self, owner, mcid):
        return (owner.objgen, mcid) in self.items

    def draws_structure(self, form):
        """Whether content of ``form`` is in the tree (then it cannot be an artifact)."""
        return any(objgen == form.objgen for objgen, _ in self.items)

    def drop(self, page, mcid):
        """The page's MCID is no longer structure content (now an artifact)."""
        self.gone.setdefault(page.objgen, set()).add(mcid)

    def move_to_form(self, page, form, mcid, mapping):
        """An MCID the tree gives the page, drawn in ``form``: reference it through
        the form (an /MCR with /Stm), as the page's ParentTree cannot."""
        element, index = self.items.pop((page.objgen, mcid))
        reference = Dictionary(Type=Name.MCR, Pg=page, Stm=form, MCID=mcid)
        if index is None:
            element.K = reference
        else:
            element.K[index] = reference
        self.items[(form.objgen, mcid)] = (element, index)
        mapping[mcid] = element
        self.drop(page, mcid)

    def settle(self):
        """Write the ParentTree: the pages' arrays without what went, the forms'."""
        if self.parents is None:
            return
        pages = {page.obj.objgen: page.obj for page in self.pdf.pages}
        for objgen, mcids in self.gone.items():
            key = pages[objgen].get('/StructParents')
            if key is None or int(key) not in self.parents:
                continue
            parents = self.parents[int(key)]
            values = [None if index in mcids else parents[index]
                      for index in range(len(parents))]
            while values and values[-1] is None:
                values.pop()
            self.parents[int(key)] = self.pdf.make_indirect(Array(values))
        following = max((int(key) for key in self.parents.keys()), default=-1) + 1
        for form, mapping in self.forms:
            values = [mapping.get(index) for index in range(max(mapping) + 1)]
            form.StructParents = following
            self.parents[following] = self.pdf.make_indirect(Array(values))
            following += 1
        self.root.ParentTreeNextKey = following


class _Rewriter:
    """One page's content, and the forms it draws, with every painting operation
    either in the structure tree or marked as an artifact."""

    def __init__(self, pdf, tree, page, parsed):
        self.pdf, self.tree, self.page, self.parsed = pdf, tree, page, parsed
        self.page_obj = page.obj
        self.done = set()

    def run(self):
        out = self._rewrite(None, self.page.resources, covered=False)
        if out is not None:
            self.page_obj.Contents = self.pdf.make_stream(out)

    def _rewrite(self, form, resources, covered):
        """The content of the page (``form`` None) or of ``form`` rewritten, or None
        if nothing changed. ``covered``: drawn inside marked content already."""
        from pikepdf import parse_content_stream, unparse_content_stream

        page = self.page_obj
        owner = page if form is None else form
        operations = self.parsed.get(owner.objgen)
        if operations is None:
            operations = parse_content_stream(self.page if form is None else form)
        out, stack, path, changed = [], [], None, False
        covering = 1 if covered else 0  # open marked content that tags or hides
        form_mcids = {}
        for operands, operator in operations:
            op = str(operator)
            if op not in _WATCHED:
                out.append((operands, operator))
            elif op in ('BDC', 'BMC'):
                mcid = _mcid(operands) if op == 'BDC' else None
                if operands and operands[0] == Name.Artifact:
                    kind = 'artifact'
                elif mcid is None:
                    kind = 'other'
                elif self.tree.holds(owner, mcid):
                    kind = 'tagged'
                elif form is not None and self.tree.holds(page, mcid):
                    self.tree.move_to_form(page, form, mcid, form_mcids)
                    kind = 'tagged'
                elif covering:
                    # Out of the tree, within other marked content: keep the tag
                    # without its MCID, so that nothing claims to be structure.
                    operands, operator = [operands[0]], Operator('BMC')
                    kind = 'other'
                    changed = True
                else:
                    # Margin-box text (running heads, folios): an artifact.
                    if form is None:
                        self.tree.drop(page, mcid)
                    operands, operator = _OPEN
                    kind = 'artifact'
                    changed = True
                stack.append(kind)
                covering += kind != 'other'
                out.append((operands, operator))
            elif op == 'EMC':
                if stack:
                    covering -= stack.pop() != 'other'
                out.append((operands, operator))
            elif op in _PATH:
                if path is None:
                    path = len(out)
                out.append((operands, operator))
            elif op in _PAINT_PATH or op == 'n':
                if op != 'n' and not covering:
                    out.insert(path if path is not None else len(out), _OPEN)
                    out += [(operands, operator), _CLOSE]
                    changed = True
                else:
                    out.append((operands, operator))
                path = None
            elif op in _PAINT:
                if not covering:
                    out += [_OPEN, (operands, operator), _CLOSE]
                    changed = True
                else:
                    out.append((operands, operator))
            else:  # Do
                xobject = resources.get('/XObject', {}).get(str(operands[0]))
                holds_structure = False
                if xobject is not None and xobject.get('/Subtype') == Name.Form:
                    if xobject.objgen not in self.done:
                        self.done.add(xobject.objgen)
                        inner = self._rewrite(xobject, xobject.get('/Resources', resources),
                                              covering > 0)
                        if inner is not None:
                            xobject.write(inner)
                    holds_structure = self.tree.draws_structure(xobject)
                if not covering and not holds_structure:
                    out += [_OPEN, (operands, operator), _CLOSE]
                    changed = True
                else:
                    out.append((operands, operator))
        if form_mcids:
            self.tree.forms.append((form, form_mcids))
        return unparse_content_stream(out) if changed else None


def _mcid(operands):
    properties = operands[1] if len(operands) > 1 else None
    if isinstance(properties, Dictionary) and '/MCID' in properties:
        return int(properties.MCID)
    return None


def _prune(root):
    """Remove structure elements that hold nothing (no content, no kids left)."""
    def prune(node, seen):
        kids = node.get('/K')
        if not isinstance(kids, Array):
            return kids is not None
        kept = []
        for kid in kids:
            if isinstance(kid, Dictionary) and kid.get('/Type') not in (Name.MCR, Name.OBJR):
                if kid.objgen in seen:
                    continue
                seen.add(kid.objgen)
                if not prune(kid, seen) and str(kid.get('/S')) in _PRUNABLE \
                        and not any(key in kid for key in ('/Alt', '/ActualText', '/ID')):
                    continue
            kept.append(kid)
        if len(kept) != len(kids):
            node.K = Array(kept)
        return bool(kept)

    prune(root, set())


def _set_metadata(pdf):
    """The XMP packet PDF/UA-1 asks for, filled from the Info dictionary and kept in
    step with it (pikepdf writes the XMP values back to Info on closing)."""
    twins = {str(mapping.name) for mapping in DOCINFO_MAPPING}
    info = {key: value for key, value in pdf.docinfo.items() if key in twins}
    title = str(pdf.docinfo.get('/Title', ''))
    lang = str(pdf.Root.get('/Lang', ''))
    # Not stamped with pikepdf's name and today's date: the same input must
    # give the same bytes.
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta.load_from_docinfo(info)
        if title:
            meta['dc:title'] = title
        if lang:
            meta['dc:language'] = [lang]
        meta['pdfuaid:part'] = '1'
    if title:  # what load_from_docinfo and the write-back may have normalised
        pdf.docinfo.Title = String(title)
