"""The portable model artifact: SageMaker's `model.tar.gz`, with a manifest OptiLoop can check.

A training script writes its model into `SM_MODEL_DIR`; SageMaker (and the local trainer, the same
way) packs that folder as `model.tar.gz`. OptiLoop asks the folder to hold `optiloop-model.json`:

    {"format": "optiloop.model/1",
     "framework": "xgboost",                  # what trained it (informational, part of lineage)
     "runtime": "trees",                      # how it is served: trees | onnx | linear | mlp | ensemble
                                              #   | forecast | endpoint
     "model_file": "model.trees.json",       # the file the runtime loads (inside the archive)
     "signature": {...},                      # optiloop.models.signature: inputs, task, classes
     "params": {...}, "metrics": {...},       # hyperparameters, held-out metrics (finite numbers)
     "data_fingerprint": "sha256:...",        # of the training data, for lineage
     "code_version": "...",                   # of the training code
     "baseline_file": "baseline.json"}        # optional: training distributions for drift monitors

`runtime` decides where the version can run: `trees` (`optiloop.trees/1`, evaluated by numpy),
`linear` (`optiloop.linear/1`, numpy: scaling, one-hot and weights), `mlp` (`optiloop.mlp/1`, numpy:
that preprocessing and dense layers; how torch networks reach the Lambda), `onnx` (onnxruntime) and
`ensemble` (`optiloop.ensemble/1`: a weighted average of such members, each its own file in the
archive) and `forecast` (`optiloop.forecast/1`: a forecast table, per series and step the value and
its intervals, from AutoML forecasting) run in process and in the predict Lambda; `endpoint` models need their
framework or a GPU and are served by a SageMaker endpoint behind OptiLoop's router.

Reading is defensive: an artifact is user input. Only regular files with plain relative names are
read, sizes are capped before anything is decompressed into memory, and every failure is an
InvalidInput naming `artifact` and the reason (never a 500, never a file written anywhere).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import tarfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models.signature import Signature, parse_signature

FORMAT = "optiloop.model/1"
MANIFEST = "optiloop-model.json"
RUNTIMES: tuple[str, ...] = ("trees", "onnx", "linear", "mlp", "ensemble", "forecast", "endpoint")
IN_PROCESS_RUNTIMES: frozenset[str] = frozenset({"trees", "onnx", "linear", "mlp", "ensemble", "forecast"})
MAX_ARTIFACT_BYTES = 512 * 1024 * 1024  # unpacked total
MAX_MEMBERS = 1000


@dataclass(frozen=True)
class Artifact:
    """A read artifact: its manifest (validated), its files, and the sha256 of the archive bytes."""

    sha256: str
    size: int
    manifest: dict[str, Any]
    signature: Signature
    files: dict[str, bytes]

    @property
    def runtime(self) -> str:
        return str(self.manifest["runtime"])

    @property
    def model_bytes(self) -> bytes:
        return self.files[self.manifest["model_file"]]

    @property
    def baseline(self) -> dict[str, Any] | None:
        name = self.manifest.get("baseline_file")
        if not name or name not in self.files:
            return None
        try:
            data = json.loads(self.files[name])
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _bad(reason: str, field: str = "artifact") -> InvalidInput:
    return InvalidInput(FieldProblem(field, reason))


def _members(data: bytes) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for k, m in enumerate(tar):
                if k >= MAX_MEMBERS:
                    raise _bad(f"holds more than {MAX_MEMBERS} entries")
                if m.isdir():
                    continue
                name = PurePosixPath(m.name)
                if not m.isreg() or name.is_absolute() or ".." in name.parts:
                    raise _bad(f"entry {m.name!r} is not a plain file with a relative name")
                total += m.size
                if total > MAX_ARTIFACT_BYTES:
                    raise _bad(f"unpacks to more than {MAX_ARTIFACT_BYTES} bytes")
                fh = tar.extractfile(m)
                if fh is None:  # pragma: no cover - regular files always have a stream
                    continue
                files[str(PurePosixPath(*[p for p in name.parts if p != "."]))] = fh.read()
    except (tarfile.TarError, gzip.BadGzipFile, EOFError, OSError, zlib.error) as e:
        raise _bad(f"is not a readable model.tar.gz ({e.__class__.__name__})") from e
    return files


def read_artifact(data: bytes) -> Artifact:
    """Open and check an artifact; InvalidInput (field `artifact...`) when it is not what it claims."""
    files = _members(data)
    raw = files.get(MANIFEST)
    if raw is None:
        raise _bad(f"has no {MANIFEST} at its top level (see optiloop.models.artifact)")
    try:
        manifest = json.loads(raw)
    except ValueError as e:
        raise _bad(f"{MANIFEST} is not JSON: {e}", f"artifact.{MANIFEST}") from e
    if not isinstance(manifest, dict):
        raise _bad(f"{MANIFEST} must be a JSON object", f"artifact.{MANIFEST}")
    check_manifest(manifest, files)
    return Artifact(
        sha256=sha256_hex(data),
        size=len(data),
        manifest=manifest,
        signature=parse_signature(manifest["signature"], where="artifact.signature"),
        files=files,
    )


def check_manifest(manifest: Mapping[str, Any], files: Mapping[str, bytes]) -> None:
    problems: list[FieldProblem] = []
    at = "artifact"
    if manifest.get("format") != FORMAT:
        problems.append(FieldProblem(f"{at}.format", f"must be {FORMAT!r}, got {manifest.get('format')!r}"))
    if manifest.get("runtime") not in RUNTIMES:
        problems.append(FieldProblem(f"{at}.runtime", f"must be one of {', '.join(RUNTIMES)}"))
    framework = manifest.get("framework")
    if not isinstance(framework, str) or not framework or len(framework) > 50:
        problems.append(FieldProblem(f"{at}.framework", "must name the training framework"))
    model_file = manifest.get("model_file")
    if not isinstance(model_file, str) or model_file not in files:
        problems.append(
            FieldProblem(f"{at}.model_file", f"must name a file in the archive, got {model_file!r}")
        )
    for key in ("params", "metrics"):
        v = manifest.get(key, {})
        if not isinstance(v, dict):
            problems.append(FieldProblem(f"{at}.{key}", "must be an object"))
    metrics = manifest.get("metrics", {})
    if isinstance(metrics, dict):
        for k, v in metrics.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                problems.append(FieldProblem(f"{at}.metrics.{k}", "must be a finite number"))
    for key in ("data_fingerprint", "code_version"):
        v = manifest.get(key)
        if v is not None and (not isinstance(v, str) or len(v) > 200):
            problems.append(FieldProblem(f"{at}.{key}", "must be a string of at most 200 chars"))
    if "signature" not in manifest:
        problems.append(FieldProblem(f"{at}.signature", "is required: the inputs and task the model serves"))
    if problems:
        raise InvalidInput(problems)


# gzip level of `model.tar.gz`: zlib's default, not gzip's 9. A forest's tree JSON (33 MB for a
# 300-tree extra-trees on 3,500 rows) took 27 s at level 9 and 4.3 s at 6 for a 1% larger file, and
# an ensemble packs its members again: over REST a 30 s-budget experiment spent 40 s packing
# (modeldata hpc_data). Deterministic all the same (same files -> same bytes).
COMPRESS_LEVEL = 6


def pack_dir(model_dir: Path) -> bytes:
    """`model.tar.gz` of a folder, as SageMaker packs `SM_MODEL_DIR`: members relative to the folder,
    sorted, with fixed metadata so the same files always give the same bytes (and sha256)."""
    buf = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=COMPRESS_LEVEL) as gz,
        tarfile.open(fileobj=gz, mode="w") as tar,
    ):
        for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
            info = tarfile.TarInfo(path.relative_to(model_dir).as_posix())
            blob = path.read_bytes()
            info.size = len(blob)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(blob))
    return buf.getvalue()


def pack_files(files: Mapping[str, bytes]) -> bytes:
    """`model.tar.gz` of in-memory files (tests and the upload helpers), deterministic like pack_dir."""
    buf = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=COMPRESS_LEVEL) as gz,
        tarfile.open(fileobj=gz, mode="w") as tar,
    ):
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(files[name]))
    return buf.getvalue()
