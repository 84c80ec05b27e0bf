"""Find the largest text sizes a layout allows at which every page still fits."""

import math
from dataclasses import dataclass
from typing import NamedTuple


class Problem(NamedTuple):
    """What keeps a layout from coming out right: the page (None for the whole
    booklet), a message saying what to do, and, for text that runs over, how many
    times the room it had it needs (None when not known)."""

    page: int | None
    message: str
    need: float | None = None


@dataclass
class Target:
    """One copyfitted text: its name, its pages, the scales it may take.

    The scales between ``low`` and ``high`` (indexes) are still unknown; those
    below ``low`` fit, those above ``high`` do not. ``presumed`` is a scale
    taken to fit, from an earlier build or an estimate, until a layout says
    otherwise; ``queued`` is the next to try instead of the middle one.
    """

    name: str
    pages: frozenset
    scales: list  # smallest first
    low: int = 0
    high: int = -1
    tried: int = -1
    queued: int | None = None
    presumed: int | None = None
    estimated: bool = False

    def __post_init__(self):
        self.high = self.queued = len(self.scales) - 1  # cold: the largest first

    @property
    def settled(self):
        return self.low > self.high

    @property
    def best(self):
        """The largest scale known (or presumed) to fit; the smallest, if none did."""
        return self.scales[max(self.high, 0)]

    def presume(self, index):
        """Take the scale at ``index`` to fit, and try the next larger one first."""
        self.presumed, self.low = index, index + 1
        self.queued = index + 1 if index + 1 <= self.high else None

    def start_from(self, scale, trusted):
        """Presume ``scale`` fits, as it did last time; with ``trusted`` (nothing
        has changed since) try no larger one."""
        if scale in self.scales:
            self.presume(self.scales.index(scale))
            if trusted:
                self.high = self.presumed

    def next_try(self):
        if self.queued is not None and self.low <= self.queued <= self.high:
            return self.queued
        return (self.low + self.high) // 2

    def record(self, fits, need=None):
        """Note how the scale tried did. Above a presumed scale, a fit sends the
        next try twice as far up (an estimate a step or two low costs a layout or
        two, not a bisection). The first time it runs over by a known amount,
        with nothing presumed, presume the scale that amount suggests; after
        that, bisect."""
        self.queued = None
        if fits:
            self.low = self.tried + 1
            if self.presumed is not None:
                self.queued = min(self.high, self.tried + max(1, self.tried - self.presumed))
            return
        self.high = self.tried - 1
        if (need and need > 1 and not self.estimated and self.presumed is None
                and self.low <= self.high):
            self.estimated = True  # once: a second guess could creep down a step at a time
            # Text set s times larger takes about s² the room (s times the lines,
            # each s times as tall): the scale that fits is about s / √need.
            wanted = float(self.scales[self.tried]) / math.sqrt(need) * (1 + 1e-9)
            below = [i for i in range(self.low, self.high + 1)
                     if float(self.scales[i]) <= wanted]
            self.presume(below[-1] if below else self.low)


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

    ``lay_out(scales)`` lays the booklet out and returns ``(document, problems)``,
    problems as :class:`Problem`. The targets sit on different pages, so one
    layout tries a scale for each, and each searches on its own pages' problems;
    a problem with no page (a wrong page count) counts against every target.

    From cold, each text is first tried at its largest scale. When it runs over
    by a known amount, the scale that amount suggests is presumed to fit and only
    the next one up is tried; otherwise the scales are bisected. ``known`` gives
    the scales an earlier build chose, presumed the same way, so that a small
    edit costs two layouts; with ``trusted`` (nothing the layout depends on has
    changed since) the known scales are laid out once. A text the final layout
    shows running over is searched again below its scale. So, as long as a text
    that fits at a scale fits at every smaller one, the result is the largest
    scale that fits, except that a trusted scale is not tried against larger
    ones.

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
                    target.record(*_verdict(attempt, target))
        best = {target.name: target.best for target in found}
        if best != scales:
            scales, attempt = best, lay_out(best)
        refuted = False
        for target in found:
            fits, need = _verdict(attempt, target)
            best_index = max(target.high, 0)
            if not fits and best_index > 0:  # a presumption, or another text moved
                refuted = True  # pages: search below it
                target.low, target.tried, target.presumed = 0, best_index, None
                target.record(False, need)
                if target.presumed is None:  # no new estimate: the size just below first
                    target.queued = target.high
        if not refuted:
            return best, attempt


def _verdict(attempt, target):
    """Whether ``target``'s pages fit in ``attempt``, and how much room they need."""
    problems = [p for p in attempt[1] if p.page is None or p.page in target.pages]
    needs = [p.need for p in problems]
    return not problems, (max(needs) if needs and None not in needs else None)
