"""What the deployment routes answer (issue 12): prompt and model deployments share one resource, so
a listing item or `GET /v1/deployments/{id}` is either, told apart by `type` (a discriminated union,
`oneOf` in the document). Extra fields stay allowed (`ResponseModel`): minor versions add fields."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from optiloop.api.models.common import ResponseModel

NEXT_AFTER = "The cursor of the next page (pass it back as `after`); null on the last page."


class PromptDeploymentOut(ResponseModel):
    type: Literal["prompt"] = Field(description="`prompt`: a prompt version deployed to an environment.")
    id: str = Field(description="The deployment's id: `<prompt id>:<environment>`.")
    prompt_id: str = Field(description="The deployed prompt.")
    prompt_name: str = Field(description="The prompt's name (the label `generate` resolves).")
    project_id: str = Field(description="The project it belongs to.")
    environment: str = Field(description="`dev`, `staging` or `prod`.")
    version_id: str = Field(description="The prompt version it serves now (`pv_...`).")
    version: int = Field(description="That version's number.")
    overrides: dict[str, Any] = Field(description="Model parameters set for this environment only.")
    deployed_at: str = Field(description="When the current version was deployed (ISO-8601, UTC).")
    deployed_by: str = Field(description="Who deployed it.")
    history: list[dict[str, Any]] = Field(
        description="Every move, oldest first: `version_id`, `version`, `at`, `by`, `action` (deploy, "
        "rollback): what a rollback goes back to."
    )
    created_at: str = Field(
        default="", description="When the environment was first deployed; empty on records of old releases."
    )
    protected: bool = Field(description="Whether the environment is protected (`prod`: admins only).")


class ModelDeploymentOut(ResponseModel):
    type: Literal["model"] = Field(description="`model`: a model version behind OptiLoop's router.")
    id: str = Field(description="The deployment's id (`dep_...`).")
    project_id: str = Field(description="The project it belongs to.")
    model_id: str = Field(description="The registry model it serves.")
    model_name: str = Field(description="That model's name.")
    environment: str = Field(description="`staging` or `production`.")
    stable: dict[str, Any] = Field(
        description="The variant that serves: `model_version_id`, `model_id`, `version`, `artifact_key`, "
        "`artifact_sha256`, `runtime` and `endpoint_name` (null when served in-process)."
    )
    candidate: dict[str, Any] | None = Field(
        description="The canary, blue/green standby or shadow, shaped as `stable`; null when none."
    )
    strategy: dict[str, Any] = Field(
        description="`type` (canary, blue_green, shadow) and `traffic` (percent to `stable` and `canary`)."
    )
    slos: dict[str, float] = Field(
        description="`latencyMsP95`, `errorRatePct`: a candidate breaking them is rolled back; empty: never."
    )
    capture_rate: float = Field(description="The share of requests captured for the drift monitors (0-1).")
    created_at: str = Field(description="When it was deployed (ISO-8601, UTC).")
    created_by: str = Field(description="Who deployed it.")
    updated_at: str = Field(description="When it last changed (promote, rollback, traffic).")
    updated_by: str = Field(description="Who changed it last.")
    history: list[dict[str, Any]] = Field(
        description="Every change, oldest first: `action`, `at`, `by`, and the `stable` and `candidate` "
        "after it."
    )
    protected: bool = Field(description="Whether the environment is protected (`production`: admins only).")


DeploymentOut = Annotated[PromptDeploymentOut | ModelDeploymentOut, Field(discriminator="type")]
"""A prompt or a model deployment, as `type` says."""


class DeploymentList(ResponseModel):
    items: list[DeploymentOut] = Field(
        description="Live deployments, prompt and model ones together, oldest first; `type` says which."
    )
    next_after: str | None = Field(default=None, description=NEXT_AFTER)


class DeploymentMetricsOut(ResponseModel):
    deployment_id: str = Field(description="The model deployment.")
    as_of: str = Field(description="The end of every window (ISO-8601, UTC).")
    windows: dict[str, dict[str, dict[str, Any]]] = Field(
        description="By window (`5m`, `1h`, `24h`) then variant (stable, canary, shadow) that served in it: "
        "`requests`, `errors`, `error_rate_pct`, `rows` and `latency_ms` (`mean`, `p50`, `p95`, `p99`; "
        "null without requests)."
    )


class BatchJobOut(ResponseModel):
    id: str = Field(description="The job's id (`bat_...`).")
    deployment_id: str = Field(description="The model deployment that scores.")
    project_id: str = Field(description="The project it belongs to.")
    dataset_id: str = Field(description="The dataset whose examples' `input` objects are scored.")
    dataset_hash: str | None = Field(description="The dataset's content hash when scored; null if unknown.")
    model_version_id: str = Field(description="The stable version that scored it.")
    status: str = Field(description="`Running`, `Completed` or `Failed`.")
    created_at: str = Field(description="When it started (ISO-8601, UTC).")
    created_by: str = Field(description="Who started it.")
    rows: int = Field(description="Examples scored.")
    errors: int = Field(description="Examples that did not fit the model's signature (their line says why).")
    output_key: str = Field(
        description="Where the output lies: one JSON line per example (`id`, `prediction` or `error`)."
    )
    seconds: float | None = Field(default=None, description="How long scoring took; once completed.")
    rows_per_s: float | None = Field(default=None, description="Rows scored per second; once completed.")
    ended_at: str | None = Field(default=None, description="When it ended; null while running.")
    failure_reason: str | None = Field(default=None, description="Why it failed; only when `Failed`.")
