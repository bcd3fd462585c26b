"""The web console: a static, build-free browser app that talks to the same REST API.

`optiloop serve` mounts it at `/` (`mount_console`): `index.html` and ES modules under `/console/`,
all shipped in this package, so it works with no internet (no CDN, no npm, no build step). People
sign in with an API key or the configured OpenID provider and get a server-side session (an HttpOnly
cookie plus a CSRF token; `optiloop.console.session`, `optiloop.auth.sessions`); the server gives the
console no extra power: roles, four eyes and audit are the API's.

On AWS the console is left to S3 (behind CloudFront, which also forwards `/v1/*` to API Gateway so
the API stays same-origin; `infra_cdk/console.py` uploads `static/` and writes `/console-config.json`):
the Lambdas serve only `/v1` routes, and these routes are outside the routers in
`optiloop.api.app.ROUTERS`, hidden from the OpenAPI document (`include_in_schema=False`), so
`infra_cdk/routes.py` needs no line for them. There the browser runs the OIDC sign-in itself
(`static/js/oidc.js`, PKCE) and sends the ID token as a bearer credential; the sign-in page also takes
an API URL for a console pointed at an API elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"

# Everything the console loads comes from this origin; the API is same-origin too (connect-src).
# Inline style attributes are allowed for SVG charts; inline scripts are not.
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONSOLE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def mount_console(app: FastAPI) -> None:
    """`GET /` answers the console's page; `/console/*` its modules and styles."""

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def console_index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=SECURITY_HEADERS)

    from optiloop.console.session import mount_session

    mount_session(app)  # before the static mount, which would otherwise answer /console/session
    # check_dir=False: a package trimmed of these files (a Lambda bundle) still starts and answers 404
    app.mount("/console", StaticFiles(directory=STATIC, check_dir=False), name="console")
