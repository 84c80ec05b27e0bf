"""Read ``booklets/<name>.yaml``: the product's layout, trim, bleed, editions and outputs."""

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from . import yamlsource
from .errors import SourceErrors
from .schema import Field, ListOf, Pattern, Record, Text, validate

#: Every output an edition can be made in, in the order they are made.
OUTPUTS = ('print', 'screen', 'imposed', 'cover', 'presskit', 'handoff', 'preflight')


class Length(Field):
    """A length in millimetres, written with its unit: ``148mm``."""

    def __init__(self, doc, positive=True, **kwargs):
        super().__init__(doc, **kwargs)
        self.positive = positive

    def check(self, source, path, value, errors):
        match = isinstance(value, str) and re.fullmatch(r'([0-9]+(?:\.[0-9]+)?)mm', value)
        if not match:
            errors.append(source.error(path, 'expected a length in mm, e.g. 148mm'))
            return None
        length = Decimal(match.group(1))
        if length > 10000 or (self.positive and not length):
            errors.append(source.error(path, f'{value} cannot be printed: give a length '
                                             'between 0mm and 10000mm'))
            return None
        return length


BOOKLET = Record('A booklet file: booklets/<name>.yaml.', {
    'title': Text('What the booklet is, for people.', max_length=120),
    'layout': Pattern('The layout folder under layouts/.', r'[a-z0-9-]+',
                      'a layout name (a-z, 0-9 and -)'),
    'trim': Record('The trimmed page size.', {
        'width': Length('Trimmed width.'), 'height': Length('Trimmed height.')}),
    'bleed': Length('How far backgrounds run past the trim on every side.', positive=False),
    'editions': ListOf(
        'The editions to make, as <country>/<lang>, or <country>/* for every language of '
        'a content set the booklet keeps to itself; every edition in data/ if absent.',
        Pattern('An edition.', r'[a-z0-9-]+/([a-z]{2,3}|\*)',
                'an edition like kyrgyzstan/ky, or specimen/*'),
        required=False, default=None),
    'outputs': ListOf(
        f'The outputs to make ({", ".join(OUTPUTS)}); all of them if absent.',
        Pattern('An output.', '|'.join(OUTPUTS), f'one of {", ".join(OUTPUTS)}'),
        required=False, default=list(OUTPUTS)),
})


@dataclass
class Booklet:
    """A product: which layout, which page size, which editions, which outputs."""

    name: str
    title: str
    layout: str
    width_mm: Decimal
    height_mm: Decimal
    bleed_mm: Decimal
    editions: list  # of (country, lang)
    outputs: list
    path: Path
    source: object = None  # the booklet file, for messages at its lines

    def output_error(self, output, message):
        """A :class:`SourceError` at the place the booklet asks for ``output`` (its
        ``outputs:`` item, or the top of the file when it asks for all of them)."""
        written = self.source.data.get('outputs') if isinstance(self.source.data, dict) else None
        if isinstance(written, list) and output in written:
            return self.source.error(('outputs', written.index(output)), message,
                                     field='outputs')
        return self.source.error(('layout',), message, field='outputs')


def list_editions(root):
    """Every (country, lang) that has a language file in ``data/``, sorted."""
    return sorted((path.parent.name, path.stem)
                  for path in Path(root, 'data').glob('*/*.yaml')
                  if path.name != 'country.yaml')


def own_countries(root):
    """The content sets (``data/<name>/``) a booklet keeps to itself by listing
    ``<name>/*`` in its ``editions``: booklets that list no editions skip them
    (the specimen's languages are no country's editions of the nine facts)."""
    owned = set()
    for path in sorted(Path(root, 'booklets').glob('*.yaml')):
        try:
            data = yamlsource.load(path, root).data
        except SourceErrors:
            continue
        editions = data.get('editions') if isinstance(data, dict) else None
        owned |= {item[:-2] for item in editions or []
                  if isinstance(item, str) and item.endswith('/*')}
    return owned


def load_booklet(root, path):
    """Load and check one booklet file; raise :class:`SourceErrors`."""
    source = yamlsource.load(path, root)
    errors = []
    data = validate(BOOKLET, source, errors)
    if errors:
        raise SourceErrors(errors)
    if not Path(root, 'layouts', data['layout'], 'layout.yaml').is_file():
        errors.append(source.error(('layout',), f"no layout '{data['layout']}' in layouts/"))
    available = list_editions(root)
    owned = own_countries(root)
    editions = [(country, lang) for country, lang in available if country not in owned]
    if data['editions'] is not None:
        editions = []
        for i, name in enumerate(data['editions']):
            country, lang = name.split('/')
            if lang == '*':
                found = [edition for edition in available if edition[0] == country]
                if not found:
                    errors.append(source.error(
                        ('editions', i), f'no content for {name} (expected '
                                         f'data/{country}/<lang>.yaml files)'))
                editions += [edition for edition in found if edition not in editions]
                continue
            if (country, lang) not in available:
                errors.append(source.error(
                    ('editions', i), f"no content for {name} (expected "
                                     f"data/{country}/{lang}.yaml)"))
            editions.append((country, lang))
    if errors:
        raise SourceErrors(errors)
    return Booklet(
        name=Path(path).stem, title=data['title'], layout=data['layout'],
        width_mm=data['trim']['width'], height_mm=data['trim']['height'],
        bleed_mm=data['bleed'], editions=editions,
        outputs=[name for name in OUTPUTS if name in data['outputs']], path=Path(path),
        source=source)


def load_booklets(root):
    """Every good booklet in ``booklets/``, and the errors of the others."""
    booklets, errors = [], []
    for path in sorted(Path(root, 'booklets').glob('*.yaml')):
        try:
            booklets.append(load_booklet(root, path))
        except SourceErrors as exc:
            errors.extend(exc.errors)
    return booklets, errors
