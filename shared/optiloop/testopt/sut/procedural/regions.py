"""Boxes in the unit cube: the regions failures and rare pockets live in.

A box is a conjunction of value ranges on numeric parameters and value sets on discrete ones.
Its unit-cube volume is known exactly (the product of its sides, each realised on the cells the
parameter actually decodes to), which is what lets a failure be built with a chosen rarity
instead of discovered to have one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from optiloop.testopt.sut.procedural.params import ParamDef


@dataclass(frozen=True)
class Range:
    """`lo <= v <= hi` (integers, inclusive) or `lo <= v < hi` (numbers; `<= hi` at the top)."""

    param: ParamDef
    lo: float
    hi: float
    ua: float  # the unit interval the range occupies
    ub: float

    @classmethod
    def from_unit(cls, param: ParamDef, ua: float, ub: float) -> Range:
        """The range of values whose cells lie in [ua, ub), realised on the parameter's cells."""
        ua, ub = max(0.0, ua), min(1.0, ub)
        if param.type == "integer":
            v1 = param.value_at(ua)
            v2 = max(v1, param.value_at(max(ua, ub - 1e-12)))
            top = 1.0 if v2 >= param.high else param.cell_start(v2 + 1)
            return cls(param, v1, v2, param.cell_start(v1), top)
        return cls(param, param.value_at(ua), param.value_at(ub) if ub < 1 else param.high, ua, ub)

    @property
    def width(self) -> float:
        return self.ub - self.ua

    def test(self) -> Callable[[Any], bool]:
        lo, hi = self.lo, self.hi
        if self.param.type == "integer" or self.ub >= 1.0:
            return lambda v: lo <= v <= hi
        return lambda v: lo <= v < hi

    def describe(self) -> str:
        if self.param.type == "integer":
            return f"{int(self.lo)}<={self.param.name}<={int(self.hi)}"
        return f"{self.lo:.4g}<={self.param.name}<{self.hi:.4g}"


@dataclass(frozen=True)
class Pick:
    """`v in values` for a boolean or enum parameter."""

    param: ParamDef
    values: tuple[Any, ...]

    @property
    def width(self) -> float:
        return len(self.values) / len(self.param.levels)

    def cells(self) -> list[int]:
        return [self.param.levels.index(v) for v in self.values]

    def test(self) -> Callable[[Any], bool]:
        vals = frozenset(self.values)
        return lambda v: v in vals

    def describe(self) -> str:
        vals = "|".join(str(v) for v in self.values)
        return f"{self.param.name}={vals}"


@dataclass(frozen=True)
class Box:
    ranges: tuple[Range, ...]
    picks: tuple[Pick, ...]

    def parts(self, *, picks_first: bool = False) -> tuple[Range | Pick, ...]:
        return (*self.picks, *self.ranges) if picks_first else (*self.ranges, *self.picks)

    @property
    def measure(self) -> float:
        """Exact unit-cube volume."""
        m = 1.0
        for c in self.parts():
            m *= c.width
        return m

    def unit_ranges(self) -> dict[str, tuple[float, float]]:
        return {r.param.name: (r.ua, r.ub) for r in self.ranges}

    def unit_cells(self) -> dict[str, list[int]]:
        return {k.param.name: k.cells() for k in self.picks}

    def names(self) -> list[str]:
        return [c.param.name for c in self.parts()]

    def compile(self) -> Callable[[Mapping[str, Any]], bool]:
        """A fast membership test; an absent parameter is outside (a conditional one is inactive)."""
        tests = [(c.param.name, c.test()) for c in self.parts(picks_first=True)]

        def contains(p: Mapping[str, Any]) -> bool:
            for name, t in tests:
                v = p.get(name)
                if v is None or not t(v):
                    return False
            return True

        return contains

    def describe(self) -> str:
        return " & ".join(c.describe() for c in self.parts(picks_first=True))
