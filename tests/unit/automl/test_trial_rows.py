"""The leaderboard ranks compact trial rows (optiloop.automl.trial_rows) and reads whole only the
trials it lists: the same answer as ranking every trial document, which experiments stored before
rows existed still get; a row is written with its trial, for completed trials only."""

from __future__ import annotations

import pytest
from automl_search_cases import linear_csv

from optiloop.auth.principal import Principal
from optiloop.automl import datasets, experiments, trial_rows
from optiloop.deps import Deps
from optiloop.store.records import Project

pytest.importorskip("optuna")
pytest.importorskip("sklearn")

ADMIN = Principal("alice", "admin", None, None)


@pytest.fixture
def finished(deps: Deps) -> str:
    from optiloop.automl import run

    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    ds = datasets.ingest(deps, ADMIN, "p1", "t", "t.csv", linear_csv())
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
    stored = [d.data for d in deps.store.docs.list(trial_rows.KIND, finished, limit=1000)]
    completed = [t for t in trials if t["status"] == "completed"]
    assert len(completed) < len(trials) or any(t["family"] == "ensemble" for t in trials)
    assert [r["trial_id"] for r in stored] == [t["trial_id"] for t in completed]
    for row, t in zip(stored, completed, strict=True):
        want = {k: t[k] for k in trial_rows.FIELDS if k in t}
        want["metrics"] = {k: v for k, v in t["metrics"].items() if k.startswith("logloss")}
        want["folds"] = trial_rows.pack(t["fold_scores"])
        assert row == want and set(row["metrics"]) >= {"logloss"} and "auc" in t["metrics"]
        assert "params" not in row and "optuna" not in row
    # read back shaped as a trial: the fold scores unpacked, exactly
    back = [r["fold_scores"] for r in trial_rows.since(deps, finished)[0]]
    assert back == [t["fold_scores"] for t in completed]


def test_ranking_rows_answers_what_ranking_every_document_does(deps: Deps, finished: str) -> None:
    by_rows = experiments.leaderboard(deps, ADMIN, finished, limit=3)
    assert len(by_rows["trials"]) == 3 and by_rows["trials"][0]["params"]  # listed trials read whole
    # the same experiment as one stored before rows existed: ranked from its documents
    doc = deps.store.docs.get(experiments.KIND, finished)
    assert doc is not None
    data = {k: v for k, v in doc.data.items() if k != trial_rows.ROWS_FLAG}
    deps.store.docs.replace(type(doc)(doc.kind, doc.id, doc.scope, doc.sort, data), doc.rev)
    for row in trial_rows.since(deps, finished)[0]:  # and without rows at all
        deps.store.docs.delete(trial_rows.KIND, row["trial_id"])
    by_documents = experiments.leaderboard(deps, ADMIN, finished, limit=3)
    assert by_rows == by_documents
    assert by_rows["selection"]["trial_id"] == by_rows["trials"][0]["trial_id"]


def test_packed_fold_scores_are_exact_and_keep_a_missing_one_missing() -> None:
    scores = [0.1, 1 / 3, -2.5e-300, 1e300, None]
    back = trial_rows.unpack(trial_rows.pack(scores))
    assert back[:4] == scores[:4] and back[4] != back[4]  # NaN
    assert trial_rows.unpack(trial_rows.pack([])) == []


def test_a_trial_that_did_not_complete_has_no_row(deps: Deps) -> None:
    trial = {"trial_id": "t1", "experiment_id": "e1", "number": 0, "status": "pruned", "metrics": {}}
    trial_rows.put(deps, trial, "logloss")
    assert trial_rows.since(deps, "e1") == ([], None)
