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

import yaml
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .errors import SourceError, SourceErrors

#: Content files are a few kilobytes; anything this large is a mistake or an attack.
MAX_BYTES = 1_000_000

#: Characters refused in any value: C0/C1 controls (tab and newline aside), bidi
#: embeddings, overrides and isolates, and Unicode noncharacters.
FORBIDDEN = re.compile(
    '[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufdd0-\ufdef\ufffe\uffff]')


@dataclass(frozen=True)
class Mark:
    """Where a node was written: 1-based line and column, and its span in the text."""

    line: int
    col: int
    start: int
    end: int


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
              yaml.composer.Composer, yaml.resolver.BaseResolver):
    """PyYAML's composer with no implicit typing: every plain scalar stays a string."""

    def __init__(self, text):
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.resolver.BaseResolver.__init__(self)

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise _Refused(event.start_mark, 'aliases (*name) are not allowed in content')
        if isinstance(event, (ScalarEvent, SequenceStartEvent, MappingStartEvent)):
            if event.anchor is not None:
                raise _Refused(
                    event.start_mark, 'anchors (&name) are not allowed in content')
            if event.tag not in (None, '!'):
                raise _Refused(
                    event.start_mark, f'tags ({event.tag}) are not allowed in content')
        return super().compose_node(parent, index)


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

    def mark(self, path, at_key=False):
        """The mark of a value (or of its key), falling back to its nearest parent."""
        table = self.keys if at_key else self.values
        while path not in table and path:
            table, path = self.values, path[:-1]
        return table.get(path, Mark(1, 1, 0, 0))

    def error(self, path, message, at_key=False, field=None):
        """A :class:`SourceError` at the value (or key) ``path``, named ``field``."""
        mark = self.mark(path, at_key)
        return SourceError(self.path, mark.line, mark.col,
                           keypath(path) if field is None else field, message)

    def char_error(self, path, char, message):
        """A :class:`SourceError` at the first ``char`` written inside the value."""
        mark = self.mark(path)
        index = self.text.find(char, mark.start, max(mark.end, mark.start + 1))
        line, col = _line_col(self.text, index if index >= 0 else mark.start)
        return SourceError(self.path, line, col, keypath(path), message)


def keypath(path):
    """``('facts', 3, 'text')`` → ``facts[4].text`` (list items counted from 1)."""
    out = ''
    for part in path:
        out += f'[{part + 1}]' if isinstance(part, int) else (
            f'.{part}' if out else str(part))
    return out


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
    if match := FORBIDDEN.search(text):
        char = match.group()
        raise fail(match.start(), f'character U+{ord(char):04X} is not allowed in '
                                  'content (a control, bidi or noncharacter)', text)

    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except _Refused as exc:
        raise fail(exc.mark.index, exc.message, text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or 'invalid YAML'
        raise fail(mark.index if mark else 0, f'YAML syntax: {problem}', text)
    except yaml.YAMLError as exc:  # a ReaderError: a character YAML cannot carry
        raise fail(getattr(exc, 'position', 0), f'YAML: {exc}', text)
    finally:
        loader.dispose()
    if node is None:
        raise fail(0, 'file is empty', text)

    source = Source(shown, text, None)
    errors = []
    source.data = _convert(node, (), source, errors)
    if errors:
        raise SourceErrors(errors)
    return source


def _mark(node):
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1,
                node.start_mark.index, node.end_mark.index)


def _convert(node, path, source, errors):
    source.values[path] = _mark(node)
    if isinstance(node, ScalarNode):
        return node.value
    if isinstance(node, SequenceNode):
        return [_convert(item, path + (i,), source, errors)
                for i, item in enumerate(node.value)]
    assert isinstance(node, MappingNode)
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
