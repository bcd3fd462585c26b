"""HTTP Lambda for AutoML connectors: create, list, read and delete where tables are read from.

Its own function because it is the one that writes connector credentials to Secrets Manager (under
the tenant's prefix, infra_cdk.functions._grant_secrets); reading through a connector is ingest's, in
the automl function. Documents only: no bucket rights.
"""

from __future__ import annotations

from mangum import Mangum

from functions.common.http import http_handler
from functions.common.powertools import powertools
from optiloop.api.app import create_app

SERVICE = "connectors"
ROUTERS = ("connectors",)

tools = powertools(SERVICE)
app = create_app(routers=ROUTERS)
asgi = Mangum(app, lifespan="off")
handler = http_handler(asgi, tools)
