"""One experiment's run, as the worker executes it: the search, with every trial recorded as it
finishes and the experiment's progress, best trial and final status kept up to date.

Nothing here runs on the HTTP path; the search modules (scikit-learn, xgboost, optuna) are imported
when a run starts. A trial's artifact goes to blobs before its document, so a trial that says it has
a model always has one.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Any

from optiloop.automl import datasets, experiments, metalearn, ranking, report, selection, trial_rows
from optiloop.automl.forecast import prepare_for
from optiloop.automl.objectives import Objective
from optiloop.deps import Deps
from optiloop.models import lineage
from optiloop.models.artifact import sha256_hex
from optiloop.store.records import Doc

log = logging.getLogger("optiloop.automl.run")
CANCEL_POLL_S = 0.5
# candidates beside the trial budget, never replayed into a resumed search: the ensemble (rebuilt)
# and forecasting's statistical baselines (scored once)
EXTRA_FAMILIES = ("ensemble", "baseline")


def execute(deps: Deps, experiment_id: str, cancel: threading.Event | None = None) -> dict[str, Any]:
    """Run a queued experiment to its end; the experiment's final document."""
    cancel = cancel or threading.Event()
    exp = experiments._load(deps, experiment_id).data
    if exp["status"] != "queued" or exp.get("cancel_requested"):
        return experiments.update(deps, experiment_id, status="cancelled", finished_at=deps.clock())
    experiments.update(deps, experiment_id, status="running", started_at=deps.clock())
    try:
        return _search(deps, exp, cancel)
    except Exception as e:
        log.exception("experiment %s failed", experiment_id)
        return experiments.update(
            deps,
            experiment_id,
            status="failed",
            error=f"{e.__class__.__name__}: {e}"[:1000],
            finished_at=deps.clock(),
        )


def _search(deps: Deps, exp: dict[str, Any], cancel: threading.Event) -> dict[str, Any]:
    from optiloop.automl.search.runner import TrialResult, search

    exp_id = exp["id"]
    ds = deps.store.docs.require(
        datasets.KIND, exp["dataset_id"], field="dataset_id", what="tabular dataset"
    ).data
    table = datasets.load_table(deps, ds)
    cfg = exp["config"]
    prep = prepare_for(table, exp["target"], exp["task_type"], cfg)
    groups = _groups(table, exp["target"], cfg.get("sensitive_column"))
    meta = metalearn.meta_features(prep.x, prep.y, prep.signature)
    warm = exp.get("warm_start")
    if warm is None:  # chosen once, at the first run, and kept: a resumed run repeats them
        warm = metalearn.nearest_configs(
            deps, exp["task"], meta, int(cfg["hpo"].get("warm_start", 0)), exclude=exp_id
        )
        experiments.update(deps, exp_id, warm_start=warm)
    # out-of-fold outputs kept for the report's reliability curve and thresholds: the best-so-far
    # trial's only (dropped from every other TrialResult as it is recorded: bounded memory)
    spec = replace(search_spec(exp, prep, warm, baselines=not _baselines_scored(deps, exp_id)), keep_oof=True)
    state: dict[str, Any] = {"done": 0, "cpu": 0.0, "best": None, "checked": 0.0, "cancelled": False,
                             "board": ranking.Board(exp), "best_oof": None}  # fmt: skip
    history = _history(deps, exp_id, exp, state)
    t0 = time.monotonic()

    def should_stop() -> bool:
        if cancel.is_set():
            state["cancelled"] = True
        elif time.monotonic() - state["checked"] > CANCEL_POLL_S:
            state["checked"] = time.monotonic()
            state["cancelled"] = bool(experiments._load(deps, exp_id).data.get("cancel_requested"))
        return bool(state["cancelled"])

    def on_trial(r: TrialResult) -> None:
        trial = _record_trial(deps, exp, ds, r)
        state["done"] += r.family not in EXTRA_FAMILIES  # not one of the budget's trials
        state["cpu"] += r.fit_s
        if r.status == "completed":
            state["best"] = _best_of(state["board"].add([trial]))
            if state["best"] is trial:
                state["best_oof"] = r.oof
        r.oof = None
        best = state["best"]
        experiments.update(
            deps,
            exp_id,
            progress={
                "trials_done": state["done"],
                "trials_total": spec.trials,
                "cpu_s": round(state["cpu"], 3),
                "elapsed_s": round(time.monotonic() - t0, 3),
            },
            best=None
            if best is None
            else {"trial_id": best["trial_id"], "model": best["model"], "metrics": best["metrics"]},
        )

    search(
        prep.x,
        prep.y,
        prep.signature,
        spec,
        fingerprint=ds["fingerprint"],
        on_trial=on_trial,
        should_stop=should_stop,
        groups=groups,
        history=history,
    )
    done: dict[str, Any] = {}
    if state["cancelled"]:
        status, error = "cancelled", None
    elif state["best"] is None:
        status, error = "failed", _no_best(deps, exp)
    else:
        status, error = "completed", None
        ranked, _ = ranking.ranked(exp, experiments._all_trials(deps, exp_id))
        # winners worth warm-starting from met this experiment's constraints
        metalearn.remember(deps, exp, [t for t in ranked if ranking.is_feasible(t)], meta)
        oof = (
            state["best_oof"]
            if state["best"] is not None and state["best"]["trial_id"] == ranked[0]["trial_id"]
            else None
        )
        experiments.update(deps, exp_id, report=report.build(deps, exp, ranked[0], prep, spec.seed, oof))
        done = {experiments.SNAPSHOT_FIELD: experiments.snapshot_ranking(deps, exp)}
    return experiments.update(deps, exp_id, status=status, error=error, finished_at=deps.clock(), **done)


def _best_of(board: ranking.Board) -> dict[str, Any] | None:
    """The winner so far by the experiment's selection rule (optiloop.automl.ranking; the board takes
    each trial in as it is recorded, so asking after every trial stays cheap at thousands of them);
    an infeasible trial is never the best."""
    top = board.ranked(1)
    return top[0] if top and ranking.is_feasible(top[0]) else None


def _history(deps: Deps, exp_id: str, exp: dict[str, Any], state: dict[str, Any]) -> list[dict[str, Any]]:
    """A resumed run's recorded trials, in number order, for the search to replay (the ensemble is
    rebuilt, not replayed); the progress counters and the best trial start from them. A number with
    no record (none is expected: trials are recorded in order) is replayed as failed."""
    metric = exp["metric"]
    recorded = {
        int(t["number"]): t
        for t in experiments._all_trials(deps, exp_id)
        if t.get("family") not in EXTRA_FAMILIES
    }
    out: list[dict[str, Any]] = []
    for n in range(max(recorded, default=-1) + 1):
        t = recorded.get(n)
        if t is None:
            out.append({"number": n, "status": "failed"})
            continue
        cpu_s = float(t.get("cpu_s") or 0.0)  # spent already: progress, and against budget_cpu_s
        out.append(
            {"number": n, "status": t["status"], "value": t["metrics"].get(metric), "optuna": t.get("optuna"),
             "cpu_s": cpu_s}
        )  # fmt: skip
        state["done"] += 1
        state["cpu"] += cpu_s
    state["best"] = _best_of(state["board"].add(recorded.values()))
    return out


def _no_best(deps: Deps, exp: dict[str, Any]) -> str:
    """Why a finished search has no best trial: none completed, or none met the constraints."""
    done = [t for t in experiments._all_trials(deps, exp["id"]) if t["status"] == "completed"]
    if not done:
        return "no trial completed (see the trials' errors)"
    limits = ", ".join(f"{k} <= {v:g}" for k, v in sorted(exp["config"]["constraints"].items()))
    return (
        f"no completed trial meets the constraints ({limits}); the leaderboard lists all {len(done)} "
        "as infeasible with their costs and its Pareto front shows what each millisecond buys"
    )


def search_spec(exp: dict[str, Any], prep: Any, warm: list[dict[str, Any]], *, baselines: bool) -> Any:
    """The search an experiment runs, from its document, its prepared table and its warm start: one
    builder for the local worker and the AWS search job (training_jobs/automl_experiment), so the
    two cannot configure the same experiment differently. `baselines`: whether forecasting's
    statistical baselines are still to be scored (a resumed local run keeps its first ones)."""
    from optiloop.automl.search.runner import SearchSpec

    cfg = exp["config"]
    spec_kw: dict[str, Any] = {}
    if cfg.get("models"):
        spec_kw["families"] = tuple(cfg["models"])
    spec = SearchSpec(
        objective=Objective(exp["metric"], exp["direction"]),
        folds=cfg["cv"]["folds"],
        cv_seed=cfg["cv"]["seed"],
        repeats=experiments.cv_repeats_of(cfg),
        seed=cfg["hpo"]["seed"],
        stratified=cfg["cv"]["type"].startswith("stratified"),
        sampler=cfg["hpo"]["sampler"],
        pruner=cfg["hpo"]["early_stopping"],
        trials=cfg["hpo"]["trials"],
        budget_s=cfg.get("budget_s"),
        budget_cpu_s=cfg.get("budget_cpu_s"),
        class_weight=cfg["imbalance"]["method"] == "class_weight",
        ensemble=(cfg.get("ensemble") or {}).get("method", "greedy") != "none",
        selection=selection.rule_of(cfg),
        # experiments stored before the hedge existed keep their search (a resumed run repeats it)
        hedge=bool((cfg.get("ensemble") or {}).get("hedge", False)),
        contamination=cfg.get("contamination"),
        labelled=exp.get("target") is not None,
        warm_start=tuple(w["config"] for w in warm),
        constraints=dict(cfg.get("constraints") or {}),
        **spec_kw,
    )
    if exp["task_type"] == "forecasting":
        from optiloop.automl.search.forecasting import ForecastPlan

        panel = getattr(prep, "panel", None)
        plan = ForecastPlan(
            prep.series, prep.folds, prep.origins, prep.horizon, prep.season, baselines, panel
        )
        spec = replace(spec, stratified=False, ensemble=False, forecast=plan)
        if panel is not None and panel.global_reason:
            spec = replace(spec, trials=0)  # too few rows for a global model: the statistical ones alone
    return spec


def _baselines_scored(deps: Deps, exp_id: str) -> bool:
    """Forecasting's baselines are scored once: a resumed run keeps its first ones."""
    return any(t.get("family") == "baseline" for t in experiments._all_trials(deps, exp_id))


def _groups(table: Any, target: str | None, column: str | None) -> Any:
    """The sensitive column's values on the rows `prepare` keeps (those with a target), as strings
    (a missing value is its own group, "<missing>")."""
    if not column:
        return None
    import numpy as np

    col, tcol = table.column(column), table.column(target) if target else None
    keep = ~tcol.missing if tcol is not None else np.ones(table.n_rows, dtype=bool)
    vals = np.asarray(col.values[keep]).astype(str)
    vals[col.missing[keep]] = "<missing>"
    return vals


def _record_trial(deps: Deps, exp: dict[str, Any], ds: dict[str, Any], r: Any) -> dict[str, Any]:
    exp_id, project_id = exp["id"], exp["project_id"]
    trial_id = deps.ids("trial")
    data: dict[str, Any] = {
        "trial_id": trial_id,
        "id": trial_id,
        "experiment_id": exp_id,
        "project_id": project_id,
        "dataset_id": exp["dataset_id"],
        "data_fingerprint": ds["fingerprint"],
        "number": r.number,
        "model": r.model,
        "family": r.family,
        "params": r.params,
        "status": r.status,
        "metrics": {k: (None if v != v else v) for k, v in r.metrics.items()},  # NaN is not JSON
        "fold_scores": [None if v != v else v for v in r.fold_scores],
        "cpu_s": r.fit_s,
        "error": r.error,
        "runtime": r.runtime,
        "artifact_key": None,
        "artifact_sha256": None,
        "artifact_bytes": None,
        "export_max_abs_diff": r.export_max_abs_diff,
        "cost": r.cost,
        "feasible": r.feasible if r.status == "completed" else None,
        "violations": r.violations,
        "fairness": r.fairness,
        "optuna": r.optuna,
        "prior": r.prior,
        "hedges": r.hedges,
        "created_at": deps.clock(),
    }
    if r.artifact is not None:
        key = experiments.artifact_key(project_id, exp_id, trial_id)
        deps.blobs.put(key, r.artifact)
        data.update(
            artifact_key=key,
            artifact_sha256="sha256:" + sha256_hex(r.artifact),
            artifact_bytes=len(r.artifact),
        )
    with deps.store.transaction():
        deps.store.docs.create(
            Doc(kind=experiments.TRIAL, id=trial_id, scope=exp_id, sort=trial_rows.sort_of(data), data=data)
        )
        trial_rows.put(deps, data, exp["metric"])
        lineage.link(deps, "experiment", exp_id, "trial", trial_id, "ran", project_id=project_id)
        lineage.link(deps, "dataset", exp["dataset_id"], "trial", trial_id, "trained", project_id=project_id)
    return data
