"""POST /v1/projects/{id}/replay — a policy's order over the logged history, read at each budget."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import numpy as np

from optiloop.store.records import Run
from optiloop.testopt.replay import leave_future_out_order

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def _history(api: Api, n: int = 120) -> tuple[str, list[str], list[dict[str, Any]]]:
    """Logged runs in which big payloads fail, ingested worst-first: every pass, then every fail."""
    pid = api.project()
    api.constrain(pid)
    rng = random.Random(7)
    params = [
        {
            "payload_kb": rng.randint(1, 512),
            "region": rng.choice(["eu", "us"]),
            "retries": rng.randint(0, 5),
            "timeout_s": 2.0,
            "cache": rng.random() < 0.5,
        }
        for _ in range(n)
    ]
    params.sort(key=lambda p: p["payload_kb"] > 400)
    ids = api.add_tests(pid, n, params)
    runs = [
        {
            "test_id": t,
            "status": "fail" if p["payload_kb"] > 400 else "pass",
            "failure_severity": 4 if p["payload_kb"] > 400 else 0,
            "duration_ms": 10.0,
            "coverage_delta": {"buckets_hit": [p["region"], p["retries"]]},
        }
        for t, p in zip(ids, params, strict=True)
    ]
    r = api.client.post(f"/v1/projects/{pid}/runs:ingest", headers=api.admin, json={"runs": runs})
    assert r.json()["accepted"] == n
    return pid, ids, runs


def replay(api: Api, pid: str, **body: Any) -> Any:
    return api.client.post(f"/v1/projects/{pid}/replay", headers=api.key("viewer", pid), json=body)


def test_as_run_reads_the_logged_order_at_each_budget(api: Api) -> None:
    pid, _, runs = _history(api)
    fails = [r["test_id"] for r in runs if r["status"] == "fail"]
    r = replay(api, pid, policy="as_run", budgets=[10, 120 - len(fails) + 2, 500])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["replayed"] == body["of"] == 120 and body["totals"]["failures"] == len(fails)
    b10, b2, ball = body["budgets"]
    assert (b10["tests"], b10["failures"], b10["duration_ms"]) == (10, 0, 100.0)
    assert b2["failures"] == 2 and b2["failed_test_ids"] == fails[:2]
    assert ball["tests"] == 120 and ball["failure_share"] == 1.0 and ball["bucket_share"] == 1.0
    assert ball["failed_test_ids"] == fails[2:][:50]
    # the same in ms of logged test time: 10 ms each, so 105 ms is 10 tests
    ms = replay(api, pid, policy="as_run", unit="ms", budgets=[105, 1e9]).json()["budgets"]
    assert [p["tests"] for p in ms] == [10, 120]


def test_prioritize_reaches_failures_sooner_than_the_logged_order(api: Api) -> None:
    pid, _, runs = _history(api)
    n_fail = sum(r["status"] == "fail" for r in runs)
    body = replay(api, pid, policy="prioritize", budgets=[30, 60, 120], objective="failures").json()
    assert body["replan_every"] == 1 and "replayed before the last refit" in body["knows"]
    b30, b60, ball = body["budgets"]
    assert b30["as_run"]["failures"] == 0 and b60["as_run"]["failures"] == 0  # all fails come last
    assert b60["failures"] > n_fail / 2, body["budgets"]
    assert ball["failures"] == n_fail and ball["buckets"] == ball["as_run"]["buckets"]


def test_the_order_never_peeks_at_a_tests_own_outcome() -> None:
    """Changing the outcome of the j-th replayed test leaves the first j+1 picks as they were."""
    rng = np.random.default_rng(3)
    n = 80
    E = rng.random((n, 3))

    def runs(flip: int | None = None) -> list[Run]:
        out = []
        for i in range(n):
            fail = (E[i, 0] > 0.6) != (i == flip)
            out.append(
                Run(
                    f"t{i}",
                    "p",
                    i + 1,
                    "fail" if fail else "pass",
                    5.0 + 10 * E[i, 1],
                    0.0,
                    3 * fail,
                    (int(E[i, 2] * 8),),
                    0,
                    "",
                    "",
                )
            )
        return out

    order = leave_future_out_order(E, runs(), "failures")
    assert sorted(order) == list(range(n))
    for j in (0, 15, 16, 40, 79):
        flipped = leave_future_out_order(E, runs(flip=order[j]), "failures")
        assert flipped[: j + 1] == order[: j + 1], j


def test_bad_input_names_the_field(api: Api) -> None:
    pid, _, _ = _history(api, n=20)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"policy": "random", "budgets": [1]}, "policy"),
        ({"policy": "as_run", "budgets": [5, 3]}, "budgets[1]"),
        ({"policy": "as_run", "budgets": [5, 5]}, "budgets[1]"),
        ({"policy": "as_run", "budgets": [0]}, "budgets[0]"),
        ({"policy": "as_run", "budgets": [-1, 2]}, "budgets[0]"),
        ({"policy": "as_run", "budgets": [2.5]}, "budgets[0]"),
        ({"policy": "as_run", "budgets": []}, "budgets"),
        ({"policy": "as_run", "budgets": list(range(1, 1002))}, "budgets"),
        ({"policy": "as_run", "budgets": [1], "unit": "hours"}, "unit"),
        ({"budgets": [1]}, "policy"),
    ]
    for body, field in cases:
        r = replay(api, pid, **body)
        assert 400 <= r.status_code < 500, (body, r.text)
        assert field in [f.removeprefix("body.") for f in api.error_fields(r)], (field, r.text)
    # fractional budgets are fine in ms
    assert replay(api, pid, policy="as_run", unit="ms", budgets=[2.5]).status_code == 200


def test_empty_history_and_the_client(api: Api) -> None:
    pid = api.project()
    body = replay(api, pid, policy="prioritize", budgets=[5]).json()
    assert (
        body["replayed"] == 0
        and body["budgets"][0]["tests"] == 0
        and body["budgets"][0]["bucket_share"] is None
    )
    missing = api.client.post(
        "/v1/projects/prj_missing/replay", headers=api.admin, json={"policy": "as_run", "budgets": [1]}
    )
    assert missing.status_code == 404
