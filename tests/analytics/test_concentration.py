"""Concentration: shares, HHI, top-n, governance weighting, controlling country."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orechain.analytics.concentration import (
    concentration,
    controlling_countries,
    hhi,
    normalise_governance,
    organisation_controllers,
    shares,
)
from orechain.analytics.errors import AnalyticsInputError


def _supply(rows: list[tuple[str, float]], year: int = 2024) -> pd.DataFrame:
    return pd.DataFrame([{"commodity": "rare-earths", "stage": "mining", "year": year, "country": c, "value": v}
                         for c, v in rows])


def test_hhi_of_shares_and_values_agree() -> None:
    assert hhi([0.5, 0.5]) == pytest.approx(0.5)
    assert hhi([3, 1]) == pytest.approx(0.75**2 + 0.25**2)
    with pytest.raises(AnalyticsInputError):
        hhi([1, -1])
    with pytest.raises(AnalyticsInputError):
        hhi([0, 0])


def test_world_row_is_the_denominator_and_basis_is_reported() -> None:
    df = _supply([("CHN", 270_000), ("USA", 45_000), ("WLD", 390_000)])
    s = shares(df)
    assert list(s["country"]) == ["CHN", "USA"]
    assert s.loc[0, "share"] == pytest.approx(270 / 390)
    assert set(s["basis"]) == {"world row"}
    s2 = shares(df, denominator="sum")
    assert s2.loc[0, "share"] == pytest.approx(270 / 315)


def test_concentration_hhi_top_n_and_other_rows() -> None:
    df = _supply([("CHN", 60), ("USA", 20), ("AUS", 10), ("OTH", 10)])
    c = concentration(df, top_n=2).iloc[0]
    assert c["hhi"] == pytest.approx(0.6**2 + 0.2**2 + 0.1**2)  # OTH is not squared: lower bound
    assert c["hhi_10000"] == pytest.approx(c["hhi"] * 10_000)
    assert c["top2_share"] == pytest.approx(0.8)
    assert c["top2"] == "CHN USA"
    assert c["other_share"] == pytest.approx(0.1)
    assert c["leader"] == "CHN"
    assert c["countries"] == 3


def test_governance_weighting_flags_missing_countries() -> None:
    df = _supply([("CHN", 50), ("USA", 30), ("TWN", 20)])
    gov = pd.DataFrame({"country": ["CHN", "USA"], "year": [2024, 2024], "risk": [0.6, 0.4]})
    c = concentration(df, governance=gov).iloc[0]
    assert c["gw_hhi"] == pytest.approx(0.25 * 0.6 + 0.09 * 0.4)
    assert c["gw_missing"] == "TWN"
    assert c["gw_missing_share"] == pytest.approx(0.2)


def test_bad_input_names_the_group() -> None:
    with pytest.raises(AnalyticsInputError, match="negative"):
        shares(_supply([("CHN", -1), ("USA", 2)]))
    with pytest.raises(AnalyticsInputError, match="total is zero"):
        shares(_supply([("CHN", 0), ("USA", 0)]))
    with pytest.raises(AnalyticsInputError, match="no value"):
        shares(_supply([("CHN", np.nan), ("USA", 2)]))


def test_groups_are_kept_apart() -> None:
    df = pd.concat([_supply([("CHN", 1), ("USA", 1)], 2023), _supply([("CHN", 3), ("USA", 1)], 2024)])
    c = concentration(df).set_index("year")
    assert c.loc[2023, "hhi"] == pytest.approx(0.5)
    assert c.loc[2024, "hhi"] == pytest.approx(0.625)


def test_normalise_governance_clips() -> None:
    assert list(normalise_governance(np.array([2.5, -2.5, 0.0, 3.0, -3.0]))) == [0.0, 1.0, 0.5, 0.0, 1.0]
    assert np.isnan(normalise_governance(np.array([np.nan]))[0])


ORGS = pd.DataFrame({"id": ["shenghe", "sub", "lynas", "jv", "fwo"], "country": ["CHN", "AUS", "AUS", "USA", "PAK"]})


def test_majority_owner_chain_decides_organisation_control() -> None:
    own = pd.DataFrame({"owner": ["shenghe"], "owned": ["sub"], "stake": [0.6]})
    c = organisation_controllers(ORGS, own).set_index("id")
    assert c.loc["sub", "control_country"] == "CHN"
    assert c.loc["sub", "chain"] == "sub > shenghe"
    assert c.loc["lynas", "control_country"] == "AUS"
    # a minority stake does not pass control
    c2 = organisation_controllers(ORGS, own.assign(stake=0.4)).set_index("id")
    assert c2.loc["sub", "control_country"] == "AUS"


def test_chinese_owned_plant_abroad_counts_for_china() -> None:
    fac = pd.DataFrame({"id": ["f1", "f2", "f3"], "country": ["AUS", "USA", "PAK"],
                        "operator": [None, None, "fwo"]})
    owners = pd.DataFrame({"facility": ["f1", "f2", "f2", "f2"], "organisation": ["sub", "jv", "lynas", "shenghe"],
                           "stake": [1.0, 0.45, 0.35, 0.2]})
    own = pd.DataFrame({"owner": ["shenghe"], "owned": ["sub"], "stake": [0.6]})
    c = controlling_countries(fac, owners, ORGS, own).set_index("facility")
    assert c.loc["f1", "controller"] == "CHN"
    assert c.loc["f1", "host"] == "AUS"
    assert c.loc["f2", "controller"] == "USA"
    assert c.loc["f2", "control_basis"] == "largest owner stake"
    assert c.loc["f3", "controller"] == "PAK"
    assert c.loc["f3", "control_basis"] == "operator"
    m = controlling_countries(fac, owners, ORGS, own, rule="majority").set_index("facility")
    assert m.loc["f2", "controller"] == "USA"  # no majority country: host country
    assert m.loc["f2", "control_basis"].startswith("host country")


def test_unknown_owner_is_an_error() -> None:
    fac = pd.DataFrame({"id": ["f1"], "country": ["AUS"], "operator": [None]})
    owners = pd.DataFrame({"facility": ["f1"], "organisation": ["nobody"], "stake": [1.0]})
    with pytest.raises(AnalyticsInputError, match="nobody"):
        controlling_countries(fac, owners, ORGS)
