"""A free-text cell read as the numbers a model learns from: its length and its frequent words.

One definition for both sides of a model, like `optiloop.models.dateparts`: AutoML turns a text column
into these parts (`optiloop.automl.features`) and serving computes the same parts from a request's
raw text (`Signature.encode`), so a client sends the text as it sat in the table.

The parts: `chars` (its length), `words` (how many words), and `token:<w>`, how many times the word
w occurs, for the words of a vocabulary chosen on the training rows (`vocabulary`): the most frequent
by the number of rows they occur in, on at least MIN_ROWS rows and at most MAX_SHARE of them (a word
in every row says nothing), at most MAX_TOKENS. Why a vocabulary and not hashing: each feature is a
word a person can read in the importance table and the PDP, and the signature lists exactly what the
model reads; the price is that a word outside the vocabulary is not seen, as an unseen category is
not. Words are runs of letters (any script) of two or more, lower-cased; digits are not words.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np

LENGTH_PARTS = ("chars", "words")
TOKEN = "token:"
MAX_TOKENS = 50
MIN_ROWS = 10
MAX_SHARE = 0.5
_WORD = re.compile(r"[^\W\d_]{2,}")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def is_part(name: Any) -> bool:
    return isinstance(name, str) and (
        name in LENGTH_PARTS or (name.startswith(TOKEN) and _WORD.fullmatch(name[len(TOKEN) :]) is not None)
    )


def counted(text: str) -> Counter[str]:
    """A text's words with their counts: what every part of it is read from."""
    return Counter(words(text))


def part(text: str, counts: Counter[str], name: str) -> float:
    """`name`'s value for `text`, whose `counted` words are `counts`."""
    if name == "chars":
        return float(len(text.strip()))
    if name == "words":
        return float(sum(counts.values()))
    return float(counts.get(name[len(TOKEN) :], 0))


def vocabulary(texts: list[str]) -> list[str]:
    """The words to count (see the module docstring), most frequent first, ties alphabetically."""
    return _vocabulary([counted(t) for t in texts])


def _vocabulary(counts: list[Counter[str]]) -> list[str]:
    rows = Counter(w for c in counts for w in c)
    most = max(MIN_ROWS, int(MAX_SHARE * len(counts)))
    kept = [(-n, w) for w, n in rows.items() if MIN_ROWS <= n <= most]
    return [w for _, w in sorted(kept)[:MAX_TOKENS]]


def columns(values: Any, missing: np.ndarray) -> dict[str, np.ndarray]:
    """Every part of a column of texts (the vocabulary's from its present values), NaN where missing;
    each text's words counted once, for the vocabulary and its parts alike."""
    present = [(i, str(v)) for i, (v, m) in enumerate(zip(values, missing, strict=True)) if not m]
    counts = [counted(text) for _, text in present]
    names = [*LENGTH_PARTS, *(TOKEN + w for w in _vocabulary(counts))]
    out = {p: np.full(len(values), np.nan) for p in names}
    for (i, text), c in zip(present, counts, strict=True):
        for p in names:
            out[p][i] = part(text, c, p)
    return out
