"""Reading a channel's rows: golden-set examples, JSON Lines tables and CSV tables.

A golden-set example (`{"id", "input": {...}, "expected": ..., "metadata"}`, what
optiloop.prompts.datasets stores) becomes the row `input` with the label `expected`. Any other JSON
object is a table row whose label is the `target` field. CSV cells are typed as JSON would type
them: integers, then floats, then `true`/`false`, an empty cell is missing, anything else a string.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from _lib.sm import files


def _cell(v: str) -> Any:
    s = v.strip()
    if s == "":
        return None
    for cast in (int, float):
        try:
            return cast(s)
        except ValueError:
            pass
    if s.lower() in ("true", "false"):
        return s.lower() == "true"
    return s


def read_rows(
    folder: Path, target: str, id_fields: tuple[str, ...] = ()
) -> tuple[list[dict[str, Any]], list[Any]]:
    """(feature rows, labels) of every file in the channel; rows without a label are skipped."""
    rows: list[dict[str, Any]] = []
    labels: list[Any] = []
    for path in files(folder):
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".csv":
            records: list[Any] = [
                {k: _cell(v or "") for k, v in r.items()} for r in csv.DictReader(io.StringIO(text))
            ]
        else:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        for rec in records:
            if not isinstance(rec, dict):
                continue
            if isinstance(rec.get("input"), dict) and "expected" in rec:
                row, label = dict(rec["input"]), rec["expected"]
            else:
                label = rec.get(target)
                row = {k: v for k, v in rec.items() if k != target}
            if label is None:
                continue
            for f in id_fields:
                row.pop(f, None)
            rows.append(row)
            labels.append(label)
    return rows, labels
