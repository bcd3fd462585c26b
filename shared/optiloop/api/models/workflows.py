"""Request and response bodies of the workflow routes (the OpenAPI document shows these)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from optiloop.api.models.common import ResponseModel
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

    workflow: Literal["experiment"] = Field(
        "experiment", description="The workflow to run; `experiment` is the one."
    )
    project_id: Annotated[str, Field(min_length=1, max_length=100)]
    entry_point: Annotated[str, Field(min_length=1, max_length=100, description="training_jobs/<name>")]
    hyperparameters: dict[str, str] = Field(
        default_factory=dict, description="string -> string, passed to the training script as given"
    )
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
    min_runs: Annotated[int, Field(ge=1, le=10_000_000)] = Field(
        1, description="A `project_runs` channel needs at least this many runs, else the execution fails."
    )
    poll_seconds: Annotated[float, Field(ge=0, le=MAX_POLL_S)] = Field(
        60, description="Seconds between checks of the training job (at most an hour)."
    )
    approval_poll_seconds: Annotated[float, Field(ge=0, le=24 * 3600)] = Field(
        300, description="Seconds between checks of the approval request (at most a day)."
    )


class StepEvent(ResponseModel):
    state: str = Field(description="The state machine's state the task ran in.")
    step: str | None = Field(None, description="The step function it called, where the backend says.")
    attempt: int = Field(description="1 for the first try of the state, counting up on retries.")
    status: str = Field(description="running, succeeded or failed.")
    started_at: str | None = Field(None, description="When the attempt started (ISO-8601, UTC).")
    ended_at: str | None = Field(None, description="When it ended (ISO-8601, UTC); null while running.")
    error: dict[str, Any] | None = Field(
        None, description="A failed attempt's `Error` (its kind) and `Cause` (at most 2,000 characters)."
    )


class ExecutionOut(ResponseModel):
    id: str = Field(description="The execution's id (`wfx_...`).")
    workflow: str = Field(description="The workflow it runs (`experiment`).")
    project_id: str = Field(description="The project it runs in.")
    backend: str = Field(description="What runs it: `local` (in process) or `stepfunctions`.")
    status: Literal["RUNNING", "SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"] = Field(
        description="RUNNING until it reaches one of the terminal statuses."
    )
    started_at: str = Field(description="When it started (ISO-8601, UTC).")
    started_by: str = Field(description="The principal that started it (a person, or a monitor's retrain).")
    ended_at: str | None = Field(description="When it ended (ISO-8601, UTC); null while RUNNING.")
    current_state: str = Field(description="The state it is in now, or ended in.")
    input: dict[str, Any] = Field(description="The request it was started with, as validated.")
    error: dict[str, Any] | None = Field(description="Why it FAILED (`Error`, `Cause`); null otherwise.")
    events: list[StepEvent] = Field(description="task attempts, oldest first (the last 200)")
    visits: dict[str, int] = Field(description="how often each state was entered")
    results: dict[str, Any] = Field(
        description="each step's result: experiment, training, verdict, version, review, deployment"
    )


class ExecutionList(ResponseModel):
    items: list[ExecutionOut] = Field(description="Executions, newest first.")
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the last.")
