"""The records of the model lifecycle and how they sit in the generic document store.

Frozen dataclasses (what the use cases work with), one `Doc` each (what the store persists). The
kind/scope/sort choices are the access paths:

* training_job   scope project, sort created_at#id  -> a project's jobs, newest last
* model          scope project, sort created_at#id  -> a project's models in creation order (a
                                                       `model_name` doc holds the per-project name
                                                       claim); sorted by name before store version 4
* model_version  scope model,   sort 00000007       -> a model's versions in order

A model version is immutable once written except for `status` (its approval state), which moves
through the approvals module exactly as a prompt version's does. Which version holds a stage or an
alias is a property of the model (`aliases`), with an append-only history of every move.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from optiloop.store.records import Doc

JobStatus = Literal["Pending", "InProgress", "Completed", "Failed", "Stopping", "Stopped"]
JOB_TERMINAL: frozenset[str] = frozenset({"Completed", "Failed", "Stopped"})
VersionStatus = Literal["Registered", "PendingApproval", "Approved", "Rejected", "Archived"]
STAGES: tuple[str, ...] = ("staging", "production", "archived")


@dataclass(frozen=True)
class TrainingJob:
    """One run of a `training_jobs/<entry_point>/train.py` script on a backend (local or sagemaker).

    `inputs` maps a channel name to where its files come from (`{"dataset_id": ...}` or
    `{"blob_prefix": ...}`); the trainer materialises each as `SM_CHANNEL_<NAME>`. Metrics are the
    last value of each metric the script printed; `metric_history` keeps every print (bounded)."""

    id: str
    project_id: str
    entry_point: str
    backend: str
    instance_type: str
    hyperparameters: dict[str, str]
    inputs: dict[str, dict[str, str]]
    status: JobStatus
    created_at: str
    created_by: str
    backend_job_name: str = ""
    started_at: str | None = None
    ended_at: str | None = None
    failure_reason: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    metric_history: list[dict[str, Any]] = field(default_factory=list)
    artifact_key: str | None = None  # blob key (or s3:// URI) of model.tar.gz once Completed
    artifact_sha256: str | None = None
    data_fingerprint: str | None = None  # sha256 over the input channels' files
    code_version: str | None = None  # sha256 of the entry point's source bundle
    wall_seconds: float | None = None
    cpu_seconds: float | None = None
    billable_seconds: float | None = None
    cost_usd: float | None = None
    logs_key: str | None = None


@dataclass(frozen=True)
class Model:
    id: str
    project_id: str
    name: str
    description: str
    created_at: str
    created_by: str
    latest_version: int = 0
    # stage or alias -> version id: `staging`, `production` and user aliases (`champion`, ...)
    aliases: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelVersion:
    id: str
    model_id: str
    project_id: str
    version: int
    status: VersionStatus
    artifact_key: str
    artifact_sha256: str
    artifact_bytes: int
    framework: str
    runtime: str  # trees | onnx | endpoint (optiloop.models.artifact.RUNTIMES)
    signature: dict[str, Any]
    params: dict[str, Any]
    metrics: dict[str, float]
    data_fingerprint: str | None
    code_version: str | None
    source: dict[str, str]  # {"training_job_id": ...} or {"upload": "<sha256>"}
    created_at: str
    created_by: str
    description: str = ""
    card_key: str | None = None  # blob key of the model card (Markdown + JSON), once generated
    card_sha256: str | None = None


def job_doc(j: TrainingJob) -> Doc:
    sort = f"{j.created_at}#{j.id}"
    return Doc(kind="training_job", id=j.id, scope=j.project_id, sort=sort, data=asdict(j))


def model_doc(m: Model) -> Doc:
    # creation order, as every listing (docs/api-versioning.md, "Listings"); the id keeps it unique
    return Doc(kind="model", id=m.id, scope=m.project_id, sort=f"{m.created_at}#{m.id}", data=asdict(m))


def model_version_doc(v: ModelVersion) -> Doc:
    return Doc(kind="model_version", id=v.id, scope=v.model_id, sort=f"{v.version:08d}", data=asdict(v))


def runs_through_seq(job: Mapping[str, Any], project_id: str) -> int:
    """The last run of `project_id` a training job (its document's data) was trained on: the
    `runs_through_seq` its `project_runs` channel recorded (0 when it read no runs of that project)."""
    seq = 0
    for src in (job.get("inputs") or {}).values():
        if isinstance(src, Mapping) and src.get("project_runs") == project_id:
            try:
                seq = max(seq, int(src.get("runs_through_seq", 0)))
            except (TypeError, ValueError):
                continue
    return seq
