"""RunRepo contract: one run per test (Conflict otherwise), incremental loads, SQL-side totals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from optiloop.errors import Conflict
from optiloop.store.ports import Store
from optiloop.store.records import Project, TestCase

if TYPE_CHECKING:
    from conftest import Make


@pytest.fixture
def tests5(store: Store, make: Make, project: Project) -> list[TestCase]:
    tests = [make.test(project.id, s) for s in range(1, 6)]
    store.tests.add_many(tests)
    return tests


def test_round_trip_every_field(store: Store, make: Make, project: Project, tests5: list[TestCase]) -> None:
    runs = [
        make.run(tests5[0], 1, status="pass", buckets=(), new_buckets=0, failure_severity=0),
        make.run(
            tests5[1],
            2,
            status="fail",
            duration_ms=0.5,
            cost_cents=0.01,
            failure_severity=3,
            buckets=(1, 2, 2**40, "checkout.py:42", "checkout.py:40->42", "é"),
            new_buckets=6,
            ingested_at="2025-06-07T08:09:10.111Z",
            fingerprint="sha256:abc",
        ),
        make.run(tests5[2], 3, status="skipped", cost_cents=0.0),
    ]
    store.runs.add_many(runs)
    got = store.runs.get_many(project.id, [r.test_id for r in runs])
    assert got == {r.test_id: r for r in runs}
    assert isinstance(got[runs[1].test_id].buckets, tuple)
    assert store.runs.list_since(project.id) == runs


def test_second_run_for_a_test_conflicts(
    store: Store, make: Make, project: Project, tests5: list[TestCase]
) -> None:
    first = make.run(tests5[0], 1)
    store.runs.add_many([first])
    with pytest.raises(Conflict):
        store.runs.add_many([make.run(tests5[0], 2, status="fail")])
    assert store.runs.get_many(project.id, [first.test_id]) == {first.test_id: first}


def test_conflict_writes_none_of_the_batch(
    store: Store, make: Make, project: Project, tests5: list[TestCase]
) -> None:
    store.runs.add_many([make.run(tests5[2], 1)])
    batch = [make.run(tests5[0], 2), make.run(tests5[1], 3), make.run(tests5[2], 4), make.run(tests5[3], 5)]
    with pytest.raises(Conflict):
        store.runs.add_many(batch)
    assert [r.seq for r in store.runs.list_since(project.id)] == [1]
    assert store.runs.totals(project.id)["runs"] == 1


def test_same_test_twice_in_one_batch_conflicts(
    store: Store, make: Make, project: Project, tests5: list[TestCase]
) -> None:
    with pytest.raises(Conflict):
        store.runs.add_many([make.run(tests5[0], 1), make.run(tests5[0], 2)])
    assert store.runs.max_seq(project.id) == 0


def test_duplicate_seq_conflicts(store: Store, make: Make, project: Project, tests5: list[TestCase]) -> None:
    store.runs.add_many([make.run(tests5[0], 1)])
    with pytest.raises(Conflict):
        store.runs.add_many([make.run(tests5[1], 1)])
    assert store.runs.max_seq(project.id) == 1


def test_list_since_and_max_seq(store: Store, make: Make, project: Project, tests5: list[TestCase]) -> None:
    assert store.runs.max_seq(project.id) == 0
    assert store.runs.list_since(project.id) == []
    # run seq is independent of test seq and may arrive in any order
    store.runs.add_many([make.run(tests5[4], 2), make.run(tests5[0], 3)])
    store.runs.add_many([make.run(tests5[2], 1)])
    assert [r.seq for r in store.runs.list_since(project.id)] == [1, 2, 3]
    assert [r.test_id for r in store.runs.list_since(project.id, after_seq=1)] == [tests5[4].id, tests5[0].id]
    assert store.runs.max_seq(project.id) == 3
    assert store.runs.max_seq("nope") == 0


def test_list_since_until_seq(store: Store, make: Make, project: Project, tests5: list[TestCase]) -> None:
    store.runs.add_many([make.run(t, s) for t, s in zip(tests5, (5, 1, 4, 2, 3), strict=True)])
    assert [r.seq for r in store.runs.list_since(project.id, 0, until_seq=2)] == [1, 2]
    assert [r.seq for r in store.runs.list_since(project.id, 2, until_seq=4)] == [3, 4]
    assert [r.seq for r in store.runs.list_since(project.id, 4, until_seq=99)] == [5]
    assert store.runs.list_since(project.id, 3, until_seq=3) == []


def test_get_many_only_returns_this_projects_runs(
    store: Store, make: Make, project: Project, tests5: list[TestCase]
) -> None:
    other = make.project()
    store.projects.add(other)
    their_test = make.test(other.id, 1)
    store.tests.add_many([their_test])
    store.runs.add_many([make.run(their_test, 1)])
    mine = make.run(tests5[0], 1)
    store.runs.add_many([mine])
    assert store.runs.get_many(project.id, [mine.test_id, their_test.id, "missing"]) == {mine.test_id: mine}
    assert store.runs.get_many(project.id, []) == {}


def test_totals(store: Store, make: Make, project: Project, tests5: list[TestCase]) -> None:
    assert store.runs.totals(project.id) == {"runs": 0, "cost_cents": 0.0, "failures": 0}
    store.runs.add_many(
        [
            make.run(tests5[0], 1, status="pass", cost_cents=1.5),
            make.run(tests5[1], 2, status="fail", cost_cents=2.25),
            make.run(tests5[2], 3, status="fail", cost_cents=0.0),
            make.run(tests5[3], 4, status="skipped", cost_cents=0.25),
        ]
    )
    totals = store.runs.totals(project.id)
    assert totals == {"runs": 4, "cost_cents": pytest.approx(4.0), "failures": 2}


def test_totals_are_per_project(store: Store, make: Make, project: Project, tests5: list[TestCase]) -> None:
    other = make.project()
    store.projects.add(other)
    t = make.test(other.id, 1)
    store.tests.add_many([t])
    store.runs.add_many([make.run(t, 1, status="fail", cost_cents=9.0)])
    store.runs.add_many([make.run(tests5[0], 1, cost_cents=1.0)])
    assert store.runs.totals(project.id) == {"runs": 1, "cost_cents": 1.0, "failures": 0}
    assert store.runs.totals("nope") == {"runs": 0, "cost_cents": 0.0, "failures": 0}
