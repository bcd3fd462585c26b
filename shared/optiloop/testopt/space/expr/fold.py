"""Constant folding after the type check.

Folding uses the evaluator's own closures (float64 numpy under errstate ignore), so a folded
constant is bit-for-bit what evaluation would have produced, and no Python int arithmetic is
ever done: `10**10**10` is an overflow to inf found in microseconds, not a hang. A divisor that
folds to 0 and any constant that is not finite (exp(1000), 0 ** -1) are rejected at save time,
because such a relation would hold in no test at all.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optiloop.testopt.space.expr.errors import ExprError
from optiloop.testopt.space.expr.evaluate import compile_node
from optiloop.testopt.space.expr.nodes import (
    Arith,
    Call,
    Compare,
    Const,
    If,
    ListLit,
    Logic,
    Node,
    Pow,
    Unary,
)


def fold(node: Node) -> Node:
    """`node` with every constant sub-expression replaced by a Const (children are updated in place)."""
    if isinstance(node, Unary):
        node.operand = fold(node.operand)
        return _value(node) if isinstance(node.operand, Const) else node
    if isinstance(node, Arith):
        node.operands = [fold(o) for o in node.operands]
        for op, pos, operand in zip(node.ops, node.op_pos, node.operands[1:], strict=True):
            if op in "/%" and isinstance(operand, Const) and operand.value == 0:
                raise ExprError("division by zero", pos, "the divisor is always 0")
        k = 0
        while k < len(node.operands) and isinstance(node.operands[k], Const):
            k += 1
        if k == len(node.operands):
            return _value(node)
        if k >= 2:  # a leading constant run `2 * 3 * x` is `(2 * 3) * x`: safe to fold without reordering
            head = Arith(
                pos=node.pos,
                end=node.operands[k - 1].end,
                ty="num",
                operands=node.operands[:k],
                ops=node.ops[: k - 1],
                op_pos=node.op_pos[: k - 1],
            )
            node.operands = [_value(head), *node.operands[k:]]
            node.ops, node.op_pos = node.ops[k - 1 :], node.op_pos[k - 1 :]
        return node
    if isinstance(node, Pow):
        node.base, node.exponent = fold(node.base), fold(node.exponent)
        return _value(node) if isinstance(node.base, Const) and isinstance(node.exponent, Const) else node
    if isinstance(node, Call | Logic):
        if isinstance(node, Call):
            node.args = [fold(a) for a in node.args]
            parts: list[Node] = node.args
        else:
            node.operands = [fold(o) for o in node.operands]
            parts = node.operands
        return _value(node) if all(isinstance(p, Const) for p in parts) else node
    if isinstance(node, Compare):
        node.operands = [fold(o) for o in node.operands]
        leaves = [i for o in node.operands for i in (o.items if isinstance(o, ListLit) else [o])]
        return _value(node) if all(isinstance(x, Const) for x in leaves) else node
    if isinstance(node, ListLit):
        node.items = [fold(i) for i in node.items]
        return node
    if isinstance(node, If):
        node.cond, node.then = fold(node.cond), fold(node.then)
        if node.orelse is not None:
            node.orelse = fold(node.orelse)
        if isinstance(node.cond, Const):
            if node.cond.value:
                return node.then
            if node.orelse is not None:
                return node.orelse
            return Const(pos=node.pos, end=node.end, ty="bool", value=True)  # false implies anything
        return node
    return node


def _value(node: Node) -> Const:
    fn, _ = compile_node(node)
    with np.errstate(all="ignore"):
        v, m = fn({})
    value: Any
    if node.ty == "num":
        value = float(v)
        if not math.isfinite(value) or (m is not None and not bool(m)):
            raise ExprError(
                "this constant is not a finite number",
                node.pos,
                "check for overflow, log of zero or a negative number, or 0 ** -1",
            )
    elif node.ty == "bool":
        value = bool(v)
    else:
        value = str(v)
    return Const(pos=node.pos, end=node.end, ty=node.ty, value=value)
