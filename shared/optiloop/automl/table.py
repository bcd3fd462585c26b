"""The stored table: `optiloop.table/1`, a columnar `.npz` of plain arrays, and its fingerprint.

Why not Parquet: pyarrow is ~100 MB unpacked, more than the automl Lambda's layer can carry next to
numpy, and the HTTP path must never import it. An `.npz` of typed numpy arrays is columnar, loads
with numpy alone and is read with `allow_pickle=False` (a stored table is user data: no pickles).
Parquet is accepted on ingest where pyarrow is installed; it is converted, not kept.

Each column is one array: numbers (and booleans as 0/1) as float64 with NaN for missing; every
other type as a unicode array plus a boolean `missing` mask. An ordinal column also carries its
levels in order (meta `[name, "ordinal", levels]`), a boolean column read from strings its spellings
of false and true (`[name, "boolean", ["no", "yes"]]`), a column written in another than the plain
spelling its format and stray words (`[name, "datetime", null, {"format": "%d/%m/%Y"}]`). The
fingerprint is a sha256 over the column names, types (levels, formats, where there are any) and
array bytes in order, so it names the content, not the file (the zip container has timestamps).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FORMAT = "optiloop.table/1"
NUMERIC_TYPES = frozenset({"numeric", "boolean"})


@dataclass
class Column:
    name: str
    type: str  # numeric | boolean | categorical | ordinal | text | datetime | id
    values: np.ndarray  # float64 (numeric, boolean) or unicode
    missing: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # ordinal: the levels, lowest first; boolean read from strings: its spellings of (false, true)
    levels: tuple[str, ...] | None = None
    # how the file wrote the values, so serving reads a request's the same way: a datetime's
    # strptime pattern when it was not ISO-8601 (the values are stored as ISO; optiloop.models.dateparts),
    # a number's grouping and decimal mark (optiloop.models.numbers); "" for the plain spelling
    format: str = ""
    # numeric or datetime: the stray words read as missing (optiloop.models.numbers.read_column)
    missing_as: tuple[str, ...] = ()

    @property
    def meta(self) -> list[Any]:
        out: list[Any] = [self.name, self.type]
        extra = {k: v for k, v in (("format", self.format), ("missing_as", list(self.missing_as))) if v}
        if self.levels is not None or extra:
            out.append(None if self.levels is None else list(self.levels))
        if extra:
            out.append(extra)
        return out

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass
class Table:
    columns: list[Column]

    @property
    def n_rows(self) -> int:
        return int(self.columns[0].values.shape[0]) if self.columns else 0

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def fingerprint(self) -> str:
        h = hashlib.sha256(FORMAT.encode())
        for c in self.columns:
            h.update(json.dumps(c.meta).encode())
            h.update(np.ascontiguousarray(c.values).tobytes())
            h.update(np.ascontiguousarray(c.missing).tobytes())
        return "sha256:" + h.hexdigest()

    def to_bytes(self) -> bytes:
        arrays: dict[str, np.ndarray] = {
            "__meta__": np.array(json.dumps({"format": FORMAT, "columns": [c.meta for c in self.columns]}))
        }
        for k, c in enumerate(self.columns):
            arrays[f"v{k}"] = c.values
            arrays[f"m{k}"] = c.missing
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
        return buf.getvalue()


def from_bytes(data: bytes) -> Table:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        meta = json.loads(str(z["__meta__"]))
        if meta.get("format") != FORMAT:
            raise ValueError(f"not an {FORMAT} table")
        return Table(
            [
                Column(
                    name=m[0],
                    type=m[1],
                    values=z[f"v{k}"],
                    missing=z[f"m{k}"],
                    levels=tuple(m[2]) if len(m) > 2 and m[2] is not None else None,
                    format=m[3].get("format", "") if len(m) > 3 else "",
                    missing_as=tuple(m[3].get("missing_as", ())) if len(m) > 3 else (),
                )
                for k, m in enumerate(meta["columns"])
            ]
        )
