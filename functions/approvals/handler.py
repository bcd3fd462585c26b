"""HTTP Lambda for approval requests, four-eyes decisions and the policies that gate them.

Apart from `prompts` so that the function allowed to approve (and to write policies) is a separate
deployable with its own role and logs: a bug in prompt authoring cannot approve anything.
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "approvals"
ROUTERS = ("approvals",)

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
