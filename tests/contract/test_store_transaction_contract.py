"""Store.transaction contract: all or nothing across repos, nesting joins, per-thread scope."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest

from optiloop.errors import Conflict
from optiloop.store.ports import Store
from optiloop.store.records import Project

if TYPE_CHECKING:
    from conftest import Make, StoreHarness


class Boom(Exception):
    pass


def _write_everything(store: Store, make: Make, project_id: str) -> None:
    store.constraints.add(make.constraint(project_id))
    t = make.test(project_id, 1)
    store.tests.add_many([t])
    store.runs.add_many([make.run(t, 1)])
    store.keys.add(make.key(project_id))
    store.audit.append(principal="a", action="x", project_id=project_id, target=None, details={})


def _assert_nothing(store: Store, project_id: str) -> None:
    assert store.projects.get(project_id) is None
    assert store.constraints.latest(project_id) == []
    assert store.tests.max_seq(project_id) == 0
    assert store.runs.totals(project_id)["runs"] == 0
    assert store.keys.count() == 0
    assert store.audit.list() == []
    assert store.audit.verify() == (True, None)


def test_commit_lands_everything(store: Store, make: Make) -> None:
    p = make.project()
    with store.transaction():
        store.projects.add(p)
        _write_everything(store, make, p.id)
        # reads inside see the transaction's own writes
        assert store.projects.get(p.id) == p
        assert store.tests.max_seq(p.id) == 1
    assert store.projects.get(p.id) == p
    assert len(store.constraints.latest(p.id)) == 1
    assert store.runs.totals(p.id)["runs"] == 1
    assert store.keys.count() == 1
    assert len(store.audit.list()) == 1


def test_exception_rolls_back_every_repo_and_reraises(store: Store, make: Make) -> None:
    p = make.project()
    err = Boom("nope")
    with pytest.raises(Boom) as caught, store.transaction():
        store.projects.add(p)
        _write_everything(store, make, p.id)
        raise err
    assert caught.value is err
    _assert_nothing(store, p.id)


def test_domain_error_inside_rolls_back_earlier_writes(store: Store, make: Make, project: Project) -> None:
    t = make.test(project.id, 1)
    store.tests.add_many([t])
    store.runs.add_many([make.run(t, 1)])
    with pytest.raises(Conflict), store.transaction():
        store.projects.set_budget(project.id, 99.0)
        store.runs.add_many([make.run(t, 2)])  # conflicts
    got = store.projects.get(project.id)
    assert got is not None and got.budget_cents is None


def test_nested_transaction_joins_the_outer_one(store: Store, make: Make) -> None:
    p = make.project()
    with pytest.raises(Boom), store.transaction():
        store.projects.add(p)
        with store.transaction():
            _write_everything(store, make, p.id)
        # the inner block ended normally, yet its writes are not committed on their own
        raise Boom
    _assert_nothing(store, p.id)


def test_exception_from_a_nested_block_rolls_back_all(store: Store, make: Make) -> None:
    p = make.project()
    with pytest.raises(Boom), store.transaction():
        store.projects.add(p)
        with store.transaction():
            _write_everything(store, make, p.id)
            raise Boom
    _assert_nothing(store, p.id)


def test_nested_commit_lands_with_the_outer(store: Store, make: Make) -> None:
    p = make.project()
    with store.transaction():
        with store.transaction():
            store.projects.add(p)
        with store.transaction():
            _write_everything(store, make, p.id)
    assert store.projects.get(p.id) == p
    assert store.keys.count() == 1


def test_store_usable_after_a_rollback(store: Store, make: Make) -> None:
    with pytest.raises(Boom), store.transaction():
        store.audit.append(principal="a", action="x", project_id=None, target=None, details={})
        raise Boom
    r = store.audit.append(principal="a", action="y", project_id=None, target=None, details={})
    assert r.seq == 1  # the rolled-back record left no gap
    p = make.project()
    with store.transaction():
        store.projects.add(p)
    assert store.projects.get(p.id) == p


def test_uncommitted_writes_are_invisible_to_other_threads(store: Store, make: Make) -> None:
    p = make.project()
    seen: list[Project | None] = []
    with store.transaction():
        store.projects.add(p)
        t = threading.Thread(target=lambda: seen.append(store.projects.get(p.id)))
        t.start()
        t.join()
    assert seen == [None]
    assert store.projects.get(p.id) == p


def test_a_rollback_does_not_take_other_threads_writes_with_it(store: Store, make: Make) -> None:
    mine, theirs = make.project(), make.project()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            store.projects.add(theirs)  # may wait for our transaction to finish; must not join it
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    t = threading.Thread(target=other)
    with pytest.raises(Boom), store.transaction():
        store.projects.add(mine)
        t.start()
        t.join(timeout=0.2)
        raise Boom
    t.join()
    assert errors == []
    assert store.projects.get(mine.id) is None
    assert store.projects.get(theirs.id) == theirs


def test_data_survives_reopening(store_harness: StoreHarness, make: Make) -> None:
    store = store_harness.store
    p = make.project(budget_cents=5.0)
    store.projects.add(p)
    _write_everything(store, make, p.id)
    reopened = store_harness.reopen()
    assert reopened.projects.get(p.id) == p
    assert reopened.tests.max_seq(p.id) == 1
    assert reopened.runs.totals(p.id)["runs"] == 1
    assert reopened.keys.count() == 1
    assert reopened.audit.verify() == (True, None)
    # the project's audit chain continues where it was (seq 2 of its shard)
    assert reopened.audit.append(principal="a", action="z", project_id=p.id, target=None, details={}).seq == 2
