"""Coverage report and CSV export over a known history."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def _ingest(api: Api, pid: str, runs: list[dict[str, Any]]) -> None:
    r = api.client.post(f"/v1/projects/{pid}/runs:ingest", headers=api.admin, json={"runs": runs})
    assert r.status_code == 200, r.text


def test_empty_project(api: Api) -> None:
    pid = api.project()
    c = api.client.get(f"/v1/projects/{pid}/coverage", headers=api.admin).json()
    assert c["unique_buckets"] == 0 and c["tests_run"] == 0 and c["tests_suggested"] == 0
    assert c["growth_curve"] == [[0, 0]] and c["marginal_gain_per_100"] == []
    assert c["tests_to_first_failure"] is None and c["duplicate_rate"] == 0.0
    assert c["budget_cents"] is None and c["budget_left_cents"] is None


def test_report_over_known_runs(api: Api) -> None:
    pid = api.project(budget_cents=100)
    params = [{"a": 1}, {"a": 2}, {"a": 1}, {"a": 3}, {"a": 2}]
    t = api.add_tests(pid, 5, params)
    _ingest(
        api,
        pid,
        [
            {"test_id": t[0], "status": "pass", "cost_cents": 2, "coverage_delta": {"buckets_hit": [1, 2]}},
            {
                "test_id": t[1],
                "status": "fail",
                "failure_severity": 1,
                "cost_cents": 3,
                "coverage_delta": {"buckets_hit": [2, 3]},
            },
            {"test_id": t[2], "status": "skipped", "cost_cents": 0},
            {
                "test_id": t[3],
                "status": "fail",
                "failure_severity": 7,
                "cost_cents": 5.5,
                "coverage_delta": {"buckets_hit": [9]},
            },
        ],
    )
    c = api.client.get(f"/v1/projects/{pid}/coverage", headers=api.admin).json()
    assert c["unique_buckets"] == 4
    assert (c["tests_suggested"], c["tests_run"], c["pending"]) == (5, 4, 1)
    assert c["growth_curve"] == [[0, 0], [1, 2], [2, 3], [3, 3], [4, 4]]
    assert c["marginal_gain_per_100"] == [4]
    assert c["failures_by_severity"] == {"1": 1, "7": 1}
    assert c["tests_to_first_failure"] == 2 and c["tests_to_first_severe_failure"] == 4
    assert c["duplicate_rate"] == 2 / 5
    assert c["spend_cents"] == 10.5 and c["budget_cents"] == 100 and c["budget_left_cents"] == 89.5

    r = api.client.get(f"/v1/projects/{pid}/coverage?format=csv", headers=api.admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == [
        "n",
        "test_id",
        "status",
        "failure_severity",
        "new_buckets",
        "cumulative_buckets",
        "cost_cents",
        "cumulative_cost_cents",
    ]
    assert [r["test_id"] for r in rows] == t[:4]
    assert [r["cumulative_buckets"] for r in rows] == ["2", "3", "3", "4"]
    assert [r["new_buckets"] for r in rows] == ["2", "1", "0", "1"]
    assert rows[-1]["cumulative_cost_cents"] == "10.5"


def test_growth_curve_is_capped_at_200_points(api: Api) -> None:
    pid = api.project()
    t = api.add_tests(pid, 450)
    for i in range(0, 450, 150):
        _ingest(
            api,
            pid,
            [
                {"test_id": tid, "status": "pass", "coverage_delta": {"buckets_hit": [j]}}
                for j, tid in enumerate(t[i : i + 150], start=i)
            ],
        )
    c = api.client.get(f"/v1/projects/{pid}/coverage", headers=api.admin).json()
    curve = c["growth_curve"]
    assert len(curve) <= 200 and curve[0] == [0, 0] and curve[-1] == [450, 450]
    assert [p[0] for p in curve] == sorted(p[0] for p in curve)
    assert c["marginal_gain_per_100"] == [100, 100, 100, 100, 50]


def test_bad_format_is_422(api: Api) -> None:
    pid = api.project()
    r = api.client.get(f"/v1/projects/{pid}/coverage?format=xml", headers=api.admin)
    assert r.status_code == 422 and api.error_fields(r) == ["query.format"]
