"""Read a tagged PDF as assistive technology does: its structure tree in reading order,
the text of each run of content, and what lies outside the tree.

Written for the screen preflight (:func:`bindery.preflight.check_pdfua`), apart from
the finishing that tags the file (:mod:`bindery.pdfua`): a reader that shared the
writer's code would share its mistakes.
"""

import re
import sys
from array import array
from dataclasses import dataclass

import pikepdf

#: Operators that show text, and those that paint a path.
SHOWS = {'Tj', 'TJ', "'", '"'}
PAINT_PATH = {'f', 'F', 'f*', 'S', 's', 'B', 'B*', 'b', 'b*'}
_SUBSET = re.compile(r'^[A-Z]{6}\+')

#: The standard structure types of ISO 32000-1 (14.8.4): PDF/UA-1 takes no
#: other unless the structure tree's /RoleMap maps it to one of these (7.1).
STANDARD_TYPES = frozenset((
    'Document Part Art Sect Div BlockQuote Caption TOC TOCI Index NonStruct Private '
    'P H H1 H2 H3 H4 H5 H6 L LI Lbl LBody Table TR TH TD THead TBody TFoot Span Quote '
    'Note Reference BibEntry Code Link Annot Ruby RB RT RP Warichu WT WP Figure Formula '
    'Form').split())
_BAD_UNICODE = {'\x00', '\ufffe', '\ufeff', '\ufffd'}


@dataclass
class Element:
    """A structure element of the tree, in reading order."""

    kind: str  # its standard type, through the RoleMap
    page: int | None
    node: object
    items: list  # its own content items: ``(objgen of the page or form, MCID)``


class StructureTree:
    """The structure tree read depth first: the order assistive technology reads."""

    def __init__(self, pdf):
        self.pages = {page.obj.objgen: number for number, page in enumerate(pdf.pages, 1)}
        self.root = pdf.Root.get('/StructTreeRoot')
        self.role_map = ({str(key): str(value) for key, value in
                          self.root.get('/RoleMap', {}).items()}
                         if self.root is not None else {})
        self.elements = []  # Element, in reading order
        self.order = []  # content items, in reading order
        self.owners = {}  # content item -> its Element
        self.problems = []  # (page, message)
        if self.root is not None:
            self._walk()

    def standard(self, name):
        """The standard type ``name`` is or maps to, or None."""
        seen = set()
        while name not in STANDARD_TYPES:
            if name in seen or f'/{name}' not in self.role_map:
                return None
            seen.add(name)
            name = self.role_map[f'/{name}'].lstrip('/')
        return name

    def _walk(self):
        for key in self.role_map:
            if key.lstrip('/') in STANDARD_TYPES:
                self.problems.append((None, f'the RoleMap maps the standard type {key} '
                                            'to another'))
        seen = set()
        stack = [(kid, None) for kid in reversed(_kids(self.root))]
        while stack:
            node, page = stack.pop()
            if not isinstance(node, pikepdf.Dictionary) or node.objgen in seen:
                continue
            if node.objgen != (0, 0):
                seen.add(node.objgen)
            page = node.get('/Pg', page)
            number = self.pages.get(page.objgen) if page is not None else None
            name = str(node.get('/S', '/?')).lstrip('/')
            kind = self.standard(name)
            if kind is None:
                self.problems.append((number, f'structure type {name!r} is neither '
                                              'standard nor mapped to one in the RoleMap'))
            if '/P' not in node:
                self.problems.append((number, f'a {name} element has no parent (/P)'))
            element = Element(kind or name, number, node, [])
            self.elements.append(element)
            below = []
            for kid in _kids(node):
                item = None
                if isinstance(kid, int):
                    item = (page.objgen, int(kid)) if page is not None else None
                elif isinstance(kid, pikepdf.Dictionary) and kid.get('/Type') == '/MCR':
                    owner = kid.get('/Stm', kid.get('/Pg', page))
                    item = (owner.objgen, int(kid.MCID)) if owner is not None else None
                elif isinstance(kid, pikepdf.Dictionary) and kid.get('/Type') != '/OBJR':
                    below.append((kid, page))
                if item is not None:
                    element.items.append(item)
                    self.order.append(item)
                    self.owners[item] = element
            stack += reversed(below)


def _kids(node):
    kids = node.get('/K')
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


class ToUnicode:
    """A ToUnicode CMap: the text of each character code (bytes), and code lengths."""

    _BLOCK = re.compile(rb'begin(bfchar|bfrange|codespacerange)(.*?)end\1', re.DOTALL)
    _TOKEN = re.compile(rb'<([0-9A-Fa-f\s]*)>|\[([^\]]*)\]')

    def __init__(self, data):
        self.map, self.ranges, self.widths = {}, [], set()
        for kind, body in self._BLOCK.findall(data):
            tokens = [_hex(value) if not array else
                      [_hex(inner) for inner in re.findall(rb'<([0-9A-Fa-f\s]*)>', array)]
                      for value, array in self._TOKEN.findall(body)]
            if kind == b'codespacerange':
                self.widths |= {len(low) for low in tokens[0::2]}
            elif kind == b'bfchar':
                for code, text in zip(tokens[0::2], tokens[1::2]):
                    self.map[code] = _utf16(text)
            else:
                self.ranges += zip(tokens[0::3], tokens[1::3], tokens[2::3])

    def get(self, code):
        if code in self.map:
            return self.map[code]
        for low, high, text in self.ranges:
            if len(code) == len(low) and low <= code <= high:
                offset = int.from_bytes(code, 'big') - int.from_bytes(low, 'big')
                if isinstance(text, list):
                    return _utf16(text[offset]) if offset < len(text) else None
                value = int.from_bytes(text, 'big') + offset
                return _utf16(value.to_bytes(len(text), 'big'))
        return None


def _hex(value):
    return bytes.fromhex(re.sub(rb'\s', b'', value).decode())


def _utf16(data):
    try:
        return data.decode('utf-16-be')
    except UnicodeDecodeError:
        return '\ufffd'


class Font:
    """How the codes of a font read as text: its ToUnicode, code length, .notdef."""

    def __init__(self, font, cmaps):
        self.name = _SUBSET.sub('', str(font.get('/BaseFont', '/?'))[1:])
        stream = font.get('/ToUnicode')
        key = stream.objgen if isinstance(stream, pikepdf.Stream) else None
        if key is not None and key not in cmaps:
            cmaps[key] = ToUnicode(stream.read_bytes())
        self.unicode = cmaps.get(key)
        composite = font.get('/Subtype') == '/Type0'
        self.width = 2 if composite else 1
        if self.unicode is not None and len(self.unicode.widths) == 1:
            self.width = next(iter(self.unicode.widths))
        # Through Identity-H (as WeasyPrint writes), code 0 is CID 0: .notdef.
        self.notdef = (b'\x00' * self.width if composite and str(
            font.get('/Encoding')) in ('/Identity-H', '/Identity-V') else None)
        self.table = {}  # code -> its text ('' for none): for str.translate
        self.bad = set()  # codes that read as no text

    #: A hex or literal string of a TJ array, as qpdf writes it; a kern of more
    #: than 0.3 em to the left (a word space).
    _STRING = re.compile(rb'<([0-9A-Fa-f\s]*)>|\(((?:\\.|[^\\)])*)\)', re.DOTALL)
    _SPACE = re.compile(rb'(?<=[\s>)])-(?:[3-9][0-9]{2}|[1-9][0-9]{3,})(?:\.[0-9]*)?(?=[\s\]<(])')

    def read(self, operand, missing):
        """The text of a Tj string or a TJ array; the codes that read as no text
        (none, U+0000, U+FFFD, U+FFFE, U+FEFF, or the .notdef glyph) go to
        ``missing``. A TJ array is read from its written form: iterating it
        would make a Python object of every glyph and kern."""
        if isinstance(operand, pikepdf.String):
            return self._decode(bytes(operand), missing)
        words = []
        for written in self._SPACE.split(operand.unparse()):
            words.append(self._decode(b''.join([
                bytes.fromhex(hex_.decode()) if not literal else
                _unescape(literal) if b'\\' in literal else literal
                for hex_, literal in self._STRING.findall(written)]), missing))
        return ' '.join(words)

    def _decode(self, raw, missing):
        if self.width == 2:
            codes = array('H', raw[:len(raw) // 2 * 2])
            if sys.byteorder == 'little':
                codes.byteswap()
        else:
            codes = raw
        new = set(codes).difference(self.table)
        for code in new:
            data = code.to_bytes(self.width, 'big')
            value = self.unicode.get(data) if self.unicode is not None else None
            if not value or data == self.notdef or not _BAD_UNICODE.isdisjoint(value):
                value = ''
                self.bad.add(code)
            self.table[code] = value
        if self.bad:
            missing.update(self.bad.intersection(codes))
        return ''.join(map(chr, codes)).translate(self.table)


_ESCAPES = {b'n': b'\n', b'r': b'\r', b't': b'\t', b'b': b'\b', b'f': b'\f'}


def _unescape(literal):
    """The bytes of a literal string's body, its escapes undone."""
    return re.sub(rb'\\([0-7]{1,3}|\r\n|.)', lambda m: bytes([int(m[1], 8) & 255])
                  if m[1][:1].isdigit() else b'' if m[1] in (b'\r\n', b'\n', b'\r')
                  else _ESCAPES.get(m[1], m[1]), literal, flags=re.DOTALL)


class ContentReading:
    """Every page's content, and the forms it draws, against the structure tree:
    what is neither tagged nor an artifact, how marked content nests, glyphs
    without Unicode, and the text of each content item. ``operations(owner)``
    gives the ``(operands, operator name)`` of a page's or a form's content."""

    def __init__(self, pdf, tree, operations):
        self.tree, self.operations = tree, operations
        self.text = {}  # content item -> [text shown in it]
        self.untagged = {}  # page -> {what: count}
        self.orphans = {}  # page -> count of MCIDs out of the tree
        self.nesting = {}  # page -> what nests wrongly
        self.parentless = {}  # page -> count of MCIDs the ParentTree does not lead back from
        self.missing = {}  # (page, font name) -> codes
        self.fonts, self.cmaps = {}, {}
        parents = tree.root.get('/ParentTree') if tree.root is not None else None
        self.parent_tree = pikepdf.NumberTree(parents) if parents is not None else None
        for number, page in enumerate(pdf.pages, 1):
            self._walk(number, page, page.obj, page.resources, [], set())

    def _parents(self, owner):
        key = owner.get('/StructParents')
        if self.parent_tree is None or key is None or int(key) not in self.parent_tree:
            return None
        return self.parent_tree[int(key)]

    def _walk(self, number, source, owner, resources, stack, seen):
        """``stack``: the marked content open where ``source`` is drawn, as
        ``(kind, content item)``; kind is 'artifact', 'tagged' or 'other'."""
        parents = self._parents(owner)
        fonts = resources.get('/Font', {})
        font, missing = None, set()
        untagged = self.untagged.setdefault(number, {})
        covering = sum(1 for kind, _ in stack if kind != 'other')
        tagged = [item for kind, item in stack if kind == 'tagged']
        for operands, op in self.operations(source):
            if op in SHOWS:
                if not covering:
                    untagged['text run'] = untagged.get('text run', 0) + 1
                text = font.read(operands[0] if op == 'TJ' else operands[-1],
                                 missing) if font is not None else ''
                if tagged:
                    self.text[tagged[-1]].append(text)
            elif op == 'Tf':
                font = self._font(fonts.get(str(operands[0])))
                missing = self.missing.setdefault((number, font.name if font else '?'), set())
            elif op in ('BDC', 'BMC'):
                tag = operands[0] if operands else None
                properties = operands[1] if op == 'BDC' and len(operands) > 1 else None
                mcid = (int(properties.MCID) if isinstance(properties, pikepdf.Dictionary)
                        and '/MCID' in properties else None)
                item = (owner.objgen, mcid)
                if tag == '/Artifact':
                    if tagged:
                        self.nesting.setdefault(number, 'an artifact inside tagged content')
                    stack.append(('artifact', None))
                elif mcid is None:
                    stack.append(('other', None))
                elif item not in self.tree.owners:
                    self.orphans[number] = self.orphans.get(number, 0) + 1
                    stack.append(('orphan', None))  # reported once, as such
                else:
                    if any(kind == 'artifact' for kind, _ in stack):
                        self.nesting.setdefault(number, 'tagged content inside an artifact')
                    parent = (parents[mcid] if parents is not None and mcid < len(parents)
                              else None)
                    if not isinstance(parent, pikepdf.Dictionary) or (
                            parent.objgen != self.tree.owners[item].node.objgen):
                        self.parentless[number] = self.parentless.get(number, 0) + 1
                    stack.append(('tagged', item))
                    tagged.append(item)
                    self.text.setdefault(item, [])
                covering += stack[-1][0] != 'other'
            elif op == 'EMC':
                if stack:
                    kind, _ = stack.pop()
                    covering -= kind != 'other'
                    if kind == 'tagged':
                        tagged.pop()
            elif op in PAINT_PATH or op in ('sh', 'INLINE IMAGE'):
                if not covering:
                    what = {'sh': 'shading', 'INLINE IMAGE': 'picture'}.get(op, 'path')
                    untagged[what] = untagged.get(what, 0) + 1
            elif op == 'Do':
                xobject = resources.get('/XObject', {}).get(str(operands[0]))
                if xobject is None:
                    continue
                if xobject.get('/Subtype') == '/Form':
                    if xobject.objgen not in seen:
                        seen.add(xobject.objgen)
                        self._walk(number, xobject, xobject,
                                   xobject.get('/Resources', resources), list(stack), seen)
                elif not covering:
                    untagged['picture'] = untagged.get('picture', 0) + 1

    def _font(self, font):
        if font is None:
            return None
        if font.objgen not in self.fonts:
            self.fonts[font.objgen] = Font(font, self.cmaps)
        return self.fonts[font.objgen]

    def item_text(self, item):
        return ''.join(self.text.get(item, ()))
