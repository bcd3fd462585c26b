"""Off-policy estimates against a simulated ground truth: logged decisions from a softmax policy with
known propensities, a different target policy whose true value is computed exactly."""

from __future__ import annotations

import numpy as np
import pytest

from optiloop.decisions import ope


def world(seed: int, n: int = 4000, k: int = 3, d: int = 4) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = np.c_[np.ones(n), rng.normal(size=(n, d - 1))]
    beta = rng.normal(size=(k, d))
    mu = 1 / (1 + np.exp(-(x @ beta.T)))  # true mean reward per row and action
    logits = x @ rng.normal(size=(k, d)).T * 0.7
    logging = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    actions = np.array([rng.choice(k, p=p) for p in logging])
    rewards = (rng.random(n) < mu[np.arange(n), actions]).astype(float)
    target = np.full((n, k), 0.1 / (k - 1))  # 90% greedy on the true model, the rest spread
    target[np.arange(n), mu.argmax(axis=1)] = 0.9
    truth = float((target * mu).sum(axis=1).mean())
    return x, actions, rewards, logging[np.arange(n), actions], target, np.array(truth)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_estimates_cover_the_simulated_truth(seed: int) -> None:
    x, actions, rewards, props, target, truth = world(seed)
    got = ope.evaluate(x, actions, rewards, props, target)
    for name in ("ips", "snips", "dr"):
        est = got[name]
        assert isinstance(est, ope.Estimate)
        assert abs(est.value - float(truth)) < 4 * est.se + 0.005, (name, est, truth)
    dr, ips = got["dr"], got["ips"]
    assert isinstance(dr, ope.Estimate) and isinstance(ips, ope.Estimate)
    assert dr.se < ips.se  # the reward model takes variance out
    assert 0 < float(got["ess"]) <= len(actions)  # type: ignore[arg-type]


def test_the_logging_policy_evaluates_to_its_own_mean() -> None:
    _, actions, rewards, props, _, _ = world(3)
    k = 3
    target = np.zeros((len(actions), k))
    target[np.arange(len(actions)), actions] = props  # pi(a_i) = p_i on the logged action: w = 1
    w = ope.weights(actions, props, target)
    assert np.allclose(w, 1.0)
    assert ope.ips(rewards, w).value == pytest.approx(rewards.mean())
    assert ope.snips(rewards, w).value == pytest.approx(rewards.mean())
    assert ope.ess(w) == pytest.approx(len(w))
