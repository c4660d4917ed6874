"""The shared reading helpers: encodings and published values."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orechain.evidence.errors import InputError
from orechain.evidence.importers.parsing import clean, decode, parse_cell

SYMBOLS = {"W": "withheld", "NA": "not available"}


@given(st.integers(min_value=0, max_value=10**12))
def test_thousands_separators_round_trip(n: int) -> None:
    for text in (f"{n:,}", str(n), f" {n:,}\u00a0"):
        cell = parse_cell(text, SYMBOLS)
        assert cell.value == n and cell.lower is None and cell.text == clean(text)


@given(st.integers(min_value=1, max_value=10**9), st.sampled_from([">", "<"]))
def test_bounds(n: int, op: str) -> None:
    cell = parse_cell(f"{op}{n:,}", SYMBOLS)
    assert cell.value == n
    assert (cell.lower, cell.upper) == ((n, None) if op == ">" else (None, n))


@pytest.mark.parametrize("text", ["1,00", "12,34,567", "1.2.3", "5x", "--5", "e5", "1 000 000 t"])
def test_malformed_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_cell(text, SYMBOLS)


def test_symbols_keep_text_and_meaning() -> None:
    assert parse_cell(" w ", SYMBOLS).value is None
    assert parse_cell("NA", SYMBOLS).meaning == "not available"
    assert parse_cell("", SYMBOLS).text is None


def test_decode_utf8_bom_and_windows_1252() -> None:
    assert decode(b"\xef\xbb\xbfT\xc3\xbcrkiye", "f") == ("Türkiye", "utf-8-sig")
    assert decode("Côte d’Ivoire\u00a0".encode("cp1252"), "f") == ("Côte d’Ivoire\u00a0", "cp1252")


@pytest.mark.parametrize(("data", "message", "line"), [
    (b"", "empty file", None),
    (b"\xef\xbb\xbf\r\n\r\n", "empty file", None),
    ("a,b\n1,2\n".encode("utf-16"), "UTF-16", 1),
    ("a,b\n1,2\n".encode("utf-16-le"), "NUL byte", 1),
    (b"PK\x03\x04rest", "Excel", None),
    (b"a,b\n1,2\n3,\x81\n", "neither UTF-8 nor Windows-1252", 3),
])
def test_decode_refusals_name_the_line(data: bytes, message: str, line: int | None) -> None:
    with pytest.raises(InputError) as exc:
        decode(data, Path("x.csv"))
    assert message in exc.value.problems[0].message and exc.value.problems[0].line == line


def test_parse_once_sees_a_file_rewritten_in_place(tmp_path: Path) -> None:
    from orechain.evidence.importers.parsing import ParseOnce

    calls: list[bytes] = []
    once = ParseOnce(lambda p: calls.append(p.read_bytes()) or p.read_bytes())
    f = tmp_path / "x.csv"
    f.write_bytes(b"aaaa")
    assert once(f) == once(f) == b"aaaa" and len(calls) == 1
    f.write_bytes(b"bbbb")  # same size, possibly the same modification time
    assert once(f) == b"bbbb" and len(calls) == 2
