"""Properties of the constraint language.

1. No input text makes `parse` raise anything but ExprError, and whatever parses evaluates.
2. Random well-typed expressions, rendered with minimal parentheses, evaluate vectorised exactly
   as a small scalar interpreter written here says, row by row: this checks precedence,
   chains, aliases, if/then/else, and the non-finite -> False rule together.
"""

from __future__ import annotations

import contextlib
import math
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from optiloop.testopt.space.expr import ExprError, parse


@dataclass(frozen=True)
class P:
    type: str
    enum: tuple[Any, ...] | None = None


REGIONS = ("us", "eu", "apac")
PARAMS = {
    "x": P("number"),
    "y": P("number"),
    "k": P("integer"),
    "region": P("string", REGIONS),
    "cache": P("boolean", (False, True)),
    "flag": P("boolean", (False, True)),
}
NUM_NAMES = ("x", "y", "k")
BOOL_NAMES = ("cache", "flag")

SETTINGS = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


def random_cols(data: st.DataObject, n: int) -> dict[str, np.ndarray]:
    special = st.sampled_from(
        [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1e300, -1e300, 1e-300, math.nan, math.inf, -math.inf]
    )
    num = st.one_of(special, st.floats(-1e6, 1e6, allow_nan=False))
    ints = st.integers(-5, 50).map(float)
    xs = data.draw(st.lists(num, min_size=n, max_size=n))
    ys = data.draw(st.lists(num, min_size=n, max_size=n))
    ks = data.draw(st.lists(ints, min_size=n, max_size=n))
    regions = data.draw(st.lists(st.sampled_from(REGIONS), min_size=n, max_size=n))
    if data.draw(st.booleans()):  # equal but distinct objects: the by-value path of enum comparisons
        regions = ["".join(list(r)) for r in regions]
    return {
        "x": np.array(xs, dtype=float),
        "y": np.array(ys, dtype=float),
        "k": np.array(ks, dtype=float),
        "region": np.array(regions, dtype=object),
        "cache": np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool),
        "flag": np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool),
    }


# -- 1. never anything but ExprError ----------------------------------------------------------

TOKENS = [
    "x",
    "y",
    "k",
    "region",
    "cache",
    "flag",
    "payload",
    "abs",
    "min",
    "max",
    "log",
    "exp",
    "sqrt",
    "if",
    "then",
    "else",
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "True",
    "AND",
    "&&",
    "||",
    "!",
    "+",
    "-",
    "*",
    "/",
    "%",
    "**",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "(",
    ")",
    "[",
    "]",
    ",",
    "0",
    "1",
    "2.5",
    "1e3",
    "1e400",
    ".5",
    "1e",
    "0x1",
    "'eu'",
    "'us'",
    "'europe'",
    '"apac"',
    "'",
    '"',
    "&",
    "|",
    "^",
    "≤",
    "é",
    "\x00",
    "\t",
    "\\",
    "not in",
    "if(",
    "then(",
    "else(",
]


def check_never_crashes(src: str, data: st.DataObject) -> None:
    try:
        e = parse(src, PARAMS)
    except ExprError as err:
        assert isinstance(err.message, str) and err.message
        assert isinstance(err.position, int) and 0 <= err.position <= len(src)
        assert err.hint is None or (isinstance(err.hint, str) and err.hint)
        return
    n = data.draw(st.integers(0, 6))
    out = e.evaluate(random_cols(data, n), n)
    assert out.dtype == bool and out.shape == (n,)


@SETTINGS
@given(src=st.text(max_size=300), data=st.data())
def test_arbitrary_text_only_raises_expr_error(src: str, data: st.DataObject) -> None:
    check_never_crashes(src, data)


@SETTINGS
@given(parts=st.lists(st.sampled_from(TOKENS), max_size=40), glue=st.sampled_from([" ", ""]), data=st.data())
def test_token_soup_only_raises_expr_error(parts: list[str], glue: str, data: st.DataObject) -> None:
    check_never_crashes(glue.join(parts), data)


@SETTINGS
@given(
    depth=st.integers(0, 400),
    opener=st.sampled_from(["(", "-", "not ", "abs(", "if(cache) then(", "[", "2 ** ", "!"]),
)
def test_deep_prefixes_only_raise_expr_error(depth: int, opener: str) -> None:
    src = opener * depth + "x > 0" + ")" * depth
    with contextlib.suppress(ExprError):
        parse(src, PARAMS)


# -- 2. vectorised evaluation == a scalar reference interpreter -------------------------------
#
# Trees are tuples:  ("num", v) ("name", n) ("bool", b) ("str", s) ("neg", a) ("arith", op, a, b)
# ("pow", a, b) ("call", fn, [args]) ("ifelse", c, a, b) ("implies", c, b) ("cmp", [operands], [ops])
# ("in", a, [items], negate) ("logic", op, [operands], alias) ("not", a, alias)


class Invalid(Exception):
    """A non-finite intermediate value: the whole row is False."""


NUM_POOL = [0.0, 1.0, 2.0, 3.0, 0.5, 0.25, 10.0, 100.0, 1000.0, 1e-3, 7.0, 1e300, 2.5e-8]
CMP_OPS = ["==", "!=", "<", "<=", ">", ">="]
LEAF = st.sampled_from([True, False, False, False])  # hypothesis favours small draws: keep trees bushy


@st.composite
def num_tree(draw: st.DrawFn, depth: int) -> tuple:
    if depth <= 0 or draw(LEAF):
        if draw(st.sampled_from([True, True, False])):
            return ("name", draw(st.sampled_from(NUM_NAMES)))
        return ("num", draw(st.one_of(st.sampled_from(NUM_POOL), st.floats(0, 1e6, allow_nan=False))))
    kind = draw(st.sampled_from(range(7)))
    sub = num_tree(depth - 1)
    if kind == 0:
        return ("neg", draw(sub))
    if kind == 1:
        return ("arith", draw(st.sampled_from(["+", "-", "*", "/", "%"])), draw(sub), draw(sub))
    if kind == 2:
        return ("arith", draw(st.sampled_from(["/", "%"])), draw(sub), draw(sub))
    if kind == 3:
        return ("pow", draw(sub), draw(sub))
    if kind == 4:
        fn = draw(st.sampled_from(["abs", "log", "exp", "min", "max"]))
        nargs = 1 if fn in ("abs", "log", "exp") else draw(st.integers(2, 3))
        return ("call", fn, [draw(sub) for _ in range(nargs)])
    if kind == 5:
        return ("ifelse", draw(bool_tree(depth - 1)), draw(sub), draw(sub))
    return ("arith", "*", draw(sub), draw(sub))


@st.composite
def str_tree(draw: st.DrawFn, depth: int) -> tuple:
    if depth <= 0 or draw(st.sampled_from([True, True, False])):
        return ("name", "region") if draw(st.booleans()) else ("str", draw(st.sampled_from(REGIONS)))
    return ("ifelse", draw(bool_tree(depth - 1)), draw(str_tree(depth - 1)), draw(str_tree(depth - 1)))


@st.composite
def bool_tree(draw: st.DrawFn, depth: int, root: bool = False) -> tuple:
    if depth <= 0 or (not root and draw(LEAF)):
        if draw(st.sampled_from([True, True, True, False])):
            return ("name", draw(st.sampled_from(BOOL_NAMES)))
        return ("bool", draw(st.booleans()))
    kind = draw(st.sampled_from(range(9)))
    sub = bool_tree(depth - 1)
    if kind <= 1:
        m = draw(st.integers(2, 3))
        return (
            "cmp",
            [draw(num_tree(depth - 1)) for _ in range(m)],
            [draw(st.sampled_from(CMP_OPS)) for _ in range(m - 1)],
        )
    if kind == 2:
        if draw(st.booleans()):
            return (
                "cmp",
                [("name", "region"), ("str", draw(st.sampled_from(REGIONS)))],
                [draw(st.sampled_from(["==", "!="]))],
            )
        return (
            "cmp",
            [draw(str_tree(depth - 1)), draw(str_tree(depth - 1))],
            [draw(st.sampled_from(["==", "!="]))],
        )
    if kind == 3:
        if draw(st.booleans()):
            items = draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3))
            return ("in", ("name", "region"), [("str", s) for s in items], draw(st.booleans()))
        items = [draw(num_tree(0)) for _ in range(draw(st.integers(1, 3)))]
        return ("in", draw(num_tree(depth - 1)), items, draw(st.booleans()))
    if kind == 4:
        operands = [draw(sub) for _ in range(draw(st.integers(2, 3)))]
        return ("logic", draw(st.sampled_from(["and", "or"])), operands, draw(st.booleans()))
    if kind == 5:
        return ("not", draw(sub), draw(st.booleans()))
    if kind == 6:
        return ("implies", draw(sub), draw(sub))
    if kind == 7:
        return ("ifelse", draw(sub), draw(sub), draw(sub))
    return ("cmp", [draw(sub), draw(sub)], [draw(st.sampled_from(["==", "!="]))])


ATOM = 9


def render(t: tuple) -> tuple[str, int]:
    """Source text with the fewest parentheses the documented precedence allows, and its precedence."""
    kind = t[0]

    def sub(node: tuple, need: int) -> str:
        s, p = render(node)
        return s if p >= need else f"({s})"

    if kind == "num":
        v = t[1]
        return (str(int(v)) if v.is_integer() and v < 1e15 else repr(v)), ATOM
    if kind == "name":
        return t[1], ATOM
    if kind == "bool":
        return ("true" if t[1] else "false"), ATOM
    if kind == "str":
        return f"'{t[1]}'", ATOM
    if kind == "neg":
        return "- " + sub(t[1], 7), 7
    if kind == "arith":
        p = 5 if t[1] in "+-" else 6
        return f"{sub(t[2], p)} {t[1]} {sub(t[3], p + 1)}", p
    if kind == "pow":
        return f"{sub(t[1], ATOM)} ** {sub(t[2], 7)}", 8
    if kind == "call":
        return f"{t[1]}({', '.join(render(a)[0] for a in t[2])})", ATOM
    if kind == "ifelse":
        return f"if({render(t[1])[0]}) then({render(t[2])[0]}) else({render(t[3])[0]})", ATOM
    if kind == "implies":
        return f"if({render(t[1])[0]}) then({render(t[2])[0]})", ATOM
    if kind == "cmp":
        parts = [sub(t[1][0], 5)]
        for op, o in zip(t[2], t[1][1:], strict=True):
            parts += [op, sub(o, 5)]
        return " ".join(parts), 4
    if kind == "in":
        items = ", ".join(render(i)[0] for i in t[2])
        return f"{sub(t[1], 5)} {'not in' if t[3] else 'in'} [{items}]", 4
    if kind == "logic":
        p = 1 if t[1] == "or" else 2
        word = {"and": "&&", "or": "||"}[t[1]] if t[3] else t[1]
        return f" {word} ".join(sub(o, p + 1) for o in t[2]), p
    if kind == "not":
        return ("!" if t[2] else "not ") + sub(t[1], 3), 3
    raise AssertionError(kind)


_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "%": operator.mod}
_CMP = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def finite(v: Any) -> float:
    if isinstance(v, complex) or not math.isfinite(v):
        raise Invalid
    return float(v)


def ref(t: tuple, row: dict[str, Any]) -> Any:
    """The scalar meaning of a tree on one row: Python floats, strict and/or/chains, lazy if branches.

    exp, log and ** go through numpy's float64 functions: two libms may differ in the last bit,
    and such a difference must not be able to flip a comparison between the two sides.
    """
    kind = t[0]
    if kind in ("num", "bool", "str"):
        return t[1]
    if kind == "name":
        v = row[t[1]]
        return finite(v) if t[1] in NUM_NAMES else v
    if kind == "neg":
        return -ref(t[1], row)
    if kind == "arith":
        a, b = ref(t[2], row), ref(t[3], row)
        try:
            return finite(_ARITH[t[1]](a, b))
        except (ZeroDivisionError, OverflowError):
            raise Invalid from None
    if kind == "pow":
        a, b = ref(t[1], row), ref(t[2], row)
        with np.errstate(all="ignore"):
            return finite(np.power(np.float64(a), np.float64(b)))
    if kind == "call":
        args = [ref(a, row) for a in t[2]]
        fn = t[1]
        with np.errstate(all="ignore"):
            if fn == "abs":
                return abs(args[0])
            if fn == "log":
                return finite(np.log(np.float64(args[0])))
            if fn == "exp":
                return finite(np.exp(np.float64(args[0])))
            return min(args) if fn == "min" else max(args)
    if kind == "ifelse":
        return ref(t[2], row) if ref(t[1], row) else ref(t[3], row)
    if kind == "implies":
        return (not ref(t[1], row)) or bool(ref(t[2], row))
    if kind == "cmp":
        vals = [ref(o, row) for o in t[1]]
        return all(_CMP[op](a, b) for op, a, b in zip(t[2], vals[:-1], vals[1:], strict=True))
    if kind == "in":
        a = ref(t[1], row)
        items = [ref(i, row) for i in t[2]]
        return (a in items) != t[3]
    if kind == "logic":
        vals = [bool(ref(o, row)) for o in t[2]]
        return all(vals) if t[1] == "and" else any(vals)
    if kind == "not":
        return not ref(t[1], row)
    raise AssertionError(kind)


def ref_row(t: tuple, row: dict[str, Any]) -> bool:
    try:
        return bool(ref(t, row))
    except Invalid:
        return False


@st.composite
def subtle_tree(draw: st.DrawFn) -> tuple:
    """Roots where validity is easy to get wrong: guards, divisions and negations of invalid rows."""
    kind = draw(st.sampled_from(["implies", "ifelse", "div", "not"]))
    if kind == "implies":
        return ("implies", draw(bool_tree(2)), draw(bool_tree(3, root=True)))
    if kind == "ifelse":
        choice = ("ifelse", draw(bool_tree(2)), draw(num_tree(2)), draw(num_tree(2)))
        return ("cmp", [choice, draw(num_tree(1))], [draw(st.sampled_from(CMP_OPS))])
    if kind == "div":
        divisor = ("name", draw(st.sampled_from(NUM_NAMES)))
        quotient = ("arith", draw(st.sampled_from(["/", "%"])), draw(num_tree(2)), divisor)
        return ("cmp", [quotient, draw(num_tree(1))], [draw(st.sampled_from(CMP_OPS))])
    return ("not", draw(bool_tree(3, root=True)), draw(st.booleans()))


@SETTINGS
@given(tree=st.one_of(bool_tree(4, root=True), subtle_tree()), data=st.data())
def test_vectorised_evaluation_matches_scalar_reference(tree: tuple, data: st.DataObject) -> None:
    src = render(tree)[0]
    try:
        e = parse(src, PARAMS)
    except ExprError as err:
        # only a constant part that is itself non-finite may be refused; anything else is a bug
        assert err.message == "division by zero" or "not a finite number" in err.message, (src, err)
        assume(False)
        return
    n = data.draw(st.integers(1, 8))
    cols = random_cols(data, n)
    got = e.evaluate(cols, n).tolist()
    rows = [{name: col[i] for name, col in cols.items()} for i in range(n)]
    want = [ref_row(tree, r) for r in rows]
    assert got == want, (src, rows)


def test_render_uses_minimal_parentheses() -> None:
    """The renderer itself: precedence shows up as missing parentheses, so the test above exercises it."""
    t = ("cmp", [("neg", ("pow", ("num", 2.0), ("num", 2.0))), ("neg", ("num", 4.0))], ["=="])
    assert render(t)[0] == "- 2 ** 2 == - 4"
    t = ("arith", "-", ("name", "x"), ("arith", "-", ("name", "y"), ("name", "k")))
    assert render(t)[0] == "x - (y - k)"
    conj = ("logic", "and", [("name", "cache"), ("name", "flag")], False)
    t = ("logic", "or", [conj, ("bool", True)], True)
    assert render(t)[0] == "cache and flag || true"
