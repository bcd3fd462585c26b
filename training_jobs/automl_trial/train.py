"""One AutoML trial as a training job: the AutoML state machine's Map runs one of these per
configuration (optiloop.automl.fanout), on SageMaker or as a local subprocess.

Unlike the other entry points this one imports optiloop: the trial must be scored, refitted and
exported by exactly the code the local search runs (optiloop.automl.search.runner), so the two
engines cannot drift apart. It therefore runs on the platform's own image (`framework: optiloop`,
OPTILOOP_AUTOML_IMAGE: Python 3.11 with optiloop[train,torch] and SageMaker's training toolkit;
docker/automl-trial.Dockerfile), not on a framework image.

Channel `table`: the experiment's table as stored (`table.npz`, optiloop.table/1).
Hyperparameters (strings): task_type, target, metric, direction, config (JSON: cv, hpo, imbalance,
sensitive_column, constraints), trial (JSON: number, family, params), fingerprint.

The configuration is run as a one-trial search with that configuration enqueued first, no pruning
and no ensemble: every fold is scored (parallel jobs share no intermediate values to prune on),
then the model is refitted on every row, exported and checked against the serving runtime.
Writes to SM_MODEL_DIR the artifact's files plus `trial.json` (fold scores, CPU seconds, the export
check, fairness per group) and `oof.npz` (the out-of-fold outputs and each row's fold, for the
ensemble the fan-out builds at the end; the platform moves both out of the served artifact), and
prints each metric (`metric: auc=0.97`). A failed configuration
exits through `_lib.sm.fail` with the reason, which the platform records as the failed trial's error.
"""

from __future__ import annotations

import io
import json
import math
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # _lib/ sits beside train.py in the bundle, above it here

from _lib import sm  # noqa: E402


def main() -> None:
    hp = sm.hyperparameters()
    try:
        from optiloop.automl.experiments import cv_repeats_of
        from optiloop.automl.forecast import prepare_for
        from optiloop.automl.objectives import Objective
        from optiloop.automl.run import _groups
        from optiloop.automl.search.runner import SearchSpec, folds_of, search, stacked
        from optiloop.automl.table import from_bytes
    except ImportError as e:
        sm.fail(f"automl_trial needs the OptiLoop training image (optiloop[train] installed): {e}")
    cfg = json.loads(hp["config"])
    trial = json.loads(hp["trial"])
    folder = sm.channel("table")
    if folder is None or not (folder / "table.npz").is_file():
        sm.fail("channel 'table' with table.npz is missing")
    table = from_bytes((folder / "table.npz").read_bytes())
    target = hp["target"]
    prep = prepare_for(table, target, hp["task_type"], cfg)
    family = str(trial["family"])
    spec = SearchSpec(
        objective=Objective(hp["metric"], hp["direction"]),
        folds=int(cfg["cv"]["folds"]),
        cv_seed=int(cfg["cv"]["seed"]),
        repeats=cv_repeats_of(cfg),
        seed=int(cfg["hpo"]["seed"]),
        stratified=str(cfg["cv"]["type"]).startswith("stratified"),
        pruner="none",
        trials=1,
        families=(family,),
        class_weight=(cfg.get("imbalance") or {}).get("method") == "class_weight",
        ensemble=False,
        warm_start=({"model": family, **trial["params"]},),
        constraints=dict(cfg.get("constraints") or {}),
        keep_oof=True,
    )
    results = search(
        prep.x, prep.y, prep.signature, spec, fingerprint=hp.get("fingerprint", ""),
        groups=_groups(table, target, cfg.get("sensitive_column")),
    )  # fmt: skip
    if not results:
        sm.fail(f"family {family!r} is not available on this image")
    res = results[0]
    if res.status != "completed" or res.artifact is None:
        sm.fail(res.error or f"the trial ended {res.status}")
    out = sm.model_dir()
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(res.artifact), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile() and "/" not in member.name and not member.name.startswith("."):
                data = tar.extractfile(member)
                if data is not None:
                    (out / member.name).write_bytes(data.read())
    report = {
        "number": trial["number"],
        "fold_scores": [None if math.isnan(v) else v for v in res.fold_scores],
        "fit_s": res.fit_s,
        "export_max_abs_diff": res.export_max_abs_diff,
        "fairness": res.fairness,
    }
    (out / "trial.json").write_text(json.dumps(report))
    if res.oof is not None:  # the same folds the search scored on (seeded by cv.seed; rows x draws)
        import numpy as np

        fold = np.full(res.oof.shape[0], -1, dtype=np.int64)
        for j, (_, slot) in enumerate(stacked(folds_of(prep.y, spec, prep.signature.task), prep.y.size)):
            fold[slot] = j
        buf = io.BytesIO()
        np.savez(buf, oof=res.oof, fold=fold)
        (out / "oof.npz").write_bytes(buf.getvalue())
    for name, value in sorted(res.metrics.items()):
        if math.isfinite(value):
            sm.metric(name, value)
    sm.metric("fit_s", res.fit_s)


if __name__ == "__main__":
    main()
