"""Write the gallery: every edition with its cover, pages, sizes and preflight status.

``write_gallery(out)`` writes ``<out>/index.html`` from what is on disk under
``out``, so the page is true whatever was built, by whom and when: each
``<out>/<booklet>/<country>-<lang>-preflight.json`` (or any other output) makes
a card. The page is self-contained (inline CSS, no script, no URL outside the
folder, every link relative), so it works opened from disk, copied elsewhere
with its folder, or served by ``render.py serve``.

Each card shows the edition's cover PNG itself, scaled down by the browser: no
thumbnail to make, keep in step or remove (a cover is about 75 KB). Under "Press
kit" it links the kit's files (``editions.PRESSKIT``) and shows its social picture.

An edition whose last build failed keeps the files of its last good build: its
card shows them greyed, under the errors, marked stale (from the build's results,
or from the edition's set record when the page is made later).
"""

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import quote

from PIL import Image

from .editions import (COMPLETE, OWN_PREFIX, PRESSKIT, PRESSKIT_PICTURES, REPLACING,
                       STALE, read_record, write_atomic)

#: The files of an edition, in the order the gallery lists them: output name,
#: file suffix, label.
FILES = (
    ('print', '-print.pdf', 'Print PDF'),
    ('screen', '-screen.pdf', 'Screen PDF'),
    ('imposed', '-imposed.pdf', 'Imposed PDF'),
    ('cover', '-cover.png', 'Cover PNG'),
    ('handoff', '-handoff.zip', 'Hand-off bundle (zip)'),
    ('preflight', '-preflight.json', 'Preflight report'),
)
#: The press kit's files, in the order a card lists them under "Press kit": file
#: key (their names are ``editions.PRESSKIT``'s), label.
KIT = (
    *((key, f'{name.title()} picture, {width} × {height} PNG')
      for key, (name, width, height) in PRESSKIT_PICTURES.items()),
    ('presskit-release', 'Release text (Markdown)'),
    ('presskit-pdf', 'PDF to send'),
)
#: Width of a cover on the page, in CSS pixels.
COVER_SHOWN = 240


@dataclass
class Card:
    """What the gallery shows of one edition."""

    booklet: str
    stem: str                     # <country>-<lang>, the files' common prefix
    edition: str = ''             # <country>/<lang>
    files: dict = field(default_factory=dict)       # output -> Path
    report: dict = None           # the preflight JSON, when there is one
    errors: list = field(default_factory=list)      # a failed build's messages
    warnings: list = field(default_factory=list)    # e.g. an out-of-date translation
    failed: bool = False          # the build said so, even with no report
    stale: bool = False           # failed; the files are its last good build's
    incomplete: bool = False      # a build was stopped while it replaced the files
    cover_size: tuple = None      # in pixels, when the cover PNG can be read
    title: str = ''

    @property
    def ok(self):
        return (not self.failed and not self.incomplete and bool(self.report)
                and self.report.get('ok') is True)

    @property
    def state(self):
        """``(css class, label)``: passed, failed (preflight or build), or unchecked."""
        if self.stale:
            return 'stale', 'Build failed · last good files kept, stale'
        if self.incomplete:
            return 'bad', 'Incomplete: a build was stopped while replacing these files'
        if self.ok:
            return 'ok', 'Preflight passed'
        if self.report:
            return 'bad', 'Preflight failed'
        if self.failed:
            return 'bad', 'Build failed'
        return 'unchecked', 'No preflight report'  # the booklet does not ask for one


def write_gallery(out_dir, results=(), preview=False):
    """Write ``<out_dir>/index.html`` (temporary name, then renamed); return its path.

    ``results`` (optional) are the build's results (``.booklet``, ``.edition``,
    ``.ok``, ``.errors``): an edition that failed before its preflight report
    was written has no file left, and still gets a card with its errors.
    ``preview`` adds links to ``render.py serve``'s live previews.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / 'index.html'
    write_atomic(target, render_gallery(out_dir, results, preview).encode('utf-8'))
    return target


def render_gallery(out_dir, results=(), preview=False, refresh=None):
    """The gallery's HTML as text; ``refresh``, a URL of a JSON status with a
    ``version``, adds a script that reloads the page when the version changes."""
    out_dir = Path(out_dir)
    return _page(out_dir, scan(out_dir, results), preview, refresh)


def scan(out_dir, results=()):
    """A :class:`Card` per edition found under ``out_dir`` or in ``results``."""
    cards = {}
    for folder in sorted(p for p in Path(out_dir).iterdir() if p.is_dir()):
        suffixes = [(output, suffix) for output, suffix, _ in FILES] + [
            (key, suffix.format(booklet=folder.name)) for key, suffix in PRESSKIT.items()]
        for path in sorted(folder.iterdir()):
            for output, suffix in suffixes:
                if path.name.endswith(suffix) and len(path.name) > len(suffix) \
                        and not path.name.startswith('.') and path.is_file():
                    stem = path.name[:-len(suffix)]
                    card = cards.setdefault((folder.name, stem), Card(folder.name, stem))
                    card.files[output] = path
    for result in results:
        stem = result.edition.replace('/', '-')
        card = cards.setdefault((result.booklet, stem), Card(result.booklet, stem))
        card.edition = result.edition
        card.warnings = list(getattr(result, 'warnings', None) or ())
        if not result.ok:
            card.failed, card.errors = True, list(result.errors)
    for (booklet, stem), card in cards.items():
        record = read_record(Path(out_dir, booklet, f'{OWN_PREFIX}set-{stem}.json')) or {}
        state = record.get('state')
        if state == STALE or (card.failed and state == COMPLETE and card.files):
            card.stale = bool(card.files)
            card.failed = True
            if not card.errors and isinstance(record.get('errors'), list):
                card.errors = [str(error) for error in record['errors']]
        card.incomplete = state == REPLACING
    for card in cards.values():
        _read_report(card)
        if not card.warnings and isinstance((card.report or {}).get('warnings'), list):
            card.warnings = [str(line) for line in card.report['warnings']]
        card.edition = card.edition or (card.report or {}).get('edition') or _guess(card.stem)
        title = (card.report or {}).get('title')
        card.title = title if isinstance(title, str) and title else _title(card)
        card.cover_size = _picture_size(card.files.get('cover'))
    return [cards[key] for key in sorted(cards)]


def _read_report(card):
    path = card.files.get('preflight')
    if not path:
        return
    try:
        report = json.loads(path.read_text(encoding='utf-8'))
    except (OSError, ValueError) as exc:
        card.failed = True
        card.errors.append(f'{path.name}: cannot be read ({exc})')
        return
    if isinstance(report, dict):
        card.report = report


def _picture_size(cover):
    """The size in pixels of a cover PNG (its header only), None if unreadable."""
    if cover is None:
        return None
    try:
        with Image.open(cover) as image:
            return image.size if image.width and image.height else None
    except (OSError, ValueError):
        return None  # the card links the file and shows no picture


def _guess(stem):
    """``kazakhstan-kk`` → ``kazakhstan/kk`` when no report says the edition's name."""
    country, _, lang = stem.rpartition('-')
    return f'{country}/{lang}' if country else stem


def _title(card):
    """The title in the PDF's metadata: the booklet as its readers see it (for a
    report made before reports carried it)."""
    path = card.files.get('screen') or card.files.get('print')
    if not path:
        return ''
    # pikepdf, not PDFium: PDFium must not be called from two threads at once,
    # and ``render.py serve`` draws pages with it while it serves this page.
    import pikepdf

    try:
        with pikepdf.open(path) as document:
            return str(document.docinfo.get('/Title', ''))
    except (pikepdf.PdfError, OSError, ValueError):
        return ''


# HTML -------------------------------------------------------------------------

def _page(out_dir, cards, preview, refresh):
    ok = sum(card.ok for card in cards)
    failed = sum(card.state[0] == 'bad' for card in cards)
    summary = f'{len(cards)} edition{"s" if len(cards) != 1 else ""}'
    if cards:
        summary += f' · {ok} passed preflight'
        if failed:
            summary += f' · <strong class="bad">{failed} failed</strong>'
    parts = [_HEAD, '<body>\n<header>\n<h1>Booklet gallery</h1>\n',
             f'<p class="summary">{summary}</p>\n</header>\n<main>\n']
    if not cards:
        parts.append('<p class="empty">Nothing built yet: run <code>python render.py</code>.'
                     '</p>\n')
    for booklet in sorted({card.booklet for card in cards}):
        parts.append(f'<section class="booklet" id="{_attr(booklet)}">\n'
                     f'<h2>{escape(booklet)}</h2>\n<ul class="editions">\n')
        parts += [_card(out_dir, card, preview) for card in cards if card.booklet == booklet]
        parts.append('</ul>\n</section>\n')
    parts.append('</main>\n')
    if refresh:
        parts.append(_REFRESH.replace('STATUS_URL', json.dumps(refresh)))
    parts.append('</body>\n</html>\n')
    return ''.join(parts)


def _card(out_dir, card, preview):
    country, _, lang = card.edition.partition('/')
    state, label = card.state
    language = _language(lang)
    html = [f'<li class="edition is-{state}" id="{_attr(card.booklet + "-" + card.stem)}">\n']
    cover = card.files.get('cover')
    if card.cover_size:
        width, height = card.cover_size
        html.append(
            f'<a class="cover" href="{_href(cover, out_dir)}">'
            f'<img src="{_href(cover, out_dir)}" width="{COVER_SHOWN}" '
            f'height="{round(height * COVER_SHOWN / width)}" '
            f'alt="{_attr("Cover of " + card.edition)}"></a>\n')
    else:
        html.append('<div class="cover missing">no cover</div>\n')
    html.append('<div class="about">\n')
    html.append(f'<h3>{escape(country.replace("-", " ").title())} '
                f'<span class="lang">{escape(language)}</span></h3>\n')
    if card.title:
        html.append(f'<p class="title" lang="{_attr(lang)}">{escape(card.title)}</p>\n')
    pages = (card.report or {}).get('pages')
    details = [f'<code>{escape(card.edition)}</code>']
    if pages:
        details.append(f'{int(pages)} pages')
    hyphen = (card.report or {}).get('hyphenation') or {}
    if hyphen.get('label'):
        details.append(f'hyphenation: {escape(hyphen["label"])}')
    html.append(f'<p class="details">{" · ".join(details)}</p>\n')
    html.append(f'<p class="status {state}">{label}{_checks_summary(card)}</p>\n')
    problems = card.errors or _failed_checks(card.report)
    if problems:
        html.append('<ul class="problems">\n' + ''.join(
            f'<li>{escape(problem)}</li>\n' for problem in problems) + '</ul>\n')
    if card.warnings:
        html.append('<ul class="warnings">\n' + ''.join(
            f'<li>{escape(str(line))}</li>\n' for line in card.warnings) + '</ul>\n')
    html.append(_files_table(out_dir, card))
    html.append(_kit(out_dir, card))
    notes = [str(note).removeprefix(f'{card.edition}: ')
             for note in (card.report or {}).get('notes') or ()]
    notes += [hyphen['warning']] if hyphen.get('warning') else []
    if notes:
        html.append('<ul class="notes">\n' + ''.join(
            f'<li>{escape(note)}</li>\n' for note in notes) + '</ul>\n')
    if preview:
        url = f'preview/{quote(card.booklet)}/{quote(card.stem)}/'
        html.append(f'<p class="preview"><a href="{escape(url)}">Live preview →</a></p>\n')
    html.append('</div>\n</li>\n')
    return ''.join(html)


def _checks_summary(card):
    findings = _findings(card.report)
    if not findings or card.stale:  # the checks were of the last good build's files
        return ''
    failed = sum(not finding.get('ok') for _, finding in findings)
    return (f' · {len(findings)} checks' if not failed
            else f' · {failed} of {len(findings)} checks failed')


def _findings(report):
    outputs = (report or {}).get('outputs') or {}
    return [(output, finding) for output, items in outputs.items()
            if isinstance(items, list) for finding in items if isinstance(finding, dict)]


def _failed_checks(report):
    messages = []
    for output, finding in _findings(report):
        if not finding.get('ok'):
            page = f'page {finding["page"]}: ' if finding.get('page') else ''
            messages.append(f'{output} · {finding.get("check", "?")}: {page}'
                            f'{finding.get("message", "")}')
    if report and report.get('ok') is False and not messages:
        messages.append('the preflight report says the edition failed')
    return messages


def _files_table(out_dir, card):
    outputs = (card.report or {}).get('outputs') or {}
    rows = []
    for output, _, label in FILES:
        path = card.files.get(output)
        if not path:
            continue
        try:
            size = _size(path.stat().st_size)
        except OSError:
            continue
        findings = outputs.get(output)
        mark = ''
        if isinstance(findings, list) and findings:
            bad = sum(not f.get('ok') for f in findings if isinstance(f, dict))
            mark = ('<span class="ok" title="preflight passed">✓</span>' if not bad
                    else f'<span class="bad" title="{bad} failed">✗</span>')
        rows.append(f'<tr><td><a href="{_href(path, out_dir)}">{escape(label)}</a></td>'
                    f'<td class="size">{escape(size)}</td><td class="mark">{mark}</td></tr>\n')
    if not rows:
        return '<p class="nofiles">No files: this edition has not built yet.</p>\n'
    return '<table class="files">\n' + ''.join(rows) + '</table>\n'


def _kit(out_dir, card):
    """The press kit's files, named as they are sent, with the social picture."""
    rows = []
    for key, label in KIT:
        path = card.files.get(key)
        if not path:
            continue
        try:
            size = _size(path.stat().st_size)
        except OSError:
            continue
        rows.append(f'<tr><td><a href="{_href(path, out_dir)}" title="{_attr(path.name)}">'
                    f'{escape(label)}</a></td><td class="size">{escape(size)}</td></tr>\n')
    if not rows:
        return ''
    html = ['<div class="kit">\n<h4>Press kit</h4>\n']
    social = card.files.get('presskit-social')
    if social:
        _, width, height = PRESSKIT_PICTURES['presskit-social']
        html.append(f'<a class="social" href="{_href(social, out_dir)}">'
                    f'<img src="{_href(social, out_dir)}" width="{COVER_SHOWN}" '
                    f'height="{round(height * COVER_SHOWN / width)}" '
                    f'alt="{_attr("Social picture of " + card.edition)}"></a>\n')
    html.append('<table class="files">\n' + ''.join(rows) + '</table>\n</div>\n')
    return ''.join(html)


def _language(code):
    """``Kazakh · қазақ тілі`` for ``kk`` (CLDR through Babel); the code when unknown."""
    from babel import Locale, UnknownLocaleError

    try:
        english = Locale('en').languages.get(code)
        native = Locale.parse(code).get_display_name(code)
    except (UnknownLocaleError, ValueError, TypeError):
        return code
    if not english:
        return code
    return english if not native or native == english else f'{english} · {native}'


def _href(path, out_dir):
    """The link to ``path`` relative to the gallery, each part %-quoted, HTML-escaped."""
    return escape('/'.join(quote(part) for part in Path(path).relative_to(out_dir).parts))


def _attr(text):
    return escape(str(text), quote=True)


def _size(size):
    return f'{size / 1024:,.0f} KB' if size < 1024 ** 2 else f'{size / 1024 ** 2:,.1f} MB'




_HEAD = '''<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Booklet gallery</title>
<style>
:root { --ink: #1d2430; --muted: #5d6778; --line: #dde2ea; --paper: #f5f6f8;
        --ok: #1c7c3c; --ok-bg: #e5f4ea; --bad: #b42318; --bad-bg: #fdecea; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--paper); color: var(--ink);
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
header { padding: 28px 40px 12px; }
h1 { margin: 0; font-size: 26px; font-weight: 650; letter-spacing: -0.01em; }
.summary { margin: 4px 0 0; color: var(--muted); }
main { padding: 0 40px 40px; }
h2 { font-size: 17px; font-weight: 600; color: var(--muted); text-transform: uppercase;
     letter-spacing: 0.06em; margin: 24px 0 12px; }
.editions { list-style: none; margin: 0; padding: 0; display: grid; gap: 20px;
            grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); }
.edition { display: flex; gap: 20px; background: #fff; border: 1px solid var(--line);
           border-radius: 10px; padding: 18px; border-top: 4px solid var(--ok); }
.edition.is-bad { border-top-color: var(--bad); }
.cover { flex: 0 0 auto; align-self: flex-start; line-height: 0; }
.cover img { width: 240px; height: auto; border: 1px solid var(--line);
             box-shadow: 0 2px 8px rgba(20, 30, 50, .12); }
.cover.missing { width: 240px; height: 340px; display: flex; align-items: center;
                 justify-content: center; line-height: 1.4; color: var(--muted);
                 border: 1px dashed var(--line); border-radius: 4px; }
.about { min-width: 0; flex: 1 1 auto; }
h3 { margin: 0; font-size: 19px; font-weight: 650; }
h3 .lang { font-weight: 400; color: var(--muted); font-size: 15px; margin-left: 4px; }
.title { margin: 4px 0 6px; font-weight: 500; }
.details { margin: 0 0 10px; color: var(--muted); }
code { font: 13px/1.3 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.status { display: inline-block; margin: 0 0 10px; padding: 2px 10px; border-radius: 999px;
          font-size: 13px; font-weight: 600; }
.status.ok { color: var(--ok); background: var(--ok-bg); }
.status.bad { color: var(--bad); background: var(--bad-bg); }
.status.unchecked { color: var(--muted); background: var(--paper); }
.edition.is-stale { border-top-color: var(--bad); }
.status.stale { color: var(--bad); background: var(--bad-bg); }
.is-stale .cover img, .is-stale .kit img { filter: grayscale(1); opacity: .45; }
.edition.is-unchecked { border-top-color: var(--line); }
.problems { margin: 0 0 12px; padding: 8px 12px 8px 28px; background: var(--bad-bg);
            color: var(--bad); border-radius: 6px; font-size: 13px; overflow-wrap: anywhere; }
.files { border-collapse: collapse; width: 100%; max-width: 340px; margin: 0 0 10px; }
.files td { padding: 4px 6px 4px 0; border-bottom: 1px solid var(--line); }
.files .size { text-align: right; color: var(--muted); font-variant-numeric: tabular-nums;
               white-space: nowrap; }
.files .mark { width: 1.5em; text-align: center; }
span.ok, strong.ok { color: var(--ok); } span.bad, strong.bad { color: var(--bad); }
.kit h4 { margin: 12px 0 6px; font-size: 13px; font-weight: 600; color: var(--muted);
          text-transform: uppercase; letter-spacing: 0.06em; }
.kit .social { display: block; line-height: 0; margin: 0 0 6px; }
.kit .social img { border: 1px solid var(--line); }
.warnings { margin: 0 0 10px; padding-left: 18px; color: #8a5a00; font-size: 13px;
  overflow-wrap: anywhere; }
.notes { margin: 0 0 10px; padding-left: 18px; color: var(--muted); font-size: 13px; }
.nofiles, .empty { color: var(--muted); }
a { color: #1f5fbf; text-decoration: none; } a:hover { text-decoration: underline; }
.preview a { font-weight: 600; }
@media (max-width: 640px) {
  header, main { padding-left: 16px; padding-right: 16px; }
  .editions { grid-template-columns: 1fr; } .edition { flex-direction: column; }
}
</style>
</head>
'''

#: Only when served (``render.py serve``): reload when a rebuild finished.
_REFRESH = '''<script>
(function () {
  var url = STATUS_URL, seen = null;
  function poll() {
    fetch(url, {cache: 'no-store'}).then(function (r) { return r.json(); })
      .then(function (s) {
        if (seen !== null && s.version !== seen) { location.reload(); return; }
        seen = s.version; setTimeout(poll, 1000);
      }, function () { setTimeout(poll, 2000); });
  }
  poll();
})();
</script>
'''
