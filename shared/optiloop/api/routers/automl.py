"""AutoML: tabular dataset ingest and experiments (`/v1/experiments` with `task_type`).

Handlers are thin: parse, call one use case, return. Runs go to the local worker pool
(`optiloop.automl.worker`); `GET /v1/experiments/{id}` is how a client watches one. Cancelling is
`POST .../cancel` (API Gateway path parts are a literal or a whole parameter, never both).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool

from optiloop.api.models.automl import AutomlExperimentCreate
from optiloop.api.multipart import parse_form
from optiloop.api.params import EntityId
from optiloop.api.security import current_principal, get_deps
from optiloop.auth import Principal
from optiloop.automl import datasets, experiments
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput

router = APIRouter(tags=["automl"])

INGEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "project_id", "name"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV, JSON Lines or Parquet",
                        },
                        "project_id": {"type": "string"},
                        "name": {"type": "string"},
                    },
                }
            }
        },
    }
}


@router.post("/v1/datasets/ingest", status_code=201, openapi_extra=INGEST_BODY)
async def ingest_dataset(
    request: Request,
    content_type: Annotated[str | None, Header()] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """A table from an upload: typed, profiled (quality report) and stored with its fingerprint."""
    form = parse_form(content_type or "", await request.body())
    missing = [f for f in ("file", "project_id", "name") if f not in form]
    if missing:
        raise InvalidInput([FieldProblem(f, "is required") for f in missing])
    upload = form["file"]
    return await run_in_threadpool(
        datasets.ingest,
        deps,
        who,
        form["project_id"].text.strip(),
        form["name"].text,
        upload.filename or "upload",
        upload.data,
    )


@router.post("/v1/experiments", status_code=201)
def create_experiment(
    body: AutomlExperimentCreate, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """The seed's body; answers `{"experiment_id", "status": "created", "leaderboard_url", ...}`."""
    exp = experiments.create(deps, who, body.model_dump(exclude_none=True))
    return {
        "experiment_id": exp["id"],
        "status": exp["status"],
        "leaderboard_url": exp["leaderboard_url"],
        **{
            k: exp[k]
            for k in ("task", "metric", "direction", "features", "excluded", "class_balance", "warnings")
        },
    }


@router.get("/v1/experiments/{experiment_id}")
def get_experiment(
    experiment_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    return experiments.get(deps, who, experiment_id)


@router.post("/v1/experiments/{experiment_id}/run", status_code=202)
def run_experiment(
    experiment_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Queue the search on the local worker pool; poll `GET /v1/experiments/{id}` for progress."""
    from optiloop.automl.worker import pool

    return experiments.start(deps, who, experiment_id, pool().submit)


@router.post("/v1/experiments/{experiment_id}/cancel")
def cancel_experiment(
    experiment_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    from optiloop.automl.worker import pool

    return experiments.cancel(deps, who, experiment_id, pool().cancel)


@router.get("/v1/experiments/{experiment_id}/trials")
def list_trials(
    experiment_id: EntityId,
    after: Annotated[int | None, Query(ge=0, le=10**6, description="the last trial number seen")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Every trial in order: completed, pruned, failed (with its error) and stopped."""
    items = experiments.trials(deps, who, experiment_id, limit=limit, after=after)
    return {"items": items, "next_after": items[-1]["number"] if len(items) == limit else None}


@router.get("/v1/experiments/{experiment_id}/leaderboard")
def leaderboard(
    experiment_id: EntityId,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """`{"trials": [{"trial_id", "model", "metrics"}, ...]}`, best first by the objective."""
    return experiments.leaderboard(deps, who, experiment_id, limit)
