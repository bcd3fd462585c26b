"""Off-policy evaluation of a candidate policy on an experiment's own logged decisions
(`POST /v1/experiments/{id}/ope`): what the candidate would have earned had it served the requests the
experiment served, estimated by IPS, SNIPS and doubly robust (`optiloop.decisions.ope`) from the
rewarded decisions' variants, propensities and rewards. Nothing is served or changed.

The candidate is one of:
- `{"variant": "strong"}`: always that variant;
- `{"weights": {"weak": 0.7, "strong": 0.3}}`: a fixed random split (weights sum to 1);
- `{"rules": [{"when": {"subject": "abstract_algebra"}, "variant": "strong"}, ...], "default": "weak"}`:
  the first rule whose `when` equals the decision's logged context field by field, else `default`.
  Decisions log their short scalar context fields (strings under 40 characters, numbers, booleans —
  the fields a rule can name; long text is not kept), so a rule naming a text field never matches.

The DR reward model reads the feature vector a Contextual experiment logged, or just an intercept for
the others. At most MAX_ROWS of the newest rewarded decisions are read (`truncated` says so), which
bounds the request's memory and time (the reward model is a ridge solve per variant on ≤ d features).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.decisions import ope
from optiloop.decisions.experiments import load
from optiloop.decisions.features import TEXT_MIN_CHARS
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput

REWARD = "decision_reward"  # serve.REWARD (not imported: serve imports the hot path's dependencies)
MAX_ROWS = 20_000
PAGE = 500
WEIGHT_TOLERANCE = 1e-6


def logged_context(context: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The context fields a decision keeps for rules: short strings, numbers, booleans."""
    if not context:
        return None
    kept = {
        k: v
        for k, v in context.items()
        if isinstance(v, bool | int | float) or (isinstance(v, str) and len(v) < TEXT_MIN_CHARS)
    }
    return kept or None


def target_matrix(
    policy: Mapping[str, Any], variants: list[str], contexts: list[dict[str, Any] | None]
) -> np.ndarray:
    """(n, K): the candidate's probability of each variant for each logged decision (422 naming the
    `policy.*` field that is wrong)."""
    k, n = len(variants), len(contexts)
    index = {v: i for i, v in enumerate(variants)}
    given = [key for key in ("variant", "weights", "rules") if policy.get(key) is not None]
    if len(given) != 1:
        raise InvalidInput(FieldProblem("policy", "give exactly one of variant, weights, rules"))

    def arm(field: str, name: Any) -> int:
        if name not in index:
            raise InvalidInput(
                FieldProblem(field, f"unknown variant {name!r} (variants: {', '.join(variants)})")
            )
        return index[name]

    out = np.zeros((n, k))
    if given[0] == "variant":
        out[:, arm("policy.variant", policy["variant"])] = 1.0
        return out
    if given[0] == "weights":
        weights: Mapping[str, float] = policy["weights"]
        row = np.zeros(k)
        for name, w in weights.items():
            if not math.isfinite(w) or w < 0:
                raise InvalidInput(FieldProblem(f"policy.weights.{name}", "must be a number >= 0"))
            row[arm(f"policy.weights.{name}", name)] = w
        if abs(row.sum() - 1.0) > WEIGHT_TOLERANCE:
            raise InvalidInput(FieldProblem("policy.weights", f"sum to {row.sum():g}; they must sum to 1"))
        out[:] = row
        return out
    rules: list[Mapping[str, Any]] = policy["rules"]
    if policy.get("default") is None:
        raise InvalidInput(FieldProblem("policy.default", "rules need a default variant"))
    default = arm("policy.default", policy["default"])
    arms = [arm(f"policy.rules[{i}].variant", r["variant"]) for i, r in enumerate(rules)]
    for i, ctx in enumerate(contexts):
        chosen = default
        for rule, a in zip(rules, arms, strict=True):
            if ctx is not None and all(ctx.get(f, _MISSING) == v for f, v in rule["when"].items()):
                chosen = a
                break
        out[i, chosen] = 1.0
    return out


_MISSING = object()


def _records(deps: Deps, experiment_id: str) -> tuple[list[dict[str, Any]], bool]:
    """The newest rewarded decisions, at most MAX_ROWS; and whether older ones were left out."""
    out: list[dict[str, Any]] = []
    after: str | None = None
    while len(out) < MAX_ROWS:
        page = deps.store.docs.list(REWARD, experiment_id, after=after, limit=PAGE, descending=True)
        out.extend(d.data for d in page)
        if len(page) < PAGE:
            return out[:MAX_ROWS], False
        after = page[-1].sort
    more = bool(deps.store.docs.list(REWARD, experiment_id, after=after, limit=1, descending=True))
    return out[:MAX_ROWS], more or len(out) > MAX_ROWS


def _estimate(e: ope.Estimate) -> dict[str, float]:
    return {"value": e.value, "se": e.se, "ci_low": e.ci[0], "ci_high": e.ci[1]}


def evaluate(deps: Deps, who: Principal, experiment_id: str, policy: Mapping[str, Any]) -> dict[str, Any]:
    exp = load(deps, experiment_id).data
    authorize(who, Action.PROJECT_READ, exp["project_id"])
    variants = [v["id"] for v in exp["variants"]]
    target_matrix(policy, variants, [])  # validate the candidate before reading anything
    records, truncated = _records(deps, experiment_id)
    if not records:
        raise Conflict(
            f"experiment '{experiment_id}' has no rewarded decisions to evaluate a policy on",
            details=[{"field": "experiment_id", "reason": "no rewarded decisions yet"}],
        )
    actions = np.array([int(r["arm"]) for r in records])
    rewards = np.array([float(r["reward"]) for r in records])
    propensities = np.array([float(r["propensity"]) for r in records])
    if all(r.get("x") is not None for r in records):
        x = np.array([r["x"] for r in records], dtype=float)
    else:
        x = np.ones((len(records), 1))
    target = target_matrix(policy, variants, [r.get("context") for r in records])
    w = ope.weights(actions, np.maximum(propensities, 1e-12), target)
    q = ope.reward_model(x, actions, rewards, len(variants))
    estimates = {"ips": ope.ips(rewards, w), "snips": ope.snips(rewards, w),
                 "dr": ope.dr(rewards, actions, w, target, q)}  # fmt: skip
    counts = np.bincount(actions, minlength=len(variants))
    return {
        "experiment_id": experiment_id,
        "rows": len(records),
        "truncated": truncated,
        "logged": {
            "value": float(rewards.mean()),
            "served": {v: int(c) for v, c in zip(variants, counts, strict=True)},
        },
        "candidate_share": {v: float(s) for v, s in zip(variants, target.mean(axis=0), strict=True)},
        "estimates": {name: _estimate(e) for name, e in estimates.items()},
        "ess": ope.ess(w),
        "matched": float((target[np.arange(len(actions)), actions] > 0).mean()),
    }
