"""Batch scoring of a stored dataset as a job: every example's `input` object is an instance.

The job is a `batch_job` document (status Running -> Completed | Failed) and its output one JSON
Lines file in blobs, `models/<project>/batch/<job id>/predictions.jsonl`, a line per example:
`{"id": example id, "prediction": {...}}` or `{"id", "error": {"field", "reason"}}` for an example
that does not fit the signature (one bad row does not fail the other 49,999). Scored by the
deployment's stable version, in chunks of `CHUNK` rows (the trees runtime's best batch size).

Runs in the request that starts it (50,000 rows at >10,000 rows/s fits a Lambda's time); the job
record still says Running first, so a crash leaves a Failed-looking trace rather than nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput, NotFound
from optiloop.models import runtimes
from optiloop.models.serving.cache import Loaded
from optiloop.models.serving.deployments import get_model_deployment
from optiloop.models.serving.inference import check_servable, loaded
from optiloop.prompts.datasets import get_dataset, iter_examples
from optiloop.store.records import Doc

KIND = "batch_job"
CHUNK = 5_000


def output_key(project_id: str, job_id: str) -> str:
    return f"models/{project_id}/batch/{job_id}/predictions.jsonl"


def _doc(job: dict[str, Any]) -> Doc:
    return Doc(
        kind=KIND, id=job["id"], scope=job["deployment_id"], sort=f"{job['created_at']}#{job['id']}", data=job
    )


def start_batch(deps: Deps, who: Principal, deployment_id: str, dataset_id: str) -> dict[str, Any]:
    dep = get_model_deployment(deps, who, deployment_id, Action.DEPLOY)
    dataset = get_dataset(deps, who, dataset_id)
    if dataset["project_id"] != dep.project_id:
        raise InvalidInput(FieldProblem("dataset_id", "belongs to another project than the deployment"))
    variant = dep.stable
    check_servable(deps, variant)
    model = loaded(deps, variant)
    job_id = deps.ids("bat")
    job: dict[str, Any] = {
        "id": job_id,
        "deployment_id": dep.id,
        "project_id": dep.project_id,
        "dataset_id": dataset_id,
        "dataset_hash": dataset.get("content_hash"),
        "model_version_id": variant["model_version_id"],
        "status": "Running",
        "created_at": deps.clock(),
        "created_by": who.name,
        "rows": 0,
        "errors": 0,
        "output_key": output_key(dep.project_id, job_id),
    }
    deps.store.docs.create(_doc(job))
    t0 = time.perf_counter()
    try:
        lines, rows, errors = _score(deps, dataset, model)
        deps.blobs.put(job["output_key"], "".join(lines).encode())
        seconds = time.perf_counter() - t0
        done = {
            **job,
            "status": "Completed",
            "rows": rows,
            "errors": errors,
            "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds, 1) if seconds > 0 else None,
            "ended_at": deps.clock(),
        }
    except Exception as e:
        done = {
            **job,
            "status": "Failed",
            "failure_reason": f"{e.__class__.__name__}: {e}"[:500],
            "ended_at": deps.clock(),
        }
    with deps.store.transaction():
        current = deps.store.docs.require(KIND, job_id, field="job_id", what="batch job")
        deps.store.docs.replace(_doc(done), current.rev)
        keys = ("deployment_id", "dataset_id", "model_version_id", "status", "rows", "errors")
        record(deps, who, "batch_job.completed", dep.project_id, job_id, {k: done.get(k) for k in keys})
    return done


def _score(deps: Deps, dataset: dict[str, Any], model: Loaded) -> tuple[list[str], int, int]:
    lines: list[str] = []
    rows = errors = 0
    chunk: list[tuple[str, Any]] = []
    for ex in iter_examples(deps, dataset):
        chunk.append((str(ex.get("id")), ex.get("input")))
        if len(chunk) == CHUNK:
            errors += _chunk(model, chunk, lines)
            rows += len(chunk)
            chunk = []
    if chunk:
        errors += _chunk(model, chunk, lines)
        rows += len(chunk)
    return lines, rows, errors


def _chunk(model: Loaded, chunk: list[tuple[str, Any]], lines: list[str]) -> int:
    """Score a chunk at once; when some rows do not fit the signature, score the others row by row."""
    instances = [inp for _, inp in chunk]
    try:
        x = model.signature.encode(instances)
        out = model.predictor.predict(x)  # a forecast table refuses an unknown series or step
    except InvalidInput:
        return sum(_one(model, ex_id, inp, lines) for ex_id, inp in chunk)
    preds = runtimes.predictions(model.signature, out, instances, runtimes.intervals(model.predictor, x))
    dumps = json.dumps
    lines.extend(
        f'{{"id":{dumps(ex_id)},"prediction":{dumps(p)}}}\n'
        for (ex_id, _), p in zip(chunk, preds, strict=True)
    )
    return 0


def _one(model: Loaded, ex_id: str, inp: Any, lines: list[str]) -> int:
    try:
        x = model.signature.encode([inp], where="input")
        out = model.predictor.predict(x)
    except InvalidInput as e:
        field = str(e.details[0]["field"]).replace("input[0]", "input", 1).replace("instances[0]", "input", 1)
        lines.append(json.dumps({"id": ex_id, "error": {**e.details[0], "field": field}}) + "\n")
        return 1
    pred = runtimes.predictions(model.signature, out, [inp], runtimes.intervals(model.predictor, x))[0]
    lines.append(json.dumps({"id": ex_id, "prediction": pred}) + "\n")
    return 0


def get_job(deps: Deps, who: Principal, deployment_id: str, job_id: str) -> dict[str, Any]:
    get_model_deployment(deps, who, deployment_id)
    doc = deps.store.docs.require(KIND, job_id, field="job_id", what="batch job")
    if doc.data["deployment_id"] != deployment_id:
        raise NotFound(f"no batch job '{job_id}' on deployment '{deployment_id}'",
                       details=[{"field": "job_id", "reason": "not a job of this deployment"}])  # fmt: skip
    return doc.data
