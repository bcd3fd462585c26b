"""`optiloop.trees/1`: gradient-boosted trees as arrays, evaluated by numpy alone.

Why our own format: the predict Lambda may import numpy but not xgboost (1.1 s import, ~200 µs a
row) or scikit-learn; an ensemble of binary trees is small data, and evaluating it for a whole batch
at once — every row walks every tree one level per step — is a handful of vectorised gathers.

    {"format": "optiloop.trees/1",
     "n_features": 12, "n_outputs": 1,          # outputs: 1 (binary, regression) or n_classes
     "base_margin": [0.0],                        # added to each output's sum of leaves
     "link": "logistic",                          # identity | logistic | softmax
     "trees": [{"output": 0,                      # which output this tree adds to
                "feature":   [3, 0, 0],           # split feature per node (ignored at leaves)
                "threshold": [0.5, 0, 0],         # go left iff x[feature] < threshold
                "left":      [1, -1, -1],         # -1 marks a leaf
                "right":     [2, -1, -1],
                "default_left": [1, 0, 0],        # where a missing value (NaN) goes
                "value":     [0, -0.4, 0.3]}]}    # leaf values (margin contributions)

The split rule is XGBoost's: `float32(x) < float32(threshold)` goes left (XGBoost casts features
and split values to float32, and a split value is often a training value itself, so comparing in
float64 sends exactly those rows the wrong way). Exporters of other libraries adjust thresholds to
it (scikit-learn's `x <= t` becomes `x < nextafter(float32(t), inf)`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models.runtimes.links import LINKS, apply_link, model_document

FORMAT = "optiloop.trees/1"

MAX_TREES = 20_000
MAX_NODES = 5_000_000
CHUNK_ROWS = 2048  # rows evaluated together: (rows x trees) int arrays stay a few MB


def _bad(reason: str, field: str = "artifact.model_file") -> InvalidInput:
    return InvalidInput(FieldProblem(field, reason))


class TreesPredictor:
    """Fitted from an `optiloop.trees/1` document; `predict(x)` -> (rows, n_outputs) after the link."""

    def __init__(self, doc: dict[str, Any]) -> None:
        if doc.get("format") != FORMAT:
            raise _bad(f"format must be {FORMAT!r}")
        try:
            self.n_features = int(doc["n_features"])
            self.n_outputs = int(doc["n_outputs"])
            self.link = str(doc["link"])
            base = np.asarray(doc["base_margin"], dtype=np.float64).reshape(-1)
            trees = doc["trees"]
        except (KeyError, TypeError, ValueError) as e:
            raise _bad(f"is not a complete trees document ({e})") from e
        if self.link not in LINKS:
            raise _bad(f"link must be one of {', '.join(LINKS)}")
        if self.n_outputs < 1 or base.shape != (self.n_outputs,) or self.n_features < 1:
            raise _bad("n_features >= 1, n_outputs >= 1 and one base_margin per output are required")
        if self.link == "softmax" and self.n_outputs < 2:
            raise _bad("softmax needs n_outputs >= 2")
        if not isinstance(trees, list) or not trees or len(trees) > MAX_TREES:
            raise _bad(f"trees must be a list of 1..{MAX_TREES} trees")
        self.base = base
        self._pack(trees)

    def _pack(self, trees: list[Any]) -> None:
        sizes = []
        for t in trees:
            if not isinstance(t, dict) or not isinstance(t.get("left"), list):
                raise _bad("each tree needs feature, threshold, left, right, default_left, value lists")
            sizes.append(len(t["left"]))
        m = max(sizes)
        n_t = len(trees)
        if n_t * m > MAX_NODES:
            raise _bad(f"more than {MAX_NODES} padded nodes")
        feat = np.zeros((n_t, m), dtype=np.int64)
        thr = np.zeros((n_t, m), dtype=np.float32)
        left = np.zeros((n_t, m), dtype=np.int64)
        right = np.zeros((n_t, m), dtype=np.int64)
        dleft = np.zeros((n_t, m), dtype=bool)
        val = np.zeros((n_t, m), dtype=np.float64)
        leaf = np.ones((n_t, m), dtype=bool)
        out = np.zeros(n_t, dtype=np.int64)
        depth = 0
        for i, t in enumerate(trees):
            n = sizes[i]
            try:
                f = np.asarray(t["feature"], dtype=np.int64)
                th = np.asarray(t["threshold"], dtype=np.float64)
                le = np.asarray(t["left"], dtype=np.int64)
                ri = np.asarray(t["right"], dtype=np.int64)
                dl = np.asarray(t["default_left"], dtype=bool)
                va = np.asarray(t["value"], dtype=np.float64)
                out[i] = int(t.get("output", 0))
            except (KeyError, TypeError, ValueError) as e:
                raise _bad(f"tree {i} is malformed ({e})") from e
            if any(a.shape != (n,) for a in (f, th, le, ri, dl, va)):
                raise _bad(f"tree {i}: its node lists differ in length")
            is_leaf = le < 0
            inner = ~is_leaf
            if (
                np.any((le[inner] <= 0) | (le[inner] >= n) | (ri[inner] <= 0) | (ri[inner] >= n))
                or np.any((f[inner] < 0) | (f[inner] >= self.n_features))
                or not np.all(np.isfinite(va[is_leaf]))
                or np.any(np.isnan(th[inner]))
                or not 0 <= out[i] < self.n_outputs
            ):
                raise _bad(f"tree {i}: a child, feature, output or leaf value is out of range")
            feat[i, :n] = np.where(inner, f, 0)
            thr[i, :n] = th
            left[i, :n] = np.where(inner, le, np.arange(n))
            right[i, :n] = np.where(inner, ri, np.arange(n))
            dleft[i, :n] = dl
            val[i, :n] = np.where(is_leaf, va, 0.0)
            leaf[i, :n] = is_leaf
            depth = max(depth, _depth(le, ri))
        offs = (np.arange(n_t, dtype=np.int64) * m)[None, :]
        self._offs = offs
        self._m = m
        # flat arrays: node k of tree t lives at t*m + k; children are stored as flat indices too
        self._feat = feat.reshape(-1)
        self._thr = thr.reshape(-1)
        self._left = (left + offs.T).reshape(-1)
        self._right = (right + offs.T).reshape(-1)
        self._dleft = dleft.reshape(-1)
        self._val = val.reshape(-1)
        self._depth = depth
        self._onehot = np.zeros((n_t, self.n_outputs), dtype=np.float64)
        self._onehot[np.arange(n_t), out] = 1.0
        self.n_trees = n_t

    def margin(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"expected (rows, {self.n_features}) features, got {x.shape}")
        out = np.empty((x.shape[0], self.n_outputs), dtype=np.float64)
        for lo in range(0, x.shape[0], CHUNK_ROWS):
            xs = x[lo : lo + CHUNK_ROWS].astype(np.float32)
            rows = np.arange(xs.shape[0])[:, None]
            node = np.broadcast_to(self._offs, (xs.shape[0], self.n_trees)).copy()
            for _ in range(self._depth):
                v = xs[rows, self._feat[node]]
                go_left = np.where(np.isnan(v), self._dleft[node], v < self._thr[node])
                node = np.where(go_left, self._left[node], self._right[node])
            out[lo : lo + CHUNK_ROWS] = self._val[node] @ self._onehot
        return out + self.base

    def predict(self, x: np.ndarray) -> np.ndarray:
        return apply_link(self.margin(x), self.link)


def _depth(left: np.ndarray, right: np.ndarray) -> int:
    """Longest root-to-leaf path (in edges), walked one level at a time with numpy (a node at a
    time in Python took ~7 ms for a 5,000-node tree: seconds for a forest, at every load); refuses
    cycles and shared nodes, which a hostile file could hold: they visit more nodes than there are."""
    level = np.zeros(1, dtype=np.int64)
    seen, depth = 0, -1
    while level.size:
        seen += level.size
        if seen > len(left):
            raise _bad("a tree's child links form a cycle or share nodes")
        depth += 1
        inner = level[left[level] >= 0]
        level = np.concatenate([left[inner], right[inner]])
    return depth


def load_trees(data: bytes) -> TreesPredictor:
    return TreesPredictor(model_document(data))
