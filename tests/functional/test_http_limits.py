"""The limits of the HTTP surface, through the app: each refusal a 4xx in the one error shape, naming
the field, never a 500, and the server's time and memory never at one request's mercy."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from optiloop.api.app import create_app
from optiloop.config import Settings

if TYPE_CHECKING:
    from tests.functional.conftest import Api

INT64_MAX = 2**63 - 1


def error(r: Any) -> dict[str, Any]:
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert {"code", "message", "details", "request_id"} <= set(err), err
    assert r.headers["x-request-id"] == err["request_id"]
    for d in err["details"]:
        assert {"field", "reason"} <= set(d), d
    return err


# --- prompt templates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["{{ 3 ** 10000000 }}", "{{ 3 ** 20000000 }}", "{{ 10 ** 5000 }}", "{{ 'a' * 500000000 }}"],
)
def test_templates_that_would_take_the_server_are_refused_in_milliseconds(
    api: Api, body: str, time_factor: float
) -> None:
    pid = api.project()
    prm = api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": "q"}).json()["id"]
    t0 = time.perf_counter()
    r = api.client.post(f"/v1/prompts/{prm}/versions", headers=api.admin, json={"body": body})
    assert time.perf_counter() - t0 < 0.5 * time_factor
    assert r.status_code == 422, r.text
    err = error(r)
    assert [d["field"] for d in err["details"]] == ["body"] and "line 1" in err["details"][0]["reason"]
    assert api.client.get(f"/v1/prompts/{prm}/versions", headers=api.admin).json()["items"] == []


def test_a_template_past_the_limits_at_render_is_a_422_from_generate(api: Api, time_factor: float) -> None:
    pid = api.project()
    prm = api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": "q"}).json()["id"]
    v = api.client.post(
        f"/v1/prompts/{prm}/versions",
        headers=api.admin,
        json={"body": "{{ 10 ** 4000 > 0 }} {{ s * n }}", "variables": {"s": "str", "n": "int"}},
    ).json()["id"]
    ok = api.client.post(
        "/v1/generate", headers=api.admin, json={"prompt_version_id": v, "variables": {"s": "ab", "n": 2}}
    )
    assert ok.status_code == 200, ok.text
    t0 = time.perf_counter()
    r = api.client.post(
        "/v1/generate", headers=api.admin, json={"prompt_version_id": v, "variables": {"s": "ab", "n": 10**9}}
    )
    assert time.perf_counter() - t0 < 0.5 * time_factor
    assert r.status_code == 422 and [d["field"] for d in error(r)["details"]] == ["body"]


# --- numeric query parameters ---------------------------------------------------------------------


def integer_query_params(client: TestClient) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, name, schema) of every integer query parameter the app documents."""
    out = []
    for path, item in client.get("/openapi.json").json()["paths"].items():
        for method, op in item.items():
            for p in op.get("parameters", []):
                schema = p["schema"]
                kinds = [schema, *schema.get("anyOf", [])]
                if p["in"] == "query" and any(k.get("type") == "integer" for k in kinds):
                    bounded = next(k for k in kinds if k.get("type") == "integer")
                    out.append((method.upper(), path, p["name"], {**schema, **bounded}))
    return out


def required_query(client: TestClient, method: str, path: str, but: str) -> dict[str, str]:
    """A placeholder for each other required query parameter of the operation (a project id, say),
    so that the one under test is the only thing wrong with the request."""
    op = client.get("/openapi.json").json()["paths"][path][method.lower()]
    return {
        p["name"]: "1" if p["schema"].get("type") == "integer" else "placeholder"
        for p in op.get("parameters", [])
        if p["in"] == "query" and p.get("required") and p["name"] != but
    }


def test_every_integer_query_parameter_has_both_bounds(api: Api) -> None:
    params = integer_query_params(api.client)
    assert len(params) >= 10
    for method, path, name, schema in params:
        assert "minimum" in schema and "maximum" in schema, (method, path, name)
        assert schema["maximum"] <= INT64_MAX, (method, path, name)


def test_every_integer_query_parameter_past_int64_is_a_422_naming_it(api: Api) -> None:
    for method, path, name, _ in integer_query_params(api.client):
        url = path.replace("{", "").replace("}", "")  # placeholder ids: the query is checked first
        for value in (str(2**63), "9" * 5000, "-1"):
            params = {**required_query(api.client, method, path, name), name: value}
            r = api.client.request(method, url, headers=api.admin, params=params)
            assert r.status_code == 422, (method, path, name, value, r.text)
            assert [d["field"] for d in error(r)["details"]] == [f"query.{name}"]


def test_after_seq_at_the_int64_edge(api: Api) -> None:
    api.project()
    r = api.client.get("/v1/audit/logs", headers=api.admin, params={"after_seq": str(2**63)})
    assert r.status_code == 422 and "query.after_seq" in r.text
    r = api.client.get("/v1/audit/logs", headers=api.admin, params={"after_seq": str(INT64_MAX)})
    assert r.status_code == 200 and r.json()["items"] == []


# --- names and identifiers ------------------------------------------------------------------------

BAD_NAMES = [
    "a\x00b",  # NUL
    "evil\u202egnp.exe",  # right-to-left override
    "a\u2066b\u2069",  # bidi isolates
    "zero\u200bwidth",
    "line\nbreak",
    "trailing\n",
    "\x1b[31mred",
    "para\u2029graph",
    "nb\u00a0space",
    "\ufeffbom",
]


def name_cases(api: Api) -> list[tuple[str, str, Any, str]]:
    """(method, url, body-with-NAME, field) for each request that names something."""
    pid = api.project("names")
    prm = api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": "q"}).json()["id"]
    return [
        ("POST", "/v1/projects", {"name": "NAME"}, "body.name"),
        ("POST", f"/v1/projects/{pid}/prompts", {"name": "NAME"}, "body.name"),
        ("POST", "/v1/api-keys", {"principal": "NAME", "role": "viewer"}, "body.principal"),
        (
            "POST",
            "/v1/api-keys",
            {"principal": "ci", "role": "viewer", "project_id": "NAME"},
            "body.project_id",
        ),
        (
            "POST",
            f"/v1/projects/{pid}/constraints",
            {"name": "NAME", "type": "hard", "json_schema": api.SPACE},
            "body.name",
        ),
        ("POST", "/v1/datasets", {"project_id": pid, "name": "NAME"}, "body.name"),
        ("POST", "/v1/deployments", {"prompt_version_id": "pv_1", "environment": "NAME"}, "body.environment"),
        ("POST", "/v1/deployments/rollback", {"prompt_id": prm, "environment": "NAME"}, "body.environment"),
        ("POST", "/v1/approvals", {"entity_type": "NAME", "entity_id": "x"}, "body.entity_type"),
        ("POST", "/v1/generate", {"project_id": pid, "prompt": {"name": "NAME"}}, "body.prompt.name"),
        ("POST", "/v1/generate", {"project_id": pid, "prompt_version_id": "NAME"}, "body.prompt_version_id"),
        ("POST", f"/v1/prompts/{prm}/versions", {"body": "x", "model": "NAME"}, "body.model"),
        ("POST", f"/v1/projects/{pid}/policies", {"name": "NAME", "rules": []}, "name"),
        ("PUT", f"/v1/projects/{pid}/policies/NAME", {"rules": []}, "path.name"),
        ("GET", "/v1/projects/NAME", None, "path.project_id"),
        ("GET", "/v1/prompts/NAME", None, "path.prompt_id"),
    ]


def test_names_refuse_control_bidi_and_invisible_characters(api: Api, deps: Any) -> None:
    # 160 refusals in a row: more than one principal's default refusal budget a minute
    api.client = limited(deps, refusals_per_minute=10_000).__enter__()
    for method, url, body, field in name_cases(api):
        for bad in BAD_NAMES:
            raw_url = url.replace("NAME", quote(bad, safe=""))
            raw = json.dumps(body).replace('"NAME"', json.dumps(bad)) if body is not None else None
            r = api.client.request(
                method,
                raw_url,
                headers={**api.admin, "content-type": "application/json"},
                content=raw,
            )
            assert r.status_code == 422, (method, url, repr(bad), r.status_code, r.text)
            err = error(r)
            assert field in [d["field"] for d in err["details"]], (method, url, repr(bad), err)
    assert [p.name for p in api.deps.store.projects.list()] == ["names"]


def test_a_lone_surrogate_is_refused_too(api: Api) -> None:
    r = api.client.post(
        "/v1/projects",
        headers={**api.admin, "content-type": "application/json"},
        content=b'{"name": "a\\ud800b"}',
    )
    assert r.status_code == 422 and [d["field"] for d in error(r)["details"]] == ["body.name"]


def test_names_in_any_script_are_fine(api: Api) -> None:
    for name in ("Café crème", "名前 テスト", "проект-1", "rocket 🚀", "a.b_c-d"):
        r = api.client.post("/v1/projects", headers=api.admin, json={"name": name})
        assert r.status_code == 201, (name, r.text)
        assert r.json()["name"] == name


def test_every_name_and_id_field_of_every_request_model_uses_the_shared_check() -> None:
    """A new request model cannot forget it: every str field called name, *_id, principal,
    environment, label, model, provider or entity_type goes through optiloop.names.check_name."""
    import inspect
    from typing import Annotated, get_args, get_origin

    from optiloop.api.models import common, constraints, generate, keys, projects, prompts
    from optiloop.names import check_name

    def checks(annotation: Any) -> bool:  # Name | None keeps its metadata inside the union
        if get_origin(annotation) is Annotated:
            return any(getattr(m, "func", None) is check_name for m in annotation.__metadata__)
        return any(checks(a) for a in get_args(annotation))

    named = {"name", "principal", "environment", "label", "model", "provider", "entity_type"}
    checked = 0
    for module in (common, constraints, generate, keys, projects, prompts):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, common.RequestModel) or cls is common.RequestModel:
                continue
            for fname, field in cls.model_fields.items():
                if fname in named or fname.endswith("_id"):
                    validators = [getattr(m, "func", None) for m in field.metadata]
                    assert check_name in validators or checks(field.annotation), f"{cls.__name__}.{fname}"
                    checked += 1
    assert checked >= 20


# --- headers and bodies ---------------------------------------------------------------------------


def test_oversized_headers_are_a_431_in_the_error_shape(api: Api) -> None:
    r = api.client.get("/v1/projects", headers={**api.admin, "x-padding": "a" * 20_000})
    assert r.status_code == 431
    err = error(r)
    assert err["code"] == "request_headers_too_large" and err["details"][0]["field"] == "headers"
    assert "OPTILOOP_MAX_HEADER_BYTES" in err["details"][0]["reason"]
    assert api.client.get("/v1/projects", headers={**api.admin, "x-padding": "a" * 8_000}).status_code == 200


def test_oversized_body_is_a_413_naming_the_setting(api: Api) -> None:
    r = api.client.post("/v1/projects", headers=api.admin, json={"name": "x", "description": "d" * 70_000})
    assert r.status_code == 413
    err = error(r)
    assert err["code"] == "payload_too_large" and "OPTILOOP_MAX_BODY_BYTES" in err["details"][0]["reason"]


# --- per-principal rate limits --------------------------------------------------------------------


def limited(deps: Any, **limits: Any) -> TestClient:
    settings = Settings(backend="memory", admin_token="test-admin-token-0123456789", **limits)
    return TestClient(create_app(deps, settings))


def test_a_principal_past_its_request_rate_gets_429_with_retry_after(api: Api, deps: Any) -> None:
    with limited(deps, rate_limit_rps=0.5, rate_limit_burst=3) as c:
        codes = [c.get("/v1/projects", headers=api.admin).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.get("/v1/projects", headers=api.admin)
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 2
        err = error(r)
        assert err["code"] == "too_many_requests" and err["details"][0]["field"] == "principal"
        assert "OPTILOOP_RATE_LIMIT_RPS" in err["details"][0]["reason"]
        # another principal has its own budget; unauthenticated requests are not counted against it
        assert c.get("/v1/projects").status_code == 401
        other = api.key("viewer", principal="someone-else")
        assert c.get("/v1/projects", headers=other).status_code == 200
        assert c.get("/v1/healthz").status_code == 200


def test_refusals_are_audited_up_to_the_principals_budget_then_429(api: Api, deps: Any) -> None:
    with limited(deps, refusals_per_minute=3) as c:
        bad = {"name": ""}
        codes = [c.post("/v1/projects", headers=api.admin, json=bad).status_code for _ in range(6)]
        assert codes == [422, 422, 422, 429, 429, 429]
        r = c.post("/v1/projects", headers=api.admin, json=bad)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        err = error(r)
        assert "OPTILOOP_REFUSALS_PER_MINUTE" in err["details"][0]["reason"] and "422" in err["message"]
        refused = deps.store.audit.list(action="request.refused", limit=100)
        throttled = deps.store.audit.list(action="request.throttled", limit=100)
        assert len(refused) == 3 and len(throttled) == 1  # one record for the whole episode
        # valid requests of the same principal still go through
        assert c.post("/v1/projects", headers=api.admin, json={"name": "ok"}).status_code == 201
