"""The bucket grammar: levels (discrete views of a test) and features (which keys a test hits).

A *level* maps a test to one of a few values: a flag, an enum value, the tier of a numeric
coordinate, a smooth periodic regime of several coordinates, the tier of a derived quantity
(ratio, product), how many flags are set, which coordinate is largest, the distance to a centre.
A *feature* turns levels into bucket keys: the interior cells of a grid over two coordinates
(crossed with a level), the product of 2-4 levels (a k-way interaction, optionally gated), a thin
band along a relation's boundary, rare pockets, exact range bounds. Tier edges are set at
quantiles of the feasible volume, so a tier's rarity (2%, 10%, ...) is chosen, not accidental;
crossing rare tiers with flags and modes is what makes buckets hard for random sampling.

Levels and features read parameter values `p` and unit coordinates `u` (the platform's encoding,
computed once per run); a conditional parameter that is inactive has no `u` entry.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optiloop.testopt.sut.procedural.regions import Box

P = Mapping[str, Any]
U = Mapping[str, float]
Key = tuple[Hashable, ...]

_TAU = 2 * math.pi


# ------------------------------------------------------------------ levels
class Level:
    n: int = 1

    def __call__(self, p: P, u: U) -> Hashable:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass
class Flag(Level):
    name: str
    n: int = 2

    def __call__(self, p: P, u: U) -> Hashable:
        return bool(p[self.name])

    def describe(self) -> str:
        return self.name


@dataclass
class Mode(Level):
    """An enum parameter's value, as its index (numpy strings and str hash alike)."""

    name: str
    values: tuple[str, ...]
    index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {v: i for i, v in enumerate(self.values)}
        self.n = len(self.values)

    def __call__(self, p: P, u: U) -> Hashable:
        return self.index[p[self.name]]

    def describe(self) -> str:
        return f"{self.name}[{self.n}]"


def _tier(x: float, edges: Sequence[float]) -> int:
    return bisect.bisect_right(edges, x)


@dataclass
class Tier(Level):
    """The tier of a numeric coordinate; edges in unit coordinates, at quantiles of the feasible set.
    An inactive conditional parameter is its own level (-1)."""

    name: str
    edges: tuple[float, ...]
    conditional: bool = False

    def __post_init__(self) -> None:
        self.n = len(self.edges) + 1 + self.conditional

    def __call__(self, p: P, u: U) -> Hashable:
        x = u.get(self.name)
        return -1 if x is None else _tier(x, self.edges)

    def describe(self) -> str:
        return f"tier({self.name},{len(self.edges) + 1})"


@dataclass
class Regime(Level):
    """A smooth periodic regime of several coordinates: the phase of a wave across the cube,
    cut into R levels (as a controller's operating modes depend on a mix of its inputs)."""

    names: tuple[str, ...]
    weights: tuple[float, ...]
    freq: float
    phase: float
    levels: int

    def __post_init__(self) -> None:
        self.n = self.levels

    def __call__(self, p: P, u: U) -> Hashable:
        z = 0.0
        for name, w in zip(self.names, self.weights, strict=True):
            z += w * u[name]
        r = int(self.levels * (0.5 + 0.5 * math.sin(_TAU * self.freq * z + self.phase)))
        return min(r, self.levels - 1)

    def describe(self) -> str:
        return f"regime({','.join(self.names)};R={self.levels})"


@dataclass
class Radial(Level):
    """Distance of a few coordinates from a centre, in tiers: inner tiers are small balls."""

    names: tuple[str, ...]
    centre: tuple[float, ...]
    edges: tuple[float, ...]

    def __post_init__(self) -> None:
        self.n = len(self.edges) + 1

    def __call__(self, p: P, u: U) -> Hashable:
        s = 0.0
        for name, c in zip(self.names, self.centre, strict=True):
            s += (u[name] - c) ** 2
        return _tier(math.sqrt(s), self.edges)

    def describe(self) -> str:
        return f"radial({','.join(self.names)};{self.n})"


@dataclass
class ArgMax(Level):
    """Which of a few coordinates is largest (a dominant-resource regime)."""

    names: tuple[str, ...]

    def __post_init__(self) -> None:
        self.n = len(self.names)

    def __call__(self, p: P, u: U) -> Hashable:
        best, arg = -1.0, 0
        for i, name in enumerate(self.names):
            if u[name] > best:
                best, arg = u[name], i
        return arg

    def describe(self) -> str:
        return f"argmax({','.join(self.names)})"


@dataclass
class Derived(Level):
    """Tier of log10 of a derived quantity: a / b (aspect ratios, rates) or a * b (areas, totals)."""

    a: str
    b: str
    op: str  # "/" | "*"
    edges: tuple[float, ...]

    def __post_init__(self) -> None:
        self.n = len(self.edges) + 1

    def __call__(self, p: P, u: U) -> Hashable:
        x, y = float(p[self.a]), float(p[self.b])
        q = x / y if self.op == "/" else x * y
        return _tier(math.log10(q) if q > 0 else -99.0, self.edges)

    def describe(self) -> str:
        return f"log({self.a}{self.op}{self.b});{self.n}"


@dataclass
class Count(Level):
    """How many of a group of flags are set, in tiers (binomial tails are rare)."""

    names: tuple[str, ...]
    edges: tuple[float, ...]

    def __post_init__(self) -> None:
        self.n = len(self.edges) + 1

    def __call__(self, p: P, u: U) -> Hashable:
        c = 0
        for name in self.names:
            c += bool(p[name])
        return _tier(c, self.edges)

    def describe(self) -> str:
        return f"count({len(self.names)} flags;{self.n})"


# ------------------------------------------------------------------ features
class Feature:
    tag: str

    @property
    def size(self) -> int:
        """How many distinct keys it can emit (an upper bound on its reachable buckets)."""
        raise NotImplementedError

    def emit(self, p: P, u: U, out: list[Key]) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass
class Grid(Feature):
    """Interior cells of a G x G grid over two coordinates, crossed with a level; the border
    cells are one coarse 'rim' bucket. Interior cells are what space filling must reach."""

    tag: str
    a: str
    b: str
    g: int
    cross: Level | None = None

    @property
    def size(self) -> int:
        return (self.g - 2) ** 2 * (self.cross.n if self.cross else 1) + 1

    def emit(self, p: P, u: U, out: list[Key]) -> None:
        x, y = u.get(self.a), u.get(self.b)
        if x is None or y is None:
            return
        g = self.g
        i, j = min(int(x * g), g - 1), min(int(y * g), g - 1)
        if 0 < i < g - 1 and 0 < j < g - 1:
            out.append((self.tag, i, j, self.cross(p, u) if self.cross else 0))
        else:
            out.append((self.tag, "rim"))

    def describe(self) -> str:
        c = f" x {self.cross.describe()}" if self.cross else ""
        return f"grid({self.a},{self.b};G={self.g}){c}"


@dataclass
class Interaction(Feature):
    """The product of 2-4 levels, optionally only where a gate level has a given value."""

    tag: str
    levels: tuple[Level, ...]
    gate: tuple[Level, Hashable] | None = None

    @property
    def size(self) -> int:
        return math.prod(lv.n for lv in self.levels)

    def emit(self, p: P, u: U, out: list[Key]) -> None:
        if self.gate is not None and self.gate[0](p, u) != self.gate[1]:
            return
        out.append((self.tag, *(lv(p, u) for lv in self.levels)))

    def describe(self) -> str:
        g = f" when {self.gate[0].describe()}={self.gate[1]}" if self.gate else ""
        return "x".join(lv.describe() for lv in self.levels) + g


@dataclass
class Band(Feature):
    """A thin band inside a relation's boundary (0 <= bound - lhs < width), cut along a level:
    behaviour at the limit (a full budget, an almost-too-large product)."""

    tag: str
    relation: str
    slack: Callable[[P], float]
    width: float
    along: Level | None = None

    @property
    def size(self) -> int:
        return self.along.n if self.along else 1

    def emit(self, p: P, u: U, out: list[Key]) -> None:
        s = self.slack(p)
        if 0.0 <= s < self.width:
            out.append((self.tag, self.along(p, u) if self.along else 0))

    def describe(self) -> str:
        a = f" x {self.along.describe()}" if self.along else ""
        return f"band({self.relation}){a}"


@dataclass
class Pockets(Feature):
    """Small boxes (unit volume ~1e-3) that each light a bucket: rare behaviour in the interior."""

    tag: str
    boxes: tuple[Box, ...]
    tests: tuple[Callable[[P], bool], ...] = ()

    def __post_init__(self) -> None:
        self.tests = tuple(b.compile() for b in self.boxes)

    @property
    def size(self) -> int:
        return len(self.boxes)

    def emit(self, p: P, u: U, out: list[Key]) -> None:
        for k, t in enumerate(self.tests):
            if t(p):
                out.append((self.tag, k))

    def describe(self) -> str:
        kind = "".join(c for c in self.tag if c.isalpha())
        return f"{kind}({len(self.boxes)} boxes, unit volume >= {min(b.measure for b in self.boxes):.1e})"


@dataclass
class Edges(Feature):
    """Exact range bounds of integer parameters (0 replicas, 1 pixel, the maximum pool size)."""

    tag: str
    bounds: tuple[tuple[str, float, float], ...]  # (name, min, max)

    @property
    def size(self) -> int:
        return 2 * len(self.bounds)

    def emit(self, p: P, u: U, out: list[Key]) -> None:
        for name, lo, hi in self.bounds:
            v = p.get(name)
            if v is None or name not in u:
                continue
            if v == lo:
                out.append((self.tag, name, 0))
            elif v == hi:
                out.append((self.tag, name, 1))

    def describe(self) -> str:
        return f"edges({','.join(b[0] for b in self.bounds)})"
