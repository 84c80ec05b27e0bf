"""Property tests: no input makes the loader, the schema or ``check`` fail other than cleanly.

Hypothesis throws random bytes, random text, YAML-token soup and random edits of
the real Kyrgyz file at ``bindery.yamlsource.loads`` and then at
``bindery.schema.validate(EDITION, …)``: the answer is a model or
:class:`SourceErrors` whose every error is one line ``x.yaml:LINE:COL: …`` with
LINE and COL ≥ 1 and inside the file, never another exception. Dumped YAML
comes back as exactly the text dumped. Random Unicode strings as the text of a
fact go through the whole ``render.py check`` path (``bindery.cli.main``,
in-process, in a fixture project): exit 0 or 1, every problem a
``path:line:col`` line, no traceback; a fact that checks clean is autoescaped
text in the HTML.

A property the current code does not meet is ``xfail(strict=True)`` and pins a
failing ``@example``, so the mark holds whatever Hypothesis happens to draw.

Runs are deterministic (``derandomize``, no example database written). To
explore harder: ``HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest
tests/test_properties.py``.
"""

import contextlib
import functools
import io
import os
import re

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from bindery.errors import SourceError, SourceErrors
from bindery.layouts import load_layout
from bindery.schema import validate
from bindery.yamlsource import loads
from conftest import ROOT, FixtureProject

#: The shared language file as the nine-facts layout declares it.
EDITION = load_layout(ROOT, 'nine-facts').schema('edition')

#: Hypothesis keeps caches (Unicode tables, constants) here, inside tests/, not at the
#: repository root; it writes its own .gitignore there.
set_hypothesis_home_dir(ROOT / 'tests' / '.hypothesis')
settings.register_profile(
    'ci', database=None, derandomize=True, deadline=None, max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large])
settings.register_profile(
    'explore', database=None, deadline=None, max_examples=3000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large])
settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))

NAME = 'x.yaml'
KY = 'data/kyrgyzstan/ky.yaml'
KY_TEXT = (ROOT / KY).read_text(encoding='utf-8')

#: Characters that must never reach a page (README, yamlsource): C0/C1 controls
#: but tab and newline, the line and paragraph separators, bidi embeddings/
#: overrides/isolates, noncharacters, and lone surrogates. In a value, CR too
#: (a CRLF file is a line-ending matter, and fine).
FORBIDDEN = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069'
                       '\ufdd0-\ufdef\ud800-\udfff]|[\ufffe\uffff]'
                       '|[\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0010fffe\U0010ffff]')

#: Characters with a story: controls, bidi, noncharacters, surrogates, separators,
#: joiners, a BOM, an emoji, Kyrgyz letters, quotes, markup and YAML indicators.
SPECIAL = ['\x00', '\x07', '\x1b', '\x7f', '\x85', '\x9f', '\u202a', '\u202e', '\u2066',
           '\u2069', '\ufffe', '\uffff', '\ufdd0', '\U0010ffff', '\ud800', '\udfff',
           '\u2028', '\u2029', '\u200b', '\u200d', '\u2060', '\ufeff', '\u00ad', '\r', '\t',
           '\n', '🎉', '\u0301', 'Ң', 'ү', 'ө', 'Ӯ', 'ა', '«', '»', '“', '"', "'", '<', '>',
           '&', '{{', '}}', '{%', '%}', '#', ': ', '- ', '\\', '&a', '*a', '!!', '|', '>-',
           ' ', '  ', '\u00a0', '\u202f']
WORDS = ['Фонд', 'колдоо', 'билим', '1993', '012', 'no', 'yes', '~', 'null', '1.10',
         '<link rel="attachment" href="file:///etc/passwd">', '{{ 7*7 }}',
         "{% include '/etc/passwd' %}", '<img src="http://127.0.0.1:1/x.png">']

any_char = st.one_of(st.characters(), st.sampled_from(SPECIAL))
hostile_text = st.lists(st.one_of(any_char, st.sampled_from(WORDS)), max_size=40).map(''.join)

#: Tokens to build YAML-shaped nonsense from.
TOKENS = ['\n', '\n', '  ', '    ', '- ', ': ', ':', 'lang', 'title', 'intro', 'facts',
          'text', 'facts_title', 'foundation', 'figures', '[', ']', '{', '}', ', ', '&a ',
          '*a', '!!str ', '!!python/object:os.system ', '!x ', '? ', '|', '|-', '>-', '"',
          "'", '# c', '---', '...', '<<', '%YAML 1.1', '%TAG ! tag:x,2000:', 'no', '012',
          '\\u202e', '\\ud800', '\\x00', '\\U0001F389', '\t', 'Ы', 'ky', '\ufeff', '\u2028',
          '\r\n', '@', '`', '%']
yaml_soup = st.lists(st.one_of(st.sampled_from(TOKENS), any_char), max_size=80).map(''.join)


# What a clean answer looks like

def assert_clean_errors(errors, path, text, inside=False):
    """Every error is a SourceError on one line, at line and column ≥ 1; with
    ``inside``, on a line the file has, counting lines as editors do (by LF)."""
    assert errors, 'SourceErrors without errors'
    lines = text.count('\n') + 1
    for error in errors:
        assert isinstance(error, SourceError), repr(error)
        assert error.path == path
        assert isinstance(error.line, int) and isinstance(error.col, int)
        assert error.line >= 1 and error.col >= 1, str(error)
        if inside:
            assert error.line <= lines, (error.line, lines, str(error))
        message = str(error)
        assert message.startswith(f'{path}:{error.line}:{error.col}: '), message
        assert '\n' not in message and '\r' not in message, repr(message)
        assert message[len(f'{path}:{error.line}:{error.col}: '):].strip(), message


def load_and_validate(raw, inside=False):
    """``loads`` then the EDITION schema; returns (source or None, errors) — or raises
    whatever escapes, which is the finding."""
    text = raw.decode('utf-8', 'replace')
    try:
        source = loads(raw, NAME)
    except SourceErrors as exc:
        assert_clean_errors(exc.errors, NAME, text, inside)
        return None, exc.errors
    errors = []
    data = validate(EDITION, source, errors)
    if errors:
        assert_clean_errors(errors, NAME, text, inside)
    else:
        assert isinstance(data, dict) and isinstance(data['title'], str), data
        assert len(data['facts']) >= 1
    return source, errors


# The loader and the schema

@given(st.binary(max_size=3000))
@example(b'\xef\xbb\xbftitle: x\n')
@example(b'\xff\xfet\x00i\x00')
@example(b'a: &a [1]\nb: *a\n')
def test_random_bytes_load_cleanly(raw):
    load_and_validate(raw)


@given(hostile_text)
def test_random_text_loads_cleanly(text):
    load_and_validate(text.encode('utf-8', 'surrogatepass'))


@given(yaml_soup)
@example('title: "\\ud800"\n')
@example('? [a, b]\n: c\n')
@example('title: !!python/object/apply:os.system ["true"]\n')
@example('%YAML 1.1\n---\ntitle: x\n...\n---\ntitle: y\n')
def test_yaml_soup_loads_cleanly(text):
    load_and_validate(text.encode('utf-8', 'surrogatepass'))


@given(yaml_soup)
@example('\u2028\u2028no')
def test_error_positions_are_lines_the_file_has(text):
    load_and_validate(text.encode('utf-8', 'surrogatepass'), inside=True)


@st.composite
def mutated_ky(draw):
    """The real Kyrgyz file with a few random deletions and insertions."""
    text = KY_TEXT
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 20))
        insert = draw(st.one_of(st.sampled_from(TOKENS), hostile_text))
        text = text[:at] + insert + text[at + cut:]
    return text


@given(mutated_ky())
def test_edits_of_the_real_file_load_cleanly(text):
    load_and_validate(text.encode('utf-8', 'surrogatepass'))


@given(st.integers(1, 3000))
@example(1000)
def test_deep_nesting_loads_cleanly(depth):
    load_and_validate(f'title: {"[" * depth}{"]" * depth}\n'.encode())


names = st.sampled_from(['lang', 'title', 'intro', 'facts', 'text', 'facts_title', 'x'])
plain_data = st.recursive(
    hostile_text, lambda inner: st.one_of(st.lists(inner, min_size=1, max_size=4),
                                          st.dictionaries(names, inner, min_size=1,
                                                          max_size=4)),
    max_leaves=8)
styles = st.sampled_from([None, '"', "'", '|', '>'])


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    else:
        for key, item in value.items():
            yield key
            yield from strings_in(item)


def dump(value, style, unicode):
    return yaml.safe_dump(value, default_style=style, allow_unicode=unicode,
                          width=10 ** 6, sort_keys=False)


@given(st.dictionaries(names, plain_data, min_size=1, max_size=5), styles, st.booleans())
def test_dumped_text_comes_back_exactly_as_written(value, style, unicode):
    """Whatever PyYAML writes, the loader reads back the same strings: no implicit
    typing (``no``, ``012`` stay text), no change to spaces, quotes or escapes."""
    assume(not any(FORBIDDEN.search(s) for s in strings_in(value)))
    text = dump(value, style, unicode)
    assume(yaml.load(text, Loader=yaml.BaseLoader) == value)  # PyYAML's own round trip
    assume('\r' not in text and '\u2028' not in text and '\u2029' not in text
           and '\x85' not in text)  # line-ending matters, tested apart
    source, errors = load_and_validate(text.encode('utf-8'))
    if source is None:
        raise AssertionError(f'refused clean YAML: {[str(e) for e in errors]}\n{text}')
    assert source.data == value


@given(st.dictionaries(names, plain_data, min_size=1, max_size=5), styles, st.booleans())
@example({'title': 'a\u202eb'}, '"', False)
@example({'title': '\ud800'}, '"', False)
def test_forbidden_characters_are_refused_however_written(value, style, unicode):
    bad = {m.group() for s in strings_in(value) for m in FORBIDDEN.finditer(s)}
    assume(bad)
    text = dump(value, style, unicode)
    raw = text.encode('utf-8', 'surrogatepass')
    with pytest.raises(SourceErrors) as caught:
        loads(raw, NAME)
    said = ' '.join(str(error) for error in caught.value.errors)
    assert_clean_errors(caught.value.errors, NAME, raw.decode('utf-8', 'replace'))
    assert any(f'U+{ord(char):04X}' in said for char in bad) or 'UTF-8' in said, (
        f'{value!r} written as\n{text}\nrefused for another reason: {said}')


# The whole check path, in a fixture project

@pytest.fixture(scope='module')
def ky_project(tmp_path_factory):
    return FixtureProject(tmp_path_factory.mktemp('properties') / 'project')


def fact_lines(text):
    """The 1-based line range of the first fact of the Kyrgyz file."""
    lines = text.split('\n')
    facts = lines.index('facts:')
    starts = [i for i, line in enumerate(lines) if i > facts and line.startswith('  - ')]
    return starts[0], starts[1]  # 0-based [start, next) == 1-based (start, next]


def with_first_fact(value, style, unicode):
    """The Kyrgyz file with the first fact's text replaced by ``value`` as PyYAML dumps it;
    returns the file text and the 1-based lines the fact is on."""
    item = dump({'text': value}, style, unicode).rstrip('\n')
    if item.endswith('\n...'):
        item = item[:-4]
    lines = KY_TEXT.split('\n')
    start, end = fact_lines(KY_TEXT)
    new = ['  - ' + line if i == 0 else '    ' + line
           for i, line in enumerate(item.split('\n'))]
    lines[start:end] = new
    return '\n'.join(lines), (start + 1, start + len(new))


def run_check(project, text):
    """``render.py check kyrgyzstan/ky`` in-process; returns (code, stdout, stderr)."""
    from bindery import cli

    project.path(KY).write_bytes(text.encode('utf-8', 'surrogatepass'))
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(project.root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(['check', 'kyrgyzstan/ky'])
    finally:
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue()


PROBLEM = re.compile(r'(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<rest>.+)')


def check_cleanly(project, value, style, unicode):
    text, (first, last) = with_first_fact(value, style, unicode)
    code, out, err = run_check(project, text)
    shown = f'fact {value!r} written as\n{text.splitlines()[first - 1:last]}\n{err}{out}'
    assert code in (0, 1), shown
    assert 'Traceback' not in out + err and 'bug in bindery' not in out + err, shown
    problems = [line for line in err.splitlines() if line.strip()]
    assert (code == 0) == (problems == []), shown
    total = text.count('\n') + 1
    found = []
    for line in problems:
        match = PROBLEM.fullmatch(line)
        assert match, f'not a path:line:col line: {line!r}\n{shown}'
        assert match['path'] == KY, shown
        assert 1 <= int(match['line']) <= total and int(match['col']) >= 1, shown
        found.append(match)
    return found, (first, last), shown


@given(hostile_text, styles, st.booleans())
@example('\u202e', None, True)
@example('\ud800', '"', False)
@example('x' * 1300, None, True)
@example('', None, True)
@example('Фонд\nколдоо', '|', True)
def test_any_fact_text_checks_cleanly(ky_project, value, style, unicode):
    check_cleanly(ky_project, value, style, unicode)


@given(hostile_text, styles, st.booleans())
@example('Фонд \u202e колдоо', None, True)
def test_every_problem_of_a_fact_names_it_within_its_lines(ky_project, value, style, unicode):
    found, (first, last), shown = check_cleanly(ky_project, value, style, unicode)
    for match in found:
        assert match['rest'].startswith('facts[1].text: ') or match['rest'].startswith(
            'facts[1]: '), shown
        assert first <= int(match['line']) <= last, shown


SAFE = ('abcxyzABCXYZ0123456789 .,;:!?()[]{}<>&"\'%#*/\\=+-_~@$^|`'
        'АБВЫЙКОФаэюяңөүҢӨҮ«»')


@functools.lru_cache(maxsize=None)
def ky_booklet_and_layout(root):
    """The booklet that makes kyrgyzstan/ky and its layout, loaded once: the
    examples change the Kyrgyz content file only, never what these are read from."""
    from bindery.layouts import load_layout
    from bindery.manifest import load_booklets

    booklet = next(b for b in load_booklets(root)[0] if ('kyrgyzstan', 'ky') in b.editions)
    return booklet, load_layout(root, booklet.layout)


def fact_html(root, value):
    """The edition's HTML with ``value`` as its first fact, and the fact as typeset;
    None when ``check`` refuses the value."""
    from bindery.layouts import render_html
    from bindery.pipeline import check_edition

    text, _ = with_first_fact(value, '"', True)
    (root / KY).write_text(text, encoding='utf-8')
    booklet, layout = ky_booklet_and_layout(root)
    try:
        _, context = check_edition(root, booklet, layout, 'kyrgyzstan', 'ky')
    except SourceErrors:
        return None
    context = dict(context, created='2023-11-14T22:13:20Z',
                   stylesheets=layout.spec['stylesheets'])
    return render_html(layout, context), context['edition']['facts'][0]['text']


@given(st.text(alphabet=SAFE, min_size=1, max_size=200))
@example('<link rel="attachment" href="file:///etc/passwd">')
@example('{{ 7*7 }} {% include "/etc/passwd" %} &amp; &lt;b&gt;')
@example('</p></article></section><script>alert(1)</script>')
def test_a_fact_that_checks_clean_is_escaped_text_in_the_html(ky_project, value):
    """What ``check`` lets through reaches the template as a value: autoescaped,
    never markup, never a template; and the HTML can be written as UTF-8."""
    import lxml.html

    from bindery.layouts import keep_compounds

    assume(value.strip() and value == value.strip())
    made = fact_html(ky_project.root, value)
    assume(made is not None)
    html, fact = made
    html.encode('utf-8')
    tree = lxml.html.fromstring(html)
    cells = tree.xpath('//article[@id="fact-1"]/p[@class="fact-text"]')
    assert len(cells) == 1, html
    assert cells[0].text_content() == keep_compounds(fact), (value, fact)
    assert list(cells[0]) == [], f'markup inside the fact: {value!r}'
    assert len(tree.xpath('//*')) == baseline_elements(ky_project.root), value


@functools.lru_cache(maxsize=None)
def baseline_elements(root):
    """How many elements the HTML has with ``x`` as the first fact: the same for
    every example, so made once (it writes the Kyrgyz file as fact_html does;
    the next example writes its own)."""
    import lxml.html

    return len(lxml.html.fromstring(fact_html(root, 'x')[0]).xpath('//*'))


def test_hypothesis_is_pinned():
    """requirements.txt pins hypothesis (and what it needs), so runs are repeatable."""
    import hypothesis

    import sortedcontainers

    pins = (ROOT / 'requirements.txt').read_text(encoding='utf-8').split()
    assert f'hypothesis=={hypothesis.__version__}' in pins
    assert f'sortedcontainers=={sortedcontainers.__version__}' in pins


def read_both_ways(text):
    """What ``yamlsource.loads`` makes of ``text`` through libyaml, and through
    PyYAML's own parser alone: each the Source's data and marks, or the messages."""
    from bindery import yamlsource
    from bindery.errors import SourceErrors

    def read():
        try:
            source = yamlsource.loads(text.encode('utf-8', 'surrogatepass'), NAME)
        except SourceErrors as exc:
            return [str(error) for error in exc.errors]
        return (source.data, source.values, source.keys, source.block_mappings,
                source.refused)

    fast = read()
    real = yamlsource._compose
    yamlsource._compose = lambda text: yamlsource._FAILED
    try:
        return fast, read()
    finally:
        yamlsource._compose = real


@given(st.one_of(yaml_soup, mutated_ky(), hostile_text, st.integers(1, 300).map(
    lambda depth: f'title: {"[" * depth}x{"]" * depth}\n')))
@example('---')
@example('title:\nfacts:\n  - text:\n')
@example('a: b\n...\n')
@example('a: "b\n  c"\n')
@example("a: >\n  b\n\n  c\n")
@example('title: ' + '[' * 40 + ']' * 40 + '\n')
@example('title: ' + '[' * 40 + '\n')
@example('a:\n' + ''.join(' ' * i + 'b:\n' for i in range(1, 40)) + ' ' * 40 + 'c\n')
def test_libyaml_reads_every_file_as_pyyaml_does(text):
    """libyaml parses content files, several times faster; PyYAML's parser is
    the one our messages explain. Whatever the text, what the loader returns or
    says must not depend on which one read it."""
    fast, slow = read_both_ways(text)
    assert fast == slow


def test_libyaml_reads_the_shipped_files_as_pyyaml_does():
    files = [*ROOT.glob('data/**/*.yaml'), *ROOT.glob('layouts/**/*.yaml'),
             *ROOT.glob('booklets/*.yaml')]
    assert len(files) > 40
    for path in files:
        fast, slow = read_both_ways(path.read_text(encoding='utf-8'))
        assert fast == slow, path
