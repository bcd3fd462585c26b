"""Writing SM_MODEL_DIR as an OptiLoop artifact (optiloop.models.artifact): the model file, the
manifest and the baseline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _lib.sm import write_json

FORMAT = "optiloop.model/1"


def write_model(
    out: Path,
    trees: dict[str, Any],
    signature: dict[str, Any],
    *,
    params: dict[str, Any],
    metrics: dict[str, float],
    data_fingerprint: str,
    baseline: dict[str, Any] | None = None,
    extra_files: dict[str, dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """An `optiloop.trees/1` model (XGBoost, numpy-served)."""
    write_artifact(
        out,
        "model.trees.json",
        json.dumps(trees, separators=(",", ":"), allow_nan=False).encode(),
        signature,
        framework="xgboost",
        runtime="trees",
        params=params,
        metrics=metrics,
        data_fingerprint=data_fingerprint,
        baseline=baseline,
        extra_files=extra_files,
        extra=extra,
    )


def write_artifact(
    out: Path,
    model_file: str,
    model_bytes: bytes,
    signature: dict[str, Any],
    *,
    framework: str,
    runtime: str,
    params: dict[str, Any],
    metrics: dict[str, float],
    data_fingerprint: str,
    baseline: dict[str, Any] | None = None,
    extra_files: dict[str, dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Any portable model: the file the runtime loads (`trees` JSON, an `onnx` graph), its manifest."""
    out.mkdir(parents=True, exist_ok=True)
    (out / model_file).write_bytes(model_bytes)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "framework": framework,
        "runtime": runtime,
        "model_file": model_file,
        "signature": signature,
        "params": params,
        "metrics": {k: v for k, v in metrics.items() if v == v},  # finite only: NaN != NaN
        "data_fingerprint": data_fingerprint,
    }
    if baseline is not None:
        write_json(out / "baseline.json", baseline)
        manifest["baseline_file"] = "baseline.json"
    for name, doc in (extra_files or {}).items():
        write_json(out / name, doc)
    manifest.update(extra or {})
    write_json(out / "optiloop-model.json", manifest)
