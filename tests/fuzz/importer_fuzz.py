"""Importer fuzzing machinery: the files fuzzed, byte-level mutations, and the import check.

Inputs: the real USGS MCS files and the real WGI table from ``../shared/data`` (the WGI table cut to its
first 300 lines so that one example stays fast), and the fake BACI and WMD fixtures under
``tests/fixtures`` (no real BACI or WMD file ships). Mutations work on bytes: lines deleted, duplicated or
swapped, a cell replaced by a nasty value, the file cut short, stray bytes (invalid UTF-8 included).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from fuzz_surfaces import assert_well_formed
from hypothesis import strategies as st
from strategies import NASTY

from orechain.evidence.errors import InputError
from orechain.evidence.importers import IMPORTERS, run_import
from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
FIXTURES = REPO / "tests" / "fixtures"


@dataclass(frozen=True)
class Target:
    kind: str
    file: Path
    companions: tuple[Path, ...] = ()  # files the importer looks for beside the data file
    max_lines: int | None = None


TARGETS = {
    "usgs-mcs": Target("usgs-mcs", SHARED / "usgs-mcs" / "mcs2024-raree_world.csv"),
    "usgs-mcs-2022": Target("usgs-mcs", SHARED / "usgs-mcs" / "tungsten_mcs2022-tungs_world.csv"),
    "usgs-mcs-salient": Target("usgs-mcs-salient", SHARED / "usgs-mcs" / "mcs2024-antim_salient.csv"),
    "wgi": Target("wgi", SHARED / "wgi" / "wgi_political_stability_pv.csv", max_lines=300),
    "baci": Target("baci", FIXTURES / "baci" / "BACI_HS22_Y2099_V209901.csv",
                   (FIXTURES / "baci" / "country_codes_V209901.csv",)),
    "wmd": Target("wmd", FIXTURES / "wmd" / "Tungsten (W).csv"),
}


@dataclass
class ByteMutation:
    op: str
    at: int  # a line index or byte offset, taken modulo the size
    other: int = 0
    payload: bytes = b""

    def apply(self, data: bytes) -> bytes:
        lines = data.split(b"\n")
        i, j = self.at % len(lines), self.other % len(lines)
        if self.op == "delete_line":
            del lines[i]
        elif self.op == "duplicate_line":
            lines.insert(i, lines[i])
        elif self.op == "swap_lines":
            lines[i], lines[j] = lines[j], lines[i]
        elif self.op == "replace_cell":
            cells = lines[i].split(b",")
            cells[j % len(cells)] = self.payload
            lines[i] = b",".join(cells)
        elif self.op == "truncate":
            return data[: self.at % (len(data) + 1)]
        elif self.op == "insert_bytes":
            k = self.at % (len(data) + 1)
            return data[:k] + self.payload + data[k:]
        return b"\n".join(lines)


@st.composite
def byte_mutations(draw: st.DrawFn) -> list[ByteMutation]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete_line", "duplicate_line", "swap_lines", "replace_cell", "replace_cell",
                                   "truncate", "insert_bytes"]))
        payload = draw(st.one_of(st.sampled_from(NASTY).map(lambda s: s.encode("utf-8")), st.binary(max_size=12),
                                 st.integers(-10**9, 10**12).map(lambda n: str(n).encode())))
        out.append(ByteMutation(op, draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6)), payload))
    return out


def original(target: Target) -> bytes:
    if not target.file.is_file():
        pytest.skip(f"{target.file} is not here (../shared or tests/fixtures missing)")
    data = target.file.read_bytes()
    if target.max_lines is not None:
        data = b"\n".join(data.split(b"\n")[: target.max_lines]) + b"\n"
    return data


# Reported to the importers' owner, not a failure of the property: pandas warns "invalid value encountered in
# cast" on a non-integer such as 'inf' in an integer column, before the baci importer refuses it properly.
KNOWN_NOISE = pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")

class ImportCheck:
    """One SQLite store with the shipped evidence base; each check imports one mutated copy of a file."""

    def __init__(self, folder: Path) -> None:
        self.store = Store.open(folder / "fuzz.db")
        load_into(self.store)

    def check(self, target: Target, data: bytes) -> str:
        importer = IMPORTERS.get(target.kind)
        if importer is None:
            pytest.skip(f"no {target.kind!r} importer registered")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / target.file.name
            path.write_bytes(data)
            for c in target.companions:
                shutil.copy(c, Path(tmp) / c.name)
            before = self.store.counts()
            try:
                rec = run_import(self.store, importer, path)
            except InputError as exc:
                assert_well_formed(exc, whole_file_ok=True)
                assert self.store.counts() == before, "a failed import changed the database"
                return "rejected"
        return "already imported" if rec.already_imported else "imported"
