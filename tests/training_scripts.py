"""A `training_jobs/` folder for tests: the real `_lib/` and entry points, plus `tiny`.

`tiny/train.py` needs nothing but the standard library (about 50 ms a run), so the contract and
HTTP suites can run real subprocess jobs quickly. Its `mode` hyperparameter picks what it does:
`ok` (a valid one-stump model on input `x`), `crash` (an exception), `sleep` (`seconds` then ok),
`empty` (exit 0, nothing written), `junk` (a model dir that is not an OptiLoop artifact).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

REPO_JOBS = Path(__file__).resolve().parents[1] / "training_jobs"

TINY = """
import json, os, sys, time
from pathlib import Path

hp = json.loads(os.environ.get("SM_HPS", "{}"))
mode = hp.get("mode", "ok")
rows = 0
train = os.environ.get("SM_CHANNEL_TRAIN")
if train:
    for p in sorted(Path(train).rglob("*")):
        if p.is_file():
            rows += sum(1 for line in p.read_text().splitlines() if line.strip())
print(f"tiny: mode={mode} rows={rows}")
print(f"metric: rows={rows}")
if mode == "crash":
    print("about to fail", file=sys.stderr)
    raise RuntimeError("tiny was asked to crash")
if mode == "sleep":
    time.sleep(float(hp.get("seconds", "30")))
out = Path(os.environ["SM_MODEL_DIR"])
if mode == "junk":
    (out / "weights.bin").write_bytes(b"not a model")
elif mode != "empty":
    stump = {"format": "optiloop.trees/1", "n_features": 1, "n_outputs": 1, "base_margin": [0.0],
             "link": "logistic", "trees": [{"output": 0, "feature": [0, 0, 0], "threshold": [0.5, 0, 0],
             "left": [1, -1, -1], "right": [2, -1, -1], "default_left": [1, 0, 0], "value": [0, -1.0, 1.0]}]}
    (out / "model.trees.json").write_text(json.dumps(stump))
    manifest = {"format": "optiloop.model/1", "framework": "xgboost", "runtime": "trees",
                "model_file": "model.trees.json", "params": hp, "metrics": {"auc": 0.75},
                "signature": {"task": "binary", "classes": [0, 1],
                              "inputs": [{"name": "x", "type": "number"}]}}
    (out / "optiloop-model.json").write_text(json.dumps(manifest))
print("metric: auc=0.75")
"""


def make_code_root(tmp: Path, *, real: bool = True) -> Path:
    """`<tmp>/training_jobs` with `tiny` (and, when `real`, the repository's entry points)."""
    root = tmp / "training_jobs"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO_JOBS / "_lib", root / "_lib", ignore=ignore)
    if real:
        for name in ("tabular_xgb", "surrogate", "torch_mlp", "rl_policy"):
            shutil.copytree(REPO_JOBS / name, root / name, ignore=ignore)
    (root / "tiny").mkdir()
    (root / "tiny" / "train.py").write_text(TINY)
    (root / "tiny" / "job.json").write_text(json.dumps({"framework": "sklearn", "metrics": ["rows", "auc"]}))
    return root
