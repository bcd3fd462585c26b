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
    """The first k primes (the bases of the first k dimensions), grown on demand and kept."""
    n = _PRIMES[-1] + 1 if _PRIMES else 2
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


@lru_cache(maxsize=256)
def _zero_tails(seed: int, d: int) -> tuple[np.ndarray, ...]:
    """tails[j][t]: what digits t, t+1, ... add when they are all 0 (a permuted 0 is not 0).

    Indices in one call rarely need more than a handful of digits; the rest are zero for every
    index, so their contribution is a constant per dimension, summed once here."""
    out = []
    for b, perms in zip(_primes(d), _permutations(seed, d), strict=True):
        terms = np.array([perms[t][0] * float(b) ** -(t + 1) for t in range(len(perms))])
        out.append(np.concatenate([np.cumsum(terms[::-1])[::-1], [0.0]]))
    return tuple(out)


def scrambled_halton(n: int, d: int, seed: int, start: int = 0) -> np.ndarray:
    """n points of a d-dimensional scrambled Halton sequence, from index `start` (deterministic)."""
    idx = np.arange(start + 1, start + n + 1, dtype=np.int64)
    top = int(idx[-1]) if n else 1
    out = np.empty((n, d))
    tails = _zero_tails(seed, d)
    for j, (b, perms) in enumerate(zip(_primes(d), _permutations(seed, d), strict=True)):
        digits = min(len(perms), int(np.floor(np.log(max(top, 1)) / np.log(b))) + 2)
        x = np.full(n, tails[j][digits])
        k = idx.copy()
        f = 1.0 / b
        for t in range(digits):
            x += perms[t][k % b] * f
            k //= b
            f /= b
        out[:, j] = x
    return np.clip(out, 0.0, np.nextafter(1.0, 0.0))
