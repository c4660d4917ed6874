"""The input surfaces the fuzz tests hit, each with the one property that must hold for every input.

* units: :func:`orechain.units.parse_unit` returns a unit or raises :class:`UnitError`, nothing else.
* countries: :func:`orechain.evidence.names.resolve_country` returns a code or raises :class:`UnknownName`.
* shipped: the shipped-data loader, given the shipped files with one row mutated, loads or raises
  :class:`InputError` whose every problem names its file and a line or field.
* importers: an importer run on a mutated real file imports or raises :class:`InputError` (file, line or
  field); a failed import leaves the database exactly as it was.

The corpus under ``corpus/`` keeps interesting inputs (one JSON object a line) and is replayed by
``test_fuzz_corpus.py``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orechain.evidence.errors import InputError
from orechain.evidence.names import UnknownName, countries, resolve_country
from orechain.evidence.shipped import load_dataset, shipped_data_dir
from orechain.units import UnitError, parse_unit

CORPUS = Path(__file__).resolve().parent / "corpus"
SHIPPED_CSVS = ("sources.csv", "organisations.csv", "ownership.csv", "facilities.csv", "facility_owners.csv",
                "facility_status.csv", "links.csv", "observations.csv")


def corpus(surface: str) -> list[dict[str, Any]]:
    path = CORPUS / f"{surface}.jsonl"
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            item = json.loads(line)
            item["where"] = f"{path.name}:{n}"
            items.append(item)
    return items


def check_unit(text: str) -> str:
    try:
        parse_unit(text)
    except UnitError as exc:
        assert str(exc), "a UnitError must say what is wrong"
        return "rejected"
    return "parsed"


def known_unit_spellings() -> list[str]:
    from orechain.units import _ALIASES

    return [*sorted(_ALIASES), "t Sb content", "t contained W", "kt NdPr oxide", "t Dy2O3 oxide/yr", "kg/m**3",
            "USD/kg", "t REO/yr"]


def check_country(text: str) -> str:
    try:
        resolve_country(text)
    except UnknownName as exc:
        assert str(exc), "an UnknownName must say what is wrong"
        return "rejected"
    return "resolved"


def known_country_names() -> list[str]:
    names: list[str] = []
    for c in countries():
        names += [c.name, c.code, *c.variants]
    return names


def assert_well_formed(err: InputError, whole_file_ok: bool = False) -> None:
    """Every problem names its file and says what is wrong, and (unless it may be about the whole file, such
    as "not a BACI file" or "no data rows") where: a line or a field."""
    assert err.problems, "an InputError must carry at least one problem"
    for p in err.problems:
        assert p.file, f"problem without a file: {p}"
        assert whole_file_ok or p.line is not None or p.field, f"problem without a line or field: {p}"
        assert p.message, f"problem without a message: {p}"


@dataclass
class RowMutation:
    """Set one field of one data row of one shipped CSV to a value (or replace raw text of the file)."""

    file: str
    row: int = 0  # index among the data rows, taken modulo their number
    field: str | None = None  # None: a raw text replacement
    value: str = ""
    raw_old: str = ""  # raw mode: replace the first occurrence of raw_old (or append when empty)

    def apply(self, text: str) -> str:
        if self.field is None:
            return text.replace(self.raw_old, self.value, 1) if self.raw_old else text + self.value
        reader = csv.DictReader(io.StringIO(text, newline=""))
        fields = list(reader.fieldnames or [])
        rows = list(reader)
        if rows:
            rows[self.row % len(rows)][self.field if self.field in fields else fields[0]] = self.value
        buf = io.StringIO(newline="")
        w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return buf.getvalue()


class ShippedCopy:
    """A writable copy of the shipped data folder; each check mutates one file, then restores it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        src = shipped_data_dir()
        for item in src.iterdir():
            if item.is_file():
                (folder / item.name).write_bytes(item.read_bytes())
        self.original = {name: (folder / name).read_text(encoding="utf-8") for name in SHIPPED_CSVS}

    def fields(self, name: str) -> list[str]:
        return next(csv.reader(io.StringIO(self.original[name])))

    def check(self, m: RowMutation) -> str:
        target = self.folder / m.file
        target.write_text(m.apply(self.original[m.file]), encoding="utf-8")
        try:
            load_dataset(self.folder)
        except InputError as exc:
            assert_well_formed(exc)
            return "rejected"
        finally:
            target.write_text(self.original[m.file], encoding="utf-8")
        return "loaded"
