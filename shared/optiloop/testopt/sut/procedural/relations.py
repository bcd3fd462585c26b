"""Relation templates: linear budgets, orders, product bounds, slabs, implications, exclusions.

Each template picks its parameters, builds an AST and sets its constant at a quantile of the
left-hand side over the rows that satisfy the relations drawn before it, so the pass fraction
of every relation is chosen (and their product, the feasible fraction, is controlled) whatever
the ranges are. Constants are rounded to three significant digits.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiloop.testopt.sut.procedural.ast import (
    Arith,
    Call,
    Cmp,
    Implies,
    In,
    Lit,
    Logic,
    Node,
    Num,
    Var,
    lin,
    nice,
)
from optiloop.testopt.sut.procedural.params import ParamDef, is_active
from optiloop.testopt.sut.procedural.volume import Sample


@dataclass(eq=False)
class Relation:
    """A hard relation; `lhs <= bound` relations keep both parts for boundary bands."""

    node: Node
    kind: str
    cond_params: tuple[ParamDef, ...] = ()
    lhs: Node | None = None
    bound: float | None = None
    _py: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._py = self.node.py()

    @property
    def conditional(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.cond_params)

    def src(self) -> str:
        return self.node.src()

    def holds(self, p: Mapping[str, Any]) -> bool:
        """The relation on test `p`; vacuously true when it mentions an inactive parameter."""
        for cp in self.cond_params:
            if not is_active(cp, p):
                return True
        return bool(self._py(p))


class Ctx:
    """What a template needs: the parameters, a random source, and the calibration sample."""

    def __init__(self, params: Sequence[ParamDef], rng: random.Random, sample: Sample) -> None:
        self.params = list(params)
        self.by_name = {p.name: p for p in params}
        self.rng = rng
        self.sample = sample
        self.mask = np.ones(sample.n, bool)  # rows satisfying the relations drawn so far
        self.relations: list[Relation] = []
        self.tight = 1.0  # < 1 on a retry: quantiles move towards 1, relations loosen

    def q(self, lo: float, hi: float) -> float:
        """A pass fraction for the next relation, drawn in [lo, hi] (loosened on retries)."""
        return 1.0 - (1.0 - self.rng.uniform(lo, hi)) * self.tight

    def add(self, rel: Relation) -> None:
        self.accept(rel)
        self.relations.append(rel)

    def quantile(self, values: np.ndarray, q: float) -> float:
        v = np.broadcast_to(values, (self.sample.n,))[self.mask]
        v = v[np.isfinite(v)]
        return float(np.quantile(v, q)) if len(v) else float("nan")

    def make(self, node: Node, kind: str, lhs: Node | None = None, bound: float | None = None) -> Relation:
        conds = tuple(self.by_name[n] for n in sorted(node.names()) if self.by_name[n].parent is not None)
        return Relation(node, kind, conds, lhs, bound)

    def accept(self, rel: Relation) -> Relation:
        self.mask &= self.sample.holds(rel)
        return rel


def _is_int(p: ParamDef) -> bool:
    return p.type == "integer"


def _bound(ctx: Ctx, lhs: Node, q: float, integral: bool) -> float:
    b = nice(ctx.quantile(np.asarray(lhs.vec(ctx.sample.cols), float), q))
    return float(int(b)) if integral else b


def budget(ctx: Ctx, xs: Sequence[ParamDef], q: float) -> Relation:
    """Σ c_i x_i <= B: a shared resource, coefficients scaled so every term matters."""
    spans = [max(x.high - x.low, 1e-9) for x in xs]
    ref = max(spans)
    integral = all(_is_int(x) for x in xs)
    terms = []
    for x, s in zip(xs, spans, strict=True):
        c = nice(ctx.rng.uniform(0.5, 2.0) * ref / s, 2)
        if integral:
            c = float(max(1, round(c)))
        terms.append((c, x.name))
    lhs = lin(terms)
    b = _bound(ctx, lhs, q, integral)
    return ctx.make(Cmp("<=", lhs, Num(b)), "budget", lhs, b)


def order(ctx: Ctx, a: ParamDef, b: ParamDef) -> Relation:
    """a <= k * b (+ offset): an order between two coordinates (k rescales different ranges)."""
    k = nice((a.high - a.low) / max(b.high - b.low, 1e-9), 2)
    lhs: Node = Var(a.name)
    right: Node = Var(b.name) if k == 1 else Arith(Num(k), (("*", Var(b.name)),))
    off = nice(a.low - k * b.low, 2)
    if off:
        right = Arith(right, (("+", Num(off)),)) if off > 0 else Arith(right, (("-", Num(-off)),))
    # as a bound: a - k*b <= off (the band feature reads the slack)
    slack_lhs = Arith(Var(a.name), (("-", Arith(Num(k), (("*", Var(b.name)),)) if k != 1 else Var(b.name)),))
    return ctx.make(Cmp("<=", lhs, right), "order", slack_lhs, off)


def product(ctx: Ctx, a: ParamDef, b: ParamDef, q: float) -> Relation:
    """a * b <= C: a bound on a product of sizes (pixels, rows x columns, rate x time)."""
    lhs = Arith(Var(a.name), (("*", Var(b.name)),))
    c = _bound(ctx, lhs, q, _is_int(a) and _is_int(b))
    return ctx.make(Cmp("<=", lhs, Num(c)), "product", lhs, c)


def ratio(ctx: Ctx, a: ParamDef, b: ParamDef, q: float) -> Relation:
    """a / b <= R (b > 0 over its whole range)."""
    lhs = Arith(Var(a.name), (("/", Var(b.name)),))
    r = _bound(ctx, lhs, q, False)
    return ctx.make(Cmp("<=", lhs, Num(r)), "ratio", lhs, r)


def slab(ctx: Ctx, a: ParamDef, b: ParamDef, q: float) -> Relation:
    """abs(a - k * b) <= W: a thin diagonal slab (two settings that must stay close)."""
    k = nice((a.high - a.low) / max(b.high - b.low, 1e-9), 2)
    inner: Node = Var(b.name) if k == 1 else Arith(Num(k), (("*", Var(b.name)),))
    lhs = Call("abs", (Arith(Var(a.name), (("-", inner),)),))
    w = _bound(ctx, lhs, q, False)
    return ctx.make(Cmp("<=", lhs, Num(w)), "slab", lhs, w)


def peak(ctx: Ctx, xs: Sequence[ParamDef], q: float) -> Relation:
    """max(a, b, ...) <= M on same-unit coordinates (a shared ceiling)."""
    lhs = Call("max", tuple(Var(x.name) for x in xs))
    m = _bound(ctx, lhs, q, all(_is_int(x) for x in xs))
    return ctx.make(Cmp("<=", lhs, Num(m)), "peak", lhs, m)


def _when(p: ParamDef, values: Sequence[Any]) -> Node:
    if p.type == "boolean":
        return Cmp("==", Var(p.name, numeric=False), Lit(bool(values[0])))
    if len(values) == 1:
        return Cmp("==", Var(p.name, numeric=False), Lit(values[0]))
    return In(p.name, tuple(values))


def implies_bound(
    ctx: Ctx, gate: ParamDef, gate_values: Sequence[Any], xs: Sequence[ParamDef], q: float, upper: bool = True
) -> Relation:
    """if(mode in [...]) then(x <= t) / then(x + y <= t) / then(x >= t): a mode that limits a range."""
    cond = _when(gate, gate_values)
    integral = all(_is_int(x) for x in xs)
    lhs = lin([(1.0, x.name) for x in xs])
    t = _bound(ctx, lhs, q if upper else 1 - q, integral)
    then = Cmp("<=" if upper else ">=", lhs, Num(t))
    return ctx.make(Implies(cond, then), "implies-bound")


def implies_equal(ctx: Ctx, gate: ParamDef, gate_value: Any, x: ParamDef, value: float) -> Relation:
    """if(format == 'png') then(quality == 100): a mode that pins a setting."""
    return ctx.make(Implies(_when(gate, [gate_value]), Cmp("==", Var(x.name), Num(value))), "implies-equal")


def implies_flag(
    ctx: Ctx, gate: ParamDef, gate_values: Sequence[Any], flag: ParamDef, value: bool
) -> Relation:
    """if(mode == 'x') then(flag == false): a mode that requires or forbids an option."""
    return ctx.make(
        Implies(_when(gate, gate_values), Cmp("==", Var(flag.name, numeric=False), Lit(value))),
        "implies-flag",
    )


def exclusion(
    ctx: Ctx, a: ParamDef, a_values: Sequence[Any], b: ParamDef, b_values: Sequence[Any]
) -> Relation:
    """if(a == 'x') then(b not in [...]): combinations that do not exist."""
    then: Node
    if b.type == "boolean":
        then = Cmp("==", Var(b.name, numeric=False), Lit(not b_values[0]))
    elif len(b_values) == 1:
        then = Cmp("!=", Var(b.name, numeric=False), Lit(b_values[0]))
    else:
        then = In(b.name, tuple(b_values), negate=True)
    return ctx.make(Implies(_when(a, a_values), then), "exclusion")


def either(ctx: Ctx, flag: ParamDef, x: ParamDef, q: float) -> Relation:
    """flag == true or x <= t: an option that is only optional below a threshold."""
    t = _bound(ctx, Var(x.name), q, _is_int(x))
    node = Logic("or", (Cmp("==", Var(flag.name, numeric=False), Lit(True)), Cmp("<=", Var(x.name), Num(t))))
    return ctx.make(node, "either")
