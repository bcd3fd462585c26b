"""Inference: `POST /v1/inference/{deployment_id}:predict` with the seed's `{"instances": [...]}`.

The traffic split is OptiLoop's own (`optiloop.models.serving.split`): sticky per `key` (in the body,
or the `OptiLoop-Routing-Key` header), random without one. The shadow's prediction, the capture
sample and the metrics flush run after the response is sent (background tasks).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Request

from optiloop.api.errors import request_id_of
from optiloop.api.models.responses_inference import PredictOut
from optiloop.api.models.serving import PredictIn
from optiloop.api.params import EntityId
from optiloop.api.security import current_principal, get_deps
from optiloop.auth import Principal
from optiloop.deps import Deps
from optiloop.models.serving import inference

router = APIRouter(tags=["inference"])

RoutingKey = Annotated[
    str | None,
    Header(
        alias="OptiLoop-Routing-Key", max_length=200, description="sticky routing key (or `key` in the body)"
    ),
]


@router.post("/v1/inference/{deployment_id}:predict", response_model=PredictOut)
def predict(
    deployment_id: EntityId,
    body: PredictIn,
    request: Request,
    tasks: BackgroundTasks,
    routing_key: RoutingKey = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Predictions of the deployment's stable or canary version: per-class probabilities for a
    multiclass model, the positive class's score for a binary one, values for regression."""
    served = inference.predict(
        deps,
        who,
        deployment_id,
        body.instances,
        body.key if body.key is not None else routing_key,
        request_id=request_id_of(request) or deps.ids("req"),
    )
    tasks.add_task(served.run_after)
    return served.body
