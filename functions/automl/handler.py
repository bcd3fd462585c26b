"""HTTP Lambda for AutoML: tabular dataset ingest and experiments (create, read, trials, leaderboard).

Its own function because ingest writes tables under `datasets/` and reads them back to check an
experiment's target, which no other HTTP function does; it imports numpy only. The search is not
run here (no scikit-learn or xgboost in the layers; OPTILOOP_AUTOML_RUNNER=none answers `run` with a
409 saying so) — on AWS trials are to fan out as SageMaker training jobs.
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "automl"
ROUTERS = ("automl",)

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
