"""The API's column-at-a-time ``records`` gives exactly what ``output.records`` (row by row, via to_dict) gives."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from orechain.interfaces.api.paging import records
from orechain.interfaces.output import records as row_records


def _typed(rows: list[dict[str, Any]]) -> list[list[tuple[str, str, type]]]:
    return [[(k, repr(v), type(v)) for k, v in r.items()] for r in rows]


def test_records_match_to_dict_on_every_dtype() -> None:
    df = pd.DataFrame({
        "int": [1, 2, 3], "float": [np.nan, 1.5, 123456789.123], "Int64": pd.array([1, None, 3], dtype="Int64"),
        "when": pd.to_datetime(["2020-01-01", None, "2021-02-03"]), "obj": [np.int64(3), None, "x"],
        "bool": [True, False, True], "boolean": pd.array([True, None, False], dtype="boolean"),
        "inf": [1.0, np.inf, -0.0], "cat": pd.Categorical(["x", None, "y"]), "str": ["s", None, "t"],
        "Float64": pd.array([1.5, None, 2.0], dtype="Float64"), "int32": np.array([1, 2, 3], dtype="int32"),
        "string": pd.array(["a", None, "b"], dtype="string"),
    })
    for frame in (df, df.iloc[1:], df.iloc[0:0], df[["str"]], pd.DataFrame(index=[0, 1])):
        assert _typed(records(frame)) == _typed(row_records(frame))
    assert records(df)[1]["float"] == 1.5 and records(df)[0]["float"] is None and records(df)[1]["str"] is None
