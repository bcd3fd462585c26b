"""Writing SM_MODEL_DIR as an OptiLoop artifact (optiloop.models.artifact): the trees, the
manifest and the baseline."""

from __future__ import annotations

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
    write_json(out / "model.trees.json", trees)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "framework": "xgboost",
        "runtime": "trees",
        "model_file": "model.trees.json",
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
