"""SageMaker's script-mode contract, read the same way locally and in a SageMaker container.

    SM_MODEL_DIR         write the model here (packed as model.tar.gz when the script exits 0)
    SM_OUTPUT_DATA_DIR   anything else worth keeping
    SM_CHANNEL_<NAME>    one folder per input channel
    SM_HPS               the hyperparameters as a JSON object (also input/config/hyperparameters.json)
    SM_NUM_CPUS          CPUs the job may use (locally: the platform's per-job thread cap)

Metrics are printed as `metric: <name>=<number>` lines (optiloop.models.training.metrics); a
script that cannot train writes its reason to `<output>/failure` (SageMaker's convention, shown as
the job's failure_reason) and exits non-zero.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

OPT_ML = Path("/opt/ml")
TORCH_INSTALL = "pip install 'optiloop[torch]' (the pinned CPU build), or run it on SageMaker's PyTorch image"


def hyperparameters() -> dict[str, str]:
    raw = os.environ.get("SM_HPS")
    if raw is None:
        path = (
            Path(os.environ.get("SM_INPUT_CONFIG_DIR", OPT_ML / "input" / "config")) / "hyperparameters.json"
        )
        raw = path.read_text() if path.is_file() else "{}"
    hps = json.loads(raw)
    # SageMaker's toolkit JSON-decodes each value ("5" arrives as 5): scripts always see strings
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in hps.items()}


def channel(name: str) -> Path | None:
    value = os.environ.get(f"SM_CHANNEL_{name.upper()}")
    return Path(value) if value else None


def channels() -> dict[str, Path]:
    names = json.loads(os.environ.get("SM_CHANNELS", "[]"))
    return {n: p for n in names if (p := channel(n)) is not None}


def model_dir() -> Path:
    return Path(os.environ.get("SM_MODEL_DIR", OPT_ML / "model"))


def output_dir() -> Path:
    return Path(os.environ.get("SM_OUTPUT_DIR", OPT_ML / "output"))


def num_cpus(cap: int | None = None) -> int:
    n = int(os.environ.get("SM_NUM_CPUS") or os.cpu_count() or 1)
    return max(1, min(n, cap) if cap else n)


def metric(name: str, value: float) -> None:
    """One metric line; non-finite values are not printed (a job's metrics are finite numbers)."""
    if math.isfinite(value):
        print(f"metric: {name}={value:.6g}", flush=True)


def fail(reason: str) -> NoReturn:
    """Stop the job with a reason the platform shows as failure_reason."""
    out = output_dir()
    out.mkdir(parents=True, exist_ok=True)
    (out / "failure").write_text(reason)
    print(reason, file=sys.stderr, flush=True)
    raise SystemExit(1)


def files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def data_fingerprint(chans: dict[str, Path]) -> str:
    """The platform's data fingerprint (optiloop.models.training.channels): sha256 of the sorted
    lines `<channel>/<file> <sha256 of the file>`."""
    lines = []
    for name, folder in chans.items():
        for p in files(folder):
            lines.append(
                f"{name}/{p.relative_to(folder).as_posix()} {hashlib.sha256(p.read_bytes()).hexdigest()}"
            )
    return "sha256:" + hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def write_json(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, separators=(",", ":"), allow_nan=False))


def require(module: str, install: str) -> None:
    """Fail the job with an installable reason, not a traceback, when a framework is missing (a local
    platform installed without it; SageMaker's framework images always have theirs)."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        fail(f"this job needs {module}, which is not installed where it runs: {install}")
