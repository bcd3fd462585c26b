"""HTTP Lambda for the model registry (models, versions, stages/aliases, rollback, history, cards)
and lineage walks.

Its own function because registration reads and writes artifacts (the `models/` prefix of the
tenant's bucket) and loads models to check them, which no other HTTP function needs; approving a
version stays in `approvals`, so this function can move stages but never approve what it moves.
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "models"
ROUTERS = ("models", "lineage")

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
