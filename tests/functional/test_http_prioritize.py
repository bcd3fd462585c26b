"""tests:prioritize — an existing suite ordered for a time-boxed CI run, from the project's history."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def _learn(api: Api, pid: str, rounds: int = 4) -> None:
    """History in which big payloads fail and small ones pass."""
    for r in range(rounds):
        out = api.client.post(
            f"/v1/projects/{pid}/tests:suggest", headers=api.admin, json={"batch_size": 20, "seed": r}
        ).json()["tests"]
        runs = []
        for t in out:
            big = t["params"]["payload_kb"] > 700
            runs.append(
                {
                    "test_id": t["id"],
                    "status": "fail" if big else "pass",
                    "failure_severity": 4 if big else 0,
                    "duration_ms": 50,
                    "coverage_delta": {"buckets_hit": [t["params"]["region"], int(t["params"]["retries"])]},
                }
            )
        assert (
            api.client.post(
                f"/v1/projects/{pid}/runs:ingest", headers=api.admin, json={"runs": runs}
            ).status_code
            == 200
        )


def _case(i: int, payload: int, **kw: Any) -> dict[str, Any]:
    params = {"payload_kb": payload, "region": "eu", "retries": 1, "timeout_s": 2.0, "cache": False}
    return {"id": f"suite::test_{i}", "params": params, "duration_ms": 100.0, **kw}


def prioritize(api: Api, pid: str, headers: dict | None = None, **body: Any) -> Any:
    return api.client.post(f"/v1/projects/{pid}/tests:prioritize", headers=headers or api.admin, json=body)


def test_failure_prone_cases_come_first_with_cumulative_expectations(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    _learn(api, pid)
    cases = [_case(i, p) for i, p in enumerate([10, 900, 20, 1000, 30, 800])]
    r = prioritize(api, pid, headers=api.key("viewer", pid), tests=cases, objective="failures")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"].startswith("knn") and body["count"] == 6
    order = [o["id"] for o in body["order"]]
    assert set(order[:3]) == {"suite::test_1", "suite::test_3", "suite::test_5"}, body["order"]
    cum = [o["cumulative"] for o in body["order"]]
    assert [c["duration_ms"] for c in cum] == [100.0 * k for k in range(1, 7)]
    assert all(a["expected_failures"] <= b["expected_failures"] for a, b in itertools.pairwise(cum))
    # a time box: only what fits, in the same order
    boxed = prioritize(api, pid, tests=cases, objective="failures", budget_ms=250).json()
    assert [o["id"] for o in boxed["order"]] == order[:2]


def test_a_case_that_failed_last_time_is_not_buried(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    _learn(api, pid)
    cases = [_case(i, 10 + i) for i in range(8)]
    cases[6]["last_status"] = "fail"
    order = prioritize(api, pid, tests=cases, objective="failures").json()["order"]
    assert order[0]["id"] == "suite::test_6"


def test_without_history_novelty_decides(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    body = prioritize(api, pid, tests=[_case(0, 5), _case(1, 6), _case(2, 1000)]).json()
    assert body["model"].startswith("none") and body["count"] == 3


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"params": {"payload_kb": 5, "nope": 1}}, "tests[0].params.nope"),
        ({"params": {"payload_kb": 5000}}, "tests[0].params.payload_kb"),
        ({"params": {"payload_kb": 5.5}}, "tests[0].params.payload_kb"),
        ({"params": {"region": "mars"}}, "tests[0].params.region"),
        ({"params": {"cache": 1}}, "tests[0].params.cache"),
    ],
)
def test_bad_cases_are_422_naming_the_field(api: Api, patch: dict, field: str) -> None:
    pid = api.project()
    api.constrain(pid)
    r = prioritize(api, pid, tests=[{**_case(0, 5), **patch}])
    assert r.status_code == 422 and field in api.error_fields(r), r.text


def test_limits_and_duplicate_ids(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    r = prioritize(api, pid, tests=[_case(0, 5), _case(0, 6)])
    assert r.status_code == 422 and "tests[1].id" in api.error_fields(r)
    r = prioritize(api, pid, tests=[])
    assert r.status_code == 422 and "body.tests" in api.error_fields(r)
    r = prioritize(api, pid, tests=[{"id": "x", "params": {}}] * 10_001)
    assert r.status_code in (413, 422)  # past the body limit, or past the count limit
