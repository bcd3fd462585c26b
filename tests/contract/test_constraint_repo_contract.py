"""ConstraintRepo contract: versions per (project, name), Conflict on a duplicate version."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from optiloop.errors import Conflict
from optiloop.store.ports import Store
from optiloop.store.records import Project

if TYPE_CHECKING:
    from conftest import Make


def test_round_trip_every_field(store: Store, make: Make, project: Project) -> None:
    c = make.constraint(
        project.id,
        name="ratio",
        type="soft",
        weight=0.3,
        version=1,
        json_schema={"relations": [{"expr": "a/b < 2", "unit": "µm"}], "deep": {"x": [1, {"y": None}]}},
    )
    store.constraints.add(c)
    assert store.constraints.history(project.id, "ratio") == [c]
    assert store.constraints.latest(project.id) == [c]


def test_duplicate_version_conflicts_and_keeps_the_first(store: Store, make: Make, project: Project) -> None:
    first = make.constraint(project.id, version=1, weight=1.0)
    store.constraints.add(first)
    with pytest.raises(Conflict):
        store.constraints.add(make.constraint(project.id, version=1, weight=2.0))
    assert store.constraints.history(project.id, first.name) == [first]


def test_same_name_and_version_in_another_project_is_fine(store: Store, make: Make, project: Project) -> None:
    other = make.project()
    store.projects.add(other)
    store.constraints.add(make.constraint(project.id, name="c", version=1))
    store.constraints.add(make.constraint(other.id, name="c", version=1))
    assert len(store.constraints.latest(project.id)) == 1
    assert len(store.constraints.latest(other.id)) == 1


def test_latest_is_newest_version_of_each_name_ordered_by_name(
    store: Store, make: Make, project: Project
) -> None:
    # inserted out of order on purpose: "newest" means highest version, not last written
    for name, version in [("zeta", 2), ("alpha", 1), ("zeta", 1), ("alpha", 3), ("mid", 1), ("alpha", 2)]:
        store.constraints.add(make.constraint(project.id, name=name, version=version))
    latest = store.constraints.latest(project.id)
    assert [(c.name, c.version) for c in latest] == [("alpha", 3), ("mid", 1), ("zeta", 2)]


def test_history_is_oldest_first(store: Store, make: Make, project: Project) -> None:
    for v in (2, 3, 1):
        store.constraints.add(make.constraint(project.id, name="c", version=v, weight=float(v)))
    store.constraints.add(make.constraint(project.id, name="other", version=1))
    hist = store.constraints.history(project.id, "c")
    assert [c.version for c in hist] == [1, 2, 3]
    assert [c.weight for c in hist] == [1.0, 2.0, 3.0]


def test_unknown_project_or_name_is_empty(store: Store, project: Project) -> None:
    assert store.constraints.latest("nope") == []
    assert store.constraints.latest(project.id) == []
    assert store.constraints.history(project.id, "nope") == []
