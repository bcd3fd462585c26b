"""Discretising tests into bins, the unit of combinatorial (t-way) coverage.

Numeric params get interior bins plus their own bins for the exact boundary values, because
"min", "max" and "somewhere inside" behave differently far more often than two inside bins do.
Wide ranges are binned on the log-ish scale the samplers use, so small magnitudes get bins too.
"""

from __future__ import annotations

import numpy as np

from optiloop.testopt.sampling.proposals import edge_units, logish_k, value_to_logish
from optiloop.testopt.space import Space

INTERIOR_BINS = 5


class Binner:
    def __init__(self, space: Space) -> None:
        self.space = space
        self.sizes: list[int] = []
        for p in space.params:
            if p.is_numeric:
                levels = p.n_levels
                self.sizes.append(
                    levels if levels is not None and levels <= INTERIOR_BINS + 2 else INTERIOR_BINS + 2
                )
            else:
                self.sizes.append(p.n_levels or 2)
        self.sizes_arr = np.array(self.sizes, dtype=np.int64)

    def bins(self, U: np.ndarray) -> np.ndarray:
        """(n, d) int bin index per coordinate of snapped unit points."""
        U = np.atleast_2d(U)
        out = np.empty(U.shape, dtype=np.int64)
        batch = None
        for j, p in enumerate(self.space.params):
            u = U[:, j]
            size = self.sizes[j]
            levels = p.n_levels
            if not p.is_numeric or (levels is not None and levels <= INTERIOR_BINS + 2):
                out[:, j] = np.minimum((u * size).astype(np.int64), size - 1)
                continue
            edges = edge_units(p)
            lo_u, hi_u = edges[0], edges[-1]
            k = logish_k(p)
            if k is not None:
                if batch is None:
                    batch = self.space.decode(U)
                c = value_to_logish(p, batch.cols[p.name].astype(float), k)
            else:
                c = u
            b = 1 + np.minimum((c * INTERIOR_BINS).astype(np.int64), INTERIOR_BINS - 1)
            b = np.where(np.isclose(u, lo_u, atol=1e-12), 0, b)
            b = np.where(np.isclose(u, hi_u, atol=1e-12), INTERIOR_BINS + 1, b)
            out[:, j] = b
        return out


class PairCoverage:
    """Which (bin_i, bin_j) combinations of every parameter pair the project's tests have covered."""

    MAX_PAIRS = 2000  # beyond ~63 params, track a fixed random subset of pairs

    def __init__(self, binner: Binner, seed: int = 0) -> None:
        d = len(binner.sizes)
        ii, jj = np.triu_indices(d, k=1)
        if len(ii) > self.MAX_PAIRS:
            pick = np.sort(np.random.default_rng(seed).choice(len(ii), self.MAX_PAIRS, replace=False))
            ii, jj = ii[pick], jj[pick]
        self.i, self.j = ii, jj
        self.width = int(binner.sizes_arr.max()) if d else 1
        self.covered = np.zeros((len(ii), self.width * self.width), dtype=bool)
        self.single = np.zeros((d, self.width), dtype=bool)
        self.total = float(sum(binner.sizes[a] * binner.sizes[b] for a, b in zip(ii, jj, strict=True)))

    def _codes(self, B: np.ndarray) -> np.ndarray:
        return B[:, self.i] * self.width + B[:, self.j]  # (n, n_pairs)

    def add(self, B: np.ndarray) -> None:
        if not len(B):
            return
        codes = self._codes(B)
        rows = np.broadcast_to(np.arange(len(self.i)), codes.shape)
        self.covered[rows.ravel(), codes.ravel()] = True
        cols = np.broadcast_to(np.arange(B.shape[1]), B.shape)
        self.single[cols.ravel(), B.ravel()] = True

    def gain(self, B: np.ndarray) -> np.ndarray:
        """New pairs plus (weighted up) new single bins each row would cover, alone."""
        if not len(B):
            return np.zeros(0)
        new_pairs = (~self.covered[np.arange(len(self.i))[None, :], self._codes(B)]).sum(axis=1)
        new_single = (~self.single[np.arange(B.shape[1])[None, :], B]).sum(axis=1)
        return new_pairs + 3.0 * new_single

    def fraction(self) -> float:
        return float(self.covered.sum() / self.total) if self.total else 1.0
