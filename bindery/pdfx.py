"""Finish a print PDF as PDF/X-4: output intent, XMP identification, trapping key."""

import hashlib
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

from pikepdf import Array, Dictionary, Name, String
from pikepdf.models.metadata import DOCINFO_MAPPING

#: The CMYK profile of the printing condition the print PDF is made for.
PROFILE = Path(__file__).resolve().parent.parent / 'profiles' / 'FOGRA39-bindery.icc'

#: How the output intent names that condition. The identifier is the one in the
#: ICC's registry of characterisation data, so a RIP that knows FOGRA39 can use
#: its own copy of the profile; the embedded one is there for the others.
CONDITION = {
    'identifier': 'FOGRA39',
    'registry': 'http://www.color.org',
    'info': 'Coated FOGRA39 (ISO 12647-2:2004/Amd 1)',
    'condition': 'Offset printing, ISO 12647-2:2004/Amd 1, paper type 1 or 2 (coated), '
                 '115 g/m2, tone value increase curves A (CMY) and B (K)',
}

#: Options for ``Pdf.save`` of a finished file. PDF/X-4 is built on PDF 1.6,
#: and a header can only be raised when saving; an ID made from the content
#: keeps the bytes reproducible.
SAVE_OPTIONS = {'min_version': '1.6', 'deterministic_id': True}

_VERSION = (1, 6)
_TOLERANCE = 0.01  # pt; box coordinates go through decimal text and back


def make_pdfx4(pdf, profile_path, title, lang, created):
    """Make ``pdf`` (a :class:`pikepdf.Pdf`, changed in place) a PDF/X-4 file.

    Adds one ``/GTS_PDFX`` output intent embedding the CMYK profile at
    ``profile_path``, XMP metadata declaring PDF/X-4 with ``title``, ``lang``
    and the dates, ``/Trapped /False``, and the TrimBox and BleedBox of pages
    that lack them. ``created`` is an ISO 8601 date or date-time; when it is
    None the time comes from ``SOURCE_DATE_EPOCH`` if set, else the dates
    already in the file are kept (and only a file without any gets the
    current time). Save with :data:`SAVE_OPTIONS`.

    Raises :class:`ValueError` for a profile that is not a CMYK output
    profile and for pages whose boxes do not nest (trim in bleed in media).
    """
    profile = Path(profile_path).read_bytes()
    _check_profile(profile, profile_path)
    _complete_boxes(pdf)
    _set_output_intent(pdf, profile)
    moment = _moment(created)
    _set_metadata(pdf, title, lang, moment)
    # The Info dictionary has no XMP twin for /Trapped that pikepdf syncs, so it
    # is set here. False: nothing was trapped, the RIP may do it.
    pdf.docinfo[Name.Trapped] = Name('/False')
    pdf.Root.Lang = String(lang)
    declared = str(pdf.Root.get(Name.Version, '/1.0')).lstrip('/')
    if max(_version(pdf.pdf_version), _version(declared)) < _VERSION:
        # The header is written by save(); the catalog's /Version (PDF 1.4)
        # already tells readers of this object which version the file uses.
        pdf.Root.Version = Name('/%d.%d' % _VERSION)


def _check_profile(profile, path):
    """Refuse anything but an ICC output (``prtr``) profile for CMYK."""
    if len(profile) < 128 or profile[36:40] != b'acsp':
        raise ValueError(f'{path}: not an ICC profile')
    device_class, space, pcs = profile[12:16], profile[16:20], profile[20:24]
    if device_class != b'prtr' or space != b'CMYK' or pcs not in (b'Lab ', b'XYZ '):
        raise ValueError(
            f'{path}: the output intent needs a CMYK output profile, this is a '
            f'{device_class.decode("latin-1")!r} profile for '
            f'{space.decode("latin-1").strip()!r}')


def _set_output_intent(pdf, profile):
    """Replace any output intents with one for PDF/X.

    Replacing, not adding, means a file finished twice still holds one copy
    of the profile: the old stream is no longer referenced, so not saved.
    """
    stream = pdf.make_stream(profile, N=4)
    intent = Dictionary(
        Type=Name.OutputIntent, S=Name.GTS_PDFX,
        OutputConditionIdentifier=String(CONDITION['identifier']),
        OutputCondition=String(CONDITION['condition']),
        RegistryName=String(CONDITION['registry']),
        Info=String(CONDITION['info']),
        DestOutputProfile=stream)
    pdf.Root.OutputIntents = Array([pdf.make_indirect(intent)])


def _complete_boxes(pdf):
    """Give every page an explicit TrimBox and BleedBox, and check that they nest.

    A missing box defaults to the CropBox (itself defaulting to the MediaBox),
    as the PDF reference says; PDF/X wants them written out.
    """
    for number, page in enumerate(pdf.pages, 1):
        for name in (Name.TrimBox, Name.BleedBox):
            if name not in page.obj:
                page.obj[name] = Array(page.cropbox)
        # pikepdf's boxes follow inheritance: a MediaBox may sit on a parent.
        media, bleed, trim = (_box(box) for box in (page.mediabox, page.bleedbox, page.trimbox))
        if not _inside(trim, bleed) or not _inside(bleed, media):
            raise ValueError(
                f'page {number}: the TrimBox {trim} must lie inside the BleedBox {bleed}, '
                f'and that inside the MediaBox {media}')


def _box(array):
    x0, y0, x1, y1 = (float(value) for value in array)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _inside(inner, outer):
    return (inner[0] >= outer[0] - _TOLERANCE and inner[1] >= outer[1] - _TOLERANCE
            and inner[2] <= outer[2] + _TOLERANCE and inner[3] <= outer[3] + _TOLERANCE)


def _moment(created):
    """The creation time to write, or None to keep what the file has."""
    if created is not None:
        moment = datetime.fromisoformat(created)
    elif os.environ.get('SOURCE_DATE_EPOCH'):
        moment = datetime.fromtimestamp(int(os.environ['SOURCE_DATE_EPOCH']), timezone.utc)
    else:
        return None
    if moment.tzinfo is None:  # a bare date or time is taken as UTC, not local time
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def _set_metadata(pdf, title, lang, moment):
    """Write the XMP packet PDF/X-4 requires, in step with the Info dictionary."""
    # Only the Info entries XMP has a twin for: the others (such as /Trapped)
    # would each raise a warning and be dropped anyway.
    twins = {str(mapping.name) for mapping in DOCINFO_MAPPING}
    info = {key: value for key, value in pdf.docinfo.items() if key in twins}
    # set_pikepdf_as_editor=False: otherwise pikepdf stamps the current time
    # and its own name into the packet, and no two builds would be identical.
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta.load_from_docinfo(info)
        meta['dc:title'] = title
        meta['dc:language'] = [lang]
        meta['pdf:Trapped'] = 'False'
        meta['pdfxid:GTS_PDFXVersion'] = 'PDF/X-4'
        if moment is None and 'xmp:CreateDate' not in meta:
            # PDF/X-4 requires the dates; a file that has none gets today's.
            moment = datetime.now(timezone.utc).replace(microsecond=0)
        if moment is not None:
            meta['xmp:CreateDate'] = moment
            meta['xmp:ModifyDate'] = moment
        elif 'xmp:ModifyDate' not in meta:
            meta['xmp:ModifyDate'] = meta['xmp:CreateDate']
        meta['xmp:MetadataDate'] = meta['xmp:ModifyDate']
        # PDF/X-4 asks for a document ID, a version and a rendition class. The
        # ID is derived, not random, so that the same input gives the same file.
        meta['xmpMM:DocumentID'] = f'uuid:{_document_uuid(pdf, title)}'
        meta['xmpMM:VersionID'] = '1'
        meta['xmpMM:RenditionClass'] = 'default'


def _document_uuid(pdf, title):
    """A UUID from the file's first ID (set by the writer from the edition), else the title."""
    ids = pdf.trailer.get(Name.ID)
    seed = bytes(ids[0]) if ids is not None and len(ids) else title.encode()
    return uuid.UUID(bytes=hashlib.md5(seed).digest(), version=4)


def _version(text):
    return tuple(int(part) for part in str(text).split('.')[:2])
