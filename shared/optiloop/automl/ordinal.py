"""Ordinal columns: categories with an order (low < medium < high), declared or recognised.

Declared: the ingest's `ordinal: {column: [levels in order]}` makes the column ordinal with those
levels; a present value that is not one of them is a 422 naming `ordinal.<column>` (a typo in the data
or the declaration must not become a silent extra level).

Recognised, when nothing is declared: a categorical column whose distinct values (case and spacing
ignored) are at least two of one known scale below, and nothing else. The scales are few and
unambiguous on purpose; a column that merely looks ordered (grades "A".."F", numbers as words) stays
categorical, because a wrong order is worse for a model than no order. Numbers keep their numeric type.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optiloop.automl.table import Column, Table
from optiloop.errors import FieldProblem, InvalidInput

MAX_LEVELS = 200
SCALES: tuple[tuple[str, ...], ...] = (
    ("very low", "low", "medium", "high", "very high"),
    ("low", "moderate", "high"),
    ("xxs", "xs", "s", "m", "l", "xl", "xxl", "xxxl"),
    ("extra small", "small", "medium", "large", "extra large"),
    ("strongly disagree", "disagree", "neutral", "agree", "strongly agree"),
    ("very poor", "poor", "fair", "good", "very good", "excellent"),
    # housing and inspection grades (the Ames data's overall quality and its Po/Fa/TA/Gd/Ex spelt out)
    (
        "very poor",
        "poor",
        "fair",
        "below average",
        "average",
        "above average",
        "good",
        "very good",
        "excellent",
    ),
    ("poor", "fair", "typical", "good", "excellent"),
    ("never", "rarely", "sometimes", "often", "always"),
    ("none", "mild", "moderate", "severe"),
    ("cold", "cool", "warm", "hot"),
    ("bronze", "silver", "gold", "platinum"),
    ("beginner", "intermediate", "advanced", "expert"),
    ("junior", "mid", "senior", "lead", "principal"),
    ("q1", "q2", "q3", "q4"),
    ("first", "second", "third", "fourth", "fifth"),
    ("1st", "2nd", "3rd", "4th", "5th"),
)


def _norm(s: str) -> str:
    return " ".join(s.strip().lower().replace("_", " ").replace("-", " ").split())


def recognise(values: list[str]) -> list[str] | None:
    """The levels in order, spelt as in the data, when the distinct values fit one scale."""
    if len(values) < 2:
        return None
    by_norm = {_norm(v): v for v in values}
    if len(by_norm) != len(values):
        return None
    for scale in SCALES:
        if set(by_norm) <= set(scale):
            return [by_norm[s] for s in scale if s in by_norm]
    return None


def check_declared(raw: Any) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInput(FieldProblem("ordinal", "must be an object: column -> its levels in order"))
    out: dict[str, list[str]] = {}
    for col, levels in raw.items():
        f = f"ordinal.{col}"
        if not isinstance(levels, list) or not 2 <= len(levels) <= MAX_LEVELS:
            raise InvalidInput(FieldProblem(f, f"must list 2..{MAX_LEVELS} levels in order"))
        if not all(isinstance(v, str) and v.strip() for v in levels) or len(set(levels)) != len(levels):
            raise InvalidInput(FieldProblem(f, "levels must be distinct non-empty strings"))
        out[str(col)] = [str(v).strip() for v in levels]
    return out


def apply(table: Table, declared: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Type declared and recognised ordinal columns in place; what was done, per column."""
    done: list[dict[str, Any]] = []
    for name in declared:
        if table.column(name) is None:
            raise InvalidInput(FieldProblem(f"ordinal.{name}", "no such column in the data"))
    for c in table.columns:
        if c.name in declared:
            levels = declared[c.name]
            present = set(np.unique(c.values[~c.missing]).tolist()) if c.values.dtype.kind == "U" else None
            if present is None:
                present = {_num_str(v) for v in c.values[~c.missing].tolist()}
                c.values = np.array(
                    ["" if m else _num_str(v) for v, m in zip(c.values, c.missing, strict=True)]
                )
            unknown = sorted(present - set(levels))
            if unknown:
                raise InvalidInput(
                    FieldProblem(f"ordinal.{c.name}", f"values not among the levels: {unknown[:5]}")
                )
            c.type, c.levels = "ordinal", tuple(levels)
            done.append({"column": c.name, "levels": levels, "how": "declared"})
        elif c.type == "categorical":
            uniq = np.unique(c.values[~c.missing]).tolist()
            found = recognise([str(v) for v in uniq]) if len(uniq) <= MAX_LEVELS else None
            if found:
                c.type, c.levels = "ordinal", tuple(found)
                done.append({"column": c.name, "levels": found, "how": "recognised"})
    return done


def _num_str(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def rank(c: Column) -> np.ndarray:
    """An ordinal column's values as their level index (NaN where missing)."""
    assert c.levels is not None
    index = {v: float(i) for i, v in enumerate(c.levels)}
    return np.array(
        [np.nan if m else index.get(str(v), np.nan) for v, m in zip(c.values, c.missing, strict=True)]
    )
