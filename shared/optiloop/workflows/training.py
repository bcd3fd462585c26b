"""Experiment-workflow steps: small, real, and safe to retry.

Step Functions retries a task after a timeout or a throttled call, so every step is idempotent on
its ids: preparing the same `training_id` twice returns the manifest already written, registering
the same training's model twice returns the first registration (and refuses a different artifact).
Written against the ports only (store, blobs, clock, ids), so the local workflow runner can call the
same functions and they can move into the core (`optiloop.workflows`) unchanged.

Blob layout (S3 keys in the deployment, paths under the data dir locally):
  training/<project_id>/<training_id>/manifest.json  what a training job needs to know
  training/<project_id>/<training_id>/runs.jsonl     one line per run: the test's params and outcome
  models/<project_id>/<training_id>.json              the registry entry of the model trained on it
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotFound, OptiLoopError
from optiloop.projects import get_project
from optiloop.testopt.constraints import describe_space

MANIFEST_FORMAT = "optiloop.training-manifest/1"
ACTOR = "system:workflow"
Id = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


class NothingToTrain(OptiLoopError):
    """The project has fewer runs than the workflow asked for; the state machine can Catch this by
    name and end quietly instead of launching a training job on nothing."""

    code = "nothing_to_train"


class PrepareTraining(BaseModel):
    model_config = ConfigDict(extra="ignore")  # Step Functions passes whatever the state carries

    project_id: Id
    training_id: Id | None = None
    min_runs: Annotated[int, Field(ge=1)] = 1


class RecordModel(BaseModel):
    model_config = ConfigDict(extra="ignore")

    project_id: Id
    training_id: Id
    artifact: Annotated[str, Field(min_length=1, max_length=1024)]  # a blob key or an s3:// URI
    metrics: dict[Annotated[str, Field(max_length=100)], float] = Field(default_factory=dict)


def training_prefix(project_id: str, training_id: str) -> str:
    return f"training/{project_id}/{training_id}"


def manifest_key(project_id: str, training_id: str) -> str:
    return f"{training_prefix(project_id, training_id)}/manifest.json"


def registry_key(project_id: str, training_id: str) -> str:
    return f"models/{project_id}/{training_id}.json"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _summary(manifest: dict[str, Any], key: str) -> dict[str, Any]:
    """The step's output: small (Step Functions caps state at 256 KB), the manifest stays in blobs."""
    return {
        "project_id": manifest["project_id"],
        "training_id": manifest["training_id"],
        "manifest_key": key,
        "data_key": manifest["data"]["key"],
        "runs": manifest["runs"],
        "runs_through_seq": manifest["runs_through_seq"],
        "space_version": manifest["space"]["space_version"],
    }


def prepare_training(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """Snapshot a project's runs (with their tests' params) and its space for a training job."""
    req = PrepareTraining.model_validate(event)
    get_project(deps, req.project_id)
    training_id = req.training_id or deps.ids("trn")
    key = manifest_key(req.project_id, training_id)
    existing = deps.blobs.get(key)
    if existing is not None:
        return _summary(json.loads(existing), key)

    store = deps.store
    runs = store.runs.list_since(req.project_id, 0)
    if len(runs) < req.min_runs:
        raise NothingToTrain(
            f"project {req.project_id!r} has {len(runs)} runs; the workflow needs {req.min_runs}"
        )
    tests = store.tests.get_many(req.project_id, [r.test_id for r in runs])
    lines = []
    for r in runs:
        t = tests.get(r.test_id)
        lines.append(
            _dumps(
                {
                    "seq": r.seq,
                    "test_id": r.test_id,
                    "params": t.params if t else None,
                    "space_version": t.space_version if t else None,
                    "operator": t.operator if t else None,
                    "status": r.status,
                    "failure_severity": r.failure_severity,
                    "duration_ms": r.duration_ms,
                    "cost_cents": r.cost_cents,
                    "buckets": list(r.buckets),
                    "new_buckets": r.new_buckets,
                }
            )
        )
    data = b"\n".join(lines) + b"\n"
    data_key = f"{training_prefix(req.project_id, training_id)}/runs.jsonl"
    manifest = {
        "format": MANIFEST_FORMAT,
        "project_id": req.project_id,
        "training_id": training_id,
        "created_at": deps.clock(),
        "runs": len(runs),
        "runs_through_seq": runs[-1].seq,
        "space": describe_space(deps, req.project_id),
        "data": {
            "key": data_key,
            "format": "jsonl",
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    }
    deps.blobs.put(data_key, data)  # data first: a manifest never points at bytes that are not there
    deps.blobs.put(key, _dumps(manifest))
    store.audit.append(
        principal=ACTOR,
        action="training.prepared",
        project_id=req.project_id,
        target=training_id,
        details={"manifest_key": key, "runs": len(runs), "runs_through_seq": manifest["runs_through_seq"]},
    )
    return _summary(manifest, key)


def _artifact_key(artifact: str) -> str:
    """SageMaker reports `s3://<bucket>/<key>`; the blob store is that bucket, so the key is what it
    reads. An artifact in another bucket is then simply not found, which is the honest answer."""
    if artifact.startswith("s3://"):
        _, _, key = artifact[len("s3://") :].partition("/")
        return key
    return artifact


def record_model(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """Register the artifact a training job produced, pinned by its sha256 to the runs it saw."""
    req = RecordModel.model_validate(event)
    bad = [k for k, v in req.metrics.items() if not math.isfinite(v)]
    if bad:
        raise InvalidInput([FieldProblem(f"metrics.{k}", "must be a finite number") for k in bad])
    get_project(deps, req.project_id)
    raw_manifest = deps.blobs.get(manifest_key(req.project_id, req.training_id))
    if raw_manifest is None:
        raise NotFound(f"no training {req.training_id!r} prepared for project {req.project_id!r}")
    manifest = json.loads(raw_manifest)
    key = _artifact_key(req.artifact)
    artifact = deps.blobs.get(key) if key else None
    if artifact is None:
        raise NotFound(f"model artifact {req.artifact!r} is not in the blob store")
    digest = hashlib.sha256(artifact).hexdigest()

    reg_key = registry_key(req.project_id, req.training_id)
    existing = deps.blobs.get(reg_key)
    if existing is not None:
        entry = json.loads(existing)
        if entry["artifact_sha256"] != digest:
            raise Conflict(
                f"training {req.training_id!r} already registered model {entry['model_id']} "
                "with another artifact"
            )
        return entry

    entry = {
        "model_id": deps.ids("mdl"),
        "project_id": req.project_id,
        "training_id": req.training_id,
        "artifact_key": key,
        "artifact_sha256": digest,
        "artifact_bytes": len(artifact),
        "runs_through_seq": manifest["runs_through_seq"],
        "space_version": manifest["space"]["space_version"],
        "metrics": req.metrics,
        "registered_at": deps.clock(),
    }
    deps.blobs.put(reg_key, _dumps(entry))
    deps.store.audit.append(
        principal=ACTOR,
        action="model.registered",
        project_id=req.project_id,
        target=entry["model_id"],
        details={k: v for k, v in entry.items() if k not in ("project_id", "model_id", "registered_at")},
    )
    return entry
