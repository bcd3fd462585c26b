"""The FastAPI app factory: all routers for `optiloop serve`, a subset for each Lambda.

`create_app` takes ready Deps so tests and Lambdas choose the adapters; without them it asks
`optiloop.runtime` (the one module that imports adapters) to build them from the settings.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Mapping, Sequence

from fastapi import APIRouter, FastAPI

from optiloop import __version__
from optiloop.api.errors import install_error_handlers
from optiloop.api.literal_paths import guard_router
from optiloop.api.middleware import RequestGuard
from optiloop.api.openapi_docs import describe_common
from optiloop.api.openapi_errors import document_errors
from optiloop.api.ratelimit import PrincipalLimits
from optiloop.api.versioning import API_VERSION, DEPRECATED, VersionHeaders, mark_deprecated
from optiloop.auth.credentials import Credentials
from optiloop.config import Settings
from optiloop.console import mount_console
from optiloop.console.apidocs import mount_api_docs
from optiloop.deps import Deps

log = logging.getLogger("optiloop.api")


class _Routers(Mapping[str, APIRouter]):
    """Router groups by name, each imported on first use: a Lambda that mounts only `ingest` never
    imports the suggest router and the numpy-heavy engine behind it, which is cold-start time."""

    def __init__(self, names: Sequence[str]) -> None:
        self._names = tuple(names)

    def __getitem__(self, name: str) -> APIRouter:
        if name not in self._names:
            raise KeyError(name)
        return importlib.import_module(f"optiloop.api.routers.{name}").router  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


ROUTERS: Mapping[str, APIRouter] = _Routers(
    (
        "health",
        "projects",
        "constraints",
        "suggest",
        "ingest",
        "coverage",
        "audit",
        "keys",
        "prompts",
        "approvals",
        "evals",
        "generate",
        "models",
        "training",
        "lineage",
        "deployments",
        "inference",
        "monitoring",
        "workflows",
        "automl",
        "webhooks",
        "auth",
        "decisions",
        "connectors",
    )
)

DESCRIPTION = """Closed optimisation loops as a service: **suggest → run → ingest → learn**.

Every route except `GET /v1/healthz`, `POST /v1/auth/token` and `GET /.well-known/jwks.json` needs a
credential: an API key (`Authorization: Bearer olk_...` or `x-api-key: olk_...`), an access token from
`POST /v1/auth/token` (OAuth2 client credentials) or an ID token of the configured OIDC issuer, each as
`Authorization: Bearer <token>`.
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

    # strict_content_type=False: a body sent with no Content-Type at all is still parsed as JSON (a
    # non-JSON type is a 415 in RequestGuard). The one cookie credential, the console's session, needs
    # its CSRF token in a header on every state-changing request (optiloop.auth.sessions), so this
    # opens no cross-site request forgery.
    # info.version is the API's version (docs/api-versioning.md); the build is an extension field
    # /docs and /redoc come from packaged assets (optiloop.console.apidocs), so they render offline
    app = FastAPI(
        title="OptiLoop",
        version=API_VERSION,
        description=DESCRIPTION,
        strict_content_type=False,
        docs_url=None,
        redoc_url=None,
    )
    if deps.models_file is None:
        deps.models_file = settings.models_file
    app.state.deps = deps
    app.state.settings = settings
    # API keys, access tokens (POST /v1/auth/token) and OIDC ID tokens: optiloop.auth.credentials
    app.state.credentials = Credentials.from_settings(
        settings.auth,
        backend=settings.backend,
        data_dir=settings.data_dir,
        endpoint_url=settings.aws_endpoint,
    )
    install_error_handlers(app)
    app.state.limits = PrincipalLimits(
        settings.rate_limit_rps, settings.rate_limit_burst, settings.refusals_per_minute
    )
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        max_predict_bytes=settings.max_predict_bytes,
        max_header_bytes=settings.max_header_bytes,
        body_timeout_s=settings.body_timeout_s,
    )
    app.add_middleware(VersionHeaders)
    app.include_router(guard_router(ROUTERS[name] for name in names))  # first: literal paths win
    for name in names:
        app.include_router(ROUTERS[name])
    mount_api_docs(app, "OptiLoop")
    if routers is None:  # the whole platform (`optiloop serve`) also serves the web console at /
        mount_console(app)
    _openapi = app.openapi

    def openapi_with_versioning() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = _openapi()
            schema["info"]["x-optiloop-build"] = __version__
            mark_deprecated(schema, DEPRECATED)
            document_errors(schema)
            describe_common(schema)  # shared meanings of path ids, limit, created_at, ...
        return app.openapi_schema  # type: ignore[return-value]  # set by _openapi

    app.openapi = openapi_with_versioning  # type: ignore[method-assign]
    return app
