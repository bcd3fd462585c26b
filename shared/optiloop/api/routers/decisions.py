"""Online decisions: `POST /v1/decisions` (the hot path) and `POST /v1/feedback` (rewards, late ones too).

Online experiments themselves live at `/v1/experiments` with AutoML's (`routers/automl.py` dispatches
on `type` vs `task_type`). Handlers are thin: parse, call `optiloop.decisions.serve`, return.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from optiloop.api.models.decisions import DecisionIn, FeedbackIn
from optiloop.api.security import current_principal, get_deps
from optiloop.auth import Principal
from optiloop.decisions import serve
from optiloop.deps import Deps

router = APIRouter(tags=["decisions"])


@router.post("/v1/decisions", status_code=201)
def decide(
    body: DecisionIn, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """`{"decision_id", "variant", "config", "propensity", ...}` from a Running experiment."""
    return serve.decide(deps, who, body.experiment_id, body.unit_id, body.context)


@router.post("/v1/feedback")
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
