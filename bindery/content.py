"""Load a country and one of its language editions, and check them against each other and the layout."""

from dataclasses import dataclass
from pathlib import Path

from . import yamlsource
from .errors import SourceErrors
from .schema import COUNTRY, EDITION, validate
from .yamlsource import Source


@dataclass
class Edition:
    """One country in one language: validated text, the country's numbers, their sources."""

    country: str
    lang: str
    data: dict
    country_data: dict
    source: Source
    country_source: Source

    @property
    def name(self):
        return f'{self.country}/{self.lang}'

    def texts(self):
        """Every piece of text that prints, as ``(source, keypath, text)``."""
        return texts(self.source)


def texts(source):
    """Every text value written in ``source`` but its ``lang``, as ``(source, keypath, text)``.

    It walks what was written, not the validated model, so that a file with
    other errors still has its characters checked.
    """
    def walk(value, path):
        if isinstance(value, str):
            yield source, path, value
        elif isinstance(value, dict):
            for key, item in value.items():
                if path or key != 'lang':
                    yield from walk(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from walk(item, path + (i,))
    return list(walk(source.data, ()))


def load_country(root, country):
    """The checked ``data/<country>/country.yaml`` and its source."""
    source = yamlsource.load(Path(root, 'data', country, 'country.yaml'), root)
    errors = []
    data = validate(COUNTRY, source, errors)
    if errors:
        raise SourceErrors(errors)
    if data['anniversary'] < data['founded']:
        raise SourceErrors([source.error(('anniversary',), 'is before the founding year')])
    ids = [figure['id'] for figure in data['figures']]
    for i, name in enumerate(ids):
        if name in ids[:i]:
            errors.append(source.error(('figures', i, 'id'), f"figure '{name}' twice"))
    if errors:
        raise SourceErrors(errors)
    return data, source


def load_edition(root, country, lang, layout):
    """Load and check one edition against its country and ``layout``; all errors at once."""
    country_data, country_source = load_country(root, country)
    source = yamlsource.load(Path(root, 'data', country, f'{lang}.yaml'), root)
    errors = []
    data = validate(EDITION, source, errors)
    if errors:
        raise SourceErrors(errors, source)

    if data['lang'] != lang:
        errors.append(source.error(('lang',), f"says '{data['lang']}' but the file is "
                                              f'{lang}.yaml'))
    if lang not in country_data['languages']:
        errors.append(country_source.error(
            ('languages',), f"does not list '{lang}', but data/{country}/{lang}.yaml exists"))
    if lang not in layout.strings:
        errors.append(source.error(
            ('lang',), f"layout {layout.name} has no strings for '{lang}' (add "
                       f'layouts/{layout.name}/strings/{lang}.yaml)'))

    wanted, found = layout.spec['facts'], len(data['facts'])
    if found != wanted:
        at = ('facts', min(found, wanted + 1) - 1)  # the last fact, or the first extra
        errors.append(source.error(at, f'the {layout.name} layout needs {wanted} facts, '
                                       f'found {found}', field='facts'))

    original = data['translation_of']
    if original is not None:
        errors += _against_original(root, country, lang, original, data, source)

    figure_ids = [figure['id'] for figure in country_data['figures']]
    for i, name in enumerate(figure_ids):
        if name not in data['figures']:
            errors.append(source.error(
                ('figures',), f"no label for figure '{name}' of "
                              f'{country_source.path}:{country_source.mark(("figures", i)).line}'))
    for name in data['figures']:
        if name not in figure_ids:
            errors.append(source.error(('figures', name), f"no figure '{name}' in "
                                                          f'{country_source.path}', at_key=True))
    if figure_ids and not data['figures_title']:
        errors.append(source.error((), "missing field 'figures_title': the heading above "
                                       'the key figures'))
    if country_data['grants_total'] and not data['grants_total_label']:
        errors.append(source.error((), "missing field 'grants_total_label': "
                                       f'{country_source.path} gives grants_total'))
    if data['grants_total_label'] and not country_data['grants_total']:
        errors.append(source.error(('grants_total_label',), 'labels nothing: '
                                   f'{country_source.path} has no grants_total', at_key=True))
    if errors:
        raise SourceErrors(errors, source)
    return Edition(country, lang, data, country_data, source, country_source)



def _against_original(root, country, lang, original, data, source):
    """A translation names an original that exists beside it.

    (Both then have the layout's number of facts and a label for every figure
    of the country: those are checked per edition, so a miscount is reported
    once, at the file that has it.)"""
    if original == lang:
        return [source.error(('translation_of',), 'names the edition itself')]
    if not Path(root, 'data', country, f'{original}.yaml').is_file():
        return [source.error(('translation_of',), f"no original: data/{country}/"
                                                  f'{original}.yaml does not exist')]
    return []
