"""Find the largest text sizes a layout allows at which every page still fits."""

from dataclasses import dataclass


@dataclass
class Target:
    """One copyfitted text: its name, its pages, the scales it may take."""

    name: str
    pages: frozenset
    scales: list  # smallest first
    low: int = 0
    high: int = -1
    tried: int = -1

    def __post_init__(self):
        self.high = len(self.scales) - 1

    @property
    def settled(self):
        return self.low > self.high

    @property
    def best(self):
        """The largest scale known to fit (the smallest, if none did)."""
        return self.scales[max(self.high, 0)]


def targets(spec):
    """The copyfit targets a layout declares (``copyfit`` in layout.yaml)."""
    found = []
    for name, fit in spec.items():
        scales, scale = [], fit['min']
        while scale <= fit['max']:
            scales.append(scale)
            scale += fit['step']
        found.append(Target(name, frozenset(fit['pages']), scales))
    return found


def css(scales):
    """``:root`` custom properties ``--copyfit-<name>`` for ``{name: scale}``."""
    lines = ''.join(f'  --copyfit-{name}: {scale.normalize()};\n'
                    for name, scale in sorted(scales.items()))
    return f':root {{\n{lines}}}\n'


def fit(lay_out, found):
    """The scales of ``found`` targets at which the booklet fits, and that layout.

    ``lay_out(scales)`` lays the booklet out and returns ``(document, problems)``
    with problems as ``(page or None, message)``. The targets sit on different
    pages, so one layout tries a scale for each: the largest first (most text
    fits at once), then each bisects on its own pages' problems. A problem
    with no page (a wrong page count) counts against every target. When even
    the smallest scale does not fit, the result carries the problems that say
    what runs over.
    """
    if not found:
        return {}, lay_out({})
    attempt = None
    while not all(target.settled for target in found):
        for target in found:
            if not target.settled:
                target.tried = target.high if target.tried < 0 else (
                    (target.low + target.high) // 2)
        scales = {t.name: t.scales[t.tried if not t.settled else max(t.high, 0)]
                  for t in found}
        attempt = lay_out(scales)
        pages = {page for page, _ in attempt[1]}
        for target in found:
            if target.settled:
                continue
            if None in pages or pages & target.pages:
                target.high = target.tried - 1
            else:
                target.low = target.tried + 1
    best = {target.name: target.best for target in found}
    if best != scales:
        attempt = lay_out(best)
    return best, attempt
