"""HTTP Lambda for golden-set datasets (JSON or JSON Lines uploads) and synchronous evaluation runs.

An evaluation renders, calls a model and scores every example (up to 1,000, twice when it compares
with the deployed version) inside one request, so this function has the long timeout and the CPU
of the group; see infra_cdk/README.md for how that meets API Gateway's 29 s integration limit.
It reports `EvalRunLatency` (ms, every `POST /v1/evals/run`) so runs creeping towards that limit
show on the dashboard before clients start seeing 504s.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from mangum import Mangum

from functions.common.http import Event, Response, http_handler, is_route
from functions.common.powertools import powertools
from functions.common.provider_keys import load_provider_keys
from optiloop.api.app import create_app

SERVICE = "evals"
ROUTERS = ("evals",)

tools = powertools(SERVICE)
load_provider_keys()
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")


def _report(event: Event, response: Response, elapsed_ms: float) -> None:
    if is_route(event, "POST", "/v1/evals/run"):
        tools.metrics.add_metric(name="EvalRunLatency", unit=MetricUnit.Milliseconds, value=elapsed_ms)


handler = http_handler(asgi, tools, after=_report)
