"""Request and response models of the training-jobs router.

Shape only: which entry points exist, which channels and instance types are valid and what an id
points at are checked in the core (optiloop.models.training.jobs), so the API, the CLI and a
workflow step get the same 422 naming the same field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from optiloop.api.models.common import Id, RequestModel, ResponseModel

ShortText = Annotated[str, Field(min_length=1, max_length=100)]


class TrainingJobCreate(RequestModel):
    project_id: Id
    entry_point: Annotated[str, Field(min_length=1, max_length=100)]
    hyperparameters: dict[Annotated[str, Field(max_length=256)], Annotated[str, Field(max_length=2500)]] = (
        Field(default_factory=dict, description="string -> string, as SageMaker takes them (at most 90)")
    )
    inputs: dict[Annotated[str, Field(max_length=64)], dict[ShortText, ShortText]] = Field(
        description='channel -> {"dataset_id": "ds_..."} or {"project_runs": "<project_id>"}'
    )
    backend: Literal["local", "sagemaker"] | None = None
    instance_type: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    max_runtime_s: Annotated[int, Field(ge=1, le=5 * 24 * 3600)] | None = None


class TrainingJobOut(ResponseModel):
    id: str
    project_id: str
    entry_point: str
    backend: str
    instance_type: str
    hyperparameters: dict[str, str]
    inputs: dict[str, dict[str, str]]
    status: str
    created_at: str
    created_by: str
    backend_job_name: str
    started_at: str | None
    ended_at: str | None
    failure_reason: str | None
    metrics: dict[str, float]
    metric_history: list[dict[str, Any]]
    artifact_key: str | None
    artifact_sha256: str | None
    data_fingerprint: str | None
    code_version: str | None
    wall_seconds: float | None
    cpu_seconds: float | None
    billable_seconds: float | None
    cost_usd: float | None
    logs_key: str | None


class TrainingJobList(ResponseModel):
    items: list[TrainingJobOut]
    next_after: str | None


class TrainingLogs(ResponseModel):
    job_id: str
    status: str
    lines: list[str]
    next_since: int
    complete: bool
