"""HTTP Lambda for the audit log and its hash-chain check.

Apart from the write paths so that auditors' keys and permissions reach nothing but the log.
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "audit"
ROUTERS = ("audit",)

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
