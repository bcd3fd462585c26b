"""ProjectRepo contract: every adapter behaves like this."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from optiloop.errors import Conflict, NotFound
from optiloop.store.ports import Store

if TYPE_CHECKING:
    from conftest import Make


def test_round_trip_every_field(store: Store, make: Make) -> None:
    p = make.project(name="Ünïcode ✓ name", description="multi\nline 'quoted' \"text\"", budget_cents=1234.5)
    store.projects.add(p)
    assert store.projects.get(p.id) == p


def test_budget_none_round_trips(store: Store, make: Make) -> None:
    p = make.project(budget_cents=None)
    store.projects.add(p)
    got = store.projects.get(p.id)
    assert got is not None and got.budget_cents is None


def test_get_unknown_is_none(store: Store) -> None:
    assert store.projects.get("nope") is None


def test_duplicate_id_conflicts(store: Store, make: Make) -> None:
    p = make.project()
    store.projects.add(p)
    with pytest.raises(Conflict):
        store.projects.add(make.project(id=p.id, name="other"))
    assert store.projects.get(p.id) == p


def test_list_ordered_by_id_with_keyset_pages(store: Store, make: Make) -> None:
    ids = ["p_c", "p_a", "p_e", "p_b", "p_d"]
    for i in ids:
        store.projects.add(make.project(id=i))
    assert [p.id for p in store.projects.list()] == sorted(ids)
    assert [p.id for p in store.projects.list(limit=2)] == ["p_a", "p_b"]
    assert [p.id for p in store.projects.list(limit=2, after_id="p_b")] == ["p_c", "p_d"]
    assert [p.id for p in store.projects.list(limit=2, after_id="p_d")] == ["p_e"]
    assert store.projects.list(after_id="p_e") == []


def test_list_empty(store: Store) -> None:
    assert store.projects.list() == []


def test_set_budget_sets_and_clears(store: Store, make: Make) -> None:
    p = make.project(budget_cents=None)
    store.projects.add(p)
    store.projects.set_budget(p.id, 500.25)
    got = store.projects.get(p.id)
    assert got is not None and got.budget_cents == 500.25
    assert got.name == p.name  # only the budget changed
    store.projects.set_budget(p.id, None)
    got = store.projects.get(p.id)
    assert got is not None and got.budget_cents is None


def test_set_budget_of_unknown_project_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.projects.set_budget("nope", 1.0)
