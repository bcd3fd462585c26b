"""Forecasting and anomaly experiments on AWS: the whole local search as ONE SageMaker training job.

Why not a job per trial, as classification and regression fan out (optiloop.automl.fanout): their
searches are many cheap fits (ETS, Theta and friends over every series of a panel in seconds;
isolation forests on one table), so a job's start (minutes on SageMaker) would cost more than the
trial; forecasting's statistical baselines and their combination are scored once over the whole
search; and an unlabelled anomaly experiment is a single detector. So the AutoML state machine's Plan
sends one item, `{"number": 0, "search": true}`, through the same Map -> Record -> Finalise path:
StartTrial starts one `automl_experiment` job (training_jobs/automl_experiment) through the trainer
port, CheckTrial polls it (and stops it when the experiment is cancelled), Record writes its trials
with the local worker's own `_record_trial`, Finalise completes the experiment as the local run
does. One workflow, one execution per experiment, the same status transitions.

The job runs `optiloop.automl.search.runner.search` with the spec the local worker builds
(optiloop.automl.run.search_spec) on the same prepared table, so with the same seed, data and trial
budget the trials, their metrics and their artifacts (byte for byte: the same sha256) are the local
run's. What it writes to SM_MODEL_DIR (packed by SageMaker as `model.tar.gz`):

    optiloop-model.json, model file ...  the best completed trial's artifact: the job's model, so the
                                         job is an ordinary training-job record with an artifact
    search.json                          {"format": FORMAT, "trials_total": n, "trials": [...]}: every
                                         trial in the order the search finished them (fields as
                                         TrialResult's; NaN as Python's json writes it)
    trials/<number:06d>.tar.gz           each trial's artifact, the bytes the search built

All or nothing: a job that fails (or is stopped) leaves no trial behind, and the experiment fails
saying why (or ends cancelled). The difference from the local run, by design: a cancel stops the job
and keeps none of its trials (locally the trials finished before the cancel stay), and a resumed
experiment runs its search again from the start rather than replaying (the result is the same as an
uninterrupted run's: the trial budget is the reproducible one).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from optiloop.auth.principal import Principal
from optiloop.deps import Deps

ENTRY_POINT = "automl_experiment"
TASKS = ("forecasting", "anomaly")  # the task types whose search runs as one job
FORMAT = "optiloop.automl_search/1"
SEARCH_FILE, TRIALS_DIR = "search.json", "trials"
PLAN_ITEM: dict[str, Any] = {"number": 0, "search": True}  # the Map's one item
CLAIM_KIND = "automl_trial_job"  # shared with the fan-out's per-trial claims (fanout.start_trial)
# the job's SageMaker MaxRuntimeInSeconds: the search stops itself at budget_s; the margin covers
# reading the table, the refit and export of the trial running at the deadline, and packing
UNBUDGETED_RUNTIME_S = 24 * 3600
RUNTIME_MARGIN_S = 1800
# TrialResult's fields a trial's record is made of (the artifact travels as its own file; the cost
# structure and out-of-fold outputs are the search's working state)
_NOT_CARRIED = ("artifact", "structure", "oof", "probe")


def runs_as_one_job(exp: dict[str, Any]) -> bool:
    return exp["task_type"] in TASKS


def claim_key(exp: dict[str, Any]) -> str:
    """The job of this run of the experiment: a resumed experiment (after a cancel or a failure)
    runs a new job; a retried StartTrial finds this one."""
    return f"{exp['id']}/search-{int(exp.get('resumes') or 0):03d}"


def recorded(deps: Deps, exp: dict[str, Any]) -> bool:
    """Whether this run's job has been recorded (Plan's `done`)."""
    doc = deps.store.docs.get(CLAIM_KIND, claim_key(exp))
    return doc is not None and bool(doc.data.get("recorded"))


def hyperparameters(exp: dict[str, Any]) -> dict[str, str]:
    """What the job is told: the experiment as the local worker reads it, and the warm start Plan
    chose (one hyperparameter per configuration: each value is at most 2,500 characters)."""
    hps = {
        "task_type": exp["task_type"],
        "target": json.dumps(exp.get("target")),  # null for an unlabelled anomaly experiment
        "metric": exp["metric"],
        "direction": exp["direction"],
        "config": json.dumps(exp["config"], separators=(",", ":"), sort_keys=True),
        "fingerprint": exp["data_fingerprint"],
    }
    for k, w in enumerate(exp.get("warm_start") or []):
        hps[f"warm_start.{k}"] = json.dumps(w, separators=(",", ":"), sort_keys=True)
    return hps


def experiment_of(hps: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The job's side of `hyperparameters`: the experiment's fields search_spec reads, and the warm
    start in its order."""
    exp = {
        "task_type": hps["task_type"],
        "target": json.loads(hps["target"]),
        "metric": hps["metric"],
        "direction": hps["direction"],
        "config": json.loads(hps["config"]),
        "data_fingerprint": hps.get("fingerprint", ""),
    }
    warm = [json.loads(hps[f"warm_start.{k}"]) for k in range(len(hps)) if f"warm_start.{k}" in hps]
    return exp, warm


def max_runtime_s(exp: dict[str, Any]) -> int:
    from optiloop.models.training.jobs import MAX_RUNTIME_S

    budget = exp["config"].get("budget_s")
    limit = UNBUDGETED_RUNTIME_S if not budget else math.ceil(float(budget)) + RUNTIME_MARGIN_S
    return min(limit, MAX_RUNTIME_S)


def _best(results: list[Any], objective: Any, rule: str) -> Any:
    """The job's model: the winner by the experiment's selection rule (optiloop.automl.selection, as
    Finalise picks the experiment's best) among the completed trials with an artifact, feasible
    ones if there are any."""
    from optiloop.automl.search.runner import rank

    done = [r for r in results if r.status == "completed" and r.artifact is not None]
    ranked = rank([r for r in done if r.feasible] or done, objective, rule)
    return ranked[0] if ranked else None


def write(out: Path, results: list[Any], trials_total: int, objective: Any, rule: str = "best_mean") -> Any:
    """The job's output (see the module docstring); the best trial by `rule` (the experiment's
    config.selection), or None when no trial left a model (the job then fails with the trials'
    errors)."""
    best = _best(results, objective, rule)
    if best is None:
        return None
    import io
    import tarfile

    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(best.artifact), mode="r:gz") as tar:
        for member in tar.getmembers():
            data = tar.extractfile(member) if member.isfile() and "/" not in member.name else None
            if data is not None:
                (out / member.name).write_bytes(data.read())
    (out / TRIALS_DIR).mkdir(exist_ok=True)
    entries = []
    for r in results:
        entry = {f.name: getattr(r, f.name) for f in dataclasses.fields(r) if f.name not in _NOT_CARRIED}
        entry["artifact"] = None
        if r.artifact is not None:
            entry["artifact"] = f"{TRIALS_DIR}/{int(r.number):06d}.tar.gz"
            (out / entry["artifact"]).write_bytes(r.artifact)
        entries.append(entry)
    doc = {"format": FORMAT, "trials_total": int(trials_total), "trials": entries}
    (out / SEARCH_FILE).write_text(json.dumps(doc))
    return best


def read(files: dict[str, bytes]) -> tuple[int, list[Any]]:
    """The job's trials as TrialResults with their artifacts, in the order the search finished them;
    ValueError when the output is not this format (a job of another version, a damaged archive)."""
    from optiloop.automl.search.runner import TrialResult

    try:
        doc = json.loads(files[SEARCH_FILE])
        if doc.get("format") != FORMAT:
            raise ValueError(f"{SEARCH_FILE} is {doc.get('format')!r}, not {FORMAT}")
        carried = {f.name for f in dataclasses.fields(TrialResult)} - set(_NOT_CARRIED)
        results = []
        for entry in doc["trials"]:
            res = TrialResult(**{k: v for k, v in entry.items() if k in carried})
            name = entry.get("artifact")
            res.artifact = None if name is None else files[name]
            results.append(res)
        return int(doc["trials_total"]), results
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"the search job's output is incomplete ({e.__class__.__name__}: {e})") from e


def record(deps: Deps, exp: dict[str, Any], ds: dict[str, Any], job: Any, who: Principal) -> dict[str, Any]:
    """Record's step for the one job: its trials written in the order the local worker writes them
    (a trial already recorded, by number, is skipped: a retried invocation writes nothing twice),
    progress and best as the local worker leaves them. A job that did not complete fails the
    experiment with its reason (nothing written), unless it was stopped for a cancel."""
    from optiloop.automl import experiments
    from optiloop.automl.run import EXTRA_FAMILIES, _record_trial
    from optiloop.models.artifact import read_artifact

    exp_id = exp["id"]
    data = deps.blobs.get(job.artifact_key) if job.status == "Completed" and job.artifact_key else None
    problem = None if data is not None else f"{job.status}: {job.failure_reason or 'no artifact'}"
    results: list[Any] = []
    total = 0
    if data is not None:
        try:
            total, results = read(read_artifact(data).files)
        except ValueError as e:
            problem = f"Completed, but {e}"
    if problem is not None:
        if experiments._load(deps, exp_id).data.get("cancel_requested"):
            return {"trials_done": 0, "best_trial_id": None}  # stopped for the cancel: Finalise ends it
        experiments.update(deps, exp_id, status="failed", finished_at=deps.clock(),
                           error=f"the search's training job {job.id} {problem}"[:1000])  # fmt: skip
        return {"trials_done": 0, "best_trial_id": None}
    done = {int(t["number"]) for t in experiments._all_trials(deps, exp_id)}
    for res in results:
        if int(res.number) not in done:
            _record_trial(deps, exp, ds, res)
    claim = deps.store.docs.get(CLAIM_KIND, claim_key(exp))
    if claim is not None and not claim.data.get("recorded"):
        deps.store.docs.replace(dataclasses.replace(claim, data={**claim.data, "recorded": True}), claim.rev)
    trials = experiments._all_trials(deps, exp_id)
    from optiloop.automl.fanout import record_progress

    searched = sum(t.get("family") not in EXTRA_FAMILIES for t in trials)
    return record_progress(deps, exp, trials, done=searched, total=total)
