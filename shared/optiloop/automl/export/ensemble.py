"""Member trials' artifacts + weights -> one `optiloop.ensemble/1` artifact.

Each member's model file is copied into the archive under `members/<k>.<ext>` byte for byte (the
file its own export check already proved), and the ensemble document names it with its runtime and
weight. The manifest is AutoML's usual one (signature, params, metrics, fingerprint), so the
registry, the model card and the predictor cache treat the ensemble like any other version.
"""

from __future__ import annotations

import json
import math
from typing import Any

from optiloop.automl.export.artifact import CODE_VERSION
from optiloop.models.artifact import FORMAT, MANIFEST, pack_files, read_artifact
from optiloop.models.runtimes.ensemble import FORMAT as ENSEMBLE_FORMAT
from optiloop.models.signature import Signature

MODEL_FILE = "model.ensemble.json"


def build_ensemble_artifact(
    members: list[tuple[bytes, float]],
    *,
    signature: Signature,
    params: dict[str, Any],
    metrics: dict[str, float],
    data_fingerprint: str,
    rows: int,
) -> bytes:
    """`members`: (a member trial's artifact bytes, its weight), weights summing to 1."""
    files: dict[str, bytes] = {}
    entries: list[dict[str, Any]] = []
    frameworks: list[str] = []
    for k, (data, weight) in enumerate(members):
        art = read_artifact(data)
        ext = "onnx" if art.runtime == "onnx" else f"{art.runtime}.json"
        name = f"members/{k}.{ext}"
        files[name] = art.model_bytes
        entries.append({"runtime": art.runtime, "model_file": name, "weight": weight})
        frameworks.append(str(art.manifest["framework"]))
    doc = {"format": ENSEMBLE_FORMAT, "n_outputs": signature.n_outputs, "members": entries}
    manifest = {
        "format": FORMAT,
        "framework": "+".join(sorted(set(frameworks)))[:50],
        "runtime": "ensemble",
        "model_file": MODEL_FILE,
        "signature": signature.as_dict(),
        "params": params,
        "metrics": {k: float(v) for k, v in metrics.items() if math.isfinite(v)},
        "data_fingerprint": data_fingerprint,
        "code_version": CODE_VERSION,
        "data": {"rows": rows},
    }
    files[MANIFEST] = json.dumps(manifest, sort_keys=True).encode()
    files[MODEL_FILE] = json.dumps(doc, separators=(",", ":")).encode()
    return pack_files(files)
