"""Scenario runs as jobs: submit YAML, poll the status with progress, fetch the results.

The YAML is parsed and checked when it is submitted, so an invalid scenario is a 422 listing every
problem (line and field) and never becomes a job. Oversized YAML is a 413. Results are cached by the
content hash of the normalised YAML and the run parameters.
"""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from orechain.evidence.errors import InputError
from orechain.interfaces.api.common import context
from orechain.interfaces.api.errors import ApiError, ErrorBody
from orechain.interfaces.api.jobs import JobManager, QueueFull, content_hash
from orechain.interfaces.api.paging import json_bytes

__all__ = ["MAX_SCENARIOS", "MAX_YAML_BYTES", "router"]

MAX_YAML_BYTES = 64 * 1024
MAX_SCENARIOS = 200_000

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "unknown job or scenario"},
    409: {"model": ErrorBody, "description": "the job has no result (yet)"},
    413: {"model": ErrorBody, "description": "scenario YAML too large"},
    422: {"model": ErrorBody, "description": "invalid scenario YAML or parameters"},
    503: {"model": ErrorBody, "description": "too many jobs waiting"},
}
router = APIRouter(responses=_ERRORS)
JobPath = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


class JobRequest(BaseModel):
    yaml: str = Field(description="the scenario, as a YAML document (see the scenario schema)",
                      max_length=MAX_YAML_BYTES)
    scenarios: int = Field(20_000, ge=100, le=MAX_SCENARIOS, description="Monte Carlo draws")
    seed: int = Field(1, ge=0, le=2**63 - 1)


def _jobs(request: Request) -> JobManager:
    jobs: JobManager = context(request).extras["jobs"]
    return jobs


@router.get("/scenarios/builtin", summary="Built-in scenarios")
async def list_builtin() -> dict[str, Any]:
    from orechain.scenarios.spec import builtin_names

    return {"data": builtin_names()}


@router.get("/scenarios/builtin/{name}", summary="One built-in scenario: its YAML, parsed spec and form fields")
async def get_builtin(name: Annotated[str, Path(pattern=r"^[a-z0-9-]{1,80}$")]) -> Response:
    from orechain.scenarios.spec import builtin_names, builtin_path

    if name not in builtin_names():
        raise ApiError(404, f"no built-in scenario {name!r}", details={"known": builtin_names()})
    text = builtin_path(name).read_text(encoding="utf-8")
    return Response(json_bytes({"name": name, "yaml": text, **_form(text)}), media_type="application/json")


class FieldsRequest(BaseModel):
    yaml: str = Field(description="a scenario YAML document", max_length=MAX_YAML_BYTES)


@router.post("/scenarios/fields", summary="The parsed spec and the editable assumptions of a scenario YAML")
async def scenario_form(body: FieldsRequest) -> Response:
    """The scenario as JSON (``spec``) and one form field per assumption (``fields``: label, unit, schema
    limits, the path validation errors name, and where the value sits in the text). Only YAML syntax is checked
    here; submitting the job checks the scenario itself."""
    return Response(json_bytes(await run_in_threadpool(_form, body.yaml)), media_type="application/json")


MAX_YAML_NODES = 100_000  # after expanding aliases: a few KB of nested aliases can stand for billions of nodes


def _load_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``, refused (422) when it is not YAML or expands to too many values."""
    return _parse_yaml(text)[1]


def _parse_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree of ``text`` and the values built from it (parsed once: the tree is counted first)."""
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # checks the characters: a YAMLError too
        root = loader.get_single_node()
        stack, seen = [root], 0
        while stack:  # count the nodes as aliases expand them (a recursive alias never ends: it is cut here too)
            node = stack.pop()
            seen += 1
            if seen > MAX_YAML_NODES:
                raise ApiError(422, f"the YAML expands to more than {MAX_YAML_NODES:,} values (aliases?)",
                               details=[{"line": None, "field": None, "message": "too many values"}])
            if isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
            elif isinstance(node, yaml.MappingNode):
                stack.extend(v for kv in node.value for v in kv)
        return root, None if root is None else loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ApiError(422, "invalid YAML", details=[{"line": mark.line + 1 if mark else None, "field": None,
                                                       "message": str(exc)}]) from None
    except RecursionError:
        raise ApiError(422, "the YAML is nested too deeply", details=[
            {"line": None, "field": None, "message": "nested too deeply"}]) from None
    finally:
        if loader is not None:
            loader.dispose()


def _form(text: str) -> dict[str, Any]:
    from orechain.interfaces.api.scenario_fields import scenario_fields
    from orechain.scenarios.spec import schema

    node, spec = _parse_yaml(text)
    if not isinstance(spec, dict):
        raise ApiError(422, "a scenario is a YAML mapping (name:, start:, horizon:, ...)",
                       details=[{"line": 1, "field": None, "message": "not a mapping"}])
    return {"spec": spec, "fields": [f.to_dict() for f in scenario_fields(text, schema(), (node, spec))]}


@router.post("/scenarios/jobs", status_code=202, summary="Submit a scenario run")
async def submit_job(request: Request, body: JobRequest) -> Response:
    """Check the scenario, then run it in the bounded worker pool (or return the job that already has
    this content hash). Poll ``/scenarios/jobs/{id}``; fetch ``/scenarios/jobs/{id}/result``."""
    if len(body.yaml.encode()) > MAX_YAML_BYTES:
        raise ApiError(413, f"scenario YAML over {MAX_YAML_BYTES} bytes")
    store = context(request).store

    def check() -> tuple[Any, Any]:
        from orechain.scenarios.evidence import facility_table
        from orechain.scenarios.spec import parse_scenario

        normalised = _load_yaml(body.yaml)
        try:
            scenario = parse_scenario(body.yaml, "scenario.yaml", facility_table(store))
        except InputError as exc:
            raise ApiError(422, f"invalid scenario: {len(exc.problems)} problem(s)",
                           details=[{"line": p.line, "field": p.field, "message": p.message}
                                    for p in exc.problems]) from None
        return normalised, scenario

    normalised, scenario = await run_in_threadpool(check)
    key = content_hash(normalised, {"scenarios": body.scenarios, "seed": body.seed})

    def run(progress: Any) -> dict[str, Any]:
        from orechain.scenarios.results import simulate

        return simulate(scenario, scenarios=body.scenarios, seed=body.seed, progress=progress).to_dict()

    try:
        job, cached = await run_in_threadpool(_jobs(request).submit, key, body.scenarios, run)
    except QueueFull as exc:
        raise ApiError(503, str(exc)) from None
    status = {**job.status(), "cached": cached, "status_url": f"{request.url.path}/{job.id}",
              "result_url": f"{request.url.path}/{job.id}/result"}
    return Response(json_bytes(status), status_code=200 if cached else 202, media_type="application/json")


@router.get("/scenarios/jobs/{job_id}", summary="A job's state and progress")
async def job_status(request: Request, job_id: JobPath) -> dict[str, Any]:
    job = await run_in_threadpool(_jobs(request).get, job_id)
    if job is None:
        raise ApiError(404, f"no job {job_id!r}")
    return job.status()


@router.get("/scenarios/jobs/{job_id}/result", summary="A finished job's results (fan charts, probabilities, ...)")
async def job_result(request: Request, job_id: JobPath) -> Response:
    found = await run_in_threadpool(_jobs(request).result, job_id)
    if found is None:
        raise ApiError(404, f"no job {job_id!r}")
    job, result = found
    if result is None:
        raise ApiError(409, f"job {job_id} is {job.state.value}; it has no result",
                       details={"state": job.state.value, "error": job.error})
    # the result is stored as JSON text: spliced in as it is, not parsed and serialised again
    body = b'{"job":' + json_bytes(job.status()) + b',"result":' + result.encode() + b"}"
    return Response(body, media_type="application/json")
