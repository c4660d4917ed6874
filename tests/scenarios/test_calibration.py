"""Calibration of default gate durations from the published lead times."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orechain.scenarios.calibration import (
    _calibrated,
    default_gates,
    expected_extreme_z,
    fit_lognormal_mean_range,
    fit_lognormal_mle,
    lead_times,
    split_equal_cv,
)
from orechain.scenarios.sampling import Dist


def test_mine_fit_keeps_the_published_mean() -> None:
    m = lead_times()["mine_discovery_to_production"]
    assert (m["mean"], m["min"], m["max"], m["n"], m["quality"]) == (15.7, 6, 32, 127, "primary")
    mu, sigma = fit_lognormal_mean_range(15.7, 6, 32, 127)
    assert Dist.lognormal(mu, sigma).mean() == pytest.approx(15.7, rel=1e-12)
    z = expected_extreme_z(127)
    assert 2 * z * sigma == pytest.approx(math.log(32 / 6))


def test_mine_gates_sum_to_the_calibrated_total() -> None:
    mu, sigma = fit_lognormal_mean_range(15.7, 6, 32, 127)
    total = Dist.lognormal(mu, sigma)
    gates = [g for g in _calibrated()["mine"] if g.name != "announced->exploration"]
    assert sum(g.duration.mean() for g in gates) == pytest.approx(total.mean())
    assert sum(g.duration.var() for g in gates) == pytest.approx(total.var())


def test_split_equal_cv_exact_moments_and_fenton_wilkinson() -> None:
    gates = split_equal_cv(10.0, 3.0, [0.5, 0.3, 0.2])
    assert sum(g.mean() for g in gates) == pytest.approx(10.0)
    assert sum(g.var() for g in gates) == pytest.approx(9.0)
    # Fenton-Wilkinson: the sum is close to the lognormal with the same two moments
    rng = np.random.default_rng(0)
    total = sum(g.sample(rng, 400_000) for g in gates)
    fw = Dist.lognormal_mean_sd(10.0, 3.0)
    for q in (0.1, 0.5, 0.9):
        assert np.quantile(total, q) == pytest.approx(fw.ppf(q), rel=0.03)
    with pytest.raises(ValueError, match="sum to 1"):
        split_equal_cv(1, 1, [0.5, 0.4])


def test_plant_fit_is_mle_of_three_observations() -> None:
    mu, _sigma = fit_lognormal_mle([2.3, 2.0, 5.0])
    assert mu == pytest.approx(np.log([2.3, 2.0, 5.0]).mean())
    plant = _calibrated()["plant"]
    assert sum(g.duration.mean() for g in plant) == pytest.approx(8.0)  # the IEA's ~8 years (secondary)


@pytest.mark.parametrize(("route", "status", "first"), [
    ("mine", "exploration", "exploration->pea"), ("mine", "mou", "announced->exploration"),
    ("mine", "construction", "construction->commissioning"), ("plant", "pfs", "announced->fs"),
    ("plant", "financed", "financed->construction"), ("mine", "commissioning", None),
])
def test_default_gates_start_at_the_status(route: str, status: str, first: str | None) -> None:
    gates = default_gates(route, status)
    assert (gates[0].name if gates else None) == first
