"""The leaderboard ranks compact trial rows (optiloop.automl.trial_rows) and reads whole only the
trials it lists: the same answer as ranking every trial document, which experiments stored before
rows existed still get; a row is written with its trial, for completed trials only."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from optiloop.auth.principal import Principal
from optiloop.automl import datasets, experiments, trial_rows
from optiloop.deps import Deps
from optiloop.store.records import Project

pytest.importorskip("optuna")
pytest.importorskip("sklearn")

ADMIN = Principal("alice", "admin", None, None)


def _csv(n: int = 90) -> bytes:
    rng = np.random.default_rng(3)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["a", "b", "y"])
    for _ in range(n):
        a, b = rng.normal(size=2)
        w.writerow([f"{a:.4f}", f"{b:.4f}", int(a + 0.5 * b + rng.normal(0, 0.5) > 0)])
    return buf.getvalue().encode()


@pytest.fixture
def finished(deps: Deps) -> str:
    from optiloop.automl import run

    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    ds = datasets.ingest(deps, ADMIN, "p1", "t", "t.csv", _csv())
    body = {
        "project_id": "p1", "task_type": "classification", "objective": "logloss", "dataset_id": ds["id"],
        "target": "y", "config": {"cv": {"folds": 3}, "hpo": {"trials": 8, "warm_start": 0},
                                  "models": ["logistic_regression", "extra_trees"]},
    }  # fmt: skip
    exp = experiments.create(deps, ADMIN, body)
    assert exp[trial_rows.ROWS_FLAG] is True
    experiments.start(deps, ADMIN, exp["id"], lambda _d, _e: None)
    assert run.execute(deps, exp["id"])["status"] == "completed"
    return str(exp["id"])


def test_a_row_per_completed_trial_holding_what_ranking_reads(deps: Deps, finished: str) -> None:
    trials = experiments._all_trials(deps, finished)
    rows = trial_rows.rows(deps, finished)
    completed = [t for t in trials if t["status"] == "completed"]
    assert len(completed) < len(trials) or any(t["family"] == "ensemble" for t in trials)
    assert [r["trial_id"] for r in rows] == [t["trial_id"] for t in completed]
    for row, t in zip(rows, completed, strict=True):
        want = {k: t[k] for k in trial_rows.FIELDS if k in t}
        want["metrics"] = {k: v for k, v in t["metrics"].items() if k.startswith("logloss")}
        assert row == want and set(row["metrics"]) >= {"logloss"} and "auc" in t["metrics"]
        assert "params" not in row and "optuna" not in row


def test_ranking_rows_answers_what_ranking_every_document_does(deps: Deps, finished: str) -> None:
    by_rows = experiments.leaderboard(deps, ADMIN, finished, limit=3)
    assert len(by_rows["trials"]) == 3 and by_rows["trials"][0]["params"]  # listed trials read whole
    # the same experiment as one stored before rows existed: ranked from its documents
    doc = deps.store.docs.get(experiments.KIND, finished)
    assert doc is not None
    data = {k: v for k, v in doc.data.items() if k != trial_rows.ROWS_FLAG}
    deps.store.docs.replace(type(doc)(doc.kind, doc.id, doc.scope, doc.sort, data), doc.rev)
    for row in trial_rows.rows(deps, finished):  # and without rows at all
        deps.store.docs.delete(trial_rows.KIND, row["trial_id"])
    by_documents = experiments.leaderboard(deps, ADMIN, finished, limit=3)
    assert by_rows == by_documents
    assert by_rows["selection"]["trial_id"] == by_rows["trials"][0]["trial_id"]


def test_a_rewritten_trial_rewrites_its_row(deps: Deps, finished: str) -> None:
    row = trial_rows.rows(deps, finished)[0]
    doc = deps.store.docs.get(experiments.TRIAL, row["trial_id"])
    assert doc is not None
    changed = {**doc.data, "fresh_fold_scores": [0.1, 0.2, 0.3]}
    with deps.store.transaction():
        new = deps.store.docs.replace(type(doc)(doc.kind, doc.id, doc.scope, doc.sort, changed), doc.rev)
        trial_rows.put(deps, new.data, "logloss", rewrite=True)
    assert trial_rows.rows(deps, finished)[0]["fresh_fold_scores"] == [0.1, 0.2, 0.3]
    trial_rows.put(deps, {**new.data, "status": "pruned"}, "logloss")  # not completed: no row written
    assert len(trial_rows.rows(deps, finished)) == len(
        [t for t in experiments._all_trials(deps, finished) if t["status"] == "completed"]
    )
