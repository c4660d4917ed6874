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
# The built-in scenario `pakistan-us` models the Pakistani rare-earth chain to the United States: the
# USSM-FWO deal's three phases, the planned polymetallic refinery, the export ports (including the
# proposed Pasni port), Balochistan security incidents and China's October 2025 export controls. Every
# number in it names its source and quality; modelling choices without a published figure are marked
# `quality: assumption` (read the file: `orechain.scenarios.spec.builtin_path("pakistan-us")`).
#
# This example runs it, reads the fan chart and the probabilities, asks which input matters most, and
# then asks a "what if": what if the rare-earth belts already had a feasibility study?
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
# Independent-chain capacity is the maximum flow of NdPr-oxide equivalent from Pakistani mines to the US
# through facilities not controlled by China. `bin_width` bounds the error of the streamed quantiles.

# %%
fan = result.fan("flow")
print(fan[fan["year"].isin([2026, 2027, 2030, 2035, 2040, 2045])].round(1).to_string(index=False))
assert fan["p50"].iloc[0] > 0  # phase-1 exports exist in the first year

# %% [markdown]
# ## Which input moves the outcome most?

# %%
assert result.tornado is not None
print(result.tornado.head(5)[["input", "low", "high", "base"]].to_string(index=False))

# %% [markdown]
# ## Each project's capacity in 2030

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
assert (compare["belts at FS"] >= compare["as planned"]).all()
store.close()
