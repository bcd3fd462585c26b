"""Request and response bodies of the workflow routes (the OpenAPI document shows these)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from optiloop.workflows.steps import MAX_POLL_S, DeploySpec, Evaluation, ModelRef


class ExperimentStart(BaseModel):
    """Train `training_jobs/<entry_point>` on `inputs`, evaluate it, register it as a version of
    `model`, then, as asked, submit it for approval and deploy it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "workflow": "experiment",
                    "project_id": "proj_123",
                    "entry_point": "tabular_xgb",
                    "hyperparameters": {"num_round": "100"},
                    "inputs": {"train": {"dataset_id": "ds_456"}},
                    "model": {"name": "churn"},
                    "evaluation": {"metric": "auc", "min_value": 0.7},
                    "deploy": {"environment": "staging"},
                }
            ]
        },
    )

    workflow: Literal["experiment"] = "experiment"
    project_id: Annotated[str, Field(min_length=1, max_length=100)]
    entry_point: Annotated[str, Field(min_length=1, max_length=100, description="training_jobs/<name>")]
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    inputs: dict[str, dict[str, str]] = Field(
        description='channel -> source: {"dataset_id": ...} or {"project_runs": "<project id>"}'
    )
    model: ModelRef = Field(description="an existing model_id, or a name to find or create")
    evaluation: Evaluation
    approval: bool = Field(False, description="submit the registered version for approval")
    deploy: DeploySpec | None = Field(
        None, description="deploy after registering (production: once approved)"
    )
    promote: Literal["staging"] | None = Field(
        None, description="point the model's staging alias at the new version (no approval needed)"
    )
    min_runs: Annotated[int, Field(ge=1, le=10_000_000)] = 1
    poll_seconds: Annotated[float, Field(ge=0, le=MAX_POLL_S)] = 60
    approval_poll_seconds: Annotated[float, Field(ge=0, le=24 * 3600)] = 300


class StepEvent(BaseModel):
    state: str
    step: str | None = None
    attempt: int
    status: str
    started_at: str | None = None
    ended_at: str | None = None
    error: dict[str, Any] | None = None


class ExecutionOut(BaseModel):
    id: str
    workflow: str
    project_id: str
    backend: str
    status: Literal["RUNNING", "SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"]
    started_at: str
    started_by: str
    ended_at: str | None
    current_state: str
    input: dict[str, Any]
    error: dict[str, Any] | None
    events: list[StepEvent] = Field(description="task attempts, oldest first (the last 200)")
    visits: dict[str, int] = Field(description="how often each state was entered")
    results: dict[str, Any] = Field(
        description="each step's result: experiment, training, verdict, version, review, deployment"
    )


class ExecutionList(BaseModel):
    items: list[ExecutionOut]
    next_after: str | None
