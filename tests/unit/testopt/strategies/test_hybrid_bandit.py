"""The hybrid generator's bandit: QMC is the reference a structured operator has to beat."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from optiloop.store.records import Run
from optiloop.testopt.strategies.generators import (
    HYBRID_START,
    REFERENCE_FLOOR,
    HybridGenerator,
    split_reference,
)
from optiloop.testopt.strategies.state import run_reward


class _State:
    def __init__(self, rates: dict[str, float], n: int = 300, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        arms = list(rates)
        self.ops = [arms[i % len(arms)] for i in range(n)]
        self.vals = [float(rng.poisson(rates[a])) for a in self.ops]
        self.n_runs = n

    def rewards(self, last: int) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.ops[-last:], dtype=object), np.asarray(self.vals[-last:])


def _weights(rates: dict[str, float], seed: int = 0) -> dict[str, float]:
    ctx = SimpleNamespace(state=_State(rates, seed=seed), rng=np.random.default_rng(seed))
    return HybridGenerator().weights(ctx)  # type: ignore[arg-type]


def test_starts_mostly_quasi_random() -> None:
    assert HYBRID_START["qmc"] >= 0.5 and abs(sum(HYBRID_START.values()) - 1) < 1e-9


def test_operators_worse_than_qmc_leave_the_batch_to_qmc() -> None:
    """Structured bets that find less per test leave the batch to the reference: the Sobol'
    stream, with part of its share filled by pairwise stratification (split_reference)."""
    worse = dict.fromkeys(("spread", "boundary", "edge", "mutate", "crossover", "model"), 0.2)
    for seed in range(5):
        w = _weights({"qmc": 0.4, **worse}, seed)
        assert abs(sum(w.values()) - 1) < 1e-9
        assert w["qmc"] + w.get("stratify", 0.0) >= 0.6, w
        assert w["qmc"] >= REFERENCE_FLOOR - 1e-9


def _split(rates: dict[str, float], seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    ops = np.array([a for a in rates for _ in range(100)], dtype=object)
    vals = np.array([float(x) for a in rates for x in rng.poisson(rates[a], 100)])
    discount = np.ones(len(vals))
    return split_reference({"qmc": 0.8, "boundary": 0.2}, ops, vals, discount, float(vals.mean()), rng)


@pytest.mark.parametrize("seed", range(4))
def test_stratification_fills_the_reference_share_only_while_it_finds_more(seed: int) -> None:
    better = _split({"qmc": 0.4, "stratify": 1.0, "boundary": 0.3}, seed)
    assert better["stratify"] > 0.5 and better["qmc"] >= REFERENCE_FLOOR - 1e-9
    worse = _split({"qmc": 0.8, "stratify": 0.2, "boundary": 0.3}, seed)
    assert worse["stratify"] < 0.05
    for w in (better, worse):  # the structured bets keep what the bandit gave them
        assert abs(sum(w.values()) - 1) < 1e-9 and w["boundary"] == 0.2


def test_an_operator_that_clearly_pays_takes_the_batch_but_qmc_keeps_its_floor() -> None:
    rates = {
        "qmc": 0.3,
        "spread": 0.3,
        "boundary": 2.0,
        "edge": 0.2,
        "mutate": 0.3,
        "crossover": 0.3,
        "model": 0.2,
    }
    w = _weights(rates)
    assert w["boundary"] > 0.6
    assert w["qmc"] >= REFERENCE_FLOOR - 1e-9


def test_a_known_failure_earns_no_severity_bonus() -> None:
    r = Run(
        project_id="p",
        test_id="t",
        seq=1,
        status="fail",
        duration_ms=1,
        cost_cents=1,
        failure_severity=4,
        buckets=(1, 2),
        new_buckets=1,
        ingested_at="",
        fingerprint="",
    )
    assert run_reward(r, novel=True) == 3.0  # 1 new bucket + FAILURE_CREDIT x severity 4
    assert run_reward(r, novel=False) == 1.0
