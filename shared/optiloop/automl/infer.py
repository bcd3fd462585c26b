"""Column types and the data quality report of a freshly parsed table.

Types: `numeric`, `boolean`, `categorical`, `text`, `datetime`, `id`. The rules are deliberately
simple and stated here, because a user reads the report to decide what the model saw:

- missing: None, "" and the usual spellings (NA, N/A, NaN, null, None, #N/A, ?, -, .), and a
  number that is not finite (inf, -Infinity) — `optiloop.models.spellings`, which serving reads
  instances with too, and whose docstring says why an infinity is missing rather than refused;
- boolean: every value a JSON boolean or one of true/false/yes/no/t/f (any case); a column of
  strings keeps its spellings of false and true as `levels` (what a classifier of it answers);
- numeric: every value a number or a string that reads as one in the column's format
  (`optiloop.models.numbers`: plain, `1,234.5` or `1.234,5`, with currency and percent signs),
  where up to three distinct stray words on at most 5% of the values (`unknown`) are read as missing
  and reported (`read_as_missing`);
- datetime: every value an ISO-8601 date or timestamp, or every value one of the other ways tables
  write dates (`03/15/2024`, `15.03.2024 10:30`, `Mar 2024`; `optiloop.models.dateparts`), stored as
  ISO-8601 with the column's `format`; a few stray words (`TBD`) are read as missing, as in a
  numeric column;
- id: unique on every row (at least 20 rows) and either a string without spaces or an integer
  column named like an id (`id`, `*_id`, `*key`, `uuid`, a row label: `rownames`, `index`,
  `Unnamed: 0`, `row`) or counting the rows (0..n-1, 1..n);
- text: strings averaging 30+ characters, or with spaces and mostly unique;
- categorical: any other strings.

The report flags what a modeller would want to know before training: missing values, constant
columns, id-like columns (never used as features), columns that duplicate another, value ranges and
the balance of each low-cardinality column (which is the class balance once it is the target).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import numpy as np

from optiloop.automl.table import Column, Table
from optiloop.models import dateparts, numbers
from optiloop.models.spellings import as_bool as _as_bool
from optiloop.models.spellings import as_text as _str
from optiloop.models.spellings import is_missing as _missing
from optiloop.models.spellings import is_non_finite as _non_finite

# a row label written out with the table (R's `rownames`, pandas' `Unnamed: 0`, `index` or, in Parquet,
# `__index_level_0__`) is an id too: after a shuffle or a split it no longer counts 0..n-1, and as a
# number it is a feature that only memorises the row order
ID_NAME = re.compile(
    r"(^id$|_id$|^.*key$|^uuid$|^row_?names?$|^index$|^unnamed: ?\d+$|^row_?(num|number|no)?$"
    r"|^__index_level_\d+__$)",
    re.IGNORECASE,
)
MIN_ID_ROWS = 20
TEXT_AVG_CHARS = 30
TOP_VALUES = 10


def infer_column(name: str, raw: list[Any], *, comma_hint: bool = False) -> Column:
    """One raw column -> a typed Column (see the module docstring for the rules). `comma_hint`: the
    file's separator was a semicolon (optiloop.models.numbers: how `1,234` is then read)."""
    missing = np.array([_missing(v) for v in raw], dtype=bool)
    present = [v for v, m in zip(raw, missing, strict=True) if not m]
    n = len(raw)
    if present and all(_as_bool(v) is not None for v in present):
        vals = np.array(
            [np.nan if m else float(bool(_as_bool(v))) for v, m in zip(raw, missing, strict=True)]
        )
        return Column(name, "boolean", vals, missing, _spellings(present))
    reading = numbers.infer(present, comma_hint=comma_hint)
    if reading is not None:
        vals = np.full(n, np.nan)
        vals[~missing] = np.array([np.nan if f is None else f for f in reading.values], dtype=np.float64)
        if _numeric_id(name, vals[~missing], n):
            return Column(name, "id", np.array([_str(v) for v in raw], dtype=str), missing)
        return Column(name, "numeric", vals, np.isnan(vals), None, reading.format, reading.missing_as)
    strs = np.array(["" if m else _str(v) for v, m in zip(raw, missing, strict=True)], dtype=str)
    dates = dateparts.infer_format(strs[~missing].tolist()) if present else None
    if dates is not None:
        return _dates(name, strs, missing, dates)
    return Column(name, _string_type(strs[~missing].tolist()), strs, missing)


def _dates(name: str, strs: np.ndarray, missing: np.ndarray, dates: dateparts.DateReading) -> Column:
    """A datetime column from the values `infer_format` read (not parsed again): a stray word is
    missing; a value in another format than ISO-8601 is stored as ISO, the format kept for serving."""
    where = np.flatnonzero(~missing)
    missing = missing.copy()
    missing[where[[d is None for d in dates.values]]] = True
    out = np.where(missing, "", strs).tolist()
    if dates.format:
        for i, d in zip(where.tolist(), dates.values, strict=True):
            if d is not None:
                out[i] = dateparts.iso(d, dates.format)
    values = np.array(out, dtype=str)
    return Column(name, "datetime", values, missing, format=dates.format, missing_as=dates.missing_as)


def _spellings(present: list[Any]) -> tuple[str, str] | None:
    """How a yes/no column spells false and true (the commoner spelling of each), kept as its `levels`
    so a classifier of this column answers `"yes"`/`"no"` as the user wrote them, not true/false.
    None for JSON booleans, or when one side never occurs."""
    if not all(isinstance(v, str) for v in present):
        return None
    sides: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    for v in present:
        sides[bool(_as_bool(v))][v.strip()] += 1
    if not sides[0] or not sides[1]:
        return None
    return sides[0].most_common(1)[0][0], sides[1].most_common(1)[0][0]


def _numeric_id(name: str, vals: np.ndarray, n: int) -> bool:
    if n < MIN_ID_ROWS or vals.size != n or not np.all(vals == np.round(vals)):
        return False
    if np.unique(vals).size != n:
        return False
    counts_rows = bool(np.array_equal(vals, np.arange(n)) or np.array_equal(vals, np.arange(1, n + 1)))
    return counts_rows or bool(ID_NAME.search(name))


def _string_type(strs: list[str]) -> str:
    """The type of a string column from its present values, already stripped (`_str`)."""
    if not strs:
        return "categorical"
    unique = len(set(strs))
    avg = sum(len(s) for s in strs) / len(strs)
    spaced = sum(1 for s in strs if " " in s) / len(strs)
    if avg >= TEXT_AVG_CHARS or (spaced > 0.5 and unique > 0.5 * len(strs) and len(strs) >= MIN_ID_ROWS):
        return "text"
    if unique == len(strs) and len(strs) >= MIN_ID_ROWS and spaced == 0:
        return "id"
    return "categorical"


def non_finite_warnings(raw: dict[str, list[Any]]) -> list[dict[str, str]]:
    """A `non_finite` warning per column holding infinities, which were read as missing: counted
    from the raw cells, since the typed column keeps only the missing mask."""
    out = []
    for name, values in raw.items():
        k = sum(1 for v in values if _non_finite(v))
        if k:
            out.append(
                {"column": name, "kind": "non_finite", "reason": f"{k} infinite values read as missing"}
            )
    return out


def stray_warnings(raw: dict[str, list[Any]], table: Table) -> list[dict[str, str]]:
    """A `read_as_missing` warning per numeric or datetime column whose stray words were read as
    missing (optiloop.models.numbers.read_column), with how many cells: the typed column keeps only
    the missing mask."""
    out = []
    for c in table.columns:
        if c.missing_as and c.name in raw:
            words = set(c.missing_as)
            k = sum(1 for v in raw[c.name] if isinstance(v, str) and v.strip() in words)
            shown = ", ".join(repr(w) for w in c.missing_as)
            out.append(
                {
                    "column": c.name,
                    "kind": "read_as_missing",
                    "reason": f"{k} values ({shown}) read as missing",
                }
            )
    return out


def infer_table(raw: dict[str, list[Any]], *, comma_hint: bool = False) -> Table:
    return Table([infer_column(name, values, comma_hint=comma_hint) for name, values in raw.items()])


def _num(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 10)


def quality_report(table: Table) -> dict[str, Any]:
    """Per column: type, missing, unique, range or top values; and the warnings worth reading."""
    n = table.n_rows
    columns: list[dict[str, Any]] = []
    warnings: list[dict[str, str]] = []
    digests: dict[bytes, str] = {}
    for c in table.columns:
        n_missing = int(c.missing.sum())
        present = c.values[~c.missing]
        unique = int(np.unique(present).size) if present.size else 0
        info: dict[str, Any] = {
            "name": c.name,
            "type": c.type,
            **({"format": c.format} if c.format else {}),
            "missing": n_missing,
            "missing_fraction": round(n_missing / n, 6) if n else 0.0,
            "unique": unique,
        }
        if c.is_numeric and present.size:
            info.update(
                min=_num(float(present.min())),
                max=_num(float(present.max())),
                mean=_num(float(present.mean())),
                std=_num(float(present.std())),
            )
        if c.type in ("categorical", "boolean") or (c.type == "numeric" and unique <= TOP_VALUES):
            counts = Counter(_str(v) if c.is_numeric else str(v) for v in present.tolist())
            info["top_values"] = [
                {"value": v, "count": k, "fraction": round(k / max(1, present.size), 6)}
                for v, k in counts.most_common(TOP_VALUES)
            ]
        columns.append(info)
        if n_missing == n:
            warnings.append({"column": c.name, "kind": "all_missing", "reason": "every value is missing"})
        elif unique <= 1:
            warnings.append({"column": c.name, "kind": "constant", "reason": "one value on every row"})
        elif n_missing / max(1, n) > 0.5:
            warnings.append(
                {"column": c.name, "kind": "mostly_missing", "reason": f"{n_missing} of {n} missing"}
            )
        if c.type == "id":
            warnings.append(
                {"column": c.name, "kind": "id_like", "reason": "unique on every row; never a feature"}
            )
        key = c.values.tobytes() + c.missing.tobytes()
        if key in digests and unique > 1:
            warnings.append(
                {
                    "column": c.name,
                    "kind": "duplicate",
                    "reason": f"identical to column {digests[key]!r}; possibly leaked or redundant",
                }
            )
        digests.setdefault(key, c.name)
    return {"rows": n, "columns": columns, "warnings": warnings}
