"""A local training job's platform overhead: everything but the fit (issue 9's floor: < 2 s).

    .venv/bin/python tests/benchmarks/training_overhead.py [repeats]

Each job goes the whole way a user's does — create_job (validate, copy the dataset into a channel,
bundle and hash the code, record job + lineage + audit), the subprocess (unpack the bundle, lay out
SageMaker's folders, run train.py), packing SM_MODEL_DIR into model.tar.gz, and the get_job that
sees it end (parse metrics, keep the log, check the artifact, price it) — polled every 10 ms.

Two numbers per entry point, medians over the repeats:
* `tiny`: a script that trains nothing (stdlib only): its end-to-end time is all overhead, the
  Python start of the child included;
* `tabular_xgb` (600 rows, 50 trees): end-to-end minus the fit the script times itself
  (`timing: fit_seconds=` in its log); the rest is the platform plus importing numpy and xgboost in
  the child, which every XGBoost job pays wherever it runs.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "shared"), str(ROOT / "tests")]

from training_scripts import make_code_root  # noqa: E402

from optiloop.auth.principal import Principal  # noqa: E402
from optiloop.deps import Deps  # noqa: E402
from optiloop.models.training.jobs import create_job, get_job, job_logs  # noqa: E402
from optiloop.models.training.local import LocalTrainer  # noqa: E402
from optiloop.projects import create_project  # noqa: E402
from optiloop.prompts.datasets import add_examples, create_dataset  # noqa: E402
from optiloop.store.factory import open_memory  # noqa: E402

WHO = Principal("bench", "admin", None, None)


def run_once(deps: Deps, pid: str, ds: str, entry: str, hps: dict[str, str]) -> tuple[float, float]:
    t0 = time.perf_counter()
    job = create_job(deps, WHO, pid, entry, hps, {"train": {"dataset_id": ds}})
    while job.status not in ("Completed", "Failed", "Stopped"):
        time.sleep(0.01)
        job = get_job(deps, WHO, job.id)
    total = time.perf_counter() - t0
    assert job.status == "Completed", job.failure_reason
    fit = 0.0
    for line in job_logs(deps, WHO, job.id, 0, 5000)["lines"]:
        if line.startswith("timing: fit_seconds="):
            fit = float(line.split("=", 1)[1])
    return total, fit


def main(repeats: int = 5) -> None:
    store, blobs = open_memory()
    tmp = Path(tempfile.mkdtemp(prefix="optiloop-bench-"))
    deps = Deps(store=store, blobs=blobs)
    deps.trainer = LocalTrainer(make_code_root(tmp), tmp / "work", blobs)
    pid = create_project(deps, WHO, "bench", "training overhead").id
    rng = random.Random(0)
    rows = [
        {"id": f"r{i}", "expected": "yes" if rng.random() < 0.4 else "no",
         "input": {"a": rng.random(), "b": rng.choice(["x", "y", "z"]), "c": rng.randint(0, 9)}}
        for i in range(600)
    ]  # fmt: skip
    ds = create_dataset(deps, WHO, pid, "bench")["id"]
    add_examples(deps, WHO, ds, rows)
    print(f"local training job overhead, median of {repeats} (this machine, 1 thread per job)")
    for entry, hps in (("tiny", {}), ("tabular_xgb", {"n_estimators": "50"})):
        run_once(deps, pid, ds, entry, hps)  # warm the page cache and the interpreter's imports
        samples = [run_once(deps, pid, ds, entry, hps) for _ in range(repeats)]
        total = statistics.median(t for t, _ in samples)
        fit = statistics.median(f for _, f in samples)
        print(f"  {entry:<12} end-to-end {total:6.3f} s   fit {fit:6.3f} s   overhead {total - fit:6.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
