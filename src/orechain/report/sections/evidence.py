"""Foundation sections of the Pakistan-US report, read from the evidence base through its queries.

- :func:`production_shares`: mine production shares by country for rare earths, antimony and tungsten,
  the latest two years with data, each source vintage side by side;
- :func:`lifecycle`: where each Pakistani facility and each phase of each deal with a Pakistani party
  stands on the as-of date (timeline chart and table);
- :func:`export_controls`: China's export-control events and their state on the as-of date;
- :func:`pakistan_facts`: every sourced figure about Pakistan in the evidence base.

The pure functions (frames in, frames out) come first and hold the logic; the ``build`` functions
only read, call them and format. Every section works with whatever rows exist: an empty evidence base
gives sections that say what is missing, never invented figures.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from markupsafe import Markup, escape
from sqlalchemy import select

from orechain.evidence import queries, schema
from orechain.evidence.model import OTHER, WORLD, Status
from orechain.evidence.names import UnknownName, country_name
from orechain.evidence.store import Store
from orechain.report.charts import Segment, share_bars, timeline
from orechain.report.html import chart_slot, cite, csv_name, fmt_number, table_html
from orechain.report.section import Chart, ReportContext, Section

__all__ = [
    "COMMODITIES", "controls_on", "country_production", "deal_state", "event_segments", "export_controls",
    "facility_status_on", "lifecycle", "pakistan_facts", "parse_date", "phase_position", "production_shares",
    "share_table", "status_segments",
]

COMMODITIES: tuple[str, ...] = ("rare-earths", "antimony", "tungsten")
PAKISTAN = "PAK"
CHINA = "CHN"
HISTORY_YEARS = 8
"""How many years before the as-of date a timeline chart shows (older history stays in the tables)."""
CHART_TOP = 6
"""Countries drawn individually in a share chart; the rest are one grey 'rest of world' layer (the table
lists every country)."""


# --- pure helpers -----------------------------------------------------------------------------------
def parse_date(text: Any, *, end: bool = False) -> dt.date | None:
    """An ISO date, or a partial one (``YYYY``, ``YYYY-MM``) as its first day (or last day with ``end``)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    s = str(text).strip()
    if not s:
        return None
    parts = s.split("-")
    try:
        if len(parts) == 1:
            y = int(parts[0])
            return dt.date(y, 12, 31) if end else dt.date(y, 1, 1)
        if len(parts) == 2:
            y, m = int(parts[0]), int(parts[1])
            return dt.date(y, m, calendar.monthrange(y, m)[1]) if end else dt.date(y, m, 1)
        return dt.date.fromisoformat(s)
    except ValueError as exc:
        raise ValueError(f"not a date: {s!r}") from exc


def _has(v: Any) -> bool:
    """A value that is present: not None, NaN or an empty string."""
    return not (v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v == "")


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in df.to_dict(orient="records")]


def _name(code: Any) -> str:
    if code is None or (isinstance(code, float) and math.isnan(code)):
        return ""
    try:
        return country_name(str(code))
    except UnknownName:
        return str(code)


def share_table(prod: pd.DataFrame, years: int = 2) -> pd.DataFrame:
    """Country shares of world mine production, per commodity, year and source (one row per figure).

    ``prod`` is :func:`orechain.evidence.queries.production` output. For each commodity the latest
    ``years`` years with any figure are kept. A share is the country's figure over the world total that
    the same source gives for the same year in the same unit (``basis`` = "world total"); when the source
    gives no world total, over the sum of its country rows (``basis`` = "sum of rows"). Withheld or
    missing figures (value empty, e.g. 'W') keep their published text and have no share. World rows are
    kept with a share of 100.
    """
    cols = ["commodity", "country", "country_name", "year", "source_id", "value", "value_text", "unit",
            "share_pct", "basis", "estimated", "quality", "note", "observation_id"]
    if prod.empty:
        return pd.DataFrame(columns=cols)
    df = prod.copy()
    keep: list[pd.DataFrame] = []
    for _commodity, grp in df.groupby("commodity", sort=True):
        latest = sorted(grp["year"].dropna().unique())[-years:]
        keep.append(grp[grp["year"].isin(latest)])
    df = pd.concat(keep, ignore_index=True)
    rows: list[dict[str, Any]] = []
    for (_c, _y, _s), grp in df.groupby(["commodity", "year", "source_id"], sort=True):
        world = grp[grp["country"] == WORLD]
        world_vals = world.dropna(subset=["value"])
        countries_ = grp[grp["country"] != WORLD]
        if len(world_vals) == 1:
            total, total_unit, basis = float(world_vals["value"].iloc[0]), world_vals["unit"].iloc[0], "world total"
        elif len(world_vals) > 1:
            total, total_unit, basis = math.nan, None, "several world totals in one source"
        else:
            vals = countries_.dropna(subset=["value"])
            units = set(vals["unit"])
            if len(units) == 1 and not vals.empty:
                total, total_unit, basis = float(vals["value"].sum()), units.pop(), "sum of rows"
            else:
                total, total_unit, basis = math.nan, None, "no world total"
        for rec in _records(grp):
            value = rec["value"]
            share = math.nan
            row_basis = basis
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                if rec["unit"] != total_unit and not math.isnan(total):
                    row_basis = f"unit differs from the total's ({total_unit})"
                elif total and not math.isnan(total):
                    share = round(100.0 * float(value) / total, 1)
            rows.append({**{k: rec.get(k) for k in cols if k in rec}, "country_name": _name(rec["country"]),
                         "share_pct": share, "basis": row_basis})
    out = pd.DataFrame(rows).reindex(columns=cols)
    order = out["country"].map(lambda c: 2 if c == WORLD else 1 if c == OTHER else 0)
    out = out.assign(_o=order).sort_values(["commodity", "year", "source_id", "_o", "share_pct", "country"],
                                           ascending=[True, True, True, True, False, True])
    return out.drop(columns="_o").reset_index(drop=True)


def facility_status_on(facilities: pd.DataFrame, history: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Each facility's status on ``as_of`` (the latest dated status on or before it) and the next stated one.

    A status dated after ``as_of`` is a stated target or plan, shown as ``next_status``; it never counts
    as the current status. A facility without any dated status on or before ``as_of`` has status
    "unknown".
    """
    rows = []
    for fac in _records(facilities):
        dated = sorted(((d, r) for r in _records(history[history["facility"] == fac["id"]])
                        if (d := parse_date(r["date"])) is not None), key=lambda x: (x[0], _rank(x[1]["status"])))
        past = [r for d, r in dated if d <= as_of]
        future = [r for d, r in dated if d > as_of]
        cur = past[-1] if past else None
        nxt = future[0] if future else None
        rows.append({
            "facility": fac["id"], "name": fac["name"], "stage": fac["stage"], "commodity": fac["commodity"],
            "region": fac.get("region"),
            "status": cur["status"] if cur is not None else "unknown",
            "since": cur["date"] if cur is not None else None,
            "status_source_id": cur["source_id"] if cur is not None else fac["source_id"],
            "next_status": nxt["status"] if nxt is not None else None,
            "next_date": nxt["date"] if nxt is not None else None,
            "next_source_id": nxt["source_id"] if nxt is not None else None,
            "status_note": cur["note"] if cur is not None else None,
        })
    return pd.DataFrame(rows, columns=["facility", "name", "stage", "commodity", "region", "status", "since",
                                       "status_source_id", "next_status", "next_date", "next_source_id",
                                       "status_note"])


def _rank(status: Any) -> int:
    try:
        return Status(status).rank
    except ValueError:
        return -1


def deal_state(status: Any, signed: Any, as_of: dt.date) -> str:
    """A deal's recorded status read against ``as_of``: its signing date decides whether it existed yet."""
    day = parse_date(signed)
    if day is None:
        return f"{status} (no signing date stated)"
    if day > as_of:
        return f"not yet signed on the as-of date (signed {signed})"
    return f"{status} since {signed}"


def _months(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


def phase_position(start: Any, end: Any, as_of: dt.date) -> str:
    """Where ``as_of`` falls in a planned window (partial dates allowed; either end may be open)."""
    s, e = parse_date(start), parse_date(end, end=True)
    if s is None and e is None:
        return "no planned dates stated"
    if s is not None and as_of < s:
        n = _months(as_of, s)
        return f"not yet due: window opens {start} (in {n} month{'s' if n != 1 else ''})"
    if e is not None and as_of > e:
        return f"planned window ended {end}"
    if e is None:
        return f"within planned window (from {start}, no end stated)"
    n = _months(as_of, e)
    return f"within planned window ({n} month{'s' if n != 1 else ''} left, to {end})"


def status_segments(row_name: str, history: pd.DataFrame, as_of: dt.date) -> list[Segment]:
    """Timeline segments for one facility's status history: each status from its date to the next one's
    (the last past one up to ``as_of``); statuses dated after ``as_of`` drawn dashed as stated targets."""
    dated = sorted(((d, r) for r in _records(history) if (d := parse_date(r["date"])) is not None),
                   key=lambda x: (x[0], _rank(x[1]["status"])))
    past = [(d, r) for d, r in dated if d <= as_of]
    future = [(d, r) for d, r in dated if d > as_of]
    segs: list[Segment] = []
    dates = [d for d, _ in past] + [as_of]
    for i, (start, rec) in enumerate(past):
        end = dates[i + 1]
        if end <= start:
            end = start + dt.timedelta(days=10)
        segs.append(Segment(row_name, start.isoformat(), end.isoformat(), str(rec["status"]),
                            label=f"{rec['status']} (source {rec['source_id']})"))
    for start, rec in future:
        segs.append(Segment(row_name, start.isoformat(), (start + dt.timedelta(days=182)).isoformat(),
                            str(rec["status"]), label=f"stated target: {rec['status']} (source {rec['source_id']})",
                            open_end=True))
    return segs


def _split(text: Any) -> list[str]:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    return [t for t in str(text).split("|") if t]


def controls_on(events: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Each event's state on ``as_of``: in force, suspended (by which event, until when), not yet in force,
    ended, or no start date. A suspending event (one whose ``suspends`` is set) is itself "in force" while
    its own window holds; it suspends its target over that window."""
    cols = ["id", "name", "kind", "issuer", "announced", "start", "end", "state", "suspended_by", "suspended_until",
            "scope", "destinations", "source_id", "notes"]
    if events.empty:
        return pd.DataFrame(columns=cols)
    suspensions: dict[str, list[dict[str, Any]]] = {}
    for ev in _records(events):
        if isinstance(ev.get("suspends"), str) and ev["suspends"]:
            suspensions.setdefault(ev["suspends"], []).append(ev)
    rows = []
    for ev in _records(events):
        start, end = parse_date(ev.get("start")), parse_date(ev.get("end"), end=True)
        by, until = None, None
        if start is None:
            state = "no start date stated"
        elif as_of < start:
            state = f"not yet in force (from {ev['start']})"
        elif end is not None and as_of > end:
            state = f"ended {ev['end']}"
        elif _has(ev.get("suspends")):
            state = f"suspension in effect (suspends {ev['suspends']})"
        else:
            state = "in force"
            for sus in suspensions.get(ev["id"], []):
                s0, s1 = parse_date(sus.get("start")), parse_date(sus.get("end"), end=True)
                if s0 is not None and s0 <= as_of and (s1 is None or as_of <= s1):
                    state, by, until = "suspended", sus["id"], sus.get("end")
        scope = ", ".join([*_split(ev.get("commodities")), *_split(ev.get("elements")), *_split(ev.get("forms"))])
        dest = ", ".join(_split(ev.get("destinations"))) or "all destinations"
        rows.append({"id": ev["id"], "name": ev["name"], "kind": ev["kind"], "issuer": ev.get("issuer"),
                     "announced": ev.get("announced"), "start": ev.get("start"), "end": ev.get("end"),
                     "state": state, "suspended_by": by, "suspended_until": until, "scope": scope,
                     "destinations": dest, "source_id": ev["source_id"], "notes": ev.get("notes")})
    rank = {"in force": 0, "suspended": 1}
    out = pd.DataFrame(rows, columns=cols)
    out["_r"] = out["state"].map(lambda s: rank.get(s, 2))
    return out.sort_values(["_r", "start", "id"], na_position="last").drop(columns="_r").reset_index(drop=True)


def event_segments(events: pd.DataFrame, as_of: dt.date, horizon: dt.date) -> list[Segment]:
    """Timeline segments for events, one row per event id: in force from start to end (or ``horizon``),
    with any suspension windows drawn as "suspended measure" over the event's row."""
    segs: list[Segment] = []
    by_target: dict[str, list[dict[str, Any]]] = {}
    for ev in _records(events):
        if isinstance(ev.get("suspends"), str) and ev["suspends"]:
            by_target.setdefault(ev["suspends"], []).append(ev)
    for ev in _records(events):
        start = parse_date(ev.get("start"))
        if start is None:
            continue
        end = parse_date(ev.get("end"), end=True)
        stop = end or horizon
        row = str(ev["id"])
        if _has(ev.get("suspends")):
            segs.append(Segment(row, start.isoformat(), stop.isoformat(), "suspension in effect",
                                label=f"suspends {ev['suspends']}", open_end=end is None))
            continue
        cuts: list[tuple[dt.date, dt.date, str]] = []
        for sus in by_target.get(ev["id"], []):
            s0 = parse_date(sus.get("start"))
            s1 = parse_date(sus.get("end"), end=True) or horizon
            if s0 is not None:
                cuts.append((max(s0, start), min(s1, stop), str(sus["id"])))
        cursor = start
        for s0, s1, sid in sorted(cuts):
            if s0 > cursor:
                segs.append(Segment(row, cursor.isoformat(), s0.isoformat(), "in force", label="in force"))
            segs.append(Segment(row, s0.isoformat(), s1.isoformat(), "suspended measure",
                                label=f"suspended by {sid}"))
            cursor = max(cursor, s1)
        if cursor < stop:
            segs.append(Segment(row, cursor.isoformat(), stop.isoformat(), "in force",
                                label="in force" if end else "in force (no end stated)", open_end=end is None))
    return segs


# --- formatting helpers -----------------------------------------------------------------------------
def _p(*parts: Any) -> Markup:
    return Markup("<p>") + Markup("").join(p if isinstance(p, Markup) else escape(p) for p in parts) + Markup("</p>")


def _ul(items: Iterable[Markup | str], cls: str = "findings") -> Markup:
    lis = Markup("").join(Markup("<li>{}</li>").format(i) for i in items)
    return Markup('<ul class="{}">{}</ul>').format(cls, lis) if lis else Markup("")


def _badge(quality: Any) -> Markup:
    q = "" if quality is None or (isinstance(quality, float) and math.isnan(quality)) else str(quality)
    return Markup('<span class="badge {0}">{0}</span>').format(q) if q else Markup("")


def _commodity_names(store: Store) -> dict[str, str]:
    with store.engine.connect() as conn:
        return {r[0]: r[1] for r in conn.execute(select(schema.commodities.c.id, schema.commodities.c.name))}


def _ids(values: Iterable[Any]) -> set[str]:
    return {str(v) for v in values if isinstance(v, str) and v}


# --- section: production shares -----------------------------------------------------------------------
def country_production(store: Store, commodities: Sequence[str]) -> pd.DataFrame:
    """Country-level mine production rows (as :func:`queries.production` returns them) for ``commodities``.

    Rows about one facility or company (``facility`` set) and rows without a country are left out: they
    are not part of a country table and would distort the shares. They stay in the evidence base.
    """
    obs = queries.observations(store, metric="mine_production")
    obs = obs[obs["commodity"].isin(list(commodities)) & obs["facility"].isna() & obs["country"].notna()]
    cols = ["commodity", "country", "year", "value", "value_text", "unit", "estimated", "quality", "source_id",
            "publisher", "source_date", "note", "id"]
    return obs[cols].rename(columns={"id": "observation_id"}).reset_index(drop=True)


def production_shares(store: Store, ctx: ReportContext) -> Section:
    """Mine production shares by country for rare earths, antimony and tungsten."""
    names = _commodity_names(store)
    table = share_table(country_production(store, COMMODITIES))
    html: list[Markup] = [_p(
        "Mine production by country for the three minerals the Pakistan-US deal names first, for the latest two "
        "years in the evidence base. Each source's figures stay in their own column: USGS revises earlier years "
        "between editions, so the same year can show two values. A share is a country's figure over the world "
        "total published by the same source for the same year; where a source gives none, over the sum of its "
        "country rows (column basis in the CSV).")]
    charts: list[Chart] = []
    summary: list[str] = []
    csv = csv_name("production", "shares")
    for commodity in COMMODITIES:
        label = names.get(commodity, commodity)
        sub = table[table["commodity"] == commodity]
        html.append(Markup("<h3>{}</h3>").format(label))
        if sub.empty:
            html.append(_p(Markup('<span class="note">'), f"No mine production figures for {label} in the evidence "
                           "base; nothing is shown.", Markup("</span>")))
            summary.append(f"{label}: no mine production figures in the evidence base")
            continue
        columns = [(int(y), str(s)) for y, s in sub[["year", "source_id"]].drop_duplicates().sort_values(
            ["year", "source_id"]).itertuples(index=False)]
        html.append(_findings(sub, columns, label, summary))
        wide = _wide(sub, columns)
        html.append(chart_slot(commodity))
        html.append(table_html(wide, caption=f"{label}: mine production by country, value (share of world %)",
                               csv=csv))
        html.append(_p(Markup('<span class="note">'), "Units: " + "; ".join(
            f"{y} · {s}: {', '.join(sorted(set(sub[(sub['year'] == y) & (sub['source_id'] == s)]['unit'])))}"
            for y, s in columns) + ". 'e' marks an estimate. The CSV holds one row per figure with its note.",
            Markup("</span>")))
        charts.append(_share_chart(sub, columns, label, commodity))
    if table.empty:
        html.insert(1, _p(Markup('<div class="error-box">'), "The evidence base holds no mine production figures "
                          "for these minerals yet.", Markup("</div>")))
    return Section(id="production", title="Mine production shares: rare earths, antimony, tungsten",
                   html=str(Markup("").join(html)), tables={"shares": table}, charts=charts, summary=summary,
                   source_ids=_ids(table["source_id"]))


def _cell(rec: dict[str, Any]) -> Markup:
    value = rec["value"]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return cite(str(rec.get("value_text") or "n/a"), rec["source_id"])
    text = fmt_number(value) + ("e" if rec.get("estimated") else "")
    share = rec["share_pct"]
    if share is not None and not (isinstance(share, float) and math.isnan(share)):
        text += f" ({share:.1f}%)"
    return cite(text, rec["source_id"], title=f"{rec['source_id']}, quality {rec['quality']}")


def _wide(sub: pd.DataFrame, columns: Sequence[tuple[int, str]]) -> pd.DataFrame:
    """Countries down, (year · source) across; each cell a cited 'value (share%)'."""
    latest = columns[-1]
    last = sub[(sub["year"] == latest[0]) & (sub["source_id"] == latest[1])].set_index("country")["share_pct"]
    countries_ = list(dict.fromkeys(sub["country"]))
    def key(c: str) -> tuple[int, float, str]:
        share = last.get(c)
        return (2 if c == WORLD else 1 if c == OTHER else 0, -(float(share) if pd.notna(share) else -1.0), _name(c))

    order = sorted(countries_, key=key)
    data: dict[str, list[Any]] = {"country": [_name(c) for c in order]}
    for y, s in columns:
        col = sub[(sub["year"] == y) & (sub["source_id"] == s)]
        recs = {r["country"]: r for r in _records(col)}
        data[f"{y} · {s}"] = [_cell(recs[c]) if c in recs else Markup("") for c in order]
    return pd.DataFrame(data)


def _findings(sub: pd.DataFrame, columns: Sequence[tuple[int, str]], label: str, summary: list[str]) -> Markup:
    items: list[Markup] = []
    y, s = columns[-1]
    col = sub[(sub["year"] == y) & (sub["source_id"] == s)]
    ranked = col[(col["country"] != WORLD) & (col["country"] != OTHER)].dropna(subset=["share_pct"])
    ranked = ranked.sort_values("share_pct", ascending=False)
    world = col[col["country"] == WORLD].dropna(subset=["value"])
    if not ranked.empty:
        top = ranked.iloc[0]
        text = Markup("In {y}, {c} mined {v} {u}, {sh} of the world total").format(
            y=y, c=top["country_name"], v=cite(top["value"], s), u=top["unit"], sh=cite(f"{top['share_pct']:.1f}%", s))
        if not world.empty:
            text += Markup(" of {} {}").format(cite(world["value"].iloc[0], s), world["unit"].iloc[0])
        items.append(text + Markup(" ({}).").format(s))
        summary.append(f"{label}: {top['country_name']} {top['share_pct']:.1f}% of world mine production in {y} "
                       f"[{s}]")
    pak = sub[sub["country"] == PAKISTAN]
    if pak.empty:
        items.append(Markup("Pakistan has no {} mine production figure in these sources.").format(label.lower()))
    for rec in _records(pak):
        val = cite(rec["value"], rec["source_id"]) if pd.notna(rec["value"]) else cite(
            str(rec["value_text"]), rec["source_id"])
        sh = (Markup(", {} of the world").format(cite(f"{rec['share_pct']:.1f}%", rec["source_id"]))
              if pd.notna(rec["share_pct"]) else Markup(""))
        items.append(Markup("Pakistan: {v} {u} in {y}{sh} ({s}).").format(v=val, u=rec["unit"], y=rec["year"], sh=sh,
                                                                          s=rec["source_id"]))
        summary.append(f"{label}: Pakistan {fmt_number(rec['value'])} {rec['unit']} in {rec['year']} "
                       f"[{rec['source_id']}]")
    # the same country and year from two sources: show the revision
    for (country, year), grp in sub.dropna(subset=["value"]).groupby(["country", "year"]):
        if grp["source_id"].nunique() > 1 and grp["value"].nunique() > 1 and country in (CHINA, WORLD, PAKISTAN):
            parts = Markup("; ").join(Markup("{} ({})").format(cite(r["value"], r["source_id"]), r["source_id"])
                                      for r in _records(grp))
            items.append(Markup("Sources differ for {c} {y}: {p}. Both are kept.").format(
                c=_name(country), y=year, p=parts))
    return _ul(items)


def _share_chart(sub: pd.DataFrame, columns: Sequence[tuple[int, str]], label: str, commodity: str) -> Chart:
    cats = [f"{y} · {s}" for y, s in columns]
    countries_only = sub[(sub["country"] != WORLD) & (sub["country"] != OTHER)].dropna(subset=["share_pct"])
    best = countries_only.groupby("country")["share_pct"].max().sort_values(ascending=False)
    top = list(best.index[:CHART_TOP])
    series: dict[str, list[float | None]] = {}
    for c in top:
        vals: list[float | None] = []
        for y, s in columns:
            hit = countries_only[(countries_only["country"] == c) & (countries_only["year"] == y)
                                 & (countries_only["source_id"] == s)]
            vals.append(float(hit["share_pct"].iloc[0]) if not hit.empty else None)
        series[_name(c)] = vals
    rest: list[float | None] = []
    for i in range(len(columns)):
        shown = sum(v[i] or 0.0 for v in series.values())
        rest.append(max(0.0, 100.0 - shown))
    series["rest of world"] = rest
    return Chart(id=commodity, option=share_bars(cats, series, title=f"{label}: share of world mine production",
                                                 remainder="rest of world"),
                 height=380, caption=f"{label}: the {len(top)} largest producers drawn individually; 'rest of world' "
                                     "is 100% minus them (every country is in the table).")


# --- section: lifecycle ---------------------------------------------------------------------------
def _pakistan_deals(store: Store) -> pd.DataFrame:
    """Deals with at least one party controlled from Pakistan (read-only select; no query exists for parties)."""
    dp, org = schema.deal_parties, schema.organisations
    stmt = select(dp.c.deal, dp.c.organisation, dp.c.role, org.c.name, org.c.country).join(
        org, dp.c.organisation == org.c.id)
    with store.engine.connect() as conn:
        parties = pd.DataFrame(conn.execute(stmt).all(), columns=["deal", "organisation", "role", "name", "country"])
    deals = queries.deals(store)
    pak_ids = set(parties.loc[parties["country"] == PAKISTAN, "deal"])
    deals = deals[deals["id"].isin(pak_ids)].copy()
    deals["parties"] = deals["id"].map(lambda d: "; ".join(
        f"{r.name} ({r.country}, {r.role})" for r in parties[parties["deal"] == d].itertuples()))
    return deals.reset_index(drop=True)


def _milestones(store: Store) -> pd.DataFrame:
    t = schema.deal_milestones
    with store.engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.deal, t.c.seq, t.c.date)).all()
    return pd.DataFrame(rows, columns=["deal", "seq", "date", "description", "source_id"])


def lifecycle(store: Store, ctx: ReportContext) -> Section:
    """Where each Pakistani facility and each deal phase stands on the as-of date."""
    as_of = ctx.as_of
    facs = queries.facilities(store, country=PAKISTAN)
    hist = queries.facility_status(store)
    fac_table = facility_status_on(facs, hist, as_of)
    deals = _pakistan_deals(store)
    phases = queries.deal_phases(store)
    phases = phases[phases["deal"].isin(list(deals["id"]))].copy()
    names = dict(zip(deals["id"], deals["name"], strict=True))
    signed = dict(zip(deals["id"], deals["signed"], strict=True))
    deal_src = dict(zip(deals["id"], deals["source_id"], strict=True))
    phases["deal_name"] = phases["deal"].map(names)
    phases["position_on_as_of"] = [phase_position(s, e, as_of) for s, e in zip(phases["start"], phases["end"],
                                                                                  strict=True)]
    phases["source_id"] = phases["deal"].map(deal_src)
    phase_table = phases.reindex(columns=["deal", "deal_name", "seq", "name", "start", "end", "status",
                                          "position_on_as_of", "description", "source_id"]).reset_index(drop=True)
    miles = _milestones(store)
    miles = miles[miles["deal"].isin(list(deals["id"]))].reset_index(drop=True)

    rows: list[str] = []
    segs: list[Segment] = []
    for fac in _records(fac_table):
        row = f"{fac['name']} ({fac['stage']})"
        rows.append(row)
        segs += status_segments(row, hist[hist["facility"] == fac["facility"]], as_of)
    for ph in _records(phase_table):
        row = f"{ph['deal']}: phase {ph['seq']}"
        rows.append(row)
        start = parse_date(ph["start"]) or parse_date(signed.get(ph["deal"]))
        end = parse_date(ph["end"], end=True)
        if start is None and end is None:
            continue
        if start is None:
            start = end - dt.timedelta(days=365) if end else None
        open_end = end is None
        assert start is not None
        if end is None:
            end = max(start, as_of) + dt.timedelta(days=730)
        segs.append(Segment(row, start.isoformat(), end.isoformat(), "planned window",
                            label=f"{ph['name']} (planned)", open_end=open_end))
    unphased = deals[~deals["id"].isin(list(phase_table["deal"]))]
    for d in _records(unphased):
        row = f"{d['id']} (deal)"
        rows.append(row)
        day = parse_date(d["signed"])
        if day is not None and day <= as_of:
            segs.append(Segment(row, day.isoformat(), as_of.isoformat(), str(d["status"]),
                                label=f"{d['name']}: {d['status']} (source {d['source_id']})"))
    rows = list(dict.fromkeys(rows))

    html: list[Markup] = [_p(
        "Status of each facility in Pakistan and of each phase of each deal with a Pakistani party on ",
        Markup("<strong>{}</strong>").format(as_of.isoformat()),
        ". A facility's status is the latest dated status on or before that date; a status dated later is a "
        "stated target, drawn faded. Deal phases are drawn over their planned windows as reported; a deal "
        "without stated phases is drawn from its signing date with its recorded status.")]
    summary: list[str] = []
    items: list[Markup] = []
    for fac in _records(fac_table):
        since = (Markup(" since {}").format(cite(fac["since"], fac["status_source_id"])) if _has(fac["since"])
                 else Markup(" (no dated status)"))
        nxt = (Markup("; next stated: {} in {}").format(fac["next_status"], cite(fac["next_date"],
                                                                                 fac["next_source_id"]))
               if _has(fac["next_status"]) else Markup(""))
        items.append(Markup("<strong>{}</strong>: {}{}{}.").format(fac["name"], fac["status"], since, nxt))
        summary.append(f"{fac['name']}: {fac['status']}" + (f" since {fac['since']}" if _has(fac["since"]) else "")
                       + (f"; next stated {fac['next_status']} {fac['next_date']}" if _has(fac["next_status"]) else ""))
    for ph in _records(phase_table):
        items.append(Markup("<strong>{} phase {}</strong> ({}): {}.").format(
            ph["deal_name"], ph["seq"], ph["name"], cite(ph["position_on_as_of"], ph["source_id"])))
        summary.append(f"{ph['deal_name']} phase {ph['seq']}: {ph['position_on_as_of']}")
    for d in _records(unphased):
        state = deal_state(d["status"], d["signed"], as_of)
        items.append(Markup("<strong>{}</strong> (deal without stated phases): {}.").format(
            d["name"], cite(state, d["source_id"])))
        summary.append(f"{d['name']}: {state}")
    if fac_table.empty:
        items.append(Markup("The evidence base holds no facility in Pakistan."))
    if deals.empty:
        items.append(Markup("The evidence base holds no deal with a Pakistani party."))
    html.append(_ul(items))
    charts: list[Chart] = []
    if segs:
        dates = [parse_date(s.start) for s in segs] + [parse_date(s.end) for s in segs] + [as_of]
        lo = min(d for d in dates if d is not None)
        window_start = dt.date(as_of.year - HISTORY_YEARS, 1, 1)
        clip_note = (f" The axis starts in {window_start.year}; earlier history is in the table below."
                     if lo < window_start else "")
        lo = max(lo, window_start)
        charts.append(Chart(id="timeline", option=timeline(
            rows, segs, as_of=as_of.isoformat(), title="Pakistani facilities and deal phases",
            x_min=dt.date(lo.year, 1, 1).isoformat()), height=max(220, 100 + 40 * len(rows)),
            caption="Bars: status held (facility) or planned window (deal phase); faded: a stated target or "
                    "an open-ended window; the black line is the as-of date." + clip_note))
        html.append(chart_slot("timeline"))
    html.append(Markup("<h3>Facilities</h3>"))
    html.append(table_html(fac_table, links={"status": "status_source_id", "since": "status_source_id",
                                             "next_status": "next_source_id", "next_date": "next_source_id"},
                           hide=("status_source_id", "next_source_id"), csv=csv_name("lifecycle", "facilities"),
                           caption=f"Pakistani facilities: status on {as_of.isoformat()}"))
    html.append(Markup("<h3>Deal phases</h3>"))
    html.append(table_html(phase_table.drop(columns=["deal"]), links={"start": "source_id", "end": "source_id"},
                           csv=csv_name("lifecycle", "deal-phases"),
                           caption=f"Phases of deals with a Pakistani party, against {as_of.isoformat()}"))
    if not deals.empty:
        html.append(Markup("<h3>Deals</h3>"))
        dshow = deals.reindex(columns=["id", "name", "signed", "value_text", "value", "value_unit", "status",
                                       "parties", "source_id"])
        html.append(table_html(dshow, links={"signed": "source_id", "value_text": "source_id", "value": "source_id"},
                               csv=csv_name("lifecycle", "deals"), caption="Deals with a Pakistani party"))
    if not miles.empty:
        html.append(table_html(miles, links={"date": "source_id"}, csv=csv_name("lifecycle", "milestones"),
                               caption="Deal milestones"))
    tables = {"facilities": fac_table, "deal-phases": phase_table}
    if not deals.empty:
        tables["deals"] = deals
    if not miles.empty:
        tables["milestones"] = miles
    sources = (_ids(fac_table["status_source_id"]) | _ids(fac_table["next_source_id"]) | _ids(deals["source_id"])
               | _ids(miles["source_id"]) | _ids(hist[hist["facility"].isin(list(facs["id"]))]["source_id"]))
    return Section(id="lifecycle", title="Pakistani facilities and deal phases: where each stands today",
                   html=str(Markup("").join(html)), tables=tables, charts=charts, summary=summary,
                   source_ids=sources)


# --- section: export controls ---------------------------------------------------------------------
def export_controls(store: Store, ctx: ReportContext) -> Section:
    """China's export-control events and their state on the as-of date."""
    as_of = ctx.as_of
    ev = queries.events(store)
    ev = ev[ev["issuer"] == CHINA].reset_index(drop=True)
    table = controls_on(ev, as_of)
    in_force = table[table["state"] == "in force"]
    suspended = table[table["state"] == "suspended"]
    html: list[Markup] = [_p(
        "Export controls and related measures issued by China in the evidence base, with their state on ",
        Markup("<strong>{}</strong>").format(as_of.isoformat()),
        ". A measure is in force from its start date to its end date (if any), unless a later measure "
        "suspends it over a window that covers the date.")]
    items = [Markup("{n} measure(s) in force: {names}.").format(n=len(in_force), names=Markup("; ").join(
        Markup("{} (from {})").format(r["name"], cite(r["start"], r["source_id"])) for r in _records(in_force))
        or "none")]
    if not suspended.empty:
        items.append(Markup("{n} suspended: {names}.").format(n=len(suspended), names=Markup("; ").join(
            Markup("{} (suspended by {} until {})").format(
                r["name"], r["suspended_by"], cite(r["suspended_until"] or "no end stated", r["source_id"]))
            for r in _records(suspended))))
    if table.empty:
        items = [Markup("The evidence base holds no export-control event issued by China.")]
    html.append(_ul(items))
    charts: list[Chart] = []
    segs = event_segments(ev, as_of, horizon=dt.date(as_of.year + 2, 1, 1))
    if segs:
        rows = list(dict.fromkeys(str(n) for n in ev["id"]))
        rows = [r for r in rows if any(s.row == r for s in segs)]
        charts.append(Chart(id="timeline", option=timeline(rows, segs, as_of=as_of.isoformat(),
                                                           title="China's export-control measures"),
                            height=max(220, 100 + 36 * len(rows)),
                            caption="Red: in force; orange: suspended; grey: a suspending measure's own window; "
                                    "faded: no end date stated (drawn to the chart's edge). Every measure, including "
                                    "any starting after the chart's edge, is in the table."))
        html.append(chart_slot("timeline"))
    html.append(table_html(table, links={"start": "source_id", "end": "source_id", "state": "source_id"},
                           hide=("issuer", "notes", "kind", "announced", "source_id"),
                           csv=csv_name("export-controls", "events"),
                           caption=f"China's measures and their state on {as_of.isoformat()}"))
    summary = [f"China export controls on {as_of.isoformat()}: {len(in_force)} in force, {len(suspended)} suspended"]
    return Section(id="export-controls", title="China's export controls in force", html=str(Markup("").join(html)),
                   tables={"events": table}, charts=charts, summary=summary, source_ids=_ids(table["source_id"]))


# --- section: Pakistan facts ----------------------------------------------------------------------
def pakistan_facts(store: Store, ctx: ReportContext) -> Section:
    """Every sourced figure about Pakistan: observations for the country and for its facilities."""
    obs = queries.observations(store)
    pak_facs = set(queries.facilities(store, country=PAKISTAN)["id"])
    sel = obs[(obs["country"] == PAKISTAN) | obs["facility"].isin(list(pak_facs))]
    cols = ["metric", "commodity", "stage", "facility", "year", "period", "value", "lower", "upper", "value_text",
            "unit", "estimated", "quality", "source_id", "publisher", "note"]
    table = sel.reindex(columns=cols).reset_index(drop=True)
    counts = table["quality"].value_counts()
    by_quality = ", ".join(f"{counts[q]} {q}" for q in ("primary", "secondary", "unconfirmed") if q in counts)
    html: list[Markup] = [_p(
        "Every figure in the evidence base about Pakistan or a facility in Pakistan, each with its source and "
        "how it was seen. Figures are shown as published (value_text); the CSV adds the parsed value, its range "
        "and the publisher. Disagreeing sources stay separate rows.")]
    if table.empty:
        html.append(_p("The evidence base holds no figure about Pakistan."))
    else:
        html.append(_ul([Markup("{} figure(s): {}.").format(len(table), by_quality)]))
    html.append(table_html(table, links={"value_text": "source_id"},
                           hide=("stage", "value", "lower", "upper", "estimated", "publisher"),
                           csv=csv_name("pakistan-facts", "observations"), caption="Sourced figures about Pakistan"))
    summary = [f"{len(table)} sourced figure(s) about Pakistan" + (f" ({by_quality})" if len(table) else "")]
    return Section(id="pakistan-facts", title="Sourced facts about Pakistan", html=str(Markup("").join(html)),
                   tables={"observations": table}, summary=summary, source_ids=_ids(table["source_id"]))
