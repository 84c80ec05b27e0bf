"""Turn a PDF laid out for print into the screen's: colours in RGB, pages trimmed.

The screen PDF is written from the very layout the print PDF comes from, so
the two can never differ in a line break. What differs is done here, on the
written file: every CMYK colour operator of the page content (pages, Form
XObjects, tiling patterns; transparency groups blend in RGB) becomes the RGB
the layout declares for it, or, for a CMYK colour the layout does not declare,
its conversion from the print profile (FOGRA39) to sRGB by Little CMS; and
each page is cut to its TrimBox. Pictures are left as they are: PDF readers
show CMYK pictures. What is not rewritten (a CMYK shading, as WeasyPrint makes
with an ``@color-profile device-cmyk`` rule) the screen preflight reports.
Last, the file is made PDF/UA-1 (see :mod:`bindery.pdfua`): margin furniture
marked as artifacts, XMP identification.
"""

from decimal import Decimal
from functools import lru_cache

import pikepdf
from pikepdf import Name

from . import pdfua

#: Save options for the screen PDF: reproducible, compact.
SAVE_OPTIONS = {'min_version': '1.7', 'deterministic_id': True,
                'object_stream_mode': pikepdf.ObjectStreamMode.generate}

_FILL = {'k': 'rg', 'K': 'RG'}
_SET_SPACE = {'cs': 'fill', 'CS': 'stroke'}
_SET_COLOUR = {'sc': 'fill', 'scn': 'fill', 'SC': 'stroke', 'SCN': 'stroke'}


def finish(path, colors, profile):
    """Recolour and trim the PDF at ``path`` in place, and make it PDF/UA-1.

    ``colors`` maps CMYK (four fractions, as the layout declares them) to RGB
    (three fractions); ``profile`` is the print profile for any other CMYK.
    """
    convert = _Converter(colors, profile)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        done, parsed = set(), {}
        for page in pdf.pages:
            _recolour_stream(pdf, page, page.resources, convert, done, parsed)
            trim = page.obj.get('/TrimBox', page.mediabox)
            for box in ('/MediaBox', '/TrimBox', '/BleedBox'):
                page.obj[box] = pikepdf.Array(trim)
            if '/CropBox' in page.obj:
                del page.obj.CropBox
        pdfua.make_pdfua(pdf, parsed)
        pdf.save(path, **SAVE_OPTIONS)


class _Converter:
    """CMYK fractions to RGB fractions: the layout's table, else Little CMS."""

    def __init__(self, colors, profile):
        self.table = {_key(cmyk): rgb for cmyk, rgb in colors.items()}
        self.profile = str(profile)

    def __call__(self, cmyk):
        rgb = self.table.get(_key(cmyk))
        return rgb if rgb is not None else _icc_rgb(self.profile, _key(cmyk))


def _key(cmyk):
    return tuple(round(float(value), 4) for value in cmyk)


@lru_cache(maxsize=None)
def _transform(profile):
    from PIL import ImageCms

    return ImageCms.buildTransform(
        ImageCms.getOpenProfile(profile), ImageCms.createProfile('sRGB'), 'CMYK', 'RGB',
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)


@lru_cache(maxsize=None)
def _icc_rgb(profile, cmyk):
    from PIL import Image, ImageCms

    pixel = Image.new('CMYK', (1, 1), tuple(round(value * 255) for value in cmyk))
    rgb = ImageCms.applyTransform(pixel, _transform(profile)).getpixel((0, 0))
    return tuple(value / 255 for value in rgb)


def _is_cmyk(space, resources):
    """Whether the colour space named by operand ``space`` is DeviceCMYK."""
    if space == Name.DeviceCMYK:
        return True
    named = resources.get('/ColorSpace', {}).get(str(space)) if resources else None
    return named == Name.DeviceCMYK


def _numbers(values):
    return [Decimal(f'{value:.6f}').normalize() for value in values]


def _recolour_stream(pdf, owner, resources, convert, done, parsed):
    """Rewrite the colour operators of a page or Form XObject, and of what it draws;
    keep what each now holds, parsed, in ``parsed`` (by object id) for the next step."""
    if isinstance(owner, pikepdf.Stream):
        if owner.objgen in done:
            return
        done.add(owner.objgen)
    out, spaces, stack = [], {'fill': False, 'stroke': False}, []
    for operands, operator in pikepdf.parse_content_stream(owner):
        op = str(operator)
        if op == 'q':
            stack.append(dict(spaces))
        elif op == 'Q' and stack:
            spaces = stack.pop()
        elif op in _FILL:
            operands, operator = _numbers(convert(operands)), pikepdf.Operator(_FILL[op])
        elif op in _SET_SPACE:
            cmyk = _is_cmyk(operands[0], resources)
            spaces[_SET_SPACE[op]] = cmyk
            if cmyk:
                operands = [Name.DeviceRGB]
        elif op in _SET_COLOUR and spaces[_SET_COLOUR[op]] and len(operands) == 4:
            operands = _numbers(convert(operands))
        out.append((operands, operator))
    parsed[(owner.obj if isinstance(owner, pikepdf.Page) else owner).objgen] = out
    data = pikepdf.unparse_content_stream(out)
    group = owner.obj.get('/Group') if isinstance(owner, pikepdf.Page) else owner.get('/Group')
    if group is not None and group.get('/CS') == Name.DeviceCMYK:  # blend in RGB too
        group.CS = Name.DeviceRGB
    if isinstance(owner, pikepdf.Stream):
        owner.write(data)
    else:
        owner.obj.Contents = pdf.make_stream(data)
    _recolour_resources(pdf, resources, convert, done, parsed)


def _recolour_resources(pdf, resources, convert, done, parsed):
    for xobject in resources.get('/XObject', {}).values():
        if xobject.get('/Subtype') == Name.Form:
            _recolour_stream(pdf, xobject, xobject.get('/Resources', resources), convert, done,
                             parsed)
    for pattern in resources.get('/Pattern', {}).values():
        if isinstance(pattern, pikepdf.Stream):  # a tiling pattern draws like a form
            _recolour_stream(pdf, pattern, pattern.get('/Resources', {}), convert, done,
                             parsed)
