"""Train the RL policy in this process and register it, for tests and benchmarks.

The real path is the experiment workflow running `training_jobs/rl_policy` as a training job (see
tests/functional/test_http_rl_policy.py); this one calls the same script's `main()` in process
(torch is in the dev environment) on the same snapshot `prepare_training` writes, then registers
the packed model folder as an uploaded version of the project's `rl_policy` model at `staging` —
seconds instead of a subprocess and a workflow per project.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from optiloop.auth.principal import OPERATOR
from optiloop.deps import Deps
from optiloop.models.artifact import pack_dir
from optiloop.models.registry import models as registry_models
from optiloop.models.registry import stages, versions
from optiloop.testopt.rl import registered
from optiloop.testopt.rl.registered import MODEL_NAME
from optiloop.workflows.training import prepare_training

JOBS = Path(__file__).resolve().parents[1] / "training_jobs"
FAST = {"iterations": "4", "episodes": "32"}  # a real policy, trained in well under a second


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rl_policy_train", JOBS / "rl_policy" / "train.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def train_artifact(deps: Deps, project_id: str, hp: dict[str, str] | None = None) -> bytes:
    """model.tar.gz of an rl_policy trained on the project's runs as they are now."""
    snap = prepare_training(deps, {"project_id": project_id, "min_runs": 1})
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        runs, model = root / "runs", root / "model"
        runs.mkdir()
        (runs / "manifest.json").write_bytes(deps.blobs.get(snap["manifest_key"]) or b"")
        (runs / "runs.jsonl").write_bytes(deps.blobs.get(snap["data_key"]) or b"")
        env = {
            "SM_CHANNEL_RUNS": str(runs),
            "SM_CHANNELS": json.dumps(["runs"]),
            "SM_MODEL_DIR": str(model),
            "SM_OUTPUT_DIR": str(root / "output"),
            "SM_HPS": json.dumps(hp if hp is not None else FAST),
            "SM_NUM_CPUS": "1",
        }
        with _env(env), contextlib.redirect_stdout(open(os.devnull, "w")):
            script().main()
        return pack_dir(model)


def register(deps: Deps, project_id: str, data: bytes, stage: str | None = "staging") -> dict[str, Any]:
    """Register the artifact as the next version of the project's rl_policy model."""
    claim = deps.store.docs.get("model_name", f"{project_id}/{MODEL_NAME}")
    if claim is None:
        model_id = registry_models.create_model(deps, OPERATOR, project_id, MODEL_NAME).id
    else:
        model_id = claim.data["id"]
    v = versions.register_from_upload(deps, OPERATOR, model_id, data)
    if stage is not None:
        stages.promote(deps, OPERATOR, model_id, v.id, stage=stage)
    registered.clear_cache()
    return {"model_id": model_id, "model_version_id": v.id, "version": v.version}


def train_and_register(deps: Deps, project_id: str, hp: dict[str, str] | None = None) -> dict[str, Any]:
    return register(deps, project_id, train_artifact(deps, project_id, hp))
