"""Constraint documents (the API's `json_schema`) -> a validated `Space`.

Every problem is reported with the JSON path of the field it concerns, all at once, so a user
fixes a document in one round trip instead of one error per request.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from optiloop.errors import FieldProblem, InvalidInput
from optiloop.testopt.space.expr import ExprError, parse
from optiloop.testopt.space.model import Param, Relation, Space

MAX_PARAMS = 256
MAX_RELATIONS = 256
MAX_ENUM = 1024
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
RESERVED = {
    "and",
    "or",
    "not",
    "if",
    "then",
    "else",
    "in",
    "true",
    "false",
    "abs",
    "min",
    "max",
    "log",
    "exp",
}
PARAM_KEYS = {
    "integer": {"type", "min", "max", "log", "active_if", "description"},
    "number": {"type", "min", "max", "log", "active_if", "description"},
    "string": {"type", "enum", "active_if", "description"},
    "boolean": {"type", "active_if", "description"},
}


@dataclass(frozen=True)
class ConstraintDoc:
    name: str
    type: str  # "hard" | "soft"
    weight: float
    json_schema: dict[str, Any]
    field: str = "json_schema"  # where this document sits in the request, for error paths


def _num(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:  # a JSON integer with hundreds of digits
        return False


def _param(name: str, spec: Any, path: str, probs: list[FieldProblem]) -> Param | None:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or name in RESERVED:
        probs.append(
            FieldProblem(
                path,
                "a parameter name must be an identifier (letters, digits, _; "
                "not starting with a digit; at most 64 chars) and not a keyword",
            )
        )
        return None
    if not isinstance(spec, dict):
        probs.append(FieldProblem(path, 'must be an object such as {"type": "integer", "min": 1, "max": 10}'))
        return None
    t = spec.get("type")
    if t not in PARAM_KEYS:
        hint = difflib.get_close_matches(str(t), list(PARAM_KEYS), n=1)
        probs.append(
            FieldProblem(
                f"{path}.type",
                f"unknown type {t!r}; expected integer, number, string or boolean",
                hint=f"did you mean '{hint[0]}'?" if hint else None,
            )
        )
        return None
    extra = set(spec) - PARAM_KEYS[t]
    if extra:
        k = sorted(extra)[0]
        close = difflib.get_close_matches(k, sorted(PARAM_KEYS[t]), n=1)
        probs.append(
            FieldProblem(
                f"{path}.{k}",
                f"not a field of a {t} parameter",
                hint=f"did you mean '{close[0]}'?" if close else None,
            )
        )
        return None
    n0 = len(probs)
    low = high = None
    log = False
    enum = None
    if t in ("integer", "number"):
        for k in ("min", "max"):
            v = spec.get(k)
            if v is None:
                probs.append(FieldProblem(f"{path}.{k}", "is required for a numeric parameter"))
            elif not _num(v):
                probs.append(FieldProblem(f"{path}.{k}", "must be a finite number"))
            elif t == "integer" and float(v) != int(v):
                probs.append(FieldProblem(f"{path}.{k}", "must be a whole number for an integer parameter"))
            elif abs(v) > 1e15:
                probs.append(FieldProblem(f"{path}.{k}", "must be within ±1e15"))
        if len(probs) == n0:
            low, high = float(spec["min"]), float(spec["max"])
            if low > high:
                probs.append(
                    FieldProblem(f"{path}.min", f"min ({spec['min']}) is greater than max ({spec['max']})")
                )
        log = spec.get("log", False)
        if not isinstance(log, bool):
            probs.append(FieldProblem(f"{path}.log", "must be true or false"))
        elif log and low is not None and low <= 0:
            probs.append(FieldProblem(f"{path}.log", "a log-scaled parameter needs min > 0"))
    elif t == "string":
        e = spec.get("enum")
        if not isinstance(e, list) or not e:
            probs.append(
                FieldProblem(f"{path}.enum", "a string parameter needs a non-empty list of allowed values")
            )
        elif not all(isinstance(x, str) and 0 < len(x) <= 256 for x in e):
            probs.append(
                FieldProblem(f"{path}.enum", "values must be non-empty strings of at most 256 chars")
            )
        elif len(set(e)) != len(e):
            probs.append(FieldProblem(f"{path}.enum", "values must be unique"))
        elif len(e) > MAX_ENUM:
            probs.append(FieldProblem(f"{path}.enum", f"at most {MAX_ENUM} values"))
        else:
            enum = tuple(e)
    act = spec.get("active_if")
    if act is not None and not isinstance(act, str):
        probs.append(FieldProblem(f"{path}.active_if", "must be an expression string"))
    if len(probs) > n0:
        return None
    if t == "boolean":
        enum = (False, True)
    return Param(
        name=name,
        type=t,
        low=low,
        high=high,
        log=bool(log),
        enum=enum,
        active_if_source=act if isinstance(act, str) else None,
    )


def build_space(docs: Sequence[ConstraintDoc]) -> Space:
    """Validate and merge constraint documents into one space (raises InvalidInput with every problem)."""
    probs: list[FieldProblem] = []
    params: dict[str, Param] = {}
    origin: dict[str, str] = {}
    for doc in docs:
        js = doc.json_schema
        if not isinstance(js, dict):
            probs.append(FieldProblem(doc.field, "must be an object with 'params' and/or 'relations'"))
            continue
        extra = set(js) - {"params", "relations", "description"}
        for k in sorted(extra):
            probs.append(FieldProblem(f"{doc.field}.{k}", "unknown field; expected 'params' and 'relations'"))
        ps = js.get("params", {})
        if not isinstance(ps, dict):
            probs.append(
                FieldProblem(f"{doc.field}.params", "must be an object mapping names to parameter specs")
            )
            continue
        for name, spec in ps.items():
            path = f"{doc.field}.params.{name}"
            p = _param(name, spec, path, probs)
            if p is None:
                continue
            if name in params and params[name].spec() != p.spec():
                probs.append(FieldProblem(path, f"conflicts with the definition in {origin[name]}"))
                continue
            params[name] = p
            origin[name] = path
    if len(params) > MAX_PARAMS:
        probs.append(FieldProblem("json_schema.params", f"at most {MAX_PARAMS} parameters"))
    if not params and not probs:
        probs.append(FieldProblem("json_schema.params", "the space has no parameters: define at least one"))
    if probs:
        raise InvalidInput(probs)

    # conditional params: parse active_if now that every name is known
    for name, p in list(params.items()):
        if p.active_if_source is None:
            continue
        try:
            e = parse(p.active_if_source, params)
        except ExprError as err:
            probs.append(_expr_problem(f"{origin[name]}.active_if", err))
            continue
        if name in e.names:
            probs.append(FieldProblem(f"{origin[name]}.active_if", "a parameter cannot depend on itself"))
            continue
        params[name] = Param(
            name=p.name,
            type=p.type,
            low=p.low,
            high=p.high,
            log=p.log,
            enum=p.enum,
            active_if=e,
            active_if_source=p.active_if_source,
        )
    cycle = _active_if_cycle(params)
    if cycle:
        probs.append(
            FieldProblem(
                f"{origin[cycle[0]]}.active_if",
                "active_if conditions form a cycle: " + " -> ".join(cycle),
                hint="a parameter's condition must not depend, through other conditions, "
                "on the parameter itself",
            )
        )

    hard: list[Relation] = []
    soft: list[Relation] = []
    n_rel = sum(
        len(d.json_schema.get("relations", []))
        for d in docs
        if isinstance(d.json_schema.get("relations", []), list)
    )
    if n_rel > MAX_RELATIONS:  # before parsing: a huge list must not cost a parse per entry
        probs.append(FieldProblem("json_schema.relations", f"at most {MAX_RELATIONS} relations"))
        raise InvalidInput(probs)
    for doc in docs:
        rels = doc.json_schema.get("relations", [])
        if not isinstance(rels, list):
            probs.append(FieldProblem(f"{doc.field}.relations", "must be a list of expression strings"))
            continue
        for i, src in enumerate(rels):
            path = f"{doc.field}.relations[{i}]"
            if not isinstance(src, str):
                probs.append(FieldProblem(path, "must be an expression string"))
                continue
            try:
                e = parse(src, params)
            except ExprError as err:
                probs.append(_expr_problem(path, err))
                continue
            rel = Relation(source=src, expr=e, constraint=doc.name, field=path, weight=doc.weight)
            (hard if doc.type == "hard" else soft).append(rel)
    if probs:
        raise InvalidInput(probs)
    return Space(list(params.values()), hard, soft)


def _active_if_cycle(params: dict[str, Param]) -> list[str] | None:
    """A chain of conditions that leads back to where it started, e.g. ['a', 'b', 'a'], or None.

    Conditional activation is resolved parent-first; a cycle has no first parent.
    """
    deps = {
        n: sorted(p.active_if.names & params.keys()) for n, p in params.items() if p.active_if is not None
    }
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in deps:
        if state.get(start):
            continue
        path, stack = [start], [iter(deps[start])]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif not state.get(nxt) and nxt in deps:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(deps[nxt]))
    return None


def _expr_problem(path: str, err: ExprError) -> FieldProblem:
    return FieldProblem(
        path, f"{err.message} (at position {err.position})", hint=err.hint, extra={"position": err.position}
    )
