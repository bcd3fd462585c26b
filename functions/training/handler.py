"""HTTP Lambda for training jobs: start one on SageMaker, poll it, stop it, read its logs.

Its own function because it alone may create SageMaker training jobs and pass the training role
(infra_cdk/functions.py, `grant_training`); the package carries `training_jobs/` so that a job's
source bundle (and its code_version) is built from the deployed code. OPTILOOP_TRAINER=sagemaker
is set on the function, so the core's jobs use the SageMaker adapter here.
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "training"
ROUTERS = ("training",)

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
