# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 03 · Supply-risk indices: HHI, governance-weighted HHI, EU SR and GeoPolRisk
#
# How concentrated, and how risky, is the supply of rare earths, antimony and tungsten? This example
#
# 1. imports the World Bank governance indicator (WGI Political Stability) that ships with orechain,
# 2. computes concentration (HHI) and governance-weighted HHI of mine production,
# 3. computes the global-supply term of the EU supply-risk indicator,
# 4. shows the GeoPolRisk method on a small toy input, where every number can be checked by hand.
#
# The formulas are in docs/terminology.md. GeoPolRisk and the full EU SR also need bilateral trade
# (which countries an importer buys from): the evidence base ships none, so import a CEPII BACI file
# first (`orechain data import baci FILE --codes country_codes_V*.csv`) and then use
# `orechain risk geopolrisk` / `orechain risk eu-sr`.

# %%
import os
from importlib import resources

import pandas as pd

from orechain.analytics import inputs
from orechain.analytics.concentration import concentration
from orechain.analytics.eu_supply_risk import eu_sr_parameters, governance_0_10, hhi_wgi
from orechain.analytics.geopolrisk import geopolrisk
from orechain.evidence.importers import IMPORTERS, run_import
from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store

pd.set_option("display.width", 140)

store = Store.open(os.environ.get("ORECHAIN_DB"))
load_into(store)

# %% [markdown]
# ## 1. Governance: import the shipped WGI table
#
# The WGI Political Stability table (CC BY 4.0, World Bank) ships inside the package but is not loaded by
# `db init`. Importing it is one transaction and idempotent. The importer reports, rather than drops
# silently, the rows it cannot take.

# %%
with resources.as_file(resources.files("orechain.evidence") / "data" / "wgi_pv.csv") as wgi_path:
    record = run_import(store, IMPORTERS["wgi"], wgi_path)
print(record.message())
gov = inputs.governance_frame(store)  # country, year, estimate (-2.5..2.5), risk (0-1, higher = less stable)
print(gov[gov["country"].isin(["CHN", "MMR", "USA", "AUS", "PAK"]) & (gov["year"] == 2023)]
      .round(3).to_string(index=False))

# %% [markdown]
# ## 2. HHI and governance-weighted HHI of mine production
#
# One row per commodity, source and year (each USGS edition stays apart). `gw_hhi` = sum of share² x risk;
# countries without a governance value would be listed in `gw_missing` rather than treated as stable.

# %%
frames = [inputs.production_frame(store, c) for c in ("rare-earths", "antimony", "tungsten")]
prod = pd.concat(frames, ignore_index=True)
prod = prod[prod["year"].isin([2022, 2023, 2024])]
conc = concentration(prod, by=["commodity", "stage", "source_id", "year"], governance=gov)
cols = ["commodity", "source_id", "year", "leader", "leader_share", "hhi_10000", "top3_share", "gw_hhi",
        "gw_missing"]
print(conc[cols].round(3).to_string(index=False))
assert (conc["hhi"] > 0.25).all()  # every one of them is "highly concentrated" (HHI above 2,500)

# %% [markdown]
# ## 3. The EU supply-risk indicator's global-supply term
#
# SR = [HHI_WGI(global supply) x IR/2 + HHI_WGI(EU sourcing) x (1 - IR/2)] x (1 - EoL-RIR) x SI.
# Without trade data only the first term can be computed: HHI_WGI of world production, with WGI rescaled
# to 0-10 (10 = worst). The shipped parameters (EoL-RIR, SI) carry their sources:

# %%
params = eu_sr_parameters()
print(params[params["commodity"].isin(["rare-earths", "antimony", "tungsten", "*"])]
      [["commodity", "parameter", "value", "quality", "source"]].to_string(index=False))
newest = {"rare-earths": "usgs-mcs-2025-ree", "antimony": "usgs-mcs-2024", "tungsten": "usgs-mcs-2024"}
latest = prod[prod["source_id"] == prod["commodity"].map(newest)]  # one USGS edition per commodity
supply = latest.rename(columns={"commodity": "material"})[["material", "year", "country", "value"]]
gov10 = pd.DataFrame({"country": gov["country"], "year": gov["year"], "wgi10": governance_0_10(gov["estimate"])})
gs = hhi_wgi(supply, gov10)
print(gs.round(3).to_string(index=False))

# %% [markdown]
# ## 4. GeoPolRisk on a toy input you can check by hand
#
# **Toy numbers, made up for this illustration** (countries XA, XB, XC; importer XI):
# world production XA 600 t, XB 300 t, XC 100 t, so HHI = 0.6² + 0.3² + 0.1² = 0.46. XI imports 80 t from
# XA (risk 0.7) and 20 t from XB (risk 0.2) and produces nothing, so the import risk is
# (80 x 0.7 + 20 x 0.2) / 100 = 0.60 and the score is 0.46 x 0.60 = 0.276. The price is the import value
# over the quantity: (800 + 300) kUSD / 100 t = 11 kUSD/t (= US$/kg).

# %%
toy_prod = pd.DataFrame({"material": "x", "country": ["XA", "XB", "XC"], "year": 2024, "value": [600.0, 300, 100]})
toy_trade = pd.DataFrame({"material": "x", "year": 2024, "importer": "XI", "exporter": ["XA", "XB"],
                          "qty": [80.0, 20.0], "value": [800.0, 300.0]})
toy_gov = pd.DataFrame({"country": ["XA", "XB"], "year": 2024, "risk": [0.7, 0.2]})
res = geopolrisk(toy_prod, toy_trade, toy_gov, {"XI": ["XI"]}, ["x"], [2024], cf_reference=1.0)
print(res[["importer", "hhi", "import_risk", "score", "price", "cf", "missing_wgi_share"]].to_string(index=False))
assert abs(res["score"].iloc[0] - 0.276) < 1e-12 and abs(res["price"].iloc[0] - 11.0) < 1e-12

# %% [markdown]
# What happens when XB has no governance value? The peer package (geopolrisk-py 2.0.1) stores such a
# gap as 0.0, "perfectly stable", which lowers the risk; orechain's default mode counts it at mid-scale
# (0.5), says so in `missing_wgi_share`/`missing_wgi_partners`, and `missing_wgi=None` refuses the input.

# %%
gap = toy_gov.assign(risk=[0.7, float("nan")])
ours = geopolrisk(toy_prod, toy_trade, gap, {"XI": ["XI"]}, ["x"], [2024], cf_reference=1.0)
peer_like = geopolrisk(toy_prod, toy_trade, gap.fillna(0.0), {"XI": ["XI"]}, ["x"], [2024], mode="compat",
                       cf_reference=1.0)
print(f"default mode: import risk {ours['import_risk'].iloc[0]:.3f}, flagged partners "
      f"{ours['missing_wgi_partners'].iloc[0]!r} ({ours['missing_wgi_share'].iloc[0]:.0%} of imports)")
print(f"compat mode with the gap stored as 0.0: import risk {peer_like['import_risk'].iloc[0]:.3f} (unflagged)")
assert ours["import_risk"].iloc[0] > peer_like["import_risk"].iloc[0]
store.close()
