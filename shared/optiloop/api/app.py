"""The FastAPI app factory: all routers for `optiloop serve`, a subset for each Lambda.

`create_app` takes ready Deps so tests and Lambdas choose the adapters; without them it asks
`optiloop.runtime` (the one module that imports adapters) to build them from the settings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fastapi import APIRouter, FastAPI

from optiloop import __version__
from optiloop.api.errors import install_error_handlers
from optiloop.api.middleware import RequestGuard
from optiloop.api.routers import audit, constraints, coverage, health, ingest, keys, projects, suggest
from optiloop.config import Settings
from optiloop.testopt.deps import Deps

log = logging.getLogger("optiloop.api")

ROUTERS: dict[str, APIRouter] = {
    "health": health.router,
    "projects": projects.router,
    "constraints": constraints.router,
    "suggest": suggest.router,
    "ingest": ingest.router,
    "coverage": coverage.router,
    "audit": audit.router,
    "keys": keys.router,
}

DESCRIPTION = """Closed optimisation loops as a service: **suggest → run → ingest → learn**.

Every route except `GET /v1/healthz` needs an API key:
`Authorization: Bearer olk_...` or `x-api-key: olk_...`.
Errors look like `{"error": {"code", "message", "details": [{"field", "reason", "hint"}], "request_id"}}`.
"""


def create_app(
    deps: Deps | None = None, settings: Settings | None = None, routers: Sequence[str] | None = None
) -> FastAPI:
    settings = settings or Settings.from_env()
    names = list(ROUTERS) if routers is None else list(routers)
    unknown = [n for n in names if n not in ROUTERS]
    if unknown:
        raise ValueError(f"unknown routers {unknown}; choose from {sorted(ROUTERS)}")
    if deps is None:
        from optiloop.runtime import build_deps  # adapters load only when the caller brought none

        deps = build_deps(settings)
    if settings.admin_token:
        from optiloop.auth.bootstrap import ensure_first_key

        ensure_first_key(deps, settings.admin_token, generate=False)

    # strict_content_type=False: a client that forgets `Content-Type: application/json` still gets its
    # body parsed. Auth is by header, never by cookie, so this opens no cross-site request forgery.
    app = FastAPI(title="OptiLoop", version=__version__, description=DESCRIPTION, strict_content_type=False)
    app.state.deps = deps
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)
    for name in names:
        app.include_router(ROUTERS[name])
    return app
