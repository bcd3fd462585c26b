"""Procedurally generated systems-under-test, for measuring how suggestion strategies generalise.

The eight hand-written SUTs are too few to tune an engine against without fitting them. This
package generates, from an integer seed, systems of the same kind but of many shapes: 3-40
parameters of every type (some conditional), 0-6 hard relations, behaviour buckets drawn from a
grammar (grid cells, smooth regimes, k-way interactions, derived quantities, boundary bands,
rare pockets, exact bounds) and 1-4 failure modes of built-in rarity (1e-4 .. 1e-2 of the
feasible volume), some flaky. See docs/suggestion-engine.md, "Generated systems-under-test".

    generate(seed)            one system, deterministic in the seed (`gen-0042`)
    suite(split, count=None)  the systems of a split: 'tune', 'heldout' or 'all'

Split: seeds 0 .. N_SEEDS-1; seed % 4 == 3 is held out (60 systems), the rest (180) is the
tuning set. Families are assigned so that both sets hold every family in the same proportion.
"""

from __future__ import annotations

from optiloop.testopt.sut.procedural.buckets import Flag, Level
from optiloop.testopt.sut.procedural.builder import MIN_BUCKETS, Builder
from optiloop.testopt.sut.procedural.families import FAMILIES, RARE, WHEEL
from optiloop.testopt.sut.procedural.system import FAIL_BASE, GeneratedSystem

N_SEEDS = 240
SPLITS = ("tune", "heldout", "all")

__all__ = ["FAIL_BASE", "N_SEEDS", "SPLITS", "GeneratedSystem", "family_of", "generate", "split_of", "suite"]


def split_of(seed: int) -> str:
    """'heldout' for seed % 4 == 3, else 'tune': a fixed function of the seed."""
    return "heldout" if seed % 4 == 3 else "tune"


def family_of(seed: int) -> str:
    return WHEEL[(seed // 4 + 5 * (seed % 4)) % len(WHEEL)]


def _top_up(b: Builder) -> None:
    """Systems whose draws came out small get extra interactions until they have 30 buckets."""
    nums = b.of("numeric")
    disc = b.of("discrete")
    for _ in range(4):
        if b.budget() >= MIN_BUCKETS:
            return
        levels: list[Level] = [b.tier(b.rng.choice(nums), RARE)] if nums else []
        levels += [b.level(p) for p in b.rng.sample(disc, min(len(disc), 2))]
        if len(levels) < 2 and nums:
            levels.append(b.tier(b.rng.choice(nums), (0.2, 0.4, 0.6, 0.8)))
        b.interact(*levels) if levels else b.interact(Flag(disc[0].name))


def generate(seed: int) -> GeneratedSystem:
    """The system of `seed` (any int; the suite uses 0 .. N_SEEDS-1)."""
    family = family_of(seed)
    b = Builder(seed, family)
    FAMILIES[family](b)
    _top_up(b)
    return b.finish()


def suite(split: str = "tune", count: int | None = None) -> list[GeneratedSystem]:
    """The systems of a split, in seed order; `count` keeps the first `count` of them."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    seeds = [s for s in range(N_SEEDS) if split == "all" or split_of(s) == split]
    if count is not None:
        seeds = seeds[:count]
    return [generate(s) for s in seeds]
