"""`region == 'eu'` / `region in [...]` on an enum column, by object identity.

numpy compares object arrays with one Python-level `==` per row (~20 ns each: the bulk of a
typical relation's time). Decoded string columns hold references to the very string objects of
the parameter's enum tuple, so one integer compare of the column's pointers against the ids of
the matching enum objects answers the test for those rows. Rows that hold any other object (a
column built elsewhere, e.g. from JSON) are compared by value, so the result is always what
`np.equal` would give. Pointers are only compared as integers, never dereferenced, and the enum
tuple is held so its objects' ids cannot be reused while the expression lives.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import numpy as np

_ID_LOOP_MAX = 16  # up to this many enum values, k integer compares beat np.isin's sort


class _Pointers:
    """The PyObject* buffer of a C-contiguous object array, exposed as intp through the array interface."""

    def __init__(self, a: np.ndarray) -> None:
        self._a = a  # the view's base: keeps the column (and so every pointed-to object) alive
        self.__array_interface__ = {
            "shape": a.shape, "typestr": np.dtype(np.intp).str, "version": 3,
            "data": (a.__array_interface__["data"][0], True),
        }


class EnumMatcher:
    """Membership of an enum column in a fixed set of its values (per-column work memoised per evaluation)."""

    def __init__(self, name: str, enum: tuple[Any, ...], values: list[str], negate: bool) -> None:
        self.enum = enum
        self.ids = np.array([id(v) for v in enum], dtype=np.intp)
        self.hits = [j for j, v in enumerate(enum) if v in values]
        self.values = frozenset(values)
        self.negate = negate
        self.key = f"{name}\0pointers"  # \0 cannot occur in a parameter name

    def __call__(self, col: np.ndarray, scratch: MutableMapping[str, Any]) -> np.ndarray:
        eqs, others, a = self._by_identity(col, scratch)
        if eqs is None:  # mostly foreign objects: numpy's value compare is the faster way
            r = np.zeros(a.shape, dtype=bool)
            for v in self.values:
                r |= np.equal(a, v, dtype=bool)
        else:
            r = eqs[self.hits[0]] if self.hits else np.zeros(a.shape, dtype=bool)
            for j in self.hits[1:]:
                r = r | eqs[j]
            if others is not None:
                r = r.copy()
                r[others] = [self._contains(x) for x in a[others].tolist()]
        return ~r if self.negate else r  # the shared eqs arrays are never written to

    def _contains(self, x: Any) -> bool:
        try:
            return x in self.values
        except TypeError:  # unhashable: it cannot equal a string anyway
            return False

    def _by_identity(self, col: np.ndarray, scratch: MutableMapping[str, Any]) -> tuple[Any, Any, np.ndarray]:
        """Per enum value, which rows hold exactly that object; and the rows that hold none of them."""
        hit = scratch.get(self.key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        a = col if col.dtype == object and col.flags.c_contiguous else np.ascontiguousarray(col, dtype=object)
        ptr = np.asarray(_Pointers(a))
        if len(self.ids) <= _ID_LOOP_MAX:
            eqs: list[np.ndarray] | _Lazy = [ptr == i for i in self.ids]
            known = eqs[0].copy()
            for e in eqs[1:]:
                known |= e
        else:
            eqs = _Lazy(ptr, self.ids)
            known = np.isin(ptr, self.ids)
        others = None if known.all() else np.flatnonzero(~known)
        out = (None, None, a) if others is not None and len(others) * 8 > len(a) else (eqs, others, a)
        scratch[self.key] = out
        return out


class _Lazy:
    """Identity masks of a large enum, computed only for the values a comparison asks about."""

    def __init__(self, ptr: np.ndarray, ids: np.ndarray) -> None:
        self.ptr, self.ids = ptr, ids

    def __getitem__(self, j: int) -> np.ndarray:
        return self.ptr == self.ids[j]
