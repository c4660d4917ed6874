"""Hypothesis strategies shared by the fuzz tests: mutations of known-good inputs and nasty values."""

from __future__ import annotations

from hypothesis import strategies as st

NASTY = ["", " ", "\u00a0", "\x00", "\t", "\n", "\r\n", '"', "'", ",", ";", "|", "\\", "/", "**", "*", "(", ")",
         "NaN", "nan", "inf", "-inf", "1e309", "-0", "0", "-1", "1e-400", "9" * 40, "2023-13-45", "0000-00-00",
         "\u202e", "\ufeff", "\u200b", "é", "ß", "İ", "ﬁ", "１２３", "null", "None", "true", "<script>", "%s", "{0}",
         "x" * 300, "../../etc/passwd", "Robert'); DROP TABLE sources;--"]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str]) -> str:
    """A known-good string with one to four edits: insert, delete, replace, case swap or a nasty splice."""
    s = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(s)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "swapcase", "splice", "double"]))
        if op == "insert":
            s = s[:pos] + draw(st.characters(exclude_categories=("Cs",))) + s[pos:]
        elif op == "delete" and s:
            s = s[:pos] + s[pos + 1:]
        elif op == "replace" and s:
            s = s[:pos] + draw(st.characters(exclude_categories=("Cs",))) + s[pos + 1:]
        elif op == "swapcase":
            s = s.swapcase()
        elif op == "splice":
            s = s[:pos] + draw(st.sampled_from(NASTY)) + s[pos:]
        elif op == "double":
            s = s + s
    return s


def field_values() -> st.SearchStrategy[str]:
    """Values to put into a CSV field."""
    return st.one_of(
        st.sampled_from(NASTY),
        st.text(max_size=60),
        st.integers(-10**12, 10**12).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.dates().map(str),
    )
