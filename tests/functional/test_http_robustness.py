"""Hostile or broken requests get a clear 4xx in the one error shape, never a 500."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from optiloop.api.app import create_app

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def post_raw(api: Api, path: str, raw: bytes | str, **headers: str) -> Any:
    return api.client.post(
        path, headers={**api.admin, "content-type": "application/json", **headers}, content=raw
    )


@pytest.mark.parametrize("raw", [b'{"name": "x"', b"{name: 'x'}", b'{"name": "x",}', b"\xff\xfe", b"[1, 2"])
def test_malformed_json_is_400(api: Api, raw: bytes) -> None:
    r = post_raw(api, "/v1/projects", raw)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "malformed_json"
    assert api.error_fields(r) == ["body"]
    assert api.deps.store.projects.list() == []


@pytest.mark.parametrize("raw", [b"[]", b'"a string"', b"42", b"null"])
def test_json_that_is_not_an_object_is_422(api: Api, raw: bytes) -> None:
    r = post_raw(api, "/v1/projects", raw)
    assert r.status_code == 422, r.text
    assert api.error_fields(r) == ["body"]


def test_body_without_content_type_is_still_parsed(api: Api) -> None:
    r = api.client.post("/v1/projects", headers=api.admin, content=b'{"name": "x"}')
    assert r.status_code == 201, r.text


def test_huge_body_is_413_by_content_length(api: Api) -> None:
    pid = api.project()
    big = {"name": "base", "type": "hard", "json_schema": {"params": {}, "description": "x" * 100_000}}
    r = api.client.post(f"/v1/projects/{pid}/constraints", headers=api.admin, json=big)
    assert r.status_code == 413
    err = r.json()["error"]
    assert err["code"] == "payload_too_large" and str(64 * 1024) in err["message"]
    assert api.deps.store.constraints.latest(pid) == []


def test_huge_streamed_body_is_413(api: Api) -> None:
    def chunks() -> Any:
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    r = api.client.post(
        "/v1/projects", headers={**api.admin, "content-type": "application/json"}, content=chunks()
    )
    assert r.status_code == 413
    assert api.deps.store.projects.list() == []


def test_lying_content_length_is_refused(api: Api) -> None:
    r = post_raw(api, "/v1/projects", b'{"name": "x"}', **{"content-length": "abc"})
    assert r.status_code in (400, 413)


@pytest.mark.parametrize("depth", [65, 1000, 100_000])
def test_deeply_nested_json_is_400(api: Api, depth: int) -> None:
    pid = api.project()
    raw = '{"name": "base", "type": "hard", "json_schema": ' + "[" * depth + "]" * depth + "}"
    r = post_raw(api, f"/v1/projects/{pid}/constraints", raw)
    if depth * 2 > 64 * 1024:
        assert r.status_code == 413
        return
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "json_too_deep"
    assert api.deps.store.constraints.latest(pid) == []


def test_nesting_within_the_limit_and_brackets_in_strings_are_fine(api: Api) -> None:
    raw = '{"name": "' + "[" * 150 + '", "description": "' + "{" * 5000 + '"}'
    r = post_raw(api, "/v1/projects", raw)
    assert r.status_code == 201, r.text


def test_huge_integer_is_a_4xx(api: Api) -> None:
    r = post_raw(api, "/v1/projects", '{"name": "x", "budget_cents": ' + "9" * 5000 + "}")
    assert 400 <= r.status_code < 500


def test_unexpected_error_is_500_with_request_id_and_no_trace(
    api: Api, deps: Any, settings: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(deps, settings)

    def boom(*a: Any, **k: Any) -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(deps.store.projects, "list", boom)
    with (
        caplog.at_level(logging.ERROR, logger="optiloop.api"),
        TestClient(app, raise_server_exceptions=False) as c,
    ):
        r = c.get("/v1/projects", headers=api.admin)
    assert r.status_code == 500
    err = r.json()["error"]
    assert err["code"] == "internal_error" and err["request_id"].startswith("req_")
    assert r.headers["x-request-id"] == err["request_id"]
    assert "secret" not in r.text and "Traceback" not in r.text
    assert any(err["request_id"] in rec.getMessage() for rec in caplog.records)


def test_every_response_carries_a_request_id(api: Api) -> None:
    assert api.client.get("/v1/healthz").headers["x-request-id"].startswith("req_")
    r = api.client.get("/v1/projects")
    assert r.json()["error"]["request_id"] == r.headers["x-request-id"]


def test_wrong_method_is_405_in_the_error_shape(api: Api) -> None:
    r = api.client.put("/v1/projects", headers=api.admin, json={})
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_405_allow_names_every_method_served_at_the_path(api: Api) -> None:
    # GET and POST /v1/projects are two routes; Starlette's Allow named only the first one it matched
    r = api.client.options("/v1/projects", headers=api.admin)
    assert r.status_code == 405
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "POST"}
    r = api.client.put("/v1/api-keys", headers=api.admin, json={})
    assert {"GET", "POST"} <= {m.strip() for m in r.headers["allow"].split(",")}


def test_openapi_documents_every_route_without_a_key(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert "/v1/projects/{project_id}/tests:suggest" in spec["paths"]
    assert "/v1/projects/{project_id}/runs:ingest" in spec["paths"]
    assert api.client.get("/docs").status_code == 200


def test_a_literal_path_is_its_literal_routes_alone(api: Api) -> None:
    """`/v1/evals/run` is not the eval run "run": GET there is a 405 naming POST only (it was a 404
    from GET /v1/evals/{eval_run_id}, and OPTIONS said `Allow: GET, HEAD, POST`); the parameter
    routes still serve their ids."""
    for method, path in (
        ("GET", "/v1/evals/run"),
        ("OPTIONS", "/v1/evals/run"),
        ("DELETE", "/v1/datasets/ingest"),
        ("GET", "/v1/deployments/rollback"),
        ("GET", "/v1/monitoring/monitors/mon_1:run"),
    ):
        r = api.client.request(method, path, headers=api.admin)
        assert r.status_code == 405 and r.headers["allow"] == "POST", (method, path, r.text)
        assert r.json()["error"]["code"] == "method_not_allowed"
    r = api.client.get("/v1/evals/ev_0190c3a4b5f600000001", headers=api.admin)
    assert r.status_code == 404 and api.error_fields(r) == ["eval_run_id"], r.text
    r = api.client.put("/v1/datasets/ds_1", headers=api.admin, json={})
    assert r.status_code == 405 and {"GET", "DELETE"} <= set(r.headers["allow"].split(", "))
