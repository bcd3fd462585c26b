"""What the registry's version, stage and card routes answer (issue 12). Extra fields stay allowed
(`ResponseModel`): minor versions add fields, and a client must ignore the ones it does not know."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from optiloop.api.models.common import ResponseModel
from optiloop.api.models.responses import ModelOut

NEXT_AFTER = "The cursor of the next page (pass it back as `after`); null on the last page."


class ModelVersionOut(ResponseModel):
    id: str = Field(description="The version's id (`mv_...`).")
    model_id: str = Field(description="The registry model it is a version of.")
    project_id: str = Field(description="The project it belongs to.")
    version: int = Field(description="Its number: 1, then one more per registered version.")
    status: str = Field(description="`PendingApproval`, `Approved`, `Rejected` or `Archived`.")
    artifact_key: str = Field(description="Where its model.tar.gz is stored.")
    artifact_sha256: str = Field(description="The artifact's sha256 (64 hex digits).")
    artifact_bytes: int = Field(description="The artifact's size in bytes.")
    framework: str = Field(description="What built it, e.g. `xgboost`, `sklearn`, `torch`, `automl`.")
    runtime: str = Field(description="How it is served: `trees`, `onnx` or `endpoint`.")
    signature: dict[str, Any] = Field(
        description="What it takes and answers: `task`, `inputs` (`name`, `type`, `required`), `classes`."
    )
    params: dict[str, Any] = Field(description="Its hyperparameters, as trained.")
    metrics: dict[str, Any] = Field(description="Its held-out metrics by name (e.g. `auc`, `ece`).")
    data_fingerprint: str | None = Field(description="A hash of the training data; null for an upload.")
    code_version: str | None = Field(description="The code that trained it; null when unknown.")
    source: dict[str, str] = Field(
        description="Where it came from: `training_job_id`, `trial_id` or `upload` (the artifact's sha256)."
    )
    created_at: str = Field(description="When it was registered (ISO-8601, UTC).")
    created_by: str = Field(description="Who registered it.")
    description: str = Field(default="", description="What is new in this version, for people.")
    card_key: str | None = Field(default=None, description="Where its model card is stored; null: none.")
    card_sha256: str | None = Field(default=None, description="The card's sha256; null: none.")
    aliases: list[str] = Field(
        default_factory=list, description="The stages and aliases that point at it now, sorted."
    )


class ModelVersionPage(ResponseModel):
    items: list[ModelVersionOut] = Field(description="The versions, oldest first.")
    next_after: int | None = Field(
        default=None,
        description="The last version number of this page (pass it back as `after`); null on the last page.",
    )


class StageEventOut(ResponseModel):
    id: str = Field(description="The event's id (`<model id>#<seq>`).")
    seq: int = Field(description="Its place in the model's history.")
    model_id: str = Field(description="The registry model.")
    project_id: str = Field(description="The project it belongs to.")
    name: str = Field(description="The stage or alias moved (`staging`, `production`, `champion`).")
    kind: str = Field(description="`stage` or `alias`.")
    action: str = Field(description="`promote`, `rollback` or `archive`.")
    version_id: str = Field(description="The version it points at after the move.")
    version: int = Field(description="That version's number.")
    previous_version_id: str | None = Field(description="The version it pointed at before; null: none.")
    previous_version: int | None = Field(description="That version's number; null: none.")
    by: str = Field(description="Who moved it.")
    at: str = Field(description="When (ISO-8601, UTC).")
    comment: str = Field(description="Why, as given.")


class StageMoveOut(ResponseModel):
    model: ModelOut = Field(description="The model after the move, with its `aliases`.")
    event: StageEventOut | None = Field(description="The history event written; null when nothing changed.")
    changed: bool = Field(
        description="False when the stage or alias already pointed there (nothing written)."
    )


class StageHistory(ResponseModel):
    items: list[StageEventOut] = Field(description="Every move, oldest first (append-only).")


class ModelCardOut(ResponseModel):
    format: str = Field(description="The card format's name and version.")
    model: dict[str, Any] = Field(description="The registry model: `id` and `name`.")
    version: dict[str, Any] = Field(
        description="The version: `id`, `version`, `framework`, `runtime`, `artifact_sha256`, "
        "`code_version`, `source`, `created_at`, `created_by`."
    )
    intended_use: str = Field(description="What it is for, as registered (a default sentence otherwise).")
    task: str | None = Field(
        description="`binary`, `multiclass`, `regression`, `forecast`...; from its signature."
    )
    inputs: list[Any] = Field(description="The input columns it takes.")
    classes: list[Any] = Field(description="The classes of a classifier; empty otherwise.")
    data: dict[str, Any] = Field(
        description="The training data: `fingerprint` and `rows` (null when unknown)."
    )
    metrics: dict[str, Any] = Field(description="Held-out performance metrics by name.")
    calibration: dict[str, Any] = Field(description="Calibration metrics (`ece`...); empty: not measured.")
    fairness: dict[str, Any] = Field(
        description="`sensitive_column`, `metrics` by group, `assessed` and a `note` when not assessed."
    )
    params: dict[str, Any] = Field(description="Its hyperparameters.")
    limitations: list[str] = Field(description="What it must not be used for, and what was not measured.")
