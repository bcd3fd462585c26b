"""HTTP Lambda for `POST /v1/decisions` and `POST /v1/feedback`: the online decision hot path (and
`GET /v1/dashboards/metrics`, on the same router: documents only).

Its own function so the decide path stays small and warm: it imports numpy, pydantic, FastAPI and
Mangum, and keeps each experiment's policy cached between invocations (`optiloop.decisions.cache`).
Like `inference` it skips the Powertools wrapper (the Tracer alone costs ~0.5 s of cold start).
Audit events of decisions are batched in memory and sealed by the next invocations' timer; the
decision and reward documents, not the events, are the record rewards and rebuilds read.
"""

from __future__ import annotations

from mangum import Mangum

from optiloop.api.app import create_app

SERVICE = "decisions"
ROUTERS = ("decisions",)

app = create_app(routers=ROUTERS)
handler = Mangum(app, lifespan="off")
