"""HTTP Lambda for model monitors, their alerts and label feedback (`/v1/monitoring/...`,
`POST /v1/deployments/{id}/feedback`).

Its own function, apart from serving, so the predict path never carries the monitors' reads of
whole capture windows, and the role that may publish to the alarm topic (an evaluation run now
opens alerts) is not the one that answers predictions.
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "monitoring"
ROUTERS = ("monitoring",)

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
