"""An uploaded file -> raw columns (name -> one value per row, None where missing).

Every refusal is an InvalidInput naming `file` and where the problem is (a ragged CSV row by its
line number, a JSON Lines record by its line), so a user fixes the file instead of guessing. Formats
are chosen by the file's name, else by its first bytes; Parquet needs pyarrow, which the HTTP path
of a Lambda does not carry (see optiloop.automl.table for why tables are not kept as Parquet).
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from optiloop.errors import FieldProblem, InvalidInput

MAX_COLUMNS = 2_000
MAX_ROWS = 1_000_000
MAX_NAME = 200
FORMATS = ("csv", "jsonl", "parquet")
RawColumns = dict[str, list[Any]]


def _bad(reason: str, field: str = "file") -> InvalidInput:
    return InvalidInput(FieldProblem(field, reason))


def detect_format(filename: str, data: bytes) -> str:
    name = filename.lower()
    if name.endswith(".parquet") or data[:4] == b"PAR1":
        return "parquet"
    if name.endswith((".jsonl", ".ndjson", ".json")) or data.lstrip()[:1] == b"{":
        return "jsonl"
    return "csv"


def parse(filename: str, data: bytes) -> RawColumns:
    if not data.strip():
        raise _bad("is empty: send a CSV with a header row, JSON Lines or Parquet")
    fmt = detect_format(filename, data)
    cols = {"csv": parse_csv, "jsonl": parse_jsonl, "parquet": parse_parquet}[fmt](data)
    _check_names(list(cols))
    n = len(next(iter(cols.values()))) if cols else 0
    if n == 0:
        raise _bad("has a header but no rows")
    if n > MAX_ROWS:
        raise _bad(f"has {n} rows; at most {MAX_ROWS}")
    return cols


def check_columns(cols: RawColumns, max_rows: int = MAX_ROWS) -> None:
    """Raw columns from anywhere (a parsed file, a SQL result): names, at least one row, at most
    `max_rows` (a connector read's bound, which may be lower than MAX_ROWS). Refusals name `file`."""
    _check_names(list(cols))
    n = len(next(iter(cols.values()))) if cols else 0
    if n == 0:
        raise _bad("has a header but no rows")
    if n > max_rows:
        raise InvalidInput(FieldProblem("max_rows", f"the data has {n} rows; at most {max_rows}"))


def _check_names(names: list[str]) -> None:
    if not names:
        raise _bad("has no columns")
    if len(names) > MAX_COLUMNS:
        raise _bad(f"has {len(names)} columns; at most {MAX_COLUMNS}")
    seen: set[str] = set()
    for k, name in enumerate(names):
        if not name.strip() or len(name) > MAX_NAME:
            raise _bad(f"column {k + 1} needs a name of 1..{MAX_NAME} characters")
        if name in seen:
            raise _bad(f"column name {name!r} appears twice")
        seen.add(name)


CODECS = {"utf-8": "utf-8-sig", "windows-1252": "cp1252", "latin-1": "latin-1"}  # encoding -> codec


def text_encoding(data: bytes) -> str:
    """How a text file is encoded: UTF-8 (a BOM allowed), else Windows-1252, else Latin-1.

    Why a fallback rather than a 422: Excel on Windows writes CSV in the machine's code page, and
    a user whose `größe` or `café` comes from there has no other file to send. Windows-1252 is
    Latin-1 with printable characters where Latin-1 has control codes, so it is tried first; Latin-1
    reads any byte. A file with NUL bytes or a zip's signature (an Excel workbook renamed .csv) is not
    text at all and is refused rather than read as mojibake. The encoding is recorded on the
    dataset's `source`."""
    return _decoded(data)[1]


def _decoded(data: bytes) -> tuple[str, str]:
    """(the text, its encoding): each codec tried once, in `text_encoding`'s order."""
    if b"\x00" in data[:65536] or data[:4] == b"PK\x03\x04":
        raise _bad("is binary, not text (an Excel workbook? save it as CSV)")
    for encoding in ("utf-8", "windows-1252"):
        try:
            return data.decode(CODECS[encoding]), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _text(data: bytes) -> str:
    return _decoded(data)[0]


def describe(filename: str, data: bytes) -> dict[str, str]:
    """What a file was read as, for the dataset's `source`: its format and, for text, its encoding
    and (CSV) its separator — which also decides how `1,234` reads (optiloop.models.numbers). The
    separator is read from the header line alone, as `delimiter` does."""
    fmt = detect_format(filename, data)
    out = {"format": fmt}
    if fmt != "parquet":
        out["encoding"] = text_encoding(data)
    if fmt == "csv":
        out["delimiter"] = delimiter(data.split(b"\n", 1)[0].decode(CODECS[out["encoding"]]))
    return out


DELIMITERS = (",", ";", "\t", "|")


def delimiter(text: str) -> str:
    """The field separator, read from the header line: a comma wherever the header has one; else the
    most frequent of semicolon (what spreadsheets in decimal-comma locales export), tab and pipe.
    Without this a semicolon file is stored as one column named `a;b;y` and its ingest "succeeds".
    Only the header decides: a decimal comma inside a value must not pick the comma."""
    line = text.split("\n", 1)[0]
    unquoted = "".join(part for k, part in enumerate(line.split('"')) if k % 2 == 0)
    if "," in unquoted:
        return ","
    counts = {d: unquoted.count(d) for d in DELIMITERS[1:]}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_csv(data: bytes) -> RawColumns:
    text = _text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        raise _bad("is empty") from None
    except csv.Error as e:
        raise _bad(f"line 1: {e}") from None
    header, unnamed = _named([h.strip() for h in header])
    _check_names(header)
    cols: list[list[Any]] = [[] for _ in header]
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank lines (a trailing newline) are not rows
            if len(row) != len(header):
                raise _bad(
                    f"line {reader.line_num} has {len(row)} fields; the header has {len(header)}",
                )
            for c, v in enumerate(row):
                cols[c].append(v)
            if len(cols[0]) > MAX_ROWS:
                raise _bad(f"has more than {MAX_ROWS} rows")
    except csv.Error as e:
        raise _bad(f"line {reader.line_num}: {e}") from None
    out = dict(zip(header, cols, strict=True))
    for name in unnamed:  # a trailing separator on every line: no column at all
        if all(not v.strip() for v in out[name]):
            del out[name]
    if not out:
        raise _bad("has no columns")
    return out


def _named(header: list[str]) -> tuple[list[str], list[str]]:
    """A header with its empty names filled as pandas fills them (`Unnamed: <position>`), and those
    names. Why not refuse them: `DataFrame.to_csv()` writes the index under an empty name by
    default, so the commonest CSV a data scientist has starts `,a,b`; the filled name is then typed
    as a row label (an id, never a feature: optiloop.automl.infer). An unnamed column with no value
    on any row (every line ending in a separator) is dropped after the rows are read."""
    taken = set(header)
    unnamed = []
    out = []
    for k, h in enumerate(header):
        if not h:
            h = f"Unnamed: {k}"
            while h in taken:
                h += "_"
            taken.add(h)
            unnamed.append(h)
        out.append(h)
    return out, unnamed


def parse_jsonl(data: bytes) -> RawColumns:
    rows: list[dict[str, Any]] = []
    names: dict[str, None] = {}
    for n, line in enumerate(_text(data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise _bad(f"line {n} is not valid JSON: {e.msg} at column {e.colno}") from None
        if not isinstance(obj, dict):
            raise _bad(f"line {n} must be a JSON object (one record per line)")
        for k, v in obj.items():
            if isinstance(v, (dict, list)):
                raise _bad(f"line {n}: field {k!r} is nested; a table holds scalars only")
            names.setdefault(k, None)
        rows.append(obj)
        if len(names) > MAX_COLUMNS:
            raise _bad(f"has more than {MAX_COLUMNS} fields")
        if len(rows) > MAX_ROWS:
            raise _bad(f"has more than {MAX_ROWS} rows")
    if not rows:
        raise _bad("holds no records")
    return {k: [r.get(k) for r in rows] for k in names}


def _scalar(v: Any) -> Any:
    """A Parquet cell as ingest types it: dates and times as ISO text, a decimal (a SQL NUMERIC
    exported as Parquet) as a float rather than text that would make its column a category."""
    if isinstance(v, Decimal):
        return float(v)
    return v.isoformat() if hasattr(v, "isoformat") else v


def parse_parquet(data: bytes) -> RawColumns:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise _bad("is Parquet, which needs pyarrow on the server (pip install 'optiloop[automl]')") from None
    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as e:  # pyarrow raises its own ArrowInvalid/OSError family
        raise _bad(f"is not readable Parquet ({e.__class__.__name__}: {e})") from None
    out: RawColumns = {}
    for name in table.column_names:
        values = table.column(name).to_pylist()
        if any(isinstance(v, (dict, list, bytes)) for v in values):
            raise _bad(f"column {name!r} is nested or binary; a table holds scalars only")
        out[str(name)] = [_scalar(v) for v in values]
    return out
