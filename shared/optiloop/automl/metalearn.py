"""Warm start from the configurations that won on earlier experiments (meta-learning).

When an experiment completes, its best few single-model configurations are stored with the
dataset's meta-features (a `automl_winner` document per experiment, scoped by task kind). A new
experiment describes its own table the same way, finds the nearest earlier experiments and enqueues
their winning configurations as its first Optuna trials — ahead of the families' defaults — so a
search that has a good answer on a similar table finds it in its first trials rather than after
the sampler has rediscovered it.

Meta-features (cheap, no model fitted): log10 rows, log10 features, the share of categorical and of
boolean inputs, the share of missing cells, and for classification log2 of the class count and the
minority class's share. Distances are Euclidean over these, each divided by a fixed scale so no
single one dominates. Only hyperparameters and these summaries are stored: no data, no column names.

The portfolio is shared by the projects of one deployment (one store). The chosen configurations
are written into the experiment (`config.hpo.warm_start`) before the run, so a rerun of the same
experiment repeats them exactly, whatever has been learnt since.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optiloop.deps import Deps
from optiloop.store.records import Doc

KIND = "automl_winner"
PER_EXPERIMENT = 3  # configurations stored per completed experiment
DEFAULT_WARM_START = 3  # configurations enqueued for a new experiment
SCAN_LIMIT = 500  # the most recent winners considered
# meta-feature -> scale (a difference of one scale counts like a tenfold difference in rows)
SCALES = {
    "log10_rows": 1.0,
    "log10_features": 1.0,
    "categorical_share": 0.5,
    "boolean_share": 0.5,
    "missing_share": 0.25,
    "log2_classes": 2.0,
    "minority_share": 0.25,
}


def meta_features(x: np.ndarray, y: np.ndarray, signature: Any) -> dict[str, float]:
    """The table's summary: x as `features.prepare` makes it, y its labels or values."""
    rows, cols = x.shape
    types = [i.type for i in signature.inputs]
    out = {
        "log10_rows": math.log10(max(rows, 1)),
        "log10_features": math.log10(max(cols, 1)),
        "categorical_share": types.count("category") / max(cols, 1),
        "boolean_share": types.count("boolean") / max(cols, 1),
        "missing_share": float(np.isnan(x).mean()) if x.size else 0.0,
        "log2_classes": 0.0,
        "minority_share": 0.0,
    }
    if signature.task != "regression" and y.size:
        counts = np.bincount(y.astype(np.int64))
        counts = counts[counts > 0]
        out["log2_classes"] = math.log2(max(counts.size, 1))
        out["minority_share"] = float(counts.min() / y.size)
    return {k: round(v, 6) for k, v in out.items()}


def distance(a: dict[str, float], b: dict[str, float]) -> float:
    return math.sqrt(sum(((a.get(k, 0.0) - b.get(k, 0.0)) / s) ** 2 for k, s in SCALES.items()))


def remember(
    deps: Deps, exp: dict[str, Any], ranked_trials: list[dict[str, Any]], meta: dict[str, float]
) -> None:
    """Store a completed experiment's best single-model configurations (ensembles are not
    configurations: they are rebuilt from whatever a search finds)."""
    configs: list[dict[str, Any]] = []
    for t in ranked_trials:
        if t.get("family") in (None, "ensemble", "baseline") or t.get("status") != "completed":
            continue
        configs.append({"model": t["family"], **t["params"]})
        if len(configs) == PER_EXPERIMENT:
            break
    if not configs:
        return
    task = exp["task"]
    data = {
        "experiment_id": exp["id"],
        "project_id": exp["project_id"],
        "task": task,
        "metric": exp["metric"],
        "meta": meta,
        "configs": configs,
        "created_at": deps.clock(),
    }
    if deps.store.docs.get(KIND, exp["id"]) is None:  # a resumed run completes once more: one record
        deps.store.docs.create(
            Doc(kind=KIND, id=exp["id"], scope=task, sort=f"{deps.clock()}#{exp['id']}", data=data)
        )


def nearest_configs(
    deps: Deps, task: str, meta: dict[str, float], k: int = DEFAULT_WARM_START, exclude: str | None = None
) -> list[dict[str, Any]]:
    """Up to k configurations: the winners of the nearest earlier experiments of the same task kind,
    best of each experiment first, nearest experiment first, duplicates dropped. Each carries
    `from_experiment` and `distance` for the record (stripped before it is enqueued)."""
    if k <= 0:
        return []
    docs = deps.store.docs.list(KIND, task, limit=SCAN_LIMIT, descending=True)
    ranked = sorted(
        (d.data for d in docs if d.data["experiment_id"] != exclude),
        key=lambda w: (distance(meta, w["meta"]), w["experiment_id"]),
    )
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for w in ranked:
        dist = round(distance(meta, w["meta"]), 6)
        for c in w["configs"]:
            key = repr(sorted(c.items()))
            if key in seen:
                continue
            seen.add(key)
            out.append({"config": c, "from_experiment": w["experiment_id"], "distance": dist})
            if len(out) == k:
                return out
    return out
