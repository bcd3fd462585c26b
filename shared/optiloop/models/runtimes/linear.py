"""`optiloop.linear/1`: a linear model and its preprocessing as arrays, evaluated by numpy alone.

Why: on small tables plain logistic regression on scaled inputs is often the best model there is
(breast_cancer, wine), and it is a few hundred numbers. The document holds the preprocessing too,
so the predict path turns a signature-encoded row (optiloop.models.signature: category codes, 0/1
booleans, NaN for missing) into the model's inputs itself, exactly as training did:

    {"format": "optiloop.linear/1",
     "n_features": 3, "n_outputs": 1,            # outputs: 1 (binary, regression) or n_classes
     "link": "logistic",                         # identity | logistic | softmax
     "features": [{"kind": "numeric", "impute": 1.5, "center": 1.2, "scale": 0.7},
                  {"kind": "onehot", "n": 4},    # code k -> column k; NaN/unknown -> all zeros
                  {"kind": "numeric", "impute": 0, "center": 0, "scale": 1}],
     "coef": [[...width...]],                    # n_outputs rows over the expanded columns
     "intercept": [0.1]}

A numeric input: NaN -> `impute`, then `(x - center) / scale`. The expanded width is one column per
numeric input plus `n` per one-hot input, in input order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models.runtimes.links import LINKS, apply_link, model_document

FORMAT = "optiloop.linear/1"

MAX_WIDTH = 1_000_000


def _bad(reason: str) -> InvalidInput:
    return InvalidInput(FieldProblem("artifact.model_file", reason))


class LinearPrep:
    """The preprocessing half: encoded inputs -> the expanded, scaled matrix the weights read."""

    def __init__(self, features: list[dict[str, Any]]) -> None:
        self.features = features
        self.n_features = len(features)
        num_idx, centers, scales, imputes, hot_idx, hot_n = [], [], [], [], [], []
        for j, f in enumerate(features):
            kind = f.get("kind")
            if kind == "numeric":
                vals = [float(f["impute"]), float(f["center"]), float(f["scale"])]
                if not all(math.isfinite(v) for v in vals) or vals[2] == 0:
                    raise _bad(f"features[{j}]: impute, center and a non-zero scale must be finite")
                num_idx.append(j)
                imputes.append(vals[0])
                centers.append(vals[1])
                scales.append(vals[2])
            elif kind == "onehot":
                n = int(f["n"])
                if n < 1:
                    raise _bad(f"features[{j}]: n must be >= 1")
                hot_idx.append(j)
                hot_n.append(n)
            else:
                raise _bad(f"features[{j}].kind must be numeric or onehot")
        self._num = np.asarray(num_idx, dtype=np.int64)
        self._impute = np.asarray(imputes, dtype=np.float64)
        self._center = np.asarray(centers, dtype=np.float64)
        self._scale = np.asarray(scales, dtype=np.float64)
        self._hot = list(zip(hot_idx, hot_n, strict=True))
        # column offsets in input order, so the expanded layout is stable and documented
        self._offset: dict[int, int] = {}
        w = 0
        for j, f in enumerate(features):
            self._offset[j] = w
            w += 1 if f["kind"] == "numeric" else int(f["n"])
        self.width = w
        if w > MAX_WIDTH:
            raise _bad(f"expands to more than {MAX_WIDTH} columns")

    @classmethod
    def fit(cls, x: np.ndarray, kinds: list[tuple[str, int]]) -> LinearPrep:
        """From training rows: kinds[j] = ("numeric", 0) or ("onehot", n_categories)."""
        feats: list[dict[str, Any]] = []
        for j, (kind, n) in enumerate(kinds):
            if kind == "onehot":
                feats.append({"kind": "onehot", "n": int(n)})
                continue
            col = x[:, j]
            ok = col[~np.isnan(col)]
            mean = float(ok.mean()) if ok.size else 0.0
            std = float(ok.std()) if ok.size else 0.0
            feats.append(
                {"kind": "numeric", "impute": mean, "center": mean, "scale": std if std > 0 else 1.0}
            )
        return cls(feats)

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"expected (rows, {self.n_features}) features, got {x.shape}")
        out = np.zeros((x.shape[0], self.width), dtype=np.float64)
        if self._num.size:
            v = x[:, self._num]
            v = np.where(np.isnan(v), self._impute, v)
            cols = np.asarray([self._offset[int(j)] for j in self._num], dtype=np.int64)
            out[:, cols] = (v - self._center) / self._scale
        rows = np.arange(x.shape[0])
        for j, n in self._hot:
            code = x[:, j]
            ok = ~np.isnan(code) & (code >= 0) & (code < n) & (code == np.floor(code))
            out[rows[ok], self._offset[j] + code[ok].astype(np.int64)] = 1.0
        return out


def read_head(doc: dict[str, Any], fmt: str, kind: str) -> tuple[int, str, LinearPrep]:
    """What `optiloop.linear/1` and `optiloop.mlp/1` documents share, read and checked once: the
    format, n_outputs, the link and the preprocessing (whose feature count must be n_features)."""
    if doc.get("format") != fmt:
        raise _bad(f"format must be {fmt!r}")
    try:
        n_outputs, link = int(doc["n_outputs"]), str(doc["link"])
        prep = LinearPrep(list(doc["features"]))
        n_features = int(doc["n_features"])
    except (KeyError, TypeError, ValueError) as e:
        raise _bad(f"is not a complete {kind} document ({e})") from e
    if n_features != prep.n_features:
        raise _bad(f"n_features is {n_features} but {prep.n_features} features are described")
    if link not in LINKS:
        raise _bad(f"link must be one of {', '.join(LINKS)}")
    if link == "softmax" and n_outputs < 2:
        raise _bad("softmax needs n_outputs >= 2")
    return n_outputs, link, prep


class LinearPredictor:
    """Fitted from an `optiloop.linear/1` document; `predict(x)` -> (rows, n_outputs) after the link."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.n_outputs, self.link, self.prep = read_head(doc, FORMAT, "linear")
        self.n_features = self.prep.n_features
        try:
            self.coef = np.asarray(doc["coef"], dtype=np.float64)
            self.intercept = np.asarray(doc["intercept"], dtype=np.float64).reshape(-1)
        except (KeyError, TypeError, ValueError) as e:
            raise _bad(f"is not a complete linear document ({e})") from e
        if self.coef.shape != (self.n_outputs, self.prep.width) or self.intercept.shape != (self.n_outputs,):
            raise _bad(
                f"coef must be {self.n_outputs} x {self.prep.width} and intercept {self.n_outputs} long"
            )
        if not (np.all(np.isfinite(self.coef)) and np.all(np.isfinite(self.intercept))):
            raise _bad("coef and intercept must be finite")

    def margin(self, x: np.ndarray) -> np.ndarray:
        return self.prep.transform(x) @ self.coef.T + self.intercept

    def predict(self, x: np.ndarray) -> np.ndarray:
        return apply_link(self.margin(x), self.link)


def load_linear(data: bytes) -> LinearPredictor:
    return LinearPredictor(model_document(data))
