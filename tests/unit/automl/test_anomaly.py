"""The anomaly-detection template: the isolation forest exported to `optiloop.trees/1` serves
scikit-learn's own scores and threshold (the contamination budget's share of rows flagged, the same
rows), unlabelled experiments fit one detector and labelled ones search by AUC; a label that is not
boolean or 0/1 is a 422 naming `target`."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from optiloop.auth.principal import Principal
from optiloop.automl import datasets, experiments
from optiloop.deps import Deps
from optiloop.errors import InvalidInput
from optiloop.models import runtimes
from optiloop.models.artifact import read_artifact
from optiloop.store.records import Project

pytest.importorskip("optuna")
pytest.importorskip("sklearn")

ADMIN = Principal("alice", "admin", None, None)


@pytest.mark.parametrize("max_features", [1.0, 0.6])
def test_the_exported_forest_serves_sklearns_scores_and_threshold(max_features: float) -> None:
    from optiloop.automl.search.anomaly import IsolationForestModel, export_isolation_forest
    from optiloop.models.runtimes.trees import TreesPredictor

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4)).astype(np.float32).astype(np.float64)
    x[:10] += 5
    x[20, 1] = np.nan
    params = {"isolation_forest.n_estimators": 60, "isolation_forest.max_samples": 0.5,
              "isolation_forest.max_features": max_features}  # fmt: skip
    model = IsolationForestModel(params, 0.05, 0).fit(x)
    want = model.predict_outputs(x)
    got = TreesPredictor(export_isolation_forest(model, 4)).predict(x)
    np.testing.assert_allclose(got, want, atol=1e-9)
    flagged = got[:, 0] >= 0.5
    np.testing.assert_array_equal(flagged, model.est.predict(x) == -1)  # scikit-learn's own decision
    assert flagged.mean() == pytest.approx(0.05, abs=0.01) and flagged[:10].all()
    # the ranking is scikit-learn's: a lower score_samples is a higher served score
    order = np.argsort(-got[:, 0], kind="stable")
    assert np.all(np.diff(model.est.score_samples(x)[order]) >= -1e-12)


def _csv(labelled: bool) -> bytes:
    rng = np.random.default_rng(2)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["a", "b", "kind", *(["fraud"] if labelled else [])])
    for k in range(160):
        odd = k % 20 == 0
        a, b = rng.normal(size=2) + (6 if odd else 0)
        w.writerow([f"{a:.4f}", f"{b:.4f}", "xy"[k % 2], *([int(odd)] if labelled else [])])
    return buf.getvalue().encode()


def _run(deps: Deps, labelled: bool, **config: object) -> dict[str, object]:
    from optiloop.automl.run import execute

    ds = datasets.ingest(deps, ADMIN, "p1", "t", "t.csv", _csv(labelled))
    body = {"project_id": "p1", "task_type": "anomaly", "objective": "auc", "dataset_id": ds["id"],
            "config": {"cv": {"folds": 2}, "hpo": {"trials": 3, "warm_start": 0}, **config}}  # fmt: skip
    if labelled:
        body["target"] = "fraud"
    exp = experiments.create(deps, ADMIN, body)
    experiments.start(deps, ADMIN, exp["id"], lambda _d, _e: None)
    return execute(deps, exp["id"])


def test_unlabelled_anomaly_detection_flags_its_budget_and_serves(deps: Deps) -> None:
    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    done = _run(deps, labelled=False, contamination=0.1)
    assert done["status"] == "completed", done
    assert done["task"] == "anomaly" and done["config"]["contamination"] == 0.1  # type: ignore[index]
    [trial] = experiments.trials(deps, ADMIN, str(done["id"]))
    assert trial["model"] == "isolation_forest" and trial["metrics"]["flagged_share"] == pytest.approx(
        0.1, abs=0.02
    )
    art = read_artifact(deps.blobs.get(trial["artifact_key"]) or b"")
    assert art.runtime == "trees" and art.signature.classes == (False, True)
    x = np.array([[0.0, 0.0, 0.0], [8.0, 8.0, 1.0]])
    preds = runtimes.predictions(art.signature, runtimes.load(art).predict(x))
    assert [p["label"] for p in preds] == [False, True]


def test_labelled_anomaly_detection_searches_by_auc(deps: Deps) -> None:
    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    done = _run(deps, labelled=True)
    assert done["status"] == "completed", done
    board = experiments.leaderboard(deps, ADMIN, str(done["id"]))["trials"]
    assert len(board) >= 1 and all(t["model"] == "isolation_forest" for t in board)
    assert board[0]["metrics"]["auc"] > 0.95
    assert "fraud" not in done["features"]  # type: ignore[operator]  # the label scores, never fits


def test_a_label_that_is_not_zero_one_is_refused(deps: Deps) -> None:
    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    ds = datasets.ingest(deps, ADMIN, "p1", "t", "t.csv", b"a,label\n1,2\n2,3\n3,2\n")
    body = {
        "project_id": "p1",
        "task_type": "anomaly",
        "objective": "auc",
        "dataset_id": ds["id"],
        "target": "label",
    }
    with pytest.raises(InvalidInput) as e:
        experiments.create(deps, ADMIN, body)
    assert e.value.problems[0].field == "target" and "0/1" in e.value.problems[0].reason
    with pytest.raises(InvalidInput) as e:
        experiments.create(deps, ADMIN, {**body, "task_type": "classification", "target": None})
    assert e.value.problems[0].field == "target"
