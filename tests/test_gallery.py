"""The gallery (``<out>/index.html``): every edition with its cover, pages, sizes,
preflight status and links, checked in headless Chromium opened from disk.

Made from a copy of the session's real build (``built``), so that a test may
break an edition without touching what other tests read.
"""

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import pytest

from bindery.gallery import write_gallery
from bindery.previews import COVER_WIDTH
from browser import chromium

BOOKLET = 'nine-facts'
MAGIC = {'.pdf': b'%PDF-', '.png': b'\x89PNG\r\n\x1a\n'}
OUTPUTS = ('print.pdf', 'screen.pdf', 'imposed.pdf', 'cover.png', 'preflight.json')
#: The press kit's files, which a card lists under "Press kit", the social picture shown.
KIT = ('social-1200x630.png', 'square-1080x1080.png', 'release.md', f'{BOOKLET}.pdf')


def pictures(page, suffix):
    """The ``<img>`` of the page whose file name ends with ``-suffix``."""
    return [image for image in page.images() if image['src'].endswith(f'-{suffix}')]


@pytest.fixture
def out(built, tmp_path):
    """A copy of the real build's output folder (every edition of the booklet)."""
    source = built['kk'].print.parent
    copy = tmp_path / 'out'
    shutil.copytree(source, copy / BOOKLET, ignore=shutil.ignore_patterns(
        'index.html', 'preview'))
    return copy


@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp('chromium')) as browser:
        yield browser


def editions(out):
    """``{stem: preflight report}`` for every edition the build made."""
    return {path.name.removesuffix('-preflight.json'): json.loads(path.read_text('utf-8'))
            for path in sorted((out / BOOKLET).glob('*-preflight.json'))}


class Elements(HTMLParser):
    """Every element's tag and attributes, and the page's text."""

    def __init__(self, html):
        super().__init__()
        self.elements, self.text = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def attribute(self, tag, name):
        return [attrs[name] for t, attrs in self.elements if t == tag and name in attrs]


def resolves(url, out):
    """The file a ``file:`` URL names, checked to be inside ``out`` and of its type."""
    parts = urlsplit(url)
    assert parts.scheme == 'file', url
    path = Path(unquote(parts.path))
    assert path.resolve().is_relative_to(out.resolve()), f'{url} leaves the output folder'
    assert path.is_file(), f'{url} is a broken link'
    if path.suffix in MAGIC:
        assert path.read_bytes().startswith(MAGIC[path.suffix]), url
    elif path.suffix == '.json':
        json.loads(path.read_text('utf-8'))
    return path


def test_gallery_in_chromium_shows_every_edition_and_its_links_resolve(out, browser):
    reports = editions(out)
    assert {'kazakhstan-kk', 'kyrgyzstan-ky'} <= set(reports) == {
        path.name.removesuffix('-print.pdf') for path in (out / BOOKLET).glob('*-print.pdf')}
    index = write_gallery(out)
    assert index == out / 'index.html'
    page = browser.open(index.as_uri())

    covers, socials = pictures(page, 'cover.png'), pictures(page, KIT[0])
    assert len(covers) == len(socials) == len(reports), page.images()
    assert len(page.images()) == 2 * len(reports)
    for image in covers + socials:
        assert image['loaded'] and image['shown'], image
        # the pictures themselves, scaled
        assert image['width'] == (COVER_WIDTH if image in covers else 1200), image
        resolves(image['src'], out)

    linked = {resolves(url, out) for url in page.links()}
    for stem in reports:
        for output in OUTPUTS + KIT:
            assert out / BOOKLET / f'{stem}-{output}' in linked, f'no link to {stem}-{output}'
    assert page.failed_requests == []
    assert page.exceptions == []

    # What a reader sees of each edition: name, pages, hyphenation, sizes, status, notes.
    cards = page.evaluate(
        'Array.from(document.querySelectorAll(".edition")).map(e => '
        '({id: e.id, text: e.innerText, ok: e.classList.contains("is-ok")}))')
    assert [card['id'] for card in cards] == [f'{BOOKLET}-{stem}' for stem in reports]
    for card, (stem, report) in zip(cards, reports.items()):
        assert card['ok'] and report['ok']
        assert report['edition'] in card['text']
        assert f'{report["pages"]} pages' in card['text']
        # No silent language: the report and the card name its hyphenation.
        assert report['hyphenation']['source'] in ('ours', 'pyphen')
        assert f'hyphenation: {report["hyphenation"]["label"]}' in card['text']
        assert 'Preflight passed' in card['text']
        for note in report['notes']:
            assert note.split(': ', 1)[1] in card['text']
        size = (out / BOOKLET / f'{stem}-print.pdf').stat().st_size
        assert f'{size / 1024:,.0f} KB' in card['text']
    by_id = {card['id']: card['text'] for card in cards}
    assert 'Kazakh · қазақ тілі' in by_id[f'{BOOKLET}-kazakhstan-kk']
    assert 'Kyrgyz · кыргызча' in by_id[f'{BOOKLET}-kyrgyzstan-ky']


def test_gallery_is_self_contained_and_deterministic(out):
    index = write_gallery(out)
    html = index.read_text('utf-8')
    page = Elements(html)
    urls = page.attribute('a', 'href') + page.attribute('img', 'src')
    assert urls and all(not urlsplit(url).scheme and not url.startswith('/')
                        for url in urls), urls
    assert not page.attribute('link', 'href') and 'url(' not in html
    assert not [t for t, _ in page.elements if t == 'script']

    before = index.read_bytes()
    write_gallery(out)
    assert index.read_bytes() == before


def test_gallery_shows_failures_escaped_and_no_stale_picture(out, browser):
    stem = 'kazakhstan-kk'
    # Preflight failed: only the report is left, and it says why.
    path = out / BOOKLET / f'{stem}-preflight.json'
    report = json.loads(path.read_text('utf-8'))
    report['ok'] = False
    report['outputs']['print'][0].update(ok=False, page=3,
                                         message='<b>bold</b> & "quoted" overflow')
    path.write_text(json.dumps(report, ensure_ascii=False), 'utf-8')
    for output in OUTPUTS[:-1] + KIT:
        (out / BOOKLET / f'{stem}-{output}').unlink()
    # Content failed: no file at all; the build's result carries the errors.
    for path in (out / BOOKLET).glob('kyrgyzstan-ky-*'):
        path.unlink()
    failed = SimpleNamespace(booklet=BOOKLET, edition='kyrgyzstan/ky', ok=False, errors=[
        "data/kyrgyzstan/ky.yaml:3:1: unknown field '<script>alert(1)</script>'"])
    write_gallery(out, [failed])

    page = browser.open((out / 'index.html').as_uri())
    assert page.evaluate('document.scripts.length') == 0
    text = page.evaluate('document.body.innerText')
    kk = page.evaluate(f'document.getElementById("{BOOKLET}-{stem}").innerText')
    checks = sum(len(findings) for findings in report['outputs'].values())
    assert f'Preflight failed · 1 of {checks} checks failed' in kk
    assert 'print · page-count: page 3: <b>bold</b> & "quoted" overflow' in kk
    ky = page.evaluate(f'document.getElementById("{BOOKLET}-kyrgyzstan-ky").innerText')
    assert 'Build failed' in ky and "'<script>alert(1)</script>'" in ky
    assert '2 failed' in text
    # No picture of a failed edition: its cover is gone.
    images = page.images()
    assert len(pictures(page, 'cover.png')) == len(editions(out)) - 1
    assert len(images) == 2 * (len(editions(out)) - 1) and all(i['loaded'] for i in images)
    assert not any(stem in image['src'] or 'kyrgyzstan-ky' in image['src']
                   for image in images)
    for url in page.links():
        resolves(url, out)
    assert page.failed_requests == [] and page.exceptions == []


def test_empty_output_folder_gives_an_empty_gallery(tmp_path):
    html = write_gallery(tmp_path / 'nothing').read_text('utf-8')
    assert 'Nothing built yet' in html and '0 editions' in html


def test_an_edition_without_a_preflight_report_is_not_called_failed(out):
    count = len(editions(out))
    for path in (out / BOOKLET).glob('*-preflight.json'):
        path.unlink()
    html = write_gallery(out).read_text('utf-8')
    assert html.count('No preflight report') == count
    assert 'Build failed' not in html and 'Preflight failed' not in html


def test_covers_show_in_the_proportions_of_their_pages(tmp_path):
    """A5, landscape A4 and A3 covers: each picture keeps its own page's shape."""
    from PIL import Image

    from bindery.gallery import COVER_SHOWN

    pages = {'aa-a5': (148, 210), 'bb-a4': (297, 210), 'cc-a3': (297, 420)}  # mm
    folder = tmp_path / 'out' / 'product'
    folder.mkdir(parents=True)
    for stem, (width, height) in pages.items():
        Image.new('RGB', (COVER_WIDTH, round(COVER_WIDTH * height / width)), 'white').save(
            folder / f'{stem}-cover.png')
    images = [attrs for tag, attrs in Elements(write_gallery(tmp_path / 'out').read_text(
        'utf-8')).elements if tag == 'img']
    assert len(images) == len(pages)
    for attrs, (width, height) in zip(images, pages.values()):
        assert int(attrs['width']) == COVER_SHOWN
        assert abs(int(attrs['height']) - COVER_SHOWN * height / width) <= 1, attrs
