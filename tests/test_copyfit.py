"""Copyfitting finds the largest sizes that fit, in few layouts, from a cold start
or from the sizes of the last build."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bindery import copyfit

SPEC = {'intro': {'pages': [2], 'min': Decimal('0.9'), 'max': Decimal('1.05'),
                  'step': Decimal('0.025')},
        'facts': {'pages': [4, 5, 6, 7], 'min': Decimal('0.95'), 'max': Decimal('1.25'),
                  'step': Decimal('0.025')}}
INTRO = [Decimal('0.9') + Decimal('0.025') * i for i in range(7)]
FACTS = [Decimal('0.95') + Decimal('0.025') * i for i in range(13)]


class Booklet:
    """A stand-in for WeasyPrint: each text fits up to a size, and says how much
    room it needs beyond it, as the square of the scale (times ``error``, to see
    what a poor estimate does; None: it does not say); counts layouts."""

    def __init__(self, intro_fits, facts_fits, error=1.0):
        self.limits = {'intro': intro_fits, 'facts': facts_fits}
        self.error = error
        self.layouts = 0

    def lay_out(self, scales):
        self.layouts += 1
        problems = []
        for name, page in (('intro', 2), ('facts', 5)):
            if scales[name] > self.limits[name]:
                need = None if self.error is None else (
                    float(scales[name] / self.limits[name]) ** 2 * self.error)
                problems.append(copyfit.Problem(page, f'page {page} runs over', need))
        return scales, problems

    def answer(self):
        """The largest scales that fit (the smallest where none does)."""
        return {name: max([s for s in scales if s <= self.limits[name]] or [scales[0]])
                for name, scales in (('intro', INTRO), ('facts', FACTS))}


limits = st.tuples(st.sampled_from([Decimal('0.8')] + INTRO),
                   st.sampled_from([Decimal('0.8')] + FACTS))


errors = st.one_of(st.none(), st.floats(0.5, 2.0))


@settings(max_examples=300, deadline=None)
@given(limits, errors)
def test_cold_search_finds_the_largest_fit(fits, error):
    """However wrong the estimate of the room needed, or with none at all."""
    booklet = Booklet(*fits, error)
    scales, (laid_out, problems) = copyfit.fit(booklet.lay_out, copyfit.targets(SPEC))
    assert scales == booklet.answer() == laid_out
    assert bool(problems) == (fits[0] < INTRO[0] or fits[1] < FACTS[0])


@settings(max_examples=100, deadline=None)
@given(limits)
def test_a_cold_search_without_estimates_bisects(fits):
    booklet = Booklet(*fits, error=None)
    copyfit.fit(booklet.lay_out, copyfit.targets(SPEC))
    assert booklet.layouts <= 6  # the largest, log2(13) more, the final layout


@settings(max_examples=100, deadline=None)
@given(limits)
def test_a_good_estimate_takes_three_layouts(fits):
    """The largest size, the size above the estimate, the estimate."""
    booklet = Booklet(*fits)
    copyfit.fit(booklet.lay_out, copyfit.targets(SPEC))
    assert booklet.layouts <= 3


@settings(max_examples=300, deadline=None)
@given(limits, st.sampled_from(INTRO), st.sampled_from(FACTS), errors)
def test_a_search_from_last_builds_sizes_finds_the_same(fits, intro, facts, error):
    """Whatever the sizes last time, the answer is the one a cold search gives."""
    booklet = Booklet(*fits, error)
    known = {'intro': intro, 'facts': facts}
    scales, (laid_out, _) = copyfit.fit(booklet.lay_out, copyfit.targets(SPEC), known)
    assert scales == booklet.answer() == laid_out


def test_unchanged_sizes_take_two_layouts_and_trusted_ones_one():
    booklet = Booklet(INTRO[6], FACTS[5])
    known = booklet.answer()
    copyfit.fit(booklet.lay_out, copyfit.targets(SPEC), known)
    assert booklet.layouts == 2  # the next size up for each text, then the answer
    booklet.layouts = 0
    scales, _ = copyfit.fit(booklet.lay_out, copyfit.targets(SPEC), known, trusted=True)
    assert scales == known and booklet.layouts == 1


def test_trusted_sizes_that_no_longer_fit_are_searched_again():
    """Trust is checked: the one layout shows the facts run over, and the search
    goes on below the known size."""
    booklet = Booklet(INTRO[6], FACTS[2])
    known = {'intro': INTRO[6], 'facts': FACTS[8]}
    scales, (_, problems) = copyfit.fit(booklet.lay_out, copyfit.targets(SPEC), known,
                                        trusted=True)
    assert scales == booklet.answer() and not problems


def test_known_sizes_off_the_layouts_steps_are_ignored():
    booklet = Booklet(INTRO[3], FACTS[3])
    known = {'intro': Decimal('0.93'), 'facts': Decimal('7')}
    scales, _ = copyfit.fit(booklet.lay_out, copyfit.targets(SPEC), known, trusted=True)
    assert scales == booklet.answer()


def test_a_tiny_overflow_does_not_walk_down_a_fine_scale_step_by_step():
    """An estimate that keeps saying "a hair too big" is taken once; then bisect."""
    spec = {'intro': dict(SPEC['intro'], min=Decimal('0.5'), max=Decimal('1.5'),
                          step=Decimal('0.001')),
            'facts': SPEC['facts']}
    booklet = Booklet(Decimal('0.6'), FACTS[-1], error=None)
    booklet.lay_out = _always_a_hair_over(booklet.lay_out)
    scales, (_, problems) = copyfit.fit(booklet.lay_out, copyfit.targets(spec))
    assert scales['intro'] == Decimal('0.6') and not problems
    assert booklet.layouts <= 2 * 11 + 3, booklet.layouts


def _always_a_hair_over(lay_out):
    def wrapped(scales):
        laid_out, problems = lay_out(scales)
        return laid_out, [problem._replace(need=1.0000001) for problem in problems]
    return wrapped
