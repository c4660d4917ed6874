"""EU supply-risk indicator (EU critical raw materials methodology; Blengini et al. 2017, used for the
2017, 2020 and 2023 EU lists), as pure functions on frames.

    SR = [ HHI_WGI,t(GS) x IR/2  +  HHI_WGI,t(EU sourcing) x (1 - IR/2) ] x (1 - EoL_RIR) x SI_SR

* ``HHI_WGI,t = sum_i s_i^2 x WGI_i x t_i`` over the supplying countries i, with shares s_i as fractions,
  WGI_i the governance score rescaled to 0-10 (10 = worst) and t_i the trade-related variable.
* GS (global supply): shares of world production. EU sourcing: the EU's actual supply mix, i.e. the
  production of the EU member states (each with its own governance) plus extra-EU imports by exporter.
* IR, import reliance = (imports - exports) / (EU production + imports - exports), extra-EU trade only,
  clipped to 0-1.
* EoL_RIR: end-of-life recycling input rate; SI_SR: substitution index for supply risk (0-1).

Uncertainties (docs/analytics.md): the guidelines' WGI is the mean of the six WGI dimensions, rescaled
0-10; orechain ships the Political Stability dimension only, so by default it stands in for the mean
(pass another governance frame to use the mean). The exact values of t were not verified and default to
1; SI_SR defaults to 1 (no substitution credit: an upper bound). Parameters are data in
``analytics/data/eu_sr_parameters.csv``, each with its source and quality.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from orechain.analytics.errors import AnalyticsInputError

__all__ = ["eu_sr_parameters", "governance_0_10", "hhi_wgi", "supply_risk"]

_AGG = ("WLD", "OTH")


def eu_sr_parameters() -> pd.DataFrame:
    """The shipped parameters: commodity (``*`` = every commodity), parameter, value, quality, source, note."""
    text = (resources.files("orechain.analytics") / "data" / "eu_sr_parameters.csv").read_text(encoding="utf-8")
    df = pd.DataFrame(list(csv.DictReader(io.StringIO(text))))
    df["value"] = df["value"].astype(float)
    return df


def _param(params: pd.DataFrame, commodity: str, name: str) -> tuple[float, str] | None:
    p = params[(params["parameter"] == name) & (params["commodity"] == commodity)]
    if not len(p):
        p = params[(params["parameter"] == name) & (params["commodity"] == "*")]
    if not len(p):
        return None
    return float(p["value"].iloc[0]), f"{p['quality'].iloc[0]}: {p['source'].iloc[0]}"


def _note(params: pd.DataFrame, name: str) -> str:
    """A ``*`` parameter row as text: its note, quality and source ("not stated" when the row is absent)."""
    p = params[(params["parameter"] == name) & (params["commodity"] == "*")]
    if not len(p):
        return f"{name} not stated (no parameter row)"
    return f"{p['note'].iloc[0]} ({p['quality'].iloc[0]}: {p['source'].iloc[0]})"


def governance_0_10(estimate: pd.Series | np.ndarray) -> np.ndarray:
    """A WGI estimate (about -2.5..+2.5, higher = better) rescaled to 0-10 with 10 the worst."""
    return np.clip((2.5 - np.asarray(estimate, dtype=float)) * 2.0, 0.0, 10.0)


def hhi_wgi(supply: pd.DataFrame, governance: pd.DataFrame, *, by: Sequence[str] = ("material", "year"),
            trade_factor: Mapping[str, float] | None = None, default_trade_factor: float = 1.0) -> pd.DataFrame:
    """Governance-weighted HHI per group: ``supply`` has by..., country, value; ``governance`` has country,
    year, wgi10. ``trade_factor`` gives t per supplying country, ``default_trade_factor`` the t of every other
    one. Countries without a governance value are left out of the sum and reported (``missing_share``,
    ``missing``), so the index is then a lower bound."""
    by = list(by)
    s = supply[~supply["country"].isin(_AGG)].groupby([*by, "country"])["value"].sum().reset_index()
    if (s["value"] < 0).any():
        raise AnalyticsInputError("supply risk", ["negative supply value"])
    tot = s.groupby(by)["value"].transform("sum")
    if (tot <= 0).any():
        bad = s.loc[tot <= 0, by].drop_duplicates()
        raise AnalyticsInputError("supply risk", [f"total supply is zero for {tuple(r)}" for r in bad.itertuples(
            index=False)])
    s["share"] = s["value"] / tot
    g = governance[["country", "year", "wgi10"]].drop_duplicates(["country", "year"])
    s = s.merge(g, on=["country", "year"], how="left")
    s["t"] = s["country"].map(trade_factor or {}).fillna(default_trade_factor)
    s["term"] = s["share"] ** 2 * s["wgi10"] * s["t"]
    grp = s.groupby(by)
    out = pd.DataFrame({"hhi_wgi": grp["term"].sum(min_count=0), "hhi": grp["share"].apply(lambda x: (x**2).sum())})
    miss = s[s["wgi10"].isna()].groupby(by)
    out["missing_share"] = miss["share"].sum()
    out["missing"] = miss["country"].agg(lambda c: " ".join(sorted(map(str, c))))
    out["missing_share"] = out["missing_share"].fillna(0.0)
    out["missing"] = out["missing"].fillna("")
    return out.reset_index()


def supply_risk(production: pd.DataFrame, trade: pd.DataFrame, governance: pd.DataFrame, materials: Sequence[str],
                years: Sequence[int], *, region: Sequence[str], params: pd.DataFrame | None = None,
                substitution_index: Mapping[str, float] | None = None, eol_rir: Mapping[str, float] | None = None,
                trade_factor: Mapping[str, float] | None = None, governance_basis: str | None = None) -> pd.DataFrame:
    """EU supply risk per (material, year) for the importing ``region`` (the EU-27 member codes).

    ``production``: material, country, year, value. ``trade``: material, year, importer, exporter, qty (t).
    ``governance``: country, year, wgi10 (see :func:`governance_0_10`). Every parameter used is reported
    with its provenance: ``eol_rir_source``, ``si_sr_source``, ``trade_factor`` (the t of the suppliers not
    given in ``trade_factor``) with ``trade_factor_source``, and ``assumptions``, which lists each assumption
    the row rests on (value, quality and source), the governance stand-in included (``params`` row
    ``governance_dimensions``; ``governance_basis`` replaces its text when another governance frame is passed).
    """
    params = eu_sr_parameters() if params is None else params
    members = set(region)
    problems: list[str] = []
    rows = []
    p_all = production[production["material"].isin(materials) & production["year"].isin(years)]
    t_all = trade[trade["material"].isin(materials) & trade["year"].isin(years)]
    for m in materials:
        for y in years:
            if not ((p_all["material"] == m) & (p_all["year"] == y)).any():
                problems.append(f"no production data for {m!r} in {y}")
            if not ((t_all["material"] == m) & (t_all["year"] == y)).any():
                problems.append(f"no trade data for {m!r} in {y}")
        if (eol_rir or {}).get(m) is None and _param(params, m, "eol_rir") is None:
            problems.append(f"no end-of-life recycling input rate for {m!r} (pass eol_rir=)")
    if problems:
        raise AnalyticsInputError("supply risk", problems)
    t_default, t_src = _param(params, "*", "trade_factor") or (1.0, "default: no parameter row")
    t_note = f"t={t_default:g} for every supplying country ({t_src})"
    if trade_factor:
        t_note = f"t given for {', '.join(sorted(trade_factor))}; {t_default:g} for the others ({t_src})"
    gov_note = governance_basis or _note(params, "governance_dimensions")
    gs: dict[tuple[str, int], dict[Any, Any]] = {
        (str(r["material"]), int(r["year"])): r for r in hhi_wgi(p_all, governance, trade_factor=trade_factor,
                                                                 default_trade_factor=t_default).to_dict("records")}
    prod_eu = p_all[p_all["country"].isin(members)]
    extra_in = t_all[t_all["importer"].isin(members) & ~t_all["exporter"].isin(members)]
    extra_out = t_all[t_all["exporter"].isin(members) & ~t_all["importer"].isin(members)]
    imports = extra_in.groupby(["material", "year", "exporter"])["qty"].sum().reset_index().rename(
        columns={"exporter": "country", "qty": "value"})
    sourcing = pd.concat([prod_eu[["material", "year", "country", "value"]], imports], ignore_index=True)
    eu: dict[tuple[str, int], dict[Any, Any]] = {
        (str(r["material"]), int(r["year"])): r for r in hhi_wgi(sourcing, governance, trade_factor=trade_factor,
                                                                 default_trade_factor=t_default).to_dict("records")}
    for m in materials:
        eol, eol_src = (eol_rir[m], "given") if eol_rir and m in eol_rir else _param(params, m, "eol_rir")  # type: ignore[misc]
        si_given = substitution_index.get(m) if substitution_index else None
        si, si_src = (si_given, "given") if si_given is not None else _param(params, m, "si_sr") or (1.0, "default")
        assumptions = "; ".join([f"eol_rir={eol:g} ({eol_src})", f"si_sr={si:g} ({si_src})", f"trade factor {t_note}",
                                 f"governance: {gov_note}"])
        for y in years:
            imp = float(extra_in[(extra_in["material"] == m) & (extra_in["year"] == y)]["qty"].sum())
            exp = float(extra_out[(extra_out["material"] == m) & (extra_out["year"] == y)]["qty"].sum())
            dom = float(prod_eu[(prod_eu["material"] == m) & (prod_eu["year"] == y)]["value"].sum())
            denom = dom + imp - exp
            ir = float(np.clip((imp - exp) / denom, 0.0, 1.0)) if denom > 0 else 0.0
            g, e = gs[(m, int(y))], eu.get((m, int(y)))
            e_hhi = float(e["hhi_wgi"]) if e is not None else 0.0
            g_hhi = float(g["hhi_wgi"])
            sr = (g_hhi * ir / 2 + e_hhi * (1 - ir / 2)) * (1 - eol) * si
            rows.append({"material": m, "year": y, "supply_risk": sr, "hhi_wgi_gs": g_hhi,
                         "hhi_wgi_eu": e_hhi, "import_reliance": ir, "eu_production": dom, "extra_eu_imports": imp,
                         "extra_eu_exports": exp, "eol_rir": eol, "eol_rir_source": eol_src, "si_sr": si,
                         "si_sr_source": si_src, "trade_factor": t_default, "trade_factor_source": t_src,
                         "assumptions": assumptions,
                         "gs_missing_governance": g["missing"], "eu_missing_governance": "" if e is None else
                         e["missing"]})
    return pd.DataFrame(rows)
