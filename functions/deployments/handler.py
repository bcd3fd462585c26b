"""HTTP Lambda for `/v1/deployments`: prompt and model deployments, promote and rollback, serving
metrics and batch scoring.

Low-volume control traffic (and batch jobs, which read a dataset and write predictions under the
models/ prefix); the predict hot path is the `inference` function, so a rollout never competes with
it for concurrency. On AWS it creates SageMaker endpoints for `endpoint` models (boto3).
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "deployments"
ROUTERS = ("deployments",)

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
