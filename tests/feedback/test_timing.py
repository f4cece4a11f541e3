"""The best-time model (pure): what it learns per weekday x hour, how sure it is, and that Thompson
sampling still tries slots it knows little about."""
from __future__ import annotations

import numpy as np

from feedback.ranking.timing import Observation, Timing


def _history(rng: np.random.Generator, n: int = 200) -> list[Observation]:
    out = []
    for _ in range(n):  # evenings do well, mornings badly; nothing ever posted at 03:00 or on Sunday
        hour, day = int(rng.choice([9, 10, 19, 20])), int(rng.integers(6))
        out.append(Observation(day, hour, (0.8 if hour >= 19 else -0.4) + float(rng.normal(0, 0.4))))
    return out


def test_learns_the_good_hours_and_is_unsure_where_it_has_no_evidence():
    timing = Timing(_history(np.random.default_rng(0)))
    cells = {(c.weekday, c.hour): c for c in timing.cells(range(8, 23))}
    assert cells[2, 19].mean > cells[2, 9].mean + 0.8
    assert cells[2, 19].evidence > 5 and cells[2, 3].evidence == 0 and not cells[2, 3].allowed
    assert cells[6, 19].sd > cells[2, 19].sd  # Sunday was never tried
    assert cells[2, 18].mean > cells[2, 15].mean  # 18:00 shares the 18-20 band with the good hours
    assert timing.mean_of(2, 19) == cells[2, 19].mean


def test_thompson_mostly_picks_the_best_slot_and_sometimes_an_untried_one():
    timing = Timing(_history(np.random.default_rng(1)))
    slots = [(2, 9), (2, 19), (2, 14)]  # 14:00 never tried
    picks = [timing.choose(slots, np.random.default_rng(s)) for s in range(200)]
    assert picks.count(1) > 100 and picks.count(2) > 0 and picks.count(0) < picks.count(1)


def test_old_evidence_fades_so_a_moved_audience_is_followed():
    rng = np.random.default_rng(2)
    old = [Observation(1, 9, 0.8 + float(rng.normal(0, 0.3))) for _ in range(150)]
    old += [Observation(1, 19, -0.4 + float(rng.normal(0, 0.3))) for _ in range(150)]
    new = [Observation(1, h, (0.8 if h == 19 else -0.4) + float(rng.normal(0, 0.3))) for h in (9, 19) * 150]
    assert Timing(old).mean_of(1, 9) > Timing(old).mean_of(1, 19)
    assert Timing(old + new).mean_of(1, 19) > Timing(old + new).mean_of(1, 9)
