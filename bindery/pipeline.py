"""Run the stages for one edition of one booklet: content → HTML → PDFs → cover → preflight."""

import hashlib
import json
import os
import re
import unicodedata
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from html import unescape
from pathlib import Path

from . import __version__, content, copyfit, fonts, translate, typography
from .content import load_edition
from . import editions
from .editions import Result, wanted_paths
from .errors import BookletError, RenderError, SourceError, SourceErrors
from .layouts import Finder, render_html, render_markdown
from .schema import ListOf, MapOf, Record, Text


def check_edition(root, booklet, layout, country, lang):
    """Load and check an edition for its booklet, fonts included; return it, the
    template's context and the HTML; raise :class:`SourceErrors` with every
    problem at once (the booklet's, the layout's words, each content file's,
    the glyphs of each).
    """
    errors = list(booklet_problems(booklet, layout))
    try:
        edition = load_edition(root, country, lang, layout)
    except SourceErrors as exc:
        glyphs = [error for source, schema in exc.sources
                  for error in fonts.check_coverage(layout, root, content.texts(source, schema))]
        raise SourceErrors(errors + exc.errors + glyphs) from None
    texts = [text for source, schema in edition.sources
             for text in content.texts(source, schema)]
    if lang in layout.string_sources:
        texts += content.texts(layout.string_sources[lang])
    errors += fonts.check_coverage(layout, root, texts)
    context = make_context(edition, layout, layout.words(lang, root))
    html = None
    try:
        html = render_html(layout, dict(context, created=None,
                                        stylesheets=layout.spec['stylesheets']))
    except RenderError as exc:
        errors.append(_layout_error(layout, str(exc)))
    if html is not None:  # what the template made (amounts, spans); content is checked above
        errors += fonts.check_html(layout, root, html,
                                   known=''.join(text for _, _, text in texts))
        errors += _unprinted(layout, text_blocks(edition, layout), html)
    if 'presskit' in booklet.outputs and layout.spec['press_kit']:
        try:  # the release text's template, at its line, before anything is laid out
            render_markdown(layout, dict(context, created=None,
                                         stylesheets=layout.spec['stylesheets']))
        except RenderError as exc:
            errors.append(_layout_error(layout, str(exc)))
    if errors:
        raise SourceErrors(errors)
    return edition, context


def _unprinted(layout, blocks, html):
    """A declared printed text the template does not print: the preflight would
    fail it in the PDF; here it is said before rendering, at the declaration."""
    from .textcheck import find_block, words

    def visible(text):  # format characters (soft hyphens, joiners) draw nothing
        return ''.join(char for char in text if unicodedata.category(char) != 'Cf')

    shown = words(visible(fonts.html_text(html)))
    errors, reported = [], set()
    for label, text in blocks:
        name = re.split(r'[.\[]', label, maxsplit=1)[0]
        if name in reported or find_block(shown, words(visible(text))) >= 0:
            continue
        reported.add(name)
        kind = 'product' if name in layout.spec['product'] else 'edition'
        where = layout.declared_at.get((kind, name), (1, 1))
        errors.append(SourceError(
            f'layouts/{layout.name}/layout.yaml', *where, f'{kind}.{name}',
            f"{layout.spec['template']} does not print {label}: print it, or declare "
            'printed: false'))
    return errors


def booklet_problems(booklet, layout):
    """What ``booklet`` asks of ``layout`` that cannot be made: an imposed proof
    of a product that is no saddle-stitched booklet or has no sheet to go on.
    Errors at the booklet file's lines (every edition of it fails with them)."""
    from .imposition import proof_sheet

    errors = []
    if 'imposed' in booklet.outputs:
        at = booklet.output_error('imposed', '')
        asked = isinstance(booklet.source.data, dict) and 'outputs' in booklet.source.data
        pages = layout.spec['pages']
        why = None
        if pages % 4:
            why = (f'the {layout.name} layout makes {pages} page(s), not a saddle-stitched '
                   'booklet (a multiple of 4)')
        elif proof_sheet(booklet.width_mm, booklet.height_mm) is None:
            why = (f'no standard sheet holds a spread of two {booklet.width_mm:g} × '
                   f'{booklet.height_mm:g} mm pages')
        if why:
            fix = ('remove it' if asked else 'list the outputs it should make (outputs:) '
                   'without imposed')
            errors.append(SourceError(at.path, at.line, at.col, 'outputs',
                                      f'imposed cannot apply: {why}; {fix}'))
    errors += _presskit_problems(booklet, layout)
    return errors


def _presskit_problems(booklet, layout):
    """What keeps ``booklet`` from a press kit: a layout that declares no
    ``press_kit`` (no release text to make), or a booklet name that gives the
    kit's PDF the name of another output (``-print.pdf``)."""
    from .editions import output_of, output_paths

    if 'presskit' not in booklet.outputs:
        return []
    why = None
    if not layout.spec['press_kit']:
        why = (f'the {layout.name} layout declares no press_kit (the page its pictures '
               'show, the Markdown template of its release text)')
    else:
        # As the gallery tells outputs apart: by the end of their names.
        suffixes = {key: path.name.removeprefix('c-l')
                    for key, path in output_paths('', booklet, 'c/l').items()}
        kit_pdf = suffixes['presskit-pdf']
        clash = next((key for key, suffix in suffixes.items()
                      if output_of(key) != 'presskit' and kit_pdf.endswith(suffix)), None)
        if clash:
            why = (f"the booklet's name, {booklet.name}, would name its press-kit PDF "
                   f'(<country>-<lang>{kit_pdf}) like the {clash} output')
    if not why:
        return []
    at = booklet.output_error('presskit', '')
    asked = isinstance(booklet.source.data, dict) and 'outputs' in booklet.source.data
    fix = ('remove it' if asked else 'list the outputs it should make (outputs:) '
           'without presskit')
    if layout.spec['press_kit']:
        fix = f'rename booklets/{booklet.name}.yaml, or {fix}'
    return [SourceError(at.path, at.line, at.col, 'outputs',
                        f'presskit cannot apply: {why}; {fix}')]


def _layout_error(layout, message):
    """A :class:`SourceError` from a layout's ``file:line: …`` message."""
    where, _, rest = message.partition(': ')
    path, _, line = where.rpartition(':')
    if path and line.isdigit():
        return SourceError(path, int(line), 1, '', rest)
    return SourceError(f'layouts/{layout.name}/layout.yaml', 1, 1, '', message)


def make_context(edition, layout, words):
    """The values the layout's template sees for ``edition``, typeset for its language
    (see the layout guide, layouts/README.md)."""
    lang = edition.lang
    return {
        'lang': lang, 'edition_name': edition.name,
        'translation_of': edition.translation_of,
        'country': edition.country_data or {},
        'edition': typeset_declared(edition.data, layout, lang),
        'written': edition.data,
        'strings': typography.typeset_all(words, lang),
        'generator': f'bindery {__version__}',
    }


def typeset_declared(data, layout, lang):
    """``data`` with the typography of ``lang`` on its prose: text and paragraph
    fields, not codes, web addresses or e-mail addresses (an en dash in a URL
    would break it)."""
    def walk(value, spec):
        if isinstance(spec, Record) and isinstance(value, dict):
            return {key: walk(item, spec.fields.get(key)) for key, item in value.items()}
        if isinstance(spec, (ListOf, MapOf)) and isinstance(value, list):
            return [walk(item, spec.item) for item in value]
        if isinstance(spec, MapOf) and isinstance(value, dict):
            return {key: walk(item, spec.item) for key, item in value.items()}
        if type(spec) is Text and isinstance(value, str):
            return typography.typeset(value, lang)
        return value

    fields = {**layout.spec['edition'], **layout.spec['product']}
    return {key: walk(value, fields.get(key)) for key, value in data.items()}


def text_blocks(edition, layout):
    """The source text as labelled blocks, for the preflight's text check: every
    text the layout declares as printed, in each file it was written in."""
    found = []
    for kind in ('edition', 'product'):
        schema = layout.schema(kind)
        own = {name: edition.data.get(name) for name in layout.spec[kind]}
        found += content.blocks(own, schema)
    return found


def html_title(html):
    """The ``<title>`` of the edition's HTML, as text: its PDFs' and report's title."""
    match = re.search(r'<title[^>]*>(.*?)</title>', html, re.DOTALL | re.IGNORECASE)
    return ' '.join(unescape(match.group(1)).split()) if match else ''


def build_date(root):
    """When the edition was made, as ISO 8601 UTC, for the PDFs' dates and slug line.

    ``SOURCE_DATE_EPOCH`` when set (reproducible builds' convention); otherwise
    the time of the project's last commit, so that building one commit twice
    gives the same bytes; outside a git checkout, now.
    """
    epoch = os.environ.get('SOURCE_DATE_EPOCH')
    if epoch is None:
        try:
            epoch = subprocess.run(
                ['git', 'log', '-1', '--format=%ct'], cwd=root, capture_output=True,
                text=True, check=True, timeout=10).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            epoch = None
    moment = (datetime.fromtimestamp(int(epoch), timezone.utc) if epoch
              else datetime.now(timezone.utc))
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


@contextmanager
def _staged(paths, scratch=(), record=None):
    """Temporary files beside each final path, renamed into place only on success.

    Their names start with a dot, the final name and the builder's process id,
    so that a later build can tell the leftovers of a killed one (see
    :func:`editions.remove_leftovers`) from the files of a build running beside it.

    ``scratch`` names files the work needs but nobody asked for (the screen PDF
    of a cover, the print PDF of an imposition): they are deleted at the end.

    ``record``, the edition's set record (:func:`editions.record_path`), says
    ``replacing`` while the files are renamed one by one and ``complete`` once
    all are: a build stopped between two renames leaves a set the next build
    knows to redo.
    """
    staged = {}
    try:
        for name, path in paths.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=f'.{path.name}.{os.getpid()}.',
                                            dir=path.parent)
            os.close(handle)
            staged[name] = Path(temp)
        yield staged
        finals = {name: path for name, path in paths.items() if name not in scratch}
        if record is not None:
            editions.write_record(record, editions.REPLACING, finals)
        for name, temp in staged.items():
            if name not in scratch:
                temp.chmod(0o644)
                os.replace(temp, paths[name])
        if record is not None:
            editions.write_record(record, editions.COMPLETE, finals)
    finally:
        for temp in staged.values():
            temp.unlink(missing_ok=True)


def build_edition(root, booklet, layout, country, lang, out, copyfitted=None, trusted=False,
                  recheck=None):
    """Build every output of one edition; never raises for a user's mistake.

    ``copyfitted`` gives the copyfit scales of the last build, ``trusted`` when
    nothing the edition depends on has changed since (see :func:`copyfit.fit`).

    ``recheck``: of a translation whose outputs are there and whose own inputs
    are unchanged (only its original, or its fingerprints, changed), what its
    last build warned of its stale fields. If the warnings are the same, the
    outputs stand: the result is "up to date", and nothing is made.
    """
    started = time.perf_counter()
    name = f'{country}/{lang}'
    result = Result(booklet.name, name)
    paths = wanted_paths(out, booklet, name)
    failed_report = None
    try:
        edition, context = check_edition(root, booklet, layout, country, lang)
        # Out-of-date translations build, with a warning (an error under --strict).
        stale = [str(w) for w in translate.stale_fields(root, edition, layout)]
        result.warnings += stale
        if edition.translation_of:
            result.translation = stale
        if recheck is not None and stale == recheck and editions.is_complete(out, booklet,
                                                                               name):
            kept = editions.up_to_date(booklet, country, lang, out)
            kept.translation, kept.seconds = stale, time.perf_counter() - started
            return kept
        _render(root, booklet, layout, edition, context, paths, result,
                (copyfitted, trusted), editions.record_path(out, booklet, name))
    except SourceErrors as exc:
        result.errors += [str(error) for error in exc.errors]
    except _PreflightFailed as exc:
        failed_report = exc.report  # the report says why; it is not a partial output
    except BookletError as exc:
        result.errors.append(f'{name}: {exc}')
    except OSError as exc:
        message = editions.write_fault(exc, Path(out, booklet.name))
        if message is None:
            raise
        result.errors.append(f'{name}: {message}')
    if not result.ok:
        kept = editions.keep_last_good(out, booklet, name, result.errors, failed_report)
        result.stale = bool(kept)
        result.files = {key: str(path) for key, path in kept.items()}
    result.seconds = time.perf_counter() - started
    return result


def preview_edition(root, booklet, layout, country, lang, folder, scales=None):
    """Lay ``edition`` out once, as its screen PDF shows it, and draw its pages as
    PNGs in ``folder``: what ``serve`` shows while the outputs are still being
    made. Returns ``(sizes, errors)``: each picture's size in pixels, and the
    problems that kept it from being drawn (content errors, a layout error).

    One layout, at the copyfit ``scales`` of the last build (no search) and
    without printer's marks, finishing or preflight: the build that follows
    makes the outputs and redraws the pages from the screen PDF.
    """
    from . import pdf, previews
    from .fetcher import ProjectFetcher

    name = f'{country}/{lang}'
    try:
        edition, context = check_edition(root, booklet, layout, country, lang)
        context = dict(context, created=build_date(root),
                       stylesheets=layout.spec['stylesheets'])
        html = render_html(layout, context)
        font_css = fonts.font_face_css(layout, root)
        renderer = pdf.Renderer(html, layout.folder.resolve().as_uri() + '/',
                                ProjectFetcher([layout.folder, Path(root, 'fonts')], root),
                                font_css)
        document, _ = renderer.render([font_css, layout.colors_css('rgb'),
                                       pdf.page_css(booklet, bleed=False),
                                       copyfit.css(scales or {})])
        if layout.spec['justify_max_mm']:
            pdf.justify(document, layout.spec['justify_max_mm'])  # moves boxes, or not
        return previews.draw_pages(document.write_pdf(), folder), []
    except SourceErrors as exc:
        return [], [str(error) for error in exc.errors]
    except BookletError as exc:
        return [], [f'{name}: {exc}']


def _render(root, booklet, layout, edition, context, paths, result, copyfitted,
            record):
    # The rendering stages import WeasyPrint, pikepdf and PDFium: imported here so
    # that `check` and a build with nothing to do never load them.
    from . import handoff, imposition, pdf, preflight, previews
    from .fetcher import ProjectFetcher

    fetcher = ProjectFetcher([layout.folder, Path(root, 'fonts')], root)
    created = build_date(root)
    context = dict(context, created=created, stylesheets=layout.spec['stylesheets'])
    html = render_html(layout, context)
    base_url = layout.folder.resolve().as_uri() + '/'
    font_css = fonts.font_face_css(layout, root)
    blocks = text_blocks(edition, layout)
    title = html_title(html)
    identifier = hashlib.md5(f'{booklet.name}/{edition.name}'.encode()).hexdigest().encode()
    finder = Finder(layout, root)  # where in the layout's files a failure was asked for
    renderer = pdf.Renderer(html, base_url, fetcher, font_css, finder)
    extra_css = []

    # One layout makes both PDFs: CMYK with bleed, as print needs; the screen
    # PDF is recoloured and trimmed after it is written (see screen.py).
    def lay_out(scales):
        sheets = [font_css, layout.colors_css('cmyk'), pdf.page_css(booklet),
                  copyfit.css(scales), *extra_css]
        document, warnings = renderer.render(sheets)
        result.warnings += [f'{edition.name}: {w}' for w in warnings]
        return document, pdf.check_placement(document, layout.spec['pages'],
                                             layout.spec['watch'])

    # What has to be made: the outputs asked for, and the PDFs they are made from.
    needed = dict(paths)
    scratch = set()
    if 'presskit-pdf' in paths and 'screen' not in needed:  # the press kit is made from it
        needed['screen'] = paths['presskit-pdf'].with_name('screen-for-presskit.pdf')
        scratch.add('screen')
    for output, source in (('cover', 'screen'), ('imposed', 'print'), ('handoff', 'print'),
                           ('handoff', 'screen'), ('handoff', 'preflight')):
        if output in paths and source not in needed:
            suffix = '.json' if source == 'preflight' else '.pdf'
            needed[source] = paths[output].with_name(f'{source}-for-{output}{suffix}')
            scratch.add(source)
    pdf_outputs = [name for name in pdf.OUTPUTS if name in needed]
    if not pdf_outputs:
        with _staged(paths, (), record) as staged:
            _write_report(staged, {}, edition, booklet, result, title)
        result.files = {key: str(path) for key, path in paths.items()}
        result.ok = True
        return

    scales, (document, problems) = copyfit.fit(
        lay_out, copyfit.targets(layout.spec['copyfit']), *copyfitted)
    result.copyfit = {name: str(scale) for name, scale in scales.items()}
    for name, scale in scales.items():
        result.notes.append(f'{edition.name}: copyfit {name} at {scale.normalize()} × '
                            'the layout\'s sizes')
    limit = layout.spec['justify_max_mm']
    if limit and not problems:
        css, moved = pdf.justify(document, limit)
        if css:
            extra_css.append(css)
        if moved:
            problems = pdf.check_placement(document, layout.spec['pages'],
                                           layout.spec['watch'])
        else:
            document, problems = lay_out(scales)
    if problems:
        raise RenderError('; '.join(problem.message for problem in problems))
    result.pages = len(document.pages)

    job = pdf.Job(title=title,
                  lang=edition.lang, created=created, bleed_mm=booklet.bleed_mm,
                  slug=f'{booklet.name} · {edition.name} · print · {created[:10]} · '
                       'page {page}/{pages}',
                  slug_font=Path(root, 'fonts', layout.slug_font),
                  screen_colors=layout.screen_colors())
    findings = {}
    with _staged(needed, scratch, record) as staged:
        first, *others = pdf_outputs
        warnings = pdf.write_pdf(document, staged[first], identifier, fetcher, finder)
        result.warnings += [f'{edition.name}: {w}' for w in warnings]
        for output in others:
            shutil.copyfile(staged[first], staged[output])
        for output in pdf_outputs:
            pdf.OUTPUTS[output](staged[output], job)
            findings[output] = preflight.preflight(
                staged[output], output, booklet, layout, root, edition.lang, blocks)
        # No language is printed without a word about its hyphenation.
        hyphen, warning = preflight.hyphenation_report(staged[first], edition.lang)
        if warning:
            result.warnings.append(f'{edition.name}: {warning}')
        if 'imposed' in staged:
            sheet = imposition.proof_sheet(booklet.width_mm, booklet.height_mm)[1]
            imposition.impose_file(staged['print'], staged['imposed'], sheet)
            findings['imposed'] = preflight.preflight_imposed(
                staged['imposed'], result.pages, layout, root, sheet)
        if 'cover' in staged:
            previews.cover_png(staged['screen'], staged['cover'])
        if 'presskit-pdf' in staged:
            from .presskit import make_kit

            make_kit(staged, staged['screen'], layout, render_markdown(layout, context))
        _write_report(staged, findings, edition, booklet, result, title, hyphen)
        if 'handoff' in staged:
            handoff.make_bundle(
                staged['handoff'], name=edition.name, html=html,
                pdfs={'print': staged['print'], 'screen': staged['screen']},
                stylesheets={'fonts.css': font_css, 'colors.css': layout.colors_css('cmyk'),
                             'page.css': pdf.page_css(booklet),
                             'copyfit.css': copyfit.css(scales),
                             **({'justify.css': extra_css[0]} if extra_css else {})},
                layout_folder=layout.folder,
                font_files=list(dict.fromkeys(face['file'] for face in layout.spec['fonts'])),
                content_files=[Path(source.path) if Path(source.path).is_absolute()
                               else Path(root, source.path) for source, _ in edition.sources]
                + [path for path in [layout.folder / 'strings' / f'{edition.lang}.yaml']
                   if layout.spec['strings']],  # a layout without words has no such file
                preflight=staged['preflight'], root=root)
    result.files = {key: str(path) for key, path in paths.items()}
    result.ok = True


def _write_report(staged, findings, edition, booklet, result, title='', hyphen=None):
    """Write the preflight report; raise :class:`_PreflightFailed` if a check failed."""
    from . import preflight

    report = preflight.report(findings)
    report.update(edition=edition.name, booklet=booklet.name, title=title,
                  pages=result.pages, notes=result.notes, hyphenation=hyphen,
                  warnings=result.warnings)
    if not report['ok']:
        result.errors += [
            f'{edition.name} {output}: preflight {f.check}: '
            + (f'page {f.page}: ' if f.page else '') + f.message
            for output, items in findings.items() for f in items if not f.ok]
        raise _PreflightFailed(report)
    if 'preflight' in staged:
        staged['preflight'].write_text(
            json.dumps(report, ensure_ascii=False, indent=2) + '\n', encoding='utf-8')


class _PreflightFailed(BookletError):
    """Preflight found problems; they are already in the result."""

    def __init__(self, report):
        super().__init__('preflight failed')
        self.report = report

