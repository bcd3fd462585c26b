"""runs:ingest — idempotent resends, immutable runs, per-item rejection, all-or-nothing writes."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def ingest(api: Api, pid: str, runs: list[dict[str, Any]], headers: dict | None = None) -> Any:
    return api.client.post(
        f"/v1/projects/{pid}/runs:ingest", headers=headers or api.admin, json={"runs": runs}
    )


def run(tid: str, buckets: list[int] | None = None, **kw: Any) -> dict[str, Any]:
    return {
        "test_id": tid,
        "status": "pass",
        "duration_ms": 12.5,
        "cost_cents": 1.0,
        "failure_severity": 0,
        "coverage_delta": {"buckets_hit": buckets or []},
        **kw,
    }


def stored_runs(api: Api, pid: str) -> int:
    return len(api.deps.store.runs.list_since(pid, 0))


def test_accepts_runs_and_counts_new_buckets(api: Api) -> None:
    pid = api.project()
    t = api.add_tests(pid, 3)
    r = ingest(
        api, pid, [run(t[0], [1, 2, 3]), run(t[1], [3, 4]), run(t[2], [], status="fail", failure_severity=4)]
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 3, "duplicates": 0, "rejected": [], "new_buckets": 4, "total_buckets": 4}
    runs = api.deps.store.runs.list_since(pid, 0)
    assert [x.seq for x in runs] == [1, 2, 3]
    assert [x.new_buckets for x in runs] == [3, 1, 0]
    t2 = api.add_tests(pid, 1)
    r = ingest(api, pid, [run(t2[0], [4, 5, 6])])
    assert r.json()["new_buckets"] == 2 and r.json()["total_buckets"] == 6
    assert api.deps.store.runs.list_since(pid, 3)[0].seq == 4


def test_contributor_can_ingest_and_is_audited(api: Api) -> None:
    pid = api.project()
    t = api.add_tests(pid, 1)
    r = ingest(api, pid, [run(t[0], [1])], headers=api.key("contributor", pid, principal="runner-7"))
    assert r.status_code == 200
    rec = [x for x in api.deps.store.audit.list(project_id=pid) if x.action == "runs.ingested"]
    assert len(rec) == 1 and rec[0].principal == "runner-7" and rec[0].details["accepted"] == 1


def test_identical_resend_is_a_duplicate_and_stores_nothing(api: Api) -> None:
    pid = api.project()
    t = api.add_tests(pid, 2)
    batch = [run(t[0], [1, 2]), run(t[1], [3])]
    assert ingest(api, pid, batch).json()["accepted"] == 2
    audits = api.audit_count()
    again = [run(t[0], [2, 1, 2]), run(t[1], [3])]  # bucket order and repeats do not change the fingerprint
    r = ingest(api, pid, again)
    assert r.status_code == 200
    assert r.json() == {"accepted": 0, "duplicates": 2, "rejected": [], "new_buckets": 0, "total_buckets": 3}
    assert stored_runs(api, pid) == 2
    assert api.audit_count() == audits


def test_duplicates_within_one_request_count_once(api: Api) -> None:
    pid = api.project()
    t = api.add_tests(pid, 1)
    r = ingest(api, pid, [run(t[0], [1]), run(t[0], [1]), run(t[0], [1])])
    assert r.json()["accepted"] == 1 and r.json()["duplicates"] == 2
    assert stored_runs(api, pid) == 1


def test_a_different_second_run_is_rejected(api: Api) -> None:
    pid = api.project()
    t = api.add_tests(pid, 2)
    ingest(api, pid, [run(t[0], [1])])
    r = ingest(api, pid, [run(t[0], [1], status="fail", failure_severity=5), run(t[1], [2])])
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == 1
    assert body["rejected"] == [
        {
            "index": 0,
            "test_id": t[0],
            "field": "runs[0].test_id",
            "reason": "the test already has a run; runs are immutable",
        }
    ]
    assert api.deps.store.runs.get_many(pid, [t[0]])[t[0]].status == "pass"
    # conflicting reports inside one request: the first wins, the second is rejected
    t3 = api.add_tests(pid, 1)[0]
    r = ingest(api, pid, [run(t3, [9]), run(t3, [8])])
    assert r.json()["accepted"] == 1 and r.json()["rejected"][0]["index"] == 1


def test_partial_acceptance_names_each_rejected_item(api: Api) -> None:
    pid, other = api.project("a"), api.project("b")
    mine = api.add_tests(pid, 2)
    theirs = api.add_tests(other, 1)
    r = ingest(api, pid, [run(mine[0], [1]), run("tst_unknown"), run(theirs[0], [2]), run(mine[1], [3])])
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == 2 and body["new_buckets"] == 2
    assert [(x["index"], x["test_id"], x["field"]) for x in body["rejected"]] == [
        (1, "tst_unknown", "runs[1].test_id"),
        (2, theirs[0], "runs[2].test_id"),
    ]
    assert stored_runs(api, pid) == 2 and stored_runs(api, other) == 0


def test_nothing_valid_is_422_and_nothing_is_stored(api: Api) -> None:
    pid, other = api.project("a"), api.project("b")
    theirs = api.add_tests(other, 1)
    before = api.audit_count()
    r = ingest(api, pid, [run("tst_nope"), run(theirs[0])])
    assert r.status_code == 422
    err = r.json()["error"]
    assert [d["field"] for d in err["details"]] == ["runs[0].test_id", "runs[1].test_id"]
    assert [d["index"] for d in err["details"]] == [0, 1]
    assert stored_runs(api, pid) == 0 and stored_runs(api, other) == 0
    assert api.audit_count() == before


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"status": "passed"}, "body.runs[0].status"),
        ({"status": None}, "body.runs[0].status"),
        ({"failure_severity": 11}, "body.runs[0].failure_severity"),
        ({"failure_severity": -1}, "body.runs[0].failure_severity"),
        ({"failure_severity": 2.5}, "body.runs[0].failure_severity"),
        ({"failure_severity": "3"}, "body.runs[0].failure_severity"),
        ({"duration_ms": -1}, "body.runs[0].duration_ms"),
        ({"cost_cents": -0.01}, "body.runs[0].cost_cents"),
        ({"coverage_delta": {"buckets_hit": [-1]}}, "body.runs[0].coverage_delta.buckets_hit[0]"),
        ({"coverage_delta": {"buckets_hit": [2**63]}}, "body.runs[0].coverage_delta.buckets_hit[0]"),
        ({"coverage_delta": {"buckets_hit": [1.5]}}, "body.runs[0].coverage_delta.buckets_hit[0]"),
        ({"coverage_delta": {"buckets_hit": [""]}}, "body.runs[0].coverage_delta.buckets_hit[0]"),
        ({"coverage_delta": {"buckets_hit": ["é" * 257]}}, "body.runs[0].coverage_delta.buckets_hit[0]"),
        ({"coverage_delta": {"buckets_hit": ["a\u0000b"]}}, "body.runs[0].coverage_delta.buckets_hit[0]"),
        ({"coverage_delta": {"buckets_hit": ["x.py:1\u202e"]}}, "body.runs[0].coverage_delta.buckets_hit[0]"),
        ({"coverage_delta": {"buckets_hit": [True]}}, "body.runs[0].coverage_delta.buckets_hit[0]"),
        ({"coverage_delta": {"coverage_py": {"files": []}}}, "body.runs[0].coverage_delta.coverage_py"),
        (
            {"coverage_delta": {"coverage_py": {"files": {"a.py": {"executed_lines": ["1"]}}}}},
            "body.runs[0].coverage_delta.coverage_py",
        ),
        ({"coverage_delta": {"buckets_hit": list(range(10_001))}}, "body.runs[0].coverage_delta.buckets_hit"),
        ({"coverage_delta": {"buckets": [1]}}, "body.runs[0].coverage_delta.buckets"),
        ({"test_id": 5}, "body.runs[0].test_id"),
        ({"test_id": ""}, "body.runs[0].test_id"),
        ({"test_id": "tst_1\u202e"}, "body.runs[0].test_id"),
        ({"extra": 1}, "body.runs[0].extra"),
    ],
)
def test_out_of_range_values_are_422_naming_the_field(api: Api, patch: dict, field: str) -> None:
    pid = api.project()
    t = api.add_tests(pid, 2)
    r = ingest(api, pid, [{**run(t[0], [1]), **patch}, run(t[1], [2])])
    assert r.status_code == 422, r.text
    assert field in api.error_fields(r)
    assert stored_runs(api, pid) == 0


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_durations_are_refused(api: Api, value: str) -> None:
    pid = api.project()
    t = api.add_tests(pid, 1)
    raw = '{"runs": [{"test_id": "' + t[0] + '", "status": "pass", "duration_ms": ' + value + "}]}"
    r = api.client.post(f"/v1/projects/{pid}/runs:ingest", headers=api.admin, content=raw)
    assert r.status_code == 422, r.text
    assert api.error_fields(r) == ["body.runs[0].duration_ms"]
    assert stored_runs(api, pid) == 0


@pytest.mark.parametrize(("runs", "field"), [([], "body.runs"), (None, "body.runs")])
def test_empty_or_missing_runs(api: Api, runs: Any, field: str) -> None:
    pid = api.project()
    r = api.client.post(f"/v1/projects/{pid}/runs:ingest", headers=api.admin, json={"runs": runs})
    assert r.status_code == 422 and field in api.error_fields(r)


def test_at_most_1000_runs_per_request(settings: Any, api: Api) -> None:
    pid = api.project()
    r = ingest(api, pid, [{"test_id": "t", "status": "pass"}] * 1001)
    assert r.status_code == 422
    assert "body.runs" in api.error_fields(r)


def test_list_tests_by_status(api: Api) -> None:
    pid = api.project()
    t = api.add_tests(pid, 4)
    ingest(api, pid, [run(t[1], [1]), run(t[3], [2], status="fail", failure_severity=2)])
    get = lambda q: api.client.get(f"/v1/projects/{pid}/tests{q}", headers=api.admin).json()  # noqa: E731
    assert [x["id"] for x in get("")["items"]] == t
    assert [x["id"] for x in get("?status=pending")["items"]] == [t[0], t[2]]
    ran = get("?status=ran")["items"]
    assert [x["id"] for x in ran] == [t[1], t[3]] and ran[1]["run"]["failure_severity"] == 2
    page = get("?limit=2")
    assert len(page["items"]) == 2 and page["next_after_seq"] == 2
    assert [x["id"] for x in get("?after_seq=2")["items"]] == t[2:]
    bad = api.client.get(f"/v1/projects/{pid}/tests?status=done", headers=api.admin)
    assert bad.status_code == 422 and api.error_fields(bad) == ["query.status"]
    assert math.isclose(ran[0]["run"]["cost_cents"], 1.0)


def test_concurrent_resends_store_each_run_once(api: Api) -> None:
    """Runners retry in parallel: however the requests interleave, each run lands exactly once."""
    from concurrent.futures import ThreadPoolExecutor

    pid = api.project()
    t = api.add_tests(pid, 30)
    batch = [run(tid, [i, i + 1]) for i, tid in enumerate(t)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: ingest(api, pid, batch).json(), range(8)))
    assert sum(r["accepted"] for r in results) == 30
    assert sum(r["duplicates"] for r in results) == 30 * 7
    assert sum(r["new_buckets"] for r in results) == 31
    runs = api.deps.store.runs.list_since(pid, 0)
    assert sorted(x.seq for x in runs) == list(range(1, 31))
    assert sum(x.new_buckets for x in runs) == 31


def test_string_buckets_and_a_coverage_py_report_count_towards_coverage(api: Api) -> None:
    """Buckets as coverage tools name them, and a `coverage json` report, over HTTP and back out."""
    pid = api.project()
    t = api.add_tests(pid, 2)
    report = {"files": {"shop/cart.py": {"executed_lines": [1, 2], "executed_branches": [[2, 9]]}}}
    r = ingest(
        api,
        pid,
        [
            run(t[0], ["shop/cart.py:1", 7]),
            {**run(t[1]), "coverage_delta": {"buckets_hit": [7], "coverage_py": report}},
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json()["total_buckets"] == 4  # cart.py:1, 7, cart.py:2, cart.py:2->9
    cov = api.client.get(f"/v1/projects/{pid}/coverage", headers=api.admin).json()
    assert cov["unique_buckets"] == 4
    runs = api.deps.store.runs.list_since(pid, 0)
    assert set(runs[1].buckets) == {7, "shop/cart.py:1", "shop/cart.py:2", "shop/cart.py:2->9"}
