"""AutoML experiments and their trials: the records and the use cases behind /v1/experiments.

An experiment is checked whole when it is created — project, dataset (a table of the same project),
objective, and the target (present, not constant, of the task's kind) by preparing the features
once — so `run` can only fail on what cannot be known in advance. Trials are written as they
finish (the leaderboard fills while the search runs); each completed trial carries its refit
model's artifact (blob `automl/<project>/<experiment>/<trial>/model.tar.gz`) and sha256, which
`POST /v1/models/{id}/versions {"trial_id"}` registers.

Status: created -> queued -> running -> completed | failed | cancelled. Cancelling sets
`cancel_requested` (a durable flag the worker reads between folds) and the worker ends the run.
Online experiments (the decisions capability, `type`) will share the resource and the document
kind; an AutoML experiment is the one with `task_type`.
"""

from __future__ import annotations

from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.automl import board_cache, constraints, datasets, forecast, ranking, selection, trial_rows
from optiloop.automl.features import rare_classes_warning
from optiloop.automl.objectives import parse_objective
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotFound
from optiloop.models import lineage
from optiloop.projects import get_project
from optiloop.store.records import Doc

KIND = "experiment"
TRIAL = "trial"
ACTIVE = ("queued", "running")
FINAL = ("completed", "failed", "cancelled")
WRITE_ATTEMPTS = 5
SNAPSHOT_FIELD = "ranking_snapshot"  # a completed experiment's ranking, stored (`snapshot_ranking`)
SNAPSHOT_TRIALS = 1000  # the leaderboard route's largest page
DEFAULT_TRIALS = 20
DEFAULT_CONTAMINATION = 0.05
SAMPLERS = {"bayes": "tpe", "tpe": "tpe", "bayesian": "tpe", "random": "random"}
PRUNERS = {
    "asha": "asha",
    "successive_halving": "asha",
    "hyperband": "hyperband",
    "median": "median",
    "none": "none",
}
# tasks whose objective may be left out: forecasting ranks by MASE (scale-free across series, and
# defined where sMAPE is not: a series at zero)
DEFAULT_OBJECTIVE = {"forecasting": "mase"}
FAMILY_ALIASES = {"logistic_regression": "linear", "ridge": "linear", "linear": "linear"}


def leaderboard_url(experiment_id: str) -> str:
    return f"/v1/experiments/{experiment_id}/leaderboard"


def blob_prefix(project_id: str, experiment_id: str) -> str:
    """The one folder of an experiment's blobs: its trials' artifacts, its report's plots, its
    ranking snapshot."""
    return f"automl/{project_id}/{experiment_id}/"


def artifact_key(project_id: str, experiment_id: str, trial_id: str) -> str:
    return f"{blob_prefix(project_id, experiment_id)}{trial_id}/model.tar.gz"


def normalise_config(raw: dict[str, Any], task_type: str) -> dict[str, Any]:
    """The seed's config with every default made explicit (what the run will actually do)."""
    cv = raw.get("cv") or {}
    hpo = raw.get("hpo") or {}
    imbalance = raw.get("imbalance") or {}
    ensemble = raw.get("ensemble") or {}
    forecasting = task_type == "forecasting"
    default_cv = "expanding_window" if forecasting else "kfold"
    cv_type = cv.get("type") or ("stratified_kfold" if task_type == "classification" else default_cv)
    if forecasting and cv_type != "expanding_window":
        raise InvalidInput(FieldProblem("config.cv.type", "forecasting validates on expanding_window folds"))
    default_folds = forecast.DEFAULT_FOLDS if forecasting else 5
    sampler = str(hpo.get("sampler") or "tpe").lower()
    pruner = str(hpo.get("early_stopping") or "asha").lower()
    if sampler not in SAMPLERS:
        raise InvalidInput(FieldProblem("config.hpo.sampler", f"one of {', '.join(SAMPLERS)}"))
    if pruner not in PRUNERS:
        raise InvalidInput(
            FieldProblem("config.hpo.early_stopping", f"one of {', '.join(PRUNERS)} (or null)")
        )
    rule = _selection(raw.get("selection"), task_type)
    models = raw.get("models")
    families: list[str] = []
    if models:
        from optiloop.automl.search.portfolio import NAMES  # names only: no scikit-learn import

        for k, m in enumerate(models):
            fam = FAMILY_ALIASES.get(m, m)
            if fam not in NAMES:
                raise InvalidInput(
                    FieldProblem(f"config.models[{k}]", f"{m!r} is not in the portfolio: {', '.join(NAMES)}")
                )
            if fam not in families:
                families.append(fam)
    return {
        "cv": {
            "type": cv_type,
            "folds": int(cv.get("folds") or default_folds),
            "seed": int(cv.get("seed") or 0),
            "repeats": _repeats(cv.get("repeats"), forecasting),
        },
        "hpo": {
            "sampler": SAMPLERS[sampler],
            "trials": int(hpo.get("trials") or DEFAULT_TRIALS),
            "early_stopping": PRUNERS[pruner],
            "seed": int(hpo["seed"]) if hpo.get("seed") is not None else int(cv.get("seed") or 0),
            "warm_start": int(hpo["warm_start"]) if hpo.get("warm_start") is not None else 3,
        },
        "ensemble": {
            "method": str(ensemble.get("method") or "greedy"),
            # only classification hedges (optiloop.automl.search.hedge; on logloss)
            "hedge": ensemble.get("hedge") is not False and task_type == "classification",
        },
        "sensitive_column": raw.get("sensitive_column") or None,
        "contamination": float(raw.get("contamination") or DEFAULT_CONTAMINATION)
        if task_type == "anomaly"
        else None,
        "forecast": forecast.settings(raw) if forecasting else None,
        "imbalance": {"method": str(imbalance.get("method") or "none")},
        "constraints": constraints.parse(raw.get("constraints")),
        "budget_s": float(raw["budget_s"]) if raw.get("budget_s") is not None else None,
        "budget_cpu_s": float(raw["budget_cpu_s"]) if raw.get("budget_cpu_s") is not None else None,
        "models": families or None,
        "selection": rule,
    }


MAX_REPEATS = 10  # config.cv.repeats' bound: k x R fits per trial


def _repeats(value: Any, forecasting: bool) -> int | None:
    """config.cv.repeats: how many shuffled draws of the k folds score each trial; null picks by the
    table's size (optiloop.automl.search.runner.cv_repeats: several on small tables, one from 500
    rows). Forecasting's expanding windows are drawn once: their order is the point."""
    if value is None:
        return 1 if forecasting else None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REPEATS:
        raise InvalidInput(FieldProblem("config.cv.repeats", f"an integer from 1 to {MAX_REPEATS}, or null"))
    if forecasting and value != 1:
        raise InvalidInput(FieldProblem("config.cv.repeats", "forecasting draws its expanding windows once"))
    return value


def cv_repeats_of(cfg: dict[str, Any]) -> int | None:
    """The stored config's repeats: None (by table size) for experiments made with the setting, 1 for
    those made before it (they ran plain k-fold, and a resumed run must score on the same folds)."""
    cv = cfg.get("cv") or {}
    value: int | None = cv.get("repeats", 1)
    return value


# tasks without exchangeable CV folds to pair (expanding windows of different lengths; no labels):
# their winner is the best mean (optiloop.automl.selection)
BEST_MEAN_TASKS = ("forecasting", "anomaly")


def _selection(value: Any, task_type: str) -> str:
    """config.selection: how the winner is chosen among the completed candidates."""
    if value is None:
        return selection.BEST_MEAN if task_type in BEST_MEAN_TASKS else selection.DEFAULT
    if value not in selection.RULES:
        raise InvalidInput(FieldProblem("config.selection", f"one of {', '.join(selection.RULES)}"))
    if value == selection.ONE_SE and task_type in BEST_MEAN_TASKS:
        raise InvalidInput(
            FieldProblem(
                "config.selection",
                f"one_se pairs k-fold CV scores; a {task_type} experiment's winner is its best_mean",
            )
        )
    return str(value)


def create(deps: Deps, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    project_id = body["project_id"]
    authorize(who, Action.MODEL_WRITE, project_id)
    get_project(deps, project_id)
    task_type = body["task_type"]
    dataset_id = body["dataset_id"]
    if datasets.find(deps, dataset_id) is None and deps.store.docs.get("dataset", dataset_id) is not None:
        raise InvalidInput(
            FieldProblem("dataset_id", "is a golden set; experiments need a table (POST /v1/datasets/ingest)")
        )
    ds = datasets.get_table_dataset(deps, who, dataset_id)
    if ds["project_id"] != project_id:
        raise InvalidInput(FieldProblem("dataset_id", "belongs to another project"))
    objective_text = body.get("objective") or DEFAULT_OBJECTIVE.get(task_type)
    if objective_text is None:
        raise InvalidInput(FieldProblem("objective", f"is required for {task_type}"))
    objective = parse_objective(objective_text, task_type)
    config = normalise_config(body.get("config") or {}, task_type)
    target = body.get("target")
    if target is None and task_type != "anomaly":
        raise InvalidInput(FieldProblem("target", f"is required for {task_type}"))
    table = datasets.load_table(deps, ds)
    prep = forecast.prepare_for(table, target, task_type, config)
    sensitive = config["sensitive_column"]
    if sensitive is not None and (table.column(sensitive) is None or sensitive == target):
        raise InvalidInput(
            FieldProblem(
                "config.sensitive_column", f"{sensitive!r} is not a column of the dataset besides the target"
            )
        )
    warnings: list[str] = []
    rare = rare_classes_warning(getattr(prep, "dropped_classes", {}))
    if rare:
        warnings.append(rare)
    if task_type == "forecasting":
        warnings += forecast_warnings(prep)
    exp_id = deps.ids("exp")
    data: dict[str, Any] = {
        "id": exp_id,
        "experiment_id": exp_id,
        "project_id": project_id,
        "name": body.get("name") or f"{task_type} of {target or 'every row'}",
        "task_type": task_type,
        "task": task_type if task_type in ("anomaly", "forecasting") else prep.task,
        "objective": objective_text,
        "metric": objective.metric,
        "direction": objective.direction,
        "dataset_id": dataset_id,
        "data_fingerprint": ds["fingerprint"],
        "target": target,
        "config": config,
        "status": "created",
        "features": [i.name for i in prep.signature.inputs],
        "excluded": prep.excluded,
        "class_balance": prep.class_balance,
        "dropped_rows": prep.dropped_rows,
        "forecast_features": getattr(prep, "recipe", None),  # forecasting: how to build an instance
        "warnings": warnings,
        "progress": {"trials_done": 0, "trials_total": config["hpo"]["trials"], "cpu_s": 0.0},
        "best": None,
        "report": None,  # the best trial explained (optiloop.automl.explain), written when it completes
        "warm_start": None,  # the portfolio's configurations this run starts from, chosen at its start
        "cancel_requested": False,
        "error": None,
        "leaderboard_url": leaderboard_url(exp_id),
        trial_rows.ROWS_FLAG: True,  # its completed trials have ranking rows (optiloop.automl.trial_rows)
        "created_at": deps.clock(),
        "created_by": who.name,
        "started_at": None,
        "finished_at": None,
    }
    with deps.store.transaction():
        deps.store.docs.create(Doc(kind=KIND, id=exp_id, scope=project_id, sort=exp_id, data=data))
        lineage.link(deps, "dataset", dataset_id, "experiment", exp_id, "input", project_id=project_id)
        record(
            deps, who, "experiment.created", project_id, exp_id,
            {"task_type": task_type, "dataset_id": dataset_id, "target": target,
             "metric": objective.metric},
        )  # fmt: skip
    return data


def forecast_warnings(prep: Any) -> list[str]:
    """What a forecasting experiment will not do with this data (said at creation)."""
    panel = getattr(prep, "panel", None)
    if panel is not None and panel.global_reason:
        return [panel.global_reason]
    return []


def _load(deps: Deps, experiment_id: str) -> Doc:
    doc = deps.store.docs.require(KIND, experiment_id, field="experiment_id", what="experiment")
    if "task_type" not in doc.data:
        raise NotFound(
            f"no AutoML experiment '{experiment_id}'",
            details=[{"field": "experiment_id", "reason": "not an AutoML experiment (no task_type)"}],
        )
    return doc


def get(deps: Deps, who: Principal, experiment_id: str, action: Action = Action.MODEL_READ) -> dict[str, Any]:
    doc = _load(deps, experiment_id)
    authorize(who, action, doc.data["project_id"])
    return doc.data


def listing(
    deps: Deps, who: Principal, project_id: str, after: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """A project's experiments, AutoML and online alike (they share the resource), oldest first as
    every listing (ids are time-ordered), each as its `summary`."""
    authorize(who, Action.MODEL_READ, project_id)
    get_project(deps, project_id)
    return [summary(d.data) for d in deps.store.docs.list(KIND, project_id, after=after, limit=limit)]


def summary(exp: dict[str, Any]) -> dict[str, Any]:
    """What a listing shows of an experiment: what it is, where it stands and its best so far — not
    its configuration, features or report (an AutoML experiment's document carries its winner's
    explanation: kilobytes each, which a listing of hundreds does not need)."""
    out = {k: exp.get(k) for k in ("id", "project_id", "name", "status", "created_at", "created_by")}
    # online, as optiloop.decisions.spec.is_online tells: not imported, since decisions.spec pulls in
    # scipy, which the workflow-steps Lambda (importing this module) does not carry
    if "type" in exp and "task_type" not in exp:
        return out | {"kind": "online", "type": exp["type"], "metric": (exp.get("metric") or {}).get("name")}
    return out | {
        "kind": "automl",
        "task_type": exp.get("task_type"),
        "metric": exp.get("metric"),
        "direction": exp.get("direction"),
        "dataset_id": exp.get("dataset_id"),
        "progress": exp.get("progress"),
        "best": exp.get("best"),
        "finished_at": exp.get("finished_at"),
    }


def update(deps: Deps, experiment_id: str, **changes: Any) -> dict[str, Any]:
    """Apply `changes` under the document's rev, re-reading on a concurrent write (a cancel)."""
    for attempt in range(WRITE_ATTEMPTS):
        doc = _load(deps, experiment_id)
        new = Doc(kind=KIND, id=doc.id, scope=doc.scope, sort=doc.sort, data={**doc.data, **changes})
        try:
            return deps.store.docs.replace(new, doc.rev).data
        except Conflict:
            if attempt == WRITE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def start(deps: Deps, who: Principal, experiment_id: str, submit: Any) -> dict[str, Any]:
    """created -> queued, and hand it to the worker pool (`submit(deps, experiment_id)`)."""
    exp = get(deps, who, experiment_id, Action.MODEL_WRITE)
    if exp["status"] != "created":
        raise Conflict(
            f"experiment '{experiment_id}' is {exp['status']}; only a created experiment can be run "
            "(create another to search again: its trials and leaderboard stay as they are)",
            details=[{"field": "experiment_id", "reason": f"is {exp['status']}"}],
        )
    data = update(deps, experiment_id, status="queued", queued_at=deps.clock())
    record(deps, who, "experiment.run", exp["project_id"], experiment_id, {})
    submit(deps, experiment_id)
    return data


def resume(deps: Deps, who: Principal, experiment_id: str, submit: Any, is_active: Any) -> dict[str, Any]:
    """Continue an interrupted search where it stopped: a cancelled or failed experiment, or one left
    queued/running by a process that died (`is_active(experiment_id)` is false for it here). Its
    recorded trials stay and are replayed into the search, which runs the rest of the trial budget."""
    exp = get(deps, who, experiment_id, Action.MODEL_WRITE)
    status = exp["status"]
    interrupted = status in ("cancelled", "failed") or (status in ACTIVE and not is_active(experiment_id))
    if not interrupted:
        reason = "is running in this process" if status in ACTIVE else f"is {status}"
        raise Conflict(
            f"experiment '{experiment_id}' {reason}; only a cancelled, failed or interrupted experiment "
            "can be resumed (a created one is run)",
            details=[{"field": "experiment_id", "reason": reason}],
        )
    data = update(
        deps, experiment_id, status="queued", cancel_requested=False, error=None, finished_at=None,
        resumed_at=deps.clock(), resumes=int(exp.get("resumes") or 0) + 1,
    )  # fmt: skip
    record(deps, who, "experiment.resumed", exp["project_id"], experiment_id, {"was": status})
    submit(deps, experiment_id)
    return data


def cancel(deps: Deps, who: Principal, experiment_id: str, signal: Any) -> dict[str, Any]:
    """Ask a queued or running experiment to stop; a finished one is returned unchanged."""
    exp = get(deps, who, experiment_id, Action.MODEL_WRITE)
    if exp["status"] in FINAL:
        return exp
    if exp["status"] == "created":
        data = update(deps, experiment_id, status="cancelled", finished_at=deps.clock())
    else:
        data = update(deps, experiment_id, cancel_requested=True)
        signal(experiment_id)
    record(deps, who, "experiment.cancelled", exp["project_id"], experiment_id, {"was": exp["status"]})
    return data


def trials(
    deps: Deps, who: Principal, experiment_id: str, limit: int = 1000, after: int | None = None
) -> list[dict[str, Any]]:
    get(deps, who, experiment_id)
    docs = deps.store.docs.list(
        TRIAL, experiment_id, after=None if after is None else f"{after:06d}", limit=limit
    )
    return [_trial_out(d.data) for d in docs]


def _trial_out(t: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in t.items() if k not in ("signature", "optuna")}


def _all_trials(deps: Deps, experiment_id: str) -> list[dict[str, Any]]:
    return _trials_since(deps, experiment_id, None)[0]


def _trials_since(
    deps: Deps, experiment_id: str, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The experiment's trial documents past `after` (a sort; None: all), in number order, and the
    last one's sort."""
    out: list[dict[str, Any]] = []
    while True:
        page = deps.store.docs.list(TRIAL, experiment_id, after=after, limit=500)
        out.extend(d.data for d in page)
        if page:
            after = page[-1].sort
        if len(page) < 500:
            return out, after


def _recorded_since(
    deps: Deps, exp: dict[str, Any], after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """What ranking reads of the trials recorded past `after`: the experiment's compact rows
    (optiloop.automl.trial_rows; completed trials only, a fraction of the documents' bytes), or, for
    an experiment stored before rows existed, its trial documents' `view`s."""
    if exp.get(trial_rows.ROWS_FLAG):
        return trial_rows.since(deps, exp["id"], after)
    docs, last = _trials_since(deps, exp["id"], after)
    return [trial_rows.view(t, exp["metric"]) for t in docs if t["status"] == "completed"], last


def leaderboard(deps: Deps, who: Principal, experiment_id: str, limit: int = 100) -> dict[str, Any]:
    """Completed trials, the selection rule's winner first (optiloop.automl.selection), then feasible
    ones before infeasible, each best first by the objective (ties: the earlier trial); why the
    winner wins; and the accuracy-vs-latency Pareto front over all of them (optiloop.automl.ranking).
    The experiment's ranking is kept between requests and takes in only what was recorded since
    (optiloop.automl.board_cache), or read from its snapshot once completed; the listed trials are
    read whole."""
    exp = get(deps, who, experiment_id)
    listed, front, chosen = _ranking(deps, exp, limit)
    on_front = {p["trial_id"] for p in front}
    full = deps.store.docs.get_many(TRIAL, listed)
    return {
        "experiment_id": experiment_id,
        "status": exp["status"],
        "metric": exp["metric"],
        "direction": exp["direction"],
        "constraints": exp["config"].get("constraints") or {},
        "trials": [
            {
                "rank": k + 1,
                "trial_id": t["trial_id"],
                "number": t["number"],
                "model": t["model"],
                "params": t["params"],
                "metrics": t["metrics"],
                "runtime": t.get("runtime"),
                "cost": t.get("cost"),
                "feasible": ranking.is_feasible(t),
                "violations": t.get("violations") or [],
                "pareto": t["trial_id"] in on_front,
                "hedges": t.get("hedges"),
            }
            for k, t in enumerate(full[i].data for i in listed if i in full)
        ],
        "pareto": {"x": constraints.PARETO_X, "y": exp["metric"], "trials": front},
        "selection": chosen,
    }


def _ranking(
    deps: Deps, exp: dict[str, Any], limit: int, *, snapshot: bool = True
) -> tuple[list[str], list[dict[str, Any]], dict[str, Any]]:
    """The leaderboard's ranking: the first `limit` trial ids, the Pareto front and the selection.
    A completed experiment's comes from its snapshot (`snapshot_ranking`), anything else's from its
    kept Board."""
    key = exp.get(SNAPSHOT_FIELD)
    if snapshot and key and exp["status"] == "completed":
        snap = board_cache.snapshot(deps, key)
        if snap is not None:
            return snap["order"][:limit], snap["pareto"], snap["selection"]
    with board_cache.board(deps, exp, lambda after: _recorded_since(deps, exp, after)) as board:
        listed = [t["trial_id"] for t in board.ranked(limit)]
        return listed, [_front_out(exp, t) for t in board.front()], _selection_out(exp, board, board.choice())


def snapshot_ranking(deps: Deps, exp: dict[str, Any]) -> str:
    """Store the finished experiment's ranking (as many trials as the leaderboard's largest page);
    returns the blob's key, which the completing update records as `SNAPSHOT_FIELD`. Call once every
    trial is recorded, the ensemble included: a completed experiment takes no more trials, so the
    snapshot never goes stale.

    Why: a process that has not ranked an experiment before reads every completed trial's row on
    its first leaderboard request (193-262 ms at 10,000 trials on SQLite; on DynamoDB ~3 MB of rows
    over several query pages, in every new Lambda container). A completed experiment's ranking is
    fixed, so it is read as one small document instead (tests/benchmarks/automl_overhead.py)."""
    order, front, chosen = _ranking(deps, exp, SNAPSHOT_TRIALS, snapshot=False)
    key = blob_prefix(exp["project_id"], exp["id"]) + "leaderboard.json"
    board_cache.write_snapshot(deps, key, {"order": order, "pareto": front, "selection": chosen})
    return key


def _selection_out(exp: dict[str, Any], board: ranking.Board, choice: Any) -> dict[str, Any]:
    """The rule, the winner and the best by mean, and why (null ids before any trial completed)."""
    out: dict[str, Any] = {"rule": ranking.selection_rule(exp), "trial_id": None, "best_mean_trial_id": None,
                           "hedged_trial_id": None, "gap": None, "se": None, "reason": None}  # fmt: skip
    if choice is not None:
        winner, best = board.trial(choice.winner), board.trial(choice.best_mean)
        names = {choice.winner: str(winner["model"]), choice.best_mean: str(best["model"])}
        if choice.hedged is not None:
            hedged = board.trial(choice.hedged)
            names[choice.hedged] = str(hedged["model"])
            out["hedged_trial_id"] = hedged["trial_id"]
        out.update(
            trial_id=winner["trial_id"],
            best_mean_trial_id=best["trial_id"],
            gap=choice.gap,
            se=choice.se,
            reason=choice.reason(names),
        )
    return out


def _front_out(exp: dict[str, Any], t: dict[str, Any]) -> dict[str, Any]:
    """A trial on the accuracy-vs-latency Pareto front, as the leaderboard lists it."""
    return {
        "trial_id": t["trial_id"],
        "number": int(t["number"]),
        "model": t["model"],
        constraints.PARETO_X: t["cost"][constraints.PARETO_X],
        exp["metric"]: t["metrics"].get(exp["metric"]),
        "feasible": ranking.is_feasible(t),
    }


def get_trial(deps: Deps, who: Principal, trial_id: str, *, field: str = "trial_id") -> dict[str, Any]:
    doc = deps.store.docs.require(TRIAL, trial_id, field=field, what="trial")
    authorize(who, Action.MODEL_READ, doc.data["project_id"])
    return doc.data
