# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 01 · The Pakistan-US assessment, step by step
#
# What does the evidence base say about the Pakistan-US critical-minerals corridor on a given date?
# This example reads the pieces one by one (Pakistani facilities, the USSM-FWO deal's phases, every
# sourced figure about Pakistan) and then writes the whole assessment report, the same one
# `orechain assess pakistan-us` writes.
#
# Run it as a script (`.venv/bin/python examples/01_pakistan_us_assessment.py`) or open it as a notebook
# with jupytext. It uses the database named by `ORECHAIN_DB` (a path or a SQLAlchemy URL; default: the
# per-user database) and loads the shipped evidence base into it if it is not there yet.

# %%
import datetime as dt
import os
from pathlib import Path

import pandas as pd

from orechain.evidence import queries
from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store
from orechain.report.assess import build_report, write_report
from orechain.report.section import ReportContext

pd.set_option("display.width", 120)
pd.set_option("display.max_colwidth", 60)

store = Store.open(os.environ.get("ORECHAIN_DB"))
load_into(store)  # idempotent: rows already present are left as they are
AS_OF = dt.date(2025, 11, 20)  # a fixed date, so the example gives the same answer every day
print(f"database: {store.display_url}; assessment as of {AS_OF}")

# %% [markdown]
# ## Pakistani facilities and where each stands today
#
# `queries.facilities` returns one row per facility with its latest lifecycle status and the date of that
# status (the status ladder is in docs/terminology.md).

# %%
pak = queries.facilities(store, country="PAK")
print(pak[["id", "stage", "commodity", "status", "status_date", "source_id"]].to_string(index=False))
assert set(pak["id"]) >= {"reko-diq-mine", "saindak-mine", "fwo-ussm-polymetallic-refinery"}

# %% [markdown]
# Each facility's full status history, with the source of every step:

# %%
history = queries.facility_status(store, "reko-diq-mine")
print(history[["date", "status", "source_id"]].to_string(index=False))

# %% [markdown]
# ## The USSM-FWO deal and its three phases
#
# The planned windows come from the published phase descriptions; the report compares them with the
# as-of date.

# %%
deal = queries.deals(store)
deal = deal[deal["id"] == "ussm-fwo-2025"]
print(deal[["id", "signed", "value", "value_unit", "status", "source_id"]].to_string(index=False))
phases = queries.deal_phases(store, deal="ussm-fwo-2025")
print(phases[["seq", "name", "start", "end", "status"]].to_string(index=False))
print(queries.deal_milestones(store, deal="ussm-fwo-2025")[["date", "description"]].to_string(index=False))

# %% [markdown]
# ## Every sourced figure about Pakistan, by how it was seen
#
# `primary`: read in the publication; `secondary`: only quoted by someone else; `unconfirmed`: quoted and
# not cross-checked. The wealth claims (US$ trillions) are all `unconfirmed`.

# %%
facts = queries.observations(store, country="PAK")
print(facts.groupby(["metric", "quality"]).size().rename("figures").to_string())
sb = queries.production(store, commodity="antimony", country="PAK")
print(sb[["year", "value", "unit", "quality", "source_id"]].to_string(index=False))

# %% [markdown]
# ## The whole report
#
# `build_report` composes every section (production shares, lifecycle, export controls, Pakistani facts,
# claims, scenarios) and `write_report` writes `index.html` (self-contained: charts inline, no network
# requests) and every table as CSV. A section that fails becomes an error box; `report.failures` names it.

# %%
out_dir = Path("out/examples/01-pakistan-us")
report = build_report(store, ReportContext(as_of=AS_OF))
paths = write_report(report, out_dir)
for outcome in report.outcomes:
    for line in outcome.section.summary:
        print(("FAILED " if outcome.error else "- ") + line)
print(f"report: {paths[0]} ({paths[0].stat().st_size:,} bytes); {len(paths) - 1} CSV tables in {out_dir / 'tables'}")
print("failed sections:", report.failures or "none")
store.close()
