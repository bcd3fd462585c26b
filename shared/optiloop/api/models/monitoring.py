"""Request bodies of the monitoring routes (monitors, alert acknowledgements, label feedback).

Shapes and ranges are checked here (a 422 naming the field before any lookup); what depends on the
deployment (its inputs, its task) is checked by the core against the serving version's signature.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from optiloop.api.models.common import Id, Name, RequestModel

Threshold = Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)]


class WindowIn(RequestModel):
    """Exactly one: the last `minutes` of captured traffic, or the last `rows` captured rows."""

    minutes: Annotated[int, Field(ge=1, le=43_200)] | None = None
    rows: Annotated[int, Field(ge=30, le=50_000)] | None = None


class ScheduleIn(RequestModel):
    every_minutes: Annotated[int, Field(ge=1, le=10_080)] = 60


class ReferenceIn(RequestModel):
    """Without a training baseline: the first `rows` captured rows are the reference."""

    rows: Annotated[int, Field(ge=30, le=50_000)] = 1000


class RetrainIn(RequestModel):
    on: Literal["warning", "critical"] = "critical"
    # what the training workflow runs (entry_point, hyperparameters, inputs...); passed on as given
    training: Annotated[dict[str, Any], Field(max_length=50)] = Field(default_factory=dict)


class MonitorCreate(RequestModel):
    type: Literal["data_drift", "prediction_drift", "performance"]
    features: Annotated[list[Name], Field(min_length=1, max_length=2000)] | None = None
    metric: Literal["ks", "psi", "js", "kl", "auc", "accuracy", "rmse", "mae"] | None = None
    threshold: Threshold
    window: WindowIn | None = None
    schedule: ScheduleIn | None = None
    severity: Literal["warning", "critical"] = "warning"
    retrain: RetrainIn | None = None
    reference: ReferenceIn | None = None


class AcknowledgeIn(RequestModel):
    comment: Annotated[str, Field(max_length=2000)] = ""


class LabelIn(RequestModel):
    request_id: Id
    index: Annotated[int, Field(ge=0, le=100_000)] = 0
    label: str | int | float | bool


class FeedbackIn(RequestModel):
    labels: Annotated[list[LabelIn], Field(min_length=1, max_length=1000)]
