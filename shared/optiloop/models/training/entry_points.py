"""Entry points: `training_jobs/<name>/train.py`, a `job.json` beside it, and its source bundle.

    training_jobs/
      _lib/                 shared helpers (trees exporter, encoding, metric printing): in every bundle
      tabular_xgb/train.py  an entry point
      tabular_xgb/job.json  {"framework": "xgboost", "metrics": ["auc", ...], "description": "..."}

`framework` picks the SageMaker image (images.py) and `metrics` the names SageMaker is told to
scrape (MetricDefinitions); a missing job.json means scikit-learn and no declared metrics (locally
every printed metric is still read). The source bundle is SageMaker's `sourcedir.tar.gz`: the entry
point's files at the top, `_lib/` beside them, packed deterministically so that its sha256 is the
job's `code_version`: the same code always gives the same version, on every backend.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from optiloop.errors import FieldProblem, InvalidInput

ENTRY_POINT = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
# optiloop: the platform's own training image (optiloop[train,torch]; OPTILOOP_AUTOML_IMAGE on SageMaker),
# for jobs that import optiloop itself (training_jobs/automl_trial, automl_experiment)
FRAMEWORKS: tuple[str, ...] = ("sklearn", "xgboost", "pytorch", "optiloop")
SHARED = "_lib"
MAX_BUNDLE_BYTES = 50 * 1024 * 1024
SKIP = ("__pycache__", ".pyc", ".pytest_cache")


@dataclass(frozen=True)
class EntryPoint:
    name: str
    path: Path
    framework: str
    metrics: tuple[str, ...]
    description: str


def available(code_root: Path) -> list[str]:
    if not code_root.is_dir():
        return []
    return sorted(
        p.name for p in code_root.iterdir() if ENTRY_POINT.match(p.name) and (p / "train.py").is_file()
    )


def resolve(code_root: Path, name: str, *, field: str = "entry_point") -> EntryPoint:
    """The entry point called `name`, or a 422 on `field` listing the ones that exist."""
    path = code_root / name
    if not ENTRY_POINT.match(name) or not (path / "train.py").is_file():
        known = ", ".join(available(code_root)) or "none"
        raise InvalidInput(
            FieldProblem(field, f"no entry point {name!r} in training_jobs/ (available: {known})")
        )
    meta: dict[str, object] = {}
    if (path / "job.json").is_file():
        try:
            loaded = json.loads((path / "job.json").read_text())
        except ValueError as e:
            raise InvalidInput(FieldProblem(field, f"{name}/job.json is not JSON: {e}")) from e
        meta = loaded if isinstance(loaded, dict) else {}
    framework = str(meta.get("framework", "sklearn"))
    if framework not in FRAMEWORKS:
        raise InvalidInput(FieldProblem(field, f"{name}/job.json framework must be one of {FRAMEWORKS}"))
    metrics = meta.get("metrics", [])
    return EntryPoint(
        name=name,
        path=path,
        framework=framework,
        metrics=tuple(str(m) for m in metrics) if isinstance(metrics, list) else (),
        description=str(meta.get("description", "")),
    )


def _files(root: Path, arc_prefix: str) -> list[tuple[str, Path]]:
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if not p.is_file() or any(s in part or part.endswith(s) for part in rel.parts for s in SKIP):
            continue
        out.append((f"{arc_prefix}{rel.as_posix()}", p))
    return out


def source_bundle(code_root: Path, entry: EntryPoint) -> bytes:
    """`sourcedir.tar.gz`: the entry point's files at the top and `_lib/`, fixed metadata."""
    members = _files(entry.path, "")
    shared = code_root / SHARED
    if shared.is_dir():
        members += _files(shared, f"{SHARED}/")
    buf = io.BytesIO()
    total = 0
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for arcname, path in sorted(members):
            data = path.read_bytes()
            total += len(data)
            if total > MAX_BUNDLE_BYTES:
                raise InvalidInput(
                    FieldProblem("entry_point", f"source is larger than {MAX_BUNDLE_BYTES} bytes")
                )
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def code_version(bundle: bytes) -> str:
    return "sha256:" + hashlib.sha256(bundle).hexdigest()
