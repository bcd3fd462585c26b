"""Warm start from the portfolio of earlier winners: a completed experiment stores its best
configurations with its table's meta-features; the next experiment on a similar table tries the
nearest ones first, records which (so a rerun repeats them), and `warm_start: 0` turns it off."""

from __future__ import annotations

import numpy as np
import pytest
from automl_search_cases import linear_csv

from optiloop.auth.principal import Principal
from optiloop.automl import datasets, experiments, metalearn
from optiloop.automl.features import prepare
from optiloop.automl.infer import infer_table
from optiloop.automl.objectives import Objective
from optiloop.deps import Deps
from optiloop.store.records import Doc, Project

pytest.importorskip("optuna")
pytest.importorskip("sklearn")

ADMIN = Principal("alice", "admin", None, None)


def _experiment(deps: Deps, seed: int, **hpo: int) -> str:
    ds = datasets.ingest(deps, ADMIN, "p1", f"t{seed}", "t.csv", linear_csv(90, seed, 0.5, b_weight=-1.0))
    body = {
        "project_id": "p1", "task_type": "classification", "objective": "logloss", "dataset_id": ds["id"],
        "target": "y", "config": {"cv": {"folds": 3}, "hpo": {"trials": 3, **hpo},
                                  "models": ["logistic_regression", "extra_trees"]},
    }  # fmt: skip
    exp = experiments.create(deps, ADMIN, body)
    experiments.start(deps, ADMIN, exp["id"], lambda _d, _e: None)
    from optiloop.automl.run import execute

    done = execute(deps, exp["id"])
    assert done["status"] == "completed", done
    return str(exp["id"])


def _trials(deps: Deps, exp_id: str) -> list[dict[str, object]]:
    return experiments.trials(deps, ADMIN, exp_id)


def test_a_completed_experiment_warm_starts_the_next_similar_one(deps: Deps) -> None:
    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    first = _experiment(deps, 1)
    stored = deps.store.docs.get(metalearn.KIND, first)
    assert stored is not None and stored.data["task"] == "binary"
    board = experiments.leaderboard(deps, ADMIN, first)["trials"]
    best_single = next(t for t in board if t["model"] != "ensemble")
    assert stored.data["configs"][0] == {"model": "linear" if best_single["model"] == "logistic_regression"
                                         else best_single["model"], **best_single["params"]}  # fmt: skip
    assert all(c["model"] != "ensemble" for c in stored.data["configs"])

    second = _experiment(deps, 2, warm_start=2)
    exp = experiments.get(deps, ADMIN, second)
    assert [w["from_experiment"] for w in exp["warm_start"]] == [first, first]
    assert [w["config"] for w in exp["warm_start"]] == stored.data["configs"][:2]
    trials = _trials(deps, second)
    # the linear defaults and the shrunk linear model (XGBoost is outside `models`), then the warm starts
    assert [t["params"] for t in trials[:2]] == [{"linear.C": 1.0}, {"linear.C": 1e-3}]
    tried = [t["params"] for t in trials[:4]]
    for w in exp["warm_start"]:  # tried first, as recorded (one may be the linear defaults themselves)
        assert {k: v for k, v in w["config"].items() if k != "model"} in tried

    off = _experiment(deps, 3, warm_start=0)
    assert experiments.get(deps, ADMIN, off)["warm_start"] == []
    assert _trials(deps, off)[0]["model"] == "logistic_regression"  # the families' defaults first


def test_nearest_configs_rank_by_meta_feature_distance(deps: Deps) -> None:
    def winner(exp_id: str, rows: int, c: float) -> None:
        meta = {"log10_rows": np.log10(rows), "log10_features": 1.0}
        config = {"model": "linear", "linear.C": c}
        data = {"experiment_id": exp_id, "project_id": "p", "task": "binary", "metric": "auc",
                "meta": meta, "configs": [config], "created_at": exp_id}  # fmt: skip
        deps.store.docs.create(Doc(kind=metalearn.KIND, id=exp_id, scope="binary", sort=exp_id, data=data))

    winner("e1", 100_000, 1.0)
    winner("e2", 200, 2.0)
    winner("e3", 150, 2.0)  # the same configuration as e2: dropped as a duplicate
    winner("e4", 1000, 3.0)
    got = metalearn.nearest_configs(deps, "binary", {"log10_rows": np.log10(150), "log10_features": 1.0}, 3)
    assert [g["config"]["linear.C"] for g in got] == [2.0, 3.0, 1.0]
    assert got[0]["from_experiment"] == "e3" and got[0]["distance"] == 0.0
    assert metalearn.nearest_configs(deps, "regression", {}, 3) == []
    assert metalearn.nearest_configs(deps, "binary", {}, 0) == []


def test_meta_features_describe_the_table() -> None:
    raw = {"n": [1.0, None, 3.0, 4.0], "c": ["a", "b", "a", None], "y": [0, 1, 0, 0]}
    prep = prepare(infer_table(raw), "y", "classification")
    meta = metalearn.meta_features(prep.x, prep.y, prep.signature)
    assert meta["categorical_share"] == 0.5 and meta["missing_share"] == 0.25
    assert meta["log2_classes"] == 1.0 and meta["minority_share"] == 0.25
    assert metalearn.distance(meta, meta) == 0.0


def test_the_search_enqueues_linear_defaults_then_warm_configurations() -> None:
    """Linear first (its defaults, then its most regularised point): a warm-started configuration can
    be slow enough to spend a short budget whole."""
    from optiloop.automl.search.runner import SearchSpec, search

    rng = np.random.default_rng(0)
    a = rng.normal(size=60)
    prep = prepare(infer_table({"a": list(a), "y": [int(v > 0) for v in a + rng.normal(0, 1, 60)]}),
                   "y", "classification")  # fmt: skip
    warm = ({"model": "extra_trees", "extra_trees.n_estimators": 50, "extra_trees.max_features": 0.5,
             "extra_trees.min_samples_leaf": 3}, {"model": "xgboost", "xgboost.max_depth": 3})  # fmt: skip
    spec = SearchSpec(objective=Objective("logloss", "minimize"), folds=2, trials=3, pruner="none",
                      families=("linear", "extra_trees"), warm_start=warm, ensemble=False)  # fmt: skip
    results = search(prep.x, prep.y, prep.signature, spec, refit=False)
    # the xgboost configuration is outside this search's families: skipped, not failed
    assert [r.model for r in results] == ["logistic_regression", "logistic_regression", "extra_trees"]
    assert results[1].params == {"linear.C": 1e-3}  # the shrunk linear model, close to the prior
    assert results[2].params["extra_trees.min_samples_leaf"] == 3
