"""Read a YAML file as plain text values, keeping where every key and value was written.

Content files are data, never code: this loader refuses tags, anchors, aliases,
merge keys and duplicate keys, keeps every scalar as the exact text written (``no``,
``012`` and ``1.10`` stay text; the schema converts what it wants as a number), and
refuses characters that have no business in print (controls, noncharacters, bidi
overrides). Every refusal is a :class:`SourceError` naming ``path:line:col``.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import regex
import yaml
from yaml._yaml import CParser
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .errors import SourceError, SourceErrors

#: Content files are a few kilobytes; anything this large is a mistake or an attack.
MAX_BYTES = 1_000_000

#: Characters refused anywhere in a file: C0/C1 controls (tab and newline
#: aside), the Unicode line and paragraph separators (YAML would count them as
#: line breaks), bidi embeddings, overrides and isolates, and noncharacters.
FORBIDDEN = re.compile(
    '[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069'
    '\ufdd0-\ufdef\ufffe\uffff'
    + ''.join(chr(plane * 0x10000 + 0xfffe) + chr(plane * 0x10000 + 0xffff)
              for plane in range(1, 17)) + ']')
#: The same, and lone surrogates, in a value as parsed (escapes such as "\ud800"
#: can write what the file's bytes cannot).
FORBIDDEN_VALUE = re.compile(FORBIDDEN.pattern[:-1] + '\ud800-\udfff]')
#: Stands in for a refused character while YAML parses the file: private use,
#: printable for PyYAML, one code point, so every offset stays where it was.
_STAND_IN = '\ue000'
#: Deeper than this, a content file is a mistake or an attack (a recursion bomb).
MAX_DEPTH = 32


@dataclass(frozen=True)
class Mark:
    """Where a node was written: 1-based line and column, and its span in the text."""

    line: int
    col: int
    start: int
    end: int


class _Composing(yaml.composer.Composer, yaml.resolver.BaseResolver):
    """PyYAML's composer with no implicit typing: every plain scalar stays a string."""

    depth = 0

    def compose_node(self, parent, index):
        """Compose as PyYAML does, but leave aliases unexpanded (an :class:`_Alias`
        node, so no alias bomb can grow) and note each node's anchor; both are
        refused later, where the key path of the value is known."""
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self.get_event()
            return _Alias(event.anchor, event.start_mark, event.end_mark)
        if self.depth >= MAX_DEPTH:
            raise _Refused(event.start_mark, f'nested more than {MAX_DEPTH} levels deep')
        self.depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        node.anchor = getattr(event, 'anchor', None)
        node.anchor_mark = event.start_mark
        node.written_tag = getattr(event, 'tag', None)  # None unless a tag was written
        return node


class _Loader(_Composing, yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """The composer on PyYAML's own reader, scanner and parser, in Python: its
    syntax errors are the ones :data:`_SYNTAX` turns into sentences."""

    def __init__(self, text):
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.resolver.BaseResolver.__init__(self)


class _FastLoader(_Composing, CParser):
    """The same composer on libyaml's scanner and parser (``yaml.CParser``), which
    read a file several times faster. Its marks count characters too. Only
    for files it reads without error: a file it refuses is read again by
    :class:`_Loader`, whose messages are the ones explained."""

    def __init__(self, text):
        CParser.__init__(self, text)
        yaml.composer.Composer.__init__(self)
        yaml.resolver.BaseResolver.__init__(self)


class _Alias(ScalarNode):
    """Where an alias (``*name``) was written; it is never expanded."""

    def __init__(self, anchor, start_mark, end_mark):
        super().__init__('alias', anchor, start_mark, end_mark)


class _Refused(Exception):
    def __init__(self, mark, message):
        self.mark, self.message = mark, message


@dataclass
class Source:
    """One loaded YAML file: its data and the marks of its keys and values.

    Key paths are tuples of mapping keys and 0-based list indexes; :func:`keypath`
    prints them for people (``facts[4].text``, counting list items from 1).
    """

    path: str
    text: str
    data: object
    values: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)
    refused: list = field(default_factory=list)  # offsets of refused characters
    block_mappings: set = field(default_factory=set)  # paths of mappings written as blocks

    def mark(self, path, at_key=False):
        """The mark of a value (or of its key), falling back to its nearest parent."""
        table = self.keys if at_key else self.values
        while path not in table and path:
            table, path = self.values, path[:-1]
        return table.get(path, self.values.get(path, Mark(1, 1, 0, 0)))

    def place(self, path, at_key=False):
        """Where a message about the value (or key) ``path`` points: the value's
        mark, but a block mapping's key when it has one. A block mapping has no
        mark of its own, only its first key, a line below; pointing there would
        read as a problem of that key ("intro: expected a list" at ``a:``)."""
        mark = self.mark(path, at_key)
        while not at_key and path not in self.values and path:
            path = path[:-1]  # the parent the mark fell back to
        if not at_key and path in self.block_mappings and path in self.keys:
            return self.keys[path]
        return mark

    def error(self, path, message, at_key=False, field=None):
        """A :class:`SourceError` at the value (or key) ``path``, named ``field``
        (see :meth:`place` for where)."""
        mark = self.place(path, at_key)
        return SourceError(self.path, mark.line, mark.col,
                           keypath(path) if field is None else field, message)

    def char_error(self, path, char, message):
        """A :class:`SourceError` at the first ``char`` written inside the value."""
        mark = self.mark(path)
        index = find_char(self.text, mark.start, max(mark.end, mark.start + 1), char)
        return SourceError(self.path, *_line_col(self.text, index), keypath(path), message)


def keypath(path):
    """``('facts', 3, 'text')`` → ``facts[4].text`` (list items counted from 1);
    invisible characters in a key are shown escaped (see :func:`visible`)."""
    out = ''
    for part in path:
        out += f'[{part + 1}]' if isinstance(part, int) else (
            f'.{visible(part)}' if out else visible(str(part)))
    return out


#: What a message must not print as itself: what Python's ``repr`` escapes
#: (controls, format characters, separators and spaces other than U+0020,
#: surrogates, private use, unassigned) and the rest of Unicode's
#: Default_Ignorable_Code_Point (variation selectors, the combining grapheme
#: joiner, Hangul fillers…), which draw nothing.
_INVISIBLE = regex.compile(r'[\p{Default_Ignorable_Code_Point}\p{C}\p{Z}--[ ]]', flags=regex.V1)


def _escape(char):
    code = ord(char)
    return f'\\x{code:02x}' if code < 0x100 else (
        f'\\u{code:04x}' if code < 0x10000 else f'\\U{code:08x}')


def visible(text):
    """``text`` with each invisible character written as its escape (``\\ufeff``),
    so that a message shows what a key or value really holds."""
    return _INVISIBLE.sub(lambda match: _escape(match.group()), text)


def invisible(text):
    """The invisible characters of ``text`` (see :func:`visible`), in order."""
    return ''.join(_INVISIBLE.findall(text))


def quoted(text, limit=60):
    """``text`` in single quotes for a message, invisible characters escaped (a key
    with a byte-order mark reads ``'\\ufefftitle'``), cut to ``limit`` characters."""
    text = str(text)
    if len(text) > limit:
        text = text[:limit - 1] + '…'
    return f"'{visible(text)}'"


_ESCAPES = {'\x00': ['\\0'], '\x07': ['\\a'], '\x08': ['\\b'], '\x0b': ['\\v'],
            '\x0c': ['\\f'], '\x1b': ['\\e'], '\x85': ['\\N'], '\u00a0': ['\\_'],
            '\u2028': ['\\L'], '\u2029': ['\\P']}


def find_char(text, start, end, char):
    """Where ``char`` was written in ``text[start:end]``: itself, or the escape
    (``\\u202e``, ``\\0``…) that made it in a double-quoted scalar; else ``start``."""
    index = text.find(char, start, end)
    if index >= 0:
        return index
    code = ord(char)
    forms = [f'\\U{code:08x}', f'\\u{code:04x}'] + (
        [f'\\x{code:02x}'] if code < 0x100 else []) + _ESCAPES.get(char, [])
    span = text[start:end].lower()
    found = [span.find(form.lower()) for form in forms]
    found = [i for i in found if i >= 0]
    return start + min(found) if found else start


def _line_col(text, index):
    line = text.count('\n', 0, index) + 1
    return line, index - (text.rfind('\n', 0, index) + 1) + 1


def load(path, root):
    """Load ``path`` (shown relative to ``root``); raise :class:`SourceErrors`."""
    path = Path(path)
    shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceErrors([SourceError(shown, 1, 1, '', f'cannot read: {exc.strerror}')])
    return loads(raw, shown)


def loads(raw, shown):
    """Parse the bytes ``raw`` of the file named ``shown`` into a :class:`Source`."""
    def fail(index, message, text=''):
        line, col = _line_col(text, index) if text else (1, 1)
        return SourceErrors([SourceError(shown, line, col, '', message)])

    if len(raw) > MAX_BYTES:
        raise fail(0, f'file is {len(raw):,} bytes; content files may be at most '
                      f'{MAX_BYTES:,}')
    if raw.startswith(b'\xef\xbb\xbf'):
        raw = raw[3:]
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as exc:
        good = raw[:exc.start].decode('utf-8')
        raise fail(len(good), f'not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save '
                              'the file as UTF-8', good + ' ')
    text = text.replace('\r\n', '\n')  # a file saved on Windows is still fine
    refused = {match.start(): match.group() for match in FORBIDDEN.finditer(text)}

    loader = None
    try:
        node = _compose(FORBIDDEN.sub(_STAND_IN, text))  # parse; refuse per value below
        if node is _FAILED:  # libyaml refused it: PyYAML says why, in its words
            loader = _Loader(FORBIDDEN.sub(_STAND_IN, text))
            node = loader.get_single_node()
    except _Refused as exc:  # nested too deep: our composer, on either parser
        raise fail(exc.mark.index, exc.message, text)
    except yaml.MarkedYAMLError as exc:
        if refused:  # a refused character (a stray line break, say) is the real problem
            raise SourceErrors([SourceError(shown, *_line_col(text, index), '', _refusal(char))
                                for index, char in sorted(refused.items())]) from None
        index, sentence = syntax_message(exc, text)
        raise fail(index, f'YAML syntax: {sentence}', text)
    except yaml.YAMLError as exc:  # a ReaderError: a character YAML cannot carry
        raise fail(getattr(exc, 'position', 0),
                   f'YAML cannot carry the character here ({getattr(exc, "reason", exc)}): '
                   'delete it', text)
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise fail(0, 'file is empty', text)

    source = Source(shown, text, None, refused=sorted(refused))
    errors = []
    source.data = _convert(node, (), source, errors)
    reported = {(error.line, error.col) for error in errors}
    for index, char in sorted(refused.items()):  # in a comment or a key
        if _line_col(text, index) not in reported:
            errors.append(SourceError(shown, *_line_col(text, index), '', _refusal(char)))
    if errors:
        raise SourceErrors(errors)
    return source


_FAILED = object()


def _compose(text):
    """The node tree of ``text`` as libyaml reads it, or :data:`_FAILED` for
    PyYAML to read instead: a text libyaml refuses (a syntax error, a character
    it cannot carry), one holding a value left empty (``key:``), which libyaml
    places elsewhere, and one with a tab or a byte-order mark, which libyaml
    takes where PyYAML refuses them. PyYAML's tree is the one the messages were
    written for; test_properties compares the two on random texts."""
    if '\t' in text or '\ufeff' in text:
        return _FAILED
    loader = _FastLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError:
        return _FAILED
    finally:
        loader.dispose()
    stack = [node] if node is not None else []
    while stack:
        node_ = stack.pop()
        if isinstance(node_, ScalarNode):
            if node_.value == '' and not node_.style:  # plain: libyaml says ''
                return _FAILED
        elif isinstance(node_, MappingNode):
            stack.extend(part for pair in node_.value for part in pair)
        else:
            stack.extend(node_.value)
    return node


_TAG = "'!' starts a tag, which content does not use: put a value that starts with '!' in quotes"
#: PyYAML's syntax errors as sentences a person can act on: ``(problem regex,
#: context regex or None, where, sentence)``, the first that matches wins.
#: ``where`` is the mark the sentence is about: ``problem`` (where PyYAML
#: stopped) or ``context`` (where what it was reading began: the quote,
#: bracket or key left open). The sentence may use the regex's groups.
_SYNTAX = [
    (r'but found another document', None, 'problem',
     'a second YAML document starts here (---); a content file holds one: delete '
     'the line, or what follows it'),
    (r"expected '<document start>'", None, 'problem', None),  # see _after_document
    (r'mapping values are not allowed here', None, 'problem',
     "a colon and a space (': ') where no key can start: put a value that holds "
     "': ' in quotes (\"…\"), or line the key up with the keys beside it"),
    (r'sequence entries are not allowed here', None, 'problem',
     "a list item ('- ') cannot start here: put the list on the lines below its "
     "key, or a value that starts with '- ' in quotes"),
    (r"could not find expected ':'", r'simple key', 'context',
     "this line has no ':' but stands where a key goes (key: value): add the colon, "
     'or indent the rest of a long value further than its key'),
    (r"found character '\\t' that cannot start any token", None, 'problem',
     'a tab where YAML needs spaces: indent with spaces only'),
    (r"found character (.+) that cannot start any token", None, 'problem',
     '{0} cannot start a value that is not in quotes: put the value in quotes (\"…\")'),
    (r"expected <block end>, but found '-'", None, 'problem',
     "a list item ('- ') where a key of the mapping belongs: indent the list under "
     'its key'),
    (r"expected <block end>, but found ':'", None, 'problem',
     "a ':' with no key before it: write the key"),
    (r'expected <block end>', r'block mapping', 'problem',
     'this line is indented differently from the keys before it: line up the keys '
     'of one mapping exactly, with spaces'),
    (r'expected <block end>', r'block collection', 'problem',
     "this line is indented differently from the list items before it: line up "
     "the '- ' of one list exactly, with spaces"),
    (r'expected the node content, but found (.+)', None, 'problem',
     'a value should start here, not {0}: put a value that starts with it in quotes'),
    (r"expected ',' or '\]'", None, 'context',
     "the list opened here with '[' is not closed with ']' (or its items are not "
     'separated by commas)'),
    (r"expected ',' or '}'", None, 'context',
     "the mapping opened here with '{{' is not closed with '}}' (or its entries are "
     'not separated by commas)'),
    (r'found unknown escape character (.+)', None, 'problem',
     "'\\' followed by {0} is not an escape YAML knows in double quotes: write "
     "'\\\\' for a backslash, or put the value in single quotes"),
    (r'expected escape sequence of (\d+) hexadecimal numbers', None, 'problem',
     'an escape here needs {0} hexadecimal digits (\\xe9 takes 2, \\u00e9 4, '
     '\\U000000e9 8)'),
    (r'end of stream', r'quoted scalar', 'context',
     'a quoted value starts here and is never closed: add its closing quote'),
    (r'document separator', r'quoted scalar', 'context',
     "a quoted value starts here and is not closed before a '---' or '...' line: "
     'add its closing quote'),
    (r'', r'anchor|alias', 'context',
     "'&' starts an anchor and '*' an alias, which content does not use: put a "
     "value that starts with '&' or '*' in quotes"),
    (r'', r'tag', 'context', _TAG),
    (r'tag handle', None, 'problem', _TAG),
    (r'', r'block scalar', 'problem',
     "after '|' or '>' a line may hold only '+' or '-', an indentation digit 1–9 "
     'and a comment: start the text on the next line, indented'),
    (r'directive|incompatible YAML document', None, 'problem',
     "a line that starts with '%' is a YAML directive, which content does not "
     "use: delete it, or put a value that starts with '%' in quotes"),
    (r'end of stream|<stream end>', None, 'context',
     'the file ends before what starts here is closed'),
]


def syntax_message(exc, text):
    """``(index, sentence)`` for PyYAML's ``exc``: where to point, and what is wrong
    and what to do, as a sentence (PyYAML's own problem and context are
    fragments such as "but found another document")."""
    problem, context = exc.problem or '', exc.context or ''
    for pattern, within, where, sentence in _SYNTAX:
        found = re.search(pattern, problem)
        if found is None or (within and not re.search(within, context)):
            continue
        mark = exc.context_mark if where == 'context' else exc.problem_mark
        mark = mark or exc.problem_mark or exc.context_mark
        index = mark.index if mark else 0
        if sentence is None:
            return index, _after_document(text, index)
        return index, sentence.format(*found.groups())
    mark = exc.problem_mark or exc.context_mark
    words = ' '.join(part for part in (problem, context) if part)
    return (mark.index if mark else 0,
            f'YAML cannot read the file from here ({words or "invalid YAML"})')


def _after_document(text, index):
    """What is wrong when PyYAML wants a new document at ``index``: the lines
    before say whether a document ended (``...``) or a directive stood."""
    before = text[:index].splitlines()
    if any(line.startswith('%') for line in before):
        return ("a line that starts with '%' is a YAML directive, which content does "
                "not use: delete it, or put a value that starts with '%' in quotes")
    if any(line.rstrip() == '...' for line in before):
        return ("the YAML document ended at a '...' line, and a content file holds one: "
                "delete the '...' line")
    return 'the file goes on after its content has ended: check this line\'s indentation'


def _mark(node):
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1,
                node.start_mark.index, node.end_mark.index)


def _refusal(char):
    return (f'character U+{ord(char):04X} is not allowed in content (a control, line '
            'separator, bidi override, surrogate or noncharacter)')


def _convert(node, path, source, errors):
    source.values[path] = _mark(node)
    if isinstance(node, _Alias):
        errors.append(source.error(path, f'aliases (*{node.value}) are not allowed in '
                                         'content: write the text out'))
        return None
    if getattr(node, 'anchor', None) is not None:
        line, col = _line_col(source.text, node.anchor_mark.index)
        errors.append(SourceError(source.path, line, col, keypath(path),
                                  f'anchors (&{node.anchor}) are not allowed in content'))
        return None
    if getattr(node, 'written_tag', None) not in (None, '!'):
        errors.append(source.error(path, f'tags ({node.written_tag}) are not allowed in '
                                         'content'))
        return None
    if isinstance(node, ScalarNode):
        value, start, end = node.value, node.start_mark.index, node.end_mark.index
        raw = [i for i in source.refused if start <= i < end]
        if raw:  # a refused character written as itself
            errors.append(SourceError(source.path, *_line_col(source.text, raw[0]),
                                      keypath(path), _refusal(source.text[raw[0]])))
            return None
        if match := FORBIDDEN_VALUE.search(value):  # written as an escape
            index = find_char(source.text, start, end, match.group())
            errors.append(SourceError(source.path, *_line_col(source.text, index),
                                      keypath(path), _refusal(match.group())))
            return None
        return value
    if isinstance(node, SequenceNode):
        return [_convert(item, path + (i,), source, errors)
                for i, item in enumerate(node.value)]
    assert isinstance(node, MappingNode)
    if not node.flow_style:
        source.block_mappings.add(path)
    result = {}
    for key_node, value_node in node.value:
        mark = _mark(key_node)
        if not isinstance(key_node, ScalarNode):
            errors.append(SourceError(source.path, mark.line, mark.col, keypath(path),
                                      'keys must be plain names'))
            continue
        key = key_node.value
        key_path = path + (key,)
        if key == '<<':
            errors.append(SourceError(source.path, mark.line, mark.col, keypath(path),
                                      'merge keys (<<) are not allowed in content'))
            continue
        if key in result:
            first = source.keys[key_path]
            errors.append(SourceError(
                source.path, mark.line, mark.col, keypath(key_path),
                f'duplicate key (first written at line {first.line})'))
            continue
        source.keys[key_path] = mark
        result[key] = _convert(value_node, key_path, source, errors)
    return result
