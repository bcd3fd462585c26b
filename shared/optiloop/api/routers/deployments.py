"""Deployments, one resource for both seeds: prompt versions to environments (dev|staging|prod) and
model versions behind OptiLoop's router (staging|production, canary / blue-green / shadow).

`POST /v1/deployments` dispatches on the body: `prompt_version_id` is a prompt deployment, exactly
as before; `model_version_id` a model deployment. Listing and `GET /v1/deployments/{id}` include
both, each item saying its `type`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from optiloop.api.models.prompts import DeploymentCreate, RollbackIn
from optiloop.api.models.responses_deployments import (
    BatchJobOut,
    DeploymentList,
    DeploymentMetricsOut,
    DeploymentOut,
    ModelDeploymentOut,
    PromptDeploymentOut,
)
from optiloop.api.models.serving import BatchIn, ModelDeploymentCreate, ReasonIn
from optiloop.api.openapi_inline import inline_schema
from optiloop.api.params import After, EntityId, ProjectId
from optiloop.api.security import current_principal, get_deps, require
from optiloop.auth import Action, Principal
from optiloop.deps import Deps
from optiloop.errors import NotFound
from optiloop.models.serving import batch, metrics
from optiloop.models.serving import deployments as serving
from optiloop.models.serving.records import KIND
from optiloop.prompts import deployments as prompt_deployments
from optiloop.prompts import library

router = APIRouter(tags=["deployments"])

_ONE_OF = {"oneOf": [inline_schema(DeploymentCreate), inline_schema(ModelDeploymentCreate)]}


_DEPLOY_EXAMPLES = {
    "prompt": {
        "summary": "A prompt version to an environment",
        "value": {"prompt_version_id": "pv_0190c3a4b5f60000000a", "environment": "staging"},
    },
    "model": {
        "summary": "A model version as a 10% canary with SLOs",
        "value": {
            "model_version_id": "mv_0190c3a4b5f60000000b",
            "environment": "production",
            "strategy": {"type": "canary", "traffic": {"stable": 90, "canary": 10}},
            "slos": {"latencyMsP95": 250, "errorRatePct": 1},
            "capture_rate": 0.1,
        },
    },
}


def _parse(model: type[BaseModel], raw: dict[str, Any]) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in e.errors(include_url=False)]
        ) from None


def _prompt_dict(d: Any) -> dict[str, Any]:
    return {**prompt_deployments.as_dict(d), "type": "prompt"}


@router.post(
    "/v1/deployments",
    status_code=201,
    response_model=DeploymentOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ONE_OF, "examples": _DEPLOY_EXAMPLES}},
        }
    },
)
def deploy(
    body: Annotated[dict[str, Any], Body()],
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """A prompt version (`prompt_version_id`, `environment` dev|staging|prod, `overrides`) or a model
    version (`model_version_id`, `environment` staging|production, `strategy`, `slos`)."""
    if "model_version_id" in body:
        m: ModelDeploymentCreate = _parse(ModelDeploymentCreate, body)
        d = serving.deploy_model(
            deps,
            who,
            m.model_version_id,
            m.environment,
            m.strategy.model_dump(exclude_none=True) if m.strategy else None,
            m.slos.model_dump(exclude_none=True) if m.slos else None,
            capture_rate=m.capture_rate,
            instance_type=m.instance_type,
        )
        return serving.as_dict(d)
    p: DeploymentCreate = _parse(DeploymentCreate, body)
    return _prompt_dict(prompt_deployments.deploy(deps, who, p.prompt_version_id, p.environment, p.overrides))


@router.post("/v1/deployments/rollback", response_model=PromptDeploymentOut)
def rollback_prompt(
    body: RollbackIn, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Point a prompt's environment back at its previous (or a named) version."""
    d = prompt_deployments.rollback(deps, who, body.prompt_id, body.environment, body.to_version_id)
    return _prompt_dict(d)


@router.get("/v1/projects/{project_id}/deployments", response_model=DeploymentList)
def list_deployments(
    project_id: ProjectId,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many deployments.")] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.PROMPT_READ)),
) -> dict[str, Any]:
    """The project's live deployments, prompt and model ones together, oldest first (a prompt
    environment dates from its first deploy): each prompt environment's current version with its
    history (for rollback), each model deployment with its variants; `type` says which. Page with
    `after` = the previous page's `next_after`."""
    prompts = prompt_deployments.list_deployments(deps, project_id, after=after, limit=limit)
    models = serving.list_model_deployments(deps, project_id, after=after, limit=limit)
    merged = [(k, _prompt_dict(d)) for k, d in prompts] + [(k, serving.as_dict(d)) for k, d in models]
    page = sorted(merged, key=lambda kd: kd[0])[:limit]
    return {"items": [d for _, d in page], "next_after": page[-1][0] if len(page) == limit else None}


@router.get("/v1/deployments/{deployment_id}", response_model=DeploymentOut)
def get_deployment(
    deployment_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """One deployment by id: a model deployment (`dep_...`, with its variants and traffic split) or a
    prompt deployment (`<prompt id>:<environment>`, with its version and history)."""
    if deps.store.docs.get(KIND, deployment_id) is not None:
        return serving.as_dict(serving.get_model_deployment(deps, who, deployment_id))
    prompt_id, _, environment = deployment_id.rpartition(":")
    if prompt_id and deps.store.docs.get("deployment", deployment_id) is not None:
        library.get_prompt(deps, who, prompt_id)  # authorises reading the prompt's project
        return _prompt_dict(prompt_deployments.get_deployment(deps, prompt_id, environment))
    raise NotFound(
        f"no deployment '{deployment_id}'",
        details=[{"field": "deployment_id", "reason": "no such deployment"}],
    )


@router.delete("/v1/deployments/{deployment_id}", status_code=204, summary="Undeploy")
def undeploy(
    deployment_id: EntityId,
    reason: Annotated[
        str,
        Query(max_length=1_000, description="Why it is taken down; kept in its history and the audit log."),
    ] = "",
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> Response:
    """Take a deployment down: a prompt deployment (`<prompt id>:<environment>`; `generate` for that
    label answers 404 afterwards) or a model deployment (`dep_...`; predictions answer 404 and the
    model's environment is free for a new deployment). The record is kept, out of the project's
    listing, and `GET` on it answers 404 naming when it was undeployed; deploying the same prompt to
    the same environment again continues its history. Once nothing of a prompt or project is
    deployed, it may be deleted. Contributors and up; protected environments (`prod`, `production`)
    admins only. Audited as `deployment.undeploy` / `model_deployment.undeploy`, with the reason."""
    if deps.store.docs.get(KIND, deployment_id) is not None:
        serving.undeploy(deps, who, deployment_id, reason)
        return Response(status_code=204)
    prompt_id, _, environment = deployment_id.rpartition(":")
    if prompt_id and deps.store.docs.get("deployment", deployment_id) is not None:
        prompt_deployments.undeploy(deps, who, prompt_id, environment, reason)
        return Response(status_code=204)
    raise NotFound(
        f"no deployment '{deployment_id}'",
        details=[{"field": "deployment_id", "reason": "no such deployment"}],
    )


@router.post("/v1/deployments/{deployment_id}/promote", response_model=ModelDeploymentOut)
def promote(
    deployment_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """The canary (blue/green standby, shadow) becomes the stable version, in one call."""
    return serving.as_dict(serving.promote(deps, who, deployment_id))


@router.post("/v1/deployments/{deployment_id}/rollback", response_model=ModelDeploymentOut)
def rollback_model(
    deployment_id: EntityId,
    body: Annotated[ReasonIn | None, Body(examples=[{"reason": "p95 latency over the SLO"}])] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Drop the candidate (stable keeps serving); with none, return to the previous stable version."""
    return serving.as_dict(serving.rollback(deps, who, deployment_id, body.reason if body else ""))


@router.get("/v1/deployments/{deployment_id}/metrics", response_model=DeploymentMetricsOut)
def deployment_metrics(
    deployment_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Requests, errors, latency p50/p95/p99 per variant over the last 5 minutes, hour and day."""
    d = serving.get_model_deployment(deps, who, deployment_id)
    metrics.RECORDER.flush(deps, d.id)  # this process's unwritten counts first
    return metrics.summary(deps, d.id)


@router.post(
    "/v1/deployments/{deployment_id}/batch",
    status_code=202,
    response_model=BatchJobOut,
    response_model_exclude_unset=True,
)
def start_batch(
    deployment_id: EntityId,
    body: BatchIn,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Score every example of a stored dataset (its `input` objects) with the stable version."""
    return batch.start_batch(deps, who, deployment_id, body.dataset_id)


@router.get(
    "/v1/deployments/{deployment_id}/batch/{job_id}",
    response_model=BatchJobOut,
    response_model_exclude_unset=True,
)
def get_batch(
    deployment_id: EntityId,
    job_id: EntityId,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """One batch scoring job of a model deployment: its status and, once done, where its output is."""
    return batch.get_job(deps, who, deployment_id, job_id)
