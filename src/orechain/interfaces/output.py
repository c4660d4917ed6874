"""Writing tables to the terminal, CSV, JSON, JSON Lines or Excel: one helper for every command."""

from __future__ import annotations

import json
import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

import pandas as pd
from rich.console import Console
from rich.table import Table


class OutputError(ValueError):
    """An output request that cannot be met (e.g. Excel without a file to write)."""


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"
    EXCEL = "excel"


def _clean(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _clean(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def emit(df: pd.DataFrame, fmt: Format | str, out: Path | None = None, *, title: str | None = None,
         stream: TextIO | None = None, float_format: str = "{:,.6g}") -> None:
    """Write ``df`` in ``fmt`` to ``out`` (or stdout). Excel needs ``out``. Every row is written."""
    fmt = Format(fmt)
    stream = stream or sys.stdout
    if fmt is Format.EXCEL:
        if out is None:
            raise OutputError("--format excel needs --out FILE.xlsx (Excel cannot be written to the terminal)")
        with pd.ExcelWriter(out, engine="openpyxl") as xw:
            df.to_excel(xw, index=False, sheet_name=(title or "orechain")[:31])
        return
    if fmt is Format.TABLE:
        if out is not None:
            with open(out, "w", encoding="utf-8") as fh:
                _print_table(df, Console(file=fh, width=200), title, float_format)
        else:
            _print_table(df, Console(file=stream), title, float_format)
        return
    if fmt is Format.CSV:
        text = df.to_csv(index=False, lineterminator="\n")
    elif fmt is Format.JSON:
        text = json.dumps(records(df), ensure_ascii=False, indent=2, default=str) + "\n"
    else:
        text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records(df))
    if out is not None:
        Path(out).write_text(text, encoding="utf-8")
    else:
        stream.write(text)


def _cell(v: Any, float_format: str, year: bool = False) -> str:
    v = _clean(v)
    if v is None:
        return ""
    if year and isinstance(v, (int, float)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, float):
        return float_format.format(v)
    return str(v)


def _print_table(df: pd.DataFrame, console: Console, title: str | None, float_format: str) -> None:
    """A rich table that never folds or cuts a value: wider than the terminal, it is printed wide
    (long text columns wrap at 60 characters) and the terminal wraps the lines."""
    years = [str(c) == "year" or str(c).endswith("_year") for c in df.columns]
    rows = [[_cell(v, float_format, y) for v, y in zip(row, years, strict=True)] for row in df.itertuples(index=False)]
    widths = []
    table = Table(title=title, show_lines=False)
    for i, col in enumerate(df.columns):
        numeric = pd.api.types.is_numeric_dtype(df[col])
        longest = max([len(str(col))] + [len(r[i]) for r in rows])
        wrap = longest > 60 and not numeric
        widths.append(min(longest, 60) if wrap else longest)
        table.add_column(str(col), justify="right" if numeric else "left", no_wrap=not wrap,
                         min_width=min(longest, 60) if wrap else longest, overflow="fold")
    for r in rows:
        table.add_row(*r)
    needed = sum(widths) + 3 * len(widths) + 1
    if needed > console.width:
        console.width = needed
    console.print(table)
