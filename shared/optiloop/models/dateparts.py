"""A datetime cell read as a date or timestamp, and the numbers a model learns from it.

One definition for both sides of a model, like `optiloop.models.spellings`: ingest types a column
`datetime` when every value parses here (`optiloop.automl.infer`), AutoML turns it into these parts
(`optiloop.automl.features`), and serving computes the same parts from a request's raw value
(`Signature.encode`), so a timestamp sent as it sat in the CSV means what it meant at training time.

What parses: an ISO-8601 date or timestamp as Python's `datetime.fromisoformat` reads it (3.11:
`2024-03-01`, `2024-03-01 14:30`, `2024-03-01T14:30:00Z`, offsets such as `+02:00`). A timestamp
with an offset is taken in UTC, one without as it is written (one table does not mix the two in
practice; if it does, the wall-clock reading is what the columns say).

The parts, and why each: `year` and `days` (days since 1970-01-01, fractional: the trend a model can
extrapolate along; year lets a tree split eras cheaply), `month` and `day` (seasonality within the
year and the month), `weekday` (0 Monday .. 6 Sunday: weekly cycles dominate human activity), `hour`
(plus minutes as a fraction; the daily cycle, when the values carry a time). A part that is constant
in the training rows (`hour` of plain dates, `year` of one year's data) is left out there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

PARTS = ("year", "month", "day", "weekday", "hour", "days")
EPOCH = datetime(1970, 1, 1)


def parse(v: Any) -> datetime | None:
    """The value as a naive datetime (UTC where it had an offset), or None when it is not a date."""
    if not isinstance(v, str) or len(v) < 8 or not ("-" in v or ":" in v):
        return None
    try:
        d = datetime.fromisoformat(v.strip())
    except ValueError:
        return None
    return d.astimezone(UTC).replace(tzinfo=None) if d.tzinfo is not None else d


def part(d: datetime, name: str) -> float:
    if name == "year":
        return float(d.year)
    if name == "month":
        return float(d.month)
    if name == "day":
        return float(d.day)
    if name == "weekday":
        return float(d.weekday())
    if name == "hour":
        return d.hour + d.minute / 60.0
    if name == "days":
        return (d - EPOCH).total_seconds() / 86400.0
    raise ValueError(f"unknown date part {name!r}")


def columns(values: Any, missing: np.ndarray) -> dict[str, np.ndarray]:
    """Every part of a column of strings, NaN where a value is missing or does not parse."""
    out = {p: np.full(len(values), np.nan) for p in PARTS}
    for i, v in enumerate(values):
        d = None if missing[i] else parse(v)
        if d is not None:
            for p in PARTS:
                out[p][i] = part(d, p)
    return out
