"""Claims-ledger endpoints: claims (filtered, paged), subjects, conflicts, documents.

Everything is read and graded by :mod:`orechain.claims.ledger` (``claims_frame``, ``grade``, ``compare``,
``conflicts``, ``documents_frame``, ``evidence_links``); this module filters rows and shapes the answers. A
claim links to its document (``document``: the id of ``/documents/{id}``, whose text the claim's
``start``/``end`` offsets point into) and to the evidence observations it was compared with, each with its
``source_id``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from orechain.claims import ledger
from orechain.claims.grading import LADDER
from orechain.evidence.store import Store
from orechain.interfaces.api.common import detail, model_detail, model_listing, page_response, read
from orechain.interfaces.api.errors import ApiError, ErrorBody
from orechain.interfaces.api.paging import Fmt, ListBody, Page, negotiate, page_params, records
from orechain.interfaces.api.readmodel import Filter, ListEndpoint, ReadModel, Spec, View, one_of, strict_int, text
from orechain.interfaces.api.routers.evidence import _source_map, _sources

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


def _document_id(view: View, value: str) -> str:
    """The id of the document ``value`` names (its id or its file name)."""
    docs = view.table("documents")
    found = [docs.positions[col].get(value) for col in ("id", "name")]
    hit = view.rows(docs, sorted({int(i) for f in found if f is not None for i in f}), ["id"])
    if not hit:
        raise ApiError(422, f"unknown document {value!r} (an id or file name from /documents)",
                       details={"field": "document"})
    if len(hit) > 1:
        raise ApiError(422, f"{len(hit)} documents are named {value!r}: give the id",
                       details={"field": "document", "ids": [r["id"] for r in hit]})
    return str(hit[0]["id"])


def _claims_query(model: ReadModel, version: Hashable, a: Mapping[str, Any]) -> Filter:
    document = a.get("document")
    doc_id = None if document is None else _document_id(View(model, version), document)
    min_sources = a.get("min_sources")
    return Filter(equal=tuple((col, v) for col, v in (("subject", a.get("subject")), ("document", doc_id),
                                                      ("ladder", a.get("ladder")),
                                                      ("plausibility", a.get("plausibility"))) if v is not None),
                  at_least=() if min_sources is None else (("independent_sources", float(min_sources)),))


LIST_ENDPOINTS: dict[str, ListEndpoint] = {
    "/claims": ListEndpoint("claims", _claims_query,
                            {"subject": text(240), "document": text(200), "ladder": one_of(LADDER),
                             "plausibility": text(40), "min_sources": strict_int(1, 1000)}, needs=("documents",)),
    "/claims/subjects": ListEndpoint("claim_subjects"),
    "/claims/evidence": ListEndpoint("claim_evidence", lambda _m, _v, a: Filter(
        equal=(("claim", a["claim"]),) if a.get("claim") is not None else ()), params={"claim": text(200)}),
    "/documents": ListEndpoint("documents"),
}
"""The claims-ledger lists the read model answers (path under the API prefix -> endpoint)."""
_CLAIM_TABLES = frozenset({"claims", "claim_entities", "claim_links", "documents"})
TABLES: dict[str, Spec] = {
    "claims": Spec(_graded, keys=("id", "subject", "document", "ladder", "plausibility"),
                   numbers=("independent_sources",), reads=_CLAIM_TABLES),
    "claim_subjects": Spec(_subjects, reads=_CLAIM_TABLES),
    "claim_evidence": Spec(ledger.evidence_links, ("observations",), keys=("claim",),
                           reads=frozenset({"claim_links", "observations"})),
    "documents": Spec(ledger.documents_frame, keys=("id", "name"), reads=frozenset({"claims", "documents"})),
}
"""The claims-ledger tables of the read model."""


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

    args = {"subject": subject, "document": document, "ladder": ladder, "plausibility": plausibility,
            "min_sources": min_sources}
    return await model_listing(request, page, LIST_ENDPOINTS["/claims"], args)


@router.get("/claims/subjects", response_model=ListBody,
            summary="One row per subject: claims, documents, and whether they agree, hedge or contradict")
async def list_subjects(request: Request, page: PageDep) -> Response:
    return await model_listing(request, page, LIST_ENDPOINTS["/claims/subjects"], {})


@router.get("/claims/evidence", response_model=ListBody,
            summary="Evidence observations claims were compared with (claim, observation, relation, source_id)")
async def list_evidence(
    request: Request, page: PageDep,
    claim: Annotated[str | None, Query(max_length=200, description="one claim's id")] = None,
) -> Response:
    return await model_listing(request, page, LIST_ENDPOINTS["/claims/evidence"], {"claim": claim})


@router.get("/claims/{claim_id}", summary="One claim: its sentence, document, grade and the evidence it was "
                                          "compared with, with every source")
async def get_claim(request: Request, claim_id: IdPath) -> Response:
    def build(view: View) -> dict[str, Any]:
        claim = view.one("claims", "id", claim_id)
        if claim is None:
            raise ApiError(404, f"no claim with id {claim_id!r}", details={"id": claim_id})
        doc = view.one("documents", "id", claim["document"])
        links = view.where("claim_evidence", "claim", claim_id)
        same = [r for r in view.where("claims", "subject", claim["subject"],
                                      ["id", "doc", "text", "value", "unit", "qualifier", "publisher"])
                if r["id"] != claim_id]
        return {"claim": claim, "document": doc, "evidence": links, "same_subject": same,
                "sources": _source_map(view, [r["source_id"] for r in links])}
    return await model_detail(request, ("claims", "documents", "claim_evidence", "sources"), build)


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
    return await model_listing(request, page, LIST_ENDPOINTS["/documents"], {})


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
