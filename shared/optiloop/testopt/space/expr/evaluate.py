"""AST -> a tree of closures over numpy arrays, compiled once per expression.

Walking the AST on every call would re-dispatch on node types per evaluation; samplers
evaluate the same relations over thousands of candidates many times, so the dispatch is paid
once here and each evaluation is only numpy calls.

Validity. Every compiled node returns `(value, mask)`; `mask` is None (every row valid) or a
bool array. A row is invalid when some arithmetic on it was not finite (x/0, overflow, log of a
negative, a nan input); invalid rows make the whole expression False, so `not (x/y > 1)` with
y = 0 is False rather than True. To avoid an `isfinite` after every operation, numeric values
carry non-finiteness in the value itself while it survives (+ - * neg abs log keep inf/nan
non-finite), and it is moved into the mask only where an operation could hide it
(/ and % on their right operand, **, exp, min, max, comparisons, list membership).

Guards: `if(c) then(a) else(b)` takes validity from the branch chosen per row (plus the
condition's), so `if(y != 0) then(x / y > 1)` is True where y == 0. `and`, `or`, `not` and
comparison chains are strict: an invalid operand makes the row invalid whatever the other
operands say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from optiloop.testopt.space.expr.enumcols import EnumMatcher, as_str_column
from optiloop.testopt.space.expr.nodes import (
    Arith,
    Call,
    Compare,
    Const,
    If,
    ListLit,
    Logic,
    Name,
    Node,
    Pow,
    Unary,
)

Mask = np.ndarray | None
Fn = Callable[[Mapping[str, Any]], tuple[Any, Mask]]

_ARITH = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "%": np.remainder}
_CMP = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}
_STR_SET_MIN = 3  # from this many string items on, `in` is one set lookup per row instead of k comparisons


class Expr:
    """A parsed, checked and compiled boolean expression; see `optiloop.testopt.space.expr` (the contract)."""

    __slots__ = ("_fn", "_params", "_types", "names", "source", "tree")

    def __init__(
        self, source: str, tree: Node, fn: Fn, types: Mapping[str, str], params: Mapping[str, Any]
    ) -> None:
        self.source = source
        self.tree = tree
        self._fn = fn
        self._types = dict(types)
        self._params = dict(params)  # (type, enum) of every name the source mentions, to rebuild from source
        self.names: frozenset[str] = frozenset(types)

    def __repr__(self) -> str:
        return f"Expr({self.source!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Closures do not pickle, so a pickled expression is its source, parsed again on load."""
        from optiloop.testopt.space.expr.parser import (
            reparse,  # here, not at the top: parser imports this module
        )

        return (reparse, (self.source, self._params))

    def evaluate(self, cols: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        local: dict[str, np.ndarray] = {}
        for name, ty in self._types.items():
            try:
                col = cols[name]
            except KeyError:
                raise KeyError(f"no column for parameter {name!r}") from None
            if ty == "num":
                arr = np.asarray(col, dtype=np.float64)
            elif ty == "bool":
                arr = np.asarray(col, dtype=bool)
            else:
                arr = as_str_column(col)
            if arr.shape != (n,):
                arr = np.broadcast_to(arr, (n,))
            local[name] = arr
        with np.errstate(all="ignore"):
            v, m = self._fn(local)
            out = np.array(v, dtype=bool) if m is None else np.logical_and(v, m)
        if out.shape != (n,):
            out = np.full(n, bool(out)) if out.ndim == 0 else np.broadcast_to(out, (n,)).copy()
        return out


def compile_tree(node: Node) -> Fn:
    return compile_node(node)[0]


def _and(a: Mask, b: Mask) -> Mask:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def compile_node(node: Node) -> tuple[Fn, bool]:
    """The closure for `node` and whether its value is known finite without looking (constants)."""
    if isinstance(node, Const):
        return _const(node), True
    if isinstance(node, Name):
        key = node.name

        def name(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
            return cols[key], None

        return name, False
    if isinstance(node, Unary):
        return _unary(node)
    if isinstance(node, Arith):
        return _arith(node), False
    if isinstance(node, Pow):
        return _pow(node), False
    if isinstance(node, Call):
        return _call(node), False
    if isinstance(node, Logic):
        return _logic(node), True
    if isinstance(node, Compare):
        return _compare(node), True
    if isinstance(node, If):
        return _if(node), node.ty != "num"
    raise AssertionError(f"cannot compile {type(node).__name__}")


def _const(node: Const) -> Fn:
    v: Any = node.value
    if node.ty == "num":
        v = np.float64(v)
    elif node.ty == "bool":
        v = np.bool_(v)

    def const(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
        return v, None

    return const


def _checked(node: Node) -> Fn:
    """Like compile_node, but non-finite values are already moved into the mask (for lossy consumers)."""
    g, finite = compile_node(node)
    if finite or node.ty != "num":
        return g

    def checked(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
        v, m = g(cols)
        return v, _and(m, np.isfinite(v))

    return checked


def _unary(node: Unary) -> tuple[Fn, bool]:
    g, finite = compile_node(node.operand)
    if node.op == "+":
        return g, finite
    uf = np.logical_not if node.op == "not" else np.negative

    def unary(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
        v, m = g(cols)
        return uf(v), m

    return unary, finite


def _arith(node: Arith) -> Fn:
    first = compile_node(node.operands[0])[0]
    steps = [
        (_ARITH[op], _checked(operand) if op in "/%" else compile_node(operand)[0])
        for op, operand in zip(node.ops, node.operands[1:], strict=True)
    ]
    if len(steps) == 1:
        ((uf, second),) = steps

        def binary(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
            v, m = first(cols)
            w, mw = second(cols)
            return uf(v, w), _and(m, mw)

        return binary

    def chain(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
        v, m = first(cols)
        for uf, g in steps:
            w, mw = g(cols)
            v = uf(v, w)
            m = _and(m, mw)
        return v, m

    return chain


def _pow(node: Pow) -> Fn:
    base, exponent = _checked(node.base), _checked(node.exponent)

    def power(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
        v, m = base(cols)
        w, mw = exponent(cols)
        return np.power(v, w), _and(m, mw)

    return power


def _call(node: Call) -> Fn:
    if node.fn in ("abs", "log"):
        g = compile_node(node.args[0])[0]
        uf = np.abs if node.fn == "abs" else np.log

        def transparent(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
            v, m = g(cols)
            return uf(v), m

        return transparent
    if node.fn == "exp":
        g = _checked(node.args[0])

        def exp(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
            v, m = g(cols)
            return np.exp(v), m

        return exp
    uf2 = np.minimum if node.fn == "min" else np.maximum
    args = [_checked(a) for a in node.args]

    def extreme(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
        v, m = args[0](cols)
        for g in args[1:]:
            w, mw = g(cols)
            v = uf2(v, w)
            m = _and(m, mw)
        return v, m

    return extreme


def _logic(node: Logic) -> Fn:
    gs = [compile_node(o)[0] for o in node.operands]
    uf = np.logical_and if node.op == "and" else np.logical_or

    def logic(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
        v, m = gs[0](cols)
        for g in gs[1:]:
            w, mw = g(cols)
            v = uf(v, w)
            m = _and(m, mw)
        return v, m

    return logic


Member = Callable[[Any, Mapping[str, Any]], tuple[Any, Mask]]


def _member(item_fns: list[Fn], items: list[Node], ty: str, negate: bool) -> Member:
    """`left in [items]` as one function of the already-evaluated left operand."""
    values = [i.value for i in items if isinstance(i, Const)]
    consts = values if len(values) == len(items) else None
    if ty == "str" and consts is not None and len(consts) >= _STR_SET_MIN:
        allowed = frozenset(consts)

        def str_set(left: Any, cols: Mapping[str, Any]) -> tuple[Any, Mask]:
            if np.ndim(left) == 0:
                r: Any = np.bool_(left in allowed)
            else:
                try:
                    r = np.fromiter(map(allowed.__contains__, left.tolist()), dtype=bool, count=left.shape[0])
                except TypeError:  # an unhashable object in the column: compare one by one
                    r = np.zeros(left.shape, dtype=bool)
                    for c in consts:
                        r |= np.equal(left, c, dtype=bool)
            return (~r if negate else r), None

        return str_set
    eq = (lambda a, b: np.equal(a, b, dtype=bool)) if ty == "str" else np.equal

    def member(left: Any, cols: Mapping[str, Any]) -> tuple[Any, Mask]:
        r: Any = None
        m: Mask = None
        for g in item_fns:
            w, mw = g(cols)
            e = eq(left, w)
            r = e if r is None else r | e
            m = _and(m, mw)
        return (np.logical_not(r) if negate else r), m

    return member


def _enum_compare(node: Compare) -> Fn | None:
    """The fast path for `param == 'x'`, `'x' != param`, `param [not] in [...]` on an enum param."""
    if len(node.ops) != 1 or node.ops[0] not in ("==", "!=", "in", "not in"):
        return None
    a, b = node.operands
    if isinstance(a, Const) and not isinstance(b, ListLit):
        a, b = b, a
    items = b.items if isinstance(b, ListLit) else [b]
    if not (
        isinstance(a, Name)
        and a.ty == "str"
        and a.enum is not None
        and all(isinstance(i, Const) and isinstance(i.value, str) for i in items)
    ):
        return None
    matcher = EnumMatcher([i.value for i in items], node.ops[0] in ("!=", "not in"))  # type: ignore[attr-defined]
    key = a.name

    def enum_compare(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
        return matcher(cols[key]), None

    return enum_compare


def _compare(node: Compare) -> Fn:
    fast = _enum_compare(node)
    if fast is not None:
        return fast
    operand_fns = [_checked(o) for o in node.operands if not isinstance(o, ListLit)]
    pairs: list[tuple[int, Any]] = []  # (index of left operand value, ufunc or member function)
    k = 0
    for op, right in zip(node.ops, node.operands[1:], strict=True):
        if isinstance(right, ListLit):
            pairs.append(
                (
                    k,
                    (
                        "member",
                        _member([_checked(i) for i in right.items], right.items, right.ty, op == "not in"),
                    ),
                )
            )
        else:
            uf = _CMP[op]
            if right.ty == "str":
                pairs.append((k, (lambda f: lambda a, b: f(a, b, dtype=bool))(uf)))
            else:
                pairs.append((k, uf))
            k += 1

    if len(pairs) == 1 and not isinstance(pairs[0][1], tuple):
        uf1 = pairs[0][1]
        a_fn, b_fn = operand_fns

        def compare1(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
            a, ma = a_fn(cols)
            b, mb = b_fn(cols)
            return uf1(a, b), _and(ma, mb)

        return compare1

    def compare(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
        vals = []
        m: Mask = None
        for g in operand_fns:
            v, mv = g(cols)
            vals.append(v)
            m = _and(m, mv)
        r: Any = None
        for i, f in pairs:
            if isinstance(f, tuple):
                e, me = f[1](vals[i], cols)
                m = _and(m, me)
            else:
                e = f(vals[i], vals[i + 1])
            r = e if r is None else r & e
        return r, m

    return compare


def _if(node: If) -> Fn:
    c = compile_node(node.cond)[0]
    t = compile_node(node.then)[0]
    if node.orelse is None:

        def implies(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
            cv, cm = c(cols)
            bv, bm = t(cols)
            ncv = np.logical_not(cv)
            return ncv | bv, (cm if bm is None else _and(cm, ncv | bm))

        return implies
    e = compile_node(node.orelse)[0]
    as_object = node.ty == "str"

    def where(cols: Mapping[str, Any]) -> tuple[Any, Mask]:
        cv, cm = c(cols)
        tv, tm = t(cols)
        ev, em = e(cols)
        v: np.ndarray = np.asarray(np.where(cv, tv, ev))
        if as_object and v.dtype != object:
            v = v.astype(object)
        if tm is None and em is None:
            return v, cm
        bm = np.where(cv, True if tm is None else tm, True if em is None else em)
        return v, _and(cm, bm)

    return where
