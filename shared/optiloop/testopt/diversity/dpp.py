"""Greedy MAP inference for a quality-weighted DPP (Chen, Zhang & Zhou, NeurIPS 2018).

L = diag(q) S diag(q) with an RBF similarity S: a batch is likely when its members score well
and are dissimilar. The incremental Cholesky update makes selection O(k^2 n).
"""

from __future__ import annotations

import numpy as np

from optiloop.testopt.diversity.distance import sq_dists


def select_dpp(
    E: np.ndarray,
    scores: np.ndarray,
    k: int,
    near: np.ndarray,
    min_distance: float = 0.0,
    bandwidth: float | None = None,
) -> list[int]:
    """`near`: each candidate's distance to the nearest existing test (inf if none)."""
    n = len(E)
    k = min(k, n)
    if k <= 0:
        return []
    # candidates too close to existing tests lose quality rather than being excluded outright
    s = scores - scores.min()
    q = np.exp(2.0 * (s / s.max() if s.max() > 0 else s))
    if min_distance > 0:
        q = q * np.where(near >= min_distance, 1.0, 1e-3)
    D2 = sq_dists(E, E)
    if bandwidth is None:
        med = np.median(D2[np.triu_indices(n, 1)]) if n > 1 else 1.0
        bandwidth = float(np.sqrt(max(med, 1e-6)))
    L = q[:, None] * np.exp(-D2 / (2 * bandwidth**2)) * q[None, :]
    cis = np.zeros((k, n))
    d2 = np.diag(L).copy()
    chosen: list[int] = []
    j = int(np.argmax(d2))
    while len(chosen) < k:
        chosen.append(j)
        if len(chosen) == k:
            break
        m = len(chosen) - 1
        ej = (L[j] - cis[:m, j] @ cis[:m]) / np.sqrt(max(d2[j], 1e-12))
        cis[m] = ej
        d2 = d2 - ej**2
        d2[chosen] = -np.inf
        j = int(np.argmax(d2))
        if d2[j] <= 1e-10:  # the kernel is exhausted: fill by quality among the rest
            rest = [i for i in np.argsort(-q) if i not in chosen]
            chosen.extend(int(i) for i in rest[: k - len(chosen)])
            break
    return chosen
