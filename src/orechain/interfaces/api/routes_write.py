"""Write endpoints, the audit log and undo. Every write needs an API token (editor or admin).

* ``PATCH /facilities/{id}``: change fields and/or add a dated status change, citing a source.
* ``POST /observations``, ``POST /sources``: add a sourced number or a source (posting the same again is a
  harmless 200 with ``created: false``).
* ``POST /claims/documents``: ingest an article's text into the claims ledger (size-limited; the text is
  sent, never a file name or path).
* ``GET /changes``, ``GET /changes/{id}`` (viewer and above): the audit log.
* ``POST /changes/{id}/undo``: reverse a change (an editor their own, an admin any); the undo is audited.

Each write is one transaction with its audit rows. Responses carry the ``change_id`` to undo by.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from orechain.access import audit, edits
from orechain.access.audit import ChangeError
from orechain.access.users import Principal, Role
from orechain.interfaces.api.auth import AccessConfig, require
from orechain.interfaces.api.common import context
from orechain.interfaces.api.errors import ApiError, ErrorBody
from orechain.interfaces.api.paging import Fmt, ListBody, Page, json_bytes, negotiate, page_params, records, render_list

__all__ = ["build_router"]

_STATUS = {"not_found": 404, "conflict": 409, "invalid": 422, "forbidden": 403}
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no valid API token"},
    403: {"model": ErrorBody, "description": "the token's role is too small"},
}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_AUTH_ERRORS,
    404: {"model": ErrorBody, "description": "unknown record"},
    409: {"model": ErrorBody, "description": "conflicts with the data as it is now"},
    413: {"model": ErrorBody, "description": "request body too large"},
    422: {"model": ErrorBody, "description": "invalid input (the message names the field)"},
}
ChangePath = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="a change id from a write's response")]
IdPath = Annotated[str, Path(min_length=1, max_length=80)]


class Written(BaseModel):
    """The outcome of a write: the record as written, and the change to undo it by (null: nothing changed)."""

    change_id: str | None
    created: bool
    record: dict[str, Any]
    status: str | None = None


class UndoBody(BaseModel):
    note: str | None = Field(None, max_length=4000, description="why; kept in the audit log")


def _api_error(exc: ChangeError) -> ApiError:
    details = exc.details if exc.details is not None else ({"field": exc.field} if exc.field else None)
    return ApiError(_STATUS[exc.kind], exc.message, details=details)


async def _write(request: Request, fn: Any, *args: Any, created_status: int = 201) -> Response:
    try:
        res: edits.EditResult = await run_in_threadpool(fn, *args)
    except ChangeError as exc:
        raise _api_error(exc) from None
    if res.change_id is not None:
        context(request).cache.clear()
    body = Written(change_id=res.change_id, created=res.created and res.change_id is not None, record=res.record,
                   status=res.extra.get("status"))
    code = created_status if res.change_id is not None else 200
    return Response(json_bytes(body.model_dump()), status_code=code, media_type="application/json")


def build_router(config: AccessConfig) -> APIRouter:
    """The write and audit endpoints, with this app's upload limit."""
    router = APIRouter()
    editor = Depends(require(Role.EDITOR))
    viewer = Depends(require(Role.VIEWER))

    @router.patch("/facilities/{facility_id}", tags=["changes"], response_model=Written, responses=_WRITE_ERRORS,
                  summary="Edit a facility (status change with date and source, capacity, other fields)")
    async def patch_facility(request: Request, facility_id: IdPath, body: edits.FacilityEdit,
                             who: Principal = editor) -> Response:
        return await _write(request, edits.edit_facility, context(request).store, facility_id, body, who.actor(),
                            created_status=200)

    @router.post("/observations", tags=["changes"], status_code=201, response_model=Written,
                 responses=_WRITE_ERRORS, summary="Add a sourced observation")
    async def post_observation(request: Request, body: edits.ObservationIn, who: Principal = editor) -> Response:
        return await _write(request, edits.add_observation, context(request).store, body, who.actor())

    @router.post("/sources", tags=["changes"], status_code=201, response_model=Written, responses=_WRITE_ERRORS,
                 summary="Add a source")
    async def post_source(request: Request, body: edits.SourceIn, who: Principal = editor) -> Response:
        return await _write(request, edits.add_source, context(request).store, body, who.actor())

    @router.post("/claims/documents", tags=["changes"], status_code=201, response_model=Written,
                 responses=_WRITE_ERRORS,
                 summary=f"Ingest an article's text into the claims ledger (up to {config.max_upload_bytes} bytes)")
    async def post_document(request: Request, body: edits.DocumentIn, who: Principal = editor) -> Response:
        size = len(body.text.encode("utf-8"))
        if size > config.max_upload_bytes:
            raise ApiError(413, f"document text is {size} bytes; this server accepts up to {config.max_upload_bytes}",
                           details={"limit": config.max_upload_bytes, "size": size})
        return await _write(request, partial(edits.ingest_document, max_bytes=config.max_upload_bytes),
                            context(request).store, body, who.actor())

    @router.get("/changes", tags=["changes"], response_model=ListBody, responses=_AUTH_ERRORS,
                summary="The audit log: who changed what, when, citing which source (newest first)")
    async def list_changes(
        request: Request, page: Annotated[Page, Depends(page_params)],
        actor: Annotated[str | None, Query(max_length=80)] = None,
        table: Annotated[str | None, Query(max_length=40)] = None,
        record: Annotated[str | None, Query(max_length=400, description="a record id (or record_id JSON)")] = None,
        _who: Principal = viewer,
    ) -> Response:
        fmt = negotiate(request)
        df = await run_in_threadpool(audit.changes, context(request).store, actor=actor, table=table, record=record)
        body, media, headers = render_list(request, df, page, fmt)  # never cached: the log needs a token
        return Response(body, media_type=media, headers=headers)

    @router.get("/changes/{change_id}", tags=["changes"], responses={**_AUTH_ERRORS, 404: {"model": ErrorBody}},
                summary="One change: its rows (field, old and new value) and whether it was undone")
    async def get_change(request: Request, change_id: ChangePath, _who: Principal = viewer) -> Response:
        negotiate(request, allowed=(Fmt.JSON,))
        df = await run_in_threadpool(audit.changes, context(request).store, change_id=change_id)
        if df.empty:
            raise ApiError(404, f"no change {change_id!r}")
        rows = df.sort_values("seq")
        head = records(rows.head(1))[0]
        out = {**{k: head[k] for k in ("change_id", "at", "actor", "source_id", "note", "undoes", "undone_by")},
               "rows": records(rows[["seq", "action", "table_name", "record_id", "field", "old_value", "new_value"]])}
        return Response(json_bytes(out), media_type="application/json")

    @router.post("/changes/{change_id}/undo", tags=["changes"], status_code=201, responses=_WRITE_ERRORS,
                 summary="Undo a change (an editor their own, an admin any); the undo is itself a change")
    async def undo_change(request: Request, change_id: ChangePath, body: UndoBody | None = None,
                          who: Principal = editor) -> Response:
        note = body.note if body is not None else None
        try:
            log = await run_in_threadpool(audit.undo, context(request).store, change_id, who.actor(),
                                          any_actor=who.role.allows(Role.ADMIN), note=note)
        except ChangeError as exc:
            raise _api_error(exc) from None
        context(request).cache.clear()
        return Response(json_bytes({"change_id": log.change_id, "undoes": change_id, "rows": log.rows}),
                        status_code=201, media_type="application/json")

    @router.get("/me", tags=["changes"], responses=_AUTH_ERRORS, summary="The user and role of the token sent")
    async def whoami(who: Principal = viewer) -> dict[str, Any]:
        return {"user": who.user, "role": who.role.value, "token_id": who.token_id}

    return router
