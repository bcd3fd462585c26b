"""HTTP Lambda for `runs:ingest`: outcomes come back and coverage grows.

Reports what the loop is for, per accepted request: `RunsIngested`, `CoverageNewBuckets` (buckets
no earlier run of the project had hit), `FailuresFound` and `NovelFailuresFound` (failures that also
hit new buckets). Counted from the runs the use case wrote, so resends and rejected runs never count.
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import Event, Response, http_handler, is_route, succeeded
from functions.common.metrics import add_ingest_metrics
from functions.common.observe import WriteTally, observed
from functions.common.powertools import powertools
from functions.common.runtime import settings_from_env
from optiloop.api.app import create_app
from optiloop.runtime import build_deps

SERVICE = "ingest"
ROUTERS = ("ingest",)

tools = powertools(SERVICE)
tally = WriteTally()
settings = settings_from_env()
app = create_app(observed(build_deps(settings), tally), settings, routers=ROUTERS)
asgi = Mangum(app, lifespan="off")


def _report(event: Event, response: Response, elapsed_ms: float) -> None:
    if is_route(event, "POST", "/runs:ingest") and succeeded(response):
        add_ingest_metrics(tools.metrics, tally)


handler = http_handler(asgi, tools, before=tally.reset, after=_report)
