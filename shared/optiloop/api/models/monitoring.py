"""Request bodies of the monitoring routes (monitors, alert acknowledgements, label feedback).

Shapes and ranges are checked here (a 422 naming the field before any lookup); what depends on the
deployment (its inputs, its task) is checked by the core against the serving version's signature.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from optiloop.api.models.common import Id, Name, RequestModel

Threshold = Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)]


class WindowIn(RequestModel):
    """Exactly one: the last `minutes` of captured traffic, or the last `rows` captured rows."""

    minutes: Annotated[int, Field(ge=1, le=43_200)] | None = Field(
        None, description="The last this many minutes of captured traffic (at most 30 days)."
    )
    rows: Annotated[int, Field(ge=30, le=50_000)] | None = Field(
        None, description="The last this many captured rows (30-50,000)."
    )


class ScheduleIn(RequestModel):
    every_minutes: Annotated[int, Field(ge=1, le=10_080)] = Field(
        60, description="Minutes between scheduled evaluations (at most a week)."
    )


class ReferenceIn(RequestModel):
    """Without a training baseline: the first `rows` captured rows are the reference."""

    rows: Annotated[int, Field(ge=30, le=50_000)] = Field(
        1000, description="How many of the first captured rows form the reference (30-50,000)."
    )


class RetrainIn(RequestModel):
    on: Literal["warning", "critical"] = Field(
        "critical", description="Ask for retraining when an alert of this severity or above opens."
    )
    training: Annotated[dict[str, Any], Field(max_length=50)] = Field(
        default_factory=dict,
        description="What the training workflow runs (`entry_point`, `hyperparameters`, `inputs`, ...), "
        "passed on as given; with an `entry_point` the experiment workflow starts, approval forced on.",
    )


class MonitorCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "data_drift",
                    "features": ["age", "income"],
                    "metric": "psi",
                    "threshold": 0.2,
                    "window": {"minutes": 60},
                    "severity": "warning",
                },
                {
                    "type": "performance",
                    "metric": "auc",
                    "threshold": 0.8,
                    "window": {"rows": 500},
                    "schedule": {"every_minutes": 30},
                    "severity": "critical",
                    "retrain": {"on": "critical", "training": {"entry_point": "tabular_xgb"}},
                },
            ]
        }
    )

    type: Literal["data_drift", "prediction_drift", "performance"] = Field(
        description="Drift of input features, drift of the predictions, or a metric on labelled traffic "
        "(labels sent to the deployment's feedback route)."
    )
    features: Annotated[list[Name], Field(min_length=1, max_length=2000)] | None = Field(
        None,
        description="data_drift only: the inputs watched, each an input of the serving version (null: all).",
    )
    metric: Literal["ks", "psi", "js", "kl", "auc", "accuracy", "rmse", "mae"] | None = Field(
        None,
        description="Drift: ks, psi, js or kl (null: psi); performance: auc, accuracy (classifiers), rmse, "
        "mae (regressors) (null: auc).",
    )
    threshold: Threshold = Field(
        description="The alert line: drift, rmse and mae breach above it, auc and accuracy below it "
        "(ks, js, auc, accuracy at most 1)."
    )
    window: WindowIn | None = Field(
        None, description="The traffic each evaluation looks at (null: 60 minutes)."
    )
    schedule: ScheduleIn | None = Field(
        None, description="How often it is evaluated (null: every 60 minutes)."
    )
    severity: Literal["warning", "critical"] = Field(
        "warning", description="The severity of the alerts it opens."
    )
    retrain: RetrainIn | None = Field(
        None,
        description="Ask for retraining when it alerts (never promotes: the new version needs approval).",
    )
    reference: ReferenceIn | None = Field(
        None,
        description="Drift reference when the version has no training baseline (null: the first 1,000 "
        "captured rows).",
    )


class AcknowledgeIn(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"comment": "known upstream schema change"}]})

    comment: Annotated[str, Field(max_length=2000)] = Field(
        "", description="Why it is acknowledged, kept on the alert and in the audit log."
    )


class LabelIn(RequestModel):
    request_id: Id = Field(description="The `request_id` of the prediction call that served it.")
    index: Annotated[int, Field(ge=0, le=100_000)] = Field(
        0, description="Which instance of that call's `instances` (0-based)."
    )
    label: str | int | float | bool = Field(
        description="The true outcome, in the model's label type (a class or a number)."
    )


class FeedbackIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "labels": [
                        {"request_id": "req_0190c3a4b5f60000000c", "index": 0, "label": 1},
                        {"request_id": "req_0190c3a4b5f60000000c", "index": 1, "label": 0},
                    ]
                }
            ]
        }
    )

    labels: Annotated[list[LabelIn], Field(min_length=1, max_length=1000)] = Field(
        description="1-1,000 ground-truth labels; a label sent again for the same prediction replaces it."
    )
