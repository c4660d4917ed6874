"""Claims-ledger endpoints: claims (filtered, paged), subjects, conflicts, documents.

Everything is read and graded by :mod:`orechain.claims.ledger` (``claims_frame``, ``grade``, ``compare``,
``conflicts``, ``documents_frame``, ``evidence_links``); this module filters rows and shapes the answers. A
claim links to its document (``document``: the id of ``/documents/{id}``, whose text the claim's
``start``/``end`` offsets point into) and to the evidence observations it was compared with, each with its
``source_id``.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from orechain.claims import ledger
from orechain.claims.grading import LADDER
from orechain.evidence.store import Store
from orechain.interfaces.api.common import detail, listing, page_response, read
from orechain.interfaces.api.errors import ApiError, ErrorBody
from orechain.interfaces.api.paging import Fmt, ListBody, Page, negotiate, page_params, records

__all__ = ["router"]

router = APIRouter(responses={
    404: {"model": ErrorBody, "description": "unknown id"},
    422: {"model": ErrorBody, "description": "malformed or unknown query parameter"}})
PageDep = Annotated[Page, Depends(page_params)]
IdPath = Annotated[str, Path(min_length=1, max_length=200)]

# the columns of a claim in a list (the document's text is at /documents/{id})
CLAIM_COLUMNS = ["id", "document", "doc", "publisher", "doc_date", "sentence_index", "sentence", "start", "end",
                 "text", "subject", "scope", "metric", "measure", "value", "unit", "lower", "upper", "qualifier",
                 "date", "attribution", "hedges", "precision", "base_value", "base_lower", "base_upper", "base_unit",
                 "ladder", "plausibility",
                 "plausibility_note", "independent_sources", "evidence_agrees", "evidence_disagrees", "grade"]


def _graded(store: Store) -> pd.DataFrame:
    df = ledger.grade(ledger.claims_frame(store))
    return df[[c for c in CLAIM_COLUMNS if c in df.columns]]


def _subjects(store: Store) -> pd.DataFrame:
    return ledger.compare(_graded(store))


def _document_id(request: Request, value: str) -> str:
    docs = read(request, ledger.documents_frame)
    hit = docs[(docs["id"] == value) | (docs["name"] == value)]
    if hit.empty:
        raise ApiError(422, f"unknown document {value!r} (an id or file name from /documents)",
                       details={"field": "document"})
    if len(hit) > 1:
        raise ApiError(422, f"{len(hit)} documents are named {value!r}: give the id",
                       details={"field": "document", "ids": list(hit["id"])})
    return str(hit["id"].iat[0])


@router.get("/claims", response_model=ListBody, summary="Quantitative claims from articles, graded")
async def list_claims(
    request: Request, page: PageDep,
    subject: Annotated[str | None, Query(max_length=240, examples=["PAK/total mineral wealth/value"])] = None,
    document: Annotated[str | None, Query(max_length=200, description="document id or file name")] = None,
    ladder: Annotated[str | None, Query(max_length=40, description="reporting-ladder rung: " + ", ".join(LADDER))]
    = None,
    plausibility: Annotated[str | None, Query(max_length=40, description="plausible, doubtful, implausible, "
                                              "impossible, consistent, inconsistent or unchecked")] = None,
    min_sources: Annotated[int | None, Query(ge=1, le=1000, description="at least this many independent "
                                             "sources agree (the claim's own included)")] = None,
) -> Response:
    if ladder is not None and ladder not in LADDER:
        raise ApiError(422, f"unknown ladder rung {ladder!r}", details={"field": "ladder", "known": list(LADDER)})

    def build() -> pd.DataFrame:
        df = read(request, _graded)
        if subject is not None:
            df = df[df["subject"] == subject]
        if document is not None:
            df = df[df["document"] == _document_id(request, document)]
        if ladder is not None:
            df = df[df["ladder"] == ladder]
        if plausibility is not None:
            df = df[df["plausibility"] == plausibility]
        if min_sources is not None:
            df = df[df["independent_sources"] >= min_sources]
        return df
    return await listing(request, page, build)


@router.get("/claims/subjects", response_model=ListBody,
            summary="One row per subject: claims, documents, and whether they agree, hedge or contradict")
async def list_subjects(request: Request, page: PageDep) -> Response:
    return await listing(request, page, lambda: read(request, _subjects))


@router.get("/claims/evidence", response_model=ListBody,
            summary="Evidence observations claims were compared with (claim, observation, relation, source_id)")
async def list_evidence(
    request: Request, page: PageDep,
    claim: Annotated[str | None, Query(max_length=200, description="one claim's id")] = None,
) -> Response:
    return await listing(request, page, lambda: read(request, ledger.evidence_links, claim))


@router.get("/claims/{claim_id}", summary="One claim: its sentence, document, grade and the evidence it was "
                                          "compared with, with every source")
async def get_claim(request: Request, claim_id: IdPath) -> Response:
    def build() -> dict[str, Any]:
        df = read(request, _graded)
        hit = df[df["id"] == claim_id]
        if hit.empty:
            raise ApiError(404, f"no claim with id {claim_id!r}", details={"id": claim_id})
        claim = records(hit)[0]
        doc = records(read(request, ledger.documents_frame, claim["document"]))[0]
        links = read(request, ledger.evidence_links, claim_id)
        same = df[(df["subject"] == claim["subject"]) & (df["id"] != claim_id)]
        return {"claim": claim, "document": doc, "evidence": records(links),
                "same_subject": records(same[["id", "doc", "text", "value", "unit", "qualifier", "publisher"]]),
                "sources": _sources(request, links["source_id"])}
    return await detail(request, build)


def _sources(request: Request, ids: Any) -> dict[str, dict[str, Any]]:
    from orechain.interfaces.api.routers.evidence import _sources as sources

    return sources(request, ids)


@router.get("/conflicts", response_model=ListBody,
            summary="Subjects whose claims contradict (or agree only through a hedge), each with every claim")
async def list_conflicts(
    request: Request, page: PageDep,
    include_hedged: Annotated[bool, Query(description="also subjects that agree only through 'up to', 'at "
                                          "least', ...")] = True,
) -> Response:
    """Paged by subject: each row of ``data`` is one subject (status, min, max, base unit) with all of its
    claims in ``claims``, so a subject is never split across pages. As CSV: one row per claim of the
    subjects in the page."""
    fmt = negotiate(request)

    def build() -> tuple[pd.DataFrame, pd.DataFrame]:
        df = ledger.conflicts(read(request, _graded), include_hedged=include_hedged)
        return ledger.compare(df), df

    return await page_response(request, page, fmt, build, _conflict_rows)


def _conflict_rows(summary: pd.DataFrame, claims: pd.DataFrame, fmt: Fmt) -> tuple[pd.DataFrame | None,
                                                                                     list[dict[str, Any]]]:
    if fmt is Fmt.CSV:
        return claims[claims["subject"].isin(summary["subject"])], []
    rows = records(summary)
    by_subject = {s: g for s, g in claims.groupby("subject", sort=False)}
    for r in rows:
        r["claims"] = records(by_subject[r["subject"]])
    return None, rows


@router.get("/documents", response_model=ListBody, summary="Ingested articles (without their text)")
async def list_documents(request: Request, page: PageDep) -> Response:
    return await listing(request, page, lambda: read(request, ledger.documents_frame))


@router.get("/documents/{document_id}", summary="One article: its repaired text (claim offsets point into it) and "
                                                "its claims")
async def get_document(request: Request, document_id: IdPath) -> Response:
    def build() -> dict[str, Any]:
        doc = read(request, ledger.documents_frame, document_id, text=True)
        if doc.empty:
            raise ApiError(404, f"no document with id {document_id!r}", details={"id": document_id})
        out = records(doc)[0]
        out["text"] = out.pop("repaired_text")
        df = read(request, _graded)
        mine = df[df["document"] == document_id].sort_values("start")
        summary = ledger.compare(df)
        status = dict(zip(summary["subject"], summary["status"], strict=True))
        claims = records(mine.drop(columns=["sentence"]))
        for c in claims:
            c["subject_status"] = status.get(c["subject"])
        links = read(request, ledger.evidence_links)
        links = links[links["claim"].isin(mine["id"])]
        return {"document": out, "claims": claims, "evidence": records(links),
                "sources": _sources(request, links["source_id"])}
    return await detail(request, build)
