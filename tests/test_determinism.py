"""The same input gives byte-identical PDFs (SOURCE_DATE_EPOCH fixed).

The second build goes to another folder, so the output path may not leak into
the files either. It makes only the two editions compared (the first made
every edition of the booklet): what an edition's worker built before it may
not change its bytes.
"""

from datetime import datetime, timezone

import pikepdf
import pytest

from conftest import BOOKLET, EDITIONS, EPOCH, build_into


@pytest.fixture(scope='module')
def rebuilt(tmp_path_factory):
    return build_into(tmp_path_factory.mktemp('rebuild'), targets=[
        f'{BOOKLET}/{country}/{lang}' for lang, (country, _) in EDITIONS.items()])


@pytest.mark.parametrize('output', ['print', 'screen'])
def test_two_builds_are_byte_identical(built, rebuilt, edition, output):
    first = edition.pdf(output).read_bytes()
    second = rebuilt[edition.lang].pdf(output).read_bytes()
    assert first == second, f'{edition.lang} {output}: {_difference(first, second)}'


def _difference(a, b):
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f'{len(a)} vs {len(b)} bytes, first difference at byte {at}: {a[at:at + 40]!r}'


def test_cover_images_are_identical(built, rebuilt, edition):
    assert edition.cover.read_bytes() == rebuilt[edition.lang].cover.read_bytes()


def test_dates_come_from_source_date_epoch(edition):
    expected = datetime.fromtimestamp(EPOCH, timezone.utc).strftime('D:%Y%m%d%H%M%S')
    for output in ('print', 'screen'):
        with pikepdf.open(edition.pdf(output)) as pdf:
            for key in ('/CreationDate', '/ModDate'):
                if key in pdf.docinfo:
                    assert str(pdf.docinfo[key]).startswith(expected), (
                        f'{output} {key} {pdf.docinfo[key]} is not the epoch {expected}')
