"""bindery/yamlsource.py: content YAML is read as plain text, with positions, and
everything that is not plain data is refused at the place it is written.

Positions are 1-based, columns in characters; each expected position is found
in the YAML text of the test (``at(text, needle)``), not copied from output.
"""

import re

import pytest

from bindery.errors import SourceErrors
from bindery import schema
from bindery.yamlsource import MAX_BYTES, keypath, loads, quoted, visible

NAME = 'data/test/xx.yaml'


def at(text, needle, occurrence=1):
    """1-based ``(line, col)`` of ``needle`` in ``text``."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    return text.count('\n', 0, index) + 1, index - (text.rfind('\n', 0, index) + 1) + 1


def load(text):
    raw = text if isinstance(text, bytes) else text.encode('utf-8')
    return loads(raw, NAME)


def refusals(text):
    """``[(line, col, field, message)]`` of the errors loading ``text`` raises."""
    with pytest.raises(SourceErrors) as caught:
        load(text)
    errors = caught.value.errors
    assert errors, 'SourceErrors without errors'
    for error in errors:
        assert error.path == NAME
        assert str(error).startswith(f'{NAME}:{error.line}:{error.col}: ')
    return [(e.line, e.col, e.field, e.message) for e in errors]


# Plain data comes through as text

def test_mappings_lists_and_text():
    source = load('title: Ашық қоғам\nintro:\n  - бір\n  - "екі: үш"\nfacts:\n'
                  '  - text: >-\n      бірінші\n      жол\n')
    assert source.data == {'title': 'Ашық қоғам', 'intro': ['бір', 'екі: үш'],
                           'facts': [{'text': 'бірінші жол'}]}


@pytest.mark.parametrize('written', [
    'no', 'yes', 'on', 'off', 'true', 'False', 'null', '~', '012', '0o12', '0x1F',
    '1.10', '1e3', '.inf', '-0', '2025-01-01', '12:30:00', '1_000'])
def test_plain_scalars_stay_the_text_written(written):
    assert load(f'value: {written}\n').data == {'value': written}
    assert load(f'values: [{written}]\n').data == {'values': [written]}


def test_quoted_and_empty_scalars():
    assert load("a: '012'\nb: \"1.10\"\nc:\n").data == {'a': '012', 'b': '1.10', 'c': ''}


def test_keys_are_text_too():
    assert load('no: 1\n2025: x\n').data == {'no': '1', '2025': 'x'}


def test_byte_order_mark_is_accepted_and_positions_unchanged():
    text = 'lang: kk\ntitle: Ашық\n'
    plain, bommed = load(text), load(b'\xef\xbb\xbf' + text.encode('utf-8'))
    assert bommed.data == plain.data == {'lang': 'kk', 'title': 'Ашық'}
    assert bommed.values[('title',)].line == 2
    assert bommed.values[('title',)].col == plain.values[('title',)].col == 8


def test_tabs_and_line_breaks_inside_values_are_fine():
    assert load('a: "x\\ty"\nb: "x\ty"\n').data == {'a': 'x\ty', 'b': 'x\ty'}


# Positions of keys and values

def test_positions_of_keys_values_and_list_items():
    text = ('# comment\nlang: kk\nfacts:\n  - text: бірінші\n  - text: >-\n'
            '      екінші\n      жол\n')
    source = load(text)
    assert (source.keys[('lang',)].line, source.keys[('lang',)].col) == at(text, 'lang')
    assert (source.values[('lang',)].line, source.values[('lang',)].col) == at(text, 'kk')
    first = source.values[('facts', 0, 'text')]
    assert (first.line, first.col) == at(text, 'бірінші')
    second = source.values[('facts', 1, 'text')]
    assert (second.line, second.col) == at(text, '>-')
    item = source.values[('facts', 1)]
    assert (item.line, item.col) == at(text, 'text', occurrence=2)
    assert (source.keys[('facts', 1, 'text')].line,
            source.keys[('facts', 1, 'text')].col) == at(text, 'text', occurrence=2)


def test_keypath_counts_list_items_from_one():
    assert keypath(('facts', 3, 'text')) == 'facts[4].text'
    assert keypath(('intro', 0)) == 'intro[1]'
    assert keypath(('figures', 'budget-eurasia')) == 'figures.budget-eurasia'
    assert keypath(()) == ''


def test_error_at_a_character_inside_a_folded_value():
    text = 'facts:\n  - text: >-\n      бірінші жол\n      екінші ა жол\n'
    source = load(text)
    error = source.char_error(('facts', 0, 'text'), 'ა', 'no glyph')
    assert (error.line, error.col) == at(text, 'ა')
    assert error.field == 'facts[1].text'
    assert str(error) == f'{NAME}:{error.line}:{error.col}: facts[1].text: no glyph'


def test_error_at_a_key_or_its_value():
    text = 'title: x\nintor:\n  - y\n'
    source = load(text)
    key = source.error(('intor',), 'unknown', at_key=True)
    value = source.error(('intor',), 'bad')
    assert (key.line, key.col) == at(text, 'intor')
    assert (value.line, value.col) == at(text, '- y')


# Refused, at the place it is written

def test_anchor_refused_where_written():
    text = 'lang: kk\nbase: &shared Ашық\ncopy: *shared\n'
    # The anchor and its alias are each refused where they stand.
    [(line, col, _, message), (_, _, _, other)] = refusals(text)
    assert (line, col) == at(text, '&shared')
    assert 'anchor' in message and 'alias' in other


def test_alias_refused_where_written():
    text = 'lang: kk\ncopy: *shared\n'
    [(line, col, _, message)] = refusals(text)
    assert (line, col) == at(text, '*shared')
    assert 'alias' in message


@pytest.mark.parametrize('tagged', [
    '!!python/object/apply:os.system ["echo hi"]', '!!str 012', '!custom x',
    '!!binary aGk=', '!<tag:yaml.org,2002:int> 12'])
def test_tags_refused_where_written(tagged):
    text = f'lang: kk\nvalue: {tagged}\n'
    [(line, col, _, message)] = refusals(text)
    assert (line, col) == at(text, '!')
    assert 'tag' in message


def test_merge_key_refused_where_written():
    text = 'lang: kk\nfigure:\n  <<: {id: x}\n  amount: 1\n'
    [(line, col, field, message)] = refusals(text)
    assert (line, col) == at(text, '<<')
    assert field == 'figure'
    assert 'merge' in message


def test_duplicate_key_refused_at_the_second_with_the_first_line():
    text = 'lang: kk\ntitle: бір\nfacts_title: x\ntitle: екі\n'
    [(line, col, field, message)] = refusals(text)
    assert (line, col) == at(text, 'title: екі')
    assert field == 'title'
    assert 'duplicate' in message and str(at(text, 'title: бір')[0]) in message


def test_every_duplicate_key_reported_at_once():
    text = ('lang: kk\nfacts:\n  - text: бір\n    text: екі\n  - text: үш\n'
            'lang: ky\n')
    errors = refusals(text)
    assert [(line, col, field) for line, col, field, _ in errors] == [
        (*at(text, 'text: екі'), 'facts[1].text'), (*at(text, 'lang: ky'), 'lang')]


def test_keys_must_be_plain_names():
    text = 'lang: kk\n? [a, b]\n: c\n'
    [(line, col, _, message)] = refusals(text)
    assert (line, col) == at(text, '[a, b]')
    assert 'key' in message


@pytest.mark.parametrize('char', [
    '\x00', '\x07', '\x1b', '\x7f', '\x85', '\x9f',  # C0 and C1 controls
    '\u202a', '\u202b', '\u202c', '\u202d', '\u202e',  # bidi embeddings and overrides
    '\u2066', '\u2067', '\u2068', '\u2069',  # bidi isolates
    '\ufdd0', '\ufffe', '\uffff'])  # noncharacters
def test_control_bidi_and_noncharacters_refused_where_written(char):
    text = f'lang: kk\ntitle: "Ашық {char}қоғам"\n'
    [(line, col, _, message)] = refusals(text)
    assert (line, col) == at(text, char)
    assert f'U+{ord(char):04X}' in message


def test_right_to_left_override_in_a_comment_is_refused_too():
    """A Trojan-source override hides in comments just as well as in values."""
    text = 'lang: kk\n# note \u202e\ntitle: x\n'
    [(line, col, _, _)] = refusals(text)
    assert (line, col) == at(text, '\u202e')


def test_invalid_utf8_refused_where_it_is():
    raw = 'lang: kk\ntitle: Ашық '.encode('utf-8') + b'\xc3\x28' + b'\n'
    [(line, col, _, message)] = refusals(raw)
    assert (line, col) == (2, len('title: Ашық ') + 1)
    assert 'UTF-8' in message and '0xc3' in message.lower()


def test_yaml_syntax_error_at_its_place():
    text = 'lang: kk\ntitle: Ашық: қоғам\n'
    [(line, col, _, message)] = refusals(text)
    assert (line, col) == at(text, ': қоғам')
    assert 'YAML' in message


def test_two_documents_refused():
    text = 'lang: kk\n---\nlang: ky\n'
    [(line, col, _, message)] = refusals(text)
    assert (line, col) == at(text, '---')
    assert message == ('YAML syntax: a second YAML document starts here (---); a content '
                       'file holds one: delete the line, or what follows it')


# YAML syntax errors: a sentence that says what to do, where the cause is

@pytest.mark.parametrize('text, needle, words', [
    ('lang: kk\ntitle: Ашық: қоғам\n', ': қоғам', "': ' in quotes"),
    ('lang: kk\n\ttitle: Ашық\n', '\ttitle', 'indent with spaces'),
    ('lang: kk\ntitle: [Ашық, қоғам\nintro: x\n', '[Ашық', "not closed with ']'"),
    ('lang: kk\ntitle: {a: Ашық\n', '{a:', "not closed with '}'"),
    # The line without a colon, not the next one where PyYAML gave up.
    ('lang: kk\ntitle Ашық\nintro: x\n', 'title Ашық', "has no ':'"),
    ('lang: kk\ntitle: "Ашық\nintro: x\n', '"Ашық', 'never closed'),
    ('lang: kk\n...\ntitle: Ашық\n', 'title', "'...' line"),
    ('lang: kk\ntitle: "Ашық \\q"\n', 'q"', "'\\' followed by 'q'"),
    ('lang: kk\ntitle: "Ашық \\u12"\n', '12"', '4 hexadecimal digits'),
    ('lang: kk\ntitle: @Ашық\n', '@', "'@' cannot start a value"),
    ('lang: kk\ntitle: - b\n', '- b', "a list item ('- ')"),
    ('lang: kk\n  title: Ашық\n', ': Ашық', "': ' in quotes"),
    ('lang: kk\nintro:\n  - a\n - b\n', '- b', 'indented differently'),
    ('lang: kk\ntitle: |x\n  Ашық\n', 'x\n', "after '|' or '>'"),
    ('lang: kk\ntitle: !<x\n', '!', "'!' starts a tag"),
    ('%YAML 1.1\n%YAML 1.1\n---\nlang: kk\n', '%YAML 1.1\n---', 'directive'),
])
def test_yaml_syntax_errors_are_sentences_at_their_cause(text, needle, words):
    [(line, col, _, message)] = refusals(text)
    assert (line, col) == at(text, needle), message
    assert message.startswith('YAML syntax: '), message
    sentence = message[len('YAML syntax: '):]
    assert words in sentence, sentence
    # Not PyYAML's fragments: no "but found …", no "while scanning …", no token names.
    assert not re.search(r'^but |while (scanning|parsing)|<[a-z ]+>', sentence), sentence


# Invisible characters in messages

def test_invisible_characters_are_shown_escaped():
    assert visible('\ufefftitle') == '\\ufefftitle'
    assert quoted('ti\u200btle') == "'ti\\u200btle'"
    assert quoted('a\u00a0b\u034fc\U000e0001') == "'a\\xa0b\\u034fc\\U000e0001'"
    assert quoted('Ашық қоғам 🎉') == "'Ашық қоғам 🎉'"  # what shows stays as it is
    assert quoted('x' * 100, 10) == "'xxxxxxxxx…'"
    assert keypath(('figures', '\ufeffgrants', 0)) == 'figures.\\ufeffgrants[1]'


def test_an_unknown_key_with_a_byte_order_mark_says_so():
    text = 'lang: kk\n\ufefftitle: Ашық\n'
    source = load(text)
    errors = []
    schema.validate(schema.Record('A file.', {
        'lang': schema.Language('The language.'), 'title': schema.Text('The title.')}),
        source, errors)
    messages = [(e.line, e.col, e.message) for e in errors]
    assert (*at(text, '\ufeff'), "unknown field '\\ufefftitle' (did you mean 'title'? "
            'delete the invisible U+FEFF)') in messages, messages


# Where a message about a mapping points

def errors_of(text, fields):
    source = load(text)
    errors = []
    schema.validate(schema.Record('A file.', fields), source, errors)
    return [(e.line, e.col, e.field, e.message) for e in errors]


AMOUNT = schema.Record('An amount.', {'amount': schema.Number('Digits.'),
                                      'currency': schema.Currency('ISO 4217 code.')})


def test_a_block_mapping_where_a_list_belongs_is_pointed_at_by_its_key():
    text = 'lang: kk\nintro:\n  lead: Ашық\n  rest: қоғам\n'
    [error] = errors_of(text, {'lang': schema.Text('x'),
                               'intro': schema.ListOf('x', schema.Text('x'))})
    assert error == (*at(text, 'intro:'), 'intro', 'expected a list, found a mapping')


def test_a_flow_mapping_is_pointed_at_where_it_starts():
    text = 'lang: kk\nintro: {lead: Ашық}\n'
    [error] = errors_of(text, {'lang': schema.Text('x'),
                               'intro': schema.ListOf('x', schema.Text('x'))})
    assert error[:2] == at(text, '{lead')


def test_a_missing_field_of_a_nested_mapping_is_said_at_its_key():
    text = '# a comment\nlang: kk\ntotal:\n  amount: 5\n'
    [error] = errors_of(text, {'lang': schema.Text('x'), 'total': AMOUNT})
    assert error == (*at(text, 'total:'), 'total',
                     "missing field 'currency' (ISO 4217 code)")


def test_a_missing_top_field_is_said_at_the_first_key_not_line_1():
    text = '# a comment\n\nlang: kk\n'
    [error] = errors_of(text, {'lang': schema.Text('x'), 'total': AMOUNT})
    assert error[:2] == at(text, 'lang:')
    assert error[3].startswith("missing field 'total'")


def test_a_missing_field_of_a_list_item_is_said_at_the_item():
    text = 'lang: kk\nitems:\n  - amount: 5\n'
    [error] = errors_of(text, {'lang': schema.Text('x'), 'items': schema.ListOf('x', AMOUNT)})
    assert error[:3] == (*at(text, 'amount'), 'items[1]')


# Language codes

@pytest.mark.parametrize('value, message', [
    ('../../tmp/x', "'../../tmp/x' is not a language code (such as kk, ky, ru or zh_Hant)"),
    ('kk ky', "'kk ky' is not a language code (such as kk, ky, ru or zh_Hant)"),
    ('x' * 50, "'" + 'x' * 39 + "…' is not a language code (such as kk, ky, ru or zh_Hant)"),
    ('xx', "'xx' is not a language code CLDR knows (e.g. kk, ky, ru)"),
    ('ky-KG', "'ky-KG' is not a language code CLDR knows (write ky_KG)"),
])
def test_a_language_field_takes_language_codes_only(value, message):
    text = f'lang: "{value}"\n'
    [error] = errors_of(text, {'lang': schema.Language('The language.')})
    assert error == (*at(text, '"'), 'lang', message)


@pytest.mark.parametrize('value', ['kk', 'ky', 'ru', 'en', 'zh_Hant', 'sr_Latn_RS'])
def test_language_codes_cldr_knows_pass(value):
    assert errors_of(f'lang: {value}\n', {'lang': schema.Language('x')}) == []


def test_a_layout_can_declare_a_language_field():
    """Declarations pass max_length to every text type; Language took it twice."""
    text = 'quote_lang: {type: language, doc: The language of the quote.}\n'
    errors = []
    fields = schema.declarations('x', 'test').check(load(text), (), load(text).data, errors)
    assert errors == [] and isinstance(fields['quote_lang'], schema.Language)


@pytest.mark.parametrize('text', ['', '\n', '# only a comment\n'])
def test_empty_file_refused(text):
    [(line, col, _, message)] = refusals(text)
    assert (line, col) == (1, 1)
    assert 'empty' in message


def test_huge_file_refused_before_parsing():
    raw = b'a: ' + b'x' * MAX_BYTES + b'\n'
    [(line, col, _, message)] = refusals(raw)
    assert (line, col) == (1, 1)
