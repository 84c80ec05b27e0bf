"""Write bindery/delimiters.py, every CLDR locale's quotation marks, from CLDR's JSON.

    npm pack cldr-misc-full@48.2.0 && tar xzf cldr-misc-full-48.2.0.tgz
    .venv/bin/python tools/make-delimiters.py package

Babel ships no delimiters from CLDR, so the project keeps this one table,
generated, never edited by hand: typography.quotes() reads it.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = ('quotationStart', 'quotationEnd', 'alternateQuotationStart', 'alternateQuotationEnd')


def main(folder):
    folder = Path(folder)
    package = json.loads((folder / 'package.json').read_text(encoding='utf-8'))
    table = {}
    for path in sorted((folder / 'main').glob('*/delimiters.json')):
        locale = path.parent.name
        delimiters = json.loads(path.read_text(encoding='utf-8'))['main'][locale]['delimiters']
        table[locale] = ''.join(delimiters[key] for key in KEYS)
    lines = [f'    {locale!r}: {quotes!r},\n' for locale, quotes in table.items()]
    text = (f'"""Quotation marks of every CLDR locale: written by tools/make-delimiters.py, '
            f'never by hand."""\n\n'
            f"# Unicode CLDR {package['version']}, main/<locale>/delimiters.json (npm "
            f"{package['name']} {package['version']}).\n"
            '# Unicode License v3, Copyright (c) 2004-2026 Unicode, Inc.\n\n'
            '#: locale -> outer open, outer close, inner open, inner close\n'
            'QUOTES = {\n' + ''.join(lines) + '}\n')
    (ROOT / 'bindery' / 'delimiters.py').write_text(text, encoding='utf-8')
    print(f'{len(table)} locales from CLDR {package["version"]}')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'package')
