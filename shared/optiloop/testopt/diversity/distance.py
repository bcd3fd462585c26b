"""Distances between tests on a mixed space.

Numeric coordinates use their unit value; wide ranges (see `WideDims`) count both their linear
and their log-ish coordinate, each scaled by 1/sqrt(2), so 1 vs 100 pixels is as far apart as
4000 vs 8000. A categorical coordinate is one-hot scaled by 1/sqrt(2), so two different levels
are exactly 1 apart whatever their order in the enum. Distances are divided by sqrt(d), so
`min_distance` in the API means the same for 3 params and for 30.
"""

from __future__ import annotations

import numpy as np

from optiloop.testopt.sampling.proposals import wide_dims
from optiloop.testopt.space import Space


class Embedding:
    def __init__(self, space: Space) -> None:
        self.wide = wide_dims(space)
        wide = set(self.wide.idx.tolist())
        self.numeric = [j for j, p in enumerate(space.params) if p.is_numeric and j not in wide]
        self.cats = [(j, p.n_levels or 2) for j, p in enumerate(space.params) if not p.is_numeric]
        self.scale = 1.0 / np.sqrt(max(space.dim, 1))

    def __call__(self, U: np.ndarray) -> np.ndarray:
        U = np.atleast_2d(U)
        parts = [U[:, self.numeric]]
        if len(self.wide.idx):
            parts += [U[:, self.wide.idx] / np.sqrt(2.0), self.wide.to_z(U) / np.sqrt(2.0)]
        for j, k in self.cats:
            idx = np.minimum((U[:, j] * k).astype(np.int64), k - 1)
            oh = np.zeros((len(U), k))
            oh[np.arange(len(U)), idx] = 1.0 / np.sqrt(2.0)
            parts.append(oh)
        return np.hstack(parts) * self.scale


def sq_dists(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Pairwise squared Euclidean distances via one matrix product (fast for 1e3 x 1e4)."""
    if not len(A) or not len(B):
        return np.full((len(A), len(B)), np.inf)
    d = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    return np.maximum(d, 0.0)


def min_dist_to(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """For each row of A, the distance to its nearest row of B (inf when B is empty)."""
    if not len(B):
        return np.full(len(A), np.inf)
    return np.sqrt(sq_dists(A, B).min(axis=1))
