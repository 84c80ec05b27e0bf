"""Load an edition's content files and check them against what its layout declares."""

from dataclasses import dataclass, field
from pathlib import Path

from . import yamlsource
from .errors import SourceError, SourceErrors
from .schema import ListOf, MapOf, Record, Text, _lower, validate


@dataclass
class Edition:
    """One country in one language, as one layout reads it: the validated text of
    the shared language file and of the product's own file (as written), the
    country's values, and their sources."""

    country: str
    lang: str
    data: dict
    country_data: dict
    source: object
    country_source: object
    product_source: object = None
    sources: list = field(default_factory=list)  # every file read, with its schema

    @property
    def name(self):
        return f'{self.country}/{self.lang}'

    @property
    def translation_of(self):
        return self.data.get('translation_of')


def paths(root, country, lang, layout_name):
    """The content files of an edition for a layout: country, shared text, product text."""
    folder = Path(root, 'data', country)
    return {'country': folder / 'country.yaml', 'edition': folder / f'{lang}.yaml',
            'product': folder / layout_name / f'{lang}.yaml'}


def texts(source, schema=None):
    """Every text value written in ``source`` that ``schema`` (a :class:`Record`)
    declares, or every one without a schema, as ``(source, keypath, text)``.

    It walks what was written, not the validated model, so that a file with
    other errors still has its characters checked; ``lang`` and
    ``translation_of`` are codes, not text.
    """
    def walk(value, path, spec):
        if isinstance(value, str):
            if spec is None or isinstance(spec, Text) and spec.printed:
                yield source, path, value
        elif isinstance(value, dict):
            for key, item in value.items():
                if not path and key in ('lang', 'translation_of'):
                    continue
                if isinstance(spec, Record):
                    if key in spec.fields:
                        yield from walk(item, path + (key,), spec.fields[key])
                elif isinstance(spec, MapOf):
                    yield from walk(item, path + (key,), spec.item)
                elif spec is None:
                    yield from walk(item, path + (key,), None)
        elif isinstance(value, list):
            item_spec = spec.item if isinstance(spec, ListOf) else None
            if spec is None or item_spec is not None:
                for i, item in enumerate(value):
                    yield from walk(item, path + (i,), item_spec)
    return list(walk(source.data, (), schema))


def blocks(data, schema, path=()):
    """The printed text of validated ``data`` as ``(keypath, text)`` blocks, in
    declaration order: what the preflight must find in the PDF."""
    found = []
    if isinstance(schema, Record) and isinstance(data, dict):
        for name, spec in schema.fields.items():
            if data.get(name) is not None:
                found += blocks(data[name], spec, path + (name,))
    elif isinstance(schema, ListOf) and isinstance(data, list):
        for i, item in enumerate(data):
            found += blocks(item, schema.item, path + (i,))
    elif isinstance(schema, MapOf) and isinstance(data, dict):
        for key, item in data.items():
            found += blocks(item, schema.item, path + (key,))
    elif isinstance(schema, Text) and schema.printed and isinstance(data, str):
        found.append((yamlsource.keypath(path), data))
    return found


def _load(path, root, errors):
    try:
        return yamlsource.load(path, root)
    except SourceErrors as exc:
        errors.extend(exc.errors)
        return None


def load_edition(root, country, lang, layout):
    """Load and check one edition's files against ``layout``; every problem at once.

    Raises :class:`SourceErrors` listing the problems of the country file, the
    language file, the product's own file and the layout's words in ``lang``
    together; its ``sources`` are the files that could be read, with the
    schema each answers to, so that the glyph check can still run on them.
    """
    root = Path(root)
    files = paths(root, country, lang, layout.name)
    errors, sources = [], []
    try:
        layout.words(lang, root)
    except SourceErrors as exc:
        errors += exc.errors

    country_schema = layout.schema('country')
    country_source = _load(files['country'], root, errors)
    country_data = None
    if country_source is not None:
        before = len(errors)
        country_data = validate(country_schema, country_source, errors)
        sources.append((country_source, country_schema))
        if len(errors) > before:  # what the language files are checked against is unsure
            country_data = None

    data = {}
    edition_schema = layout.schema('edition')
    source = _load(files['edition'], root, errors)
    if source is not None:
        data = validate(edition_schema, source, errors) or {}
        sources.append((source, edition_schema))

    product_source = None
    product_schema = layout.schema('product')
    if layout.spec['product']:
        if files['product'].is_file() or files['product'].is_symlink():
            product_source = _load(files['product'], root, errors)
        else:
            required = [name for name, spec in layout.spec['product'].items()
                        if spec.required]
            if required:
                errors.append(SourceError(
                    _shown(files['product'], root), 1, 1, '',
                    f'missing: the {layout.name} layout reads its own text from here '
                    f"({', '.join(required)}); `render.py new {country} {lang}` starts it"))
        if product_source is not None:
            own = validate(product_schema, product_source, errors) or {}
            data.update({name: value for name, value in own.items()
                         if name in layout.spec['product']})
            sources.append((product_source, product_schema))

    if source is not None and data.get('lang') not in (None, lang):
        errors.append(source.error(('lang',), f"says {yamlsource.quoted(data['lang'])} but "
                                              f'the file is {lang}.yaml'))
    if country_data and country_data.get('languages') and lang not in country_data[
            'languages']:
        errors.append(country_source.error(
            ('languages',), f"does not list '{lang}', but data/{country}/{lang}.yaml exists"))
    if source is not None and data.get('translation_of'):
        errors += _against_original(root, country, lang, data['translation_of'], source)
    if country_data is not None:  # and good: checked against a broken one, all would fail
        errors += _against_country(layout, data, country_data, country_source,
                                   {'edition': source, 'product': product_source})
    if errors:
        raise SourceErrors(errors, sources=sources)
    return Edition(country, lang, data, country_data, source, country_source,
                   product_source, sources)


def _against_country(layout, data, country, country_source, sources):
    """What the layout declares between files: a mapping keyed by the ids of a
    country list (``keys_from``), a field that comes with a country value
    (``required_with``), a year not before another (``after``)."""
    errors = []
    for name, spec in layout.spec['country'].items():
        after = getattr(spec, 'after', None)
        if after and country.get(name) is not None and country.get(after) is not None \
                and country[name] < country[after]:
            errors.append(country_source.error((name,), f'is before {after} '
                                                        f'({country[after]})'))
    for kind in ('edition', 'product'):
        source = sources[kind]
        if source is None:
            continue
        for name, spec in layout.spec[kind].items():
            value = data.get(name)
            if spec.keys_from:
                items = country.get(spec.keys_from) or []
                ids = [item['id'] for item in items if isinstance(item, dict)]
                given = value if isinstance(value, dict) else {}
                for i, key in enumerate(ids):
                    if key not in given:
                        line = country_source.mark((spec.keys_from, i)).line
                        errors.append(source.error(
                            (name,) if name in (source.data or {}) else (),
                            f'no {name} entry for {yamlsource.quoted(key)} of '
                            f'{country_source.path}:{line}',
                            field=name))
                for key in given:
                    if key not in ids:
                        errors.append(source.error(
                            (name, key), f'no {yamlsource.quoted(key)} in {spec.keys_from} '
                                         f'of {country_source.path}', at_key=True))
            if spec.required_with:
                given = country.get(spec.required_with)
                written = isinstance(source.data, dict) and name in source.data
                if given and not written:
                    errors.append(source.error((), f"missing field '{name}' "
                                               f'({_lower(spec.doc)}): '
                                               f'{country_source.path} gives '
                                               f'{spec.required_with}'))
                elif written and not given:
                    errors.append(source.error((name,), f'is for {spec.required_with}, which '
                                               f'{country_source.path} does not give',
                                               at_key=True))
    return errors


def _against_original(root, country, lang, original, source):
    """A translation names an original that exists beside it."""
    if original == lang:
        return [source.error(('translation_of',), 'names the edition itself')]
    if not Path(root, 'data', country, f'{original}.yaml').is_file():
        return [source.error(('translation_of',), f"no original: data/{country}/"
                                                  f'{original}.yaml does not exist')]
    return []


def _shown(path, root):
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)
