"""A datetime cell read as a date or timestamp, and the numbers a model learns from it.

One definition for both sides of a model, like `optiloop.models.spellings`: ingest types a column
`datetime` when every value parses here (`optiloop.automl.infer`), AutoML turns it into these parts
(`optiloop.automl.features`), and serving computes the same parts from a request's raw value
(`Signature.encode`), so a timestamp sent as it sat in the CSV means what it meant at training time.

What parses: an ISO-8601 date or timestamp as Python's `datetime.fromisoformat` reads it (3.11:
`2024-03-01`, `2024-03-01 14:30`, `2024-03-01T14:30:00Z`, offsets such as `+02:00`). A timestamp
with an offset is taken in UTC, one without as it is written (one table does not mix the two in
practice; if it does, the wall-clock reading is what the columns say).

Other ways tables write dates (`03/15/2024`, `15.03.2024`, `15-Mar-2024`, `Mar 2024`, with or
without a time such as `2:30 PM`) parse under one of FORMATS, which ingest picks per column
(`infer_format`: the first in FORMATS that reads every value, so a column is never read half one
way and half another). Why per column and in that order: `03/04/2024` is March 4th in the US and
April 3rd in most other places, and only the column's other values can tell — a `15/03/2024`
anywhere makes it day-first; a column that never says is read month-first, the commoner export.
Ingest stores such a column as ISO-8601 and the model's inputs keep the format, so serving reads a
request's `03/15/2024` as training read it (and an ISO value too, which is never ambiguous).

The parts, and why each: `year` and `days` (days since 1970-01-01, fractional: the trend a model can
extrapolate along; year lets a tree split eras cheaply), `month` and `day` (seasonality within the
year and the month), `weekday` (0 Monday .. 6 Sunday: weekly cycles dominate human activity), `hour`
(plus minutes as a fraction; the daily cycle, when the values carry a time). A part that is constant
in the training rows (`hour` of plain dates, `year` of one year's data) is left out there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from optiloop.models.numbers import read_column

PARTS = ("year", "month", "day", "weekday", "hour", "days")
EPOCH = datetime(1970, 1, 1)


_DAYS = ("%Y/%m/%d", "%m/%d/%Y", "%d/%m/%Y", "%m/%d/%y", "%d/%m/%y", "%d.%m.%Y", "%d.%m.%y",
         "%m-%d-%Y", "%d-%m-%Y", "%d-%b-%Y", "%d-%b-%y", "%d %b %Y", "%d %B %Y", "%b %d %Y",
         "%b %d, %Y", "%B %d %Y", "%B %d, %Y", "%a %b %d %Y")  # fmt: skip
_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p", " %I %p")
_MONTHS = ("%Y-%m", "%Y/%m", "%m/%Y", "%b %Y", "%B %Y", "%b-%y", "%b-%Y")
# every non-ISO way ingest recognises, in the order it tries them (the module docstring says why)
FORMATS: tuple[str, ...] = tuple(d + t for d in _DAYS for t in _TIMES) + _MONTHS
_DATEISH = re.compile(r"^(?=.*\d)[\w /.,:-]{6,40}$")


def parse(v: Any, fmt: str = "") -> datetime | None:
    """The value as a naive datetime (UTC where it had an offset), or None when it is not a date:
    ISO-8601, or `fmt` (one of FORMATS) when the column was written that way."""
    if not isinstance(v, str):
        return None
    if fmt:
        try:
            return datetime.strptime(v.strip(), fmt)
        except ValueError:
            pass  # an ISO value is read under any column's format
    if len(v) < 8 or not ("-" in v or ":" in v):
        return None
    try:
        d = datetime.fromisoformat(v.strip())
    except ValueError:
        return None
    return d.astimezone(UTC).replace(tzinfo=None) if d.tzinfo is not None else d


@dataclass(frozen=True)
class DateReading:
    """How a column of dates is written: `format` ("" ISO-8601, else one of FORMATS), the stray
    words read as missing (`TBD`, `unknown`: the same allowance as a numeric column's,
    optiloop.models.numbers.read_column), and every value as read (None for a stray)."""

    format: str
    missing_as: tuple[str, ...] = ()
    values: list[datetime | None] = field(default_factory=list, compare=False, repr=False)


def infer_format(values: Sequence[str]) -> DateReading | None:
    """ISO-8601 when every value is (but a few strays), else the first of FORMATS that reads them
    all, else None. A column of words costs one failed read per format of a sample value, not one
    per row."""
    if not values:
        return None
    iso = _read_all(values, "")
    if iso is not None:
        return iso
    sample = next((v.strip() for v in values[:20] if _DATEISH.match(v.strip())), None)
    if sample is None:
        return None
    for fmt in FORMATS:
        try:
            datetime.strptime(sample, fmt)
        except ValueError:
            continue
        reading = _read_all(values, fmt)
        if reading is not None:
            return reading
    return None


def _read_all(values: Sequence[str], fmt: str) -> DateReading | None:
    """Every value read in `fmt` (ISO when ""), or None when what does not read is not a few strays."""
    read_ = read_column(values, lambda v: parse(v, fmt))
    return None if read_ is None else DateReading(fmt, read_[1], read_[0])


def has_time(fmt: str) -> bool:
    return "%H" in fmt or "%I" in fmt


def iso(d: datetime, fmt: str) -> str:
    """How ingest stores a value it read under `fmt`: a date alone when the format has no time."""
    return d.isoformat() if has_time(fmt) else d.date().isoformat()


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
