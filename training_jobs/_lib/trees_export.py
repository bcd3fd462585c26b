"""XGBoost booster -> `optiloop.trees/1` (see optiloop.models.runtimes.trees for the format).

Lives with the training scripts (it needs xgboost, which the platform path never imports) and is
shipped inside every job's source bundle, so it runs unchanged on SageMaker's XGBoost and
scikit-learn images and locally.
"""

from __future__ import annotations

import json
import math
from typing import Any

OBJECTIVE_LINKS = {
    "binary:logistic": "logistic",
    "multi:softprob": "softmax",
    "multi:softmax": "softmax",
    "reg:squarederror": "identity",
    "reg:absoluteerror": "identity",
    "reg:pseudohubererror": "identity",
}


def _flatten(node: dict[str, Any], nodes: dict[int, dict[str, Any]]) -> None:
    nodes[int(node["nodeid"])] = node
    for child in node.get("children", []):
        _flatten(child, nodes)


def _tree(dump: str, output: int) -> dict[str, Any]:
    nodes: dict[int, dict[str, Any]] = {}
    _flatten(json.loads(dump), nodes)
    order = sorted(nodes)  # xgboost numbers nodes densely from 0 (the root)
    index = {nid: k for k, nid in enumerate(order)}
    keys = ("feature", "threshold", "left", "right", "default_left", "value")
    t: dict[str, list[Any]] = {k: [] for k in keys}
    for nid in order:
        n = nodes[nid]
        if "leaf" in n:
            t["feature"].append(0)
            t["threshold"].append(0.0)
            t["left"].append(-1)
            t["right"].append(-1)
            t["default_left"].append(0)
            t["value"].append(float(n["leaf"]))
        else:
            t["feature"].append(int(str(n["split"]).lstrip("f")))
            t["threshold"].append(float(n["split_condition"]))
            t["left"].append(index[int(n["yes"])])
            t["right"].append(index[int(n["no"])])
            t["default_left"].append(1 if int(n["missing"]) == int(n["yes"]) else 0)
            t["value"].append(0.0)
    return {"output": output, **t}


def export_booster(booster: Any, n_features: int) -> dict[str, Any]:
    """The trees document of a trained booster (features must be named f0..f{n-1}, i.e. unnamed)."""
    config = json.loads(booster.save_config())
    learner = config["learner"]
    objective = learner["objective"]["name"]
    if objective not in OBJECTIVE_LINKS:
        raise ValueError(f"objective {objective!r} has no portable link; one of {sorted(OBJECTIVE_LINKS)}")
    link = OBJECTIVE_LINKS[objective]
    n_class = int(learner["learner_model_param"].get("num_class", "0") or 0)
    n_outputs = n_class if link == "softmax" else 1
    raw_base = learner["learner_model_param"]["base_score"]
    base_values = [float(v) for v in str(raw_base).strip("[]").split(",") if v.strip()]
    if len(base_values) == 1:
        base_values = base_values * n_outputs
    if link == "logistic":
        base = [math.log(p / (1.0 - p)) for p in base_values]
    elif link == "softmax":
        # multi:softprob keeps base_score in margin space already (a constant per class)
        base = base_values
    else:
        base = base_values
    dumps = booster.get_dump(dump_format="json")
    trees = [_tree(d, (k % n_outputs) if n_outputs > 1 else 0) for k, d in enumerate(dumps)]
    return {
        "format": "optiloop.trees/1",
        "n_features": n_features,
        "n_outputs": n_outputs,
        "base_margin": base,
        "link": link,
        "trees": trees,
    }
