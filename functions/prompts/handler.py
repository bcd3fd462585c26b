"""HTTP Lambda for prompts, their immutable versions, diffs and deployments (with rollback).

Authoring traffic: low volume, small documents, no model calls, so it gets a small function of its
own rather than sharing one with `generate`, whose permissions (Bedrock, provider secrets) an
authoring path must never hold.
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "prompts"
ROUTERS = ("prompts",)

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
