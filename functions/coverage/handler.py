"""HTTP Lambda for coverage reports (JSON and the CSV export).

Read-only, so it can run with read-only table permissions and scale apart from ingest.
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "coverage"
ROUTERS = ("coverage",)

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
