"""GeoPolRisk parity with geopolrisk-py 2.0.1, value by value, and the effect of each default-mode fix.

Installs the peer into its own virtual environment on first use (see geopolrisk_peer.py), runs its
``gprs_calc`` for USA, Germany, Japan and EU-27 x rare earths, antimony, tungsten and copper x 2022-2024,
reads the same bundled input tables straight from the peer's SQLite files into frames, and runs orechain:

1. ``mode="compat"``: every one of the 48 x 5 values (score, CF, HHI, import risk, price) must agree to a
   relative difference of 1e-9; the script exits with status 1 otherwise.
2. ``mode="default"`` on the same data: the difference of every value from the peer's, and the part of it
   due to each fix (Taiwan resolved; trade rows without quantity; governance from the raw WGI estimates
   with missing values flagged; computed copper reference).

Run: .venv/bin/python benchmarks/validate_geopolrisk.py [--csv out.csv]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from geopolrisk_peer import OECD, PEER_MATERIALS, YEARS, load_peer_inputs, peer_frame, peer_lib, run_peer

from orechain.analytics.geopolrisk import PEER_CF_COPPER, copper_reference, geopolrisk

VALUES = ["score", "cf", "hhi", "import_risk", "price"]
KEYS = ["importer", "material", "year"]
TOL = 1e-9


def rel(a: pd.Series, b: pd.Series) -> np.ndarray:
    x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    return np.asarray(np.abs(x - y) / np.maximum(np.abs(x), 1e-300))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", type=Path, help="write the value-by-value comparison here")
    args = ap.parse_args()
    mats = list(PEER_MATERIALS)
    print(f"peer: geopolrisk-py in {peer_lib().parent.parent}", flush=True)
    peer_raw, timing = run_peer()
    peer = peer_frame(peer_raw)
    print(f"peer returned {len(peer)} rows (import {timing['import_s']:.1f} s, compute {timing['calc_s']:.1f} s)")
    inp = load_peer_inputs(peer_lib(), mats)
    years = sorted(inp.production["year"].unique())
    print(f"peer production data years: {years[0]}-{years[-1]}; requested {YEARS[0]}-{YEARS[-1]}")

    compat = geopolrisk(inp.production, inp.trade, inp.governance_compat, inp.importers_compat, mats, YEARS,
                        mode="compat")
    m = peer.merge(compat, on=KEYS, suffixes=("_peer", "_ore"), how="outer", indicator=True)
    ok = True
    if (m["_merge"] != "both").any():
        print("row sets differ:\n", m.loc[m["_merge"] != "both", KEYS])
        ok = False
    print("\n## compat mode vs geopolrisk-py 2.0.1 (48 combinations)\n")
    print("| value | largest relative difference |\n|---|---|")
    for v in VALUES:
        d = rel(m[f"{v}_peer"], m[f"{v}_ore"])
        m[f"{v}_reldiff"] = d
        print(f"| {v} | {d.max():.2e} |")
        ok &= bool(d.max() <= TOL)
    print(f"\ncompat parity {'PASSED' if ok else 'FAILED'} (tolerance {TOL:g})")

    ref_years = [y for y in range(2017, 2022) if y in years]
    ref = copper_reference(inp.production_iso, inp.trade_iso, inp.governance_default, {"OECD": list(OECD)},
                           ref_years, material="Copper")
    print(f"\n## copper reference\n\ncomputed from the peer's data: {ref.value:.9f} (mean of score x price for "
          f"copper over {ref.combinations} OECD importer-years, {ref_years[0]}-{ref_years[-1]}; 2017 is not in the "
          f"peer's production data) vs the peer's constant {PEER_CF_COPPER}: ratio {PEER_CF_COPPER / ref.value:.6f}")

    def run_default(trade: pd.DataFrame) -> pd.DataFrame:
        return geopolrisk(inp.production_iso, trade, inp.governance_default, inp.importers_default, mats, YEARS,
                          cf_reference=PEER_CF_COPPER)

    dflt = run_default(inp.trade_iso)
    no_twn = run_default(inp.trade_iso.assign(exporter=inp.trade_iso["exporter"].replace({"TWN": "S19"})))
    peer_qty = inp.trade_iso.assign(qty=inp.trade_iso["qty"].fillna(0.0))  # the peer: no quantity -> 0 t, value kept
    peer_qty_rows = dflt.merge(run_default(peer_qty), on=KEYS, suffixes=("", "_q"))
    full = geopolrisk(inp.production_iso, inp.trade_iso, inp.governance_default, inp.importers_default, mats,
                      YEARS, cf_reference=ref)
    d = peer.merge(full, on=KEYS, suffixes=("_peer", "_ore"))
    d = d.merge(no_twn[[*KEYS, "score"]].rename(columns={"score": "score_twn_unresolved"}), on=KEYS)
    d = d.merge(peer_qty_rows[[*KEYS, "price_q", "score_q"]], on=KEYS)
    print("\n## default mode vs geopolrisk-py 2.0.1, same data\n")
    print("| value | median relative difference | largest | where |\n|---|---|---|---|")
    for v in VALUES:
        r = rel(d[f"{v}_peer"], d[f"{v}_ore"])
        i = int(np.argmax(r))
        print(f"| {v} | {np.median(r):.2e} | {r[i]:.2e} | {d['importer'].iat[i]} {d['material'].iat[i]} "
              f"{int(d['year'].iat[i])} |")
    twn = rel(d["score_twn_unresolved"], d["score_ore"])
    qty = rel(d["price_q"], d["price_ore"])
    qty_s = rel(d["score_q"], d["score_ore"])
    gov = rel(d["score_peer"], d["score_twn_unresolved"])
    print("\n## each fix's effect (relative change of the value it touches; largest over the 48)\n")
    print("| fix | value | combinations changed (> 1e-9) | largest effect | where |\n|---|---|---|---|---|")
    for name, v, arr in (("Taiwan resolves (BACI 490 -> TWN)", "score", twn),
                         ("trade rows without quantity left out of price", "price", qty),
                         ("trade rows without quantity left out of the import risk", "score", qty_s),
                         ("governance from raw WGI estimates, missing flagged (and the rest)", "score", gov)):
        i = int(np.argmax(arr))
        print(f"| {name} | {v} | {int((arr > TOL).sum())} | {arr[i]:.2e} | {d['importer'].iat[i]} "
              f"{d['material'].iat[i]} {int(d['year'].iat[i])} |")
    print(f"| computed copper reference | cf | 48 | {abs(PEER_CF_COPPER / ref.value - 1):.2e} | all (uniform) |")
    miss = full[full["missing_wgi_share"] > 0].sort_values("missing_wgi_share")
    worst = (f" ({' '.join(map(str, miss.iloc[-1][KEYS]))}, partners {miss.iloc[-1]['missing_wgi_partners']})"
             if len(miss) else "")
    print(f"\nimports from partners without a governance value (flagged, counted at 0.5): {len(miss)} of 48 "
          f"combinations; largest share {full['missing_wgi_share'].max():.2e}{worst}")
    print(f"trade rows without a quantity in the 48 combinations: {int(full['rows_missing_qty'].sum())}")
    if args.csv:
        m.drop(columns=["_merge"]).to_csv(args.csv, index=False)
        print(f"\nwrote {args.csv}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
