"""Explainability and fairness: calibration and the parity / equalised-odds gaps are computed right
on hand-made predictions, permutation importance finds the feature the model reads, and a run with a
sensitive column stores the report with the experiment and the gaps in the trials' metrics (which
the model card reads)."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from optiloop.auth.principal import Principal
from optiloop.automl import datasets, experiments, explain
from optiloop.deps import Deps
from optiloop.errors import InvalidInput
from optiloop.store.records import Project

pytest.importorskip("optuna")
pytest.importorskip("sklearn")

ADMIN = Principal("alice", "admin", None, None)


def test_ece_of_perfectly_and_badly_calibrated_scores() -> None:
    y = np.array([1, 0, 1, 0] * 25)
    assert explain.ece(y, np.where(y == 1, 1.0, 0.0).reshape(-1, 1), "binary") == 0.0
    # always 0.9 for the positive class, right half the time: 0.4 off
    assert math.isclose(explain.ece(y, np.full((100, 1), 0.9), "binary"), 0.4)


def test_fairness_gaps_by_group() -> None:
    groups = np.array(["a"] * 10 + ["b"] * 10)
    y = np.array([1] * 5 + [0] * 5 + [1] * 5 + [0] * 5)
    # group a: every positive found, no false positives; group b: 3 of 5 found, 1 false positive
    p = np.array([0.9] * 5 + [0.1] * 5 + [0.9] * 3 + [0.1] * 2 + [0.9] + [0.1] * 4).reshape(-1, 1)
    f = explain.fairness(y, p, groups)
    assert math.isclose(f["demographic_parity"], 0.5 - 0.4)
    assert math.isclose(f["equalized_odds"], max(1.0 - 0.6, 0.2 - 0.0))
    assert f["groups"]["b"]["tpr"] == 0.6 and f["groups"]["a"]["rows"] == 10


def test_permutation_importance_ranks_the_feature_the_model_reads() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    y = (x[:, 1] > 0).astype(np.int64)

    def predict(xx: np.ndarray) -> np.ndarray:
        return (1 / (1 + np.exp(-5 * xx[:, 1]))).reshape(-1, 1)

    imp = explain.permutation_importance(predict, x, y, task="binary", n_classes=2, metric="auc",
                                         greater_is_better=True, names=["a", "b", "c"])  # fmt: skip
    assert imp[0]["feature"] == "b" and imp[0]["importance"] > 0.3
    assert all(r["importance"] == 0.0 for r in imp[1:])


def test_permutation_importance_reads_fewer_rows_of_a_costly_model() -> None:
    """A forest ensemble's 22 predicts on 2,000 rows took 80 s of a 30 s-budget experiment."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5000, 3))
    y = (x[:, 0] > 0).astype(np.int64)
    seen: list[int] = []

    def predict(xx: np.ndarray) -> np.ndarray:
        seen.append(xx.shape[0])
        return (1 / (1 + np.exp(-xx[:, 0]))).reshape(-1, 1)

    def rows(elements: int | None) -> set[int]:
        seen.clear()
        explain.permutation_importance(predict, x, y, task="binary", n_classes=2, metric="auc",
                                       greater_is_better=True, names=["a", "b", "c"],
                                       elements_per_row=elements)  # fmt: skip
        assert len(seen) == 3 * explain.REPEATS + 1
        return set(seen)

    assert rows(None) == rows(100) == {explain.MAX_ROWS}
    assert rows(10**7) == {explain.MIN_ROWS}  # 1e9 / (1e7 x 10 predicts) = 10, floored at MIN_ROWS
    assert rows(100_000) == {1000}  # in between: 1e9 / (1e5 x 10 predicts)


def _csv(n: int = 120) -> bytes:
    rng = np.random.default_rng(5)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["a", "b", "group", "y"])
    for k in range(n):
        a, b = rng.normal(size=2)
        w.writerow([f"{a:.4f}", f"{b:.4f}", "gh"[k % 2], int(a + 0.2 * b + rng.normal(0, 0.4) > 0)])
    return buf.getvalue().encode()


def test_a_run_with_a_sensitive_column_stores_its_report(deps: Deps) -> None:
    from optiloop.automl.run import execute

    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    ds = datasets.ingest(deps, ADMIN, "p1", "t", "t.csv", _csv())
    body = {
        "project_id": "p1", "task_type": "classification", "objective": "auc", "dataset_id": ds["id"],
        "target": "y", "config": {"cv": {"folds": 3}, "hpo": {"trials": 2, "warm_start": 0},
                                  "models": ["logistic_regression"], "sensitive_column": "group"},
    }  # fmt: skip
    with pytest.raises(InvalidInput) as e:
        experiments.create(deps, ADMIN, {**body, "config": {**body["config"], "sensitive_column": "nope"}})
    assert e.value.problems[0].field == "config.sensitive_column"
    exp = experiments.create(deps, ADMIN, body)
    experiments.start(deps, ADMIN, exp["id"], lambda _d, _e: None)
    done = execute(deps, exp["id"])
    assert done["status"] == "completed", done
    report = done["report"]
    assert report["trial_id"] == done["best"]["trial_id"]
    assert report["permutation_importance"][0]["feature"] == "a"
    assert report["calibration"]["ece"] is not None and 0 <= report["calibration"]["ece"] < 0.5
    fair = report["fairness"]
    assert fair["sensitive_column"] == "group" and set(fair["groups"]) == {"g", "h"}
    assert 0 <= fair["demographic_parity"] <= 1 and 0 <= fair["equalized_odds"] <= 1
    trial = experiments.get_trial(deps, ADMIN, report["trial_id"])
    assert trial["metrics"]["fairness.demographic_parity"] == fair["demographic_parity"]

    # registered with the sensitive column named, the model card carries the held-out numbers
    from optiloop.models.registry import models, versions

    model = models.create_model(deps, ADMIN, "p1", "m")
    v = versions.register_from_trial(
        deps, ADMIN, model.id, report["trial_id"], card={"sensitive_column": "group"}
    )
    assert v.card_key is not None
    card = json.loads(deps.blobs.get(v.card_key) or b"{}")
    assert card["fairness"]["assessed"] is True
    assert card["fairness"]["metrics"]["demographic_parity"] == pytest.approx(fair["demographic_parity"])
