"""A scrambled Halton sequence in numpy.

QMC without scipy: the Lambda hot path may import numpy only. Random digit permutations per
dimension (Owen-style scrambling at the digit level) break the correlations plain Halton shows
in higher dimensions, and the `start` index lets a project continue its sequence across calls.
"""

from __future__ import annotations

import numpy as np

_PRIMES: list[int] = []


def _primes(k: int) -> list[int]:
    n = 2
    while len(_PRIMES) < k:
        if all(n % p for p in _PRIMES if p * p <= n):
            _PRIMES.append(n)
        n += 1
    return _PRIMES[:k]


def scrambled_halton(n: int, d: int, seed: int, start: int = 0) -> np.ndarray:
    """n points of a d-dimensional scrambled Halton sequence, from index `start` (deterministic)."""
    rng = np.random.default_rng([seed, 0x4A1])
    idx = np.arange(start + 1, start + n + 1, dtype=np.int64)
    out = np.empty((n, d))
    for j, b in enumerate(_primes(d)):
        digits = int(np.ceil(np.log(start + n + 2) / np.log(b))) + 1
        perms = [rng.permutation(b) for _ in range(digits)]
        x = np.zeros(n)
        k = idx.copy()
        f = 1.0 / b
        for t in range(digits):
            x += perms[t][k % b] * f
            k //= b
            f /= b
        out[:, j] = x
    return np.clip(out, 0.0, np.nextafter(1.0, 0.0))
