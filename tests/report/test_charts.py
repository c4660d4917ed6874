from __future__ import annotations

import json

import pytest

from orechain.report.charts import REMAINDER_COLOUR, Segment, share_bars, timeline


def test_share_bars_stacks_one_layer_per_country_and_greys_the_remainder() -> None:
    opt = share_bars(["2023 · a", "2023 · b"], {"China": [68.6, 67.8], "rest": [31.4, None]}, title="t",
                     remainder="rest")
    assert [s["name"] for s in opt["series"]] == ["China", "rest"]
    assert all(s["stack"] == "share" for s in opt["series"])
    assert opt["series"][1]["itemStyle"]["color"] == REMAINDER_COLOUR
    assert opt["series"][1]["data"] == [31.4, None]
    json.dumps(opt, allow_nan=False)


def test_share_bars_rejects_a_series_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="2 values for 1 categories"):
        share_bars(["x"], {"China": [1.0, 2.0]}, title="t")


def test_timeline_draws_each_segment_in_its_row_and_marks_the_as_of_date() -> None:
    segs = [Segment("Reko Diq", "2022-12-01", "2024-06-01", "fs"),
            Segment("Reko Diq", "2024-06-01", "2025-11-20", "construction"),
            Segment("Phase 3", "2028-01-01", "2030-01-01", "planned window", open_end=True)]
    opt = timeline(["Reko Diq", "Phase 3"], segs, as_of="2025-11-20", title="t")
    lines = [s for s in opt["series"] if s["name"] != "as of"]
    assert [s["data"] for s in lines][1] == [["2024-06-01", "Reko Diq"], ["2025-11-20", "Reko Diq"]]
    assert lines[2]["lineStyle"]["opacity"] < 1
    marker = next(s for s in opt["series"] if s["name"] == "as of")
    assert marker["markLine"]["data"] == [{"xAxis": "2025-11-20"}]
    assert opt["legend"]["data"] == ["fs", "construction", "planned window"]
    json.dumps(opt, allow_nan=False)


def test_timeline_refuses_a_segment_in_an_unlisted_row() -> None:
    with pytest.raises(ValueError, match="not listed"):
        timeline(["a"], [Segment("b", "2020-01-01", "2021-01-01", "fs")], as_of="2021-01-01", title="t")
