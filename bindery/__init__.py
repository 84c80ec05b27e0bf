"""bindery: builds print-ready and screen PDFs of booklets from YAML content.

The public surface is :func:`build` (every edition of every booklet, as the
command line does) and :data:`__version__`; ``python render.py`` is the door.
"""

__version__ = '0.1.0'


def build(root='.', out='build', targets=(), jobs=1):
    """Build ``targets`` (all by default) into ``out``; return the problems found
    before building and the result of each edition."""
    from .cli import run_build  # noqa: PLC0415 (keeps `import bindery` light)
    return run_build(root, out, targets, jobs)
