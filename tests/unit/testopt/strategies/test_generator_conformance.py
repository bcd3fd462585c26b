"""The conformance suite every generator passes: always feasible, seeded runs reproduce, no repeats.

Feasibility is checked against plain-Python versions of the relations, not only against the
space's own evaluator, so a bug shared by the sampler and the evaluator cannot hide.
"""

from __future__ import annotations

import json

import pytest

from optiloop.testopt.strategies import GENERATORS

ISSUE_SPACE = {
    "params": {
        "qps": {"type": "integer", "min": 1, "max": 5000},
        "region": {"type": "string", "enum": ["us", "eu", "apac"]},
        "payload_kb": {"type": "number", "min": 0.1, "max": 512.0},
        "cache": {"type": "boolean"},
    },
    "relations": ["if(region=='eu') then(payload_kb<=256.0)", "qps * payload_kb <= 1.0e6"],
}


def issue_ok(p):
    return (p["region"] != "eu" or p["payload_kb"] <= 256.0) and p["qps"] * p["payload_kb"] <= 1.0e6


TIGHT_SPACE = {  # 1% of the box is feasible, and one relation is an equality
    "params": {
        "a": {"type": "number", "min": 0, "max": 100},
        "b": {"type": "number", "min": 0, "max": 100},
        "q": {"type": "integer", "min": 1, "max": 100},
        "fmt": {"type": "string", "enum": ["png", "jpeg"]},
    },
    "relations": ["a + b <= 14", "if(fmt=='png') then(q==100)"],
}


def tight_ok(p):
    return p["a"] + p["b"] <= 14 and (p["fmt"] != "png" or p["q"] == 100)


COND_SPACE = {
    "params": {
        "coupon": {"type": "boolean"},
        "pct": {"type": "number", "min": 0, "max": 90, "active_if": "coupon"},
        "n": {"type": "integer", "min": 1, "max": 50, "log": True},
        "lr": {"type": "number", "min": 1e-5, "max": 1.0, "log": True},
    },
    "relations": ["pct <= 80", "n * lr <= 10"],
}


def cond_ok(p):
    if p["coupon"] != ("pct" in p):
        return False
    if "pct" in p and not 0 <= p["pct"] <= 80:
        return False
    return 1 <= p["n"] <= 50 and 1e-5 <= p["lr"] <= 1.0 and p["n"] * p["lr"] <= 10


SPACES = [
    ("issue", ISSUE_SPACE, issue_ok),
    ("tight", TIGHT_SPACE, tight_ok),
    ("conditional", COND_SPACE, cond_ok),
]


@pytest.mark.parametrize("generator", sorted(GENERATORS))
@pytest.mark.parametrize(("label", "schema", "ok"), SPACES, ids=[s[0] for s in SPACES])
def test_always_feasible_and_never_repeats(loop_factory, generator, label, schema, ok):
    loop = loop_factory(schema)
    seen = set()
    for _ in range(4):
        out = loop.suggest(generator=generator, batch_size=15, seed=3)
        assert len(out["tests"]) == 15
        for t in out["tests"]:
            assert ok(t["params"]), (label, t["params"])
            key = json.dumps(t["params"], sort_keys=True)
            assert key not in seen
            seen.add(key)
        assert {e["id"] for e in out["explanations"]} == {t["id"] for t in out["tests"]}
        loop.ingest(out["tests"])


@pytest.mark.parametrize("generator", sorted(GENERATORS))
def test_same_seed_same_history_same_suggestions(loop_factory, generator):
    a, b = loop_factory(ISSUE_SPACE), loop_factory(ISSUE_SPACE)
    for _ in range(3):
        ta, tb = (
            a.suggest(generator=generator, batch_size=12, seed=11),
            b.suggest(generator=generator, batch_size=12, seed=11),
        )
        assert [t["params"] for t in ta["tests"]] == [t["params"] for t in tb["tests"]]
        assert ta["policy_version"] == tb["policy_version"]
        a.ingest(ta["tests"])
        b.ingest(tb["tests"])
    c = loop_factory(ISSUE_SPACE)
    assert [t["params"] for t in c.suggest(generator=generator, batch_size=12, seed=12)["tests"]] != [
        t["params"]
        for t in loop_factory(ISSUE_SPACE).suggest(generator=generator, batch_size=12, seed=11)["tests"]
    ]


def test_pending_tests_are_not_suggested_again(loop_factory):
    loop = loop_factory(ISSUE_SPACE)
    first = loop.suggest(batch_size=20, seed=1)
    second = loop.suggest(batch_size=20, seed=1)  # same seed, but the history now holds 20 pending tests
    p1 = {json.dumps(t["params"], sort_keys=True) for t in first["tests"]}
    p2 = {json.dumps(t["params"], sort_keys=True) for t in second["tests"]}
    assert not p1 & p2


def test_small_discrete_space_is_exhausted_not_repeated(loop_factory):
    schema = {"params": {"x": {"type": "boolean"}, "y": {"type": "string", "enum": ["a", "b", "c"]}}}
    loop = loop_factory(schema)
    got = []
    for _ in range(3):
        out = loop.suggest(generator="hybrid", batch_size=4, seed=0)
        got += [json.dumps(t["params"], sort_keys=True) for t in out["tests"]]
    assert len(got) == len(set(got)) == 6


def test_budget_caps_predicted_cost(loop_factory):
    loop = loop_factory(ISSUE_SPACE)
    out = loop.suggest(batch_size=20, seed=0, budget_cents=5)
    assert len(out["tests"]) == 5  # 1 cent per test before any cost is observed
    assert out["predicted_cost_cents"] <= 5


def test_soft_constraints_are_preferred_not_forced(loop_factory):
    loop = loop_factory(ISSUE_SPACE, soft=["cache == true"])
    out = loop.suggest(generator="coverage", batch_size=30, seed=0)
    assert all(issue_ok(t["params"]) for t in out["tests"])
    assert sum(t["params"]["cache"] for t in out["tests"]) >= 24
    never = loop_factory(ISSUE_SPACE, soft=["qps < 0"])  # a soft wish that cannot be met blocks nothing
    assert len(never.suggest(generator="coverage", batch_size=30, seed=0)["tests"]) == 30
