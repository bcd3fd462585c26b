"""The retry rule of the SDK (optiloop.client.retry), over scripted transports: what is resent,
what is not, and how long the client waits."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from optiloop.client import (
    APIConnectionError,
    AsyncOptiLoop,
    ConflictError,
    OptiLoop,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from optiloop.client.retry import parse_retry_after

Answer = httpx.Response | Exception


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": {"code": code, "message": code, "details": [], "request_id": "req_1"}}
    return httpx.Response(status, json=body, headers=headers)


def scripted(answers: list[Answer], seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        # a fresh response each time: one object cannot be answered twice (nor by sync and async)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return handle


def client(answers: list[Answer], seen: list[httpx.Request], sleeps: list[float], **retry: float) -> OptiLoop:
    return OptiLoop(
        "http://api.test/prod",
        "k" * 20,
        transport=httpx.MockTransport(scripted(answers, seen)),
        retry=RetryPolicy(rng=random.Random(0), **retry),  # type: ignore[arg-type]
        sleep=sleeps.append,
        env={},
    )


OK = httpx.Response(200, json={"tests": [], "accepted": 1})


def test_a_429_with_retry_after_is_waited_out_then_the_post_succeeds() -> None:
    seen: list[httpx.Request] = []
    sleeps: list[float] = []
    c = client([_error(429, "too_many_requests", {"Retry-After": "2"}), OK], seen, sleeps)
    assert c.tests.suggest("prj_1", batch_size=5) == OK.json()
    assert [r.method for r in seen] == ["POST", "POST"]
    assert len(sleeps) == 1 and 2.0 <= sleeps[0] <= 3.0  # at least what the server asked, a little jitter
    assert seen[0].url.path == "/prod/v1/projects/prj_1/tests:suggest"  # the stage path is kept


def test_a_409_with_retry_after_is_contention_and_is_resent() -> None:
    seen: list[httpx.Request] = []
    sleeps: list[float] = []
    c = client([_error(409, "contended", {"Retry-After": "1"}), OK], seen, sleeps)
    assert c.projects.create("p")["accepted"] == 1
    assert len(seen) == 2 and 1.0 <= sleeps[0] <= 1.25


def test_a_409_without_retry_after_is_a_conflict_and_is_not_resent() -> None:
    seen: list[httpx.Request] = []
    c = client([_error(409, "conflict"), OK], seen, [])
    with pytest.raises(ConflictError) as e:
        c.projects.create("p")
    assert len(seen) == 1 and e.value.code == "conflict" and e.value.retry_after is None


def test_a_5xx_is_resent_only_for_idempotent_operations() -> None:
    seen: list[httpx.Request] = []
    c = client([_error(503, "unavailable"), OK], seen, [])
    with pytest.raises(ServerError):
        c.tests.suggest("prj_1")  # suggest stores tests: a resend could store a second batch
    assert len(seen) == 1
    seen.clear()
    c = client([_error(503, "unavailable"), _error(500, "internal_error"), OK], seen, [])
    assert c.runs.ingest("prj_1", [{"test_id": "t", "status": "pass"}])["accepted"] == 1  # deduplicated
    assert len(seen) == 3
    seen.clear()
    c = client([_error(502, "bad_gateway"), OK], seen, [])
    c.projects.get("prj_1")
    assert len(seen) == 2


def test_connect_errors_are_resent_for_any_call_but_a_lost_answer_only_when_idempotent() -> None:
    seen: list[httpx.Request] = []
    c = client([httpx.ConnectError("refused"), OK], seen, [])
    c.tests.suggest("prj_1")
    assert len(seen) == 2
    seen.clear()
    c = client([httpx.ReadTimeout("slow"), OK], seen, [])
    with pytest.raises(APIConnectionError) as e:
        c.tests.suggest("prj_1")
    assert len(seen) == 1 and isinstance(e.value.cause, httpx.ReadTimeout)
    seen.clear()
    c = client([httpx.ReadTimeout("slow"), OK], seen, [])
    c.runs.ingest("prj_1", [{"test_id": "t", "status": "pass"}])
    assert len(seen) == 2


def test_attempts_are_bounded_and_backoff_grows_with_jitter() -> None:
    seen: list[httpx.Request] = []
    sleeps: list[float] = []
    c = client([_error(503, "unavailable")], seen, sleeps, attempts=5, backoff_s=1.0, max_backoff_s=3.0)
    with pytest.raises(ServerError) as e:
        c.projects.list()
    assert len(seen) == 5 and len(sleeps) == 4
    for n, s in enumerate(sleeps):
        assert 0.0 <= s <= min(3.0, 2**n)
    assert e.value.request_id == "req_1"


def test_a_retry_after_longer_than_the_client_will_wait_is_raised_with_it() -> None:
    seen: list[httpx.Request] = []
    c = client([_error(429, "too_many_requests", {"Retry-After": "600"}), OK], seen, [])
    with pytest.raises(RateLimitError) as e:
        c.projects.list()
    assert len(seen) == 1 and e.value.retry_after == 600.0


def test_one_attempt_means_no_retry() -> None:
    seen: list[httpx.Request] = []
    c = client([_error(429, "too_many_requests", {"Retry-After": "1"}), OK], seen, [], attempts=1)
    with pytest.raises(RateLimitError):
        c.projects.list()
    assert len(seen) == 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:10 GMT", now=now) == 10.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_the_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(backoff_s=-1)


def test_the_async_client_follows_the_same_rule() -> None:
    seen: list[httpx.Request] = []
    sleeps: list[float] = []

    async def sleep(s: float) -> None:
        sleeps.append(s)

    answers: list[Answer] = [
        _error(429, "too_many_requests", {"Retry-After": "1"}),
        _error(409, "contended", {"Retry-After": "1"}),
        OK,
    ]

    async def run() -> None:
        async with AsyncOptiLoop(
            "http://api.test",
            "k" * 20,
            transport=httpx.MockTransport(scripted(answers, seen)),
            retry=RetryPolicy(rng=random.Random(0)),
            sleep=sleep,
            env={},
        ) as c:
            assert (await c.tests.suggest("prj_1"))["accepted"] == 1
            seen.clear()
            answers[:] = [_error(503, "unavailable"), OK]
            with pytest.raises(ServerError):
                await c.tests.suggest("prj_1")
            assert len(seen) == 1

    asyncio.run(run())
    assert len(sleeps) == 2 and all(1.0 <= s <= 1.25 for s in sleeps)
