"""Helpers that build ECharts option objects (plain JSON-serialisable dicts) for report charts.

No JavaScript functions appear in an option: the report inlines the vendored ECharts library and passes
each option through ``JSON.parse``, so only data, string templates and colours are allowed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["PALETTE", "STATUS_COLOURS", "Segment", "share_bars", "timeline"]

PALETTE: tuple[str, ...] = (
    "#c23b22", "#1f5f8b", "#e08e0b", "#2e8b57", "#6a4c93", "#8c564b", "#17becf", "#7f7f7f", "#bcbd22",
    "#e377c2", "#393b79", "#637939",
)
"""Series colours in order; the last colour of a stacked chart (the remainder) is always grey."""

REMAINDER_COLOUR = "#c7c7c7"

STATUS_COLOURS: dict[str, str] = {
    "announced": "#b3b3b3",
    "mou": "#7f7f7f",
    "exploration": "#c6dbef",
    "pea": "#9ecae1",
    "pfs": "#6baed6",
    "fs": "#4292c6",
    "financed": "#2171b5",
    "construction": "#fd8d3c",
    "commissioning": "#a1d99b",
    "operating": "#31a354",
    "suspended": "#e6550d",
    "closed": "#636363",
    "in force": "#c23b22",
    "suspended measure": "#fdae6b",
    "suspension in effect": "#969696",
    "planned window": "#9e9ac8",
}


def share_bars(categories: Sequence[str], series: Mapping[str, Sequence[float | None]], *, title: str,
               y_name: str = "share of world total, %", remainder: str | None = None) -> dict[str, Any]:
    """A stacked bar chart: one bar per category (e.g. '2023 · usgs-mcs-2024'), one stack layer per series.

    ``series`` maps a layer name (a country) to one value per category (``None`` where the source has
    no figure). The layer named ``remainder`` (if given) is drawn in grey, last.
    """
    for name, values in series.items():
        if len(values) != len(categories):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(categories)} categories")
    out_series: list[dict[str, Any]] = []
    colours = iter(PALETTE * (1 + len(series) // len(PALETTE)))
    for name, values in series.items():
        colour = REMAINDER_COLOUR if name == remainder else next(colours)
        out_series.append({
            "name": name, "type": "bar", "stack": "share", "barMaxWidth": 56,
            "itemStyle": {"color": colour},
            "emphasis": {"focus": "series"},
            "data": [None if v is None else round(float(v), 1) for v in values],
        })
    return {
        "title": {"text": title, "left": "left", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"type": "scroll", "bottom": 0},
        "grid": {"left": 56, "right": 16, "top": 48, "bottom": 64, "containLabel": True},
        "xAxis": {"type": "category", "data": list(categories), "axisLabel": {"interval": 0}},
        "yAxis": {"type": "value", "name": y_name, "max": 100, "nameLocation": "middle", "nameGap": 40},
        "series": out_series,
    }


@dataclass(frozen=True)
class Segment:
    """One bar of a timeline: ``row`` (y category) from ``start`` to ``end`` (ISO dates), drawn as ``kind``.

    ``open_end`` marks a segment whose end is not a stated date (drawn faded, up to the chart's edge).
    """

    row: str
    start: str
    end: str
    kind: str
    label: str = ""
    open_end: bool = False


def timeline(rows: Sequence[str], segments: Sequence[Segment], *, as_of: str, title: str,
             colours: Mapping[str, str] | None = None, x_min: str | None = None,
             x_max: str | None = None) -> dict[str, Any]:
    """A Gantt-like chart on a time axis: each segment a thick line in its row, a vertical line at ``as_of``.

    Segments of the same ``kind`` share a legend entry and a colour (from ``colours`` or STATUS_COLOURS).
    """
    colours = {**STATUS_COLOURS, **(colours or {})}
    unknown_rows = {s.row for s in segments} - set(rows)
    if unknown_rows:
        raise ValueError(f"segments in rows not listed: {sorted(unknown_rows)}")
    fallback = iter(PALETTE * 4)
    kind_colour: dict[str, str] = {}
    series: list[dict[str, Any]] = []
    for seg in segments:
        if seg.kind not in kind_colour:
            kind_colour[seg.kind] = colours.get(seg.kind) or next(fallback)
        series.append({
            "name": seg.kind, "type": "line", "symbol": "rect", "symbolSize": [3, 16],
            "lineStyle": {"width": 14, "color": kind_colour[seg.kind], "opacity": 0.45 if seg.open_end else 1.0,
                          "cap": "butt"},
            "itemStyle": {"color": kind_colour[seg.kind]},
            "tooltip": {"formatter": f"{seg.row}<br/>{seg.label or seg.kind}: {seg.start} → "
                                     f"{'open' if seg.open_end else seg.end}"},
            "data": [[seg.start, seg.row], [seg.end, seg.row]],
            "z": 3,
        })
    series.append({
        "name": "as of", "type": "line", "data": [], "symbol": "none",
        "markLine": {"symbol": "none", "silent": True,
                     "lineStyle": {"color": "#000", "type": "solid", "width": 2},
                     "label": {"formatter": f"as of {as_of}", "position": "start"},
                     "data": [{"xAxis": as_of}]},
    })
    x_axis: dict[str, Any] = {"type": "time", "splitLine": {"show": True, "lineStyle": {"color": "#eee"}}}
    if x_min:
        x_axis["min"] = x_min
    if x_max:
        x_axis["max"] = x_max
    return {
        "title": {"text": title, "left": "left", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "item"},
        "legend": {"type": "scroll", "bottom": 0, "data": list(kind_colour)},
        "grid": {"left": 16, "right": 48, "top": 56, "bottom": 56, "containLabel": True},
        "xAxis": x_axis,
        "yAxis": {"type": "category", "data": list(rows), "inverse": True, "axisLabel": {"width": 300,
                                                                                         "overflow": "break"}},
        "series": series,
    }
