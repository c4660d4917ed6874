"""Reading published files as they are: encodings, CSV lines with their numbers, cells, numbers.

Pure helpers shared by the importers. Every failure is an :class:`InputError` (file, line, column)
or a ``ValueError`` that the caller turns into one; nothing here guesses silently.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from orechain.evidence.errors import InputError

__all__ = ["Cell", "ParseOnce", "clean", "csv_lines", "parse_cell", "read_text", "slug", "unique_header"]

T = TypeVar("T")

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")


def read_text(path: Path) -> tuple[str, str]:
    """The file's text and the encoding it was read with.

    Published statistics come as UTF-8 (often with a byte-order mark) or as Windows-1252/Latin-1. A file
    in UTF-16/32, a spreadsheet or another binary file, an empty file, or bytes undecodable in either
    encoding is an :class:`InputError` naming the line.
    """
    data = path.read_bytes()
    return decode(data, path)


def decode(data: bytes, path: Path | str) -> tuple[str, str]:
    if not data.strip(b" \t\r\n\x00" + _UTF8_BOM):
        raise InputError.one(path, None, None, "empty file: no header and no rows")
    if data.startswith(_UTF32_BOMS) or data.startswith(_UTF16_BOMS):
        raise InputError.one(path, 1, None, "the file is UTF-16/UTF-32 encoded; save it as UTF-8 (or CSV) and retry")
    if data[:4] == b"PK\x03\x04":
        raise InputError.one(path, None, None, "this is a zip or Excel (.xlsx) file, not a CSV file")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InputError.one(path, None, None, "this is an old Excel (.xls) or other OLE file, not a CSV file")
    nul = data.find(b"\x00", 0, 65536)
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        hint = " (UTF-16 without a byte-order mark?)" if data[1:2] == b"\x00" or data[:1] == b"\x00" else ""
        raise InputError.one(path, line, None, f"binary data (NUL byte) in a text file{hint}")
    body = data[len(_UTF8_BOM):] if data.startswith(_UTF8_BOM) else data
    try:
        return body.decode("utf-8"), "utf-8-sig" if body is not data else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise InputError.one(path, line, None, f"byte 0x{body[exc.start]:02x} is neither UTF-8 nor Windows-1252 "
                                               "text; is this the right file?") from exc


def csv_lines(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """``(line number, cells)`` for every CSV record, the number being the line the record starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for row in reader:
            yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError.one(path, reader.line_num, None, f"malformed CSV: {exc}") from exc


def unique_header(path: Path | str, header: list[str], line: int = 1) -> None:
    """A header that names a column twice is an error: one of the two would be silently ignored."""
    named = [h for h in header if h]
    twice = sorted({h for h in named if named.count(h) > 1})
    if twice:
        raise InputError.one(path, line, twice[0], f"column(s) {', '.join(map(repr, twice))} appear more than once")


_WS = re.compile(r"\s+")


def clean(cell: str | None) -> str:
    """A cell with non-breaking spaces made plain, whitespace collapsed and trimmed."""
    if cell is None:
        return ""
    return _WS.sub(" ", cell.replace("\u00a0", " ").replace("\u200b", "")).strip()


def slug(text: str) -> str:
    """Lower-case ``a_b_c`` form of a published label (for metric names)."""
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")


@dataclass(frozen=True)
class Cell:
    """A published value: the number (if any), bounds from ``>``/``<``, and the text as published."""

    value: float | None
    lower: float | None = None
    upper: float | None = None
    text: str | None = None
    meaning: str | None = None  # for a symbol such as W: what it stands for


_NUMBER = re.compile(r"^(?P<op>[<>]=?|~)?\s*(?P<num>[-+]?(?:\d{1,3}(?:[, ]\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+)$")


def parse_cell(raw: str, symbols: Mapping[str, str]) -> Cell:
    """Parse one published value.

    ``symbols`` maps the non-numeric markers a format uses (``W``, ``NA``, ``E``, ``..``) to their
    meaning; they give ``value=None`` with the text kept. ``">1,800,000"`` gives ``value=lower=1800000``;
    ``"<5"`` gives ``value=upper=5``. An empty cell gives an empty :class:`Cell`. Anything else raises
    ``ValueError``.

    >>> parse_cell(">1,800,000", {})
    Cell(value=1800000.0, lower=1800000.0, upper=None, text='>1,800,000', meaning=None)
    """
    text = clean(raw)
    if text == "":
        return Cell(None)
    for sym, meaning in symbols.items():
        if text.casefold() == sym.casefold():
            return Cell(None, text=text, meaning=meaning)
    m = _NUMBER.match(text)
    if m is None:
        raise ValueError(f"not a number: {text!r}")
    num = float(m["num"].replace(",", "").replace(" ", ""))
    op = m["op"] or ""
    if op.startswith(">"):
        return Cell(num, lower=num, text=text)
    if op.startswith("<"):
        return Cell(num, upper=num, text=text)
    return Cell(num, text=text)


class ParseOnce(Generic[T]):
    """Remembers the last file parsed (by path and a hash of its bytes: a file rewritten in place within
    the file system's timestamp resolution is still seen as new), so that an importer's ``source`` and
    ``batches`` parse a file once and report its warnings once."""

    def __init__(self, parse: Callable[[Path], T]) -> None:
        self._parse = parse
        self._last: tuple[tuple[str, str], T] | None = None

    def __call__(self, path: Path) -> T:
        key = (str(path.resolve()), hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest())
        if self._last is None or self._last[0] != key:
            self._last = (key, self._parse(path))
        return self._last[1]

    def forget(self) -> None:
        self._last = None
