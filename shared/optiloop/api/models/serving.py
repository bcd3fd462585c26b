"""Request models of the model deployment and inference routes (the seed's deployment YAML as JSON).

Shape only: traffic that does not sum to 100, SLO names and environments are checked in the core
(`optiloop.models.serving.deployments`), so the CLI and every Lambda give the same 422."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from optiloop.api.models.common import Id, Label, RequestModel

Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class StrategyIn(RequestModel):
    type: Literal["canary", "blue_green", "shadow"] = Field(
        "canary",
        description="canary: the new version takes a share; blue_green: it stands by until promoted; "
        "shadow: it sees every request, answers none.",
    )
    traffic: dict[Label, Percent] | None = Field(
        None,
        description="`stable` and `canary` percentages summing to 100 (null: canary 90/10, blue_green "
        "100/0, shadow 0/100).",
    )


class SlosIn(RequestModel):
    latencyMsP95: Annotated[float, Field(gt=0, le=600_000, allow_inf_nan=False)] | None = Field(
        None, description="The p95 latency the deployment must keep, in ms."
    )
    errorRatePct: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] | None = Field(
        None, description="The share of failed predictions it must stay under, in percent."
    )


class ModelDeploymentCreate(RequestModel):
    model_version_id: Id = Field(description="The model version (`mv_...`) to deploy.")
    environment: Label = Field(
        description="`staging` or `production` (production only for an Approved version)."
    )
    strategy: StrategyIn | None = Field(
        None, description="How it takes over from the stable version (null: a 10% canary)."
    )
    slos: SlosIn | None = Field(
        None, description="A canary breaking these over the last 5 minutes is rolled back automatically."
    )
    capture_rate: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        0.1, description="Share of requests captured for the monitors (0-1)."
    )
    instance_type: Label | None = Field(
        None, description="Endpoint models: the SageMaker instance type (null: the default)."
    )


class ReasonIn(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "p95 latency over the SLO"}]})

    reason: Annotated[str, Field(max_length=1_000)] = Field(
        "", description="Why it is rolled back, kept in the deployment's history and the audit log."
    )


class BatchIn(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"dataset_id": "ds_0190c3a4b5f600000002"}]})

    dataset_id: Id = Field(
        description="A dataset of the deployment's project (`ds_...`); each example's `input` is scored."
    )


class PredictIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"instances": [{"age": 42, "plan": "pro"}, {"age": 23, "plan": "free"}], "key": "user-17"}
            ]
        }
    )

    instances: list[Any] = Field(
        description="1-10,000 rows to score, each an object of the serving version's inputs by name."
    )
    key: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None,
        description="Sticky routing key: the same key gets the same variant (or the OptiLoop-Routing-Key "
        "header; null: random by the traffic split).",
    )
