"""`region == 'eu'` / `region in [...]` on an enum column.

Decoded enum columns are numpy unicode arrays (`<U...`), whose `==` against a string runs in C,
about 5x faster than numpy's element-by-element compare of object arrays. Columns that arrive as
object arrays (built by callers from JSON) still work, through the same comparison, by value.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class EnumMatcher:
    """Membership of an enum column in a fixed set of its values."""

    def __init__(self, values: list[str], negate: bool) -> None:
        self.values = list(dict.fromkeys(values))
        self.negate = negate

    def __call__(self, col: np.ndarray) -> np.ndarray:
        r = np.equal(col, self.values[0], dtype=bool) if col.dtype == object else col == self.values[0]
        for v in self.values[1:]:
            r = r | (np.equal(col, v, dtype=bool) if col.dtype == object else col == v)
        return ~r if self.negate else np.asarray(r, dtype=bool)


def as_str_column(col: Any) -> np.ndarray:
    """A string column as numpy holds it best: unicode arrays as they are, anything else by value."""
    arr = np.asarray(col)
    return arr if arr.dtype.kind in ("U", "O") else arr.astype(object)
