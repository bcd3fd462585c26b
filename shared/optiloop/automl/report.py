"""The experiment report: the winner explained, stored with the experiment when its search completes.

Everything is computed through the winner's *served* artifact (what will be deployed, not a training
framework's object), so one method serves every family:

- permutation importance (optiloop.automl.explain), on training rows;
- SHAP values (optiloop.automl.attribution: sampled Shapley values, exact per-row additivity), their
  mean |value| per feature;
- PDP and ICE curves (optiloop.automl.effects) for the TOP_FEATURES most important features;
- calibration: `ece` (out-of-fold, a trial metric) and the reliability curve; for binary tasks the
  decision-threshold analysis (optiloop.automl.reliability) — out-of-fold where the run kept the
  winner's out-of-fold outputs (`source` says which);
- fairness for a declared sensitive column (binary tasks; out-of-fold, from the trial's metrics);
- `plots`: PNG files of each of these (optiloop.automl.report_plots), stored as blobs beside the
  experiment's artifacts and served by `GET /v1/experiments/{id}/report/{file}`.

The JSON keeps the tables a reader or a policy reads; the PNGs draw the same tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optiloop.deps import Deps
from optiloop.errors import NotFound

TOP_FEATURES = 3


def plot_key(exp: dict[str, Any], name: str) -> str:
    from optiloop.automl.experiments import blob_prefix

    return f"{blob_prefix(exp['project_id'], exp['id'])}report/{name}"


def plot(deps: Deps, exp: dict[str, Any], name: str) -> bytes:
    """One of the report's PNG files (the caller has authorised reading the experiment); 404 naming
    `file` when the report has no such plot (not completed, or no table to draw it from)."""
    files = ((exp.get("report") or {}).get("plots") or {}).get("files") or {}
    data = deps.blobs.get(plot_key(exp, name)) if name in files else None
    if data is None:
        known = ", ".join(sorted(files)) or "none yet"
        raise NotFound(
            f"no report plot '{name}'", details=[{"field": "file", "reason": f"the report's plots: {known}"}]
        )
    return data


def _output_name(task: str) -> str:
    return {"binary": "positive-class probability", "multiclass": "class probabilities"}.get(
        task, "prediction"
    )


def build(
    deps: Deps,
    exp: dict[str, Any],
    best: dict[str, Any],
    prep: Any,
    seed: int,
    oof: np.ndarray | None = None,
) -> dict[str, Any]:
    """The best trial explained. `oof`: its out-of-fold outputs (rows x draws of the CV, stacked as
    the search stacks them), when the run kept them."""
    from optiloop.automl import attribution, cost, effects, explain, reliability
    from optiloop.models import runtimes
    from optiloop.models.artifact import read_artifact

    metric, direction = exp["metric"], exp["direction"]
    if exp["task_type"] == "forecasting":  # the fold metrics need the series: importance by MAE
        metric, direction = "mae", "minimize"
    if not best.get("artifact_key") or best.get("runtime") == "forecast":
        return _unexplained(best, "a forecast table (a statistical forecaster, their combination or the "
                            "global model across series): no request features to shuffle")  # fmt: skip
    predictor = runtimes.load(read_artifact(deps.blobs.get(best["artifact_key"]) or b""))
    if exp.get("target") is None:  # an unlabelled anomaly detector: no objective to lose
        return _unexplained(best, "no labels: nothing to measure importance against")
    try:
        elements: int | None = cost.of_predictor(predictor).elements
    except TypeError:  # a runtime the cost model does not know: the fixed row cap
        elements = None
    names = [i.name for i in prep.signature.inputs]
    x, y, task = prep.x, prep.y, prep.task
    importance = explain.permutation_importance(
        predictor.predict, x, y, task=task, n_classes=len(prep.signature.classes), metric=metric,
        greater_is_better=direction == "maximize", names=names, seed=seed, elements_per_row=elements,
    )  # fmt: skip
    rows = min(int(y.size), explain.rows_for(len(names), elements))
    rng = np.random.default_rng(seed)
    n_shap = min(int(y.size), attribution.rows_for(len(names), elements))
    explained = x[np.sort(rng.choice(y.size, n_shap, replace=False))]
    background = x[np.sort(rng.choice(y.size, min(int(y.size), attribution.BACKGROUND), replace=False))]
    values, base = attribution.shap_values(predictor.predict, explained, background, seed=seed)
    top = [names.index(r["feature"]) for r in importance[:TOP_FEATURES]]
    m = best["metrics"]
    out: dict[str, Any] = {
        "trial_id": best["trial_id"],
        "model": best["model"],
        "permutation_importance": importance[:50],
        "importance_note": f"objective lost when the feature is shuffled, on {rows} of the training "
        "rows, through the served artifact (mean and std over 3 shuffles)",
        "shap": attribution.summary(values, base, names)
        | {
            "rows": n_shap,
            "output": _output_name(task),
            "note": f"sampled Shapley values ({attribution.PERMUTATIONS} feature orders a row, each against "
            "a background training row) of the served model; a row's values sum to its output "
            "minus base_value",
        },
        "partial_dependence": [effects.curves(predictor.predict, x, j, names[j], seed=seed) for j in top],
        "calibration": {"ece": m.get("ece")} if "ece" in m else None,
        "thresholds": None,
        "fairness": None
        if not exp["config"].get("sensitive_column")
        else {
            "sensitive_column": exp["config"]["sensitive_column"],
            "demographic_parity": m.get("fairness.demographic_parity"),
            "equalized_odds": m.get("fairness.equalized_odds"),
            "groups": best.get("fairness"),
            "note": "out-of-fold decisions (p >= 0.5); binary tasks only",
        },
    }
    if exp["task_type"] == "classification":  # an anomaly score is not a probability: no curve
        probs, truth, source = _probabilities(predictor, x, y, oof)
        out["calibration"] = (out["calibration"] or {}) | {
            "curve": reliability.curve(truth, probs, task),
            "source": source,
        }
        if task == "binary":
            out["thresholds"] = {"rows": reliability.thresholds(truth, probs[:, 0]), "source": source}
    out["plots"] = _plots(deps, exp, out, _output_name(task))
    return out


def _unexplained(best: dict[str, Any], why: str) -> dict[str, Any]:
    """The report of a winner nothing can be measured on, saying why."""
    return {"trial_id": best["trial_id"], "model": best["model"], "permutation_importance": None,
            "importance_note": why, "calibration": None, "fairness": None}  # fmt: skip


def _probabilities(
    predictor: Any, x: np.ndarray, y: np.ndarray, oof: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, str]:
    """The winner's out-of-fold probabilities and the labels they go with (every draw of a repeated
    CV: each row once per draw), else the served model's on the training rows."""
    if oof is not None and oof.shape[0] % max(1, y.size) == 0 and np.all(np.isfinite(oof)):
        draws = oof.shape[0] // y.size
        return oof.reshape(oof.shape[0], -1), np.tile(y, draws), "out-of-fold"
    probs = np.asarray(predictor.predict(x), dtype=np.float64).reshape(y.size, -1)
    return probs, y, "training rows (no out-of-fold outputs kept for this trial): optimistic"


def _plots(deps: Deps, exp: dict[str, Any], report: dict[str, Any], output: str) -> dict[str, Any]:
    """The report's PNGs, stored as blobs: `{"files": {file: bytes}}`."""
    from optiloop.automl import report_plots

    files: dict[str, int] = {}
    for name, png in report_plots.render(report, output).items():
        deps.blobs.put(plot_key(exp, name), png)
        files[name] = len(png)
    return {"files": files}
