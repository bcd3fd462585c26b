"""TestRepo contract: caller-supplied seq, uniqueness enforced by the store, incremental loads."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optiloop.errors import Conflict
from optiloop.store.ports import Store
from optiloop.store.records import Project

if TYPE_CHECKING:
    from conftest import Make


def test_round_trip_every_field(store: Store, make: Make, project: Project) -> None:
    t = make.test(
        project.id,
        1,
        params={"x": -1.5e-300, "big": 2**53, "s": 'ünï ✓ "q"', "nested": {"l": [1, [2, {"z": None}]]}},
        score=-0.0001,
        generator="sobol",
        operator="boundary",
        suggestion_id="sug_42",
        predicted_cost=0.0,
        created_at="2025-06-07T08:09:10.111Z",
        space_version="sv_9",
    )
    store.tests.add_many([t])
    assert store.tests.get_many(project.id, [t.id]) == {t.id: t}
    assert store.tests.list_since(project.id) == [t]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_seq = itertools.count(1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_params_json_round_trip(store: Store, make: Make, project: Project, params: dict[str, Any]) -> None:
    t = make.test(project.id, next(_seq), params=params)
    store.tests.add_many([t])
    assert store.tests.get_many(project.id, [t.id])[t.id].params == params


def test_list_since_is_ordered_by_seq_and_filters(store: Store, make: Make, project: Project) -> None:
    tests = [make.test(project.id, s) for s in (3, 1, 5, 2, 4)]
    store.tests.add_many(tests[:2])
    store.tests.add_many(tests[2:])
    assert [t.seq for t in store.tests.list_since(project.id)] == [1, 2, 3, 4, 5]
    assert [t.seq for t in store.tests.list_since(project.id, after_seq=3)] == [4, 5]
    assert store.tests.list_since(project.id, after_seq=5) == []


def test_list_since_until_seq_pages_a_range(store: Store, make: Make, project: Project) -> None:
    """`until_seq` bounds the read (paging a long history; no counter re-read on DynamoDB)."""
    store.tests.add_many([make.test(project.id, s) for s in range(1, 8)])
    assert [t.seq for t in store.tests.list_since(project.id, 0, until_seq=3)] == [1, 2, 3]
    assert [t.seq for t in store.tests.list_since(project.id, 3, until_seq=5)] == [4, 5]
    assert [t.seq for t in store.tests.list_since(project.id, 5, until_seq=100)] == [6, 7]
    assert store.tests.list_since(project.id, 4, until_seq=4) == []
    assert store.tests.list_since(project.id, 5, until_seq=2) == []
    pages, after = [], 0
    while after < 7:
        pages.append([t.seq for t in store.tests.list_since(project.id, after, until_seq=after + 3)])
        after += 3
    assert pages == [[1, 2, 3], [4, 5, 6], [7]]


def test_list_since_until_seq_inside_a_transaction_sees_own_writes(
    store: Store, make: Make, project: Project
) -> None:
    store.tests.add_many([make.test(project.id, 1)])
    with store.transaction():
        store.tests.add_many([make.test(project.id, 2), make.test(project.id, 3)])
        assert [t.seq for t in store.tests.list_since(project.id, 0, until_seq=2)] == [1, 2]
    assert [t.seq for t in store.tests.list_since(project.id, 1, until_seq=3)] == [2, 3]


def test_history_heads(store: Store, make: Make, project: Project) -> None:
    """The project and both seq heads in one read (the first thing suggest reads)."""
    heads = store.history_heads(project.id)
    assert (heads.project, heads.tests_seq, heads.runs_seq) == (project, 0, 0)
    tests = [make.test(project.id, s) for s in (1, 2, 3)]
    store.tests.add_many(tests)
    store.runs.add_many([make.run(tests[0], 1), make.run(tests[2], 2)])
    heads = store.history_heads(project.id)
    assert (heads.project, heads.tests_seq, heads.runs_seq) == (project, 3, 2)
    missing = store.history_heads("nope")
    assert (missing.project, missing.tests_seq, missing.runs_seq) == (None, 0, 0)


def test_list_since_is_per_project(store: Store, make: Make, project: Project) -> None:
    other = make.project()
    store.projects.add(other)
    store.tests.add_many([make.test(project.id, 1), make.test(project.id, 2)])
    store.tests.add_many([make.test(other.id, 1)])
    assert [t.project_id for t in store.tests.list_since(project.id)] == [project.id, project.id]
    assert len(store.tests.list_since(other.id)) == 1
    assert store.tests.list_since("nope") == []


def test_max_seq(store: Store, make: Make, project: Project) -> None:
    assert store.tests.max_seq(project.id) == 0
    store.tests.add_many([make.test(project.id, s) for s in (1, 2, 7)])
    assert store.tests.max_seq(project.id) == 7
    assert store.tests.max_seq("nope") == 0


def test_same_seq_in_two_projects_is_fine(store: Store, make: Make, project: Project) -> None:
    other = make.project()
    store.projects.add(other)
    store.tests.add_many([make.test(project.id, 1)])
    store.tests.add_many([make.test(other.id, 1)])
    assert store.tests.max_seq(other.id) == 1


def test_duplicate_seq_conflicts_and_writes_none_of_the_batch(
    store: Store, make: Make, project: Project
) -> None:
    store.tests.add_many([make.test(project.id, 1)])
    batch = [make.test(project.id, 2), make.test(project.id, 3), make.test(project.id, 1)]
    with pytest.raises(Conflict):
        store.tests.add_many(batch)
    assert [t.seq for t in store.tests.list_since(project.id)] == [1]
    assert store.tests.get_many(project.id, [t.id for t in batch[:2]]) == {}


def test_duplicate_seq_within_one_batch_conflicts(store: Store, make: Make, project: Project) -> None:
    with pytest.raises(Conflict):
        store.tests.add_many([make.test(project.id, 1), make.test(project.id, 1)])
    assert store.tests.max_seq(project.id) == 0


def test_duplicate_id_conflicts(store: Store, make: Make, project: Project) -> None:
    t = make.test(project.id, 1)
    store.tests.add_many([t])
    with pytest.raises(Conflict):
        store.tests.add_many([make.test(project.id, 2, id=t.id)])
    assert store.tests.max_seq(project.id) == 1


def test_add_many_empty_is_a_no_op(store: Store, project: Project) -> None:
    store.tests.add_many([])
    assert store.tests.max_seq(project.id) == 0


def test_get_many_only_returns_this_projects_tests(store: Store, make: Make, project: Project) -> None:
    other = make.project()
    store.projects.add(other)
    mine, theirs = make.test(project.id, 1), make.test(other.id, 1)
    store.tests.add_many([mine])
    store.tests.add_many([theirs])
    got = store.tests.get_many(project.id, [mine.id, theirs.id, "missing", mine.id])
    assert got == {mine.id: mine}
    assert store.tests.get_many(project.id, []) == {}


def test_get_many_with_many_ids(store: Store, make: Make, project: Project) -> None:
    tests = [make.test(project.id, s) for s in range(1, 1201)]
    store.tests.add_many(tests)
    ids = [t.id for t in tests] + [f"missing_{i}" for i in range(300)]
    got = store.tests.get_many(project.id, ids)
    assert len(got) == 1200
    assert got[tests[777].id] == tests[777]
