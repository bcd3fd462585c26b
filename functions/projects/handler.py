"""HTTP Lambda for projects, their constraints, API keys, access tokens and the health check.

These routes are low-volume administration, so they share one function (one cold start, one set of
permissions on the key and project tables) instead of four.
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "projects"
ROUTERS = ("projects", "constraints", "keys", "health", "auth")

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
