"""Active learning: the surrogate committee, the `uncertainty` operator, and its credit in `hybrid`."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from optiloop.testopt.history import history_for
from optiloop.testopt.spaces import space_for
from optiloop.testopt.strategies.generators import (
    GENERATORS,
    MODEL_ARMS,
    REFERENCE_FLOOR,
    HybridGenerator,
)
from optiloop.testopt.strategies.state import run_reward, state_for
from optiloop.testopt.surrogate.ensemble import CHUNK, Committee, bootstrap_counts, disagreement

ISSUE_SPACE = {
    "params": {
        "qps": {"type": "integer", "min": 1, "max": 5000},
        "region": {"type": "string", "enum": ["us", "eu", "apac"]},
        "payload_kb": {"type": "number", "min": 0.1, "max": 512.0},
        "cache": {"type": "boolean"},
    },
    "relations": ["if(region=='eu') then(payload_kb<=256.0)", "qps * payload_kb <= 1.0e6"],
}


def _data(n: int, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    Y = np.column_stack([np.sin(6 * X[:, 0]), (X[:, 1] > 0.8).astype(float), X[:, 2]])
    return X, Y


def test_bootstrap_counts_depend_only_on_the_run_index() -> None:
    whole = bootstrap_counts(2, 0, 5 * CHUNK)
    assert np.array_equal(whole[40:75], bootstrap_counts(2, 40, 35))
    assert not np.array_equal(whole, bootstrap_counts(3, 0, 5 * CHUNK))  # members resample apart
    assert whole.min() >= 0 and 0.7 < whole.mean() < 1.3


def test_a_cold_committee_equals_a_warm_one_bit_for_bit() -> None:
    """The state folds whole chunks into the base committee (runs arriving in any grouping) and
    the unaligned tail into a copy; a fresh process folds everything at once."""
    X, Y = _data(250)
    cold = Committee(3).fold(X[:224], Y[:224])
    warm = Committee(3)
    for lo, hi in ((0, 32), (32, 160), (160, 224)):
        warm.fold(X[lo:hi], Y[lo:hi])
    tails = [c.copy().fold(X[224:], Y[224:]) for c in (cold, warm)]
    for a_, b_ in ((cold, warm), tuple(tails)):
        assert a_.n_folded == b_.n_folded and np.array_equal(a_.sums, b_.sums)
        for a, b in zip(a_.members, b_.members, strict=True):
            for t in a:
                assert np.array_equal(a[t].A_, b[t].A_) and np.array_equal(a[t].r_, b[t].r_)


def test_copy_is_independent() -> None:
    X, Y = _data(64)
    c = Committee(3).fold(X[:32], Y[:32])
    before = c.members[0]["fail"].A_.copy()
    c.copy().fold(X[32:], Y[32:])
    assert np.array_equal(c.members[0]["fail"].A_, before) and c.n_folded == 32


def test_members_disagree_more_between_the_data_than_on_it() -> None:
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0.2, 0.02, (200, 2)), rng.normal(0.8, 0.02, (200, 2))]).clip(0, 1)
    Y = np.column_stack([np.sin(20 * X[:, 0]), (X[:, 0] > 0.5).astype(float), np.zeros(len(X))])
    c = Committee(2).fold(X, Y)
    on = disagreement(c, X[::20]).score
    between = disagreement(c, np.full((10, 2), 0.5) + rng.normal(0, 0.01, (10, 2))).score
    assert between.mean() > 2 * on.mean()


def test_a_registered_model_that_disagrees_raises_the_failure_disagreement() -> None:
    X, Y = _data(200)
    c = Committee(3).fold(X, Y)
    E = X[:20]
    agree = disagreement(c, E, c.means(E)["fail"].mean(axis=0))
    differ = disagreement(c, E, np.ones(20))
    assert np.all(differ.fail > agree.fail) and np.array_equal(differ.cov, agree.cov)


def test_active_generator_is_built_in_and_hybrid_has_the_arm() -> None:
    assert "active" in GENERATORS and GENERATORS["active"].model_scores
    assert "uncertainty" in MODEL_ARMS


def test_tests_of_the_arm_expose_their_uncertainty_and_are_credited_what_their_runs_found(
    loop_factory,
) -> None:
    loop = loop_factory(ISSUE_SPACE)
    first = loop.suggest(generator="hybrid", batch_size=20, seed=0)
    assert all("uncertainty" not in e for e in first["explanations"])  # no model before 16 runs
    loop.ingest(first["tests"])
    out = loop.suggest(generator="active", batch_size=12, seed=1)
    assert len(out["tests"]) == 12
    u = [e["uncertainty"] for e in out["explanations"]]
    assert all(isinstance(x, float) and x >= 0 for x in u) and max(u) > 0
    assert all("surrogate committee disagreement" in e["rationale"] for e in out["explanations"])
    loop.ingest(out["tests"])
    store, pid = loop.deps.store, loop.project_id
    h = history_for(store, pid)
    st = state_for(id(store), pid, space_for(store, pid), h)
    ids = {t["id"] for t in out["tests"]}
    credited = [v for op, v in zip(st.reward_ops, st.reward_vals, strict=True) if op == "uncertainty"]
    assert len(credited) == 12
    runs = [h.runs[t] for t in h.run_order if t in ids]
    for got, r in zip(credited, runs, strict=True):  # new buckets, plus severity for a new failure mode
        assert got in (run_reward(r, novel=False), run_reward(r, novel=r.status == "fail"))
    assert sum(credited) >= sum(r.new_buckets for r in runs) > 0


def test_the_arm_joins_hybrid_once_there_is_a_model(loop_factory) -> None:
    loop = loop_factory(ISSUE_SPACE)
    for i in range(6):
        out = loop.suggest(generator="hybrid", batch_size=20, seed=i)
        loop.ingest(out["tests"])
    audits = loop.deps.store.audit.list(project_id=loop.project_id, action="tests.suggest")
    mixes = [a.details["operator_mix"] for a in sorted(audits, key=lambda a: a.seq)]
    assert len(mixes) == 6
    assert "uncertainty" not in mixes[0]
    # from 16 runs on it is one of the arms weighed; its share it has to earn (here it may be 0)
    assert all("uncertainty" in m for m in mixes[1:])


class _State:
    def __init__(self, rates: dict[str, float], n: int = 300, seed: int = 0, n_runs: int = 300) -> None:
        rng = np.random.default_rng(seed)
        arms = list(rates)
        self.ops = [arms[i % len(arms)] for i in range(n)]
        self.vals = [float(rng.poisson(rates[a])) for a in self.ops]
        self.n_runs = n_runs

    def rewards(self, last: int) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.ops[-last:], dtype=object), np.asarray(self.vals[-last:])


def _weights(rates: dict[str, float], seed: int = 0, n_runs: int = 300) -> dict[str, float]:
    ctx = SimpleNamespace(state=_State(rates, seed=seed, n_runs=n_runs), rng=np.random.default_rng(seed))
    return HybridGenerator().weights(ctx)  # type: ignore[arg-type]


BASE = {"qmc": 0.4, "spread": 0.3, "boundary": 0.3, "edge": 0.2, "mutate": 0.3, "crossover": 0.3}
BASE["model"] = 0.2


@pytest.mark.parametrize("seed", range(4))
def test_an_uncertainty_arm_that_finds_more_per_test_takes_the_batch(seed: int) -> None:
    w = _weights({**BASE, "uncertainty": 2.0}, seed)
    assert w["uncertainty"] > 0.6 and w["qmc"] >= REFERENCE_FLOOR - 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_an_uncertainty_arm_that_finds_less_gets_little(seed: int) -> None:
    w = _weights({**BASE, "uncertainty": 0.05}, seed)
    assert w["uncertainty"] < 0.05


def test_no_uncertainty_arm_before_the_models_exist() -> None:
    w = _weights({**BASE, "uncertainty": 2.0}, n_runs=10)
    assert "uncertainty" not in w and "model" not in w
