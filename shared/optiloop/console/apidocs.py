"""`/docs` (Swagger UI) and `/redoc` (ReDoc) from assets in this package instead of FastAPI's CDN.

FastAPI's defaults load both UIs, a favicon and Google Fonts from other hosts, so without internet
the pages were blank. The vendored bundles (`vendor/`, with their licences and versions in
`vendor/README.md`) are served under `/docs-assets/`, and a Content-Security-Policy keeps the pages
on this origin: ReDoc's footer logo, which it would fetch from its CDN, is simply not requested.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

VENDOR = Path(__file__).parent / "vendor"
ASSETS = "/docs-assets"
FAVICON = "/console/favicon.svg"

# Swagger UI's start-up is an inline script (FastAPI writes it); ReDoc runs its search in a blob worker.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def _secured(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_CSP
    page.headers["X-Content-Type-Options"] = "nosniff"
    return page


def mount_api_docs(app: FastAPI, title: str) -> None:
    """Serve the two documentation pages; `app` must be built with `docs_url=None, redoc_url=None`."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _secured(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{title} - Swagger UI",
                swagger_js_url=f"{ASSETS}/swagger-ui/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS}/swagger-ui/swagger-ui.css",
                swagger_favicon_url=FAVICON,
                # no badge from the public validator service: the page stays on this origin
                swagger_ui_parameters={"validatorUrl": None},
            )
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _secured(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{title} - ReDoc",
                redoc_js_url=f"{ASSETS}/redoc/redoc.standalone.js",
                redoc_favicon_url=FAVICON,
                with_google_fonts=False,
            )
        )

    # check_dir=False: a package trimmed of these files (a Lambda bundle) still starts and answers 404
    app.mount(ASSETS, StaticFiles(directory=VENDOR, check_dir=False), name="docs-assets")
