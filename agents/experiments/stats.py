"""Interval estimates over seeds: means with 95% stratified-bootstrap intervals and the
probability of improvement, by ``rliable`` when it imports, else by numpy.

One configuration is one task, so the stratified bootstrap resamples the runs (seeds)
of that task. The probability of improvement of X over Y is rliable's: the
Mann-Whitney statistic P(X > Y) + P(X = Y) / 2 over the runs, for scores where higher
is better (pass negated costs). rliable needs ``arch``, which fails to import under
pandas 3 (``deprecate_kwarg``); the numpy fallback (percentile bootstrap) computes the
same quantities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A point estimate and its 95% bootstrap interval."""

    mean: float
    low: float
    high: float

    def fmt(self, digits: int = 3) -> str:
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def _rliable():
    try:  # rliable's import chain (arch) breaks under pandas 3: any error means "absent"
        from rliable import library, metrics
    except Exception:  # noqa: BLE001
        return None
    return library, metrics


def backend() -> str:
    """``"rliable"`` when it imports, else ``"numpy"`` (named in every results file)."""
    return "rliable" if _rliable() is not None else "numpy"


def _check(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"need a non-empty sequence of finite numbers, got {values!r}")
    return x


def mean_interval(values: Sequence[float], reps: int = 2000, seed: int = 0) -> Interval:
    """Mean of ``values`` (one per seed) with its 95% stratified-bootstrap interval.

    :param values: one number per run (seed).
    :param reps: bootstrap resamples.
    :param seed: seed of the resampling.
    """
    x = _check(values)
    if x.size == 1 or np.all(x == x[0]):
        return Interval(float(x.mean()), float(x.mean()), float(x.mean()))
    lib = _rliable()
    if lib is not None:
        library, _ = lib
        np.random.seed(seed)  # noqa: NPY002 (rliable draws from the global state)
        pe, ci = library.get_interval_estimates(
            {"m": x[:, None]}, lambda s: np.array([s.mean()]), reps=reps
        )
        return Interval(float(pe["m"][0]), float(ci["m"][0, 0]), float(ci["m"][1, 0]))
    rng = np.random.default_rng(seed)
    boots = rng.choice(x, size=(reps, x.size)).mean(axis=1)
    lo, hi = np.percentile(boots, [50 * (1 - CONFIDENCE), 50 * (1 + CONFIDENCE)])
    return Interval(float(x.mean()), float(lo), float(hi))


def probability_of_improvement(x: Sequence[float] | np.ndarray,
                               y: Sequence[float] | np.ndarray) -> float:
    """P(X > Y) + P(X = Y)/2 over all pairs of runs (higher scores are better).

    :param x: scores of the method, one per seed.
    :param y: scores of the reference, one per seed.
    """
    a, b = _check(x), _check(y)
    gt = (a[:, None] > b[None, :]).mean()
    eq = (a[:, None] == b[None, :]).mean()
    return float(gt + eq / 2)


def poi_interval(x: Sequence[float], y: Sequence[float], reps: int = 2000,
                 seed: int = 0) -> Interval:
    """:func:`probability_of_improvement` with a 95% bootstrap interval (runs of each
    method resampled independently, as rliable does).

    :param x: scores of the method, one per seed (higher is better).
    :param y: scores of the reference, one per seed.
    :param reps: bootstrap resamples.
    :param seed: seed of the resampling.
    """
    a, b = _check(x), _check(y)
    rng = np.random.default_rng(seed)
    boots = [
        probability_of_improvement(rng.choice(a, a.size), rng.choice(b, b.size))
        for _ in range(reps)
    ]
    lo, hi = np.percentile(boots, [50 * (1 - CONFIDENCE), 50 * (1 + CONFIDENCE)])
    return Interval(probability_of_improvement(a, b), float(lo), float(hi))
