from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import chain
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from optiloop.api.errors import error_body, request_id_of, status_of
from optiloop.api.models.responses import TestPage
from optiloop.api.models.responses_suggest import SuggestOut
from optiloop.api.models.responses_testopt import PrioritizeOut, ReplayOut
from optiloop.api.models.suggest import ParetoIn, PrioritizeIn, ReplayIn, SuggestIn
from optiloop.api.params import MAX_SEQ, After, ProjectId, alias_description, seq_cursor
from optiloop.api.security import get_deps, require
from optiloop.auth import Action, Principal
from optiloop.deps import Deps
from optiloop.errors import OptiLoopError
from optiloop.testopt import queries
from optiloop.testopt.prioritize import Case, prioritize
from optiloop.testopt.replay import replay
from optiloop.testopt.strategies.multiobjective import ParetoSpec
from optiloop.testopt.suggest import DiversitySpec, SuggestRequest, suggest, suggest_stream

router = APIRouter(tags=["tests"])


# The colon is literal: Starlette compiles "{project_id}" to [^/]+ and matches the rest verbatim,
# so ".../tests:suggest" never collides with ".../tests" (tests/unit/api checks this).
@router.post(
    "/v1/projects/{project_id}/tests:suggest",
    response_model=None,
    responses={
        200: {
            "model": SuggestOut,
            "content": {"application/x-ndjson": {}},
            "description": 'The batch as JSON; with `stream: true`, NDJSON: one `{"test": ...}` a line, '
            'then `{"done": ...}`.',
        }
    },
)
def suggest_tests(
    project_id: ProjectId,
    body: SuggestIn,
    request: Request,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.TEST_SUGGEST)),
) -> dict[str, Any] | StreamingResponse:
    """Suggest a batch of feasible, diverse tests: every hard relation holds by construction, pending
    tests are never suggested twice, and the same seed and history give the same batch. `stream: true`
    answers NDJSON (one test a line, then a summary). 409 when the project budget is spent.
    Contributors and up."""
    req = SuggestRequest(
        generator=body.generator,
        batch_size=body.batch_size,
        seed=body.seed,
        objectives=list(body.objectives),
        objective_weights=list(body.objective_weights) if body.objective_weights else None,
        diversity=DiversitySpec(method=body.diversity.method, min_distance=body.diversity.min_distance),
        budget_cents=body.budget_cents,
        pareto=_pareto(body.pareto),
    )
    if not body.stream:
        return suggest(deps, project_id, req, who.name)
    lines = suggest_stream(deps, project_id, req, who.name)
    first = next(lines)  # planned before answering: an error here is a plain 4xx
    return StreamingResponse(
        _ndjson(chain([first], lines), request_id_of(request)), media_type="application/x-ndjson"
    )


def _pareto(p: ParetoIn | None) -> ParetoSpec | None:
    if p is None:
        return None
    weights = tuple(p.weights) if p.weights is not None else None
    return ParetoSpec(objectives=tuple(p.objectives), select=p.select, weights=weights, max_front=p.max_front)


def _ndjson(items: Iterator[dict[str, Any]], request_id: str | None) -> Iterator[bytes]:
    for item in items:
        err = item.get("error")
        if isinstance(err, OptiLoopError):
            item = error_body(err.code, err.message, err.details, request_id)
            item["error"]["status"] = status_of(err)
        yield json.dumps(item, separators=(",", ":")).encode() + b"\n"


@router.post("/v1/projects/{project_id}/tests:prioritize", response_model=PrioritizeOut)
def prioritize_tests(
    project_id: ProjectId,
    body: PrioritizeIn,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.TEST_READ)),
) -> dict[str, Any]:
    """Order existing test cases by predicted failures and new coverage per unit of time, with
    the expected failures and coverage reached at each cut-off (for a time-boxed CI run)."""
    cases = [Case(c.id, c.params, c.last_status, c.duration_ms) for c in body.tests]
    return prioritize(deps, project_id, cases, objective=body.objective, budget_ms=body.budget_ms)


@router.post("/v1/projects/{project_id}/replay", response_model=ReplayOut, response_model_exclude_unset=True)
def replay_history(
    project_id: ProjectId,
    body: ReplayIn,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.TEST_READ)),
) -> dict[str, Any]:
    """Replay the project's logged runs in a policy's order: the buckets and failures reached by each
    budget (tests, or ms of logged test time). Writes nothing."""
    return replay(deps, project_id, body.policy, body.budgets, unit=body.unit, objective=body.objective)


@router.get("/v1/projects/{project_id}/tests", response_model=TestPage)
def list_tests(
    project_id: ProjectId,
    status: Annotated[
        Literal["pending", "ran"] | None,
        Query(description="`pending`: suggested and not yet ingested (a runner's work); `ran`: with a run."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many tests.")] = 100,
    after: After = None,
    after_seq: Annotated[
        int, Query(ge=0, le=MAX_SEQ, deprecated=True, description=alias_description("after_seq"))
    ] = 0,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.TEST_READ)),
) -> dict[str, Any]:
    """The project's tests in the order they were suggested, each with its run once ingested. Page
    with `after` = the previous page's `next_after`."""
    page = queries.list_tests(
        deps, project_id, status=status, after_seq=seq_cursor(after, after_seq), limit=limit
    )
    nxt = page["next_after_seq"]
    return {**page, "next_after": None if nxt is None else str(nxt)}
