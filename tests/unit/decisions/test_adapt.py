"""A Bandit with `drift` restarts an arm's learner when its rewards shift (audited), recovers from a
change that plain Thompson sampling keeps paying for, and rebuilds its epochs exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from optiloop.auth.principal import Principal
from optiloop.decisions import adapt, experiments, serve, spec
from optiloop.decisions.policies import Policy
from optiloop.decisions.state import STATE, LearnerState
from optiloop.deps import Deps
from optiloop.errors import InvalidInput
from optiloop.store.records import Project

ADMIN = Principal(name="tester", role="admin", project_id=None, key_id="k")
BINARY = {"name": "ok", "kind": "binary"}


def simulate(exp: dict[str, Any], steps: int, change: int, seed: int) -> tuple[float, LearnerState]:
    """Arm a pays 0.8 then 0.1 from `change` on; arm b pays 0.5 throughout."""
    rng, state, regret = np.random.default_rng(seed), LearnerState.empty(exp), 0.0
    for t in range(steps):
        probs = np.array([0.8, 0.5]) if t < change else np.array([0.1, 0.5])
        arm, _ = Policy(exp, state).choose("u", None, rng)
        r = float(rng.random() < probs[arm])
        state.add(arm, r, r, None)
        adapt.fold(state, exp, arm, r, r)
        regret += probs.max() - probs[arm]
    return regret, state


def test_restarting_recovers_from_a_change_plain_thompson_pays_for() -> None:
    body = {"type": "Bandit", "variants": [{"id": "a"}, {"id": "b"}], "metric": BINARY}
    plain = {"id": "e1", **spec.normalise(body)}
    adaptive = {"id": "e2", **spec.normalise({**body, "drift": {"threshold": 25}})}
    r_plain = np.mean([simulate(plain, 3000, 1000, s)[0] for s in range(3)])
    results = [simulate(adaptive, 3000, 1000, s) for s in range(3)]
    r_adapt = np.mean([r for r, _ in results])
    assert r_adapt < 0.5 * r_plain
    for _, state in results:
        assert state.epoch is not None and state.epoch[0] >= 1
        assert state.n[0] > state.learner()[0][0]  # results keep what the learner forgot


def test_drift_applies_to_bandits_and_contextual_only() -> None:
    on = spec.normalise({"type": "Bandit", "variants": [{"id": "a"}, {"id": "b"}], "drift": {}})
    assert on["drift"] == {"detector": "page_hinkley", "delta": 0.005, "threshold": 25.0, "min_items": 30,
                           "response": "restart", "keep": 0.0}  # fmt: skip
    with pytest.raises(InvalidInput) as e:
        spec.normalise({"type": "AB", "variants": [{"id": "a"}, {"id": "b"}], "drift": {"threshold": 5}})
    assert [p.field for p in e.value.problems] == ["drift"]


def test_restarts_are_audited_and_rebuilt_exactly(deps: Deps) -> None:
    deps.store.projects.add(
        Project(id="prj_a", name="a", description="", created_at="2026-01-01T00:00:00Z", created_by="t")
    )
    exp = experiments.create(deps, ADMIN, {"project_id": "prj_a", "name": "e", "type": "Bandit",
                                           "variants": [{"id": "a"}, {"id": "b"}], "metric": BINARY,
                                           "drift": {"threshold": 10, "min_items": 10}})  # fmt: skip
    experiments.transition(deps, ADMIN, exp["id"], "start")
    rng = np.random.default_rng(0)
    for t in range(400):
        dec = serve.decide(deps, ADMIN, exp["id"], f"u{t}", None)
        p = ({"a": 0.6, "b": 0.7} if t < 150 else {"a": 0.05, "b": 0.05})[dec["variant"]]  # both collapse
        serve.feedback(deps, ADMIN, dec["decision_id"], float(rng.random() < p), None)
    st = deps.store.docs.get(STATE, exp["id"])
    assert st is not None
    live = LearnerState.from_data(st.data)
    assert live.epoch is not None and live.epoch.sum() >= 1
    audits = deps.store.audit.list(action="experiment.drift_restart", limit=100)
    assert len(audits) == int(live.epoch.sum())
    rebuilt = serve.rebuild(deps, exp["id"])
    assert rebuilt.epoch is not None and rebuilt.cur is not None and live.cur is not None
    assert np.array_equal(live.epoch, rebuilt.epoch)
    assert np.allclose(live.cur, rebuilt.cur, rtol=1e-12)
    got = experiments.get(deps, ADMIN, exp["id"])["results"]["drift"]
    assert got["restarts"] == live.epoch.astype(int).tolist()
