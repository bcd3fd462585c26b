"""Request bodies of online decisions: experiments with `type` (AutoML's have `task_type`), decisions
and feedback. Cross-field rules (weights summing to 1, algorithm per type) are checked in
`optiloop.decisions.spec`, which names the field too."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from optiloop.api.models.common import Id, LongName, Name, RequestModel

Finite = Annotated[float, Field(allow_inf_nan=False)]
FeatureName = Annotated[str, Field(min_length=1, max_length=100)]
ContextValue = (
    Annotated[float, Field(allow_inf_nan=False)] | bool | Annotated[str, Field(max_length=10_000)] | None
)


class VariantIn(RequestModel):
    """`{"id", "config", "weight"}`, or the seed's shape (`{"name": "weak", "model": "m-small"}`): any
    other field is part of the variant's config."""

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)

    id: Name | None = None
    name: Name | None = None
    config: dict[str, Any] | None = None
    weight: Annotated[float, Field(gt=0, le=1)] | None = None


class MetricIn(RequestModel):
    name: Name
    kind: Literal["binary", "continuous"] = "continuous"
    direction: Literal["maximize", "minimize"] = "maximize"


class StoppingIn(RequestModel):
    alpha: Annotated[float, Field(gt=0, lt=0.5)] = 0.05
    tau: Annotated[float, Field(gt=0, le=10)] = Field(
        0.1, description="sd of the mSPRT mixing prior on the effect, in units of the metric's sd"
    )
    min_samples: Annotated[int, Field(ge=2, le=10**9)] = 100
    max_samples: Annotated[int, Field(ge=2, le=10**12)] | None = None


class ContextSpecIn(RequestModel):
    dimension: Annotated[int, Field(ge=2, le=256)] = 16
    numeric: list[FeatureName] | None = Field(None, max_length=100)
    categorical: list[FeatureName] | None = Field(None, max_length=100)
    alpha: Annotated[float, Field(ge=0, le=100)] | None = Field(
        None, description="LinUCB's exploration width"
    )
    v: Annotated[float, Field(ge=0, le=100)] | None = Field(
        None, description="linear Thompson sampling's scale"
    )
    ridge: Annotated[float, Field(gt=0, le=1e6)] | None = None


class OnlineExperimentCreate(RequestModel):
    """An online experiment: the one with `type`."""

    project_id: Id
    name: LongName
    type: Literal["AB", "Bandit", "Contextual"]
    variants: list[VariantIn] = Field(min_length=2, max_length=100)
    algorithm: Literal["split", "thompson", "ucb", "linucb", "lin_ts"] | None = None
    metric: MetricIn | None = None
    reward_weights: dict[FeatureName, Finite] | None = Field(
        None, description='composite reward weights; a name "1-x" weighs 1 - x (default: the seed\'s)'
    )
    stopping: StoppingIn | None = None
    context: ContextSpecIn | None = None
    decision_ttl_days: Annotated[float, Field(gt=0, le=400)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None


class DecisionIn(RequestModel):
    experiment_id: Id
    unit_id: Annotated[str, Field(min_length=1, max_length=200)]
    context: dict[FeatureName, ContextValue] | None = Field(None, max_length=200)


class FeedbackIn(RequestModel):
    decision_id: Id
    reward: Finite | None = None
    rewards: dict[FeatureName, Finite] | None = Field(None, max_length=50)
