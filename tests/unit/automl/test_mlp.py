"""The PyTorch MLP family: trained on the worker, served by numpy (`optiloop.mlp/1`) with its ONNX
graph (preprocessing inside) in the same artifact, both answering what torch does (missing values
and category codes included); an ensemble that mixes it with other runtimes serves too."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from optiloop.automl.features import prepare
from optiloop.automl.infer import infer_table
from optiloop.automl.objectives import Objective

pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("optuna")


def _table(task: str, step: float = 0.0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    n = 150
    a, c = rng.normal(size=n), rng.integers(0, 3, size=n)
    target = a + 0.7 * c + step * (np.abs(a) < 0.5) + rng.normal(0, 0.3, n)
    raw = {
        "a": [None if k % 11 == 0 else float(v) for k, v in enumerate(a)],
        "c": [None if k % 13 == 0 else "xyz"[v] for k, v in enumerate(c)],
        "t": [float(v) for v in target] if task == "regression" else [int(v > 0.7) for v in target],
    }
    return prepare(infer_table(raw), "t", task)


@pytest.mark.parametrize(("task", "metric"), [("classification", "logloss"), ("regression", "rmse")])
def test_the_mlp_exports_to_onnx_and_serves_what_it_learnt(task: str, metric: str) -> None:
    from optiloop.automl.search.runner import SearchSpec, search
    from optiloop.models import runtimes
    from optiloop.models.artifact import read_artifact

    prep = _table(task)
    spec = SearchSpec(objective=Objective(metric, "minimize"), folds=2, trials=1, pruner="none",
                      families=("mlp",), ensemble=False)  # fmt: skip
    [res] = search(prep.x, prep.y, prep.signature, spec)
    assert res.status == "completed", res.error
    assert res.runtime == "mlp" and res.export_max_abs_diff is not None
    art = read_artifact(res.artifact or b"")
    assert art.manifest["framework"] == "torch" and art.manifest["model_file"] == "model.mlp.json"
    out = runtimes.load(art).predict(prep.x)
    # the ONNX graph in the same artifact answers the same (onnxruntime, float32)
    onnx = replace(art, manifest={**art.manifest, "runtime": "onnx", "model_file": art.manifest["onnx_file"]})
    np.testing.assert_allclose(
        runtimes.load(onnx).predict(prep.x), out, atol=1e-4 * max(1, np.abs(out).max())
    )
    assert out.shape == (prep.x.shape[0], 1) and np.all(np.isfinite(out))
    if task == "regression":  # it learnt something: better than predicting the mean
        assert float(np.sqrt(np.mean((out[:, 0] - prep.y) ** 2))) < float(np.std(prep.y))
    else:
        assert np.all((out >= 0) & (out <= 1))
        assert float(np.mean((out[:, 0] > 0.5) == prep.y)) > 0.7
    # a missing numeric and an unseen/missing category code are served, not refused
    probe = np.array([[np.nan, np.nan], [0.5, 2.0]])
    assert np.all(np.isfinite(runtimes.load(art).predict(probe)))


def test_same_seed_same_mlp() -> None:
    from optiloop.automl.search.runner import SearchSpec, search

    prep = _table("classification")
    spec = SearchSpec(objective=Objective("logloss", "minimize"), folds=2, trials=1, pruner="none",
                      families=("mlp",), ensemble=False)  # fmt: skip
    a, b = (search(prep.x, prep.y, prep.signature, spec, refit=False)[0] for _ in range(2))
    assert a.metrics == b.metrics and a.status == "completed"


def test_the_search_adds_an_ensemble_that_serves_across_runtimes() -> None:
    from optiloop.automl.search.runner import SearchSpec, rank, search
    from optiloop.models import runtimes
    from optiloop.models.artifact import read_artifact

    prep = _table("regression", step=1.5)  # linear plus a bump: ridge and trees each get half right
    spec = SearchSpec(objective=Objective("rmse", "minimize"), folds=3, trials=3, pruner="none",
                      families=("mlp", "linear", "extra_trees"))  # fmt: skip
    results = search(prep.x, prep.y, prep.signature, spec)
    ens = [r for r in results if r.family == "ensemble"]
    assert len(ens) == 1 and ens[0].status == "completed" and ens[0].number == 3
    members = ens[0].params["ensemble.members"]
    assert len(members) >= 2 and abs(sum(m["weight"] for m in members) - 1) < 1e-5
    best_single = rank([r for r in results if r.family != "ensemble"], spec.objective)[0]
    assert ens[0].metrics["rmse"] <= best_single.metrics["rmse"] + 1e-12
    art = read_artifact(ens[0].artifact or b"")
    assert art.runtime == "ensemble"
    out = runtimes.load(art).predict(prep.x)
    assert out.shape == (prep.x.shape[0], 1) and np.all(np.isfinite(out))
