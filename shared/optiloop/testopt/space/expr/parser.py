"""Tokens -> AST by precedence climbing (a Pratt parser), then type check, fold and compile.

Precedence, loosest first (all binary operators left-associative except `**`):

    or ||            1
    and &&           2
    not !            3  (prefix; `!` is exactly `not`, so `!a == b` is `not (a == b)`)
    == != < <= > >= in, not in
                     4  (chains like Python: `1 <= x < 5` is `1 <= x and x < 5`)
    + -              5
    * / %            6
    - +              7  (prefix)
    **               8  (right-associative; binds tighter than a prefix minus on its left,
                         so -2**2 == -4, and its right operand may carry one: 2**-1)
    atoms: numbers, strings, true/false, names, f(...), (...), if(c) then(a) else(b)

`if(...) then(...) else(...)` is an atom because its parts are parenthesised: it needs no
precedence of its own, and `if(cache) then(2) else(1) * qps <= 10` reads as
`(if(cache) then(2) else(1)) * qps <= 10`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from optiloop.testopt.space.expr.errors import ExprError, did_you_mean
from optiloop.testopt.space.expr.evaluate import Expr, compile_tree
from optiloop.testopt.space.expr.fold import fold
from optiloop.testopt.space.expr.lexer import KEYWORDS, Token, tokenize
from optiloop.testopt.space.expr.nodes import (
    FUNCTIONS,
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
    children,
)
from optiloop.testopt.space.expr.typecheck import TYPE_OF, typecheck

__all__ = ["MAX_AST_DEPTH", "MAX_DEPTH", "MAX_NODES", "Expr", "ParamLike", "ParamSpec", "parse", "reparse"]

MAX_DEPTH = 50  # nesting the user wrote: parentheses, calls, lists, prefix operators, `**`, if
MAX_AST_DEPTH = 200  # bounds the recursion of every later tree walk, whatever the nesting
MAX_NODES = 500

_CMP = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "not in"})
_PREC = {"or": 1, "and": 2, **dict.fromkeys(_CMP, 4), "+": 5, "-": 5, "*": 6, "/": 6, "%": 6, "**": 8}
_NOT_PREC = 3
_UNARY_PREC = 7
_LEVEL = {"+": ("+", "-"), "-": ("+", "-"), "*": ("*", "/", "%"), "/": ("*", "/", "%"), "%": ("*", "/", "%")}
_VALUE_END = frozenset({"num", "str", "name", "true", "false", ")", "]"})
_VALUE_START = frozenset({"num", "str", "name", "true", "false", "(", "if"})
_TY_WORD = {"num": "number", "str": "string", "bool": "boolean"}
_IF_HINT = "write if(condition) then(expression), optionally followed by else(expression)"


class ParamLike(Protocol):
    """Read-only attributes (properties), so frozen dataclasses such as ParamSpec satisfy it."""

    @property
    def type(self) -> str: ...

    @property
    def enum(self) -> tuple[Any, ...] | None: ...


@dataclass(frozen=True)
class ParamSpec:
    """The part of a parameter an expression depends on; what a pickled Expr carries."""

    type: str
    enum: tuple[Any, ...] | None


def reparse(source: str, params: Mapping[str, ParamSpec]) -> Expr:
    return parse(source, params)


def parse(source: str, params: Mapping[str, ParamLike]) -> Expr:
    """Parse, type-check, fold and compile a boolean expression over `params`."""
    if not isinstance(source, str):
        raise ExprError("an expression must be a string", 0)
    for name, p in params.items():
        if p.type not in TYPE_OF:
            raise ValueError(f"parameter {name!r} has unknown type {p.type!r}")
    try:
        tree = _Parser(source, tokenize(source), params).parse_all()
        _check_depth(tree)
        ty = typecheck(tree, params, source)
        if ty != "bool":
            shown = " ".join(source.split())
            shown = shown if len(shown) <= 40 else "..."
            example = f"{shown} <= 10" if ty == "num" else f"{shown} == '...'"
            raise ExprError(
                f"a relation must be a boolean expression (this one is a {_TY_WORD[ty]})",
                0,
                f"compare it with something, e.g. {example}",
            )
        used = {n: ParamSpec(params[n].type, params[n].enum) for n in _names(tree)}
        tree = fold(tree)
        types = {n: TYPE_OF[params[n].type] for n in _names(tree)}
        return Expr(source, tree, compile_tree(tree), types, used)
    except RecursionError:
        raise ExprError(
            "expression is nested too deeply", 0, "simplify it or split it into several relations"
        ) from None


def _names(tree: Node) -> set[str]:
    out: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            out.add(node.name)
        stack.extend(children(node))
    return out


def _check_depth(tree: Node) -> None:
    stack: list[tuple[Node, int]] = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        if d > MAX_AST_DEPTH:
            raise ExprError(
                f"expression is nested too deeply (more than {MAX_AST_DEPTH} levels)",
                node.pos,
                "simplify it or split it into several relations",
            )
        stack.extend((c, d + 1) for c in children(node))


class _Parser:
    def __init__(self, source: str, tokens: list[Token], params: Mapping[str, ParamLike]) -> None:
        self.src = source
        self.toks = tokens
        self.params = params
        self.i = 0
        self.depth = 0
        self.count = 0

    # -- token plumbing ------------------------------------------------------------------
    @property
    def peek(self) -> Token:
        return self.toks[self.i]

    def advance(self) -> Token:
        t = self.toks[self.i]
        if t.kind != "eof":
            self.i += 1
        return t

    @property
    def last_end(self) -> int:
        return self.toks[self.i - 1].end if self.i else 0

    def nest(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(
                f"expression is nested too deeply (more than {MAX_DEPTH} levels)",
                tok.pos,
                "simplify it or split it into several relations",
            )

    def unnest(self) -> None:
        self.depth -= 1

    def counted(self, node: Node, extra: int = 0) -> Node:
        self.count += 1 + extra
        if self.count > MAX_NODES:
            raise ExprError(
                f"expression is too large (more than {MAX_NODES} parts)",
                node.pos,
                "split it into several relations",
            )
        return node

    def binary_op(self, tok: Token) -> str | None:
        if tok.kind == "not" and tok.text == "not" and self.toks[self.i + 1].kind == "in":
            return "not in"
        return tok.kind if tok.kind in _PREC else None

    # -- grammar -------------------------------------------------------------------------
    def parse_all(self) -> Node:
        if self.peek.kind == "eof":
            raise ExprError("empty expression", 0, "write a condition such as qps <= 100")
        tree = self.parse_expr(0)
        t = self.peek
        if t.kind != "eof":
            if t.kind == ")":
                raise ExprError(
                    "unbalanced parentheses: ')' has no matching '('", t.pos, "remove it or add '('"
                )
            if t.kind == "]":
                raise ExprError("unbalanced brackets: ']' has no matching '['", t.pos, "remove it")
            raise ExprError(f"unexpected '{t.text}' after a complete expression", t.pos, self.stray_hint(t))
        return tree

    def stray_hint(self, t: Token) -> str | None:
        """Why a token cannot continue what came before it."""
        if t.kind == "name" and t.text.lower() in KEYWORDS:
            return f"keywords are lower-case: did you mean '{t.text.lower()}'?"
        if t.kind in ("then", "else"):
            return _IF_HINT
        prev = self.toks[self.i - 1] if self.i else None
        if prev is not None and prev.kind in _VALUE_END and t.kind in _VALUE_START:
            return f"an operator is missing between '{prev.text}' and '{t.text}'"
        if t.kind == ",":
            return "a comma only separates function arguments and list items"
        return None

    def parse_expr(self, min_prec: int) -> Node:
        left = self.prefix()
        while True:
            tok = self.peek
            op = self.binary_op(tok)
            if op is None or _PREC[op] < min_prec:
                return left
            prec = _PREC[op]
            if op in _CMP:
                left = self.compare_chain(left)
            elif op == "**":
                self.advance()
                self.nest(tok)
                right = self.parse_expr(_UNARY_PREC)
                self.unnest()
                left = self.counted(
                    Pow(pos=left.pos, end=right.end, base=left, exponent=right, op_pos=tok.pos)
                )
            elif op in ("and", "or"):
                operands = [left]
                while self.peek.kind == op:
                    self.advance()
                    operands.append(self.parse_expr(prec + 1))
                left = self.counted(Logic(pos=left.pos, end=operands[-1].end, op=op, operands=operands))
            else:
                operands, ops, op_pos = [left], [], []
                while self.peek.kind in _LEVEL[op]:
                    t = self.advance()
                    ops.append(t.kind)
                    op_pos.append(t.pos)
                    operands.append(self.parse_expr(prec + 1))
                left = self.counted(
                    Arith(pos=left.pos, end=operands[-1].end, operands=operands, ops=ops, op_pos=op_pos)
                )

    def compare_chain(self, left: Node) -> Node:
        operands, ops, op_pos = [left], [], []
        while (op := self.binary_op(self.peek)) in _CMP:
            t = self.advance()
            if op == "not in":
                self.advance()
            ops.append(op)
            op_pos.append(t.pos)
            if op in ("in", "not in"):
                operands.append(self.list_lit(op))
                nxt = self.peek
                if self.binary_op(nxt) in _CMP:
                    raise ExprError(
                        f"a comparison cannot follow '{op} [...]'",
                        nxt.pos,
                        "join the two conditions with 'and'",
                    )
            else:
                operands.append(self.parse_expr(_PREC["=="] + 1))
        return self.counted(
            Compare(pos=left.pos, end=operands[-1].end, operands=operands, ops=ops, op_pos=op_pos)
        )

    def prefix(self) -> Node:
        tok = self.peek
        k = tok.kind
        if k == "num" or k == "str":
            self.advance()
            return self.counted(Const(pos=tok.pos, end=tok.end, value=tok.value))  # type: ignore[arg-type]
        if k in ("true", "false"):
            self.advance()
            return self.counted(Const(pos=tok.pos, end=tok.end, value=k == "true"))
        if k == "name":
            return self.name_or_call()
        if k == "(":
            self.advance()
            self.nest(tok)
            inner = self.parse_expr(0)
            self.unnest()
            self.expect_close(tok, ")")
            return inner
        if k in ("-", "+", "not"):
            self.advance()
            self.nest(tok)
            operand = self.parse_expr(_NOT_PREC if k == "not" else _UNARY_PREC)
            self.unnest()
            return self.counted(Unary(pos=tok.pos, end=operand.end, op=k, operand=operand))
        if k == "if":
            return self.if_expr()
        raise self.expected_value(tok)

    def expected_value(self, tok: Token) -> ExprError:
        k = tok.kind
        if k == "eof":
            prev = self.toks[self.i - 1] if self.i else None
            where = f" after '{prev.text}'" if prev is not None else ""
            return ExprError(f"unexpected end of expression{where}", tok.pos, "the expression is incomplete")
        if k == ")":
            if self.i and self.toks[self.i - 1].kind == "(":
                return ExprError("empty parentheses", tok.pos, "put an expression between '(' and ')'")
            return ExprError("expected a value before ')'", tok.pos, None)
        if k == "[":
            return ExprError("a list can only follow 'in'", tok.pos, "e.g. region in ['eu', 'us']")
        if k in ("then", "else"):
            return ExprError(f"'{tok.text}' without 'if'", tok.pos, _IF_HINT)
        if k == "]":
            return ExprError("expected a value before ']'", tok.pos, None)
        return ExprError(f"expected a value before '{tok.text}'", tok.pos, None)

    def expect_close(self, opener: Token, closer: str) -> Token:
        t = self.peek
        if t.kind == closer:
            return self.advance()
        what = "parentheses" if closer == ")" else "brackets"
        if t.kind == "eof":
            raise ExprError(
                f"unbalanced {what}: this '{opener.text}' is never closed", opener.pos, f"add '{closer}'"
            )
        if t.kind in (")", "]"):
            raise ExprError(
                f"unbalanced {what}: expected '{closer}' to close '{opener.text}' at position "
                f"{opener.pos}, found '{t.text}'",
                t.pos,
                f"use '{closer}'",
            )
        raise ExprError(
            f"expected '{closer}' to close '{opener.text}' at position {opener.pos}, found '{t.text}'",
            t.pos,
            self.stray_hint(t),
        )

    def name_or_call(self) -> Node:
        tok = self.advance()
        name = tok.text
        if self.peek.kind == "(":
            if name in FUNCTIONS:
                return self.call(tok)
            if name in self.params:
                raise ExprError(
                    f"'{name}' is a parameter, not a function",
                    tok.pos,
                    f"put an operator after it, e.g. {name} * (...)",
                )
            raise ExprError(
                f"unknown function '{name}'",
                tok.pos,
                did_you_mean(name, FUNCTIONS) or "the functions are " + ", ".join(FUNCTIONS),
            )
        if name in self.params:
            return self.counted(Name(pos=tok.pos, end=tok.end, name=name))
        if name in FUNCTIONS:
            raise ExprError(f"'{name}' is a function", tok.pos, f"call it with parentheses, e.g. {name}(x)")
        hint = did_you_mean(name, [*self.params, *FUNCTIONS, "true", "false", *KEYWORDS])
        if hint is None and self.params:
            names = sorted(self.params)
            hint = "the parameters are " + ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        raise ExprError(f"unknown parameter '{name}'", tok.pos, hint)

    def call(self, name_tok: Token) -> Node:
        opener = self.advance()
        self.nest(opener)
        args: list[Node] = []
        if self.peek.kind != ")":
            args.append(self.parse_expr(0))
            while self.peek.kind == ",":
                self.advance()
                args.append(self.parse_expr(0))
        close = self.expect_close(opener, ")")
        self.unnest()
        fn = name_tok.text
        lo, hi = FUNCTIONS[fn]
        if len(args) < lo or (hi is not None and len(args) > hi):
            if hi == lo:
                need = f"exactly {lo} argument" + ("s" if lo != 1 else "")
                hint = None
            else:
                need = f"at least {lo} arguments"
                which = "smallest" if fn == "min" else "largest"
                hint = f"{fn}(a, b, ...) picks the {which} of its arguments"
            raise ExprError(f"{fn} takes {need} ({len(args)} given)", name_tok.pos, hint)
        return self.counted(Call(pos=name_tok.pos, end=close.end, fn=fn, args=args))

    def list_lit(self, op: str) -> Node:
        t = self.peek
        if t.kind != "[":
            raise ExprError(f"expected a list after '{op}'", t.pos, f"write e.g. region {op} ['eu', 'us']")
        self.advance()
        self.nest(t)
        if self.peek.kind == "]":
            raise ExprError("empty list", t.pos, "list at least one value")
        items = [self.parse_expr(0)]
        while self.peek.kind == ",":
            self.advance()
            items.append(self.parse_expr(0))
        close = self.expect_close(t, "]")
        self.unnest()
        return self.counted(ListLit(pos=t.pos, end=close.end, items=items))

    def if_expr(self) -> Node:
        t_if = self.advance()
        self.nest(t_if)
        cond = self.part("if")
        if self.peek.kind != "then":
            raise ExprError("expected 'then(...)' after 'if(...)'", self.peek.pos, _IF_HINT)
        self.advance()
        then = self.part("then")
        orelse = None
        if self.peek.kind == "else":
            self.advance()
            orelse = self.part("else")
        self.unnest()
        return self.counted(If(pos=t_if.pos, end=self.last_end, cond=cond, then=then, orelse=orelse))

    def part(self, keyword: str) -> Node:
        t = self.peek
        if t.kind != "(":
            raise ExprError(f"expected '(' after '{keyword}'", t.pos, _IF_HINT)
        self.advance()
        inner = self.parse_expr(0)
        self.expect_close(t, ")")
        return inner
