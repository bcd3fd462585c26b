"""A project's runs as training data: the snapshot a `{"project_runs": ...}` channel is made of.

Idempotent on its ids (preparing the same `training_id` twice returns the manifest already written),
because a training job's channels may be materialised again when a workflow step is retried.

Blob layout (S3 keys in the deployment, paths under the data dir locally):
  training/<project_id>/<training_id>/manifest.json  what a training job needs to know
  training/<project_id>/<training_id>/runs.jsonl     one line per run: the test's params and outcome
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from optiloop.deps import Deps
from optiloop.errors import OptiLoopError
from optiloop.projects import get_project
from optiloop.testopt.constraints import describe_space

MANIFEST_FORMAT = "optiloop.training-manifest/1"
ACTOR = "system:workflow"
Id = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


class NothingToTrain(OptiLoopError):
    """The project has fewer runs than asked for: nothing to train on."""

    code = "nothing_to_train"


class PrepareTraining(BaseModel):
    model_config = ConfigDict(extra="ignore")  # Step Functions passes whatever the state carries

    project_id: Id
    training_id: Id | None = None
    min_runs: Annotated[int, Field(ge=1)] = 1


def training_prefix(project_id: str, training_id: str) -> str:
    return f"training/{project_id}/{training_id}"


def manifest_key(project_id: str, training_id: str) -> str:
    return f"{training_prefix(project_id, training_id)}/manifest.json"


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
