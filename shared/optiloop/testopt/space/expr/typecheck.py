"""Static types (num / str / bool) and enum membership, checked once at parse time.

Rejecting `region < 'eu'` or `qps and cache` when the relation is saved, with the position and
a fix, beats a relation that silently never (or always) holds in every suggested test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiloop.testopt.space.expr.errors import ExprError, closest
from optiloop.testopt.space.expr.nodes import (
    TYPE_NAMES,
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

TYPE_OF = {"integer": "num", "number": "num", "string": "str", "boolean": "bool"}
_ORDER_OPS = frozenset({"<", "<=", ">", ">="})


def typecheck(node: Node, params: Mapping[str, Any], source: str) -> str:
    """Annotate `node` (and its subtree) with `.ty` and return it; raises ExprError on the first misuse."""
    return _Checker(params, source).check(node)


class _Checker:
    def __init__(self, params: Mapping[str, Any], source: str) -> None:
        self.params = params
        self.src = source

    def show(self, node: Node) -> str:
        """How to name a sub-expression in a message: the parameter, or the source text, shortened."""
        if isinstance(node, Name):
            return node.name
        text = self.src[node.pos : node.end]
        if isinstance(node, Const) and len(text) <= 40:
            return text
        text = " ".join(self.src[node.pos : node.end].split())
        return f"'{text}'" if len(text) <= 40 else f"'{text[:37]}...'"

    def example(self, node: Node) -> str:
        """A comparison that would make `node` a boolean, for hints."""
        if node.ty == "num":
            return f"compare it, e.g. {self.show(node).strip(chr(39))} > 0"
        enum = self.params[node.name].enum if isinstance(node, Name) else None
        val = repr(enum[0]) if enum else "'...'"
        return f"compare it, e.g. {self.show(node).strip(chr(39))} == {val}"

    def need(self, node: Node, ty: str, what: str) -> None:
        if node.ty != ty:
            hint = self.example(node) if ty == "bool" else None
            raise ExprError(
                f"{what} needs {TYPE_NAMES[ty]}, but {self.show(node)} is {TYPE_NAMES[node.ty]}",
                node.pos,
                hint,
            )

    def check(self, node: Node) -> str:
        node.ty = self._check(node)
        return node.ty

    def _check(self, node: Node) -> str:
        if isinstance(node, Const):
            v = node.value
            return "bool" if isinstance(v, bool) else "str" if isinstance(v, str) else "num"
        if isinstance(node, Name):
            p = self.params[node.name]
            if p.type == "string":
                node.enum = p.enum
            return TYPE_OF[p.type]
        if isinstance(node, Unary):
            self.check(node.operand)
            if node.op == "not":
                self.need(node.operand, "bool", "'not'")
                return "bool"
            self.need(node.operand, "num", f"unary '{node.op}'")
            return "num"
        if isinstance(node, Arith):
            for operand, op in zip(node.operands, [node.ops[0], *node.ops], strict=True):
                self.check(operand)
                if operand.ty != "num":
                    hint = "strings cannot be combined with arithmetic" if operand.ty == "str" else None
                    raise ExprError(
                        f"'{op}' needs numbers, but {self.show(operand)} is {TYPE_NAMES[operand.ty]}",
                        operand.pos,
                        hint,
                    )
            return "num"
        if isinstance(node, Pow):
            for operand in (node.base, node.exponent):
                self.check(operand)
                self.need(operand, "num", "'**'")
            return "num"
        if isinstance(node, Logic):
            for operand in node.operands:
                self.check(operand)
                self.need(operand, "bool", f"'{node.op}'")
            return "bool"
        if isinstance(node, Compare):
            self.compare(node)
            return "bool"
        if isinstance(node, Call):
            for arg in node.args:
                self.check(arg)
                self.need(arg, "num", f"{node.fn}()")
            return "num"
        if isinstance(node, If):
            return self.if_(node)
        raise AssertionError(f"unexpected node {type(node).__name__}")  # ListLit only occurs inside Compare

    def if_(self, node: If) -> str:
        self.check(node.cond)
        if node.cond.ty != "bool":
            raise ExprError(
                f"the condition of if(...) must be a boolean, but {self.show(node.cond)} is "
                f"{TYPE_NAMES[node.cond.ty]}",
                node.cond.pos,
                self.example(node.cond),
            )
        self.check(node.then)
        if node.orelse is None:
            if node.then.ty != "bool":
                raise ExprError(
                    "without else(...), then(...) must be a boolean: if(a) then(b) means 'a implies b'",
                    node.then.pos,
                    "add else(...) to choose between two values",
                )
            return "bool"
        self.check(node.orelse)
        if node.then.ty != node.orelse.ty:
            raise ExprError(
                f"then(...) is {TYPE_NAMES[node.then.ty]} but else(...) is "
                f"{TYPE_NAMES[node.orelse.ty]}; both branches must have the same type",
                node.orelse.pos,
            )
        return node.then.ty

    def compare(self, node: Compare) -> None:
        first = node.operands[0]
        self.check(first)
        left = first
        for op, pos, right in zip(node.ops, node.op_pos, node.operands[1:], strict=True):
            if isinstance(right, ListLit):
                right.ty = left.ty
                for item in right.items:
                    self.check(item)
                    self.same_type(left, item, op, item.pos)
                    self.enum_member(left, item)
            else:
                self.check(right)
                self.same_type(left, right, op, pos)
                if op in _ORDER_OPS and left.ty != "num":
                    kind = "strings" if left.ty == "str" else "booleans"
                    raise ExprError(
                        f"{kind} can only be compared with ==, != or in", pos, "use == or != (or 'in [...]')"
                    )
                if op in ("==", "!="):
                    self.enum_member(left, right)
                    self.enum_member(right, left)
            left = right

    def same_type(self, left: Node, right: Node, op: str, pos: int) -> None:
        if left.ty == right.ty:
            return
        hint = None
        for a, b in ((left, right), (right, left)):
            if a.ty == "num" and b.ty == "str" and isinstance(b, Const) and _is_number(str(b.value)):
                hint = f"remove the quotes: {b.value}"
            elif a.ty == "bool" and isinstance(b, Const) and str(b.value).lower() in ("true", "false"):
                hint = f"write {str(b.value).lower()} without quotes"
        raise ExprError(
            f"cannot compare {TYPE_NAMES[left.ty]} ({self.show(left)}) with "
            f"{TYPE_NAMES[right.ty]} ({self.show(right)}) using '{op}'",
            pos,
            hint,
        )

    def enum_member(self, param: Node, value: Node) -> None:
        """A literal compared with an enum parameter must be one of its values: anything else is a typo."""
        if not (isinstance(param, Name) and isinstance(value, Const)):
            return
        enum = self.params[param.name].enum
        if enum is None or value.value in enum:
            return
        v = value.value
        close = closest(v, [e for e in enum if isinstance(e, str)]) if isinstance(v, str) else None
        if close is not None:
            hint = f"did you mean '{close}'?"
        else:
            shown = ", ".join(repr(e) for e in enum[:10]) + (", ..." if len(enum) > 10 else "")
            hint = f"the values of {param.name} are {shown}"
        shown_v = f"'{v}'" if isinstance(v, str) else _fmt(v)
        raise ExprError(f"{shown_v} is not a value of {param.name}", value.pos, hint)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _fmt(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)
