"""Find the largest text sizes a layout allows at which every page still fits."""

from dataclasses import dataclass


@dataclass
class Target:
    """One copyfitted text: its name, its pages, the scales it may take.

    The scales between ``low`` and ``high`` (indexes) are still unknown; those
    below ``low`` fit, those above ``high`` do not. ``presumed`` is a scale
    taken to fit, from an earlier build, until a layout says otherwise.
    """

    name: str
    pages: frozenset
    scales: list  # smallest first
    low: int = 0
    high: int = -1
    tried: int = -1
    first: int = -1
    presumed: int | None = None

    def __post_init__(self):
        self.high = self.first = len(self.scales) - 1  # cold: the largest first

    @property
    def settled(self):
        return self.low > self.high

    @property
    def best(self):
        """The largest scale known (or presumed) to fit; the smallest, if none did."""
        return self.scales[max(self.high, 0)]

    def start_from(self, scale, trusted):
        """Presume ``scale`` fits, as it did last time; unless ``trusted`` (nothing
        changed since), try the next larger scale first."""
        if scale not in self.scales:
            return
        self.presumed = self.scales.index(scale)
        self.low = self.first = self.presumed + 1
        if trusted:
            self.high = self.presumed

    def next_try(self):
        if self.tried < 0 and self.first <= self.high:
            return self.first
        return (self.low + self.high) // 2

    def record(self, fits):
        if fits:
            self.low = self.tried + 1
        else:
            self.high = self.tried - 1


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


def fit(lay_out, found, known=None, trusted=False):
    """The scales of ``found`` targets at which the booklet fits, and that layout.

    ``lay_out(scales)`` lays the booklet out and returns ``(document, problems)``
    with problems as ``(page or None, message)``. The targets sit on different
    pages, so one layout tries a scale for each: the largest first (most text
    fits at once), then each bisects on its own pages' problems. A problem
    with no page (a wrong page count) counts against every target.

    ``known`` gives the scales an earlier build chose: each is presumed to fit
    and only the scale above it is tried, so an edit that changes little costs
    two layouts; with ``trusted`` (nothing the layout depends on has changed
    since) the known scales are laid out once. A presumption the final layout
    refutes sends that target back to a full search below it.

    When even the smallest scale does not fit, the result carries the problems
    that say what runs over.
    """
    if not found:
        return {}, lay_out({})
    for target in found:
        if known and target.name in known:
            target.start_from(known[target.name], trusted)
    scales = attempt = None
    while True:
        while not all(target.settled for target in found):
            for target in found:
                if not target.settled:
                    target.tried = target.next_try()
            scales = {t.name: t.scales[t.tried] if not t.settled else t.best for t in found}
            attempt = lay_out(scales)
            for target in found:
                if not target.settled:
                    target.record(not _runs_over(attempt, target))
        best = {target.name: target.best for target in found}
        if best != scales:
            scales, attempt = best, lay_out(best)
        refuted = [target for target in found if target.presumed is not None
                   and target.best == target.scales[target.presumed]
                   and _runs_over(attempt, target)]
        if not refuted:
            return best, attempt
        for target in refuted:  # it no longer fits: search everything below it
            target.low, target.high = 0, target.presumed - 1
            target.first, target.tried, target.presumed = target.high, -1, None


def _runs_over(attempt, target):
    pages = {page for page, _ in attempt[1]}
    return None in pages or bool(pages & target.pages)
