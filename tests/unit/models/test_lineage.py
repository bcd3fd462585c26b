"""Lineage: edges are written once, under both ends, and walked both ways without siblings."""

from __future__ import annotations

import pytest

from optiloop.deps import Deps
from optiloop.models import lineage


def chain(deps: Deps) -> None:
    lineage.link(deps, "dataset", "ds1", "training_job", "tj1", "trained_on", project_id="p1")
    lineage.link(deps, "training_job", "tj1", "model_version", "mv1", "produced", project_id="p1")
    lineage.link(deps, "training_job", "tj1", "model_version", "mv2", "produced", project_id="p1")
    lineage.link(deps, "model_version", "mv1", "deployment", "dep1", "deployed_as", project_id="p1")
    lineage.link(deps, "deployment", "dep1", "monitor", "mon1", "watched_by", project_id="p1")


def ids(nodes: list[dict[str, str]]) -> set[str]:
    return {n["id"] for n in nodes}


def test_walk_goes_up_and_down_but_not_sideways(deps: Deps) -> None:
    chain(deps)
    g = lineage.walk(deps, "model_version", "mv1")
    assert ids(g["upstream"]) == {"tj1", "ds1"}
    assert ids(g["downstream"]) == {"dep1", "mon1"}
    assert "mv2" not in ids(g["nodes"]) and not g["truncated"]
    assert len(g["edges"]) == 4
    down = lineage.walk(deps, "dataset", "ds1")
    assert ids(down["downstream"]) == {"tj1", "mv1", "mv2", "dep1", "mon1"} and down["upstream"] == []


def test_depth_limits_the_walk_and_says_so(deps: Deps) -> None:
    chain(deps)
    g = lineage.walk(deps, "dataset", "ds1", depth=1)
    assert ids(g["downstream"]) == {"tj1"} and g["truncated"]


def test_link_is_idempotent_and_checks_types(deps: Deps) -> None:
    lineage.link(deps, "model", "m1", "model_version", "mv1", "has_version", project_id="p1")
    lineage.link(deps, "model", "m1", "model_version", "mv1", "has_version", project_id="p1")
    assert len(deps.store.docs.list("lineage_out", "model:m1")) == 1
    with pytest.raises(ValueError):
        lineage.link(deps, "spaceship", "x", "model", "m1", "flew")


def test_project_of_reads_the_entity_or_its_edges(deps: Deps) -> None:
    chain(deps)
    assert lineage.project_of(deps, "monitor", "mon1") == "p1"
    assert lineage.project_of(deps, "monitor", "nope") is None
