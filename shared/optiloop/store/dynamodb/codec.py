"""Keys and attribute values: how records become DynamoDB items and back, exactly.

The adapter talks to the low-level client with hand-built attribute maps instead of boto3's
TypeSerializer/resource layer: record fields have fixed types, so encoding is a dict literal, and
decoding thousands of history items (``list_since`` on a cold Lambda) skips a generic type walk.

Numbers. A record's float fields are stored as DynamoDB numbers written from ``repr(float)``: the
shortest text that parses back to the same double, so ``float(text)`` gives the value back bit for
bit whatever normalisation DynamoDB applies to the text (it keeps the decimal value). DynamoDB
numbers cover about 1e-130..1e126 in magnitude while doubles reach 5e-324..1.8e308, and the API
accepts, say, a cost of 1e-200 cents; such a value is stored as the same text in a string attribute
(``{"S": "1e-200"}``) instead of being refused or rounded, and read back alike. NaN and infinity have
no DynamoDB form and are refused with ValueError naming the field, as the SQLite adapter refuses
them. JSON fields (params, json_schema, details, buckets) are stored as compact JSON text, which
round-trips any float Python's json does.

Keys. Parts joined by ``#`` are escaped (``%`` -> ``%25``, ``#`` -> ``%23``) so that ids containing
``#`` cannot make two different records share a key. Integers in sort keys (seq, version) are offset
by 2**63 and zero-padded to 20 digits, so text order is numeric order for every int64.
"""

from __future__ import annotations

import json
import math
import operator
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

Item = dict[str, dict[str, Any]]
Key = tuple[str, str]

_INT_OFFSET = 2**63
_MAX_DIGITS = 38  # DynamoDB number precision
_MIN_EXP, _MAX_EXP = -130, 125  # adjusted exponent range of DynamoDB numbers


def esc(part: str) -> str:
    if not isinstance(part, str):
        raise ValueError(f"key part must be a string, got {type(part).__name__}")
    return part.replace("%", "%25").replace("#", "%23")


def join(*parts: str) -> str:
    """Unambiguous composite key text; literal type tags are passed pre-escaped (no ``#`` in them)."""
    return "#".join(parts)


def key_part(value: str, what: str) -> str:
    """An id used in a key: DynamoDB refuses empty key strings, so say which field was empty."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string")
    return esc(value)


def enc_int(n: int, what: str = "value") -> str:
    n = _as_int(n, what)
    if not -_INT_OFFSET <= n < _INT_OFFSET:
        raise ValueError(f"{what} {n} is outside the 64-bit range the store can order")
    return f"{n + _INT_OFFSET:020d}"


def dec_int(text: str) -> int:
    return int(text) - _INT_OFFSET


def _as_int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be an integer, not a boolean")
    try:
        return operator.index(value)  # ints and numpy integers, not floats
    except TypeError:
        raise ValueError(f"{what} must be an integer, got {type(value).__name__}") from None


# -- numbers -----------------------------------------------------------------------------------


def float_text(value: Any, what: str) -> str:
    """The shortest exact text of a finite float field (see module docstring)."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {type(value).__name__}") from None
    if not math.isfinite(f):
        raise ValueError(f"{what} must be finite (DynamoDB numbers have no NaN or infinity), got {f!r}")
    return repr(f)


def in_number_range(text: str) -> bool:
    d = Decimal(text)
    return d.is_zero() or _MIN_EXP <= d.adjusted() <= _MAX_EXP


def float_attr(value: Any, what: str) -> dict[str, str]:
    """A float field's attribute: a number where DynamoDB can hold it, else the same text as a string."""
    text = float_text(value, what)
    return {"N": text} if in_number_range(text) else {"S": text}


def int_text(value: Any, what: str) -> str:
    n = _as_int(value, what)
    if len(str(abs(n))) > _MAX_DIGITS:
        raise ValueError(f"{what} has more than {_MAX_DIGITS} digits")
    return str(n)


def decimal_sum_text(value: float, places: int = 9) -> str:
    """An addend for a running DynamoDB sum, rounded to `places` decimals.

    A sum of doubles as exact decimals can need hundreds of digits (1e20 + 1e-20); DynamoDB numbers
    hold 38. Totals are for budgets, so cost is summed to a billionth of a cent.
    """
    exact = Decimal(float_text(value, "cost"))
    if exact.adjusted() + 1 + places > _MAX_DIGITS - 2:  # leave the running sum some headroom
        raise ValueError(f"cost {value!r} is too large to total (at most 1e26)")
    with localcontext() as ctx:
        ctx.prec = _MAX_DIGITS
        return format(exact.quantize(Decimal(1).scaleb(-places)), "f")


def to_float(attr: dict[str, Any]) -> float:
    return float(attr["N"] if "N" in attr else attr["S"])


def to_int(attr: dict[str, Any]) -> int:
    text = attr["N"]
    try:
        return int(text)
    except ValueError:  # normalised forms such as "1E+2"
        try:
            return int(Decimal(text))
        except InvalidOperation:  # pragma: no cover - DynamoDB only returns valid numbers
            raise ValueError(f"not an integer: {text!r}") from None


# -- attribute builders -------------------------------------------------------------------------


def S(value: str) -> dict[str, str]:
    return {"S": value}


def N(text: str) -> dict[str, str]:
    return {"N": text}


def json_text(value: Any) -> str:
    """Compact, non-ASCII kept: identical to the SQLite adapter's JSON columns."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def opt_s(item: Item, name: str, value: str | None) -> None:
    """A None field is an absent attribute (DynamoDB has NULL, but absent keeps sparse GSIs sparse)."""
    if value is not None:
        item[name] = {"S": value}


def get_s(item: Item, name: str) -> str | None:
    attr = item.get(name)
    return None if attr is None else attr.get("S")


def item_size(item: Item) -> int:
    """Upper-bound estimate of DynamoDB's item size (names + values, UTF-8), for chunking and limits."""
    total = 0
    for name, attr in item.items():
        total += len(name.encode()) + 1
        for tag, v in attr.items():
            if tag in ("S", "N"):
                total += len(v.encode())
            elif tag == "BOOL" or tag == "NULL":
                total += 1
            else:  # pragma: no cover - the adapter writes S, N and BOOL only
                total += len(json.dumps(v))
    return total
