"""Numbers as people write them in tables: grouped digits, a decimal comma, a currency or a percent.

One definition for both sides of a model, like `optiloop.models.spellings`: ingest recognises a
column's format (`infer`) and stores its values as floats, and serving reads a request's string for
that input with the same format (`read`), so `"1.234,50 €"` sent back as it sat in the CSV means
1234.5 at training time and at predict time.

Formats (a column has one, recorded on the column and on the model's input):

- `""`: what `float()` reads (`1234.5`, `-3e4`); no grouping, no symbols;
- `"1,234.5"`: a decimal point, optional comma grouping in threes, and optional currency symbols
  ($ € £ ¥ ₹) before or after and a percent sign after (`$1,234.50`, `12.5%`: 12.5, the number as
  written, not 0.125 — scaling is the model's business);
- `"1.234,5"`: a decimal comma (what spreadsheets in most of Europe export), optional grouping by
  dots or spaces (`1.234,5`, `1 234,5`), and the same symbols.

Why a column's format is decided from all its values, and how: `1,234` is 1234 in one locale and
1.234 in the other. A format fits a column when every value reads under it; when only one of the
two fits (`1,5` or `1.234,56`: decimal comma; `1,234.56`: point), that one; when both do (every
value `1,234`-shaped), the file's hint decides — a semicolon-separated file is a decimal-comma
locale's export (the reason spreadsheets there use semicolons) — and without one the point.

A handful of stray words in an otherwise numeric column (`unknown`, `n.a.`, `#VALUE!`: at most
MAX_STRAY distinct ones on at most STRAY_SHARE of the values) are read as missing instead of making
the whole column a category of hundreds of numbers-as-strings, which the search cannot use. Which
words those were is recorded (`missing_as`), so serving reads them as missing too and the quality
report says so; any other word in a request is still a 422.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

PLAIN, POINT, COMMA = "", "1,234.5", "1.234,5"
FORMATS = (PLAIN, POINT, COMMA)
MAX_STRAY = 3  # distinct stray words read as missing in a numeric column
STRAY_SHARE = 0.05  # of the column's present values, at most
MIN_NUMBERS = 20  # present values that read (as numbers, as dates) before strays are forgiven
T = TypeVar("T")

_SYMBOLS = "$€£¥₹"
_AFFIXED = re.compile(rf"^\s*([+-]?)\s*[{_SYMBOLS}]?\s*([+-]?)\s*(.*?)\s*[{_SYMBOLS}%]?\s*$")
_POINT = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_COMMA = re.compile(r"^(\d{1,3}([.\u00a0\u202f ]\d{3})+|\d+)(,\d+)?$")


def _core(s: str) -> tuple[str, str] | None:
    """(sign, digits) of a string with its currency, percent and sign stripped."""
    m = _AFFIXED.match(s)
    if m is None:
        return None
    sign = m.group(1) or m.group(2)
    return sign, m.group(3)


def read(v: Any, fmt: str = PLAIN) -> float | None:
    """A finite float from a number, or a string written in `fmt`; None when it does not read.
    A string that plain `float()` reads always reads (a client may send `"1234.5"` to a model of a
    decimal-comma column: the dot cannot be a grouping there, three digits would follow it)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        f = float(v)
        return f if math.isfinite(f) else None
    if not isinstance(v, str):
        return None
    try:
        f = float(v)
        if fmt == PLAIN or not _grouped(v, fmt):
            return f if math.isfinite(f) else None
    except ValueError:
        if fmt == PLAIN:
            return None
    core = _core(v)
    if core is None:
        return None
    sign, digits = core
    if fmt == POINT and _POINT.match(digits):
        return float(sign + digits.replace(",", ""))
    if fmt == COMMA and _COMMA.match(digits):
        return float(sign + re.sub(r"[.\u00a0\u202f ]", "", digits).replace(",", "."))
    return None


def _grouped(v: str, fmt: str) -> bool:
    """Whether a float()-readable string is really a grouped number in `fmt` (`1.234` in a
    decimal-comma column is 1234)."""
    return fmt == COMMA and bool(re.fullmatch(r"\s*[+-]?\d{1,3}(\.\d{3})+\s*", v))


@dataclass(frozen=True)
class Reading:
    """A column read as numbers: its format, the stray words read as missing, and the values (None
    for a stray)."""

    format: str
    missing_as: tuple[str, ...]
    values: list[float | None]


def infer(present: Sequence[Any], *, comma_hint: bool = False) -> Reading | None:
    """The format that reads the column's present values as numbers (the module docstring says how
    it is chosen), forgiving a few stray words; None when the column is not numeric. Plain first: a
    plain numeric column (most of them) never pays for weighing the grouped formats. A column of
    words costs a few reads per format, not one per row: a format is dropped at its fourth distinct
    stray or once the strays pass their share."""
    if not present:
        return None
    reading = _read_all(present, PLAIN)
    if reading is not None:
        return reading
    for fmt in _grouped_formats(present, comma_hint):
        reading = _read_all(present, fmt)
        if reading is not None:
            return reading
    return None


def _read_all(present: Sequence[Any], fmt: str) -> Reading | None:
    """Every value read in `fmt`, or None when the words that do not read are not a few strays."""
    read_ = read_column(present, lambda v: read(v, fmt))
    return None if read_ is None else Reading(fmt, read_[1], read_[0])


def read_column(
    values: Sequence[Any], reader: Callable[[Any], T | None]
) -> tuple[list[T | None], tuple[str, ...]] | None:
    """Every value through `reader` (None where it does not read), and the stray words among them,
    sorted; None when what does not read is more than a few strays (the module docstring's
    allowance, which a date column shares: optiloop.models.dateparts). A word with a digit is never
    a stray: it is a value written another way (`1,5` among points, `2024-13-45` among dates), and
    reading it as missing would lose it. A column of words stops at its fourth distinct one."""
    limit = STRAY_SHARE * len(values)
    out: list[T | None] = []
    bad: Counter[str] = Counter()
    for v in values:
        got = reader(v)
        out.append(got)
        if got is None:
            word = str(v).strip()
            bad[word] += 1
            if len(bad) > MAX_STRAY or bad.total() > limit or any(ch.isdigit() for ch in word):
                return None
    if bad and len(values) - bad.total() < MIN_NUMBERS:
        return None
    return out, tuple(sorted(bad))


def _grouped_formats(present: Sequence[Any], comma_hint: bool) -> list[str]:
    """The two grouped formats, the one the values' evidence favours first (the module docstring)."""
    point = comma = 0
    for v in present[:2000]:
        core = _core(v) if isinstance(v, str) else None
        if core is None:
            continue
        d = core[1]
        if _POINT.match(d) and not _COMMA.match(d):
            point += 1
        elif _COMMA.match(d) and not _POINT.match(d):
            comma += 1
    if comma > point or (comma == point and comma_hint):
        return [COMMA, POINT]
    return [POINT, COMMA]
