"""The AST.

Left-associative chains (`a + b - c`, `a and b and c`, `1 <= x < 5`) are n-ary nodes rather than
nested binary ones: a 200-term sum stays one level deep, so no tree walk can hit Python's
recursion limit however long a flat relation is. Depth then only grows with real nesting
(parentheses, calls, prefix operators, `**`, if), which the parser bounds.

`ty` is filled in by the type checker: "num", "str" or "bool".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False, kw_only=True)
class Node:
    pos: int  # offset of the node's first character in the source
    end: int  # offset just past its last character
    ty: str = ""


@dataclass(eq=False, kw_only=True)
class Const(Node):
    value: float | str | bool


@dataclass(eq=False, kw_only=True)
class Name(Node):
    name: str
    enum: tuple[Any, ...] | None = None  # a string parameter's allowed values, set by the type checker


@dataclass(eq=False, kw_only=True)
class Unary(Node):
    op: str  # "-", "+" or "not"
    operand: Node


@dataclass(eq=False, kw_only=True)
class Arith(Node):
    """operands[0] ops[0] operands[1] ops[1] ... evaluated left to right; ops all of one precedence level."""

    operands: list[Node]
    ops: list[str]
    op_pos: list[int]


@dataclass(eq=False, kw_only=True)
class Pow(Node):
    base: Node
    exponent: Node
    op_pos: int


@dataclass(eq=False, kw_only=True)
class Logic(Node):
    op: str  # "and" | "or"
    operands: list[Node]


@dataclass(eq=False, kw_only=True)
class ListLit(Node):
    """Only as the right operand of `in` / `not in`."""

    items: list[Node]


@dataclass(eq=False, kw_only=True)
class Compare(Node):
    """A chain `a < b <= c` meaning (a < b) and (b <= c); `b` is evaluated once."""

    operands: list[Node]  # the operand after an `in` / `not in` is a ListLit
    ops: list[str]  # == != < <= > >= in "not in"
    op_pos: list[int]


@dataclass(eq=False, kw_only=True)
class Call(Node):
    fn: str
    args: list[Node]


@dataclass(eq=False, kw_only=True)
class If(Node):
    """Without `orelse`: the implication `not cond or then`. With it: a per-row choice between values."""

    cond: Node
    then: Node
    orelse: Node | None = field(default=None)


def children(node: Node) -> list[Node]:
    if isinstance(node, Unary):
        return [node.operand]
    if isinstance(node, Arith | Logic | Compare):
        return list(node.operands)
    if isinstance(node, Pow):
        return [node.base, node.exponent]
    if isinstance(node, ListLit):
        return list(node.items)
    if isinstance(node, Call):
        return list(node.args)
    if isinstance(node, If):
        return [node.cond, node.then] + ([node.orelse] if node.orelse is not None else [])
    return []


# the callable names and their arity (min, max); None = any number
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "log": (1, 1),
    "exp": (1, 1),
    "min": (2, None),
    "max": (2, None),
}

TYPE_NAMES = {"num": "a number", "str": "a string", "bool": "a boolean"}
