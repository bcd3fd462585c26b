"""AutoML scaled out: the search as a loop of batches whose trials run as training jobs in parallel.

On AWS the Step Functions state machine `<prefix>-automl` (infra_cdk/automl_workflow.py) runs

    Plan -> (Map over the batch, MaxConcurrency from the tenant config:
               StartTrial -> (WaitTrial -> CheckTrial)* ) -> Record -> Plan ... -> Finalise

and each state calls one function here through the workflow-steps Lambda (`automl_*` steps). The
distributed engine is AWS itself: a trial is a SageMaker training job of the `automl_trial` entry
point (training_jobs/automl_trial), started and polled through the models capability's trainer port
like any `POST /v1/training_jobs` job (request-response + poll, no `.sync`). Locally, the bounded
worker pool (optiloop.automl.worker) runs the same search in one process instead.

Why the loop is plan/record around a stateless study: a Lambda keeps nothing between invocations,
so `plan` rebuilds the Optuna study from the recorded trials each time (their params and
distributions, replayed in number order — the mechanism `resume` uses), enqueues the warm-start and
per-family default configurations exactly as the local search does, and asks for the next batch.
`record` writes the batch's trials in number order. With the same seed, data, trial budget and
batch size the sampler sees the same history at every plan, so the same trials are proposed
(reproducible); only a time budget (`budget_s`, checked at each plan) depends on the clock.

What differs from the local search, by design: a batch's trials are proposed before any of them is
told (that is what running them in parallel means; the first batches are the families' defaults
anyway), and trials are not pruned across folds (each job runs every fold: a pruner needs the
other trials' intermediate values, which parallel jobs do not share). Constraints are judged at
record time from the artifact (optiloop.automl.cost: structural, so a busy instance does not change
them). The greedy ensemble is built at Finalise from the out-of-fold predictions each trial job
leaves beside its artifact.

Forecasting and anomaly experiments take the same path with one item: their search (many cheap
fits, baselines scored over the whole search) runs whole as ONE training job of the
`automl_experiment` entry point, and Record writes its trials as the local worker does
(optiloop.automl.search_job, which says why and what differs).
"""

from __future__ import annotations

import io
import json
import math
from datetime import datetime
from functools import partial
from typing import Any

from optiloop.auth.principal import Principal
from optiloop.automl import constraints, datasets, experiments, metalearn, ranking, search_job
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput

ENTRY_POINT = "automl_trial"
TABLE_CHANNEL = "table"
DEFAULT_BATCH = 4
REPORT_FILE, OOF_FILE = "trial.json", "oof.npz"  # what a trial job adds beside the artifact's files
MAX_BATCH = 32  # the Map's items travel in the execution's state (256 KB): small configurations
POLL_SECONDS = 30  # how often a running trial's job is asked about (SageMaker jobs take minutes)


def execution_input(exp: dict[str, Any], who: Principal) -> dict[str, Any]:
    """What the state machine starts with: the experiment and who asked (the jobs run as them)."""
    return {
        "experiment_id": exp["id"],
        "project_id": exp["project_id"],
        "started_by": {"name": who.name, "role": who.role, "project_id": who.project_id},
        "poll_seconds": POLL_SECONDS,
    }


def _principal(state: dict[str, Any]) -> Principal:
    s = state.get("started_by") or {}
    if not isinstance(s, dict) or not s.get("name") or not s.get("role"):
        raise InvalidInput(FieldProblem("started_by", "the execution must say who started it"))
    return Principal(name=str(s["name"]), role=str(s["role"]), project_id=s.get("project_id"), key_id=None)


def _context(exp: dict[str, Any], prep: Any) -> Any:
    from optiloop.automl.search.portfolio import Context

    sig = prep.signature
    kinds = [("onehot", len(i.categories)) if i.type == "category" else ("numeric", 0) for i in sig.inputs]
    return Context(task=sig.task, n_classes=len(sig.classes), n_features=prep.x.shape[1], kinds=kinds,
                   seed=int(exp["config"]["hpo"]["seed"]), n_rows=int(prep.y.size))  # fmt: skip


def families_of(exp: dict[str, Any]) -> list[str]:
    """The supervised families the trial image trains (it carries the `train` and `torch` extras),
    in the portfolio's order, restricted by `config.models`."""
    from optiloop.automl.search.portfolio import FAMILIES

    wanted = exp["config"].get("models")
    return [n for n, f in FAMILIES.items() if not f.anomaly and (not wanted or n in wanted)]


def _elapsed_s(deps: Deps, exp: dict[str, Any]) -> float:
    started = exp.get("started_at")
    if not started:
        return 0.0
    now = datetime.fromisoformat(str(deps.clock()).replace("Z", "+00:00"))
    return (now - datetime.fromisoformat(str(started).replace("Z", "+00:00"))).total_seconds()


def _searched(deps: Deps, exp_id: str) -> list[dict[str, Any]]:
    return [
        t for t in experiments._all_trials(deps, exp_id) if t.get("family") not in ("ensemble", "baseline")
    ]


def _cpu_s(trials: list[dict[str, Any]]) -> float:
    """What the recorded trials spent, each as its job measured it: progress, and budget_cpu_s."""
    return sum(float(t.get("cpu_s") or 0.0) for t in trials)


def _dataset(deps: Deps, exp: dict[str, Any]) -> dict[str, Any]:
    doc = deps.store.docs.require(
        datasets.KIND, exp["dataset_id"], field="dataset_id", what="tabular dataset"
    )
    return dict(doc.data)


def _end(deps: Deps, exp_id: str, status: str, **changes: Any) -> dict[str, Any]:
    data = experiments.update(deps, exp_id, status=status, finished_at=deps.clock(), **changes)
    return {"status": data["status"]}


def plan(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    """The next batch of configurations: `{"done", "reason", "trials": [{number, family, model,
    params, optuna}]}`; done when the trial budget is spent, the time or CPU budget is out, or the
    experiment was cancelled. A forecasting or anomaly experiment's one item is its whole search
    (search_job.PLAN_ITEM), done once that job is recorded."""
    import optuna

    from optiloop.automl.forecast import prepare_for
    from optiloop.automl.search.portfolio import FAMILIES, display_name
    from optiloop.automl.search.runner import SearchSpec, _replayed, _sampler, enqueue_first_trials

    exp_id = state["experiment_id"]
    exp = experiments._load(deps, exp_id).data
    if exp.get("cancel_requested") or exp["status"] == "cancelled":
        return {"done": True, "reason": "cancelled", "trials": []}
    if exp["status"] not in experiments.ACTIVE:  # a failed job's Record ended it (search_job)
        return {"done": True, "reason": f"the experiment is {exp['status']}", "trials": []}
    if exp["status"] == "queued":
        exp = experiments.update(deps, exp_id, status="running", started_at=deps.clock())
    cfg = exp["config"]
    if search_job.runs_as_one_job(exp):  # its budgets are the job's search's own, as locally
        if search_job.recorded(deps, exp):
            return {"done": True, "reason": "the search job is recorded", "trials": []}
        if exp.get("warm_start") is None:
            prep = prepare_for(datasets.load_table(deps, _dataset(deps, exp)), exp["target"],
                               exp["task_type"], cfg)  # fmt: skip
            _warm_start(deps, exp, prep)
        return {"done": False, "reason": None, "trials": [dict(search_job.PLAN_ITEM)]}
    history = _searched(deps, exp_id)
    remaining = int(cfg["hpo"]["trials"]) - len(history)
    if remaining <= 0:
        return {"done": True, "reason": "trial budget spent", "trials": []}
    if cfg.get("budget_s") and _elapsed_s(deps, exp) >= float(cfg["budget_s"]):
        return {"done": True, "reason": "time budget spent", "trials": []}
    if cfg.get("budget_cpu_s") and _cpu_s(history) >= float(cfg["budget_cpu_s"]):
        # the trial jobs' own CPU, as each recorded it: a batch in flight may pass it, as with time
        return {"done": True, "reason": "CPU budget spent", "trials": []}

    prep = prepare_for(datasets.load_table(deps, _dataset(deps, exp)), exp["target"], exp["task_type"], cfg)
    ctx = _context(exp, prep)
    families = families_of(exp)
    warm = _warm_start(deps, exp, prep)
    spec = SearchSpec(objective=_objective(exp), seed=int(cfg["hpo"]["seed"]), sampler=cfg["hpo"]["sampler"],
                      constraints=dict(cfg.get("constraints") or {}))  # fmt: skip
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(
        direction="maximize" if spec.objective.greater_is_better else "minimize",
        sampler=_sampler(spec, len(families)),
    )
    for t in sorted(history, key=lambda t: int(t["number"])):
        value = t["metrics"].get(exp["metric"])
        study.add_trial(_replayed({"number": t["number"], "status": t["status"], "value": value,
                                   "optuna": t.get("optuna")}))  # fmt: skip
    enqueue_first_trials(study, families, [w["config"] for w in warm], ctx)  # the local search's order
    # asked first, the enqueued configurations: prior ones, as the local search marks them
    waiting = sum(t.state == optuna.trial.TrialState.WAITING for t in study.trials)
    batch = max(1, min(int(state.get("batch_size") or DEFAULT_BATCH), MAX_BATCH))
    out: list[dict[str, Any]] = []
    for k in range(min(batch, remaining)):
        trial = study.ask()
        family = FAMILIES[trial.suggest_categorical("model", families)]
        params = family.suggest(trial, ctx)
        out.append({
            "number": len(history) + len(out),
            "family": family.name,
            "model": display_name(family.name, prep.signature.task),
            "params": params,
            "prior": k < waiting,
            "optuna": {"params": dict(trial.params), "distributions": {
                k: optuna.distributions.distribution_to_json(d) for k, d in trial.distributions.items()}},
        })  # fmt: skip
    return {"done": False, "reason": None, "trials": out}


def _warm_start(deps: Deps, exp: dict[str, Any], prep: Any) -> list[dict[str, Any]]:
    """The portfolio's configurations this experiment starts from: chosen once and kept, as the
    local run does."""
    warm = exp.get("warm_start")
    if warm is None:
        meta = metalearn.meta_features(prep.x, prep.y, prep.signature)
        warm = metalearn.nearest_configs(deps, exp["task"], meta,
                                         int(exp["config"]["hpo"].get("warm_start", 0)),
                                         exclude=exp["id"])  # fmt: skip
        experiments.update(deps, exp["id"], warm_start=warm)
    return list(warm)


def _objective(exp: dict[str, Any]) -> Any:
    from optiloop.automl.objectives import Objective

    return Objective(exp["metric"], exp["direction"])


def trial_hyperparameters(exp: dict[str, Any], trial: dict[str, Any]) -> dict[str, str]:
    """What the `automl_trial` job is told: the experiment's task and settings, and one configuration.
    Strings only (SageMaker's hyperparameters), each well under its 2,500-character limit."""
    return {
        "task_type": exp["task_type"],
        "target": str(exp["target"]),
        "metric": exp["metric"],
        "direction": exp["direction"],
        "config": json.dumps(
            {k: exp["config"][k] for k in ("cv", "hpo", "imbalance", "sensitive_column", "constraints")},
            separators=(",", ":"),
        ),
        "trial": json.dumps(
            {"number": trial["number"], "family": trial["family"], "params": trial["params"]},
            separators=(",", ":"),
        ),
        "fingerprint": exp["data_fingerprint"],
    }


def start_trial(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    """One Map item: start its training job (idempotent per experiment and trial number, so a retried
    invocation does not start a second job)."""
    from optiloop.models.training import jobs

    exp = experiments._load(deps, state["experiment_id"]).data
    trial = state["trial"]
    if trial.get("search"):  # the whole search as one job (search_job)
        claim = search_job.claim_key(exp)
        entry, hps = search_job.ENTRY_POINT, search_job.hyperparameters(exp)
        runtime: int | None = search_job.max_runtime_s(exp)
    else:
        claim = f"{exp['id']}/{int(trial['number']):06d}"
        entry, hps, runtime = ENTRY_POINT, trial_hyperparameters(exp, trial), None
    existing = deps.store.docs.get(search_job.CLAIM_KIND, claim)
    if existing is not None:
        return {k: v for k, v in existing.data.items() if k != "recorded"}
    channels = {TABLE_CHANNEL: {"dataset_id": exp["dataset_id"]}}
    job = jobs.create_job(
        deps, _principal(state), exp["project_id"], entry, hps, channels,
        instance_type=state.get("instance_type"), max_runtime_s=runtime,
    )  # fmt: skip
    data = {"job_id": job.id, "status": job.status, "failure_reason": job.failure_reason}
    from optiloop.store.records import Doc

    try:
        deps.store.docs.create(
            Doc(kind=search_job.CLAIM_KIND, id=claim, scope=exp["id"], sort=claim, data=data)
        )
    except Conflict:  # a concurrent attempt recorded its job first: that one is the trial's
        won = deps.store.docs.get(search_job.CLAIM_KIND, claim)
        return dict(won.data) if won is not None else data
    return data


def check_trial(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    """The job's status (refreshed from SageMaker while it runs): InProgress, Completed, Failed, ...
    A running job is stopped once the experiment is cancelled, at its next poll: on SageMaker even a
    one-trial job holds an instance for minutes (and a search job would run the whole search); Record
    then writes it as a stopped trial, as the local run records the trial a cancel interrupts."""
    from optiloop.models.training import jobs

    who = _principal(state)
    job = jobs.get_job(deps, who, state["job"]["job_id"])
    if job.status in ("Pending", "InProgress") and experiments._load(deps, state["experiment_id"]).data.get(
        "cancel_requested"
    ):
        job = jobs.stop_job(deps, who, job.id)
    return {"job_id": job.id, "status": job.status, "failure_reason": job.failure_reason}


def record(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    """Write the batch's trials in number order (a trial already recorded is skipped: a retried
    invocation writes nothing twice), judge them against the constraints and keep progress and the
    best feasible trial up to date."""
    from optiloop.automl.run import _record_trial
    from optiloop.models.training import jobs

    exp_id = state["experiment_id"]
    exp = experiments._load(deps, exp_id).data
    ds = _dataset(deps, exp)
    done = {int(t["number"]) for t in _searched(deps, exp_id)}
    items = sorted(state.get("batch") or [], key=lambda i: int(i["trial"]["number"]))
    who = _principal(state)
    if search_job.runs_as_one_job(exp):
        [item] = items  # Plan sends one item
        return search_job.record(deps, exp, ds, jobs.get_job(deps, who, item["job"]["job_id"]), who)
    for item in items:
        trial = item["trial"]
        if int(trial["number"]) in done:
            continue
        job = jobs.get_job(deps, who, item["job"]["job_id"])
        res, oof = _result(deps, exp, trial, job)
        recorded = _record_trial(deps, exp, ds, res)
        if oof is not None and recorded["artifact_key"]:  # kept beside the artifact, not in it
            deps.blobs.put(_oof_key(recorded), oof)
    return record_progress(deps, exp)


def _oof_key(trial: dict[str, Any]) -> str:
    return str(trial["artifact_key"]).rsplit("/", 1)[0] + "/" + OOF_FILE


def _result(deps: Deps, exp: dict[str, Any], trial: dict[str, Any], job: Any) -> tuple[Any, bytes | None]:
    """A finished job as the search's TrialResult and its out-of-fold outputs (`oof.npz`). The job's
    own files (`trial.json`: fold scores, CPU time, export check, fairness; `oof.npz`) are taken out
    and the rest repacked as the local search packs it, so the trial's artifact, its size and its
    sha256 are what a local run of the same configuration makes; cost and violations judged here."""
    from optiloop.automl import cost
    from optiloop.automl.search.runner import TrialResult
    from optiloop.models.artifact import pack_files, read_artifact

    res = TrialResult(int(trial["number"]), trial["family"], trial["model"], trial["params"], "failed",
                      optuna=dict(trial["optuna"]), prior=bool(trial.get("prior")))  # fmt: skip
    data = deps.blobs.get(job.artifact_key) if job.status == "Completed" and job.artifact_key else None
    if job.status in ("Stopping", "Stopped") and exp.get("cancel_requested"):  # check_trial stopped it
        res.status, res.error = "stopped", f"training job {job.id} {job.status}: the experiment was cancelled"
        return res, None
    if data is None:
        res.error = f"training job {job.id} {job.status}: {job.failure_reason or 'no artifact'}"[:500]
        return res, None
    art = read_artifact(data)
    report = json.loads(art.files.get(REPORT_FILE, b"{}") or b"{}")
    oof = art.files.get(OOF_FILE)
    data = pack_files({k: v for k, v in art.files.items() if k not in (REPORT_FILE, OOF_FILE)})
    res.status, res.artifact, res.runtime = "completed", data, art.runtime
    res.metrics = {k: float(v) for k, v in (art.manifest.get("metrics") or {}).items()}
    res.fold_scores = [math.nan if v is None else float(v) for v in report.get("fold_scores", [])]
    res.fit_s = float(report.get("fit_s") or job.metrics.get("fit_s") or 0.0)
    res.export_max_abs_diff = report.get("export_max_abs_diff")
    res.fairness = report.get("fairness")
    limits = dict(exp["config"].get("constraints") or {})
    try:
        structure = cost.of_artifact(data)
        res.cost = {"latency_ms_p95": structure.latency_ms_p95, "model_size_bytes": float(len(data))}
    except TypeError:
        res.cost = {"model_size_bytes": float(len(data))}
    res.violations = constraints.violations(res.cost, limits)
    if limits and res.optuna is not None:
        res.optuna["constraints"] = constraints.optuna_values(res.cost, limits)
    return res, oof


def record_progress(
    deps: Deps,
    exp: dict[str, Any],
    trials: list[dict[str, Any]] | None = None,
    done: int | None = None,
    total: int | None = None,
) -> dict[str, Any]:
    """Record progress and the best feasible trial so far (of `trials`: the searched ones unless a
    caller passes its own, with its own count of what is done and of the total)."""
    trials = _searched(deps, exp["id"]) if trials is None else trials
    good, _ = ranking.ranked(exp, [t for t in trials if ranking.is_feasible(t)])
    best = good[0] if good else None
    experiments.update(
        deps, exp["id"],
        progress={"trials_done": len(trials) if done is None else done,
                  "trials_total": exp["config"]["hpo"]["trials"] if total is None else total,
                  "cpu_s": round(_cpu_s(trials), 3),
                  "elapsed_s": round(_elapsed_s(deps, exp), 3)},
        best=None if best is None else {"trial_id": best["trial_id"], "model": best["model"],
                                        "metrics": best["metrics"]},
    )  # fmt: skip
    return {"trials_done": len(trials), "best_trial_id": None if best is None else best["trial_id"]}


def finalise(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    """The experiment's end: cancelled, failed (no feasible trial: said why), or completed — with the
    greedy ensemble of the feasible trials added as one more candidate, the best trial explained and
    the winners remembered for warm starts."""
    from optiloop.automl import report
    from optiloop.automl.forecast import prepare_for
    from optiloop.automl.run import _groups, _no_best

    exp_id = state["experiment_id"]
    exp = experiments._load(deps, exp_id).data
    if exp["status"] in experiments.FINAL:
        return {"status": exp["status"]}
    if exp.get("cancel_requested"):
        return _end(deps, exp_id, "cancelled")
    # a search job's trials (search_job) are the local run's: its baselines and ensemble compete
    one_job = search_job.runs_as_one_job(exp)
    pool = experiments._all_trials(deps, exp_id) if one_job else _searched(deps, exp_id)
    feasible, _ = ranking.ranked(exp, [t for t in pool if ranking.is_feasible(t)])
    if not feasible:
        return _end(deps, exp_id, "failed", error=_no_best(deps, exp))
    ds = _dataset(deps, exp)
    cfg = exp["config"]
    table = datasets.load_table(deps, ds)
    prep = prepare_for(table, exp["target"], exp["task_type"], cfg)
    if not one_job and (cfg.get("ensemble") or {}).get("method", "greedy") != "none":
        by_mean = sorted(feasible, key=ranking.rank_key(exp))  # its members: the local search's pool
        _ensemble(deps, exp, ds, prep, by_mean, _groups(table, exp["target"], cfg.get("sensitive_column")))
    ranked, _ = ranking.ranked(exp, experiments._all_trials(deps, exp_id))
    best = ranked[0]  # the selection rule's winner, feasible: feasible trials win first and there is one
    metalearn.remember(deps, exp, feasible, metalearn.meta_features(prep.x, prep.y, prep.signature))
    experiments.update(deps, exp_id, best={"trial_id": best["trial_id"], "model": best["model"],
                                           "metrics": best["metrics"]})  # fmt: skip
    explained = report.build(deps, exp, best, prep, int(cfg["hpo"]["seed"]), _winner_oof(deps, best))
    snapshot = {experiments.SNAPSHOT_FIELD: experiments.snapshot_ranking(deps, exp)}
    return _end(deps, exp_id, "completed", error=None, report=explained, **snapshot) | {
        "best_trial_id": best["trial_id"]
    }


def _winner_oof(deps: Deps, best: dict[str, Any]) -> Any:
    """The winner's out-of-fold outputs (the job's `oof.npz` beside its artifact), for the report's
    reliability curve and thresholds; None where there are none (the ensemble, built here)."""
    import numpy as np

    raw = deps.blobs.get(_oof_key(best)) if best.get("artifact_key") else None
    if raw is None:
        return None
    with np.load(io.BytesIO(raw), allow_pickle=False) as z:
        return np.asarray(z["oof"])


def _ensemble(
    deps: Deps,
    exp: dict[str, Any],
    ds: dict[str, Any],
    prep: Any,
    feasible: list[dict[str, Any]],
    groups: Any,
) -> dict[str, Any] | None:
    """The local search's greedy ensemble (optiloop.automl.search.runner._ensemble: selection within
    the constraints, the built artifact checked and judged) over the best feasible trials' out-of-fold
    outputs, which their jobs left beside their artifacts; recorded as one more trial. Once: a
    retried Finalise finds it."""
    import numpy as np

    from optiloop.automl import cost
    from optiloop.automl.run import _record_trial
    from optiloop.automl.search import metrics as mx
    from optiloop.automl.search.ensemble import MAX_CANDIDATES
    from optiloop.automl.search.runner import SearchSpec, TrialResult, _ensemble, score_over_folds

    trials = experiments._all_trials(deps, exp["id"])
    if any(t.get("family") == "ensemble" for t in trials):
        return None
    oof: dict[int, np.ndarray] = {}
    results: list[TrialResult] = []
    fold: np.ndarray | None = None
    for t in feasible[:MAX_CANDIDATES]:
        if not t.get("artifact_key"):
            continue
        raw = deps.blobs.get(_oof_key(t))
        art = deps.blobs.get(t["artifact_key"]) if raw is not None else None
        if raw is None or art is None:
            continue
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            outputs, fold = z["oof"], z["fold"]
        # rows x draws of a repeated CV (optiloop.automl.search.runner.stacked), one fold id per slot
        if outputs.shape[0] != fold.size or fold.size % prep.y.size or not np.all(np.isfinite(outputs)):
            continue
        oof[int(t["number"])] = outputs
        results.append(TrialResult(int(t["number"]), t["family"], t["model"], t["params"], "completed",
                                   artifact=art, structure=cost.of_artifact(art)))  # fmt: skip
    if len(oof) < 2 or fold is None:
        return None
    folds = [(np.flatnonzero(fold != j), np.flatnonzero(fold == j)) for j in range(int(fold.max()) + 1)]
    draws = fold.size // prep.y.size
    y_s = np.tile(prep.y, draws)
    groups_s = None if groups is None else np.tile(groups, draws)
    spec = SearchSpec(objective=_objective(exp), constraints=dict(exp["config"].get("constraints") or {}))
    task, n_classes = prep.signature.task, len(prep.signature.classes)

    def fold_metrics(j: int, va: np.ndarray, out: np.ndarray) -> dict[str, float]:
        return mx.compute(y_s[va], out[va], task, n_classes)

    fold_score = partial(score_over_folds, spec.objective, folds, fold_metrics)
    number = max(int(t["number"]) for t in trials) + 1
    ens = _ensemble(results, oof, fold_score, folds, spec, prep.signature, exp["data_fingerprint"], y_s,
                    groups_s, number, rows=int(prep.y.size))  # fmt: skip
    return None if ens is None else _record_trial(deps, exp, ds, ens)


def fail(deps: Deps, state: dict[str, Any]) -> dict[str, Any]:
    """A step failed for good (its retries spent): the experiment says why, nothing is left running."""
    exp_id = state["experiment_id"]
    failure = state.get("failure") or {}
    cause = str(failure.get("Cause") or failure.get("Error") or "the AutoML workflow failed")[:1000]
    exp = experiments._load(deps, exp_id).data
    if exp["status"] in experiments.FINAL:
        return {"status": exp["status"]}
    data = experiments.update(deps, exp_id, status="failed", error=cause, finished_at=deps.clock())
    return {"status": data["status"]}


STEPS = {
    "automl_plan": plan,
    "automl_start_trial": start_trial,
    "automl_check_trial": check_trial,
    "automl_record": record,
    "automl_finalise": finalise,
    "automl_fail": fail,
}
