"""Policy-as-code: parsing names every problem, evaluation gates on measured values."""

from __future__ import annotations

import pytest

from optiloop.approvals.policies import evaluate, parse_policy, policy_as_dict
from optiloop.errors import InvalidInput

GATE = {
    "name": "prod-gate",
    "scope": "prompt_version",
    "rule": {
        "if": {"eval.exact_match": {">=": 0.8}, "eval.f1.ci_low": {">": 0.5}},
        "then": "require_approval",
        "approvers": ["admin", "user:zoe"],
        "min_approvals": 2,
    },
}


def test_roundtrip() -> None:
    p = parse_policy(GATE)
    assert policy_as_dict(p) == {
        **GATE,
        "rule": {**GATE["rule"], "if": {"eval.exact_match": {">=": 0.8}, "eval.f1.ci_low": {">": 0.5}}},
    }


def test_gate_passes_and_sets_the_requirement() -> None:
    out = evaluate(parse_policy(GATE), {"eval.exact_match": 0.9, "eval.f1.ci_low": 0.6}.get)
    assert out.passed and out.requirement == {
        "policy": "prod-gate",
        "approvers": ["admin", "user:zoe"],
        "min_approvals": 2,
    }


@pytest.mark.parametrize(
    ("measured", "words"),
    [
        ({"eval.exact_match": 0.62, "eval.f1.ci_low": 0.9}, "eval.exact_match is 0.62"),
        ({"eval.exact_match": 0.9}, "eval.f1.ci_low was never measured"),
    ],
)
def test_failing_gate_names_the_rule_and_the_value(measured: dict, words: str) -> None:
    out = evaluate(parse_policy(GATE), measured.get)
    assert not out.passed and "prod-gate" in out.message and words in out.message


def test_block_rule_refuses_when_its_condition_holds() -> None:
    p = parse_policy(
        {
            "name": "no-bad-json",
            "scope": "prompt_version",
            "rule": {"if": {"eval.json_valid": {"<": 1}}, "then": "block"},
        }
    )
    assert not evaluate(p, {"eval.json_valid": 0.5}.get).passed
    assert evaluate(p, {"eval.json_valid": 1.0}.get).passed


def test_parse_names_every_problem() -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_policy(
            {
                "name": "",
                "scope": "rocket",
                "rule": {
                    "if": {"f1": {">=": "high"}},
                    "then": "x",
                    "approvers": ["risk officer!"],  # a role, user:<name> or a group name
                    "min_approvals": 99,
                    "extra": 1,
                },
            }
        )
    assert sorted(p.field for p in exc.value.problems) == [
        "name",
        "rule.approvers",
        "rule.extra",
        "rule.if.f1",
        "rule.min_approvals",
        "rule.then",
        "scope",
    ]
