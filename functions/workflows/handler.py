"""HTTP Lambda for experiment workflow executions: start one (Step Functions runs it), read its
status and step history. Small and quick: it starts executions, it never trains or deploys itself."""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "workflows"
ROUTERS = ("workflows",)

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
