"""The checkpoint stays one DynamoDB item (400 KB) at the largest experiment allowed, and the per-day
series keeps the latest days whatever order the rewards arrive in."""

from __future__ import annotations

import json

import numpy as np

from optiloop.decisions import spec
from optiloop.decisions.state import SERIES_FLOATS, LearnerState


def test_the_largest_checkpoint_fits_one_item() -> None:
    body = {
        "type": "Contextual",
        "variants": [{"id": f"v{i}"} for i in range(100)],
        "context": {"dimension": 12},
    }
    exp = {"id": "e", **spec.normalise(body)}
    state = LearnerState.empty(exp)
    assert state.gram is not None and state.gram.size <= spec.MAX_STATE_FLOATS
    rng = np.random.default_rng(0)
    for t in range(3000):
        obs = {f"m{j}": float(rng.random()) for j in range(20)} | {"latency_ms": float(rng.uniform(1, 9e5))}
        day = f"2026-{1 + t % 12:02d}-{1 + t % 28:02d}"
        state.add(t % 100, float(rng.random()), 0.5, rng.random(12), day=day, observations=obs, covariate=1.0)
    assert len(state.observed) == 8 and len(state.days) == SERIES_FLOATS // 200
    assert len(json.dumps(state.to_data())) < 390_000


def test_kept_days_do_not_depend_on_arrival_order() -> None:
    exp = {"id": "e", **spec.normalise({"type": "AB", "variants": [{"id": "a"}, {"id": "b"}]})}
    days = [f"{2000 + i // 300}-{1 + i % 12:02d}-{1 + i % 25:02d}" for i in range(2500)]
    rewards = [(i % 2, float(i % 5), days[i]) for i in range(2500)]
    a, b = LearnerState.empty(exp), LearnerState.empty(exp)
    for arm, r, day in rewards:
        a.add(arm, r, r, None, day=day)
    for i in np.random.default_rng(1).permutation(len(rewards)):
        arm, r, day = rewards[i]
        b.add(arm, r, r, None, day=day)
    assert sorted(a.days) == sorted(b.days) and len(a.days) == SERIES_FLOATS // 4
    assert all(np.array_equal(a.days[d], b.days[d]) for d in a.days)
