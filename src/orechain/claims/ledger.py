"""The ledger: claims stored with their documents, grouped by subject, compared, graded.

Writing (:func:`save`) happens inside the caller's transaction. Reading (:func:`claims_frame`) returns a
pandas frame; everything after that is pure: :func:`grade` adds corroboration (independent sources whose
figure agrees, and evidence observations that agree), :func:`compare` labels each subject group
``agree``, ``hedged`` (compatible only thanks to a bound such as "up to") or ``contradict`` (two figures
whose intervals do not meet, in the same base unit), and :func:`conflicts` lists every claim of every
group that does not simply agree.

Agreement is unit- and hedge-aware: each claim's interval is its qualifier's bounds widened by the
rounding its digits imply, in a base unit. "3%" is 2.5-3.5 and "3.2%" 3.15-3.25: they agree. "US$6
trillion" (5.5-6.5 T), "US$8 trillion" (7.5-8.5 T) and "US$68 trillion" contradict. "up to 1,400 mg/kg"
is 0-1,450 and agrees with a measured 900 mg/kg, flagged as hedged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from orechain.claims import tables
from orechain.claims.extract import Claim
from orechain.claims.grading import (
    DocumentSource,
    Reference,
    canonical_source,
    ladder_status,
    plausibility,
    share_agrees,
)
from orechain.evidence import schema
from orechain.evidence.store import Store, insert_ignore

if TYPE_CHECKING:
    from orechain.claims.ingest import Document

__all__ = ["RECORD_COLUMNS", "claim_id", "claims_frame", "compare", "conflicts", "documents_frame", "evidence_links",
           "grade", "records", "save"]

RECORD_COLUMNS = ["doc", "sentence", "start", "end", "text", "subject", "value", "unit", "lower", "upper",
                  "qualifier", "date", "grade", "attribution", "hedges", "publisher", "doc_date", "claim_id"]


def claim_id(doc_id: str, start: int, end: int) -> str:
    return hashlib.sha1(f"{doc_id}:{start}:{end}".encode()).hexdigest()[:24]


def _doc_grade_ppm(claims: Sequence[Claim]) -> float | None:
    """An REE grade stated in the document (the largest), for the wealth calculator."""
    grades = [c.base_value or c.base_upper for c in claims if c.kind == "grade" and c.base_unit == "ppm"]
    vals = [g for g in grades if g]
    return max(vals) if vals else None


def _links(c: Claim, cid: str, ref: Reference, source: DocumentSource) -> list[dict[str, Any]]:
    """Evidence observations the claim was compared with: ``agrees``, ``disagrees``, or ``same_source`` when
    the observation rests on the claim's own source (same publisher, a source that cites this document, or
    the source the claim attributes its figure to), which is no independent confirmation either way."""
    if c.kind != "share" or c.measure != "world share" or len(c.scope) != 3:
        return []
    from orechain.claims.grading import _stage

    stage = _stage(c.metric)
    lo, hi = c.interval()
    out = []
    for o in ref.of("stage_share", country=c.scope, stage=stage):
        if o.observation_id is None:
            continue
        relation = "same_source" if source.same_source(o, c.attribution) else \
            "agrees" if share_agrees(lo, hi, o.value) else "disagrees"
        out.append({"claim": cid, "observation": o.observation_id, "relation": relation})
    return out


def save(conn: Connection, items: Sequence[tuple[Document, Sequence[Claim]]], ref: Reference,
         ingested_at: str) -> tuple[int, int]:
    """Write documents and their claims (insert-or-ignore: re-saving changes nothing); (docs, claims) added."""
    docs: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    ents: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for doc, claims in items:
        docs.append({"id": doc.id, "path": doc.path, "name": doc.name, "title": doc.title, "date": doc.date,
                     "publisher": doc.publisher, "language": doc.language, "status": doc.status,
                     "repairs": doc.repairs, "words": doc.words, "original_text": doc.original_text,
                     "repaired_text": doc.text, "ingested_at": ingested_at, "notes": "; ".join(doc.notes) or None})
        grade_ppm = _doc_grade_ppm(claims)
        source = DocumentSource(doc.publisher, doc.name, doc.title)
        for c in claims:
            cid = claim_id(doc.id, c.start, c.end)
            verdict, note = plausibility(c, ref, grade_ppm, source)
            rows.append({
                "id": cid, "document": doc.id, "sentence_index": c.sentence_index, "sentence": c.sentence,
                "start": c.start, "end": c.end, "text": c.text, "subject": c.subject, "scope": c.scope,
                "metric": c.metric, "measure": c.measure, "value": c.value, "unit": c.unit, "lower": c.lower,
                "upper": c.upper, "precision": c.precision, "base_value": c.base_value,
                "base_lower": c.base_lower, "base_upper": c.base_upper,
                "base_unit": c.base_unit, "qualifier": c.qualifier, "date": c.date, "attribution": c.attribution,
                "hedges": "|".join(c.hedges), "ladder": ladder_status(c.sentence, c.metric, c.kind),
                "plausibility": verdict, "plausibility_note": note or None,
            })
            ents.extend({"claim": cid, "kind": k, "entity": e} for k, e in dict.fromkeys(c.entities))
            links.extend(_links(c, cid, ref, source))
    added_docs = insert_ignore(conn, tables.documents, docs)
    added_claims = insert_ignore(conn, tables.claims, rows)
    insert_ignore(conn, tables.claim_entities, ents)
    insert_ignore(conn, tables.claim_links, links)
    return added_docs, added_claims


def claims_frame(store: Store, subject: str | None = None) -> pd.DataFrame:
    """Every stored claim with its document's name, publisher and date (optionally one subject)."""
    c, d = tables.claims, tables.documents
    stmt = select(c, d.c.name.label("doc"), d.c.path.label("doc_path"), d.c.publisher,
                  d.c.date.label("doc_date")).join(d, c.c.document == d.c.id)
    if subject is not None:
        stmt = stmt.where(c.c.subject == subject)
    stmt = stmt.order_by(c.c.subject, d.c.name, c.c.start)
    with store.engine.connect() as conn:
        df = pd.read_sql_query(stmt, conn)
        lk = pd.read_sql_query(select(tables.claim_links), conn)
        ce = tables.claim_entities
        ev = pd.read_sql_query(select(ce).where(ce.c.kind.like("ev\\_%", escape="\\")), conn)
    for relation, col in (("agrees", "evidence_agrees"), ("disagrees", "evidence_disagrees"),
                          ("same_source", "evidence_same_source")):
        df[col] = df["id"].map(lk[lk["relation"] == relation].groupby("claim").size()).fillna(0).astype(int)
    # Evidence-base entities the claim names: "organisation:fwo|deal:ussm-fwo-2025" (kinds without "ev_").
    refs: dict[str, list[str]] = {}
    for claim, kind, entity in ev[["claim", "kind", "entity"]].itertuples(index=False):
        refs.setdefault(claim, []).append(f"{kind[3:]}:{entity}")
    df["evidence_entities"] = ["|".join(sorted(refs.get(c, []))) for c in df["id"]]
    return df


def documents_frame(store: Store, doc: str | None = None, *, text: bool = False) -> pd.DataFrame:
    """Stored documents (id, name, title, date, publisher, language, status, repairs, words, ingested_at, notes)
    with their claim counts; with ``text`` also the repaired text that claim offsets point into."""
    d, c = tables.documents, tables.claims
    cols = [d.c.id, d.c.name, d.c.title, d.c.date, d.c.publisher, d.c.language, d.c.status, d.c.repairs,
            d.c.words, d.c.ingested_at, d.c.notes] + ([d.c.repaired_text] if text else [])
    stmt = select(*cols).order_by(d.c.name, d.c.id)
    if doc is not None:
        stmt = stmt.where(d.c.id == doc)
    with store.engine.connect() as conn:
        df = pd.read_sql_query(stmt, conn)
        n = pd.read_sql_query(select(c.c.document), conn)["document"].value_counts()
    df["claims"] = df["id"].map(n).fillna(0).astype(int)
    return df


def evidence_links(store: Store, claim: str | None = None) -> pd.DataFrame:
    """Claim-to-observation links (claim, observation, relation) with the observation's metric, country, year,
    value, unit, quality and source_id."""
    lk, o = tables.claim_links, schema.observations
    stmt = select(lk.c.claim, lk.c.observation, lk.c.relation, o.c.metric, o.c.country, o.c.year, o.c.value,
                  o.c.unit, o.c.quality, o.c.source_id).join(o, o.c.id == lk.c.observation)
    if claim is not None:
        stmt = stmt.where(lk.c.claim == claim)
    with store.engine.connect() as conn:
        return pd.read_sql_query(stmt.order_by(lk.c.claim, lk.c.observation), conn)


def _interval_arrays(df: pd.DataFrame) -> tuple[np.ndarray[Any, np.dtype[np.float64]],
                                                 np.ndarray[Any, np.dtype[np.float64]]]:
    """Vectorised :meth:`Quantity.interval` over a claims frame (base unit)."""
    qual = df["qualifier"].to_numpy()
    val = df["value"].to_numpy(dtype=float)
    lo = df["lower"].to_numpy(dtype=float)
    hi = df["upper"].to_numpy(dtype=float)
    base = df["base_value"].to_numpy(dtype=float)
    factor = np.where((val != 0) & ~np.isnan(val) & ~np.isnan(base), base / np.where(val == 0, 1, val), np.nan)
    blo = df["base_lower"].to_numpy(dtype=float)
    factor = np.where(np.isnan(factor) & ~np.isnan(lo) & (lo != 0), blo / np.where(lo == 0, 1, lo), factor)
    factor = np.where(np.isnan(factor), 1.0, factor)
    prec = df["precision"].fillna(0.0).to_numpy(dtype=float)
    low = np.where(np.isnan(lo), -np.inf, (lo - prec) * factor)
    high = np.where(np.isnan(hi), np.inf, (hi + prec) * factor)
    low = np.where(np.isin(qual, ["up_to", "under", "nearly"]) & np.isnan(lo), 0.0, low)
    return low, high


def grade(df: pd.DataFrame) -> pd.DataFrame:
    """Add corroboration: ``independent_sources`` (distinct underlying sources, see :func:`underlying_source`,
    whose claim on the same subject agrees, this one's included), evidence agreement counts (observations
    from the claim's own source are counted apart, as ``evidence_same_source``), and a one-line ``grade``."""
    out = df.copy()
    if out.empty:
        out["independent_sources"] = pd.Series(dtype=int)
        out["grade"] = pd.Series(dtype=str)
        return out
    low, high = _interval_arrays(out)
    # Corroboration compares the figures themselves: an open bound ("up to $68 trillion") does not
    # corroborate $6 trillion even though it does not contradict it, and a vague "trillions" corroborates nothing.
    qual = out["qualifier"].to_numpy()
    val = out["base_value"].to_numpy(dtype=float)
    step = (out["precision"].fillna(0.0) * out["base_value"] / out["value"].where(out["value"] != 0)).fillna(0.0)
    open_bound = np.isin(qual, ["up_to", "under", "nearly", "at_least", "over"])
    low = np.where(open_bound, val - step.to_numpy(), low)
    high = np.where(open_bound, val + step.to_numpy(), high)
    vague = qual == "vague"
    low = np.where(vague, np.nan, low)
    high = np.where(vague, np.nan, high)
    out["_lo"], out["_hi"] = low, high
    out["_src"] = [underlying_source(p, a, d) for p, a, d in
                   zip(out["publisher"], out.get("attribution", pd.Series(None, index=out.index)), out["document"],
                       strict=True)]
    counts = np.zeros(len(out), dtype=int)
    pos = {idx: i for i, idx in enumerate(out.index)}
    for (_, _), g in out.groupby(["subject", "base_unit"], sort=False):
        lo, hi = g["_lo"].to_numpy(), g["_hi"].to_numpy()
        src = _source_groups(list(g["_src"]), list(g["document"]))
        agree = (lo[:, None] <= hi[None, :]) & (lo[None, :] <= hi[:, None])
        for k, idx in enumerate(g.index):
            counts[pos[idx]] = len({src[j] for j in np.flatnonzero(agree[k])}) if not np.isnan(lo[k]) else 1
    out["independent_sources"] = counts
    ev = out.get("evidence_agrees", pd.Series(0, index=out.index))
    out["grade"] = [f"{lad}; sources {n}; evidence {int(e)}; {pl}"
                    for lad, n, e, pl in zip(out["ladder"], counts, ev, out["plausibility"], strict=True)]
    return out.drop(columns=["_lo", "_hi", "_src"])


def underlying_source(publisher: Any, attribution: Any, document: str) -> str:
    """The source a claim rests on, for counting independent sources: the publication or body the claim
    attributes its figure to ("according to the IEA"), else the document's publisher, else the document.
    Publisher variants are one source (``REEx`` = ``Rare Earth Exchanges``); generic speakers ("officials")
    name no particular source, so the publisher counts for them."""
    for name in (attribution, publisher):
        key = canonical_source(name) if isinstance(name, str) else None
        if key is not None:
            return key
    return f"document:{document}"


def _source_groups(sources: Sequence[str], documents: Sequence[str]) -> list[str]:
    """One label per claim such that claims share a label when they rest on the same underlying source,
    directly or through a document: the claims of one document are never independent of each other (an
    article whose publisher is unknown may quote "Rare Earth Exchanges" in one claim and not in the next)."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for s_, d in zip(sources, documents, strict=True):
        parent[root(f"document:{d}")] = root(s_)
    return [root(s_) for s_ in sources]


def compare(df: pd.DataFrame) -> pd.DataFrame:
    """One row per subject: claims, distinct documents, base units and status (agree/hedged/contradict)."""
    rows = []
    if df.empty:
        return pd.DataFrame(columns=["subject", "claims", "documents", "status", "min", "max", "base_unit"])
    low, high = _interval_arrays(df)
    work = df.assign(_lo=low, _hi=high)
    for subject, g in work.groupby("subject", sort=True):
        units = sorted(set(g["base_unit"]))
        status = "agree"
        if len(units) > 1:
            status = "incomparable"
        else:
            lo, hi = g["_lo"].to_numpy(), g["_hi"].to_numpy()
            disjoint = (lo[:, None] > hi[None, :]) | (lo[None, :] > hi[:, None])
            if disjoint.any():
                status = "contradict"
            else:
                exact = g[g["qualifier"] == "exact"]
                bounded = g[g["qualifier"] != "exact"]
                vals = g["base_value"].dropna()
                if len(g) > 1 and not bounded.empty and (len(vals) < len(g) or vals.nunique() > 1 or exact.empty):
                    status = "hedged"
        vals = g["base_value"].dropna()
        rows.append({"subject": subject, "claims": len(g), "documents": g["document"].nunique(), "status": status,
                     "min": float(vals.min()) if len(vals) else None, "max": float(vals.max()) if len(vals) else None,
                     "base_unit": ", ".join(units)})
    return pd.DataFrame(rows)


def conflicts(df: pd.DataFrame, *, include_hedged: bool = True) -> pd.DataFrame:
    """Every claim of every subject that contradicts (or, by default, agrees only through a hedge)."""
    summary = compare(df)
    keep = {"contradict", "incomparable"} | ({"hedged"} if include_hedged else set())
    bad = summary[summary["status"].isin(keep)]
    out = df[df["subject"].isin(bad["subject"])].merge(bad[["subject", "status"]], on="subject")
    return out.sort_values(["subject", "base_value", "doc"], na_position="first").reset_index(drop=True)


def records(df: pd.DataFrame) -> pd.DataFrame:
    """The public record shape (JSONL/CSV): doc, sentence, start, end, subject, value, unit, ... grade."""
    out = df.rename(columns={"id": "claim_id"})
    out["doc"] = df["doc"]
    cols = [c for c in RECORD_COLUMNS if c in out.columns]
    extra = [c for c in ("status", "ladder", "independent_sources", "plausibility", "plausibility_note",
                         "evidence_agrees", "evidence_disagrees", "evidence_same_source", "evidence_entities",
                         "base_value", "base_unit", "scope", "metric", "measure") if c in out.columns]
    return out[cols + extra]
