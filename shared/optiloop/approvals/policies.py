"""Policy-as-code: per-project rules evaluated when a change is submitted for approval.

A policy is data, not code, so it can be reviewed, versioned and audited like any other record:

    {"name": "prod-gate", "scope": "prompt_version",
     "rule": {"if": {"eval.exact_match": {">=": 0.8}}, "then": "require_approval",
              "approvers": ["admin"], "min_approvals": 2}}

`then: require_approval` is a gate: when `if` holds the change needs `min_approvals` approvals from
`approvers` (roles, meaning that role or above, `user:<name>`, or a named governance group such as
`risk_officer`); when it does not hold the submission is blocked with the rule's name and the
measured value. `then: block` refuses the submission when `if` holds. All conditions of `if` must
hold; a metric that was never measured fails its condition (an unevaluated change cannot pass a
quality gate by default).

What a condition may measure depends on the scope (`MEASURES`): a prompt version's evaluations
(`eval.f1`, `eval.f1.ci_low`); a model version's held-out metrics (`metrics.auc`) and its model
card's numbers (`fairness.demographic_parity`, `calibration.ece`). The seed's model policy works as
written:

    {"name": "prod-approval-policy", "scope": "model_version",
     "rule": {"if": {"metrics.auc": {">=": 0.9}, "fairness.demographic_parity": {"<=": 0.1},
                     "calibration.ece": {"<=": 0.05}},
              "then": "require_approval", "approvers": ["risk_officer", "mlops_admin"]}}
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from optiloop.errors import FieldProblem, InvalidInput
from optiloop.store.records import ROLES

SCOPES = ("prompt_version", "model_version", "policy", "deployment")
THEN = ("require_approval", "block")
OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
METRIC_KEY = re.compile(r"^eval\.[a-z_][a-z0-9_]*(\.(mean|ci_low|ci_high|n))?$")
MODEL_KEY = re.compile(r"^(metrics|fairness|calibration)\.[A-Za-z0-9_][A-Za-z0-9_\-]{0,99}$")
# scope -> (the pattern its measures follow, how to say so in a 422)
MEASURES: dict[str, tuple[re.Pattern[str], str]] = {
    "prompt_version": (METRIC_KEY, "eval.<metric> or eval.<metric>.ci_low"),
    "model_version": (MODEL_KEY, "metrics.<name>, fairness.<name> or calibration.<name>"),
}
GROUP = re.compile(r"^[a-z][a-z0-9_]{1,49}$")  # a named approver group: risk_officer, mlops_admin
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
MAX_MIN_APPROVALS = 10


@dataclass(frozen=True)
class Condition:
    metric: str  # "eval.exact_match" or "eval.exact_match.ci_low"
    op: str
    value: float

    def describe(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Policy:
    name: str
    scope: str
    then: str
    conditions: tuple[Condition, ...] = ()
    approvers: tuple[str, ...] = ("admin",)
    min_approvals: int = 1
    dataset_id: str | None = None  # measure on this golden set; else the newest evaluation


@dataclass(frozen=True)
class Outcome:
    """One policy applied to one change: what it measured and what it decided."""

    policy: str
    passed: bool
    measured: dict[str, float | None] = field(default_factory=dict)
    message: str = ""
    requirement: dict[str, Any] | None = None  # {"policy", "approvers", "min_approvals"} when it applies


def parse_policy(raw: Any) -> Policy:
    """Validate a policy document; one InvalidInput naming every problem by its JSON path."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(FieldProblem("policy", "must be an object"))
    problems: list[FieldProblem] = []
    name, scope, rule = raw.get("name"), raw.get("scope"), raw.get("rule")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        problems.append(FieldProblem("name", "1-100 of A-Z a-z 0-9 _ . - starting with a letter or digit"))
    if scope not in SCOPES:
        problems.append(FieldProblem("scope", f"must be one of {', '.join(SCOPES)}"))
    if not isinstance(rule, Mapping):
        problems.append(
            FieldProblem("rule", 'must be an object like {"if": {...}, "then": "require_approval"}')
        )
        raise InvalidInput(problems)
    unknown = sorted(set(rule) - {"if", "then", "approvers", "min_approvals"})
    if unknown:
        problems.append(FieldProblem(f"rule.{unknown[0]}", "unknown field"))
    then = rule.get("then")
    if then not in THEN:
        problems.append(FieldProblem("rule.then", f"must be one of {', '.join(THEN)}"))
    conditions = _conditions(rule.get("if", {}), problems, scope if isinstance(scope, str) else "")
    approvers = rule.get("approvers", ["admin"])
    if not isinstance(approvers, list) or not approvers or not all(_approver_ok(a) for a in approvers):
        problems.append(
            FieldProblem(
                "rule.approvers",
                f"a non-empty list of roles ({', '.join(ROLES)}), 'user:<name>' or group names "
                "(a-z 0-9 _, e.g. risk_officer)",
            )
        )
    n = rule.get("min_approvals", 1)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_MIN_APPROVALS:
        problems.append(FieldProblem("rule.min_approvals", f"an integer from 1 to {MAX_MIN_APPROVALS}"))
    dataset_id = raw.get("dataset_id")
    if dataset_id is not None and not isinstance(dataset_id, str):
        problems.append(FieldProblem("dataset_id", "must be a string"))
    if problems:
        raise InvalidInput(problems)
    return Policy(
        name=str(name),  # each checked above: a problem would have raised
        scope=str(scope),
        then=str(then),
        conditions=conditions,
        approvers=tuple(approvers),
        min_approvals=n,
        dataset_id=dataset_id,
    )


def _approver_ok(a: Any) -> bool:
    return isinstance(a, str) and (
        a in ROLES or (a.startswith("user:") and len(a) > 5) or bool(GROUP.fullmatch(a))
    )


def _conditions(raw: Any, problems: list[FieldProblem], scope: str) -> tuple[Condition, ...]:
    pattern, shape = MEASURES.get(scope, (METRIC_KEY, "eval.<metric> or eval.<metric>.ci_low"))
    if not isinstance(raw, Mapping):
        problems.append(FieldProblem("rule.if", 'must be an object like {"eval.f1": {">=": 0.7}}'))
        return ()
    out: list[Condition] = []
    for metric, test in raw.items():
        path = f"rule.if.{metric}"
        if not isinstance(metric, str) or not pattern.fullmatch(metric):
            problems.append(FieldProblem(path, f"metric must look like {shape}"))
            continue
        if not isinstance(test, Mapping) or not test:
            problems.append(FieldProblem(path, 'must be an object like {">=": 0.8}'))
            continue
        for op, value in test.items():
            if op not in OPS:
                problems.append(FieldProblem(f"{path}.{op}", f"operator must be one of {' '.join(OPS)}"))
            elif not isinstance(value, int | float) or isinstance(value, bool):
                problems.append(FieldProblem(f"{path}.{op}", "threshold must be a number"))
            else:
                out.append(Condition(metric, op, float(value)))
    return tuple(out)


def policy_as_dict(p: Policy) -> dict[str, Any]:
    rule: dict[str, Any] = {"then": p.then, "approvers": list(p.approvers), "min_approvals": p.min_approvals}
    if p.conditions:
        cond: dict[str, dict[str, float]] = {}
        for c in p.conditions:
            cond.setdefault(c.metric, {})[c.op] = c.value
        rule["if"] = cond
    out: dict[str, Any] = {"name": p.name, "scope": p.scope, "rule": rule}
    if p.dataset_id:
        out["dataset_id"] = p.dataset_id
    return out


def evaluate(
    policy: Policy,
    measure: Callable[[str], float | None],
    *,
    missing_hint: str = "was never measured (run an evaluation first)",
) -> Outcome:
    """Apply one policy; `measure("eval.f1.ci_low")` returns the value or None if never measured
    (`missing_hint` says so in the entity type's words)."""
    measured = {c.metric: measure(c.metric) for c in policy.conditions}
    failed = [c for c in policy.conditions if (m := measured[c.metric]) is None or not OPS[c.op](m, c.value)]
    holds = not failed
    if policy.then == "block":
        if holds:
            what = " and ".join(
                f"{c.describe()} (measured {_fmt(measured[c.metric])})" for c in policy.conditions
            )
            return Outcome(policy.name, False, measured, f"policy '{policy.name}' blocks this change: {what}")
        return Outcome(policy.name, True, measured)
    if not holds:
        c = failed[0]
        value = measured[c.metric]
        why = missing_hint if value is None else f"is {_fmt(value)}"
        return Outcome(
            policy.name,
            False,
            measured,
            f"policy '{policy.name}' requires {c.describe()}, but {c.metric} {why}",
        )
    req = {"policy": policy.name, "approvers": list(policy.approvers), "min_approvals": policy.min_approvals}
    return Outcome(policy.name, True, measured, requirement=req)


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4g}"
