"""Failure modes: boxes of chosen rarity, with a severity, some of them flaky.

A failure is a box (corner, interior pocket, or a conjunction of flags and modes with a numeric
tail). Its rarity, the share of the *feasible* volume it covers, is drawn log-uniformly in
1e-4 .. 1e-2 and built in: the box's exact unit volume times P(feasible | box) / P(feasible),
both estimated by sampling, the sides rescaled until the product is on target. A box the
relations leave (almost) empty is moved, so every failure can be found.

Flaky failures reproduce with a fixed probability (0.5-0.9); whether a given run reproduces is
drawn from a `random.Random` seeded by the system, the test's values and the system's call
counter, so a benchmark that runs the same sequence of tests sees the same outcomes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiloop.testopt.sut.procedural.params import ParamDef
from optiloop.testopt.sut.procedural.regions import Box, Pick, Range
from optiloop.testopt.sut.procedural.relations import Relation
from optiloop.testopt.sut.procedural.volume import Sample

RARITY_RANGE = (1e-4, 1e-2)
Side = tuple[ParamDef, float, str]  # a numeric side of a box: (param, anchor, 'lo' | 'hi' | 'mid')
_IN_BOX = 200  # samples inside a box to estimate P(feasible | box)


@dataclass
class FailureMode:
    name: str
    kind: str
    box: Box
    severity: int
    rarity: float  # estimated share of the feasible volume
    target: float  # the rarity it was drawn for
    reproduce: float = 1.0  # < 1: flaky
    bucket: int = 0
    contains: Callable[[Mapping[str, Any]], bool] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.contains = self.box.compile()

    def describe(self) -> str:
        flaky = f" flaky {self.reproduce:.2f}" if self.reproduce < 1 else ""
        return f"{self.kind} sev{self.severity} rarity {self.rarity:.1e}{flaky}: {self.box.describe()}"


class BoxFitter:
    """Sizes boxes to a target share of the feasible volume (see the module docstring).

    Only the relations connected to a box (through shared parameters, or a conditional parameter's
    parent) can change with it; the rest are independent of it under the cube's product measure,
    so P(feasible | box) / P(feasible) is computed on that group of relations alone."""

    def __init__(self, sample: Sample, relations: Sequence[Relation], nprng: np.random.Generator) -> None:
        self.sample = sample
        self.nprng = nprng
        reads = [frozenset(r.node.names() | {p.parent for p in r.cond_params if p.parent}) for r in relations]
        self.groups: list[tuple[list[Relation], frozenset[str], float]] = []
        todo = list(zip(relations, reads, strict=True))
        while todo:
            group, names = [todo[0][0]], set(todo[0][1])
            todo = todo[1:]
            grown = True
            while grown:
                grown = False
                for item in list(todo):
                    if names & item[1]:
                        group.append(item[0])
                        names |= item[1]
                        todo.remove(item)
                        grown = True
            ok = sample.feasible(group)[~sample.harness]
            self.groups.append((group, frozenset(names), max(float(ok.mean()), 1e-9)))

    def shares(self, boxes: Sequence[Box]) -> list[float]:
        """Estimated shares of the feasible volume inside each of `boxes` (one stacked sample)."""
        ratios = [1.0] * len(boxes)
        for group, names, p_group in self.groups:
            idx = [j for j, b in enumerate(boxes) if names.intersection(b.names())]
            if not idx:
                continue  # independent of this group: its factor is exactly 1
            s = self.sample.inside(names, [boxes[j] for j in idx], _IN_BOX, self.nprng)
            f_in = s.feasible(group).reshape(len(idx), _IN_BOX).mean(axis=1)
            for j, f in zip(idx, f_in.tolist(), strict=True):
                ratios[j] *= f / p_group
        return [b.measure * r for b, r in zip(boxes, ratios, strict=True)]

    def fit(
        self,
        picks: Sequence[Pick],
        sides: Sequence[Side],
        target: float,
        tol: float = 2.5,
        accept: tuple[float, float] | None = None,
    ) -> tuple[Box, float] | None:
        """A box with `picks` and one range per side (param, anchor in [0, 1], 'lo' | 'hi' | 'mid'),
        whose share is within a factor `tol` of `target` (or anywhere in `accept`); None if the
        relations leave it empty or its sides cannot reach the target."""
        return self.fit_many([(picks, sides, target)], tol, accept)[0]

    def fit_many(
        self,
        wanted: Sequence[tuple[Sequence[Pick], Sequence[Side], float]],
        tol: float = 2.5,
        accept: tuple[float, float] | None = None,
        rounds: int = 4,
    ) -> list[tuple[Box, float] | None]:
        """`fit` for several boxes at once: each round estimates every open box in one sample."""
        out: list[tuple[Box, float] | None] = [None] * len(wanted)
        widths: list[list[float]] = []
        for picks, sides, target in wanted:
            q = math.prod(k.width for k in picks)
            widths.append([min((target / q) ** (1 / len(sides)), 0.95)] * len(sides) if sides else [])
        open_ = list(range(len(wanted)))
        for _ in range(rounds):
            if not open_:
                break
            boxes = []
            for i in open_:
                picks, sides, _t = wanted[i]
                ranges = tuple(
                    _side(p, anchor, where, wd)
                    for (p, anchor, where), wd in zip(sides, widths[i], strict=True)
                )
                boxes.append(Box(ranges, tuple(picks)))
            still = []
            for i, box, share in zip(open_, boxes, self.shares(boxes), strict=True):
                target = wanted[i][2]
                lo, hi = accept or (target / tol, target * tol)
                if lo <= share <= hi:
                    out[i] = (box, share)
                elif share > 0 and box.ranges:
                    f = (target / share) ** (1 / len(box.ranges))
                    widths[i] = [min(max(r.width * f, 1e-6), 0.98) for r in box.ranges]
                    still.append(i)
            open_ = still
        return out


def _side(p: ParamDef, anchor: float, where: str, w: float) -> Range:
    if where == "lo":
        return Range.from_unit(p, 0.0, w)
    if where == "hi":
        return Range.from_unit(p, 1.0 - w, 1.0)
    c = min(max(anchor, w / 2), 1 - w / 2)
    return Range.from_unit(p, c - w / 2, c + w / 2)


def draw_target(rng: random.Random) -> float:
    lo, hi = RARITY_RANGE
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def draw_severities(rng: random.Random, n: int) -> list[int]:
    """1-5; the first mode is critical (>= 3) in nine systems out of ten."""
    out = [rng.choice([3, 3, 4, 4, 5]) if rng.random() < 0.9 else rng.choice([1, 2])]
    out += [rng.choice([1, 2, 2, 3, 3, 4, 5]) for _ in range(n - 1)]
    return out


def reproduces(
    system: str, calls: int, p: Mapping[str, Any], mode: FailureMode, digest: Callable[[str], int]
) -> bool:
    """Whether a flaky failure shows on this run: a draw seeded by the system, the run counter, the test."""
    seed = digest(repr((system, mode.name, calls, sorted(p.items(), key=lambda kv: kv[0]))))
    return random.Random(seed).random() < mode.reproduce
