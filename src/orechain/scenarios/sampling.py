"""Probability distributions for scenario inputs, and the random streams that draw them.

Every distribution here is a small frozen value with closed-form moments (``mean``, ``var``), an inverse
CDF (``ppf``, used by the sensitivity analysis to pin an input at a quantile) and a vectorised ``sample``.
Draws always come from a :class:`numpy.random.Generator`; the engine gives each block of scenarios its own
generator spawned from one :class:`numpy.random.SeedSequence`, so results do not depend on how blocks are
grouped into chunks or Dask partitions (see :func:`block_generators`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]

__all__ = ["Dist", "DistKind", "FloatArray", "block_generator", "lognormal_from_mean_sd"]


class DistKind(StrEnum):
    FIXED = "fixed"
    LOGNORMAL = "lognormal"
    TRIANGULAR = "triangular"
    PERT = "pert"
    UNIFORM = "uniform"


@dataclass(frozen=True)
class Dist:
    """A univariate distribution. Lognormal is held as (mu, sigma) of the underlying normal; triangular,
    PERT and uniform as (low, mode, high); fixed as ``value`` in ``low``."""

    kind: DistKind
    low: float = 0.0
    mode: float = 0.0
    high: float = 0.0
    mu: float = 0.0
    sigma: float = 0.0

    # -- constructors --------------------------------------------------------------------------------
    @classmethod
    def fixed(cls, value: float) -> Dist:
        return cls(DistKind.FIXED, low=value, mode=value, high=value)

    @classmethod
    def lognormal(cls, mu: float, sigma: float) -> Dist:
        return cls(DistKind.LOGNORMAL, mu=mu, sigma=sigma)

    @classmethod
    def lognormal_mean_sd(cls, mean: float, sd: float) -> Dist:
        mu, sigma = lognormal_from_mean_sd(mean, sd)
        return cls(DistKind.LOGNORMAL, mu=mu, sigma=sigma)

    @classmethod
    def triangular(cls, low: float, mode: float, high: float) -> Dist:
        return cls(DistKind.TRIANGULAR, low=low, mode=mode, high=high)

    @classmethod
    def pert(cls, low: float, mode: float, high: float) -> Dist:
        return cls(DistKind.PERT, low=low, mode=mode, high=high)

    @classmethod
    def uniform(cls, low: float, high: float) -> Dist:
        return cls(DistKind.UNIFORM, low=low, mode=(low + high) / 2, high=high)

    # -- properties ----------------------------------------------------------------------------------
    @property
    def degenerate(self) -> bool:
        if self.kind is DistKind.LOGNORMAL:
            return self.sigma == 0.0
        return self.low == self.high

    @property
    def pert_ab(self) -> tuple[float, float]:
        span = self.high - self.low
        return 1 + 4 * (self.mode - self.low) / span, 1 + 4 * (self.high - self.mode) / span

    def mean(self) -> float:
        k = self.kind
        if k is DistKind.LOGNORMAL:
            return math.exp(self.mu + self.sigma ** 2 / 2)
        if k is DistKind.TRIANGULAR:
            return (self.low + self.mode + self.high) / 3
        if k is DistKind.PERT:
            return (self.low + 4 * self.mode + self.high) / 6
        return (self.low + self.high) / 2  # fixed, uniform

    def var(self) -> float:
        k, a, c, b = self.kind, self.low, self.mode, self.high
        if k is DistKind.FIXED or self.degenerate:
            return 0.0
        if k is DistKind.LOGNORMAL:
            return (math.exp(self.sigma ** 2) - 1) * math.exp(2 * self.mu + self.sigma ** 2)
        if k is DistKind.TRIANGULAR:
            return (a * a + b * b + c * c - a * b - a * c - b * c) / 18
        if k is DistKind.PERT:
            al, be = self.pert_ab
            return (b - a) ** 2 * al * be / ((al + be) ** 2 * (al + be + 1))
        return (b - a) ** 2 / 12

    def ppf(self, q: float) -> float:
        """The inverse CDF at ``q`` (0 < q < 1)."""
        k, a, c, b = self.kind, self.low, self.mode, self.high
        if k is DistKind.FIXED or self.degenerate:
            return self.mean() if k is DistKind.LOGNORMAL else a
        if k is DistKind.LOGNORMAL:
            return math.exp(self.mu + self.sigma * float(stats.norm.ppf(q)))
        if k is DistKind.TRIANGULAR:
            fc = (c - a) / (b - a)
            if q < fc:
                return a + math.sqrt(q * (b - a) * (c - a))
            return b - math.sqrt((1 - q) * (b - a) * (b - c))
        if k is DistKind.PERT:
            al, be = self.pert_ab
            return a + (b - a) * float(stats.beta.ppf(q, al, be))
        return a + q * (b - a)

    def support(self) -> tuple[float, float]:
        """(lowest, highest) value a draw can take (``inf`` for the lognormal's upper end)."""
        if self.kind is DistKind.LOGNORMAL:
            return (0.0, math.inf) if self.sigma > 0 else (self.mean(), self.mean())
        return self.low, self.high

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        k = self.kind
        if k is DistKind.FIXED or self.degenerate:
            return np.full(n, self.mean() if k is DistKind.LOGNORMAL else self.low)
        if k is DistKind.LOGNORMAL:
            return np.exp(self.mu + self.sigma * rng.standard_normal(n))
        if k is DistKind.TRIANGULAR:
            return rng.triangular(self.low, self.mode, self.high, n)
        if k is DistKind.PERT:
            al, be = self.pert_ab
            return self.low + (self.high - self.low) * rng.beta(al, be, n)
        return rng.uniform(self.low, self.high, n)

    def scaled(self, factor: float) -> Dist:
        """The distribution of ``factor * X``."""
        if self.kind is DistKind.LOGNORMAL:
            return Dist(DistKind.LOGNORMAL, mu=self.mu + math.log(factor), sigma=self.sigma)
        return Dist(self.kind, low=self.low * factor, mode=self.mode * factor, high=self.high * factor)

    def describe(self) -> str:
        k = self.kind
        if k is DistKind.FIXED:
            return f"{self.low:g}"
        if k is DistKind.LOGNORMAL:
            return f"lognormal(mean {self.mean():.3g}, sd {math.sqrt(self.var()):.3g})"
        if k is DistKind.UNIFORM:
            return f"uniform({self.low:g}, {self.high:g})"
        return f"{k.value}({self.low:g}, {self.mode:g}, {self.high:g})"


def lognormal_from_mean_sd(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with the given mean and standard deviation."""
    if mean <= 0 or sd < 0:
        raise ValueError(f"a lognormal needs mean > 0 and sd >= 0, got mean {mean}, sd {sd}")
    s2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - s2 / 2, math.sqrt(s2)


def block_generator(seed: int, block: int) -> np.random.Generator:
    """The generator for block ``block`` of a run seeded with ``seed``: the ``block``-th child of
    ``SeedSequence(seed)``. Blocks are the unit of randomness, so how blocks are grouped into chunks,
    processes or Dask partitions never changes a draw."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
