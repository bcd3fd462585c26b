"""A scrambled Halton sequence in numpy.

QMC without scipy: the Lambda hot path may import numpy only. Random digit permutations per
dimension (Owen-style scrambling at the digit level) break the correlations plain Halton shows
in higher dimensions, and the `start` index lets a project continue its sequence across calls.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_PRIMES: list[int] = []


def _primes(k: int) -> list[int]:
    n = 2
    while len(_PRIMES) < k:
        if all(n % p for p in _PRIMES if p * p <= n):
            _PRIMES.append(n)
        n += 1
    return _PRIMES[:k]


@lru_cache(maxsize=256)
def _permutations(seed: int, d: int) -> tuple[tuple[np.ndarray, ...], ...]:
    """Digit permutations for every digit an index below 2**40 can have, always drawn in full, so
    the scrambling of a dimension never depends on how far one call reaches."""
    rng = np.random.default_rng([seed, 0x4A1])
    return tuple(
        tuple(rng.permutation(b) for _ in range(int(np.ceil(40 * np.log(2) / np.log(b))) + 1))
        for b in _primes(d)
    )


def scrambled_halton(n: int, d: int, seed: int, start: int = 0) -> np.ndarray:
    """n points of a d-dimensional scrambled Halton sequence, from index `start` (deterministic)."""
    idx = np.arange(start + 1, start + n + 1, dtype=np.int64)
    out = np.empty((n, d))
    for j, (b, perms) in enumerate(zip(_primes(d), _permutations(seed, d), strict=True)):
        digits = len(perms)  # a permuted 0 digit still contributes: use them all, always
        x = np.zeros(n)
        k = idx.copy()
        f = 1.0 / b
        for t in range(digits):
            x += perms[t][k % b] * f
            k //= b
            f /= b
        out[:, j] = x
    return np.clip(out, 0.0, np.nextafter(1.0, 0.0))
