"""Training jobs: start one, watch it (status, metrics, logs), stop it.

`GET /v1/training_jobs/{job_id}` asks the backend about a job that is still running, so polling it
is how a client (or a workflow) learns that a job ended; the project listing shows jobs as last
recorded. Stopping is `POST .../stop` rather than a `{job_id}:stop` custom method: API Gateway
resource path parts are either a literal or a whole `{parameter}`, never both.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from optiloop.api.models.training import TrainingJobCreate, TrainingJobList, TrainingJobOut, TrainingLogs
from optiloop.api.params import MAX_OFFSET, EntityId, ProjectId
from optiloop.api.security import current_principal, get_deps, require
from optiloop.auth import Principal
from optiloop.deps import Deps
from optiloop.models.training import jobs

router = APIRouter(tags=["training"])


@router.post("/v1/training_jobs", status_code=201, response_model=TrainingJobOut)
def create_training_job(
    body: TrainingJobCreate, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Start `training_jobs/<entry_point>/train.py` on the deployment's backend (local or SageMaker)."""
    job = jobs.create_job(
        deps,
        who,
        body.project_id,
        body.entry_point,
        body.hyperparameters,
        body.inputs,
        backend=body.backend,
        instance_type=body.instance_type,
        max_runtime_s=body.max_runtime_s,
    )
    return asdict(job)


@router.get("/v1/training_jobs/{job_id}", response_model=TrainingJobOut)
def get_training_job(
    job_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """One training job: its backend, status, hyperparameters, timings and, once done, its metrics."""
    return asdict(jobs.get_job(deps, who, job_id))


@router.get("/v1/projects/{project_id}/training_jobs", response_model=TrainingJobList)
def list_training_jobs(
    project_id: ProjectId,
    after: Annotated[str | None, Query(max_length=200, description="next_after of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(jobs.READ)),
) -> dict[str, Any]:
    """The project's training jobs, oldest first; page with `after` = the previous page's `next_after`."""
    items, next_after = jobs.list_jobs(deps, who, project_id, after=after, limit=limit)
    return {"items": [asdict(j) for j in items], "next_after": next_after}


@router.post("/v1/training_jobs/{job_id}/stop", response_model=TrainingJobOut)
def stop_training_job(
    job_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Ask the backend to stop the job; stopping a job that has ended returns it unchanged."""
    return asdict(jobs.stop_job(deps, who, job_id))


@router.get("/v1/training_jobs/{job_id}/logs", response_model=TrainingLogs)
def training_job_logs(
    job_id: EntityId,
    since: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="lines already read")] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """The job's log lines from `since` on (lines already read), at most `limit` of them."""
    return jobs.job_logs(deps, who, job_id, since=since, limit=limit)
