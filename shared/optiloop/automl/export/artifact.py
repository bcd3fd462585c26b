"""A portable model document -> the `model.tar.gz` the registry reads (optiloop.models.artifact)."""

from __future__ import annotations

import json
import math
from typing import Any

from optiloop.models.artifact import FORMAT, MANIFEST, pack_files
from optiloop.models.signature import Signature

CODE_VERSION = "optiloop.automl/1"


def build_artifact(
    doc: dict[str, Any],
    *,
    runtime: str,
    framework: str,
    signature: Signature,
    params: dict[str, Any],
    metrics: dict[str, float],
    data_fingerprint: str,
    rows: int,
    extra_files: dict[str, tuple[str, bytes]] | None = None,
) -> bytes:
    """`extra_files`: manifest key -> (file name, bytes) written beside the model file, e.g.
    {"onnx_file": ("model.onnx", graph)}; the manifest names each file under its key."""
    model_file = f"model.{runtime}.json"
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "framework": framework,
        "runtime": runtime,
        "model_file": model_file,
        "signature": signature.as_dict(),
        "params": params,
        "metrics": {k: float(v) for k, v in metrics.items() if math.isfinite(v)},
        "data_fingerprint": data_fingerprint,
        "code_version": CODE_VERSION,
        "data": {"rows": rows},
    }
    files = {model_file: json.dumps(doc, separators=(",", ":")).encode()}
    for key, (name, data) in (extra_files or {}).items():
        manifest[key] = name
        files[name] = data
    files[MANIFEST] = json.dumps(manifest, sort_keys=True).encode()
    return pack_files(files)
