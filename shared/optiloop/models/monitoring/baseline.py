"""Reference distributions: what a drift monitor compares served traffic with.

The training baseline (`baseline.json` in the artifact, `Artifact.baseline`) is the agreed shape
written down in `optiloop.models.monitoring` (the package docstring); `build_baseline` writes it
from encoded training rows (numpy only, so a training script can call it), `from_baseline` reads it
back defensively (an artifact is user input: a malformed entry is skipped and reported, never a 500).
A version without one is compared with a reference window of served traffic instead
(`from_window`), which also keeps the raw sample so KS is exact there.

Encoded features are what the signature produces (`Signature.encode`): a category's code is its
index in the input's `categories`, a boolean is 0/1, missing (and, for categories, unseen) is NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal

import numpy as np

from optiloop.models.monitoring import stats
from optiloop.models.signature import Input, Signature

UNSEEN = "__unseen__"  # the bucket of category values training never had (encoded NaN)
PREDICTION = "prediction"  # the baseline entry of the score distribution
BOOLEAN_CATEGORIES = ("false", "true")
MAX_BINS = 1000


@dataclass(frozen=True)
class Reference:
    """One feature's (or the score's) reference: bins and their counts, and the raw sample if known."""

    kind: Literal["numeric", "category"]
    counts: np.ndarray
    edges: tuple[float, ...] = ()  # numeric: k+1 edges for k counts
    categories: tuple[str, ...] = ()  # category: names of counts[0..k-2]; counts[k-1] is UNSEEN
    sample: np.ndarray | None = None  # from a window: the values themselves (exact KS)

    @property
    def n(self) -> int:
        return int(self.counts.sum())


def categories_of(inp: Input) -> tuple[str, ...]:
    if inp.type == "boolean":
        return BOOLEAN_CATEGORIES
    return inp.categories


def is_categorical(inp: Input) -> bool:
    return inp.type in ("category", "boolean")


def category_counts(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """Counts per category code plus the unseen bucket (NaN, or a code out of range) last."""
    v = np.asarray(codes, dtype=np.float64).ravel()
    ok = np.isfinite(v) & (v >= 0) & (v < n_categories)
    counts = np.bincount(v[ok].astype(np.int64), minlength=n_categories).astype(np.float64)
    return np.append(counts[:n_categories], float((~ok).sum()))


def current_counts(ref: Reference, values: np.ndarray) -> np.ndarray:
    """The current window's counts over the reference's bins."""
    if ref.kind == "category":
        return category_counts(values, len(ref.categories))
    return stats.numeric_counts(values, ref.edges)


def score_column(signature: Signature, outputs: np.ndarray) -> tuple[str, np.ndarray]:
    """What prediction drift watches: the positive class's probability (binary), the value
    (regression), or the predicted class code (multiclass: a category distribution)."""
    out = np.asarray(outputs, dtype=np.float64)
    if out.ndim == 1:
        out = out.reshape(-1, 1)
    if signature.task == "multiclass" and out.shape[1] > 1:
        return "category", np.argmax(np.nan_to_num(out, nan=-1.0), axis=1).astype(np.float64)
    return "numeric", out[:, 0] if out.shape[0] else np.zeros(0)


def prediction_categories(signature: Signature) -> tuple[str, ...]:
    return tuple(str(c) for c in signature.classes)


def build_baseline(
    signature: Signature, x: np.ndarray, outputs: np.ndarray | None = None, *, bins: int = 10
) -> dict[str, Any]:
    """The `baseline.json` document for encoded training rows (and the model's outputs on them)."""
    doc: dict[str, Any] = {}
    for c, inp in enumerate(signature.inputs):
        col = x[:, c]
        if is_categorical(inp):
            cats = categories_of(inp)
            counts = category_counts(col, len(cats))
            doc[inp.name] = {
                "type": "category",
                "counts": {name: int(n) for name, n in zip(cats, counts[:-1], strict=True)},
            }
        else:
            edges = stats.quantile_edges(col, bins)
            doc[inp.name] = {
                "type": "numeric",
                "edges": edges,
                "counts": [int(n) for n in stats.numeric_counts(col, edges)],
            }
    if outputs is not None:
        kind, score = score_column(signature, outputs)
        if kind == "category":
            cats = prediction_categories(signature)
            counts = category_counts(score, len(cats))
            doc[PREDICTION] = {
                "type": "category",
                "counts": {name: int(n) for name, n in zip(cats, counts[:-1], strict=True)},
            }
        else:
            edges = stats.quantile_edges(score, bins)
            doc[PREDICTION] = {
                "type": "numeric",
                "edges": edges,
                "counts": [int(n) for n in stats.numeric_counts(score, edges)],
            }
    return doc


def _numeric(entry: Mapping[str, Any]) -> Reference | str:
    edges, counts = entry.get("edges"), entry.get("counts")
    if not isinstance(edges, list) or not 2 <= len(edges) <= MAX_BINS + 1:
        return f"edges must be a list of 2..{MAX_BINS + 1} numbers"
    if not isinstance(counts, list) or len(counts) != len(edges) - 1:
        return "counts must list one count per bin (len(edges) - 1)"
    try:
        e = [float(v) for v in edges]
        n = np.array([float(v) for v in counts], dtype=np.float64)
    except (TypeError, ValueError):
        return "edges and counts must be numbers"
    if not all(math.isfinite(v) for v in e) or any(b < a for a, b in pairwise(e)):
        return "edges must be finite and non-decreasing"
    if not np.all(np.isfinite(n)) or np.any(n < 0) or n.sum() <= 0:
        return "counts must be non-negative with a positive total"
    return Reference("numeric", n, edges=tuple(e))


def _category(entry: Mapping[str, Any], categories: tuple[str, ...]) -> Reference | str:
    counts = entry.get("counts")
    if not isinstance(counts, Mapping):
        return "counts must be an object {category: count}"
    values: list[float] = []
    for name in (*categories, UNSEEN):
        v = counts.get(name, 0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            return f"counts[{name!r}] must be a non-negative number"
        values.append(float(v))
    # categories the signature does not list were unseen to the model, whatever training called them
    extra = sum(
        float(v)
        for k, v in counts.items()
        if k not in categories and k != UNSEEN and isinstance(v, (int, float)) and not isinstance(v, bool)
    )
    values[-1] += extra
    n = np.array(values, dtype=np.float64)
    if n.sum() <= 0:
        return "counts must have a positive total"
    return Reference("category", n, categories=categories)


def _entries(baseline: Mapping[str, Any]) -> Mapping[str, Any]:
    nested = baseline.get("inputs")
    return nested if isinstance(nested, Mapping) else baseline


def from_baseline(
    signature: Signature, baseline: Mapping[str, Any]
) -> tuple[dict[str, Reference], list[str]]:
    """References by input name (and `prediction`), and the problems of entries that were skipped."""
    refs: dict[str, Reference] = {}
    problems: list[str] = []
    entries = _entries(baseline)
    for inp in signature.inputs:
        entry = entries.get(inp.name)
        if entry is None:
            continue
        ref = _parse(entry, categories_of(inp) if is_categorical(inp) else None)
        if isinstance(ref, str):
            problems.append(f"baseline.{inp.name}: {ref}")
        else:
            refs[inp.name] = ref
    entry = baseline.get(PREDICTION)
    if entry is not None and not any(i.name == PREDICTION for i in signature.inputs):
        cats = prediction_categories(signature) if signature.task == "multiclass" else None
        ref = _parse(entry, cats)
        if isinstance(ref, str):
            problems.append(f"baseline.{PREDICTION}: {ref}")
        else:
            refs[PREDICTION] = ref
    return refs, problems


def _parse(entry: Any, categories: tuple[str, ...] | None) -> Reference | str:
    if not isinstance(entry, Mapping):
        return "must be an object"
    if categories is not None:
        if entry.get("type") != "category":
            return "a categorical input needs {'type': 'category', 'counts': {...}}"
        return _category(entry, categories)
    if entry.get("type", "numeric") != "numeric":
        return "a numeric input needs {'type': 'numeric', 'edges': [...], 'counts': [...]}"
    return _numeric(entry)


def from_window(
    signature: Signature, x: np.ndarray, outputs: np.ndarray, *, bins: int = 10
) -> dict[str, Reference]:
    """References from a window of served rows (no baseline): quantile bins of the window itself."""
    refs: dict[str, Reference] = {}
    if x.shape[0] == 0:
        return refs
    for c, inp in enumerate(signature.inputs):
        col = x[:, c]
        if is_categorical(inp):
            cats = categories_of(inp)
            refs[inp.name] = Reference("category", category_counts(col, len(cats)), categories=cats)
        else:
            edges = tuple(stats.quantile_edges(col, bins))
            refs[inp.name] = Reference(
                "numeric", stats.numeric_counts(col, edges), edges=edges, sample=col.copy()
            )
    if outputs.shape[0]:
        kind, score = score_column(signature, outputs)
        if kind == "category":
            cats = prediction_categories(signature)
            refs[PREDICTION] = Reference("category", category_counts(score, len(cats)), categories=cats)
        else:
            edges = tuple(stats.quantile_edges(score, bins))
            refs[PREDICTION] = Reference(
                "numeric", stats.numeric_counts(score, edges), edges=edges, sample=score.copy()
            )
    return refs
