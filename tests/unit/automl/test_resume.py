"""Resuming an interrupted experiment: the recorded trials stay, the search runs only the rest of
the trial budget, continuing the numbering, and a resumed run reaches the same trials as one that was
never interrupted; a created, completed or still-running experiment is a 409."""

from __future__ import annotations

import csv
import io
import threading

import numpy as np
import pytest

from optiloop.auth.principal import Principal
from optiloop.automl import datasets, experiments
from optiloop.deps import Deps
from optiloop.errors import Conflict
from optiloop.store.records import Project

pytest.importorskip("optuna")
pytest.importorskip("sklearn")

ADMIN = Principal("alice", "admin", None, None)


def _csv(n: int = 80) -> bytes:
    rng = np.random.default_rng(7)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["a", "b", "y"])
    for _ in range(n):
        a, b = rng.normal(size=2)
        w.writerow([f"{a:.4f}", f"{b:.4f}", int(a * b + rng.normal(0, 0.3) > 0)])
    return buf.getvalue().encode()


def _create(deps: Deps, ds_id: str) -> str:
    body = {
        "project_id": "p1", "task_type": "classification", "objective": "logloss", "dataset_id": ds_id,
        "target": "y", "config": {"cv": {"folds": 2}, "hpo": {"trials": 5, "warm_start": 0},
                                  "models": ["logistic_regression", "extra_trees"],
                                  "ensemble": {"method": "none"}},
    }  # fmt: skip
    exp = experiments.create(deps, ADMIN, body)
    experiments.start(deps, ADMIN, exp["id"], lambda _d, _e: None)
    return str(exp["id"])


def _summary(deps: Deps, exp_id: str) -> list[tuple[object, ...]]:
    return [
        (t["number"], t["model"], t["params"], t["status"], t["metrics"].get("logloss"))
        for t in experiments.trials(deps, ADMIN, exp_id)
        if t["status"] != "stopped"
    ]


def test_a_cancelled_search_resumes_with_the_rest_of_its_budget(deps: Deps) -> None:
    from optiloop.automl import run

    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    ds = datasets.ingest(deps, ADMIN, "p1", "t", "t.csv", _csv())
    whole = _create(deps, ds["id"])
    assert run.execute(deps, whole)["status"] == "completed"

    cut = _create(deps, ds["id"])
    with pytest.raises(Conflict):  # queued and "running here": not resumable
        experiments.resume(deps, ADMIN, cut, lambda _d, _e: None, lambda _e: True)
    real_record = run._record_trial
    stop = threading.Event()

    def record_then_cancel(deps_: Deps, exp: dict[str, object], ds_: dict[str, object], r: object) -> object:
        out = real_record(deps_, exp, ds_, r)
        if getattr(r, "number", 0) == 1:  # the worker's cancel event, set after the second trial
            experiments.update(deps_, cut, cancel_requested=True)
            stop.set()
        return out

    run._record_trial = record_then_cancel  # type: ignore[assignment]
    try:
        first = run.execute(deps, cut, stop)
    finally:
        run._record_trial = real_record  # type: ignore[assignment]
    assert first["status"] == "cancelled"
    assert len(_summary(deps, cut)) == 2  # trial 2 was stopped before its first fold

    resumed = experiments.resume(deps, ADMIN, cut, lambda _d, _e: None, lambda _e: False)
    assert resumed["status"] == "queued" and resumed["resumes"] == 1 and not resumed["cancel_requested"]
    final = run.execute(deps, cut)
    assert final["status"] == "completed" and final["progress"]["trials_done"] >= 5
    got = _summary(deps, cut)
    assert [n for n, *_ in got] == list(range(len(got)))  # numbering continues, no duplicates
    assert len(got) == 5
    # cut while the families' defaults ran (the sampler had drawn nothing yet): the resumed run
    # reaches the very trials of the uninterrupted one. Cut later, the trials after the cut may
    # differ: the replayed history is the same, the sampler's random state starts afresh.
    assert got == _summary(deps, whole)

    with pytest.raises(Conflict) as e:  # completed now
        experiments.resume(deps, ADMIN, cut, lambda _d, _e: None, lambda _e: False)
    assert e.value.details[0]["field"] == "experiment_id"
