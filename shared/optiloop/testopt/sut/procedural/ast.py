"""A small expression AST rendered twice: to the constraint language and to Python.

Relations and `active_if` conditions of a generated system are built as trees, then rendered
to the platform's expression language (for `schema`) and compiled to Python closures (for
`feasible`) and to numpy (for the generator's own volume estimates). None of the three is
derived from another's text, so a generated system never depends on parsing or `eval`; the unit
tests check that the platform's parser reads the text to the same predicate.

Arithmetic is evaluated left to right in float64 in all three renderings, as the platform does,
so the Python predicate agrees with the platform's evaluator bit for bit (integers are converted
to float before any operation; the generator keeps products far below 2**53).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Scalar = Callable[[Mapping[str, Any]], Any]
Cols = Mapping[str, np.ndarray]

_ARITH_PY: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}
_CMP_PY: dict[str, Callable[[Any, Any], bool]] = {
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def fmt_num(v: float) -> str:
    """A number as the lexer reads it back to the same float: integers plainly, floats by repr."""
    if isinstance(v, int) or (float(v).is_integer() and abs(v) < 1e15):
        s = str(int(v))
    else:
        s = repr(float(v))
    return f"({s})" if s.startswith("-") else s


class Node:
    """Base class: every node renders, compiles and evaluates over columns."""

    def src(self) -> str:
        raise NotImplementedError

    def py(self) -> Scalar:
        raise NotImplementedError

    def vec(self, cols: Cols) -> np.ndarray:
        raise NotImplementedError

    def names(self) -> frozenset[str]:
        raise NotImplementedError

    @property
    def compound(self) -> bool:
        """Whether the rendering needs parentheses when it is an operand of another operator."""
        return False


@dataclass(frozen=True, eq=False)
class Num(Node):
    value: float

    def src(self) -> str:
        return fmt_num(self.value)

    def py(self) -> Scalar:
        v = float(self.value)
        return lambda p: v

    def vec(self, cols: Cols) -> np.ndarray:
        return np.float64(self.value)  # type: ignore[return-value]

    def names(self) -> frozenset[str]:
        return frozenset()


@dataclass(frozen=True, eq=False)
class Lit(Node):
    """A string or boolean literal (enum values, `true` / `false`)."""

    value: str | bool

    def src(self) -> str:
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return f"'{self.value}'"

    def py(self) -> Scalar:
        v = self.value
        return lambda p: v

    def vec(self, cols: Cols) -> np.ndarray:
        return np.asarray(self.value)

    def names(self) -> frozenset[str]:
        return frozenset()


@dataclass(frozen=True, eq=False)
class Var(Node):
    name: str
    numeric: bool = True

    def src(self) -> str:
        return self.name

    def py(self) -> Scalar:
        k = self.name
        if self.numeric:
            return lambda p: float(p[k])
        return lambda p: p[k]

    def vec(self, cols: Cols) -> np.ndarray:
        return cols[self.name]

    def names(self) -> frozenset[str]:
        return frozenset({self.name})


@dataclass(frozen=True, eq=False)
class Arith(Node):
    """`first op1 x1 op2 x2 ...` left to right; ops of one precedence level (+ - or * /)."""

    first: Node
    rest: tuple[tuple[str, Node], ...]

    def __post_init__(self) -> None:
        levels = {op in "+-" for op, _ in self.rest}
        assert len(levels) == 1, "one precedence level per chain"

    @property
    def compound(self) -> bool:
        return True

    def src(self) -> str:
        def part(n: Node) -> str:
            return f"({n.src()})" if n.compound else n.src()

        return part(self.first) + "".join(f" {op} {part(n)}" for op, n in self.rest)

    def py(self) -> Scalar:
        f = self.first.py()
        steps = [(_ARITH_PY[op], n.py()) for op, n in self.rest]
        if len(steps) == 1:
            ((op1, g),) = steps
            return lambda p: op1(f(p), g(p))

        def chain(p: Mapping[str, Any]) -> float:
            v = f(p)
            for op, g in steps:
                v = op(v, g(p))
            return v

        return chain

    def vec(self, cols: Cols) -> np.ndarray:
        v = np.asarray(self.first.vec(cols), dtype=float)
        for op, n in self.rest:
            v = np.asarray(_ARITH_PY[op](v, n.vec(cols)))  # type: ignore[arg-type]
        return v

    def names(self) -> frozenset[str]:
        return self.first.names().union(*(n.names() for _, n in self.rest))


@dataclass(frozen=True, eq=False)
class Call(Node):
    """abs / min / max: exact functions, the same in Python and numpy."""

    fn: str
    args: tuple[Node, ...]

    def src(self) -> str:
        return f"{self.fn}({', '.join(a.src() for a in self.args)})"

    def py(self) -> Scalar:
        gs = [a.py() for a in self.args]
        if self.fn == "abs":
            g = gs[0]
            return lambda p: abs(g(p))
        f = min if self.fn == "min" else max
        return lambda p: f(g(p) for g in gs)

    def vec(self, cols: Cols) -> np.ndarray:
        vs = [np.asarray(a.vec(cols), dtype=float) for a in self.args]
        if self.fn == "abs":
            return np.abs(vs[0])
        uf = np.minimum if self.fn == "min" else np.maximum
        out = vs[0]
        for v in vs[1:]:
            out = uf(out, v)
        return out

    def names(self) -> frozenset[str]:
        return frozenset().union(*(a.names() for a in self.args))


@dataclass(frozen=True, eq=False)
class Cmp(Node):
    op: str
    left: Node
    right: Node

    def src(self) -> str:
        return f"{self.left.src()} {self.op} {self.right.src()}"

    def py(self) -> Scalar:
        f, g, op = self.left.py(), self.right.py(), _CMP_PY[self.op]
        return lambda p: op(f(p), g(p))

    def vec(self, cols: Cols) -> np.ndarray:
        return np.asarray(_CMP_PY[self.op](self.left.vec(cols), self.right.vec(cols)), dtype=bool)

    def names(self) -> frozenset[str]:
        return self.left.names() | self.right.names()


@dataclass(frozen=True, eq=False)
class In(Node):
    """`name in ['a', 'b']` (or `not in`) on an enum parameter."""

    name: str
    values: tuple[str, ...]
    negate: bool = False

    def src(self) -> str:
        items = ", ".join(f"'{v}'" for v in self.values)
        return f"{self.name} {'not in' if self.negate else 'in'} [{items}]"

    def py(self) -> Scalar:
        k, vals, neg = self.name, frozenset(self.values), self.negate
        return lambda p: (p[k] in vals) != neg

    def vec(self, cols: Cols) -> np.ndarray:
        r = np.isin(cols[self.name], list(self.values))
        return ~r if self.negate else r

    def names(self) -> frozenset[str]:
        return frozenset({self.name})


@dataclass(frozen=True, eq=False)
class Logic(Node):
    op: str  # "and" | "or"
    items: tuple[Node, ...]

    @property
    def compound(self) -> bool:
        return True

    def src(self) -> str:
        def part(n: Node) -> str:
            return f"({n.src()})" if isinstance(n, Logic) else n.src()

        return f" {self.op} ".join(part(n) for n in self.items)

    def py(self) -> Scalar:
        gs = [n.py() for n in self.items]
        if self.op == "and":
            return lambda p: all(g(p) for g in gs)
        return lambda p: any(g(p) for g in gs)

    def vec(self, cols: Cols) -> np.ndarray:
        uf = np.logical_and if self.op == "and" else np.logical_or
        out = np.asarray(self.items[0].vec(cols), dtype=bool)
        for n in self.items[1:]:
            out = uf(out, n.vec(cols))
        return out

    def names(self) -> frozenset[str]:
        return frozenset().union(*(n.names() for n in self.items))


@dataclass(frozen=True, eq=False)
class Implies(Node):
    """`if(cond) then(then)`: an atom in the language, `not cond or then` in Python."""

    cond: Node
    then: Node

    def src(self) -> str:
        return f"if({self.cond.src()}) then({self.then.src()})"

    def py(self) -> Scalar:
        c, t = self.cond.py(), self.then.py()
        return lambda p: (not c(p)) or bool(t(p))

    def vec(self, cols: Cols) -> np.ndarray:
        return np.logical_or(~np.asarray(self.cond.vec(cols), dtype=bool), self.then.vec(cols))

    def names(self) -> frozenset[str]:
        return self.cond.names() | self.then.names()


# ------------------------------------------------------------------ builders
def var(name: str) -> Var:
    return Var(name)


def lin(terms: Sequence[tuple[float, str]]) -> Node:
    """Σ c_i * x_i (a coefficient of 1 is left out)."""

    def term(c: float, n: str) -> Node:
        return Var(n) if c == 1 else Arith(Num(c), (("*", Var(n)),))

    first, *rest = terms
    if not rest:
        return term(*first)
    return Arith(term(*first), tuple(("+", term(c, n)) for c, n in rest))


def nice(v: float, digits: int = 3) -> float:
    """`v` rounded to a few significant digits, so relations read like a person wrote them."""
    if v == 0 or not math.isfinite(v):
        return 0.0
    e = math.floor(math.log10(abs(v))) - digits + 1
    r = round(v / 10**e) * 10**e
    return float(f"{r:.{digits}g}")
