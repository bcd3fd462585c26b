"""A project's tests as points of the unit cube, as optiloop.testopt.space encodes them.

A copy of `Param.encode` and `Space.encode_dicts` (the images have no optiloop), from the space
description a `project_runs` snapshot carries (`{"params": {name: {"type", "min", "max", "log",
"enum"}}}`, in the space's order):

* boolean: 0.75 for true, 0.25 for false; a string: the centre of its cell, (index + 0.5) / n;
* an integer: the centre of its cell, (v - lo + 0.5) / (hi - lo + 1), or on the log scale the mean
  of log v and log(v + 1) over [log lo, log(hi + 1)); a number: (v - lo) / (hi - lo), or its log;
* an absent value (an inactive conditional param), or one that no longer fits: 0.5.

tests/unit/testopt/test_rl_policy.py encodes the same tests with both and compares.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _fits(spec: Mapping[str, Any], v: Any) -> bool:
    if v is None:
        return False
    if spec["type"] == "boolean":
        return v in (False, True)
    if spec["type"] == "string":
        return isinstance(v, str) and v in spec.get("enum", ())
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return math.isfinite(float(v))


def _encode(spec: Mapping[str, Any], v: Any) -> float:
    t = spec["type"]
    if t == "boolean":
        return 0.75 if bool(v) else 0.25
    if t == "string":
        enum = list(spec["enum"])
        return (enum.index(v) + 0.5) / len(enum)
    lo, hi, x = float(spec["min"]), float(spec["max"]), float(v)
    if t == "integer":
        if spec.get("log"):
            a, b = math.log(lo), math.log(hi + 1)
            return (0.5 * (math.log(x) + math.log(x + 1)) - a) / (b - a) if x > 0 else math.nan
        return (x - lo + 0.5) / (hi - lo + 1)
    if spec.get("log"):
        a, b = math.log(lo), math.log(hi)
        return ((math.log(x) - a) / (b - a) if b > a else 0.0) if x > 0 else math.nan
    return (x - lo) / (hi - lo) if hi > lo else 0.0


def encode(params: Mapping[str, Mapping[str, Any]], points: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """(len(points), len(params)) unit coordinates, the space's param order."""
    names = list(params)
    U = np.full((len(points), len(names)), 0.5)
    for j, name in enumerate(names):
        spec = params[name]
        for i, p in enumerate(points):
            v = p.get(name)
            if _fits(spec, v):
                e = _encode(spec, v)
                if math.isfinite(e):
                    U[i, j] = min(max(e, 0.0), 1.0)
    return U
