"""Constraints on the served model: the structural cost model, the checks on `config.constraints`,
infeasible trials (ranked last, never in the ensemble, heard by the sampler) and the Pareto front."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from optiloop.automl import constraints, cost
from optiloop.automl.ranking import rank_key
from optiloop.errors import InvalidInput
from optiloop.models.runtimes.ensemble import EnsemblePredictor
from optiloop.models.runtimes.linear import LinearPredictor
from optiloop.models.runtimes.trees import TreesPredictor


def _tree(depth: int) -> dict[str, Any]:
    n_inner, n = 2**depth - 1, 2 ** (depth + 1) - 1
    return {
        "feature": [0] * n,
        "threshold": [0.0] * n,
        "left": [2 * k + 1 if k < n_inner else -1 for k in range(n)],
        "right": [2 * k + 2 if k < n_inner else -1 for k in range(n)],
        "default_left": [1] * n,
        "value": [0.1] * n,
    }


def _trees(n_trees: int, depth: int) -> TreesPredictor:
    trees = [_tree(depth) for _ in range(n_trees)]
    return TreesPredictor({"format": "optiloop.trees/1", "n_features": 2, "n_outputs": 1,
                           "base_margin": [0.0], "link": "logistic", "trees": trees})  # fmt: skip


def _linear(n_numeric: int) -> LinearPredictor:
    feats = [{"kind": "numeric", "impute": 0.0, "center": 0.0, "scale": 1.0}] * n_numeric
    return LinearPredictor({"format": "optiloop.linear/1", "n_features": n_numeric, "n_outputs": 1,
                            "link": "logistic", "features": feats, "coef": [[0.1] * n_numeric],
                            "intercept": [0.0]})  # fmt: skip


def test_latency_grows_with_the_work_a_row_does_and_is_the_same_every_time() -> None:
    small, more_trees, deeper = _trees(10, 3), _trees(200, 3), _trees(10, 8)
    lat = {
        k: cost.of_predictor(p).latency_ms_p95 for k, p in (("s", small), ("t", more_trees), ("d", deeper))
    }
    assert lat["s"] < lat["t"] and lat["s"] < lat["d"]
    assert cost.of_predictor(_trees(10, 3)).latency_ms_p95 == lat["s"]  # structure only: no clock
    assert cost.of_predictor(_linear(5)).latency_ms_p95 < cost.of_predictor(_linear(500)).latency_ms_p95
    # an ensemble costs its members and a weighted add each, known before it is built
    members = [cost.of_predictor(small), cost.of_predictor(_linear(2))]
    ens = cost.of_predictor(EnsemblePredictor([(small, 0.5), (_linear(2), 0.5)], 1, 2))
    assert ens == cost.ensemble_of(members, 1)
    assert ens.latency_ms_p95 > max(m.latency_ms_p95 for m in members)


def test_a_runtime_without_a_cost_model_is_said() -> None:
    with pytest.raises(TypeError, match="no cost model"):
        cost.of_predictor(object())


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"p99": 3}, "config.constraints.p99"),
        ({"latency_ms_p95": 0}, "config.constraints.latency_ms_p95"),
        ({"latency_ms_p95": True}, "config.constraints.latency_ms_p95"),
        ({"model_size_bytes": "1MB"}, "config.constraints.model_size_bytes"),
        ({"model_size_bytes": 2**40}, "config.constraints.model_size_bytes"),
        ([1], "config.constraints"),
    ],
)
def test_bad_constraints_name_the_field(raw: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        constraints.parse(raw)
    assert e.value.problems[0].field == field


def test_violations_and_what_the_sampler_hears() -> None:
    limits = constraints.parse({"latency_ms_p95": 2, "model_size_bytes": 1000})
    assert limits == {"latency_ms_p95": 2.0, "model_size_bytes": 1000.0}
    fast_big = {"latency_ms_p95": 1.0, "model_size_bytes": 4000.0}
    assert constraints.violations(fast_big, limits) == ["model_size_bytes 4000 > 1000"]
    assert constraints.optuna_values(fast_big, limits) == [-0.5, 3.0]  # sorted keys; <= 0 is feasible
    assert constraints.violations(None, limits) == []  # no served model (a forecasting baseline)
    assert constraints.optuna_values(None, limits) == [0.0, 0.0]


def test_the_pareto_front_keeps_what_no_trial_beats_on_both() -> None:
    # (latency, score larger-better, number)
    points = [(1.0, 0.90, 0), (2.0, 0.95, 1), (2.0, 0.93, 2), (3.0, 0.94, 3), (5.0, 0.99, 4), (0.5, 0.80, 5)]
    assert constraints.pareto_front(points) == [5, 0, 1, 4]
    assert constraints.pareto_front([(1.0, 0.9, 3), (1.0, 0.9, 1)]) == [1]  # a tie: the earlier trial


def test_infeasible_trials_rank_after_feasible_ones_whatever_their_score() -> None:
    exp = {"metric": "auc", "direction": "maximize"}
    trials = [
        {"number": 0, "metrics": {"auc": 0.99}, "feasible": False},
        {"number": 1, "metrics": {"auc": 0.90}, "feasible": True},
        {"number": 2, "metrics": {"auc": 0.95}},  # recorded before constraints: feasible
    ]
    assert [t["number"] for t in sorted(trials, key=rank_key(exp))] == [2, 1, 0]


def test_the_greedy_ensemble_skips_members_the_constraints_forbid() -> None:
    from optiloop.automl.search.ensemble import select

    y = np.array([0.0, 1.0, 2.0, 3.0])
    oof = {0: (y + 0.5)[:, None], 1: (y - 0.5)[:, None], 2: (y + 0.4)[:, None]}

    def score(p: np.ndarray) -> float:
        return -float(np.mean((p[:, 0] - y) ** 2))

    free = select(oof, score)
    assert free is not None and 1 in free.weights  # the only member below the target: the mix needs it
    bound = select(oof, score, allowed=lambda members: 1 not in members)
    assert bound is not None and 1 not in bound.weights


def test_a_search_with_constraints_marks_and_excludes_infeasible_trials() -> None:
    pytest.importorskip("optuna")
    pytest.importorskip("sklearn")
    from optiloop.automl.features import prepare
    from optiloop.automl.infer import infer_table
    from optiloop.automl.objectives import Objective
    from optiloop.automl.search.runner import SearchSpec, search

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=120), rng.normal(size=120)
    prep = prepare(
        infer_table({"a": list(a), "b": list(b), "y": list(np.sin(3 * a) + b * b)}), "y", "regression"
    )
    limit = {"latency_ms_p95": 0.05}  # a ridge model (~0.02 ms) passes, a forest (~0.1 ms) does not
    spec = SearchSpec(objective=Objective("rmse", "minimize"), folds=3, trials=3, pruner="none",
                      families=("linear", "random_forest"), constraints=limit)  # fmt: skip
    results = search(prep.x, prep.y, prep.signature, spec)
    by_model = {r.model: r for r in results if r.status == "completed"}
    forest, ridge = by_model["random_forest"], by_model["ridge"]
    assert forest.violations and forest.violations[0].startswith("latency_ms_p95 ")
    assert forest.optuna is not None and forest.optuna["constraints"][0] > 0  # replayed on resume
    assert ridge.violations == [] and ridge.cost is not None and ridge.cost["model_size_bytes"] > 0
    assert forest.metrics["rmse"] < ridge.metrics["rmse"]  # the better model, and still not allowed
    for r in results:
        if r.family == "ensemble":
            numbers = {m["number"] for m in r.params["ensemble.members"]}
            assert forest.number not in numbers
    again = search(prep.x, prep.y, prep.signature, spec)
    assert [(r.number, r.cost, r.violations) for r in again] == [
        (r.number, r.cost, r.violations) for r in results
    ]


def test_a_replayed_trial_carries_its_violations_to_the_constrained_sampler() -> None:
    optuna = pytest.importorskip("optuna")
    from optiloop.automl.search.runner import OPTUNA_CONSTRAINTS_KEY, _replayed

    assert OPTUNA_CONSTRAINTS_KEY == optuna.samplers._base._CONSTRAINTS_KEY  # Optuna's private key
    dist = optuna.distributions.distribution_to_json(optuna.distributions.CategoricalDistribution(["linear"]))
    record = {"params": {"model": "linear"}, "distributions": {"model": dist}, "constraints": [0.5, -0.2]}
    done = _replayed({"number": 0, "status": "completed", "value": 0.9, "optuna": record})
    assert done.system_attrs[OPTUNA_CONSTRAINTS_KEY] == (0.5, -0.2)
    pruned = _replayed({"number": 1, "status": "pruned", "value": None, "optuna": record})
    assert OPTUNA_CONSTRAINTS_KEY not in pruned.system_attrs
