"""Request and response models of the training-jobs router.

Shape only: which entry points exist, which channels and instance types are valid and what an id
points at are checked in the core (optiloop.models.training.jobs), so the API, the CLI and a
workflow step get the same 422 naming the same field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from optiloop.api.models.common import Id, RequestModel, ResponseModel

ShortText = Annotated[str, Field(min_length=1, max_length=100)]


class TrainingJobCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "project_id": "prj_0190c3a4b5f600000001",
                    "entry_point": "tabular_xgb",
                    "hyperparameters": {"max_depth": "6", "n_estimators": "200"},
                    "inputs": {"train": {"dataset_id": "ds_0190c3a4b5f600000002"}},
                    "max_runtime_s": 3600,
                }
            ]
        }
    )

    project_id: Id = Field(description="The project the job, its data and its model belong to.")
    entry_point: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        description="Which `training_jobs/<entry_point>/train.py` script runs (surrogate, tabular_xgb, "
        "torch_mlp, rl_policy, ...)."
    )
    hyperparameters: dict[Annotated[str, Field(max_length=256)], Annotated[str, Field(max_length=2500)]] = (
        Field(default_factory=dict, description="string -> string, as SageMaker takes them (at most 90)")
    )
    inputs: dict[Annotated[str, Field(max_length=64)], dict[ShortText, ShortText]] = Field(
        description='channel -> {"dataset_id": "ds_..."} or {"project_runs": "<project_id>"}'
    )
    backend: Literal["local", "sagemaker"] | None = Field(
        None, description="Must match the deployment's trainer if given (null: the configured one)."
    )
    instance_type: Annotated[str, Field(min_length=1, max_length=50)] | None = Field(
        None,
        description="SageMaker instance type (null: ml.m5.large; GPU types for pytorch entry points "
        "only); local jobs run on `local`.",
    )
    max_runtime_s: Annotated[int, Field(ge=1, le=5 * 24 * 3600)] | None = Field(
        None, description="Stop the job after this many seconds (null: 7,200; at most 5 days)."
    )


class TrainingJobOut(ResponseModel):
    id: str = Field(description="The training job's id (`tj_...`).")
    project_id: str
    entry_point: str = Field(description="The `training_jobs/<entry_point>` script it runs.")
    backend: str = Field(description="Where it runs: `local` or `sagemaker`.")
    instance_type: str = Field(description="The instance it runs on (`local` for local jobs).")
    hyperparameters: dict[str, str] = Field(description="The hyperparameters passed to the script.")
    inputs: dict[str, dict[str, str]] = Field(
        description="Channel -> where its files came from, as materialised (`SM_CHANNEL_<NAME>`)."
    )
    status: str = Field(description="Pending, InProgress, Stopping, or terminal: Completed, Failed, Stopped.")
    created_at: str
    created_by: str
    backend_job_name: str = Field(description="The job's name at the backend (empty until it was started).")
    started_at: str | None = Field(description="When the backend started it (ISO-8601, UTC); null before.")
    ended_at: str | None = Field(
        description="When it reached a terminal status (ISO-8601, UTC); null before."
    )
    failure_reason: str | None = Field(
        description="Why it Failed (the backend's reason, or a missing/invalid artifact); null otherwise."
    )
    metrics: dict[str, float] = Field(
        description="Last value of each `metric: name=value` line the script printed, plus the held-out "
        "metrics of its artifact's manifest."
    )
    metric_history: list[dict[str, Any]] = Field(
        description="Every metric print in order, as `name`, `value`, `line` (bounded)."
    )
    artifact_key: str | None = Field(
        description="Blob key (or s3:// URI) of model.tar.gz; set once Completed with a readable artifact."
    )
    artifact_sha256: str | None = Field(description="sha256 of the artifact, as the registry records it.")
    data_fingerprint: str | None = Field(
        description="`sha256:` over the input channels' files: the same files give the same fingerprint."
    )
    code_version: str | None = Field(description="`sha256:` of the entry point's source bundle.")
    wall_seconds: float | None = Field(description="Wall-clock seconds the job ran; null until known.")
    cpu_seconds: float | None = Field(description="CPU seconds it used, where the backend reports them.")
    billable_seconds: float | None = Field(description="Seconds the backend bills for; null until known.")
    cost_usd: float | None = Field(
        description="billable_seconds at the instance type's hourly price (USD); set when it ends."
    )
    logs_key: str | None = Field(description="Blob key of its full log, kept once it ends; null before.")


class TrainingJobList(ResponseModel):
    items: list[TrainingJobOut]
    next_after: str | None


class TrainingLogs(ResponseModel):
    job_id: str = Field(description="The training job's id.")
    status: str = Field(description="The job's status when the lines were read.")
    lines: list[str] = Field(description="Log lines from `since` on, at most `limit` of them.")
    next_since: int = Field(description="Pass as `since` to read on.")
    complete: bool = Field(description="True when the job has ended and every line was read.")
