"""Off-policy evaluation of a candidate on an experiment's logged decisions: the candidate's action
probabilities per decision, the row bound, and what a decision logs for rules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from optiloop.auth.principal import Principal
from optiloop.decisions import evaluate, experiments, serve
from optiloop.deps import Deps
from optiloop.errors import InvalidInput
from optiloop.store.records import Project

ADMIN = Principal(name="tester", role="admin", project_id=None, key_id="k")
AB = ["a", "b"]


def test_rules_match_the_logged_fields_and_fall_back_to_the_default() -> None:
    policy = {"rules": [{"when": {"tier": "gold", "n": 2}, "variant": "a"}], "default": "b"}
    contexts: list[dict[str, Any] | None] = [
        {"tier": "gold", "n": 2},
        {"tier": "gold"},
        None,
        {"tier": "free", "n": 2},
    ]
    got = evaluate.target_matrix(policy, AB, contexts)
    assert got.tolist() == [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]
    split = evaluate.target_matrix({"weights": {"b": 0.25, "a": 0.75}}, AB, [None, None])
    assert split.tolist() == [[0.75, 0.25], [0.75, 0.25]]
    with pytest.raises(InvalidInput) as e:
        evaluate.target_matrix({"weights": {"a": -0.5, "b": 1.5}}, AB, [])
    assert [p.field for p in e.value.problems] == ["policy.weights.a"]
    with pytest.raises(InvalidInput) as e:
        evaluate.target_matrix({}, AB, [])
    assert [p.field for p in e.value.problems] == ["policy"]


def test_only_short_scalar_context_fields_are_logged() -> None:
    ctx = {"tier": "gold", "n": 3, "ok": True, "prompt": "x" * 200, "none": None}
    assert evaluate.logged_context(ctx) == {"tier": "gold", "n": 3, "ok": True}
    assert evaluate.logged_context({"prompt": "y" * 100}) is None
    assert evaluate.logged_context(None) is None


def test_at_most_max_rows_of_the_newest_decisions_are_read(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    deps.store.projects.add(
        Project(id="prj_a", name="a", description="", created_at="2026-01-01T00:00:00Z", created_by="t")
    )
    exp = experiments.create(deps, ADMIN, {"project_id": "prj_a", "name": "e", "type": "Contextual",
                                           "variants": [{"id": "a"}, {"id": "b"}],
                                           "context": {"dimension": 6}, "algorithm": "lin_ts"})  # fmt: skip
    experiments.transition(deps, ADMIN, exp["id"], "start")
    rng = np.random.default_rng(1)
    for t in range(25):
        dec = serve.decide(deps, ADMIN, exp["id"], f"u{t}", {"tier": "gold" if t % 2 else "free"})
        serve.feedback(deps, ADMIN, dec["decision_id"], float(rng.random()), None)
    full = evaluate.evaluate(deps, ADMIN, exp["id"], {"variant": "a"})
    assert (full["rows"], full["truncated"]) == (25, False)
    assert sum(full["logged"]["served"].values()) == 25
    monkeypatch.setattr(evaluate, "MAX_ROWS", 20)
    monkeypatch.setattr(evaluate, "PAGE", 10)
    cut = evaluate.evaluate(deps, ADMIN, exp["id"], {"variant": "a"})
    assert (cut["rows"], cut["truncated"]) == (20, True)
    monkeypatch.setattr(evaluate, "MAX_ROWS", 30)
    assert evaluate.evaluate(deps, ADMIN, exp["id"], {"variant": "a"})["truncated"] is False
