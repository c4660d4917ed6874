# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 05 · Fact-check an article: is "US$68 trillion" plausible?
#
# Reporting on Pakistan's minerals quotes figures that do not agree: US$6 trillion, US$8 trillion,
# "up to" US$68 trillion (docs/data.md lists the sources found; none was found for US$68 trillion). This
# example shows what a journalist can do with them:
#
# 1. check one sentence against the evidence base (the sanity calculator),
# 2. redo the calculator's arithmetic by hand,
# 3. put a whole article into the claims ledger and see which figures contradict each other.
#
# CLI equivalents: `orechain claims check "..."`, `orechain claims ingest FILE`,
# `orechain claims subjects`, `orechain claims conflicts`.

# %%
import os
from pathlib import Path

import pandas as pd

from orechain.claims import ledger
from orechain.claims.extract import extract_claims
from orechain.claims.grading import Reference, grade_tonnage, ladder_status, plausibility
from orechain.claims.ingest import ingest_paths
from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store

pd.set_option("display.width", 140)
pd.set_option("display.max_colwidth", 70)

store = Store.open(os.environ.get("ORECHAIN_DB"))
load_into(store)

# %% [markdown]
# ## 1. One sentence
#
# `extract_claims` finds each quantitative claim (value, unit, qualifier such as "up to", subject);
# `ladder_status` places it on the resource-reporting ladder (a government's "worth $N trillion" is an
# `unclassified_estimate`, below an exploration target); `plausibility` sets it against the evidence
# base's prices and reserves.

# %%
sentence = "Pakistan's mineral wealth is worth up to US$68 trillion."
reference = Reference.from_store(store)
for claim in extract_claims(sentence):
    verdict, note = plausibility(claim, reference)
    print(f"claim:        {claim.text!r} -> subject {claim.subject}, value {claim.value} {claim.unit}, "
          f"qualifier {claim.qualifier}")
    print(f"ladder:       {ladder_status(claim.sentence, claim.metric, claim.kind)}")
    print(f"plausibility: {verdict}")
    print(f"why:          {note}")
    assert verdict == "implausible"

# %% [markdown]
# ## 2. The arithmetic, by hand
#
# The calculator asks: if all of that value were rare earths sold at today's price, how much rare-earth
# oxide (REO) and how much ore would it take? `grade_tonnage(value_usd, price_usd_per_kg, grade_ppm)`
# returns (contained tonnes, ore tonnes). The price and the world reserves below are read from the
# evidence base, with their sources.

# %%
prices = reference.of("price", commodity="rare-earths")
price = max(prices, key=lambda p: p.value if p.item.startswith("Nd") else 0.0)
world = max(reference.of("reserves", country="WLD", commodity="rare-earths"), key=lambda r: r.year or "")
print(f"price used:      {price.value:g} US$/kg ({price.item}, {price.year}; {price.source}; {price.quality})")
print(f"world reserves:  {world.value:,.0f} {world.unit} ({world.year}; {world.source}; {world.quality})")
for claimed in (6e12, 8e12, 68e12):
    contained_t, ore_t = grade_tonnage(claimed, price.value, 800.0)  # 800 ppm: a typical REE ore grade
    print(f"US${claimed / 1e12:>4.0f} trillion = {contained_t / 1e6:8,.0f} Mt REO "
          f"= {contained_t / world.value:5.1f}x world reserves; {ore_t / 1e9:9,.0f} Gt of ore at 800 ppm")

# %% [markdown]
# Even US$6 trillion, taken as rare earths, is more than the world's known rare-earth reserves. A wealth
# figure of this kind is an unclassified estimate: it is not a JORC/NI 43-101 resource, let alone a
# reserve (docs/terminology.md explains the ladder).
#
# ## 3. A whole article into the ledger
#
# The article below was written for this example: it repeats figures quoted in the press, with invented
# attributions, so that the ledger has something to compare. Any .txt, .md or .html file works the same
# way; ingesting is idempotent (the same text twice is one document).

# %%
article = Path("out/examples/05-article.txt")
article.parent.mkdir(parents=True, exist_ok=True)
article.write_text(
    "Pakistan's hidden treasure\n"
    "Example Daily, 2025-10-10\n\n"
    "Officials say Pakistan's mineral wealth is worth up to US$68 trillion. "
    "A minister told parliament that the country's mineral wealth is worth US$6 trillion. "
    "An industry body put Pakistan's mineral wealth at US$8 trillion. "
    "China controls about 90% of global rare earth refining.\n",
    encoding="utf-8")
for r in ingest_paths(store, [article], publisher="Example Daily", date="2025-10-10"):
    print(f"{r.status}: {r.path} ({r.claims} claims) {r.message}")

graded = ledger.grade(ledger.claims_frame(store))
print(graded[["text", "subject", "qualifier", "ladder", "plausibility"]].to_string(index=False))

# %% [markdown]
# Subjects group the claims about the same quantity; `contradict` means two figures whose intervals
# (widened by the rounding their digits imply, "up to" read as a bound) do not meet.

# %%
subjects = ledger.compare(graded)
print(subjects.to_string(index=False))
wealth = subjects[subjects["subject"] == "PAK/total mineral wealth/value"]
assert wealth["status"].iloc[0] == "contradict"
conflicts = ledger.conflicts(graded)
print(conflicts[["status", "subject", "text", "qualifier", "plausibility"]].to_string(index=False))
store.close()
