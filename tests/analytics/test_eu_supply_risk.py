"""EU supply risk on a hand-computed example."""

from __future__ import annotations

import pandas as pd
import pytest

from orechain.analytics.errors import AnalyticsInputError
from orechain.analytics.eu_supply_risk import eu_sr_parameters, governance_0_10, hhi_wgi, supply_risk

PROD = pd.DataFrame({"material": ["x"] * 3, "year": [2023] * 3, "country": ["CHN", "FRA", "AUS"],
                     "value": [80.0, 10.0, 10.0]})
TRADE = pd.DataFrame({"material": ["x"] * 3, "year": [2023] * 3, "importer": ["DEU", "FRA", "USA"],
                      "exporter": ["CHN", "AUS", "FRA"], "qty": [30.0, 10.0, 5.0]})
GOV = pd.DataFrame({"country": ["CHN", "FRA", "AUS"], "year": [2023] * 3, "wgi10": [6.0, 3.0, 2.0]})
EU = ["DEU", "FRA"]


def test_supply_risk_by_hand() -> None:
    r = supply_risk(PROD, TRADE, GOV, ["x"], [2023], region=EU, eol_rir={"x": 0.2}, substitution_index={"x": 0.9})
    row = r.iloc[0]
    gs = 0.8**2 * 6 + 0.1**2 * 3 + 0.1**2 * 2
    # EU sourcing: FRA production 10, imports CHN 30, AUS 10 -> shares 0.2, 0.6, 0.2
    eu = 0.2**2 * 3 + 0.6**2 * 6 + 0.2**2 * 2
    ir = (40 - 5) / (10 + 40 - 5)
    assert row["hhi_wgi_gs"] == pytest.approx(gs)
    assert row["hhi_wgi_eu"] == pytest.approx(eu)
    assert row["import_reliance"] == pytest.approx(ir)
    assert row["supply_risk"] == pytest.approx((gs * ir / 2 + eu * (1 - ir / 2)) * 0.8 * 0.9)
    assert row["si_sr_source"] == "given"


def test_shipped_parameters_carry_sources() -> None:
    p = eu_sr_parameters()
    assert {"eol_rir", "si_sr", "trade_factor"} <= set(p["parameter"])
    assert p["source"].str.len().min() > 0
    assert set(p["quality"]) <= {"primary", "secondary", "unconfirmed", "assumption"}
    r = supply_risk(PROD.assign(material="copper"), TRADE.assign(material="copper"), GOV, ["copper"], [2023],
                    region=EU)
    assert r.iloc[0]["eol_rir"] == 0.55
    assert r.iloc[0]["si_sr"] == 1.0
    assert r.iloc[0]["si_sr_source"].startswith("assumption")


def test_missing_governance_is_reported_and_trade_factor_applies() -> None:
    h = hhi_wgi(PROD, GOV[GOV["country"] != "AUS"], trade_factor={"CHN": 1.1}).iloc[0]
    assert h["missing"] == "AUS"
    assert h["missing_share"] == pytest.approx(0.1)
    assert h["hhi_wgi"] == pytest.approx(0.64 * 6 * 1.1 + 0.01 * 3)


def test_bad_input() -> None:
    with pytest.raises(AnalyticsInputError, match="no production data"):
        supply_risk(PROD, TRADE, GOV, ["x"], [2030], region=EU, eol_rir={"x": 0.1})
    with pytest.raises(AnalyticsInputError, match="recycling input rate"):
        supply_risk(PROD, TRADE, GOV, ["x"], [2023], region=EU)
    assert list(governance_0_10([2.5, -2.5, 0.0])) == [0.0, 10.0, 5.0]


def test_every_parameter_source_is_a_shipped_source_or_a_stated_assumption() -> None:
    from orechain.evidence.shipped import load_dataset

    known = {s.id for s in load_dataset().sources}
    p = eu_sr_parameters()
    for row in p.itertuples():
        assert row.source in known or (row.source == "orechain" and row.quality == "assumption"), row
        assert str(row.note).strip(), row  # each says what it is


def test_each_row_lists_the_assumptions_it_rests_on() -> None:
    r = supply_risk(PROD.assign(material="copper"), TRADE.assign(material="copper"), GOV, ["copper"], [2023],
                    region=EU).iloc[0]
    a = r["assumptions"]
    assert "eol_rir=0.55 (secondary: eu-crm-2023)" in a
    assert "si_sr=1 (assumption: orechain)" in a
    assert "t=1 for every supplying country (assumption: orechain)" in a
    assert "PV.EST" in a and "six WGI dimensions" in a
    assert r["trade_factor"] == 1.0 and r["trade_factor_source"] == "assumption: orechain"
    given = supply_risk(PROD, TRADE, GOV, ["x"], [2023], region=EU, eol_rir={"x": 0.2}, trade_factor={"CHN": 1.1},
                        governance_basis="mean of the six WGI dimensions (given)").iloc[0]
    assert "t given for CHN; 1 for the others" in given["assumptions"]
    assert "governance: mean of the six WGI dimensions (given)" in given["assumptions"]


def test_the_trade_factor_parameter_row_is_applied() -> None:
    p = eu_sr_parameters()
    p.loc[p["parameter"] == "trade_factor", "value"] = 2.0
    base = supply_risk(PROD, TRADE, GOV, ["x"], [2023], region=EU, eol_rir={"x": 0.2}).iloc[0]
    doubled = supply_risk(PROD, TRADE, GOV, ["x"], [2023], region=EU, eol_rir={"x": 0.2}, params=p).iloc[0]
    assert doubled["hhi_wgi_gs"] == pytest.approx(2 * base["hhi_wgi_gs"])
    assert doubled["supply_risk"] == pytest.approx(2 * base["supply_risk"]) and doubled["trade_factor"] == 2.0
