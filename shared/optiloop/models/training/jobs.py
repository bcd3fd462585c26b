"""Training jobs, the use cases: create, get (refreshing from the backend), list, stop, logs.

How to start a job from code (a workflow step, a retraining trigger, the surrogate's policies:train):

    from optiloop.models.training.jobs import create_job
    job = create_job(deps, who, project_id, "surrogate", {"n_estimators": "200"},
                     {"runs": {"project_runs": project_id}})
    ... later: get_job(deps, who, job.id)   # refreshes status; Completed jobs carry artifact_key

A job's record is written (with its lineage edges and its `training_job.created` audit entry, in one
transaction) before the backend is asked to run it, so a job that the backend refuses is still a
record: Failed, with the backend's reason. While a job is not terminal, every `get_job` asks the
backend how it is doing; the call that sees it end writes the outcome once (a conditional replace,
so two concurrent readers cannot both record it), with metrics parsed from its log, its cost, and
its log kept beside the artifact. A Completed job always has a readable OptiLoop artifact: a script
that exits 0 without one is recorded as Failed, so the registry never sees a half-made model.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, replace
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, OptiLoopError
from optiloop.models.artifact import read_artifact, sha256_hex
from optiloop.models.lineage import link
from optiloop.models.records import JOB_TERMINAL, TrainingJob, job_doc
from optiloop.models.training import entry_points
from optiloop.models.training.channels import check_inputs, materialise
from optiloop.models.training.metrics import parse_metrics
from optiloop.models.training.port import JobSpec, JobState, Trainer
from optiloop.models.training.prices import DEFAULT_INSTANCE, LOCAL, cost_usd, is_gpu, price_table
from optiloop.projects import get_project
from optiloop.store.records import Doc

# Who may do what: contributors start and stop jobs, viewers read them (the registry's actions).
TRAIN = Action.MODEL_WRITE
READ = Action.MODEL_READ
SYSTEM = "system:training"
HP_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,255}$")
MAX_HPS = 90  # SageMaker takes 100; script mode adds its own four
MAX_HP_VALUE = 2500
MAX_RUNTIME_S = 5 * 24 * 3600
DEFAULT_RUNTIME_S = 2 * 3600
MAX_LOG_LINES = 20_000


def trainer_of(deps: Deps) -> Trainer:
    """The deployment's trainer (`deps.trainer`, wired by optiloop.runtime); Deps built without one
    (tests, scripts) get the default from the environment on first use."""
    trainer = getattr(deps, "trainer", None)
    if trainer is None:
        from optiloop.config import Settings
        from optiloop.runtime import build_trainer

        configured = bool(os.environ.get("OPTILOOP_TRAINER"))
        trainer = build_trainer(Settings.from_env() if configured else Settings(backend="memory"), deps.blobs)
        deps.trainer = trainer
    return trainer  # type: ignore[no-any-return]


def _check_hps(raw: Any) -> list[FieldProblem]:
    if not isinstance(raw, dict):
        return [FieldProblem("hyperparameters", "must be an object of string -> string")]
    if len(raw) > MAX_HPS:
        return [FieldProblem("hyperparameters", f"at most {MAX_HPS} hyperparameters")]
    problems = []
    for k, v in raw.items():
        if not isinstance(k, str) or not HP_KEY.match(k) or k.lower().startswith("sagemaker_"):
            problems.append(
                FieldProblem(f"hyperparameters.{k}", "a name is 1-256 of A-Z a-z 0-9 _ . - (not sagemaker_*)")
            )
        elif not isinstance(v, str) or len(v) > MAX_HP_VALUE:
            problems.append(
                FieldProblem(f"hyperparameters.{k}", f"must be a string of at most {MAX_HP_VALUE}")
            )
    return problems


def _instance(trainer: Trainer, framework: str, requested: str | None) -> tuple[str, list[FieldProblem]]:
    if trainer.backend == "local":
        if requested not in (None, LOCAL):
            return LOCAL, [FieldProblem("instance_type", f"local jobs run on {LOCAL!r}")]
        return LOCAL, []
    chosen = requested or DEFAULT_INSTANCE
    known = sorted(k for k in price_table() if k != LOCAL)
    if chosen not in known:
        return chosen, [FieldProblem("instance_type", f"must be one of {', '.join(known)}")]
    if is_gpu(chosen) and framework != "pytorch":
        return chosen, [
            FieldProblem("instance_type", f"GPU instances run pytorch entry points, not {framework}")
        ]
    return chosen, []


def create_job(
    deps: Deps,
    who: Principal,
    project_id: str,
    entry_point: str,
    hyperparameters: dict[str, str] | None = None,
    inputs: dict[str, dict[str, str]] | None = None,
    *,
    backend: str | None = None,
    instance_type: str | None = None,
    max_runtime_s: int | None = None,
) -> TrainingJob:
    """Validate, materialise the channels and the source bundle, record the job, start it."""
    authorize(who, TRAIN, project_id)
    get_project(deps, project_id)
    trainer = trainer_of(deps)
    hps = {} if hyperparameters is None else hyperparameters
    problems = _check_hps(hps) + check_inputs(inputs)
    if backend is not None and backend != trainer.backend:
        problems.append(FieldProblem("backend", f"this deployment trains on {trainer.backend!r}"))
    runtime = DEFAULT_RUNTIME_S if max_runtime_s is None else max_runtime_s
    if isinstance(runtime, bool) or not isinstance(runtime, int) or not 1 <= runtime <= MAX_RUNTIME_S:
        problems.append(FieldProblem("max_runtime_s", f"must be an integer of 1..{MAX_RUNTIME_S} seconds"))
    try:
        entry = entry_points.resolve(trainer.code_root, entry_point)
    except InvalidInput as e:
        problems = e.problems + problems
        entry = None
    instance, bad = _instance(trainer, entry.framework if entry else "sklearn", instance_type)
    problems += bad
    if problems or entry is None or inputs is None:
        raise InvalidInput(problems)

    job_id = deps.ids("tj")
    bundle = entry_points.source_bundle(trainer.code_root, entry)
    source_key = f"training/{project_id}/{job_id}/source/sourcedir.tar.gz"
    data = materialise(deps, who, project_id, job_id, inputs)
    deps.blobs.put(source_key, bundle)
    job = TrainingJob(
        id=job_id,
        project_id=project_id,
        entry_point=entry.name,
        backend=trainer.backend,
        instance_type=instance,
        hyperparameters=dict(hps),
        inputs=data.records,
        status="Pending",
        created_at=deps.clock(),
        created_by=who.name,
        data_fingerprint=data.fingerprint,
        code_version=entry_points.code_version(bundle),
    )
    with deps.store.transaction():
        deps.store.docs.create(job_doc(job))
        for from_type, from_id in data.lineage:
            link(deps, from_type, from_id, "training_job", job_id, "trained_on", project_id=project_id)
        record(
            deps,
            who,
            "training_job.created",
            project_id,
            job_id,
            {
                "entry_point": entry.name,
                "backend": trainer.backend,
                "instance_type": instance,
                "inputs": data.records,
                "data_fingerprint": job.data_fingerprint,
                "code_version": job.code_version,
            },
        )
    spec = JobSpec(
        name=job_id,
        entry_point=entry.name,
        framework=entry.framework,
        source_key=source_key,
        channels=data.prefixes,
        output_prefix=f"models/{project_id}/",
        hyperparameters=dict(hps),
        instance_type=instance,
        max_runtime_s=runtime,
        metric_names=entry.metrics,
        tags={"optiloop:project": project_id, "optiloop:training_job": job_id},
    )
    try:
        name = trainer.submit(spec)
    except ValueError as e:
        return _save(deps, job, 1, status="Failed", failure_reason=str(e), ended_at=deps.clock())
    return _save(deps, job, 1, backend_job_name=name)


def _save(deps: Deps, job: TrainingJob, rev: int, **changes: Any) -> TrainingJob:
    updated = replace(job, **changes)
    with deps.store.transaction():
        deps.store.docs.replace(job_doc(updated), rev)
        if updated.status in JOB_TERMINAL and job.status not in JOB_TERMINAL:
            deps.store.audit.append(
                principal=SYSTEM,
                action=f"training_job.{updated.status.lower()}",
                project_id=job.project_id,
                target=job.id,
                details={
                    k: getattr(updated, k)
                    for k in ("failure_reason", "metrics", "artifact_key", "artifact_sha256", "cost_usd")
                    if getattr(updated, k) not in (None, {})
                },
            )
    return updated


def _load(deps: Deps, job_id: str) -> tuple[TrainingJob, Doc]:
    doc = deps.store.docs.require("training_job", job_id, field="job_id", what="training job")
    return TrainingJob(**doc.data), doc


def get_job(deps: Deps, who: Principal, job_id: str) -> TrainingJob:
    job, doc = _load(deps, job_id)
    authorize(who, READ, job.project_id)
    return refresh(deps, job, doc.rev)


def refresh(deps: Deps, job: TrainingJob, rev: int) -> TrainingJob:
    """Ask the backend about a job that is not terminal and record what changed."""
    if job.status in JOB_TERMINAL or not job.backend_job_name:
        return job
    trainer = trainer_of(deps)
    if trainer.backend != job.backend:
        return job  # started by another backend than this deployment's: nothing here can tell
    try:
        state = trainer.describe(job.backend_job_name)
    except KeyError:
        state = JobState(status="Failed", failure_reason="the training backend has no record of this job")
    changes: dict[str, Any] = {
        "status": state.status,
        "started_at": state.started_at or job.started_at,
        "ended_at": state.ended_at,
        "failure_reason": state.failure_reason,
        "metrics": state.metrics or job.metrics,
        "wall_seconds": state.wall_seconds,
        "cpu_seconds": state.cpu_seconds,
        "billable_seconds": state.billable_seconds,
    }
    if state.status in JOB_TERMINAL:
        changes.update(_outcome(deps, trainer, job, state))
    if all(getattr(job, k) == v for k, v in changes.items()):
        return job
    try:
        return _save(deps, job, rev, **changes)
    except Conflict:  # another reader recorded it first: theirs stands
        fresh, _ = _load(deps, job.id)
        return fresh


def _outcome(deps: Deps, trainer: Trainer, job: TrainingJob, state: JobState) -> dict[str, Any]:
    """What a terminal job leaves: its log, metrics from it, its cost, and (Completed) the artifact."""
    out: dict[str, Any] = {"ended_at": state.ended_at or deps.clock()}
    lines = _all_lines(trainer, job.backend_job_name)
    metrics, history = parse_metrics(lines)
    out["metrics"] = {**state.metrics, **metrics}
    out["metric_history"] = history
    if lines:
        key = f"models/{job.project_id}/{job.backend_job_name}/output/logs.txt"
        deps.blobs.put(key, ("\n".join(lines) + "\n").encode())
        out["logs_key"] = key
    out["cost_usd"] = cost_usd(state.billable_seconds, trainer.price_usd_per_hour(job.instance_type))
    if state.status != "Completed":
        return out
    reason = None
    data = deps.blobs.get(state.artifact_key) if state.artifact_key else None
    if data is None:
        reason = f"the job completed but its model.tar.gz is not in the blob store ({state.artifact_key})"
    else:
        try:
            art = read_artifact(data)
        except OptiLoopError as e:
            reason = f"the job completed but SM_MODEL_DIR is not an OptiLoop model: {e.message}"
        else:
            # the held-out metrics the script wrote into its manifest count too, under what the
            # backend and the log reported (a job whose log is gone still has them)
            out["metrics"] = {**art.manifest.get("metrics", {}), **out["metrics"]}
    if reason is not None:
        return {**out, "status": "Failed", "failure_reason": reason, "artifact_key": None}
    return {**out, "artifact_key": state.artifact_key, "artifact_sha256": sha256_hex(data or b"")}


def _all_lines(trainer: Trainer, name: str) -> list[str]:
    lines: list[str] = []
    since = 0
    while len(lines) < MAX_LOG_LINES:
        page = trainer.logs(name, since, 2000)
        lines.extend(page.lines)
        if not page.lines:
            break
        since = page.next_since
    return lines[:MAX_LOG_LINES]


def list_jobs(
    deps: Deps, who: Principal, project_id: str, *, after: str | None = None, limit: int = 100
) -> tuple[list[TrainingJob], str | None]:
    """A project's jobs, oldest first, as recorded (GET a job to refresh it); `next_after` pages on."""
    authorize(who, READ, project_id)
    get_project(deps, project_id)
    docs = deps.store.docs.list("training_job", project_id, after=after, limit=limit)
    return [TrainingJob(**d.data) for d in docs], (docs[-1].sort if len(docs) == limit else None)


def stop_job(deps: Deps, who: Principal, job_id: str) -> TrainingJob:
    """Ask the backend to stop; a terminal job is returned as it is (stopping twice is harmless)."""
    job, doc = _load(deps, job_id)
    authorize(who, TRAIN, job.project_id)
    job = refresh(deps, job, doc.rev)
    if job.status in JOB_TERMINAL or not job.backend_job_name:
        return job
    trainer_of(deps).stop(job.backend_job_name)
    record(deps, who, "training_job.stop_requested", job.project_id, job.id, {"status": job.status})
    job, doc = _load(deps, job_id)
    return refresh(deps, job, doc.rev)


def job_logs(deps: Deps, who: Principal, job_id: str, since: int = 0, limit: int = 1000) -> dict[str, Any]:
    """Log lines from `since` on: the kept log of a terminal job, else the backend's live one."""
    job = get_job(deps, who, job_id)
    if job.logs_key:
        data = deps.blobs.get(job.logs_key) or b""
        lines = data.decode("utf-8", errors="replace").splitlines()
        page = lines[since : since + limit]
        nxt = since + len(page)
        return {"job_id": job.id, "status": job.status, "lines": page, "next_since": nxt,
                "complete": nxt >= len(lines)}  # fmt: skip
    if not job.backend_job_name or job.backend != trainer_of(deps).backend:
        return {"job_id": job.id, "status": job.status, "lines": [], "next_since": since, "complete": True}
    p = trainer_of(deps).logs(job.backend_job_name, since, limit)
    return {"job_id": job.id, "status": job.status, "lines": p.lines, "next_since": p.next_since,
            "complete": p.complete and job.status in JOB_TERMINAL}  # fmt: skip


def as_dict(job: TrainingJob) -> dict[str, Any]:
    return asdict(job)
