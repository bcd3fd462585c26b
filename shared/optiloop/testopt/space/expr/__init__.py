"""The constraint language: text -> tokens -> AST -> type check -> vectorised evaluator. Never eval.

Contract (used by `optiloop.testopt.space.schema` and the samplers):

    parse(source: str, params: Mapping[str, ParamLike]) -> Expr
        ParamLike has `.type` in {"integer","number","string","boolean"} and `.enum` (tuple|None).
        Raises ExprError for syntax errors, unknown names, type errors, literal division by zero,
        expressions that are too long/deep, and comparisons of an enum param with a value not in
        its enum. ExprError carries `.message`, `.position` (0-based char offset) and `.hint`
        ("did you mean 'payload_kb'?") where one can be offered.

    Expr.source: str; Expr.names: frozenset[str] (params referenced)
    Expr.evaluate(cols: Mapping[str, np.ndarray], n: int) -> np.ndarray of bool, shape (n,)
        cols: integer/number params as float64 arrays, strings as object arrays, booleans as bool.
        Rows where arithmetic is not finite (x/0, overflow, log of a negative) evaluate to False.
"""

from optiloop.testopt.space.expr.errors import ExprError
from optiloop.testopt.space.expr.parser import Expr, parse

__all__ = ["Expr", "ExprError", "parse"]
