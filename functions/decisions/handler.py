"""HTTP Lambda for `POST /v1/decisions` and `POST /v1/feedback`: the online decision hot path (and
`GET /v1/dashboards/metrics` and `POST /v1/experiments/{id}/ope`, on the same router: documents only).

Its own function so the decide path stays small and warm: it imports numpy, pydantic, FastAPI and
Mangum, and keeps each experiment's policy cached between invocations (`optiloop.decisions.cache`).
Like `inference` it skips the Powertools wrapper (the Tracer alone costs ~0.5 s of cold start).
Audit events of decisions are batched in memory and sealed by the next invocations' timer; the
decision and reward documents, not the events, are the record rewards and rebuilds read.

When a reward makes a drift detector fire (`optiloop.decisions.adapt`), the invocation logs one
CloudWatch embedded-metric-format line, `DriftFired` (namespace OptiLoop, dimensions service and
tenant, as Powertools would write it, without importing Powertools): the tenant's DecisionDrift alarm
watches it (infra_cdk/monitoring.py).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from mangum import Mangum

from optiloop.api.app import create_app
from optiloop.decisions import adapt

SERVICE = "decisions"
ROUTERS = ("decisions",)
NAMESPACE = "OptiLoop"

app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")


def emf(name: str, value: float, tenant: str | None) -> str:
    """One embedded-metric-format log line: CloudWatch turns it into a metric with these dimensions."""
    dims = {"service": SERVICE} | ({"tenant": tenant} if tenant else {})
    return json.dumps(
        {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": NAMESPACE,
                        "Dimensions": [list(dims)],
                        "Metrics": [{"Name": name, "Unit": "Count"}],
                    }
                ],
            },
            **dims,
            name: value,
        }
    )


def handler(event: dict[str, Any], context: Any) -> Any:
    response = asgi(event, context)
    fired = adapt.take_fired()
    if fired:
        print(emf("DriftFired", fired, os.environ.get("OPTILOOP_TENANT")), flush=True)
    return response
