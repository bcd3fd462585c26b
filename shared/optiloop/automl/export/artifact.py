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
) -> bytes:
    model_file = f"model.{runtime}.json"
    manifest = {
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
    return pack_files(
        {
            MANIFEST: json.dumps(manifest, sort_keys=True).encode(),
            model_file: json.dumps(doc, separators=(",", ":")).encode(),
        }
    )
