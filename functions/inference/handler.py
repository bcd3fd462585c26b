"""HTTP Lambda for `POST /v1/inference/{deployment_id}:predict`: the model hot path.

It imports numpy, pydantic, FastAPI and Mangum (and Powertools, as every HTTP function does); the
trees runtime is numpy, onnxruntime is imported by the first ONNX version it serves, boto3 by the
first `endpoint` version. Never scikit-learn, xgboost or torch (tests/functional/test_lambda_inference
checks the import graph and its cold import time). Predictors stay loaded while the container is warm
(`optiloop.models.serving.cache.PREDICTORS`), keyed by artifact sha256.
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "inference"
ROUTERS = ("inference",)

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
