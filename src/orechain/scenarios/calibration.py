"""Default gate durations and failure probabilities, calibrated from published lead times.

The published figures live in ``scenarios/data/lead_times.yaml`` with their sources and quality. Two
calibrations are made from them (pure functions, tested):

* **Mines.** S&P Global (2023): discovery to production took 15.7 years on average, range 6-32, over 127
  mines. A lognormal is fitted with its mean fixed at 15.7 and its sigma set so that the expected smallest
  and largest of 127 draws (Blom plotting positions, z = +/-2.58) span 6 to 32 years in log space
  (:func:`fit_lognormal_mean_range`). The total is split over the six gates exploration -> ... ->
  commissioning by fixed shares (an assumption), each gate lognormal with one common coefficient of
  variation chosen so that the sum of the independent gates has exactly the calibrated mean and variance
  (:func:`split_equal_cv`).
* **Processing plants.** Three observed construction-to-output times (2.0, 2.3, 5.0 years) give a lognormal
  by maximum likelihood (:func:`fit_lognormal_mle`); the IEA's attributed ~8-year announcement-to-production
  average (secondary) sets the mean of the three pre-construction gates (8 minus the construction mean),
  which take the construction gate's coefficient of variation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import yaml
from scipy import stats

from orechain.scenarios.sampling import Dist

__all__ = [
    "MINE_STATUSES", "PLANT_STATUSES", "GateDefault", "default_gates", "fit_lognormal_mean_range",
    "fit_lognormal_mle", "lead_times", "split_equal_cv",
]

MINE_STATUSES = ("announced", "exploration", "pea", "pfs", "fs", "financed", "construction", "commissioning")
"""The statuses a mine passes before first output; gate ``k`` leads from status ``k`` to status ``k+1``."""
PLANT_STATUSES = ("announced", "fs", "financed", "construction", "commissioning")
"""The statuses a processing plant (or port) passes before first output."""


@dataclass(frozen=True)
class GateDefault:
    name: str
    duration: Dist
    p_fail: float


@cache
def lead_times() -> dict[str, Any]:
    """The published lead times and the gate assumptions (``data/lead_times.yaml``)."""
    text = (resources.files("orechain.scenarios") / "data" / "lead_times.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def expected_extreme_z(n: int) -> float:
    """The standard-normal z of the expected largest of ``n`` draws (Blom's plotting position)."""
    return float(stats.norm.ppf((n - 0.375) / (n + 0.25)))


def fit_lognormal_mean_range(mean: float, low: float, high: float, n: int) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with mean ``mean`` whose expected extremes of ``n`` draws span
    ``low``..``high`` in log space."""
    sigma = (math.log(high) - math.log(low)) / (2 * expected_extreme_z(n))
    return math.log(mean) - sigma ** 2 / 2, sigma


def fit_lognormal_mle(values: Sequence[float]) -> tuple[float, float]:
    """Maximum-likelihood (mu, sigma) of a lognormal (sigma with the n-1 correction)."""
    logs = np.log(np.asarray(values, dtype=float))
    return float(logs.mean()), float(logs.std(ddof=1))


def split_equal_cv(total_mean: float, total_sd: float, shares: Sequence[float]) -> list[Dist]:
    """Lognormal gates with means ``share * total_mean`` and one common coefficient of variation such that
    their independent sum has mean ``total_mean`` and standard deviation ``total_sd`` exactly."""
    s = np.asarray(shares, dtype=float)
    if abs(s.sum() - 1) > 1e-9:
        raise ValueError(f"gate shares must sum to 1, got {s.sum():.6g}")
    cv = total_sd / (total_mean * math.sqrt(float((s ** 2).sum())))
    return [Dist.lognormal_mean_sd(share * total_mean, cv * share * total_mean) for share in s]


@cache
def _calibrated() -> dict[str, list[GateDefault]]:
    lt = lead_times()
    g = lt["gates"]
    # mines
    m = lt["mine_discovery_to_production"]
    mu, sigma = fit_lognormal_mean_range(m["mean"], m["min"], m["max"], m["n"])
    total = Dist.lognormal(mu, sigma)
    shared = [row for row in g["mine"] if "share" in row]
    split = iter(split_equal_cv(total.mean(), math.sqrt(total.var()), [row["share"] for row in shared]))
    cv = math.sqrt(math.exp(sigma ** 2) - 1)
    mine = []
    for row in g["mine"]:
        dur = next(split) if "share" in row else Dist.lognormal_mean_sd(row["fixed_mean"], cv * row["fixed_mean"])
        mine.append(GateDefault(row["gate"], dur, float(row["p_fail"])))
    # processing plants
    obs = [o["value"] for o in lt["plant_construction_to_production"]["observations"]]
    cmu, csig = fit_lognormal_mle(obs)
    construction = Dist.lognormal(cmu, csig)
    ccv = math.sqrt(construction.var()) / construction.mean()
    prefix_mean = lt["plant_announcement_to_production"]["mean"] - construction.mean()
    plant = []
    for row in g["plant"]:
        if row.get("construction"):
            dur = construction
        else:
            gm = row["prefix_share"] * prefix_mean
            dur = Dist.lognormal_mean_sd(gm, ccv * gm)
        plant.append(GateDefault(row["gate"], dur, float(row["p_fail"])))
    return {"mine": mine, "plant": plant}


def default_gates(path: str, status: str) -> list[GateDefault]:
    """The remaining gates, with calibrated durations and assumed failure probabilities, of a project on
    ``path`` ('mine' or 'plant') now at ``status``. Producing, suspended and closed projects are handled by
    the caller; a status not on the path (e.g. 'pfs' for a plant) starts at the path's last status before it.
    """
    order = MINE_STATUSES if path == "mine" else PLANT_STATUSES
    full = ("announced", "mou", "exploration", "pea", "pfs", "fs", "financed", "construction", "commissioning")
    rank = full.index("announced" if status == "mou" else status)
    pos = max(i for i, s in enumerate(order) if full.index(s) <= rank)
    return _calibrated()[path][pos:]
