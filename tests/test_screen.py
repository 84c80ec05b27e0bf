"""The screen PDF is written from the print layout: RGB, trimmed, and broken into
lines exactly as the print PDF is."""

import subprocess

import pikepdf
import pytest
import yaml
from PIL import Image

from conftest import ROOT, output_paths

CSS = 'layouts/nine-facts/booklet.css'
LAYOUT = 'layouts/nine-facts/layout.yaml'
#: The declared screen colours of the shipped layout, read independently of bindery.
NAVY, AMBER, PAPER = (0x1b, 0x2d, 0x5b), (0xf6, 0xaa, 0x1c), (0xff, 0xff, 0xff)


def chosen_spaces(pdf):
    """Every colour space a content stream of ``pdf`` selects, and the CMYK operators."""
    found = set()

    def walk(owner, resources, seen):
        named = resources.get('/ColorSpace', {})
        for operands, operator in pikepdf.parse_content_stream(owner):
            op = str(operator)
            if op in ('cs', 'CS'):
                space = named.get(str(operands[0]), operands[0])
                found.add(str(space[0] if isinstance(space, pikepdf.Array) else space))
            elif op in ('k', 'K'):
                found.add(f'{op} operator')
        for xobject in resources.get('/XObject', {}).values():
            if xobject.get('/Subtype') == '/Form' and xobject.objgen not in seen:
                seen.add(xobject.objgen)
                walk(xobject, xobject.get('/Resources', resources), seen)

    for page in pdf.pages:
        walk(page, page.resources, set())
    return found


def dominant_colours(pdf_path, page, share=0.01):
    """The colours covering at least ``share`` of a page as poppler renders it."""
    prefix = pdf_path.with_name(f'{pdf_path.stem}-poppler-{page}')
    subprocess.run(['pdftoppm', '-png', '-r', '40', '-f', str(page), '-l', str(page),
                    '-singlefile', str(pdf_path), str(prefix)], check=True)
    with Image.open(f'{prefix}.png') as image:
        pixels = image.convert('RGB')
        counts = pixels.getcolors(pixels.width * pixels.height)
        return {rgb for count, rgb in counts if count >= share * pixels.width * pixels.height}


def close_to(colour, wanted, tolerance=2):
    return all(abs(a - b) <= tolerance for a, b in zip(colour, wanted))


def test_screen_has_no_cmyk(edition):
    with pikepdf.open(edition.screen) as pdf:
        spaces = chosen_spaces(pdf)
    assert '/DeviceRGB' in spaces and not spaces & {
        '/DeviceCMYK', 'k operator', 'K operator'}, spaces


def test_screen_shows_the_declared_rgb(edition):
    """The cover as poppler draws it: the layout's navy and amber, nothing else."""
    colours = dominant_colours(edition.screen, 1)
    assert any(close_to(c, NAVY) for c in colours), colours
    assert any(close_to(c, AMBER) for c in colours), colours
    assert all(any(close_to(c, want) for want in (NAVY, AMBER, PAPER)) for c in colours), colours


def _page_text(path, media_origin_pt):
    """poppler's layout text of each page, cropped to the trim."""
    x = y = round(media_origin_pt)
    done = subprocess.run(['pdftotext', '-layout', '-enc', 'UTF-8', '-r', '72', '-x', str(x),
                           '-y', str(y), '-W', '420', '-H', '595', str(path), '-'],
                          capture_output=True, check=True)
    return done.stdout.decode('utf-8').split('\f')


def test_screen_breaks_lines_as_print_does(edition):
    """One layout makes both PDFs: the same words on the same lines of the same pages."""
    with pikepdf.open(edition.print) as pdf:
        origin = -float(pdf.pages[0].mediabox[0])  # the trim's corner in the MediaBox
    assert _page_text(edition.print, origin) == _page_text(edition.screen, 0)


@pytest.fixture(scope='module')
def recoloured(tmp_path_factory):
    """An edition whose layout uses a CMYK colour it never declared, and draws a
    heading through a transparency group (a Form XObject)."""
    from conftest import FixtureProject

    temp = tmp_path_factory.mktemp('recoloured')
    project = FixtureProject(temp / 'project')
    project.write(CSS, project.read(CSS) + (
        '\n.intro-title { opacity: 0.9; }\n'
        '.intro p { color: device-cmyk(0 0 0 0.5); }\n'))
    out = temp / 'out'
    run = project.run('--out', out, 'kazakhstan/kk')
    assert run.returncode == 0, str(run)
    return output_paths(out, 'kazakhstan', 'kk')


def test_groups_and_undeclared_cmyk_become_rgb(recoloured):
    with pikepdf.open(recoloured['print']) as pdf:
        forms = [x for x in pdf.pages[1].resources.get('/XObject', {}).values()
                 if x.get('/Subtype') == '/Form']
        assert forms and '/DeviceCMYK' in chosen_spaces(pdf)
    with pikepdf.open(recoloured['screen']) as pdf:
        spaces = chosen_spaces(pdf)
    assert not spaces & {'/DeviceCMYK', 'k operator', 'K operator'}, spaces


def test_undeclared_cmyk_goes_through_the_print_profile(recoloured):
    """50% K, which the layout never declared, becomes the neutral grey the print
    profile says it prints as: lighter than a naive 50% grey (press dot gain is
    in the profile), and neither black nor white."""
    colors = yaml.safe_load((ROOT / LAYOUT).read_text(encoding='utf-8'))['colors']
    declared = {tuple(round(int(c['rgb'][i:i + 2], 16) / 255, 3) for i in (1, 3, 5))
                for c in colors.values()}
    with pikepdf.open(recoloured['screen']) as pdf:
        greys = {tuple(round(float(v), 3) for v in operands)
                 for operands, operator in pikepdf.parse_content_stream(pdf.pages[1])
                 if str(operator) in ('rg', 'scn') and len(operands) == 3} - declared
    greys = {grey for grey in greys if max(grey) - min(grey) < 0.02}
    assert greys and all(0.52 < grey[0] < 0.7 for grey in greys), greys


def _page_pdf(path, content, resources=None):
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(100, 100))
    page.obj.Contents = pdf.make_stream(content)
    if resources:
        page.obj.Resources = pdf.make_indirect(pikepdf.Dictionary(resources))
    pdf.save(path)
    return path


def test_screen_preflight_fails_on_cmyk_the_recolouring_leaves(tmp_path):
    """A CMYK operator is recoloured (then the check passes); a CMYK shading is not
    rewritten, and the check says so."""
    from bindery import pdfx, preflight, screen

    drawn = _page_pdf(tmp_path / 'k.pdf', b'0 0 0 1 k 0 0 10 10 re f')
    with pikepdf.open(drawn) as pdf:
        assert not preflight.check_screen_colour(pdf)[0].ok
    screen.finish(drawn, {(0.0, 0.0, 0.0, 1.0): (0.1, 0.1, 0.1)}, pdfx.PROFILE)
    with pikepdf.open(drawn) as pdf:
        assert preflight.check_screen_colour(pdf)[0].ok

    shading = pikepdf.Dictionary(ShadingType=2, ColorSpace=pikepdf.Name.DeviceCMYK,
                                 Coords=[0, 0, 100, 0], Function=pikepdf.Dictionary(
                                     FunctionType=2, Domain=[0, 1], N=1,
                                     C0=[0, 0, 0, 0], C1=[1, 0, 0, 0]))
    shaded = _page_pdf(tmp_path / 'sh.pdf', b'/Sh0 sh',
                       {'/Shading': pikepdf.Dictionary(Sh0=shading)})
    screen.finish(shaded, {}, pdfx.PROFILE)
    with pikepdf.open(shaded) as pdf:
        finding = preflight.check_screen_colour(pdf)[0]
    assert not finding.ok and 'CMYK shading' in finding.message
