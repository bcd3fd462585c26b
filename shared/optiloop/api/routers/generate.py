"""`POST /v1/generate`, its traces and the response cache."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from optiloop.api.models.generate import GenerateIn, PurgeIn
from optiloop.api.models.responses_generate import CachePurged, GenerateOut, TraceOut, TracePage
from optiloop.api.params import After, EntityId, ProjectId, alias_description, cursor
from optiloop.api.security import current_principal, get_deps, require
from optiloop.auth import Action, Principal
from optiloop.auth.roles import authorize
from optiloop.deps import Deps
from optiloop.projects import get_project
from optiloop.prompts import cache, traces
from optiloop.prompts.generate import generate

router = APIRouter(tags=["generate"])


@router.post("/v1/generate", response_model=GenerateOut, response_model_exclude_unset=True)
def generate_route(
    body: GenerateIn, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Render a deployed (or named) prompt version and call a model: guardrails on input and output,
    routing by cost/quality/latency with retries and fallback, structured-output validation, the
    response cache and a trace of the call. Contributors and up."""
    return generate(deps, who, body.model_dump(exclude_none=True, by_alias=True))


@router.get("/v1/traces/{trace_id}", response_model=TraceOut, response_model_exclude_unset=True)
def get_trace(
    trace_id: EntityId,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """One `generate` trace: the prompt version, model, guardrail verdicts, tokens, cost and latency."""
    return traces.get_trace(deps, who, trace_id)


@router.get("/v1/projects/{project_id}/traces", response_model=TracePage, response_model_exclude_unset=True)
def list_traces(
    project_id: ProjectId,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many traces.")] = 100,
    after: After = None,
    before: Annotated[
        str | None, Query(max_length=200, deprecated=True, description=alias_description("before"))
    ] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.TRACE_READ)),
) -> dict[str, Any]:
    """The project's `generate` traces, newest first. Page with `after` = the previous page's
    `next_after`."""
    get_project(deps, project_id)
    items = traces.list_traces(deps, project_id, limit, cursor(after, before))
    nxt = items[-1]["cursor"] if len(items) == limit else None
    return {"items": items, "next_after": nxt, "next_before": nxt}


@router.post("/v1/cache/purge", response_model=CachePurged)
def purge_cache(
    body: PurgeIn, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Drop the project's cached `generate` answers (of one prompt version, or all). Admins;
    audited as `cache.purged`."""
    authorize(who, Action.CACHE_PURGE, body.project_id)
    get_project(deps, body.project_id)
    removed = cache.purge(deps, body.project_id, body.prompt_version_id)
    deps.store.audit.append(
        principal=who.name,
        action="cache.purged",
        project_id=body.project_id,
        target=body.prompt_version_id or body.project_id,
        details={"removed": removed, "key_id": who.key_id},
    )
    return {"removed": removed}
