"""The `rl` generator: a registered RL policy's moves, made feasible by the engine's projection.

It passes the conformance suite every generator passes (always feasible, never repeats, seeded
runs reproduce) on projects with a trained policy; without one, `generator: "rl"` is a 409 naming
the field; in `hybrid` the policy is an arm only while one is registered, and its tests are
credited to it like any arm's.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import test_generator_conformance as conformance  # same folder: pytest puts it on sys.path
from loop_harness import Loop

from optiloop.errors import Conflict
from optiloop.testopt.rl import registered
from optiloop.testopt.strategies.generators import HybridGenerator

pytest.importorskip("torch")  # the policy is trained here, in process (the serving side needs no torch)
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import rl_policies


class RLLoop(Loop):
    """A project with 24 runs and an RL policy trained on them, registered at `staging`."""

    def __init__(self, schema: dict, soft: list[str] | None = None) -> None:
        super().__init__(schema, soft)
        for _ in range(2):
            self.ingest(Loop.suggest(self, generator="qmc", batch_size=12, seed=99)["tests"])
        self.policy = rl_policies.train_and_register(self.deps, self.project_id)


@pytest.mark.parametrize(
    ("label", "schema", "ok"), conformance.SPACES, ids=[s[0] for s in conformance.SPACES]
)
def test_rl_passes_the_generator_conformance_suite(label: str, schema: dict, ok: Any) -> None:
    conformance.test_always_feasible_and_never_repeats(RLLoop, "rl", label, schema, ok)


def test_rl_reproduces_with_its_seed() -> None:
    """The conformance suite's reproduction check, except that the two projects' policy versions
    are two registry versions (their ids differ), trained alike: the same weights."""
    a, b = RLLoop(conformance.ISSUE_SPACE), RLLoop(conformance.ISSUE_SPACE)
    pa, pb = registered.registered(a.deps, a.project_id), registered.registered(b.deps, b.project_id)
    assert pa is not None and pb is not None  # seeded training: the same weights from the same runs
    assert all(np.array_equal(x, y) for x, y in zip(pa.net.weights, pb.net.weights, strict=True))
    for _ in range(3):
        ta = a.suggest(generator="rl", batch_size=12, seed=11)
        tb = b.suggest(generator="rl", batch_size=12, seed=11)
        assert [t["params"] for t in ta["tests"]] == [t["params"] for t in tb["tests"]]
        assert ta["policy_version"] == a.policy["model_version_id"] != b.policy["model_version_id"]
        assert tb["policy_version"] == b.policy["model_version_id"]
        a.ingest(ta["tests"])
        b.ingest(tb["tests"])
    c = RLLoop(conformance.ISSUE_SPACE)
    other = c.suggest(generator="rl", batch_size=12, seed=12)["tests"]
    assert [t["params"] for t in other] != [t["params"] for t in RLLoop(conformance.ISSUE_SPACE).suggest(
        generator="rl", batch_size=12, seed=11)["tests"]]  # fmt: skip


def test_policy_version_names_the_registry_version_and_tests_name_the_policy() -> None:
    loop = RLLoop(conformance.ISSUE_SPACE)
    out = loop.suggest(generator="rl", batch_size=10, seed=5)
    assert out["policy_version"] == loop.policy["model_version_id"]
    assert all("trained RL policy" in e["rationale"] for e in out["explanations"])
    [*_, rec] = loop.deps.store.audit.list(project_id=loop.project_id, action="tests.suggest", limit=100)
    assert rec.details["rl_policy"]["model_version_id"] == loop.policy["model_version_id"]
    assert rec.details["operator_mix"] == {"rl": 1.0}


def test_without_a_policy_rl_is_a_409_naming_the_field() -> None:
    loop = Loop(conformance.ISSUE_SPACE)
    with pytest.raises(Conflict) as e:
        loop.suggest(generator="rl", batch_size=5, seed=1)
    assert e.value.details[0]["field"] == "generator" and "policies:train" in e.value.message


def test_a_policy_trained_on_other_params_is_not_used() -> None:
    loop = RLLoop(conformance.ISSUE_SPACE)
    other = {"params": {"x": {"type": "number", "min": 0, "max": 1}}}
    loop_b = Loop(other)
    data = rl_policies.train_artifact(loop.deps, loop.project_id)
    rl_policies.register(loop_b.deps, loop_b.project_id, data)  # the ISSUE_SPACE policy, on x alone
    with pytest.raises(Conflict) as e:
        loop_b.suggest(generator="rl", batch_size=5, seed=1)
    assert "other params" in e.value.message and e.value.details[0]["field"] == "generator"
    out = loop_b.suggest(generator="hybrid", batch_size=10, seed=1)  # hybrid simply goes without it
    assert len(out["tests"]) == 10
    [*_, rec] = loop_b.deps.store.audit.list(project_id=loop_b.project_id, action="tests.suggest", limit=100)
    assert "rl" not in rec.details["operator_mix"] and "rl_policy" not in rec.details


def test_hybrid_has_an_rl_arm_only_with_a_policy_and_credits_it() -> None:
    loop = RLLoop(conformance.ISSUE_SPACE)
    ops: list[str] = []
    for _ in range(4):
        out = loop.suggest(generator="hybrid", batch_size=30, seed=2)
        [*_, rec] = loop.deps.store.audit.list(project_id=loop.project_id, action="tests.suggest", limit=100)
        assert "rl" in rec.details["operator_mix"] and rec.details["rl_policy"] == {
            k: loop.policy[k] for k in ("model_version_id", "version")
        } | {"model_id": loop.policy["model_id"], "alias": "staging"}
        ops += [
            t.operator
            for t in loop.deps.store.tests.get_many(loop.project_id, [t["id"] for t in out["tests"]]).values()
        ]
        loop.ingest(out["tests"])
    assert "rl" in ops  # the arm got slots, and its runs are credited to operator `rl`
    plain = Loop(conformance.ISSUE_SPACE)
    out = plain.suggest(generator="hybrid", batch_size=30, seed=2)
    [*_, rec] = plain.deps.store.audit.list(project_id=plain.project_id, action="tests.suggest", limit=100)
    assert "rl" not in rec.details["operator_mix"]


class _State:
    def __init__(self, rates: dict[str, float], n: int = 300, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        arms = list(rates)
        self.ops = [arms[i % len(arms)] for i in range(n)]
        self.vals = [float(rng.poisson(rates[a])) for a in self.ops]
        self.n_runs = n

    def rewards(self, last: int) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.ops[-last:], dtype=object), np.asarray(self.vals[-last:])


@pytest.mark.parametrize(("rl_rate", "share"), [(2.0, 0.5), (0.05, 0.05)])
def test_the_rl_arm_earns_its_share_by_new_buckets_per_test(rl_rate: float, share: float) -> None:
    rates = {"qmc": 0.4, "spread": 0.3, "boundary": 0.3, "edge": 0.2, "mutate": 0.3, "crossover": 0.3,
             "model": 0.2, "rl": rl_rate}  # fmt: skip
    ws = []
    for seed in range(4):
        ctx = SimpleNamespace(
            state=_State(rates, seed=seed), rng=np.random.default_rng(seed), rl_policy=object()
        )
        ws.append(HybridGenerator().weights(ctx)["rl"])  # type: ignore[arg-type]
    if rl_rate > 1:
        assert np.mean(ws) > share  # a policy that clearly pays takes most of the batch
    else:
        assert np.mean(ws) < share  # one that does not is left a sliver


def teardown_module() -> None:
    registered.clear_cache()
