"""An online experiment's definition, checked whole at creation and stored with every default explicit.

Checking everything up front means `decide` and `feedback` never meet a half-valid experiment: the
hot path trusts the stored spec. An online experiment is the `experiment` document with `type`
(AutoML's has `task_type`; both share `/v1/experiments`).
"""

from __future__ import annotations

import math
from typing import Any

from optiloop.decisions import bayes, canary
from optiloop.decisions.guardrails import DEFAULT_GUARDRAILS, GUARDRAIL_MIN_SAMPLES
from optiloop.errors import FieldProblem, InvalidInput

TYPES = ("AB", "Bandit", "Contextual", "Canary", "Bayesian")
ALGORITHMS: dict[str, tuple[str, ...]] = {
    "AB": ("split",),
    "Bandit": ("thompson", "ucb"),
    "Contextual": ("linucb", "lin_ts"),
    "Canary": ("stages",),
    "Bayesian": ("gp_ucb", "ei"),
}
STATUSES = ("Draft", "Running", "Paused", "Completed", "Archived")
# the seed's composite reward: 0.5*quality + 0.3*(1-normalized_cost) + 0.2*(1-normalized_latency);
# a weight named "1-x" takes 1 - rewards["x"]
DEFAULT_REWARD_WEIGHTS = {"quality": 0.5, "1-normalized_cost": 0.3, "1-normalized_latency": 0.2}
# a trace-joined cost (USD) and latency (ms) become normalized_cost/normalized_latency = value / scale,
# clipped to [0, 1], when the composite reward needs them and the feedback did not give them
DEFAULT_SCALES = {"cost_usd": 0.01, "latency_ms": 10_000.0}
DEFAULT_DIMENSION = 16
DRIFT_RESPONSES = ("restart", "discount")
MAX_STATE_FLOATS = 16_384  # variants * dimension^2: the checkpoint document stays well under 390 KB
WEIGHT_TOLERANCE = 1e-6


def is_online(data: dict[str, Any]) -> bool:
    return "type" in data and "task_type" not in data


def normalise(body: dict[str, Any]) -> dict[str, Any]:
    """The request body (already type-checked by the API model) with its cross-field rules applied."""
    problems: list[FieldProblem] = []
    kind = body["type"]
    algorithm = body.get("algorithm") or ALGORITHMS[kind][0]
    if algorithm not in ALGORITHMS[kind]:
        problems.append(
            FieldProblem("algorithm", f"{kind} experiments use one of {', '.join(ALGORITHMS[kind])}")
        )
    variants = [_variant(v, k) for k, v in enumerate(body["variants"])]
    ids = [v["id"] for v in variants]
    for k, vid in enumerate(ids):
        if not vid:
            problems.append(FieldProblem(f"variants[{k}].id", "is required (or name)"))
        elif vid in ids[:k]:
            problems.append(FieldProblem(f"variants[{k}].id", f"repeats {vid!r}"))
    problems += _weights(variants, kind)
    metric = dict(body["metric"]) if body.get("metric") else {"name": "reward", "kind": "continuous"}
    metric.setdefault("kind", "continuous")
    metric.setdefault("direction", "maximize")
    context = _context(body.get("context") or {}, len(variants), kind, problems)
    stopping = {
        "alpha": 0.05,
        "tau": 0.1,
        "min_samples": 100,
        "max_samples": None,
        **(body.get("stopping") or {}),
    }
    weights = body.get("reward_weights")
    if weights is not None and not weights:
        problems.append(FieldProblem("reward_weights", "needs at least one metric"))
    guardrails = [dict(g) for g in body["guardrails"]] if body.get("guardrails") is not None else None
    scales = {**DEFAULT_SCALES, **(body.get("normalization") or {})}
    drift = _drift(body.get("drift"), kind, problems)
    staged = (
        canary.normalise(body.get("canary"), len(variants), stopping["min_samples"], problems)
        if kind == "Canary"
        else None
    )
    bo = bayes.normalise(body.get("bayesian"), variants, problems) if kind == "Bayesian" else None
    if kind != "Bayesian" and body.get("bayesian") is not None:
        problems.append(FieldProblem("bayesian", f"parameters apply to Bayesian experiments, not {kind}"))
    if kind != "Canary" and body.get("canary") is not None:
        problems.append(FieldProblem("canary", f"stages apply to Canary experiments, not {kind}"))
    if problems:
        raise InvalidInput(problems)
    return {
        "type": kind,
        "algorithm": algorithm,
        "variants": variants,
        "metric": metric,
        "reward_weights": dict(weights) if weights else dict(DEFAULT_REWARD_WEIGHTS),
        "stopping": stopping,
        "context": context,
        "decision_ttl_days": float(body.get("decision_ttl_days") or 30),
        "seed": int(body["seed"]) if body.get("seed") is not None else None,
        "guardrails": guardrails if guardrails is not None else [dict(g) for g in DEFAULT_GUARDRAILS],
        "guardrail_min_samples": int(body.get("guardrail_min_samples") or GUARDRAIL_MIN_SAMPLES),
        "normalization": scales,
        "drift": drift,
        "canary": staged,
        "bayesian": bo,
        "attach": {"prompt_id": body["attach"]["prompt_id"], "label": body["attach"].get("label") or "prod"}
        if body.get("attach")
        else None,
    }


def _drift(raw: dict[str, Any] | None, kind: str, problems: list[FieldProblem]) -> dict[str, Any] | None:
    """Page-Hinkley on each arm's utilities of a Bandit or Contextual experiment
    (`optiloop.decisions.adapt`); when it fires the arm's learner memory is restarted (`response`
    "restart") or scaled by `keep` ("discount"). None: never forget."""
    if raw is None:
        return None
    if kind not in ("Bandit", "Contextual"):
        why = f"drift adaptation applies to Bandit and Contextual experiments, not {kind}"
        problems.append(FieldProblem("drift", why))
    response = raw.get("response") or "restart"
    if response not in DRIFT_RESPONSES:
        problems.append(
            FieldProblem("drift.response", f"is {response!r}; one of {', '.join(DRIFT_RESPONSES)}")
        )
    keep = _num(raw, "keep", 0.0 if response == "restart" else 0.25)
    if response == "discount" and not 0.0 < keep < 1.0:
        problems.append(FieldProblem("drift.keep", f"is {keep:g}; a discount keeps a share in (0, 1)"))
    if response == "restart" and raw.get("keep") not in (None, 0, 0.0):
        problems.append(
            FieldProblem("drift.keep", "applies to response 'discount' (a restart keeps nothing)")
        )
    return {
        "detector": "page_hinkley",
        "delta": _num(raw, "delta", 0.005),
        "threshold": _num(raw, "threshold", 25.0),
        "min_items": int(raw.get("min_items") or 30),
        "response": response,
        "keep": keep if response == "discount" else 0.0,
    }


def _variant(raw: dict[str, Any], k: int) -> dict[str, Any]:
    """`{"id", "config", "weight"}`, or the seed's `{"name": "weak", "model": "m-small"}`: fields other
    than id/name/weight/config are the variant's config."""
    extra = {key: v for key, v in raw.items() if key not in ("id", "name", "config", "weight")}
    return {
        "id": str(raw.get("id") or raw.get("name") or ""),
        "config": {**extra, **(raw.get("config") or {})},
        "weight": raw.get("weight"),
    }


def _weights(variants: list[dict[str, Any]], kind: str) -> list[FieldProblem]:
    given = [v["weight"] for v in variants]
    if all(w is None for w in given):
        for v in variants:
            v["weight"] = 1.0 / len(variants)
        return []
    if kind != "AB":
        return [
            FieldProblem(
                "variants[0].weight", f"weights split AB traffic; a {kind} experiment learns its own"
            )
        ]
    missing = [f"variants[{k}].weight" for k, w in enumerate(given) if w is None]
    if missing:
        return [FieldProblem(f, "give every variant a weight, or none (an even split)") for f in missing]
    total = math.fsum(float(w) for w in given)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        return [FieldProblem("variants[].weight", f"weights sum to {total:g}; they must sum to 1")]
    for v in variants:
        v["weight"] = float(v["weight"])
    return []


def _context(raw: dict[str, Any], n_variants: int, kind: str, problems: list[FieldProblem]) -> dict[str, Any]:
    numeric = list(raw.get("numeric") or [])
    categorical = list(raw.get("categorical") or [])
    dimension = int(raw.get("dimension") or DEFAULT_DIMENSION)
    if kind == "Contextual":
        if dimension < 2 + len(numeric):
            problems.append(
                FieldProblem(
                    "context.dimension", f"needs at least {2 + len(numeric)} (bias, numeric, hashed)"
                )
            )
        if n_variants * dimension * dimension > MAX_STATE_FLOATS:
            problems.append(
                FieldProblem("context.dimension", f"variants x dimension^2 must stay <= {MAX_STATE_FLOATS}")
            )
    both = set(numeric) & set(categorical)
    if both:
        problems.append(FieldProblem("context.categorical", f"{sorted(both)} are also numeric"))
    declared = bool(raw.get("numeric") is not None or raw.get("categorical") is not None)
    return {
        "dimension": dimension,
        "numeric": numeric,
        "categorical": categorical,
        "declared": declared,
        "alpha": _num(raw, "alpha", 1.0),
        "v": _num(raw, "v", 0.5),
        "ridge": _num(raw, "ridge", 1.0),
    }


def _num(raw: dict[str, Any], key: str, default: float) -> float:
    value = raw.get(key)
    return float(value) if value is not None else default
