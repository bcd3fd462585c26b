"""KeyRepo contract: lookup by hash, per-project listing, revocation."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from optiloop.errors import Conflict
from optiloop.store.ports import Store
from optiloop.store.records import ROLES, Project

if TYPE_CHECKING:
    from conftest import Make


@pytest.mark.parametrize("role", ROLES)
def test_round_trip_every_field(store: Store, make: Make, project: Project, role: str) -> None:
    k = make.key(project.id, role=role, principal="ci-bot ✓", created_by="admin@x")
    store.keys.add(k)
    assert store.keys.get_by_hash(k.key_hash) == k
    assert k.revoked is False


def test_platform_key_without_project(store: Store, make: Make) -> None:
    k = make.key(None, role="admin")
    store.keys.add(k)
    assert store.keys.get_by_hash(k.key_hash) == k


def test_unknown_hash_is_none(store: Store) -> None:
    assert store.keys.get_by_hash("nope") is None


def test_duplicate_hash_conflicts(store: Store, make: Make) -> None:
    k = make.key()
    store.keys.add(k)
    with pytest.raises(Conflict):
        store.keys.add(make.key(key_hash=k.key_hash))
    assert store.keys.count() == 1


def test_duplicate_id_conflicts(store: Store, make: Make) -> None:
    k = make.key()
    store.keys.add(k)
    with pytest.raises(Conflict):
        store.keys.add(make.key(id=k.id))
    assert store.keys.count() == 1


def test_list_all_and_by_project(store: Store, make: Make, project: Project) -> None:
    other = make.project()
    store.projects.add(other)
    platform = make.key(None, role="admin", created_at="2025-01-01T00:00:00.000Z")
    mine = [make.key(project.id, created_at=f"2025-01-0{d}T00:00:00.000Z") for d in (3, 2)]
    theirs = make.key(other.id, created_at="2025-01-04T00:00:00.000Z")
    for k in (*mine, theirs, platform):
        store.keys.add(k)
    assert {k.id for k in store.keys.list()} == {platform.id, theirs.id, *(k.id for k in mine)}
    assert [k.id for k in store.keys.list(project.id)] == [mine[1].id, mine[0].id]  # oldest first
    assert store.keys.list(other.id) == [theirs]
    assert store.keys.list("nope") == []


def test_revoke(store: Store, make: Make) -> None:
    k, keep = make.key(), make.key()
    store.keys.add(k)
    store.keys.add(keep)
    assert store.keys.revoke(k.id) is True
    assert store.keys.get_by_hash(k.key_hash) == replace(k, revoked=True)
    assert store.keys.get_by_hash(keep.key_hash) == keep
    assert store.keys.revoke(k.id) is True  # idempotent: the key exists and is revoked


def test_revoke_unknown_is_false(store: Store) -> None:
    assert store.keys.revoke("nope") is False


def test_count_includes_revoked_keys(store: Store, make: Make) -> None:
    assert store.keys.count() == 0
    k = make.key()
    store.keys.add(k)
    store.keys.add(make.key())
    store.keys.revoke(k.id)
    assert store.keys.count() == 2


def test_get_by_id_sees_revocation(store: Store, make: Make) -> None:
    k = make.key(None, role="admin")
    store.keys.add(k)
    assert store.keys.get(k.id) == k
    assert store.keys.get("key_unknown") is None
    store.keys.revoke(k.id)
    got = store.keys.get(k.id)
    assert got is not None and got.revoked
