"""The ingest use case called directly, as the demo and future queue workers do."""

from __future__ import annotations

import numpy as np
import pytest

from optiloop.auth.principal import OPERATOR
from optiloop.deps import Deps
from optiloop.errors import InvalidInput
from optiloop.store.records import Project, TestCase
from optiloop.testopt.ingest import RunReport, fingerprint, ingest_runs


def _project_with_tests(deps: Deps, n: int) -> tuple[str, list[str]]:
    deps.store.projects.add(Project(id="prj_a", name="a", description="", created_at="t", created_by="x"))
    tests = [
        TestCase(
            id=f"t{i}",
            project_id="prj_a",
            seq=i + 1,
            params={"x": i},
            score=0.0,
            generator="random",
            operator="uniform",
            suggestion_id="s",
            predicted_cost=0.0,
            created_at="t",
            space_version="v",
        )
        for i in range(n)
    ]
    deps.store.tests.add_many(tests)
    return "prj_a", [t.id for t in tests]


def test_numpy_scalars_are_accepted(deps: Deps) -> None:
    pid, ids = _project_with_tests(deps, 1)
    r = RunReport(
        test_id=ids[0],
        status="fail",
        duration_ms=np.float64(3.5),
        cost_cents=np.float32(1.0),
        failure_severity=np.int64(4),
        buckets_hit=list(np.array([5, 6], dtype=np.int64)),
    )
    out = ingest_runs(deps, OPERATOR, pid, [r])
    assert out["accepted"] == 1 and out["new_buckets"] == 2


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"status": "ok"}, "runs[0].status"),
        ({"failure_severity": 11}, "runs[0].failure_severity"),
        ({"failure_severity": True}, "runs[0].failure_severity"),
        ({"duration_ms": float("nan")}, "runs[0].duration_ms"),
        ({"cost_cents": float("inf")}, "runs[0].cost_cents"),
        ({"buckets_hit": [-1]}, "runs[0].coverage_delta.buckets_hit[0]"),
        ({"buckets_hit": [1, 2**63]}, "runs[0].coverage_delta.buckets_hit[1]"),
        ({"buckets_hit": ["x" * 513]}, "runs[0].coverage_delta.buckets_hit[0]"),
        ({"buckets_hit": [1.0]}, "runs[0].coverage_delta.buckets_hit[0]"),
        # more than one stored run (a DynamoDB item) holds
        ({"buckets_hit": [f"{i:04d}" + "x" * 500 for i in range(600)]}, "runs[0].coverage_delta.buckets_hit"),
    ],
)
def test_direct_callers_get_the_same_field_errors(deps: Deps, kw: dict, field: str) -> None:
    pid, ids = _project_with_tests(deps, 1)
    with pytest.raises(InvalidInput) as e:
        ingest_runs(deps, OPERATOR, pid, [RunReport(test_id=ids[0], **{"status": "pass", **kw})])
    assert [p.field for p in e.value.problems] == [field]
    assert deps.store.runs.max_seq(pid) == 0


def test_fingerprint_ignores_bucket_order_and_number_spelling() -> None:
    a = RunReport("t", "pass", 1, 2, 0, [3, 1, 3])
    b = RunReport("t", "pass", 1.0, 2.0, 0, [1, 3])
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(RunReport("t", "fail", 1, 2, 0, [1, 3]))


def test_string_buckets_count_apart_from_integers(deps: Deps) -> None:
    """'42' and 42 are two buckets; a resend with the strings in another order is a duplicate."""
    pid, ids = _project_with_tests(deps, 2)
    out = ingest_runs(deps, OPERATOR, pid, [RunReport(ids[0], "pass", buckets_hit=[42, "42", "a.py:3"])])
    assert out["new_buckets"] == 3
    again = ingest_runs(deps, OPERATOR, pid, [RunReport(ids[0], "pass", buckets_hit=["a.py:3", 42, "42"])])
    assert again["duplicates"] == 1 and again["total_buckets"] == 3
    out = ingest_runs(deps, OPERATOR, pid, [RunReport(ids[1], "pass", buckets_hit=["a.py:3", "a.py:4"])])
    assert out["new_buckets"] == 1 and out["total_buckets"] == 4


def test_coverage_py_report_becomes_line_and_branch_buckets(deps: Deps) -> None:
    report = {
        "meta": {"format": 3, "branch_coverage": True},
        "files": {"shop/cart.py": {"executed_lines": [1, 2, 5], "executed_branches": [[2, 5], [5, -1]]}},
    }
    r = RunReport.from_outcome("t", {"status": "pass", "coverage_delta": {"coverage_py": report}})
    assert set(r.buckets_hit) == {
        "shop/cart.py:1",
        "shop/cart.py:2",
        "shop/cart.py:5",
        "shop/cart.py:2->5",
        "shop/cart.py:5->-1",
    }
    with pytest.raises(InvalidInput) as e:
        RunReport.from_outcome("t", {"status": "pass", "coverage_delta": {"coverage_py": {"files": 3}}})
    assert [p.field for p in e.value.problems] == ["coverage_delta.coverage_py"]
