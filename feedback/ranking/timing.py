"""When an account's posts do best: a Bayesian model of weekday x hour effects (pure: no database,
no clock; the caller passes observations and an RNG).

y = bias + band(hour) + hour + weekday + cell(weekday, hour) + noise, one-hot features with shrinking
priors: a 3-hour band carries what neighbouring hours share, so an hour never posted at borrows
from its neighbours and stays uncertain; a cell (weekday x hour) moves only with its own evidence.
Targets are the same log engagement ratios the ranker learns from (own posts at the learning age,
imported posts against their own median); older evidence counts less (``half_life`` in posts), so
an audience whose hours move is followed. ``choose`` is Thompson sampling over the allowed slots:
one draw of the effects, the best slot of that draw, so a slot that might be best still gets tried.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BANDS = 8  # 3-hour bands
SIZE = 1 + BANDS + 24 + 7 + 7 * 24
PRIOR_SD = {"bias": 1.0, "band": 0.3, "hour": 0.15, "weekday": 0.15, "cell": 0.1}
NOISE_SD = 0.6
HALF_LIFE = 150.0  # posts
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Observation:
    weekday: int  # 0 = Monday, in the account's time zone
    hour: int  # 0-23, in the account's time zone
    target: float  # log engagement ratio to the account's anchor
    weight: float = 1.0  # a young reading counts less


@dataclass(frozen=True)
class Cell:
    weekday: int
    hour: int
    mean: float  # expected log engagement ratio of a post in this slot
    sd: float
    evidence: float  # (decayed, weighted) posts in this exact slot
    allowed: bool

    @property
    def ratio(self) -> float:
        return float(np.exp(self.mean))


def _columns(weekday: int, hour: int) -> tuple[int, int, int, int, int]:
    return 0, 1 + hour // 3, 1 + BANDS + hour, 1 + BANDS + 24 + weekday, 1 + BANDS + 24 + 7 + weekday * 24 + hour


def _prior_precision() -> np.ndarray:
    sd = np.concatenate([[PRIOR_SD["bias"]], np.full(BANDS, PRIOR_SD["band"]), np.full(24, PRIOR_SD["hour"]),
                         np.full(7, PRIOR_SD["weekday"]), np.full(7 * 24, PRIOR_SD["cell"])])
    return 1.0 / sd ** 2


@functools.cache
def _design() -> np.ndarray:
    """One row per slot (weekday * 24 + hour): the columns its effect sums."""
    X = np.zeros((7 * 24, SIZE))
    for d in range(7):
        for h in range(24):
            X[d * 24 + h, list(_columns(d, h))] = 1.0
    X.setflags(write=False)
    return X


class Timing:
    """The posterior over slot effects from an account's observations (oldest first)."""

    def __init__(self, observations: Sequence[Observation], *, half_life: float | None = HALF_LIFE) -> None:
        n = len(observations)
        kept = [(n - 1 - i, o) for i, o in enumerate(observations)
                if 0 <= o.weekday < 7 and 0 <= o.hour < 24 and np.isfinite(o.target)]
        ok = [o for _, o in kept]
        gamma = 0.5 ** (1.0 / half_life) if half_life else 1.0
        age = np.array([a for a, _ in kept], dtype=float)
        w = np.array([o.weight for o in ok]) * gamma ** age / NOISE_SD ** 2
        X = np.zeros((len(ok), SIZE))
        for i, o in enumerate(ok):
            X[i, list(_columns(o.weekday, o.hour))] = 1.0
        precision = np.diag(_prior_precision()) + (X * w[:, None]).T @ X
        b = X.T @ (w * np.array([o.target for o in ok]))
        counts = np.zeros((7, 24))
        np.add.at(counts, ([o.weekday for o in ok], [o.hour for o in ok]), w * NOISE_SD ** 2)
        self._chol = np.linalg.cholesky(precision)
        self.mean = np.linalg.solve(precision, b)
        self._cov = np.linalg.inv(precision)
        self.evidence = counts
        self.observations = n

    def mean_of(self, weekday: int, hour: int) -> float:
        """Expected effect of one slot (the posterior mean)."""
        return float(self.mean[list(_columns(weekday, hour))].sum())

    def _design(self) -> np.ndarray:
        return _design()

    def cells(self, allowed_hours: Sequence[int] = tuple(range(24))) -> list[Cell]:
        """Every weekday x hour slot with its expected effect, sd and evidence (the heatmap)."""
        X = self._design()
        means = X @ self.mean
        sds = np.sqrt(np.einsum("ij,jk,ik->i", X, self._cov, X))
        allowed = set(allowed_hours)
        return [Cell(d, h, float(means[d * 24 + h]), float(sds[d * 24 + h]), float(self.evidence[d, h]), h in allowed)
                for d in range(7) for h in range(24)]

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One Thompson draw of every slot's effect, as a 7 x 24 array."""
        draw = self.mean + np.linalg.solve(self._chol.T, rng.standard_normal(SIZE))
        return (self._design() @ draw).reshape(7, 24)

    def choose(self, slots: Sequence[tuple[int, int]], rng: np.random.Generator) -> int:
        """Index into ``slots`` ((weekday, hour) pairs) of the best slot of one Thompson draw."""
        if not slots:
            raise ValueError("no slot to choose from")
        draw = self.sample(rng)
        values = [draw[d, h] for d, h in slots]
        return int(np.argmax(values))
