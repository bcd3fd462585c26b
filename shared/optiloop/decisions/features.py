"""A request context as a fixed-size vector: what the linear learners of Contextual experiments read.

Layout: slot 0 is a bias (1.0); declared numeric features get slots 1..m in their declared order (no
collisions for what the team said matters); everything else is hashed into the remaining slots:
categorical values as one-hots of "name=value", undeclared numbers as their value, long text as its
words (each 1/sqrt(words), so a paragraph weighs as much as one category). Hashing keeps the size
fixed however many categories appear, which is what lets the state be a checkpointed matrix.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from optiloop.errors import FieldProblem, InvalidInput

TEXT_MIN_CHARS = 40
_WORD = re.compile(r"\w+")


def _slot(token: str, width: int) -> int:
    return zlib.crc32(token.encode()) % width


def check(context: Mapping[str, Any], spec: dict[str, Any]) -> None:
    """Declared features: each present (numeric ones as numbers), nothing else. Undeclared: anything."""
    if not spec["declared"]:
        return
    numeric, categorical = spec["numeric"], spec["categorical"]
    problems = [
        FieldProblem(f"context.{n}", "is missing") for n in (*numeric, *categorical) if n not in context
    ]
    known = set(numeric) | set(categorical)
    problems += [FieldProblem(f"context.{n}", "is not a declared feature") for n in context if n not in known]
    problems += [
        FieldProblem(f"context.{n}", "must be a number")
        for n in numeric
        if n in context and (isinstance(context[n], bool) or not isinstance(context[n], int | float))
    ]
    if problems:
        raise InvalidInput(problems)


def featurize(context: Mapping[str, Any], spec: dict[str, Any]) -> np.ndarray:
    """The vector for `context` (call `check` first where features are declared)."""
    d = spec["dimension"]
    numeric = spec["numeric"]
    x = np.zeros(d)
    x[0] = 1.0
    for i, name in enumerate(numeric):
        if name in context:
            x[1 + i] = float(context[name])
    base = 1 + len(numeric)
    width = d - base
    skip = set(numeric)
    for name, value in context.items():
        if name in skip or value is None:
            continue
        if isinstance(value, bool) or (isinstance(value, str) and len(value) < TEXT_MIN_CHARS):
            x[base + _slot(f"{name}={value}", width)] += 1.0
        elif isinstance(value, int | float):
            x[base + _slot(name, width)] += float(value)
        elif isinstance(value, str):
            words = _WORD.findall(value.lower())
            w = 1.0 / math.sqrt(max(len(words), 1))
            for word in words:
                x[base + _slot(f"{name}~{word}", width)] += w
    return x
