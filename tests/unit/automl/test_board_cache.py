"""An experiment's ranking is kept per process and takes in only what was recorded since the request
before; a few experiments are kept; stores and ways of ranking are never mixed. And end to end: a
leaderboard asked while trials are recorded answers what a process seeing the experiment for the
first time answers."""

from __future__ import annotations

from typing import Any

import pytest

from optiloop.auth.principal import Principal
from optiloop.automl import board_cache, experiments, trial_rows
from optiloop.deps import Deps
from optiloop.store.records import Doc, Project

EXP = {
    "id": "e1",
    "metric": "logloss",
    "direction": "minimize",
    "config": {"selection": "one_se", "cv": {"folds": 3}},
}


@pytest.fixture(autouse=True)
def _nothing_kept() -> None:
    board_cache._kept.clear()
    board_cache._snapshots.clear()


def _trial(n: int, loss: float) -> dict[str, Any]:
    return {"trial_id": f"t{n}", "number": n, "status": "completed", "model": "lr", "family": "linear",
            "metrics": {"logloss": loss}, "fold_scores": [loss, loss * 1.1, loss * 0.9]}  # fmt: skip


ADMIN = Principal("alice", "admin", None, None)
LOSSES = [0.5, 0.45, 0.52, 0.3, 0.31, 0.6, 0.29, 0.2, 0.25, 0.21]


def _running_experiment(deps: Deps) -> dict[str, Any]:
    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    exp = {**EXP, "project_id": "p1", "status": "running", "task_type": "classification",
           "config": {**EXP["config"], "constraints": {}}, trial_rows.ROWS_FLAG: True}  # fmt: skip
    deps.store.docs.create(Doc(kind=experiments.KIND, id="e1", scope="p1", sort="e1", data=exp))
    return exp


def _record(deps: Deps, n: int) -> None:
    """Trial n as the worker records it (pruned every fourth)."""
    status = "pruned" if n % 4 == 3 else "completed"
    trial = {**_trial(n, LOSSES[n]), "experiment_id": "e1", "project_id": "p1", "params": {"C": n},
             "cost": {"latency_ms_p95": 1.0 / (n + 1)}, "status": status}  # fmt: skip
    with deps.store.transaction():
        deps.store.docs.create(Doc(kind=experiments.TRIAL, id=trial["trial_id"], scope="e1",
                                   sort=trial_rows.sort_of(trial), data=trial))  # fmt: skip
        trial_rows.put(deps, trial, "logloss")


class Reads:
    """A `read` over a list of trials whose sort is their number, recording each `after` asked."""

    def __init__(self, trials: list[dict[str, Any]]) -> None:
        self.trials = trials
        self.asked: list[str | None] = []

    def __call__(self, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        self.asked.append(after)
        new = [t for t in self.trials if after is None or trial_rows.sort_of(t) > after]
        return new, (trial_rows.sort_of(new[-1]) if new else None)


def test_only_what_was_recorded_since_is_read(deps: Deps) -> None:
    reads = Reads([_trial(0, 0.5), _trial(1, 0.4)])
    with board_cache.board(deps, EXP, reads) as b:
        assert [t["number"] for t in b.ranked()] == [1, 0]
    reads.trials.append(_trial(2, 0.3))
    with board_cache.board(deps, EXP, reads) as b:
        assert [t["number"] for t in b.ranked()] == [2, 1, 0]
    with board_cache.board(deps, EXP, reads) as b:  # nothing new: the last sort read is kept
        assert len(b) == 3
    assert reads.asked == [None, "000001", "000002"]


def test_a_few_experiments_are_kept_and_the_least_recent_goes_first(deps: Deps) -> None:
    for k in range(board_cache.KEEP + 1):
        with board_cache.board(deps, {**EXP, "id": f"x{k}"}, Reads([_trial(0, 0.5)])):
            pass
    again = Reads([_trial(0, 0.5)])
    with board_cache.board(deps, {**EXP, "id": f"x{board_cache.KEEP}"}, again):
        pass
    assert again.asked == ["000000"]  # still kept
    with board_cache.board(deps, {**EXP, "id": "x0"}, again):
        pass
    assert again.asked[-1] is None  # evicted: read whole
    assert len(board_cache._kept) == board_cache.KEEP


def test_stores_and_ways_of_ranking_are_not_mixed(deps: Deps) -> None:
    from optiloop.store.factory import open_memory

    with board_cache.board(deps, EXP, Reads([_trial(0, 0.5)])):
        pass
    other = Deps(store=open_memory()[0], blobs=deps.blobs)
    for d, exp in (
        (other, EXP),
        (deps, {**EXP, "direction": "maximize"}),
        (deps, {**EXP, "trial_rows": True}),
    ):
        fresh = Reads([_trial(0, 0.5)])
        with board_cache.board(d, exp, fresh):
            pass
        assert fresh.asked == [None]


def test_a_running_experiments_kept_leaderboard_answers_as_a_fresh_process_would(deps: Deps) -> None:
    """Trials recorded between requests, as the worker records them (the document and its row in one
    transaction), some pruned: every answer equals the one ranking everything afresh."""
    _running_experiment(deps)
    for n in range(len(LOSSES)):
        _record(deps, n)
        kept = experiments.leaderboard(deps, ADMIN, "e1", limit=4)
        board_cache._kept.clear()
        assert kept == experiments.leaderboard(deps, ADMIN, "e1", limit=4)
    assert [t["number"] for t in kept["trials"]] == [9, 8, 6, 4]  # 3 and 7 were pruned
    assert kept["selection"]["trial_id"] == "t9" and [p["number"] for p in kept["pareto"]["trials"]] == [9]


def test_a_completed_experiment_is_ranked_from_its_snapshot_without_reading_its_rows(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = _running_experiment(deps)
    for n in range(len(LOSSES)):
        _record(deps, n)
    ranked = experiments.leaderboard(deps, ADMIN, "e1", limit=1000)
    key = experiments.snapshot_ranking(deps, exp)
    experiments.update(deps, "e1", status="completed", **{experiments.SNAPSHOT_FIELD: key})
    board_cache._kept.clear()  # a process that has not seen the experiment

    def no_rows(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("a completed experiment's rows were read")

    monkeypatch.setattr(trial_rows, "since", no_rows)
    for limit in (1000, 3, 1):
        snap = experiments.leaderboard(deps, ADMIN, "e1", limit=limit)
        assert snap == {**ranked, "status": "completed", "trials": ranked["trials"][:limit]}
    # kept once read: the blob is not fetched again
    monkeypatch.setattr(deps.blobs, "get", no_rows)
    assert experiments.leaderboard(deps, ADMIN, "e1", limit=2)["trials"] == ranked["trials"][:2]


def test_a_missing_snapshot_falls_back_to_the_rows(deps: Deps) -> None:
    _running_experiment(deps)
    for n in range(len(LOSSES)):
        _record(deps, n)
    ranked = experiments.leaderboard(deps, ADMIN, "e1")
    experiments.update(
        deps, "e1", status="completed", **{experiments.SNAPSHOT_FIELD: "automl/p1/e1/gone.json"}
    )
    board_cache._kept.clear()
    assert experiments.leaderboard(deps, ADMIN, "e1") == {**ranked, "status": "completed"}
