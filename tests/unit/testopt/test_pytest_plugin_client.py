"""The pytest plugin's client and recorder without a server: retries, chunking, errors, folding."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from optiloop.testopt.pytest_plugin.client import (
    Client,
    OptiLoopAPIError,
    OptiLoopClientError,
    OptiLoopUnavailable,
)
from optiloop.testopt.pytest_plugin.recorder import Outcome, Recorder, RunNotes, clean_buckets


def client(handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float] | None = None) -> Client:
    waits = sleeps if sleeps is not None else []
    return Client(
        "https://abc.execute-api.eu-west-1.amazonaws.com/prod/",
        "olk_k",
        transport=httpx.MockTransport(handler),
        sleep=waits.append,
    )


def test_paths_join_under_a_stage_url_and_the_key_is_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(r)
        return httpx.Response(200, json={"id": "prj_1", "name": "checkout"})

    assert client(handler).find_project("prj_1").name == "checkout"
    assert seen[0].url.path == "/prod/v1/projects/prj_1"
    assert seen[0].headers["authorization"] == "Bearer olk_k"


def test_ingest_is_chunked_at_1000_and_retried_on_5xx_with_backoff() -> None:
    bodies: list[int] = []
    fail_once = iter([True])
    sleeps: list[float] = []

    def handler(r: httpx.Request) -> httpx.Response:
        if next(fail_once, False):
            return httpx.Response(503, headers={"retry-after": "2"})
        n = len(json.loads(r.content)["runs"])
        bodies.append(n)
        return httpx.Response(
            200,
            json={
                "accepted": n,
                "duplicates": 0,
                "rejected": [],
                "new_buckets": 1,
                "total_buckets": 10 + len(bodies),
            },
        )

    runs = [{"test_id": f"tst_{i}", "status": "pass"} for i in range(2500)]
    out = client(handler, sleeps).ingest("prj_1", runs)
    assert bodies == [1000, 1000, 500]
    assert out.accepted == 2500 and out.new_buckets == 3 and out.total_buckets == 13
    assert sleeps == [2.0]  # Retry-After beats the 0.25 s first backoff


def test_ingest_stays_under_the_body_limit_and_halves_a_request_the_server_finds_too_large() -> None:
    sizes: list[int] = []

    def handler(r: httpx.Request) -> httpx.Response:
        if len(r.content) > 400_000:  # a server configured below the plugin's 900 kB chunks
            return httpx.Response(413, json={"error": {"code": "payload_too_large", "message": "too big"}})
        n = len(json.loads(r.content)["runs"])
        sizes.append(n)
        return httpx.Response(200, json={"accepted": n, "duplicates": 0, "rejected": []})

    bucket_names = [f"src/checkout/module_{j}.py:{j}" for j in range(40)]  # ~1.3 kB per run
    runs = [
        {"test_id": f"tst_{i}", "status": "pass", "coverage_delta": {"buckets_hit": bucket_names}}
        for i in range(1000)
    ]
    out = client(handler).ingest("prj_1", runs)
    assert out.accepted == 1000 and sum(sizes) == 1000
    assert max(sizes) < 1000  # split by bytes, then halved on 413


def test_suggest_is_not_retried_where_the_server_may_have_stored_tests() -> None:
    calls: list[int] = []

    def handler(r: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(502)

    with pytest.raises(OptiLoopAPIError) as e:
        client(handler).suggest("prj_1", 5, {"generator": "hybrid"})
    assert len(calls) == 1 and e.value.status == 502


def test_suggest_chunks_at_500_and_keeps_the_first_seed() -> None:
    asked: list[dict] = []

    def handler(r: httpx.Request) -> httpx.Response:
        body = json.loads(r.content)
        asked.append(body)
        tests = [{"id": f"tst_{len(asked)}_{i}", "params": {"x": i}} for i in range(body["batch_size"])]
        return httpx.Response(200, json={"tests": tests, "space_version": "sp-1", "seed": 42})

    s = client(handler).suggest("prj_1", 700, {"generator": "qmc"})
    assert [a["batch_size"] for a in asked] == [500, 200]
    assert "seed" not in asked[0] and asked[1]["seed"] == 42 and len(s.tests) == 700


def test_unreachable_after_retries_and_api_errors_carry_their_details() -> None:
    sleeps: list[float] = []

    def refuse(r: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=r)

    with pytest.raises(OptiLoopUnavailable, match=r"not reachable at https://abc.*after 4 attempts"):
        client(refuse, sleeps).find_project("checkout")
    assert sleeps == [0.25, 0.5, 1.0]

    def invalid(r: httpx.Request) -> httpx.Response:
        err = {
            "code": "invalid_input",
            "message": "bad",
            "request_id": "req-1",
            "details": [{"field": "batch_size", "reason": "must be <= 500", "hint": "ask less"}],
        }
        return httpx.Response(422, json={"error": err})

    with pytest.raises(OptiLoopAPIError) as e:
        client(invalid).suggest("prj_1", 5, {})
    assert str(e.value) == (
        "POST /v1/projects/prj_1/tests:suggest -> 422 invalid_input: bad "
        "[batch_size: must be <= 500 (ask less)] (request id req-1)"
    )


def test_projects_by_name_page_through_the_listing_and_refuse_ambiguity() -> None:
    pages = {
        None: {"items": [{"id": "prj_a", "name": "x"}], "next_after": "prj_a"},
        "prj_a": {
            "items": [
                {"id": "prj_b", "name": "checkout"},
                {"id": "prj_c", "name": "dup"},
                {"id": "prj_d", "name": "dup"},
            ],
            "next_after": None,
        },
    }

    def handler(r: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[r.url.params.get("after")])

    c = client(handler)
    assert c.find_project("checkout").id == "prj_b"
    with pytest.raises(OptiLoopClientError, match="2 projects are named 'dup'"):
        c.find_project("dup")
    with pytest.raises(OptiLoopClientError, match="no project with id or name 'nope'"):
        c.find_project("nope")


def test_runs_of_one_test_fold_and_bad_buckets_are_dropped() -> None:
    rec = Recorder()
    rec.expect("prj_1", "tst_1")
    rec.expect("prj_1", "tst_2")
    rec.record("tst_1", Outcome("pass", 2.0, buckets=["a.py:1", 3]))
    rec.record("tst_1", Outcome("fail", 3.0, severity=4, cost_cents=1.5, buckets=[3, "3", "a.py:1"]))
    [run] = rec.runs_by_project()["prj_1"]
    assert run == {
        "test_id": "tst_1",
        "status": "fail",
        "duration_ms": 5.0,
        "cost_cents": 1.5,
        "failure_severity": 4,
        "coverage_delta": {"buckets_hit": ["a.py:1", 3, "3"]},
    }
    assert rec.not_run() == 1
    kept, why = clean_buckets(["ok", "", -1, True, "ok"])
    assert kept == ["ok"] and len(why) == 3
    notes = RunNotes()
    with pytest.raises(ValueError, match=r"severity must be an integer 0\.\.10"):
        notes.severity = 11
    with pytest.raises(ValueError, match="cost_cents"):
        notes.cost_cents = float("nan")
