"""HTTP Lambda for `tests:suggest` and the test listing: the latency-critical path.

Besides the usual Powertools metrics it reports `SuggestLatency` (ms, every suggest call, failed
ones too: a slow 409 is still slow) and `SuggestBatchSize` (tests actually handed out, after the
budget cut), counted from the tests the use case wrote rather than by re-parsing the response.
Where a project has a registered failure surrogate, `SurrogateInUse` (1/0) and `SurrogateRecentAUC`
(its AUC on the runs it has not seen), which the tenant's SurrogateAccuracy alarm watches.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from mangum import Mangum

from functions.common.http import Event, Response, http_handler, is_route, succeeded
from functions.common.observe import WriteTally, observed
from functions.common.powertools import powertools
from functions.common.runtime import settings_from_env
from optiloop.api.app import create_app
from optiloop.runtime import build_deps
from optiloop.testopt.surrogate import trained as trained_surrogate

SERVICE = "suggest"
ROUTERS = ("suggest",)

tools = powertools(SERVICE)
tally = WriteTally()
settings = settings_from_env()
app = create_app(observed(build_deps(settings), tally), settings, routers=ROUTERS)
asgi = Mangum(app, lifespan="off")


def _report(event: Event, response: Response, elapsed_ms: float) -> None:
    if not is_route(event, "POST", "/tests:suggest"):
        return
    tools.metrics.add_metric(name="SuggestLatency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    if succeeded(response):
        tools.metrics.add_metric(name="SuggestBatchSize", unit=MetricUnit.Count, value=tally.tests)
    for check in trained_surrogate.take_reported().values():  # a registered surrogate was judged
        tools.metrics.add_metric(name="SurrogateInUse", unit=MetricUnit.Count, value=int(check.use_trained))
        if check.trained_auc is not None:
            tools.metrics.add_metric(
                name="SurrogateRecentAUC", unit=MetricUnit.NoUnit, value=check.trained_auc
            )


handler = http_handler(asgi, tools, before=tally.reset, after=_report)
