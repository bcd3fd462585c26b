"""HTTP Lambda for webhook subscriptions, their delivery log and ping.

Its own small function: only webhook administration and the ping's one outbound request live here
(sending what events queue is the scheduled `webhook_dispatch` function's job).
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "webhooks"
ROUTERS = ("webhooks",)

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
