"""The console's and the API docs' static routes, in process (no browser: tests/e2e/test_console.py
drives them in Chromium where one is installed)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from optiloop.api.app import create_app
from optiloop.config import Settings
from optiloop.console import STATIC
from optiloop.deps import Deps

SETTINGS = Settings(backend="memory")
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


def test_console_page_and_modules_are_served_with_a_same_origin_policy(deps: Deps) -> None:
    client = TestClient(create_app(deps, SETTINGS))
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "script-src 'self';" in page.headers["content-security-policy"]  # no inline scripts
    assert not EXTERNAL.search(page.text)
    js = client.get("/console/js/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert client.head("/").status_code == 200
    missing = client.get("/console/js/nope.js")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_docs_pages_load_packaged_assets_only(deps: Deps) -> None:
    client = TestClient(create_app(deps, SETTINGS))
    for path in ("/docs", "/redoc"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert not EXTERNAL.search(r.text), path
        assert "fonts.googleapis" not in r.text and "cdn." not in r.text, path
        assert "default-src 'self'" in r.headers["content-security-policy"], path
        for asset in re.findall(r"""(?:src|href)="(/docs-assets/[^"]+)""", r.text):
            assert client.get(asset).status_code == 200, asset
    assert '"validatorUrl": null' in client.get("/docs").text


def test_static_routes_stay_out_of_the_openapi_document_and_the_lambdas(deps: Deps) -> None:
    paths = set(create_app(deps, SETTINGS).openapi()["paths"])
    # the API, and the token service's published keys (a standard location, outside /v1)
    assert all(p.startswith("/v1/") or p == "/.well-known/jwks.json" for p in paths), paths
    lambda_app = TestClient(create_app(deps, SETTINGS, routers=["health", "projects"]))
    assert lambda_app.get("/").status_code == 404  # on AWS the console is static hosting's
    assert lambda_app.get("/docs").status_code == 200


def test_every_module_the_console_imports_is_in_the_package() -> None:
    js = STATIC / "js"
    for module in js.rglob("*.js"):
        for target in re.findall(r"""from\s+["'](\.[^"']+)["']""", module.read_text()):
            assert (module.parent / target).resolve().is_file(), (module.name, target)
    pages = re.findall(r'\["/[^"]*", "([a-z]+)"', (js / "app.js").read_text())
    assert len(pages) >= 12
    for page in pages:
        assert (js / "pages" / f"{page}.js").is_file(), page
    assert Path(STATIC / "index.html").is_file()
