# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 02 · Who controls each stage of the rare-earth chain, and what reaches the US without China?
#
# Three ways to answer "who controls each stage", from the quickest to the most detailed:
#
# 1. the published stage shares (IEA, USGS) as they stand in the evidence base;
# 2. concentration of mine production computed from the USGS country tables, source by source;
# 3. tracing the US supply back through the facility network, by host and by controlling country
#    (a Chinese-owned plant abroad counts for China), and the maximum flow of NdPr oxide that can reach
#    the US through facilities not controlled from China ("independent-chain capacity").
#
# CLI equivalents: `orechain query observations --metric stage_share`, `orechain risk hhi`,
# `orechain trace --consumer USA --exclude CHN`.

# %%
import os

import pandas as pd

from orechain.analytics import inputs
from orechain.analytics.concentration import concentration
from orechain.analytics.network import build_network, independent_capacity, trace
from orechain.evidence import queries
from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store

pd.set_option("display.width", 140)

store = Store.open(os.environ.get("ORECHAIN_DB"))
load_into(store)

# %% [markdown]
# ## 1. Published stage shares
#
# Each row is one source's figure, with its quality flag; sources that disagree stay side by side.

# %%
shares = queries.observations(store, metric="stage_share", commodity="rare-earths", country="CHN")
print(shares[["stage", "year", "period", "value_text", "quality", "source_id"]].to_string(index=False))

# %% [markdown]
# ## 2. Concentration of mine production, per source
#
# `inputs.production_frame` turns the production rows into a supply frame; `concentration` computes
# each country's share (the published world total is the denominator when there is one), the HHI
# (0-1 and 0-10,000) and the top-3 share. Grouping by `source_id` keeps each USGS edition apart.

# %%
prod = inputs.production_frame(store, "rare-earths")
conc = concentration(prod[prod["year"] >= 2022], by=["commodity", "stage", "source_id", "year"])
print(conc[["source_id", "year", "basis", "leader", "leader_share", "hhi_10000", "top3", "top3_share"]]
      .round(3).to_string(index=False))
latest = conc[(conc["source_id"] == "usgs-mcs-2025-ree") & (conc["year"] == 2024)].iloc[0]
assert latest["leader"] == "CHN" and abs(latest["leader_share"] - 0.69) < 0.005  # USGS MCS 2025: 69%

# %% [markdown]
# ## 3. Host country versus controlling country
#
# A facility is controlled from the country whose organisations hold the largest stake in it (followed up
# the chain of majority owners); without recorded owners, from its operator's country, then its host
# (docs/analytics.md). These producing facilities are hosted in one country and controlled from another:

# %%
fac = inputs.facility_frame(store, "rare-earths")  # operating and commissioning facilities
abroad = fac[fac["country"] != fac["controller"]]
print(abroad[["id", "stage", "country", "controller", "control_basis"]].to_string(index=False))

# %% [markdown]
# ## 4. Tracing the US supply, mine to magnet
#
# `build_network` converts every capacity to tonnes of NdPr-oxide equivalent per year (factors in
# `analytics/data/chain_basis.csv`, each with its source or stated assumption). Where plant capacities
# cannot be sourced, a national aggregate (e.g. China's quota) stands for the country's plants at a stage.
# `trace` then allocates the US supply back from the magnet plants to the mines.

# %%
links = queries.links(store)
net = build_network(fac, links, commodity="rare-earths")
print(f"{net.size} facilities over stages {', '.join(net.stages)}; "
      f"{len(net.missing_capacity)} without a recorded capacity; bypassable: {', '.join(net.bypass) or 'none'}")
result = trace(net, ["USA"])
print(result.stage_shares[result.stage_shares["hosted"] + result.stage_shares["controlled"] > 0]
      .round(3).to_string(index=False))
print(result.path_shares.head(6).round(3).to_string(index=False))

# %% [markdown]
# `hosted` and `controlled` differ where a plant is owned from abroad (Lynas's Malaysian plant counts for
# Australia under `controlled`). A route lists host countries from mine to magnet; a `?` marks supply that
# cannot be traced further back (a plant whose known suppliers have no capacity). Path shares are only as
# good as the offtake links and capacities in the evidence base.
#
# ## 5. How much NdPr oxide could reach the US through chains free of China-controlled plants?
#
# The maximum flow from the mines to the US through the facilities left after removing those controlled
# from China, each plant's capacity bounding the flow through it. A plant without a recorded capacity is
# never taken as zero silently: `value` gives it none (a lower bound), `value_upper` gives it unlimited
# capacity (an upper bound), and `missing` lists them, so the gap between the two says how much the
# unknowns matter.

# %%
everyone = independent_capacity(net, [])
no_china = independent_capacity(net, ["CHN"])
for label, res in (("all facilities", everyone), ("excluding China-controlled", no_china)):
    print(f"{label:>27}: {res.value:>9,.0f} to {res.value_upper:>9,.0f} {net.basis}/yr "
          f"(bottleneck: {res.bottleneck_stage})")
print(no_china.stage_capacity.round(1).to_string(index=False))
print("minimum cut (the facilities that limit the lower bound):")
print(no_china.cut[no_china.cut["capacity"] > 0].round(1).to_string(index=False))
unknown = no_china.missing[~no_china.missing["excluded"]]
print(f"{len(unknown)} facilities left in the chain have no recorded capacity:",
      ", ".join(unknown["id"]))
assert 0 <= no_china.value <= everyone.value
assert no_china.value <= no_china.value_upper
store.close()
