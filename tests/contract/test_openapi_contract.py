"""The published API contract: nothing a client relies on disappears without two minor versions
of deprecation (docs/api-versioning.md). The snapshot is the last release's contract; after an
additive release, regenerate it with `python -m optiloop.api.versioning`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from optiloop.api.app import create_app
from optiloop.api.versioning import (
    API_VERSION,
    HEADER,
    Deprecation,
    VersionHeaders,
    breaking_changes,
    contract,
    mark_deprecated,
)
from optiloop.config import Settings
from optiloop.deps import Deps
from optiloop.store.factory import open_memory

SNAPSHOT = Path(__file__).with_name("openapi_published.json")


def _app() -> FastAPI:
    store, blobs = open_memory()
    return create_app(Deps(store=store, blobs=blobs), Settings(backend="memory"))


def test_the_published_contract_still_holds() -> None:
    published = json.loads(SNAPSHOT.read_text())
    current = contract(_app().openapi())
    assert breaking_changes(published, current) == []
    assert current["api_version"] == API_VERSION


def test_removing_a_route_or_a_field_is_caught_unless_deprecated_long_enough() -> None:
    published = {
        "api_version": "1.1",
        "operations": {
            "GET /v1/a": {"deprecated": False, "fields": ["id", "items[].name"]},
            "GET /v1/old": {"deprecated": True, "fields": ["x"]},
        },
    }
    same = {**published, "api_version": "1.2"}
    assert breaking_changes(published, same) == []
    no_field = {
        "api_version": "1.2",
        "operations": {**published["operations"], "GET /v1/a": {"fields": ["id"]}},
    }
    assert breaking_changes(published, no_field) == ["GET /v1/a: response fields removed: items[].name"]
    no_route = {"api_version": "1.2", "operations": {"GET /v1/a": published["operations"]["GET /v1/a"]}}
    assert breaking_changes(published, no_route) == [
        "GET /v1/old: removed without 2 minor versions of deprecation"
    ]
    later = {**no_route, "api_version": "1.3"}  # deprecated in 1.1, gone in 1.3: allowed
    assert breaking_changes(published, later) == []


def test_every_response_names_the_api_version() -> None:
    client = TestClient(_app())
    assert client.get("/v1/healthz").headers[HEADER] == API_VERSION
    r = client.get("/v1/projects")  # a 401 carries it too
    assert r.status_code == 401 and r.headers[HEADER] == API_VERSION
    assert client.get("/openapi.json").json()["info"]["version"] == API_VERSION


def test_a_deprecated_route_says_so_in_headers_and_in_the_openapi_document() -> None:
    dep = Deprecation(
        since="1.1",
        deprecated_at=datetime(2026, 12, 1, tzinfo=UTC),
        sunset=datetime(2027, 6, 1, tzinfo=UTC),
        successor="/v1/policies",
    )
    deprecated = {("GET", "/v1/projects/{project_id}/policies"): dep}
    app = FastAPI()

    @app.get("/v1/projects/{project_id}/policies")
    def old(project_id: str) -> dict[str, str]:
        return {"project_id": project_id}

    @app.get("/v1/policies")
    def new() -> dict[str, str]:
        return {}

    app.add_middleware(VersionHeaders, deprecated=deprecated)
    client = TestClient(app)
    r = client.get("/v1/projects/prj_1/policies")
    assert r.headers["deprecation"] == f"@{int(dep.deprecated_at.timestamp())}"
    assert r.headers["sunset"] == "Tue, 01 Jun 2027 00:00:00 GMT"
    assert r.headers["link"] == '</v1/policies>; rel="successor-version"'
    assert "deprecation" not in client.get("/v1/policies").headers
    doc = app.openapi()
    mark_deprecated(doc, deprecated)
    op = doc["paths"]["/v1/projects/{project_id}/policies"]["get"]
    assert op["deprecated"] is True and op["x-sunset"] == "2027-06-01"
