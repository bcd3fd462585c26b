"""Per-dimension value proposals in the unit cube.

Failures and new behaviour cluster at the edges of ranges and at small magnitudes of wide
ranges (1 pixel, 0 replicas, a learning rate of 1e-5), which uniform sampling of a wide range
almost never visits. So each numeric coordinate is drawn from a mixture: uniform, "log-ish"
(dense near the low end of a wide non-negative range), and boundary values (min, max and their
neighbours). Categorical coordinates stay uniform: they have no edges.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal

import numpy as np

from optiloop.testopt.space import Param, Space

Mode = Literal["uniform", "mixed", "boundary"]
# (uniform, log-ish, boundary) probabilities per numeric coordinate
MIXES: dict[str, tuple[float, float, float]] = {
    "uniform": (1.0, 0.0, 0.0),
    "mixed": (0.55, 0.30, 0.15),
    "boundary": (0.35, 0.15, 0.50),
}


def logish_k(p: Param) -> float | None:
    """The stretch of the log-ish transform, or None when the range is not wide and non-negative."""
    if not p.is_numeric or p.log or p.low is None or p.high is None or p.low < 0 or p.high <= p.low:
        return None
    span = p.high - p.low
    floor = 1.0 if p.type == "integer" else span * 1e-4
    if p.high / max(p.low, floor) < 50:
        return None
    return span / floor if p.type == "integer" else 1e4


def logish_to_value(p: Param, z: np.ndarray, k: float) -> np.ndarray:
    return p.low + (p.high - p.low) * np.expm1(z * math.log1p(k)) / k  # type: ignore[operator]


def value_to_logish(p: Param, v: np.ndarray, k: float) -> np.ndarray:
    x = np.clip((np.asarray(v, float) - p.low) / (p.high - p.low), 0.0, 1.0)  # type: ignore[operator]
    return np.log1p(x * k) / math.log1p(k)


@lru_cache(maxsize=4096)
def edge_units(p: Param) -> tuple[float, ...]:
    """Unit coordinates of a numeric param's boundary values: min, max, their neighbours, and 0/1
    when they lie strictly inside the range (sign and identity changes)."""
    lo, hi = float(p.low), float(p.high)  # type: ignore[arg-type]
    if p.type == "integer":
        vals = {lo, hi, min(lo + 1, hi), max(hi - 1, lo)}
    else:
        eps = (hi - lo) * 1e-3
        vals = {lo, hi, lo + eps, hi - eps}
    vals |= {v for v in (0.0, 1.0) if lo < v < hi}
    arr = np.array(sorted(vals))
    return tuple(float(u) for u in np.clip(p.encode(arr), 0.0, np.nextafter(1.0, 0.0)))


def propose(
    space: Space, n: int, rng: np.random.Generator, mode: Mode = "mixed", base: np.ndarray | None = None
) -> np.ndarray:
    """n proposals (n, d). `base` (n, d) replaces the uniform draw (e.g. QMC points)."""
    U = rng.random((n, space.dim)) if base is None else np.array(base, dtype=float)
    pu, pl, pb = MIXES[mode]
    for j, p in enumerate(space.params):
        if not p.is_numeric or mode == "uniform":
            continue
        r = rng.random(n)
        k = logish_k(p)
        if k is not None:
            sel = r >= pu
            sel &= r < pu + pl
            if sel.any():
                v = logish_to_value(p, rng.random(int(sel.sum())), k)
                U[sel, j] = p.encode(v)
            bsel = r >= pu + pl
        else:
            bsel = r >= 1.0 - pb
        if bsel.any():
            edges = np.array(edge_units(p))
            U[bsel, j] = edges[rng.integers(0, len(edges), int(bsel.sum()))]
    return U


class WideDims:
    """The wide non-negative numeric params of a space and their log-ish coordinate.

    Samplers mostly work in the unit cube, which is linear in each param; on a range like
    1..8192, a step that is small in unit space is still hundreds of units, and 1, 10 and 100 all
    look alike. Distances, surrogate inputs and mutation steps therefore also see the log-ish
    coordinate of these params.
    """

    def __init__(self, space: Space) -> None:
        self.space = space
        self.dims = [(j, p, k) for j, p in enumerate(space.params) if (k := logish_k(p)) is not None]
        self.idx = np.array([j for j, _, _ in self.dims], dtype=np.int64)

    def to_z(self, U: np.ndarray) -> np.ndarray:
        """(n, len(dims)) log-ish coordinates of the wide params of unit points U."""
        if not self.dims:
            return np.empty((len(U), 0))
        batch_cols = self.space.decode(U).cols
        return np.stack(
            [value_to_logish(p, batch_cols[p.name].astype(float), k) for _, p, k in self.dims], axis=1
        )

    def set_z(self, U: np.ndarray, Z: np.ndarray, which: np.ndarray) -> np.ndarray:
        """U with the wide params moved to log-ish coordinates Z where `which` (n, len(dims)) is set."""
        out = U.copy()
        for c, (j, p, k) in enumerate(self.dims):
            rows = which[:, c]
            if rows.any():
                out[rows, j] = p.encode(logish_to_value(p, np.clip(Z[rows, c], 0.0, 1.0), k))
        return out


@lru_cache(maxsize=256)
def wide_dims(space: Space) -> WideDims:
    return WideDims(space)
