"""A list that keeps only its newest items but indexes them as if it kept them all.

A project's history grows without bound (10K-10M tests), while what suggest reads of it is the
newest part and a few sufficient statistics. `Window` holds the newest items of an append-only
sequence; item `i` is still the i-th ever appended, so code that remembers positions ("I have
read the first n runs") keeps working across compactions, and `len()` counts everything ever
appended. Reading a position that was dropped raises IndexError; a slice that starts before the
retained part starts at its first retained item (check `base` where that matters).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar, overload

T = TypeVar("T")


class Window(Generic[T]):
    def __init__(self, items: Iterable[T] = ()) -> None:
        self._items: list[T] = list(items)
        self.base = 0  # absolute position of the first retained item (= how many were dropped)

    def __len__(self) -> int:
        return self.base + len(self._items)

    @property
    def retained(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    @overload
    def __getitem__(self, i: int) -> T: ...

    @overload
    def __getitem__(self, i: slice) -> list[T]: ...

    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1:
                raise ValueError("Window slices take step 1")
            return self._items[max(start - self.base, 0) : max(stop - self.base, 0)]
        n = len(self)
        j = i + n if i < 0 else i
        if not self.base <= j < n:
            raise IndexError(f"position {i} is not retained (retained: {self.base}..{n - 1})")
        return self._items[j - self.base]

    def append(self, item: T) -> None:
        self._items.append(item)

    def extend(self, items: Iterable[T]) -> None:
        self._items.extend(items)

    def drop_before(self, position: int) -> list[T]:
        """Forget every item before absolute `position`; returns the dropped items, oldest first."""
        k = min(max(position - self.base, 0), len(self._items))
        dropped = self._items[:k]
        del self._items[:k]
        self.base += k
        return dropped
