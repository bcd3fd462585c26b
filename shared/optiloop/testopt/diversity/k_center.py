"""Greedy k-center selection weighted by score.

Pure farthest-first ignores how promising a candidate is; pure top-k picks near-duplicates.
Each step takes the candidate maximising score + lambda * (distance to everything already chosen
or already tested), among those at least `min_distance` away. If the pool runs dry the threshold
halves, so a batch is never short because the user asked for more spread than the space holds.
"""

from __future__ import annotations

import numpy as np


def select_k_center(
    E: np.ndarray,
    scores: np.ndarray,
    k: int,
    near: np.ndarray,
    min_distance: float = 0.0,
    spread_weight: float = 0.5,
) -> list[int]:
    """`near`: each candidate's distance to the nearest existing test (inf if none); the caller
    computes it once per call, since the history can hold many thousands of tests."""
    n = len(E)
    k = min(k, n)
    if k <= 0:
        return []
    near = np.array(near, dtype=float)
    s = scores - scores.min() if n else scores
    s = s / s.max() if n and s.max() > 0 else np.zeros(n)
    chosen: list[int] = []
    avail = np.ones(n, dtype=bool)
    thr = float(min_distance)
    while len(chosen) < k and avail.any():
        ok = avail & (near >= thr - 1e-12)
        if not ok.any():
            if thr <= 1e-9:
                ok = avail
            else:
                thr /= 2
                continue
        spread = np.where(np.isfinite(near), near, 1.0)
        value = np.where(ok, s + spread_weight * np.minimum(spread, 1.0), -np.inf)
        i = int(np.argmax(value))
        chosen.append(i)
        avail[i] = False
        near = np.minimum(near, np.sqrt(((E - E[i]) ** 2).sum(axis=1)))
    return chosen
