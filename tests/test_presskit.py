"""The press kit (output ``presskit``): per edition, two social pictures made from the
layout's marked page, the release text as Markdown and the screen PDF under a
name to send, linked from the gallery.

One edition is built with ``render.py`` in a fixture project whose content tries
to inject Markdown (a fact that starts with ``# heading`` and carries a link, HTML
and emphasis; an intro paragraph that starts like a list item). The files are
read with Pillow, markdown-it-py, pikepdf and the standard library's HTML parser;
the Markdown's text is compared with the content file as YAML gives it.
"""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pikepdf
import pytest
import yaml
from markdown_it import MarkdownIt
from PIL import Image, ImageChops

from conftest import FixtureProject

COUNTRY, LANG = 'kyrgyzstan', 'ky'
STEM = f'{COUNTRY}-{LANG}'
KY = f'data/{COUNTRY}/{LANG}.yaml'
#: The kit's files, as the README names them.
KIT = {'social': f'{STEM}-social-1200x630.png', 'square': f'{STEM}-square-1080x1080.png',
       'release': f'{STEM}-release.md', 'pdf': f'{STEM}-nine-facts.pdf'}
SIZES = {'social': (1200, 630), 'square': (1080, 1080)}
#: The layout's amber and navy as layout.yaml gives them for screen.
AMBER, NAVY = (0xf6, 0xaa, 0x1c), (0x1b, 0x2d, 0x5b)
#: What the content tries: a heading, a link and HTML at the start of a fact; a
#: list marker, emphasis and code at the start of an intro paragraph.
INJECTED_FACT = '# heading [link](http://x) <b>bold</b>'
INJECTED_INTRO = '1) *not em* `code` '
#: Every text the test parses Markdown with: CommonMark with raw HTML on, and the
#: default preset's tables and strikethrough.
PARSERS = {'commonmark': MarkdownIt('commonmark'),
           'gfm-ish': MarkdownIt('default').enable(['table', 'strikethrough'])}


def words(text):
    """The words of ``text``, lower-cased (quotes, dashes and spaces are typography's)."""
    return re.findall(r'\w+', text.lower())


@pytest.fixture(scope='module')
def kit(tmp_path_factory):
    """One edition built with the press kit, its content trying to inject Markdown."""
    project = FixtureProject(tmp_path_factory.mktemp('presskit') / 'project')
    text = project.read(KY)
    fact = '    short: Фонд Википедиянын'  # fact 4's short form follows its text
    index = text.index(fact)
    start = text.rindex('  - text: >-\n      ', 0, index) + len('  - text: >-\n      ')
    text = text[:start] + INJECTED_FACT + ' ' + text[start:]
    second = text.index('  - >-\n    ', text.index('intro:')) + 1
    second = text.index('  - >-\n    ', second) + len('  - >-\n    ')
    project.write(KY, text[:second] + INJECTED_INTRO + text[second:])
    out = project.root / 'out'
    run = project.run(f'nine-facts/{COUNTRY}/{LANG}', '--out', out)
    assert run.returncode == 0, str(run)
    content = yaml.safe_load(project.read(KY))
    assert content['facts'][3]['text'].startswith(INJECTED_FACT)
    assert content['intro'][1].startswith(INJECTED_INTRO)
    return out, content


def kit_path(out, name):
    return out / 'nine-facts' / KIT[name]


# The files, under names to send

def test_the_kit_files_are_there_under_their_names(kit):
    out, _ = kit
    made = {path.name for path in (out / 'nine-facts').iterdir()}
    assert set(KIT.values()) <= made, sorted(made)
    assert not [name for name in made if name.startswith('.')  # no temporary left
                and not name.startswith('.bindery-set-')], made  # (the set's record)


def test_the_kit_pdf_is_the_screen_pdf(kit):
    out, content = kit
    pdf = kit_path(out, 'pdf')
    assert pdf.read_bytes() == (out / 'nine-facts' / f'{STEM}-screen.pdf').read_bytes()
    with pikepdf.open(pdf) as document:
        assert len(document.pages) == 8
        assert str(document.docinfo['/Title']).startswith(content['title'])


# The pictures

@pytest.mark.parametrize('name', sorted(SIZES))
def test_pictures_have_their_exact_size_and_are_not_blank(kit, name):
    out, _ = kit
    with Image.open(kit_path(out, name)) as image:
        assert image.format == 'PNG'
        assert image.size == SIZES[name]
        rgb = image.convert('RGB')
    colors = rgb.getcolors(maxcolors=1 << 20)
    assert len(colors) >= 20, f'{len(colors)} colours: blank?'
    # The cover's amber "30": a good share of the picture, not a stray pixel.
    amber = sum(count for count, color in colors if near(color, AMBER))
    assert amber > 0.02 * rgb.width * rgb.height, amber
    # The cover's navy runs on around the page: its own edge colour.
    assert {rgb.getpixel((0, y)) for y in range(rgb.height)} == {NAVY}
    assert {rgb.getpixel((rgb.width - 1, y)) for y in range(rgb.height)} == {NAVY}


@pytest.mark.parametrize('name', sorted(SIZES))
def test_pictures_contain_the_cover_whole_centred_and_undistorted(kit, name):
    """The cover's amber "30" lies where the cover PNG (page 1, 1200 px wide) puts
    it, the page scaled to fit the box whole and centred in it."""
    out, _ = kit
    with Image.open(out / 'nine-facts' / f'{STEM}-cover.png') as image:
        cover = image.convert('RGB')
    with Image.open(kit_path(out, name)) as image:
        picture = image.convert('RGB')
    width, height = SIZES[name]
    scale = min(width / cover.width, height / cover.height)
    assert round(cover.height * scale) == height  # a portrait page: its height fits
    left = (width - cover.width * scale) / 2
    top = (height - cover.height * scale) / 2
    # The rows of the page that hold the "30" and nothing else in amber.
    rows = (0.15, 0.55)
    in_cover = amber_box(cover, (0, rows[0] * cover.height, cover.width,
                                 rows[1] * cover.height))
    in_picture = amber_box(picture, (left, top + rows[0] * cover.height * scale,
                                     left + cover.width * scale,
                                     top + rows[1] * cover.height * scale))
    expected = [(left if i % 2 == 0 else top) + value * scale
                for i, value in enumerate(in_cover)]
    assert all(abs(a - b) <= 3 for a, b in zip(in_picture, expected)), (in_picture, expected)


def near(color, target, tolerance=10):
    return all(abs(a - b) <= tolerance for a, b in zip(color, target))


def amber_box(image, region):
    """The bounding box, in ``image``'s coordinates, of the pixels near the layout's
    amber inside ``region`` (left, top, right, bottom)."""
    region = tuple(round(value) for value in region)
    part = image.crop(region)
    lut = [255 if abs(value - target) <= 10 else 0 for target in AMBER for value in range(256)]
    red, green, blue = part.point(lut).split()
    box = ImageChops.multiply(ImageChops.multiply(red, green), blue).getbbox()
    assert box, 'no amber'
    return (box[0] + region[0], box[1] + region[1], box[2] + region[0], box[3] + region[1])


# The release text

def parsed(out, parser='commonmark'):
    return PARSERS[parser].parse(kit_path(out, 'release').read_text(encoding='utf-8'))


def blocks(tokens):
    """``(kind, text)`` of each heading, paragraph and list item, in order."""
    found, kind = [], None
    for token in tokens:
        if token.type == 'heading_open':
            kind = token.tag
        elif token.type == 'list_item_open':
            kind = f'item {token.info}'
        elif token.type == 'inline':
            found.append((kind or 'p', token.content and plain(token)))
            kind = None
    return found


def plain(inline):
    """The text a reader sees of an inline token (escapes resolved)."""
    return ''.join(child.content for child in inline.children
                   if child.type in ('text', 'code_inline', 'softbreak'))


def test_release_has_the_title_intro_and_the_nine_facts_in_order(kit):
    out, content = kit
    found = blocks(parsed(out))
    assert found[0] == ('h1', content['title'])
    items = [(kind, text) for kind, text in found if kind and kind.startswith('item')]
    assert [kind for kind, _ in items] == [f'item {n}' for n in range(1, 10)]
    for (_, text), fact in zip(items, content['facts']):
        assert words(text) == words(fact['text'])
    paragraphs = [words(text) for kind, text in found if kind == 'p']
    for paragraph in content['intro']:
        assert words(paragraph) in paragraphs, paragraph
    headings = [(kind, ' '.join(text.split())) for kind, text in found if kind.startswith('h')]
    assert headings == [('h1', content['title']), ('h2', content['facts_title'])]
    ordered = [t for t in parsed(out) if t.type == 'ordered_list_open']
    assert len(ordered) == 1  # the facts; no list started by content


@pytest.mark.parametrize('parser', sorted(PARSERS))
def test_content_cannot_inject_markdown(kit, parser):
    out, content = kit
    tokens = parsed(out, parser)
    structure = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or ()}
    assert not structure & {'link_open', 'image', 'html_inline', 'html_block', 'code_inline',
                            'code_block', 'fence', 's_open', 'table_open', 'blockquote_open',
                            'bullet_list_open', 'hr'}, structure
    found = blocks(tokens)
    fact = [text for kind, text in found if kind == 'item 4'][0]
    assert fact.startswith(INJECTED_FACT), fact
    intro = [text for kind, text in found if kind == 'p' and text.startswith('1)')]
    assert len(intro) == 1 and intro[0].startswith(INJECTED_INTRO), intro
    assert words(intro[0]) == words(content['intro'][1])
    html = PARSERS[parser].render(kit_path(out, 'release').read_text(encoding='utf-8'))
    assert '&lt;b&gt;bold&lt;/b&gt;' in html and '<b>' not in html
    assert '<a ' not in html and '<code>' not in html
    # The template's own emphasis only: the foundation bold, the kicker italic.
    strong = [t for t in tokens if t.type == 'inline'
              for c in t.children if c.type == 'strong_open']
    emphasis = [t for t in tokens if t.type == 'inline'
                for c in t.children if c.type == 'em_open']
    assert len(strong) == 1 and len(emphasis) == 1


@pytest.mark.parametrize('text', [
    '# heading', '## two', '[link](http://x)', '![picture](x.png)', '<b>bold</b>',
    '<!-- comment -->', '<https://x>', '*em* and **strong**', '_em_ and __strong__',
    '`code`', '```', '~~~', '~~struck~~', '- item', '+ item', '* item', '1. item',
    '2) item', '1993. year', '> quote', '---', '===', '***', 'a | b', '| a | b |',
    '&amp; &#42; &copy;', 'back\\slash', 'line\nbreak', 'line\n# heading', '    code',
    'hard  \nbreak', '[ref]: http://x', '~ $100M', 'AT&T', '5 < 6 > 4',
])
def test_md_escape_shows_any_text_as_itself(text):
    """Whatever a value holds, the Markdown shows its text (line breaks as a space)
    and no structure, wherever the template puts it: at a line start, in a
    paragraph, a list item or a heading."""
    from bindery.layouts import md

    escaped = md(text)
    ITEM = ('list_item_open', 'paragraph_open')
    shown = re.sub(r'\s+', ' ', text).strip()
    for parser in PARSERS.values():
        for before, after, kinds in (('', '\n', {'paragraph_open'}),
                                     ('intro\n\n', '\n', {'paragraph_open'}),
                                     ('- ', '\n', {'bullet_list_open', *ITEM}),
                                     ('1. ', '\n', {'ordered_list_open', *ITEM}),
                                     ('# ', '\n', {'heading_open'}),
                                     ('**', '**\n', {'paragraph_open'})):
            tokens = parser.parse(before + escaped + after)
            opened = {t.type for t in tokens if t.type.endswith('_open')}
            assert opened == kinds, (before, escaped, opened)
            inline = [t for t in tokens if t.type == 'inline'][-1]
            children = {c.type for c in inline.children}
            assert children <= {'text', 'softbreak', 'strong_open', 'strong_close'}, (
                escaped, children)
            assert plain(inline) == shown, (before, escaped, plain(inline))


def test_the_release_is_part_of_the_fingerprint(tmp_path):
    from bindery import cache

    project = FixtureProject(tmp_path / 'project')
    before = cache.fingerprint(project.root, 'nine-facts', 'nine-facts', COUNTRY, LANG)
    release = 'layouts/nine-facts/release.md'
    project.write(release, project.read(release) + '\n')
    assert cache.fingerprint(project.root, 'nine-facts', 'nine-facts', COUNTRY, LANG) != before


def test_figures_are_formatted_for_the_language(built):
    """Kazakhstan's figures, as CLDR writes them in Kazakh (the README's «3,8 млн $»)."""
    release = built['kk'].print.parent / 'kazakhstan-kk-release.md'
    found = blocks(MarkdownIt('commonmark').parse(release.read_text(encoding='utf-8')))
    texts = [' '.join(text.split()) for _, text in found]
    assert any('3,8 млн $' in text for text in texts), texts
    assert any('53,2 млн $' in text for text in texts), texts
    assert any('~ 100 млн $' in text for text in texts), texts


# The gallery

class Links(HTMLParser):
    """The links and pictures inside each edition's card, by the card's id."""

    def __init__(self, html):
        super().__init__()
        self.cards, self.card, self.depth = {}, None, 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'li' and 'edition' in (attrs.get('class') or '').split():
            self.card, self.depth = attrs['id'], 0
            self.cards[self.card] = []
        if self.card and tag == 'li':
            self.depth += 1
        if self.card and (attrs.get('href') or attrs.get('src')):
            self.cards[self.card].append(attrs.get('href') or attrs.get('src'))

    def handle_endtag(self, tag):
        if self.card and tag == 'li':
            self.depth -= 1
            if not self.depth:
                self.card = None


def test_the_gallery_links_every_kit_file_and_the_links_resolve(kit):
    out, _ = kit
    links = Links((out / 'index.html').read_text(encoding='utf-8')).cards[f'nine-facts-{STEM}']
    targets = {(out / unquote(link)).resolve() for link in links}
    for name in KIT:
        assert kit_path(out, name).resolve() in targets, (name, links)
    for link in links:
        assert (out / unquote(link)).is_file(), link


# What check refuses

def test_check_says_where_a_press_kit_cannot_be_made(tmp_path):
    """A layout that declares no press_kit, a booklet whose name would give its
    kit's PDF the name of another output, and a broken release template: each one
    line at its place."""
    project = FixtureProject(tmp_path / 'project', booklets=('nine-facts', 'poster'))
    poster = 'layouts/poster/layout.yaml'
    text = project.read(poster)
    project.write(poster, text[:text.index('press_kit:')])
    project.write('booklets/print.yaml', project.read('booklets/nine-facts.yaml'))
    release = 'layouts/nine-facts/release.md'
    project.replace(release, '# {{ edition.title }}', '# {{ edition.titel }}')
    line = project.position(release, '{{ edition.titel }}')[0]
    run = project.run('check')
    assert run.returncode == 1, str(run)
    lines = run.error_lines
    outputs = project.position('booklets/poster.yaml', 'presskit')
    assert any(entry.startswith(f'booklets/poster.yaml:{outputs[0]}:{outputs[1]}: ')
               and 'presskit cannot apply: the poster layout declares no press_kit' in entry
               and entry.endswith('remove it') for entry in lines), lines
    assert any(entry.startswith('booklets/print.yaml:') and "booklet's name, print" in entry
               for entry in lines), lines
    assert any(entry.startswith(f'{release}:{line}:') and 'titel' in entry
               for entry in lines), lines
