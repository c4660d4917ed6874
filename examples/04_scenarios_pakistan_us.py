# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 04 · When could the Pakistan-US deal change US dependence on China? A Monte Carlo
#
# The built-in scenario `pakistan-us` puts the USSM-FWO deal on the real non-Chinese rare-earth chain: the
# whole network the evidence base holds (`base:`: every mine, separation, metal and magnet plant not
# controlled by China, with its known links) plus the deal's projects: phase-1 concentrate exports linked to
# Energy Fuels' White Mesa mill (the one US separation plant that takes third-party feed), the planned
# FWO-USSM refinery fed by domestic minerals and ten phase-3 REE-belt mines, the proposed Pasni port the
# refinery's exports need, Balochistan security incidents, China's No. 18 licences and October 2025 export
# controls. Reko Diq (copper-gold) is tracked beside the chain, not in it. Every number names its source and
# quality; modelling choices without a published figure are marked `quality: assumption` (read the file:
# `orechain.scenarios.spec.builtin_path("pakistan-us")`; docs/scenarios.md explains the calibration).
#
# This example runs it, reads the fan chart and the probabilities, asks which input matters most, and
# then asks a "what if": what if the rare-earth belts already had a feasibility study? The short answer it
# finds: the chain's binding stage is metal making, so the Pakistani projects add nothing to what reaches
# the US; their material could only replace other oxide on its way to the metal plants.
# The CLI equivalent of the first run is `orechain simulate pakistan-us --scenarios 20000 --seed 7`.

# %%
import os

import pandas as pd

from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store
from orechain.scenarios.evidence import facility_table
from orechain.scenarios.results import Result, simulate
from orechain.scenarios.spec import builtin_names, builtin_path, load_scenario, parse_scenario

pd.set_option("display.width", 140)

store = Store.open(os.environ.get("ORECHAIN_DB"))
load_into(store)
facilities = facility_table(store)  # what `facility:` entries in a scenario resolve against
print("built-in scenarios:", ", ".join(builtin_names()))
spec = load_scenario(builtin_path("pakistan-us"), facilities)
print(f"{spec.title}: consumer {spec.consumer}, excluding {', '.join(spec.excluded)}, "
      f"{len(spec.projects)} projects, years {spec.years[0]}-{spec.years[-1]}, unit {spec.unit}")
for note in spec.notes:
    print("note:", note)

# %% [markdown]
# ## Run it
#
# 20,000 scenarios with a fixed seed: the same seed gives the same numbers on any machine and backend.
# (`orechain simulate` defaults to 100,000.) The tornado sensitivity re-runs the model with each input
# at its low and high value.

# %%
result = simulate(spec, 20_000, seed=7, tornado=True)
for line in result.summary():
    print(line)

# %% [markdown]
# ## The fan chart, in numbers
#
# Independent-chain capacity (`flow`) is the maximum flow of NdPr-oxide equivalent to the US through the
# whole non-Chinese chain (evidence-base facilities and the deal's projects). It rises from about 800 to
# about 1,050 by 2029 as MP's magnet line ramps up, then stays flat: metal making (LCM's line and MP's
# captive metal line) binds, and no metal plant is in the evidence base's pipeline.
# Two more fans separate the deal's share: `impact_flow`, what the Pakistani projects **add** to that flow
# (0 here), and `sourced_flow`, what Pakistani sources **alone** could deliver through the real chain (by
# displacing other oxide; capped by LCM's 129.5 t, the P95 plateau). `bin_width` bounds the error of the
# streamed quantiles.

# %%
fan = result.fan("flow")
print(fan[fan["year"].isin([2026, 2027, 2030, 2035, 2040, 2045])].round(1).to_string(index=False))
sourced = result.fan("sourced_flow")
added = result.fan("impact_flow")
print(pd.DataFrame({"year": sourced["year"], "own sources p50": sourced["p50"], "own sources p95": sourced["p95"],
                    "added p95": added["p95"]}).iloc[[0, 1, 4, 9, 14, 19]].round(1).to_string(index=False))
assert fan["p50"].iloc[0] > 0  # the non-Chinese chain delivers today
assert sourced["p50"].iloc[0] > 0  # phase-1 exports could feed the chain in the first year

# %% [markdown]
# ## Which input moves the outcome most?
#
# The tornado (2035) for the independent capacity: the No. 18 capacity factor on non-Chinese magnet plants
# and MP's metal capacity move it; the deal's inputs (gates, lead times, Pasni, Balochistan) move it by 0
# because metal binds. The summary above also names the input that moves the Pakistani own-source delivery
# most (the refinery's gates; Pasni's gates matter as much, since both are needed).

# %%
assert result.tornado is not None
print(result.tornado.head(5)[["input", "low", "high", "base"]].to_string(index=False))

# %% [markdown]
# ## Each project's capacity in 2030
#
# Every node of the chain: the evidence base's facilities (static ones have exact values; facilities
# without a capacity count 0, the lower bound) and the deal's projects, with P(producing).

# %%
projects = result.projects()
print(projects[projects["year"] == 2030][["project", "stage", "unit", "mean", "p50", "p95", "p_producing"]]
      .round(3).to_string(index=False))

# %% [markdown]
# ## What if the rare-earth belts already had a feasibility study?
#
# A scenario is YAML: edit the text and parse it again. Here the phase-3 mining projects move from
# `exploration` to `fs`, so they skip the exploration and study gates (whose durations and failure
# probabilities come from the calibrated defaults in `orechain.scenarios.calibration`).
#
# Earlier mines raise what Pakistani sources alone could deliver later in the horizon, but they cannot
# raise the independent capacity: metal still binds, so the reach probabilities move only by sampling noise
# (the variant draws its random numbers in a different order; another seed of the planned case moves them
# as much) and the Pakistani chain still adds 0.

# %%
text = builtin_path("pakistan-us").read_text(encoding="utf-8")
variant_text = text.replace("    status: exploration\n    earliest: 2028.0", "    status: fs\n    earliest: 2028.0")
assert variant_text != text, "the built-in scenario changed: update the replacement above"
variant = simulate(parse_scenario(variant_text, "pakistan-us (REE belts at FS)", facilities), 20_000, seed=7)
compare = pd.DataFrame({
    "as planned": result.reach().set_index(["value", "by_year"])["probability"],
    "belts at FS": variant.reach().set_index(["value", "by_year"])["probability"],
})
print("P(independent capacity >= value by year):")
print(compare.to_string())
def impact_line(r: Result) -> str:  # the summary sentence about time to impact
    return next(line for line in r.summary() if line.startswith("Time to impact"))


print("as planned:  ", impact_line(result))
print("belts at FS: ", impact_line(variant))
late_sourced = {name: r.fan("sourced_flow")["mean"].iloc[-1] for name, r in (("as planned", result),
                                                                                 ("belts at FS", variant))}
print(f"mean own-source delivery in {result.years[-1]}:", {k: round(float(v), 1) for k, v in late_sourced.items()})
assert late_sourced["belts at FS"] > late_sourced["as planned"]  # earlier mines feed more by the horizon
# the documented finding: metal binds, so the Pakistani projects add nothing in either case
assert result.fan("impact_flow")["p95"].max() == 0 and variant.fan("impact_flow")["p95"].max() == 0
store.close()
