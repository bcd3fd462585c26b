"""Bayesian experiments: a GP over the candidates' decoding parameters shares what nearby settings
learned, so on a smooth response it wastes less than independent arms; bad parameter specs are
refused by field."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from optiloop.decisions import spec
from optiloop.decisions.policies import Policy
from optiloop.decisions.state import LearnerState
from optiloop.errors import InvalidInput

TEMPS = np.linspace(0.0, 1.5, 16)


def body(**extra: Any) -> dict[str, Any]:
    variants = [{"id": f"t{t:.1f}", "temperature": float(t), "top_p": 0.9} for t in TEMPS]
    return {"type": "Bayesian", "variants": variants, "metric": {"name": "ok", "kind": "binary"},
            "bayesian": {"parameters": ["temperature", "top_p"]}, **extra}  # fmt: skip


def regret(exp: dict[str, Any], steps: int, seed: int) -> float:
    probs = 0.85 - 0.5 * (TEMPS - 0.7) ** 2  # smooth in temperature, best at 0.7
    rng, state, total = np.random.default_rng(seed), LearnerState.empty(exp), 0.0
    for _ in range(steps):
        arm, _ = Policy(exp, state).choose("u", None, rng)
        r = float(rng.random() < probs[arm])
        state.add(arm, r, r, None)
        total += probs.max() - probs[arm]
    return total


@pytest.mark.parametrize("algorithm", ["gp_ucb", "ei"])
def test_the_gp_beats_independent_arms_on_a_smooth_response(algorithm: str) -> None:
    bo = {"id": "e_bo", **spec.normalise(body(algorithm=algorithm))}
    ts = {"id": "e_ts", **spec.normalise(body(type="Bandit", bayesian=None))}
    r_bo = np.mean([regret(bo, 800, s) for s in range(2)])
    r_ts = np.mean([regret(ts, 800, s) for s in range(2)])
    assert r_bo < r_ts


def test_parameters_are_checked_by_field() -> None:
    b = body()
    b["variants"][3] = {"id": "odd", "temperature": "hot", "top_p": 0.9}
    with pytest.raises(InvalidInput) as e:
        spec.normalise(b)
    assert [p.field for p in e.value.problems] == ["variants[3].config.temperature"]
    with pytest.raises(InvalidInput) as e:
        spec.normalise(body(bayesian={}))
    assert [p.field for p in e.value.problems] == ["bayesian.parameters"]
    with pytest.raises(InvalidInput) as e:
        spec.normalise(body(type="AB"))
    assert [p.field for p in e.value.problems] == ["bayesian"]
