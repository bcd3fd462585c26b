"""What the SDK makes of answers: errors as typed exceptions, pages followed, NDJSON lines, config."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from optiloop.client import (
    APIError,
    InvalidInputError,
    NotFoundError,
    OptiLoop,
    OptiLoopClientError,
    PermissionDeniedError,
    RetryPolicy,
    ServerError,
)
from optiloop.client.config import DEFAULT_URL, resolve
from optiloop.client.request import Cursor, build, next_request


def _client(handler: Any) -> OptiLoop:
    return OptiLoop(
        "http://api.test", "k" * 20, transport=httpx.MockTransport(handler), retry=RetryPolicy(attempts=1)
    )


def test_an_error_body_becomes_an_exception_with_code_message_details_and_request_id() -> None:
    body = {
        "error": {
            "code": "invalid_input",
            "message": "json_schema.params.x.min: must be below max",
            "details": [
                {"field": "json_schema.params.x.min", "reason": "must be below max", "hint": "swap them"}
            ],
            "request_id": "req_42",
        }
    }
    c = _client(lambda r: httpx.Response(422, json=body))
    with pytest.raises(InvalidInputError) as e:
        c.constraints.add("prj_1", {"params": {}})
    err = e.value
    assert (err.status, err.code, err.request_id) == (422, "invalid_input", "req_42")
    assert err.fields == ["json_schema.params.x.min"]
    assert err.reason_for("json_schema.params.x.min") == "must be below max"
    assert err.details[0].hint == "swap them"
    assert "POST /v1/projects/prj_1/constraints -> 422 invalid_input" in str(err)


@pytest.mark.parametrize(
    ("status", "cls"),
    [(403, PermissionDeniedError), (404, NotFoundError), (500, ServerError), (418, APIError)],
)
def test_each_status_has_its_exception(status: int, cls: type[APIError]) -> None:
    c = _client(
        lambda r: httpx.Response(status, json={"error": {"code": "x", "message": "m", "details": []}})
    )
    with pytest.raises(cls):
        c.projects.get("prj_1")


def test_an_answer_that_is_not_the_api_error_shape_still_raises_with_what_there_is() -> None:
    c = _client(lambda r: httpx.Response(502, text="Bad Gateway", headers={"x-request-id": "req_gw"}))
    with pytest.raises(ServerError) as e:
        c.projects.get("prj_1")
    assert e.value.code == "error" and e.value.message == "Bad Gateway" and e.value.request_id == "req_gw"


def test_iterators_follow_the_cursor_the_page_names() -> None:
    seen: list[dict[str, str]] = []

    def handle(r: httpx.Request) -> httpx.Response:
        q = dict(r.url.params)
        seen.append(q)
        after = q.get("after")
        pages = {None: (["a", "b"], "b"), "b": (["c", "d"], "d"), "d": ([], None)}
        ids, nxt = pages[after]
        # the deprecated name still answers beside the one cursor name; the client follows `next_after`
        return httpx.Response(
            200, json={"items": [{"id": i} for i in ids], "next_after": nxt, "next_after_id": nxt}
        )

    assert [p["id"] for p in _client(handle).projects.iter(page_size=2)] == ["a", "b", "c", "d"]
    assert seen == [{"limit": "2"}, {"limit": "2", "after": "b"}, {"limit": "2", "after": "d"}]


def test_audit_pages_by_seq_for_a_project_and_by_cursor_tenant_wide() -> None:
    req = build("audit.iter", params={"limit": 2})
    cursor = Cursor(follow=(("next_after_seq", "after_seq"), ("next_after", "after")))
    page = {"items": [{}, {}], "next_after_seq": None, "next_after": "opaque"}
    nxt = next_request(req, page, cursor)
    assert nxt is not None and nxt.params == {"limit": 2, "after": "opaque"}
    page = {"items": [{}, {}], "next_after_seq": 7, "next_after": None}
    nxt = next_request(req, page, cursor)
    assert nxt is not None and nxt.params == {"limit": 2, "after_seq": 7}
    assert next_request(req, {"items": [{}], "next_after_seq": None, "next_after": None}, cursor) is None


def test_examples_and_results_page_with_the_one_cursor() -> None:
    """Examples and evaluation results page with `after`/`next_after` like every listing (they paged
    by `offset`, now a deprecated alias on the server)."""
    cursor = Cursor(follow=(("next_after", "after"),))
    req = build("datasets.iter_examples", {"dataset_id": "ds_1"}, params={"limit": 2})
    nxt = next_request(req, {"items": [{}, {}], "total": 5, "next_after": "2"}, cursor)
    assert nxt is not None and nxt.params == {"limit": 2, "after": "2"}
    assert next_request(nxt, {"items": [{}], "total": 5, "next_after": None}, cursor) is None


def test_a_streamed_error_line_is_raised_where_it_occurs() -> None:
    lines = [
        {"test": {"id": "t1", "params": {}}},
        {"error": {"code": "budget_exhausted", "message": "spent", "details": [], "status": 409}},
    ]
    body = "".join(json.dumps(x) + "\n" for x in lines)
    c = _client(lambda r: httpx.Response(200, text=body, headers={"content-type": "application/x-ndjson"}))
    got = []
    with pytest.raises(APIError) as e:
        for item in c.tests.suggest_stream("prj_1", batch_size=2):
            got.append(item)
    assert got == [lines[0]] and e.value.status == 409 and e.value.code == "budget_exhausted"


def test_a_streamed_line_that_is_not_json_says_so() -> None:
    c = _client(lambda r: httpx.Response(200, text='{"test": {}}\nnot json\n'))
    with pytest.raises(OptiLoopClientError, match="not JSON"):
        list(c.tests.suggest_stream("prj_1"))


def test_path_parameters_are_encoded_and_none_query_values_left_out() -> None:
    req = build("deployments.get", {"deployment_id": "pr_1:prod"})
    assert req.path == "v1/deployments/pr_1:prod"
    req = build("prompts.get", {"prompt_id": "a/b c"}, params={"x": None})
    assert req.path == "v1/prompts/a%2Fb%20c" and req.params == {}


def test_url_and_key_come_from_arguments_then_the_environment() -> None:
    assert resolve(env={}).base_url == DEFAULT_URL + "/"
    conn = resolve(env={"OPTILOOP_URL": "https://x.example/prod/", "OPTILOOP_API_KEY": "olk_1"})
    assert conn.base_url == "https://x.example/prod/" and conn.api_key == "olk_1"
    assert resolve("http://a", "k2", env={"OPTILOOP_API_KEY": "olk_1"}).api_key == "k2"
    assert "Authorization" not in resolve(env={}).headers()
    with pytest.raises(ValueError):
        resolve("ftp://nope", env={})


def test_the_key_travels_as_a_bearer_token() -> None:
    seen: list[httpx.Request] = []

    def handle(r: httpx.Request) -> httpx.Response:
        seen.append(r)
        return httpx.Response(200, json={"status": "ok"})

    with _client(handle) as c:
        c.health()
    assert seen[0].headers["authorization"] == "Bearer " + "k" * 20
    assert seen[0].headers["user-agent"].startswith("optiloop-python/")
