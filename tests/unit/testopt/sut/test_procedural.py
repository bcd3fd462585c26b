"""The procedural SUT generator: deterministic, accepted by the platform, agreeing with its evaluator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from optiloop.testopt.space.schema import ConstraintDoc, build_space
from optiloop.testopt.sut.procedural import FAIL_BASE, N_SEEDS, generate, split_of, suite
from optiloop.testopt.sut.procedural.families import FAMILIES
from optiloop.testopt.sut.procedural.system import GeneratedSystem

FIRST = 60


@pytest.fixture(scope="module")
def systems() -> list[GeneratedSystem]:
    return suite("all")


def space_of(g: GeneratedSystem) -> Any:
    return build_space([ConstraintDoc("space", "hard", 0.0, g.schema)])


def platform_points(g: GeneratedSystem, n: int, seed: int) -> Iterator[tuple[dict[str, Any], bool]]:
    """n uniform unit-cube points decoded by the platform, with its verdict on each."""
    space = space_of(g)
    batch = space.decode(np.random.default_rng(seed).random((n, space.dim)))
    yield from zip(space.to_dicts(batch), space.feasible(batch).tolist(), strict=True)


def test_same_seed_same_system() -> None:
    for seed in (0, 1, 7, 42, 123):
        a, b = generate(seed), generate(seed)
        assert a.schema == b.schema
        assert a.name == b.name == f"gen-{seed:04d}"
        assert a.fail_buckets == b.fail_buckets
        for p, _ in platform_points(a, 200, seed):
            assert a.run(p) == b.run(p)


def test_different_seeds_differ(systems: list[GeneratedSystem]) -> None:
    schemas = {repr(g.schema) for g in systems}
    assert len(schemas) == len(systems)


def test_split_is_disjoint_and_covering() -> None:
    tune = {g.seed for g in suite("tune")}
    held = {g.seed for g in suite("heldout")}
    assert not tune & held
    assert tune | held == set(range(N_SEEDS))
    assert len(tune | held) >= 240
    assert all(split_of(s) == "heldout" for s in held)
    assert [g.seed for g in suite("tune", count=3)] == [0, 1, 2]
    with pytest.raises(ValueError):
        suite("test")


def test_both_sets_hold_every_family(systems: list[GeneratedSystem]) -> None:
    for split in ("tune", "heldout"):
        fams = {g.family for g in systems if split_of(g.seed) == split}
        assert fams == set(FAMILIES)


def test_schemas_are_accepted_by_the_platform(systems: list[GeneratedSystem]) -> None:
    for g in systems[:FIRST]:
        space = space_of(g)
        assert space.dim == g.dim
        assert len(space.hard) == len(g.relations)


def test_feasible_agrees_with_the_platform(systems: list[GeneratedSystem]) -> None:
    """Both verdicts on 300 uniform points per system, infeasible ones included."""
    infeasible = 0
    for g in systems[:FIRST]:
        for p, ok in platform_points(g, 300, g.seed):
            assert g.feasible(p) == ok, (g.name, p, g.schema["relations"])
            infeasible += not ok
    assert infeasible > 1000  # the check saw both sides of the relations


def test_inactive_values_are_ignored_as_the_platform_drops_them(systems: list[GeneratedSystem]) -> None:
    """The harness's naive samplers send every param; a conditional one whose condition is false
    must not change the verdict (the platform's test would not carry it)."""
    conditional = [g for g in systems if any(p.parent for p in g.params)][:8]
    assert conditional
    for g in conditional:
        space = space_of(g)
        batch = space.decode(np.random.default_rng(1).random((200, space.dim)))
        verdicts = space.feasible(batch).tolist()
        for j, (p, ok) in enumerate(zip(space.to_dicts(batch), verdicts, strict=True)):
            full = {q.name: q.to_json_value(batch.cols[q.name][j]) for q in space.params}
            assert g.feasible(full) == ok
            assert g.run(full)["coverage_delta"] == g.run(p)["coverage_delta"] or g.flaky


def test_run_outputs(systems: list[GeneratedSystem]) -> None:
    for g in systems[:FIRST]:
        space = space_of(g)
        from optiloop.testopt.sampling.feasible import sample_feasible

        U = sample_feasible(space, 200, np.random.default_rng(g.seed), mode="mixed")
        for p in space.to_dicts(space.decode(U)):
            out = g.run(p)
            assert out["status"] in ("pass", "fail")
            assert isinstance(out["duration_ms"], int) and out["duration_ms"] > 0
            assert isinstance(out["cost_cents"], int) and out["cost_cents"] > 0
            hit = out["coverage_delta"]["buckets_hit"]
            assert hit and all(type(b) is int and 0 <= b < 2**63 for b in hit)
            fails = {b for b in hit if b >= FAIL_BASE}
            assert fails <= g.fail_buckets
            assert (out["status"] == "fail") == bool(fails) == (out["failure_severity"] > 0)
            if fails:
                assert 1 <= out["failure_severity"] <= 5


def test_failures(systems: list[GeneratedSystem]) -> None:
    for g in systems:
        assert 1 <= len(g.failures) <= 4
        assert len(g.fail_buckets) == len(g.failures)
        assert all(b >= FAIL_BASE for b in g.fail_buckets)
        for fm in g.failures:
            assert 1 <= fm.severity <= 5
            assert 5e-5 <= fm.rarity <= 2e-2, g.describe()
            assert fm.reproduce == 1.0 or 0.5 <= fm.reproduce <= 0.9
    critical = sum(any(fm.severity >= 3 for fm in g.failures) for g in systems)
    assert critical >= 0.8 * len(systems)
    assert sum(g.flaky for g in systems) >= 0.15 * len(systems)


def test_shapes_across_the_suite(systems: list[GeneratedSystem]) -> None:
    dims = [g.dim for g in systems]
    assert min(dims) >= 3 and max(dims) <= 40
    assert min(dims) <= 4 and max(dims) >= 32
    assert sum(any(p.parent for p in g.params) for g in systems) >= 20
    assert any(p.log and p.type == "integer" for g in systems for p in g.params)
    assert {len(g.relations) for g in systems} >= {0, 3, 6}
    assert all(g.info["feasible"] >= 0.02 and g.info["feasible_harness"] >= 0.02 for g in systems)
    assert all(30 <= g.info["bucket_budget"] <= 420 for g in systems)
    # the two shapes the engine once lost to random are common, with their exact layout
    grid = [g for g in systems if g.family == "grid-regime"]
    flags = [g for g in systems if g.family == "flag-interactions"]
    assert len(grid) >= 40 and len(flags) >= 40
    assert any(g.dim == 6 and {r.kind for r in g.relations} == {"budget", "order", "product"} for g in grid)
    layout = [sorted(p.type for p in g.params) for g in flags]
    assert sorted(["boolean"] * 16 + ["integer"] * 4 + ["string"] * 4) in layout


def test_reachable_buckets() -> None:
    """Heavy feasible sampling reaches at least 30 buckets (and no more than the budget)."""
    from optiloop.testopt.sampling.feasible import sample_feasible

    for seed in (3, 8, 12, 22, 29):
        g = generate(seed)
        space = space_of(g)
        seen: set[int] = set()
        for mode in ("uniform", "boundary"):
            U = sample_feasible(space, 3000, np.random.default_rng(0), mode=mode)
            for p in space.to_dicts(space.decode(U)):
                seen.update(g.run(p)["coverage_delta"]["buckets_hit"])
        assert 30 <= len(seen) <= g.info["bucket_budget"], g.describe()


def test_flaky_failures_reproduce_by_call_sequence(systems: list[GeneratedSystem]) -> None:
    g = next(g for g in systems if any(0.5 <= fm.reproduce <= 0.8 for fm in g.failures))
    fm = next(fm for fm in g.failures if fm.reproduce < 1)
    space = space_of(g)
    rng = np.random.default_rng(0)
    U = rng.random((4000, space.dim))
    for r in fm.box.ranges:
        i = space.index[r.param.name]
        U[:, i] = r.ua + (r.ub - r.ua) * rng.random(len(U))
    for k in fm.box.picks:
        i = space.index[k.param.name]
        U[:, i] = (k.cells()[0] + rng.random(len(U))) / len(k.param.levels)
    batch = space.decode(U)
    inside = [
        p for p, ok in zip(space.to_dicts(batch), space.feasible(batch), strict=True) if ok and fm.contains(p)
    ]
    assert inside, "the failure box holds feasible tests"
    p = inside[0]
    a, b = generate(g.seed), generate(g.seed)
    seq_a = [a.run(p)["status"] for _ in range(40)]
    seq_b = [b.run(p)["status"] for _ in range(40)]
    assert seq_a == seq_b
    assert "fail" in seq_a and seq_a.count("fail") < 40  # it is flaky
    b.reset()
    assert [b.run(p)["status"] for _ in range(40)] == seq_a


def test_describe(systems: list[GeneratedSystem]) -> None:
    text = systems[0].describe()
    assert systems[0].name in text and systems[0].family in text and "failure 0" in text
