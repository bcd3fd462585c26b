"""What a model deployment's prediction answers (issue 12). Extra fields stay allowed
(`ResponseModel`): minor versions add fields, and a client must ignore the ones it does not know."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from optiloop.api.models.common import ResponseModel


class PredictOut(ResponseModel):
    predictions: list[dict[str, Any]] = Field(
        description="One per instance, in order: the signature's id fields echoed, then `label` and `score` "
        "(binary: the positive class's score), `probabilities` by class (multiclass), or `value` and "
        "`interval` by level (regression)."
    )
    latency_ms: float = Field(description="How long the model took, in milliseconds.")
    model_version_id: str = Field(description="The version that answered.")
    variant: str = Field(description="`stable` or `canary` (the traffic split's choice).")
    deployment_id: str = Field(description="The model deployment.")
    request_id: str = Field(description="The request's id: send it back with ground-truth labels (feedback).")
