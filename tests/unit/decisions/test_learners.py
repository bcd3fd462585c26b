"""The learners and statistics of online decisions, in seeded simulations small enough to run in seconds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from optiloop.decisions import sequential, spec
from optiloop.decisions.features import featurize
from optiloop.decisions.policies import Policy
from optiloop.decisions.state import LearnerState, utility


def make(kind: str, k: int, **extra: Any) -> dict[str, Any]:
    body = {"type": kind, "variants": [{"id": f"v{i}"} for i in range(k)], **extra}
    return {"id": "exp_test", **spec.normalise(body)}


def simulate(exp: dict[str, Any], probs: np.ndarray, steps: int, seed: int = 0) -> tuple[float, LearnerState]:
    """Bernoulli arms; the policy is rebuilt after every reward (as the cache does on feedback)."""
    rng, state = np.random.default_rng(seed), LearnerState.empty(exp)
    regret = 0.0
    for t in range(steps):
        arm, _ = Policy(exp, state).choose(f"u{t}", None, rng)
        r = float(rng.random() < probs[arm])
        state.add(arm, r, utility(r, exp["metric"]), None)
        regret += probs.max() - probs[arm]
    return regret, state


def test_ab_is_sticky_per_unit_and_splits_by_weight() -> None:
    exp = make("AB", 2, variants=[{"id": "a", "weight": 0.2}, {"id": "b", "weight": 0.8}])
    policy, rng = Policy(exp, LearnerState.empty(exp)), np.random.default_rng(0)
    arms = [policy.choose(f"user-{i}", None, rng)[0] for i in range(20_000)]
    assert abs(np.mean(arms) - 0.8) < 0.015
    assert all(policy.choose(f"user-{i}", None, rng)[0] == arms[i] for i in range(500))
    assert policy.choose("user-1", None, rng)[1] in (0.2, 0.8)


@pytest.mark.parametrize("algorithm", ["thompson", "ucb"])
def test_bandits_converge_to_the_best_arm_with_bounded_regret(algorithm: str) -> None:
    exp = make("Bandit", 5, algorithm=algorithm, metric={"name": "ok", "kind": "binary"})
    probs = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    regret, state = simulate(exp, probs, 2000)
    assert int(np.argmax(state.n)) == 4
    # uniform random play would lose 0.2 per step (400 here)
    assert regret < (120 if algorithm == "thompson" else 250), regret


def test_thompson_propensities_are_probabilities_of_the_choice() -> None:
    exp = make("Bandit", 3, metric={"name": "ok", "kind": "binary"})
    state = LearnerState.empty(exp)
    for _ in range(50):
        state.add(0, 1.0, 1.0, None)
        state.add(1, 0.0, 0.0, None)
    arm, p = Policy(exp, state).choose("u", None, np.random.default_rng(1))
    assert 0 < p <= 1 and arm in (0, 2)


@pytest.mark.parametrize("algorithm", ["linucb", "lin_ts"])
def test_contextual_learners_find_the_context_dependent_best_arm(algorithm: str) -> None:
    exp = make("Contextual", 2, algorithm=algorithm, context={"categorical": ["subject"], "dimension": 8})
    rng, state = np.random.default_rng(3), LearnerState.empty(exp)
    best = {"algebra": 1, "history": 0}  # the strong model only pays on algebra
    for t in range(600):
        subject = "algebra" if t % 2 else "history"
        x = featurize({"subject": subject}, exp["context"])
        arm, _ = Policy(exp, state).choose("u", x, rng)
        r = float(rng.random() < (0.8 if arm == best[subject] else 0.3))
        state.add(arm, r, r, x)
    policy = Policy(exp, state)
    for subject, arm in best.items():
        x = featurize({"subject": subject}, exp["context"])
        assert policy.choose("u", x, np.random.default_rng(0))[0] == arm


def test_continuous_minimised_metric_prefers_the_lower_mean() -> None:
    exp = make("Bandit", 2, metric={"name": "latency", "kind": "continuous", "direction": "minimize"})
    rng, state = np.random.default_rng(5), LearnerState.empty(exp)
    for _ in range(300):
        arm, _ = Policy(exp, state).choose("u", None, rng)
        r = float(rng.normal(100.0 if arm == 0 else 120.0, 10.0))
        state.add(arm, r, utility(r, exp["metric"]), None)
    assert state.n[0] > 2 * state.n[1]


def test_state_round_trips_exactly_and_is_order_free() -> None:
    exp = make("Contextual", 3, context={"dimension": 6})
    rng = np.random.default_rng(0)
    rows = [(int(rng.integers(3)), float(rng.random()), rng.normal(size=6)) for _ in range(200)]
    a, b = LearnerState.empty(exp), LearnerState.empty(exp)
    for arm, r, x in rows:
        a.add(arm, r, r, x)
    for arm, r, x in reversed(rows):
        b.add(arm, r, r, x)
    again = LearnerState.from_data(a.to_data())
    assert again.gram is not None and a.gram is not None and np.array_equal(again.gram, a.gram)
    assert b.gram is not None and np.allclose(a.gram, b.gram, rtol=1e-12) and np.allclose(a.s, b.s)


def test_aa_false_positive_rate_under_continuous_peeking_stays_below_alpha() -> None:
    """200 seeded A/A experiments, each checked after every 100 samples per arm up to 5,000: the
    always-valid test rejects in at most alpha of them; the naive fixed-horizon z-test peeked the same
    way rejects far more often (the reason to use the former)."""
    alpha, sims, looks, step, p = 0.05, 200, 50, 100, 0.1
    rng = np.random.default_rng(11)
    a = rng.binomial(step, p, size=(sims, looks)).cumsum(axis=1)
    b = rng.binomial(step, p, size=(sims, looks)).cumsum(axis=1)
    n = step * np.arange(1, looks + 1)
    pa, pb = a / n, b / n
    v = np.maximum((pa * (1 - pa) + pb * (1 - pb)) / n, 1e-12)
    pooled = np.maximum((pa * (1 - pa) + pb * (1 - pb)) / 2, 1e-12)
    pvals = sequential.p_value(pb - pa, v, (0.1**2) * pooled)
    always_valid = float((pvals <= alpha).any(axis=1).mean())
    naive = float((np.abs(pb - pa) / np.sqrt(v) > 1.96).any(axis=1).mean())
    assert always_valid <= alpha, always_valid
    assert naive > 2 * alpha, naive


def test_a_real_lift_is_detected_and_the_interval_covers_it() -> None:
    rng = np.random.default_rng(2)
    n = 20_000
    a, b = rng.random(n) < 0.10, rng.random(n) < 0.13
    v = (a.mean() * (1 - a.mean()) + b.mean() * (1 - b.mean())) / n
    diff = b.mean() - a.mean()
    assert sequential.p_value(diff, v, 0.01 * 0.1) < 0.05
    hw = sequential.half_width(v, 0.01 * 0.1, 0.05)
    assert diff - hw < 0.03 < diff + hw and diff - hw > 0
