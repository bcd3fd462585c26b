"""HTTP Lambda for `POST /v1/inference/{deployment_id}:predict`: the model hot path.

It imports numpy, pydantic, FastAPI and Mangum only. Unlike the other HTTP functions it does not
wrap Mangum in Powertools: the Tracer alone imports aws_xray_sdk and botocore (~0.5 s of a cold
start whose budget is 1 s), and the platform's request logs, request ids and errors come from the
app itself; active tracing still records the invocation at the Lambda service level. The trees
runtime is numpy; onnxruntime is imported by the first ONNX version served, boto3 by the first
`endpoint` version. Never scikit-learn, xgboost or torch (tests/functional/test_lambda_inference.py
checks the import graph). Predictors stay loaded while the container is warm
(`optiloop.models.serving.cache.PREDICTORS`), keyed by artifact sha256.
"""

from __future__ import annotations

from mangum import Mangum

from optiloop.api.app import create_app

SERVICE = "inference"
ROUTERS = ("inference",)

app = create_app(routers=ROUTERS)
handler = Mangum(app, lifespan="off")
