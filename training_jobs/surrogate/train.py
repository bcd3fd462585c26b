"""The test-optimisation surrogate: how likely a test is to fail, from its parameters.

Channel `runs` (or `train`): the snapshot optiloop.workflows.training.prepare_training writes —
`manifest.json` (the project's space: params with their types, ranges and enums) and `runs.jsonl`
(one run per line: the test's params, status, buckets, new_buckets, cost). Each param becomes a
signature input (integer / number / boolean; a string param a category whose categories are its
enum, sorted), so the suggestion engine can score candidate tests through the serving path exactly
as they were encoded here. Skipped runs are left out; `fail` is the positive class.

The artifact's model (model.trees.json) is the failure classifier; a second booster predicts the
coverage gain (new buckets) of a run and ships as coverage.trees.json (manifest `extra_models`).
Metrics (held out, seeded split): auc, logloss and accuracy of failure, base_rate, and
coverage_gain_mae. Hyperparameters: n_estimators (100), max_depth (3), learning_rate (0.1),
validation_fraction (0.25), seed (0), coverage ("true": also fit the coverage-gain model).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import numpy as np  # noqa: E402
from _lib import encoding, evaluate, sm  # noqa: E402
from _lib.model_files import write_model  # noqa: E402
from _lib.trees_export import export_booster  # noqa: E402

TYPES = {"integer": "integer", "number": "number", "boolean": "boolean"}
MIN_RUNS = 10


def space_inputs(space: dict, runs: list[dict]) -> list[dict]:
    """Signature inputs from the space description; a param with an `active_if` may be absent."""
    inputs = []
    for name, spec in space.get("params", {}).items():
        inp: dict = {"name": name, "required": "active_if" not in spec}
        if spec.get("type") in TYPES:
            inp["type"] = TYPES[spec["type"]]
        else:
            seen = {str(r["params"][name]) for r in runs if r["params"].get(name) is not None}
            inp["type"], inp["categories"] = "category", sorted(set(spec.get("enum") or []) | seen)
            if not inp["categories"]:
                continue
        inputs.append(inp)
    return inputs


def main() -> None:
    hp = sm.hyperparameters()
    folder = sm.channel("runs") or sm.channel("train")
    if folder is None or not (folder / "manifest.json").is_file():
        sm.fail("surrogate needs a `runs` channel holding a prepare_training snapshot (inputs: "
                "{\"runs\": {\"project_runs\": \"<project_id>\"}})")  # fmt: skip
    manifest = json.loads((folder / "manifest.json").read_text())
    lines = (folder / "runs.jsonl").read_text().splitlines()
    runs = [
        r for r in (json.loads(x) for x in lines if x.strip()) if r.get("params") and r["status"] != "skipped"
    ]
    if len(runs) < MIN_RUNS:
        sm.fail(f"the surrogate needs at least {MIN_RUNS} passed or failed runs with params, got {len(runs)}")
    inputs = space_inputs(manifest.get("space", {}), runs)
    if not inputs:
        sm.fail("the project's space has no params to learn from")
    x = encoding.encode(inputs, [r["params"] for r in runs])
    y = np.array([1.0 if r["status"] == "fail" else 0.0 for r in runs])
    gain = np.array([float(r.get("new_buckets") or 0) for r in runs])
    if y.min() == y.max():
        sm.fail(f"every run {'failed' if y[0] else 'passed'}: a failure model needs both outcomes")
    train, val = evaluate.split(
        len(runs), float(hp.get("validation_fraction", "0.25")), int(hp.get("seed", "0"))
    )

    import xgboost as xgb

    base = {
        "max_depth": int(hp.get("max_depth", "3")),
        "eta": float(hp.get("learning_rate", "0.1")),
        "nthread": sm.num_cpus(),
        "seed": int(hp.get("seed", "0")),
    }
    rounds = int(hp.get("n_estimators", "100"))
    dtrain = xgb.DMatrix(x[train], label=y[train], missing=np.nan)
    clf = xgb.train({**base, "objective": "binary:logistic"}, dtrain, num_boost_round=rounds)
    held = val if len(val) else train
    p_held = clf.predict(xgb.DMatrix(x[held], missing=np.nan))
    metrics = evaluate.classification("binary", y[held], p_held)
    metrics["base_rate"] = float(y[train].mean())
    extra_files, extra = {}, {}
    if hp.get("coverage", "true") == "true":
        dgain = xgb.DMatrix(x[train], label=gain[train], missing=np.nan)
        reg = xgb.train({**base, "objective": "reg:squarederror"}, dgain, num_boost_round=rounds)
        metrics["coverage_gain_mae"] = evaluate.regression(
            gain[held], reg.predict(xgb.DMatrix(x[held], missing=np.nan))
        )["mae"]
        extra_files["coverage.trees.json"] = export_booster(reg, len(inputs))
        extra["extra_models"] = {"coverage_gain": "coverage.trees.json"}
    for name, value in metrics.items():
        sm.metric(name, value)
    scores = clf.predict(xgb.DMatrix(x, missing=np.nan))
    write_model(
        sm.model_dir(),
        export_booster(clf, len(inputs)),
        {"task": "binary", "inputs": inputs, "classes": ["pass", "fail"]},
        params={
            **hp,
            "n_runs": len(runs),
            "n_train": len(train),
            "n_validation": len(val),
            "space_version": manifest.get("space", {}).get("space_version"),
            "runs_through_seq": manifest.get("runs_through_seq"),
        },
        metrics=metrics,
        data_fingerprint=sm.data_fingerprint(sm.channels()),
        baseline=encoding.baseline(inputs, x, scores, "binary", ["pass", "fail"]),
        extra_files=extra_files,
        extra=extra,
    )
    print(f"surrogate: {len(runs)} runs, {len(inputs)} params; wrote the failure and coverage-gain models")


if __name__ == "__main__":
    main()
