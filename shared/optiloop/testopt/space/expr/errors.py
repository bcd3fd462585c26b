"""The one error the constraint language raises, so callers catch a single type and can show where and how."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ExprError(Exception):
    """A problem with an expression, anchored at a character offset so the UI can point at it.

    `hint` is a concrete fix ("did you mean 'payload_kb'?") when one can be guessed; a user who is
    told what to type fixes the relation in one round trip instead of reading the grammar.
    """

    def __init__(self, message: str, position: int = 0, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.hint = hint

    def __str__(self) -> str:
        out = f"{self.message} (at position {self.position})"
        return f"{out}; {self.hint}" if self.hint else out

    def __repr__(self) -> str:
        return f"ExprError({self.message!r}, position={self.position}, hint={self.hint!r})"


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate a typo most likely meant: exact up to case first, then difflib, then a shared prefix.

    The prefix rule catches 'europe' -> 'eu', which difflib's ratio alone rejects.
    """
    cands = list(dict.fromkeys(candidates))
    low = word.lower()
    for c in cands:
        if c.lower() == low:
            return c
    found = difflib.get_close_matches(word, cands, n=1, cutoff=0.6)
    if found:
        return found[0]
    if len(low) >= 2:
        pref = [c for c in cands if len(c) >= 2 and (low.startswith(c.lower()) or c.lower().startswith(low))]
        if pref:
            return max(pref, key=len)
    return None


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    c = closest(word, candidates)
    return f"did you mean '{c}'?" if c is not None else None
