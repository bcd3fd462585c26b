"""Declared expectations of a dataset: checked on every ingest of its spec, stored with it.

One expectation is `{"expect": kind, "column": name, ..., "severity": "warn" | "error"}`:

    column_exists    the column is in the data
    type             its inferred type is `type` (numeric, boolean, categorical, ordinal, text, datetime, id)
    not_null         at least `min_fraction` (default 1.0) of its values are present
    range            present numbers lie in [`min`, `max`] (either may be left out)
    allowed_values   present values are among `values`
    unique           no present value repeats

Checked on the data as read (after typing, before PII masking), so an expectation speaks of the
source, not of what masking made of it. A failed `warn` is reported (`report.expectations`) and the
dataset is stored; a failed `error` refuses the ingest with a 422 listing every failed expectation
(field `expectations[i]`), and nothing is written.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optiloop.automl.table import Table
from optiloop.errors import FieldProblem, InvalidInput

KINDS = ("column_exists", "type", "not_null", "range", "allowed_values", "unique")
TYPES = ("numeric", "boolean", "categorical", "ordinal", "text", "datetime", "id")
SEVERITIES = ("warn", "error")
MAX_EXPECTATIONS = 200
MAX_VALUES = 1_000
_FIELDS = {
    "column_exists": set(),
    "type": {"type"},
    "not_null": {"min_fraction"},
    "range": {"min", "max"},
    "allowed_values": {"values"},
    "unique": set(),
}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate(raw: Any) -> list[dict[str, Any]]:
    """The expectations, normalised; a 422 naming `expectations[i].<field>` for each bad one."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_EXPECTATIONS:
        raise InvalidInput(FieldProblem("expectations", f"must be a list of at most {MAX_EXPECTATIONS}"))
    out: list[dict[str, Any]] = []
    probs: list[FieldProblem] = []
    for i, e in enumerate(raw):
        f = f"expectations[{i}]"
        if not isinstance(e, dict):
            probs.append(FieldProblem(f, "must be an object"))
            continue
        kind = e.get("expect")
        if kind not in KINDS:
            probs.append(FieldProblem(f"{f}.expect", f"must be one of {', '.join(KINDS)}"))
            continue
        col = e.get("column")
        if not isinstance(col, str) or not 1 <= len(col) <= 200:
            probs.append(FieldProblem(f"{f}.column", "must name a column (1..200 characters)"))
            continue
        severity = e.get("severity", "warn")
        if severity not in SEVERITIES:
            probs.append(FieldProblem(f"{f}.severity", "must be warn or error"))
            continue
        extra = set(e) - {"expect", "column", "severity"} - _FIELDS[kind]
        if extra:
            probs.append(FieldProblem(f, f"{kind} takes no {', '.join(sorted(extra))}"))
            continue
        item: dict[str, Any] = {"expect": kind, "column": col, "severity": severity}
        if kind == "type":
            if e.get("type") not in TYPES:
                probs.append(FieldProblem(f"{f}.type", f"must be one of {', '.join(TYPES)}"))
                continue
            item["type"] = e["type"]
        elif kind == "not_null":
            frac = e.get("min_fraction", 1.0)
            if not _number(frac) or not 0.0 <= frac <= 1.0:
                probs.append(FieldProblem(f"{f}.min_fraction", "must be a number in [0, 1]"))
                continue
            item["min_fraction"] = float(frac)
        elif kind == "range":
            lo, hi = e.get("min"), e.get("max")
            if (lo is None and hi is None) or any(v is not None and not _number(v) for v in (lo, hi)):
                probs.append(FieldProblem(f, "range needs a finite `min`, `max` or both"))
                continue
            if lo is not None and hi is not None and lo > hi:
                probs.append(FieldProblem(f"{f}.min", "is greater than max"))
                continue
            item.update({k: float(v) for k, v in (("min", lo), ("max", hi)) if v is not None})
        elif kind == "allowed_values":
            vals = e.get("values")
            if not isinstance(vals, list) or not 1 <= len(vals) <= MAX_VALUES:
                probs.append(FieldProblem(f"{f}.values", f"must list 1..{MAX_VALUES} values"))
                continue
            if not all(isinstance(v, (str, int, float, bool)) for v in vals):
                probs.append(FieldProblem(f"{f}.values", "must be strings, numbers or booleans"))
                continue
            item["values"] = list(vals)
        out.append(item)
    if probs:
        raise InvalidInput(probs)
    return out


def _canon(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _check(table: Table, e: dict[str, Any]) -> tuple[bool, Any, str]:
    """(passed, observed, reason)."""
    c = table.column(e["column"])
    kind = e["expect"]
    if c is None:
        return False, None, f"no column {e['column']!r} in the data"
    if kind == "column_exists":
        return True, True, "present"
    present = c.values[~c.missing]
    n = c.values.shape[0]
    if kind == "type":
        return c.type == e["type"], c.type, f"inferred as {c.type}"
    if kind == "not_null":
        frac = (present.size / n) if n else 0.0
        return frac >= e["min_fraction"], round(frac, 6), f"{present.size} of {n} values present"
    if kind == "range":
        if not c.is_numeric:
            return False, None, f"is {c.type}, not numbers"
        if present.size == 0:
            return True, None, "no values"
        lo, hi = float(present.min()), float(present.max())
        ok = ("min" not in e or lo >= e["min"]) and ("max" not in e or hi <= e["max"])
        return ok, {"min": lo, "max": hi}, f"values span [{lo:g}, {hi:g}]"
    if kind == "allowed_values":
        allowed = {_canon(v) for v in e["values"]}
        seen = {_canon(v) if c.is_numeric else str(v) for v in np.unique(present).tolist()}
        if c.type == "boolean":
            seen = {"true" if v == "1" else "false" for v in seen}
        bad = sorted(seen - allowed)
        return not bad, bad[:10], f"{len(bad)} values not allowed" if bad else "all allowed"
    # unique
    dup = int(present.size - np.unique(present).size)
    return dup == 0, dup, f"{dup} repeated values" if dup else "no repeats"


def check(table: Table, expectations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every expectation's result; a 422 when one of severity `error` fails (see the docstring)."""
    results: list[dict[str, Any]] = []
    failed_errors: list[FieldProblem] = []
    for i, e in enumerate(expectations):
        passed, observed, reason = _check(table, e)
        results.append({**e, "passed": passed, "observed": observed, "reason": reason})
        if not passed and e["severity"] == "error":
            failed_errors.append(
                FieldProblem(f"expectations[{i}]", f"{e['expect']} on {e['column']!r} failed: {reason}")
            )
    if failed_errors:
        raise InvalidInput(failed_errors)
    return results
