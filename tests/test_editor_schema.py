"""The JSON Schemas editors use (schemas/*.json): current, and right about the shipped files.

They are checked with the ``jsonschema`` package, as the YAML language server in an
editor would check a file as the person types: PyYAML reads the file as any YAML
tool does (``1995`` is a number there), never bindery's own loader.
"""

import json
import re

import jsonschema
import pytest
import yaml

from bindery import editorschema
from bindery.scaffold import new_edition
from conftest import ROOT, FixtureProject

SCHEMAS = ROOT / 'schemas'


def schema_for(relative, root=ROOT):
    """The schema file a content file answers to, by the folder convention (a
    content set a booklet keeps to itself, data/specimen/, has its own shared
    schemas: specimen-country.json, specimen-edition.json)."""
    parts = relative.split('/')
    kept = (SCHEMAS / f'{parts[1]}-country.json').is_file()
    if parts[-1] == 'country.yaml':
        name = f'{parts[1]}-country' if kept else 'country'
    elif len(parts) == 3:
        name = f'{parts[1]}-edition' if kept else 'edition'
    else:
        name = parts[2]
    first = (root / relative).read_text(encoding='utf-8').splitlines()[0]
    assert first.endswith(f'schemas/{name}.json'), (relative, first)  # what editors read
    return json.loads((SCHEMAS / f'{name}.json').read_text(encoding='utf-8'))


CONTENT = sorted(path.relative_to(ROOT).as_posix() for path in ROOT.glob('data/**/*.yaml'))


def test_the_schemas_in_the_repository_are_what_the_layouts_declare():
    """Run `python render.py schemas` after changing a layout's declaration."""
    assert editorschema.write(ROOT, check=True) == []


def test_every_schema_is_a_valid_json_schema():
    for path in sorted(SCHEMAS.glob('*.json')):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text('utf-8')))


@pytest.mark.parametrize('relative', CONTENT)
def test_every_shipped_content_file_passes_its_schema(relative):
    data = yaml.safe_load((ROOT / relative).read_text(encoding='utf-8'))
    jsonschema.validate(data, schema_for(relative), cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize('relative, change, fragment', [
    ('data/kazakhstan/kk.yaml', ('facts_title:', 'facts_titel:'), "'facts_titel' was unexpected"),
    ('data/kyrgyzstan/ky.yaml', ('\nfoundation:', '\n# foundation:'), "'foundation' is a required"),
    ('data/kazakhstan/country.yaml', ('founded: 1995', 'founded: soon'), "'soon' is not of type"),
    ('data/kazakhstan/press-sheet/en.yaml', ('\nheadline:', '\nheading:'), 'heading'),
])
def test_a_mistake_an_editor_makes_is_underlined(relative, change, fragment):
    """The schemas are not vacuous: what the build refuses, the editor flags too."""
    text = (ROOT / relative).read_text(encoding='utf-8')
    assert text.count(change[0]) == 1, change
    data = yaml.safe_load(text.replace(*change))
    validator = jsonschema.Draft202012Validator(schema_for(relative))
    messages = [error.message for error in validator.iter_errors(data)]
    assert any(fragment in message for message in messages), messages


def test_new_files_name_their_schema(tmp_path):
    """`new` starts each file with the line the YAML language server reads, and the
    path it gives, relative to the file, is the schema of that kind."""
    project = FixtureProject(tmp_path / 'project', booklets=None)  # every product
    written = new_edition(project.root, 'tajikistan', 'tg', say=lambda line: None)
    content = [path for path in written if path.is_relative_to(project.path('data'))]
    assert len(content) >= 3  # country, shared text, a product's own text
    for path in content:
        first = path.read_text(encoding='utf-8').splitlines()[0]
        match = re.fullmatch(r'# yaml-language-server: \$schema=(\S+)', first)
        assert match, (path, first)
        target = (path.parent / match.group(1)).resolve()
        relative = path.relative_to(project.root).as_posix()
        assert target == (project.root / 'schemas'
                          / schema_for(relative, project.root)['$id']).resolve()
        assert target.is_file(), target

