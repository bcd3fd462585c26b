"""Online decisions: `POST /v1/decisions` (the hot path), `POST /v1/feedback` (rewards, late ones too) and
`GET /v1/dashboards/metrics` (the generate traces' series and drift), `POST /v1/experiments/{id}/ope`
(off-policy evaluation of a candidate on the experiment's logged decisions).

Online experiments themselves live at `/v1/experiments` with AutoML's (`routers/automl.py` dispatches
on `type` vs `task_type`). Handlers are thin: parse, call `optiloop.decisions.serve`, return.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from optiloop.api.models.decisions import DecisionIn, FeedbackIn, OpeIn
from optiloop.api.models.responses_decisions import DashboardOut, DecisionOut, FeedbackOut, OpeOut
from optiloop.api.params import EntityId
from optiloop.api.security import current_principal, get_deps
from optiloop.auth import Principal
from optiloop.decisions import dashboard, evaluate, serve
from optiloop.deps import Deps

router = APIRouter(tags=["decisions"])


@router.post("/v1/decisions", status_code=201, response_model=DecisionOut)
def decide(
    body: DecisionIn, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """`{"decision_id", "variant", "config", "propensity", ...}` from a Running experiment."""
    return serve.decide(deps, who, body.experiment_id, body.unit_id, body.context)


@router.post("/v1/feedback", response_model=FeedbackOut)
def feedback(
    body: FeedbackIn, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """A reward for a decision, by `decision_id` or a generate `trace_id` (cost and latency joined from
    the trace): `reward` (a number) or `rewards` (the experiment's composite), optional `observations`
    for guardrails and a pre-period `covariate` (CUPED). A second reward for the same decision is a 409
    (rewards count once); a guardrail breach pauses the experiment (`experiment_status`)."""
    return serve.feedback(
        deps, who, body.decision_id, body.reward, body.rewards,
        trace_id=body.trace_id, observations=body.observations, covariate=body.covariate,
    )  # fmt: skip


@router.post(
    "/v1/experiments/{experiment_id}/ope",
    response_model=OpeOut,
    summary="Estimate a candidate policy's value from an online experiment's logged decisions",
    description="Off-policy evaluation: what the candidate (always one variant, a fixed split, or rules on "
    "the logged context fields with a default) would have earned on the requests the experiment served, "
    "by IPS, SNIPS and doubly robust from the rewarded decisions' propensities, each with a standard error "
    "and a 95% interval, plus the effective sample size and the share of decisions the candidate agrees "
    "with. Reads at most 20,000 of the newest rewarded decisions (`truncated`); changes nothing. 422 "
    "naming the `policy.*` field for an unknown variant or weights not summing to 1; 409 naming "
    "`experiment_id` when nothing has been rewarded yet.",
)
def evaluate_policy(
    experiment_id: EntityId,
    body: OpeIn,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    return evaluate.evaluate(deps, who, experiment_id, body.policy.model_dump(exclude_none=True))


@router.get(
    "/v1/dashboards/metrics",
    response_model=DashboardOut,
    summary="Dashboard series of a project's generate calls",
    description="Per hour or day over the last `hours`: calls, latency p50/p95, cost per call, success "
    "rate (not blocked) and its difference from the window's baseline, cache hit rate; and where drift "
    "detectors fired (Page-Hinkley on latency and cost, ADWIN on success). Reads at most 20,000 of the "
    "newest traces (`truncated`).",
)
def dashboard_metrics(
    project_id: Annotated[str, Query(min_length=1, max_length=100, description="the project")],
    hours: Annotated[int, Query(ge=1, le=720, description="the window, hours back from now")] = 24,
    bucket: Annotated[Literal["hour", "day"], Query(description="the series' step")] = "hour",
    model: Annotated[
        str | None, Query(min_length=1, max_length=200, description="only calls answered by this model")
    ] = None,
    prompt_version_id: Annotated[
        str | None, Query(min_length=1, max_length=200, description="only calls of this prompt version")
    ] = None,
    label: Annotated[
        str | None, Query(min_length=1, max_length=200, description="only calls resolved through this label")
    ] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    given = {"model": model, "prompt_version_id": prompt_version_id, "label": label}
    filters = {k: v for k, v in given.items() if v is not None}
    return dashboard.metrics(deps, who, project_id, hours=hours, bucket=bucket, filters=filters)
