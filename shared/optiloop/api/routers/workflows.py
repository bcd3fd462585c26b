"""Experiment workflows: start train -> evaluate -> register -> (approve) -> deploy, and watch it.

Starting answers 202 at once with the execution; `GET /v1/workflow_executions/{id}` shows where it
stands, step by step (attempts, retries, errors), whichever engine runs it (the local runner, or
Step Functions in a deployment).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from optiloop.api.models.workflows import ExecutionList, ExecutionOut, ExperimentStart
from optiloop.api.params import EntityId, ProjectId
from optiloop.api.security import current_principal, get_deps
from optiloop.auth import Principal
from optiloop.deps import Deps
from optiloop.testopt import policies
from optiloop.testopt.policies import TrainPolicy
from optiloop.workflows import executions

router = APIRouter(tags=["workflows"])


@router.post("/v1/workflow_executions", status_code=202, response_model=ExecutionOut)
def start_workflow(
    body: ExperimentStart, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Start an experiment workflow; it runs in the background (poll the execution)."""
    return executions.start_experiment(deps, who, body.model_dump(mode="json", exclude={"workflow"}))


@router.post("/v1/projects/{project_id}/policies:train", status_code=202, response_model=ExecutionOut)
def train_policy(
    project_id: ProjectId,
    body: Annotated[
        TrainPolicy | None,
        Body(examples=[{"type": "surrogate", "min_runs": 200, "min_auc": 0.7}, {"type": "rl"}]),
    ] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Train one of the project's learned suggestion policies on its runs, as an experiment workflow
    (train, evaluate, register, point `staging` at it): `type: "surrogate"` the failure model (it
    must beat production's held-out AUC), `type: "rl"` the PPO suggestion policy behind
    `generator: "rl"` and hybrid's `rl` arm (its moves must earn more than random moves)."""
    return policies.train(deps, who, project_id, body or TrainPolicy())


@router.get("/v1/workflow_executions/{execution_id}", response_model=ExecutionOut)
def get_workflow_execution(
    execution_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """One workflow execution: its status, each step's state (its events) and, when finished, its
    results."""
    return executions.get_execution(deps, who, execution_id)


@router.get("/v1/projects/{project_id}/workflow_executions", response_model=ExecutionList)
def list_workflow_executions(
    project_id: ProjectId,
    after: Annotated[str | None, Query(max_length=200, description="next_after of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """The project's executions, newest first."""
    out = executions.list_executions(deps, who, project_id, limit=limit, after=after)
    return {"items": out["items"], "next_after": out["next"]}
