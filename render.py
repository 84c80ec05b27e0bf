#!/usr/bin/env python3
"""Build every booklet: ``python render.py [check] [targets] [--out DIR] [-j N]``."""

import sys

from bindery.cli import main

if __name__ == '__main__':
    sys.exit(main())
