"""Bodies must be JSON: a form-encoded body (curl -d without a header) gets a 415 that says how to fix it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def test_form_encoded_body_is_refused_with_a_fix(api: Api) -> None:
    headers = {**api.admin, "content-type": "application/x-www-form-urlencoded"}
    r = api.client.post("/v1/projects", headers=headers, content=b'{"name": "p"}')
    assert r.status_code == 415
    detail = r.json()["error"]["details"][0]
    assert detail["field"] == "headers.content-type"
    assert "application/json" in detail["reason"]
    assert api.client.get("/v1/projects", headers=api.admin).json()["items"] == []


def test_json_with_charset_and_no_content_type_are_accepted(api: Api) -> None:
    r = api.client.post(
        "/v1/projects",
        headers={**api.admin, "content-type": "application/json; charset=utf-8"},
        content=b'{"name": "p"}',
    )
    assert r.status_code == 201
    r = api.client.post("/v1/projects", headers=api.admin, content=b'{"name": "q"}')
    assert r.status_code == 201
