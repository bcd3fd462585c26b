"""Drift responses beyond the restart: `discount` keeps a share of an arm's memory; Contextual
experiments adapt their Gram sums; a firing detector is an `experiment.drift` webhook event."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from optiloop.auth.principal import Principal
from optiloop.decisions import adapt, experiments, serve, spec
from optiloop.decisions.state import STATE, LearnerState
from optiloop.deps import Deps
from optiloop.errors import InvalidInput
from optiloop.store.records import Doc, Project
from optiloop.webhooks import subscriptions
from optiloop.webhooks.records import DELIVERY, EXPERIMENT_DRIFT

ADMIN = Principal(name="tester", role="admin", project_id=None, key_id="k")
BINARY = {"name": "ok", "kind": "binary"}
TWO = [{"id": "a"}, {"id": "b"}]


def fields(body: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidInput) as e:
        spec.normalise(body)
    return [p.field for p in e.value.problems]


def test_the_response_is_validated() -> None:
    on = spec.normalise({"type": "Bandit", "variants": TWO, "drift": {"response": "discount"}})
    assert (on["drift"]["response"], on["drift"]["keep"]) == ("discount", 0.25)
    ctx = spec.normalise(
        {"type": "Contextual", "variants": TWO, "drift": {"response": "discount", "keep": 0.5}}
    )
    assert ctx["drift"]["keep"] == 0.5
    assert fields({"type": "Bandit", "variants": TWO, "drift": {"response": "forget"}}) == ["drift.response"]
    assert fields({"type": "Bandit", "variants": TWO, "drift": {"response": "discount", "keep": 1}}) == [
        "drift.keep"
    ]
    assert fields({"type": "Bandit", "variants": TWO, "drift": {"keep": 0.5}}) == ["drift.keep"]
    assert fields({"type": "Canary", "variants": TWO, "drift": {}}) == ["drift"]


def fire(exp: dict[str, Any], state: LearnerState, x: np.ndarray | None) -> int:
    """Arm 0 pays 1 for 60 rewards, then 0 until its detector fires; the step it fired at."""
    for t in range(2000):
        r = 1.0 if t < 60 else 0.0
        state.add(0, r, r, x)
        before = state.cur[:, 0].copy() if state.cur is not None else None
        gram = state.gram[0].copy() if state.gram is not None else None
        _, fired = adapt.fold(state, exp, 0, r, r, x)
        if fired:
            assert state.cur is not None and before is not None
            keep = exp["drift"]["keep"]
            assert np.allclose(state.cur[:, 0], keep * (before + np.array([1.0, r, r * r])))
            if gram is not None and state.gram is not None:
                assert np.allclose(state.gram[0], keep * gram)
            return t
    raise AssertionError("the detector never fired")


def test_discount_scales_the_memory_restart_empties_it() -> None:
    body = {"type": "Bandit", "variants": TWO, "metric": BINARY}
    for response, keep in (("discount", 0.3), ("restart", 0.0)):
        drift = {"response": response, "threshold": 5, "min_items": 10} | ({"keep": keep} if keep else {})
        exp = {"id": "e", **spec.normalise({**body, "drift": drift})}
        state = LearnerState.empty(exp)
        fire(exp, state, None)
        assert state.epoch is not None and state.epoch[0] == 1
        assert state.n[0] > state.learner()[0][0]  # results keep everything
        if keep:
            assert state.learner()[0][0] > 0


def test_contextual_gram_is_discounted() -> None:
    body = {"type": "Contextual", "variants": TWO, "metric": BINARY, "context": {"dimension": 8},
            "drift": {"response": "discount", "keep": 0.5, "threshold": 5, "min_items": 10}}  # fmt: skip
    exp = {"id": "e", **spec.normalise(body)}
    state = LearnerState.empty(exp)
    fire(exp, state, np.eye(8)[0] + np.eye(8)[3])
    assert state.epoch is not None and state.epoch[0] == 1


def test_contextual_drift_emits_a_webhook_event_and_rebuilds(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPTILOOP_WEBHOOKS_ALLOW_PRIVATE", "1")
    deps.store.projects.add(
        Project(id="prj_a", name="a", description="", created_at="2026-01-01T00:00:00Z", created_by="t")
    )
    hook = subscriptions.create(deps, ADMIN, "prj_a", "http://127.0.0.1:9/hook", [EXPERIMENT_DRIFT])
    exp = experiments.create(deps, ADMIN, {"project_id": "prj_a", "name": "e", "type": "Contextual",
                                           "variants": TWO, "metric": BINARY, "context": {"dimension": 8},
                                           "drift": {"response": "discount", "keep": 0.4, "threshold": 5,
                                                     "min_items": 10}})  # fmt: skip
    experiments.transition(deps, ADMIN, exp["id"], "start")
    rng, fired = np.random.default_rng(0), []
    for t in range(240):
        dec = serve.decide(deps, ADMIN, exp["id"], f"u{t}", {"tier": "gold" if t % 2 else "free"})
        r = float(rng.random() < (0.9 if t < 80 else 0.05))  # every arm collapses
        out = serve.feedback(deps, ADMIN, dec["decision_id"], r, None)
        if out["drift"] is not None:
            fired.append(out["drift"])
    assert fired
    deliveries = [d.data for d in deps.store.docs.list(DELIVERY, hook["id"], limit=100)]
    assert len(deliveries) == len(fired)
    event = deliveries[0]["event"]
    assert deliveries[0]["event_type"] == EXPERIMENT_DRIFT
    assert event["data"]["experiment_id"] == exp["id"]
    assert (event["data"]["response"], event["data"]["keep"]) == ("discount", 0.4)
    st = deps.store.docs.get(STATE, exp["id"])
    assert isinstance(st, Doc)
    live = LearnerState.from_data(st.data)
    rebuilt = serve.rebuild(deps, exp["id"])
    assert live.epoch is not None and rebuilt.epoch is not None and int(live.epoch.sum()) == len(fired)
    assert np.array_equal(live.epoch, rebuilt.epoch)
    assert (
        live.gram is not None and rebuilt.gram is not None and live.xu is not None and rebuilt.xu is not None
    )
    assert np.allclose(live.gram, rebuilt.gram, rtol=1e-9, atol=1e-9)
    assert np.allclose(live.xu, rebuilt.xu, rtol=1e-9, atol=1e-9)
    assert live.cur is not None and rebuilt.cur is not None
    assert np.allclose(live.cur, rebuilt.cur, rtol=1e-9, atol=1e-9)
    # the discounted memory is below the full counts the results keep
    assert (live.gram[:, 0, 0] < live.n - 1e-9).any()
