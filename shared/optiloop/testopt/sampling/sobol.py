"""A scrambled Sobol' sequence in numpy, and a project's stream of feasible Sobol' points.

QMC without scipy: the Lambda hot path may import numpy only. The direction numbers are Joe and
Kuo's (new-joe-kuo-6.21201, the table scipy.stats.qmc.Sobol uses), stored for 256 dimensions in
`sobol_directions.npz`; points are generated in Gray-code order like scipy's, then scrambled with
a random linear matrix scramble and a digital shift (Owen's LMS + shift), so every seed gives an
independent randomised QMC sequence with Sobol's 2-d projections.

Why a stream: a QMC set is even only as a whole. Constrained spaces reject many points, and
topping a batch up with uniform draws (or starting a new sequence per call) throws away what
makes QMC better than random. `FeasibleStream` is one sequence per project in which the
infeasible points are skipped: its n-th feasible point is a pure function of the space and the
seed, so the project's reference tests continue one low-discrepancy set across calls and
processes, exactly as a Sobol sampler with rejection would.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from importlib import resources

import numpy as np

from optiloop.testopt.space import Space

BITS = 32
MAX_DIM = 256
CHUNK = 2048  # points evaluated per feasibility pass while scanning the stream
MAX_SCAN = 1 << 22  # a stream is never scanned further than this (4M points)


@lru_cache(maxsize=1)
def _directions() -> np.ndarray:
    with resources.files("optiloop.testopt.sampling").joinpath("sobol_directions.npz").open("rb") as f:
        return np.load(f)["v"].astype(np.uint64)  # (MAX_DIM, BITS), most significant bit first


@lru_cache(maxsize=256)
def _scrambled(seed: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Direction numbers after a random lower-triangular (unit diagonal) binary matrix per
    dimension, and the digital shift. Each dimension's matrix acts on the bits of its numbers."""
    rng = np.random.default_rng([seed, 0x50B01])
    V = _directions()[:d]
    pos = np.arange(BITS, dtype=np.uint64)
    bits = (V[:, :, None] >> (BITS - 1 - pos)) & 1  # (d, BITS numbers, BITS bits)
    L = np.tril(rng.integers(0, 2, (d, BITS, BITS), dtype=np.uint64), -1) | np.eye(BITS, dtype=np.uint64)
    new = np.einsum("dnk,drk->dnr", bits, L) & 1  # bit r of each number: XOR of the bits L selects
    out = (new << (BITS - 1 - pos)).sum(axis=2, dtype=np.uint64)
    shift = rng.integers(0, 1 << BITS, d, dtype=np.uint64)
    return out, shift


def scrambled_sobol(n: int, d: int, seed: int, start: int = 0) -> np.ndarray:
    """Points start .. start+n-1 of a d-dimensional scrambled Sobol' sequence (Gray-code order)."""
    if d > MAX_DIM:
        raise ValueError(f"Sobol' directions are stored for at most {MAX_DIM} dimensions")
    V, shift = _scrambled(seed, d)
    idx = np.arange(start, start + n, dtype=np.uint64)
    gray = idx ^ (idx >> np.uint64(1))
    X = np.zeros((n, d), dtype=np.uint64)
    for b in range(BITS):
        on = ((gray >> np.uint64(b)) & np.uint64(1)).astype(bool)
        if on.any():
            X[on] ^= V[:, b]
    X ^= shift
    return (X.astype(np.float64) + 0.5) / float(1 << BITS)  # centred in its cell: never 0 or 1


class FeasibleStream:
    """The feasible points of one scrambled Sobol' sequence over a space, numbered 0, 1, 2, ...

    `take(k, n)` returns the k-th to (k+n-1)-th feasible (snapped) points. Where the scan has
    been is kept as checkpoints, so asking for the next points costs only the new stretch; a
    fresh process rescans once (vectorised, ~1 ms per 2,000 points)."""

    def __init__(self, space: Space, seed: int) -> None:
        self.space, self.seed = space, seed
        self._found: list[np.ndarray] = []  # feasible snapped points in stream order, per chunk
        self._offset = 0  # feasible points before _found[0] (dropped: callers only move forward)
        self._count = 0  # feasible points found so far
        self._scanned = 0  # stream indices scanned so far
        self._lock = threading.Lock()

    def take(self, k: int, n: int) -> np.ndarray:
        with self._lock:
            if k < self._offset:  # asked behind what was kept (an older history): start again
                self._found, self._offset, self._count, self._scanned = [], 0, 0, 0
            while self._count < k + n and self._scanned < MAX_SCAN:
                self._scan()
            if self._count < k + n:  # nothing feasible left within reach: the caller samples
                return np.empty((0, self.space.dim))
            found = np.vstack(self._found) if len(self._found) > 1 else self._found[0]
            found = found[k - self._offset :]  # memory stays O(what is asked for), not O(history)
            self._found, self._offset = [found], k
            return found[:n].copy()

    def _scan(self) -> None:
        U = self.space.snap(scrambled_sobol(CHUNK, self.space.dim, self.seed, self._scanned))
        ok = self.space.feasible(self.space.decode(U))
        self._found.append(U[ok])
        self._count += int(ok.sum())
        self._scanned += CHUNK
