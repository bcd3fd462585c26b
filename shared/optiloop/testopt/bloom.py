"""A scalable Bloom filter: "have we seen this exact test before?" in ~2 bytes a test.

Suggest never repeats an earlier test of the project. While the history fits in memory that is an
exact set; past the in-memory window the compacted tests are remembered only here. A Bloom filter
has no false negatives (a repeat is always caught) and a small false-positive rate (a new candidate
is now and then taken for a repeat and dropped: harmless, the pool has others). Layers double in
capacity as they fill (Almeida et al.'s scalable Bloom filter), so a project of 1K tests pays a few
KB and one of 10M about 36 MB; each layer targets FP_RATE / 2**i, so the total stays below 2 x FP_RATE.

Membership depends only on the set of keys added and the order of layers, never on timing, and the
bits serialise (`to_arrays` / `from_arrays`) for the blob-store snapshot of a project.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable

import numpy as np

FIRST_CAPACITY = 1 << 14
FP_RATE = 1e-3
_LN2_SQ = math.log(2) ** 2


def _hashes(keys: Iterable[bytes]) -> tuple[np.ndarray, np.ndarray]:
    raw = b"".join(hashlib.blake2b(k, digest_size=16).digest() for k in keys)
    both = np.frombuffer(raw, dtype="<u8").reshape(-1, 2)
    return both[:, 0].copy(), both[:, 1] | np.uint64(1)  # an odd step visits distinct bits


class _Layer:
    def __init__(self, capacity: int, fp: float) -> None:
        self.capacity = capacity
        self.m = max(64, math.ceil(-capacity * math.log(fp) / _LN2_SQ))
        self.k = max(1, round(self.m / capacity * math.log(2)))
        self.bits = np.zeros((self.m + 7) // 8, dtype=np.uint8)
        self.count = 0

    def _index(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        i = np.arange(self.k, dtype=np.uint64)
        with np.errstate(over="ignore"):
            return (h1[:, None] + i[None, :] * h2[:, None]) % np.uint64(self.m)

    def add(self, h1: np.ndarray, h2: np.ndarray) -> None:
        idx = self._index(h1, h2).ravel()
        np.bitwise_or.at(
            self.bits, (idx >> np.uint64(3)).astype(np.int64), (1 << (idx & np.uint64(7))).astype(np.uint8)
        )
        self.count += len(h1)

    def has(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        idx = self._index(h1, h2)
        got = (self.bits[(idx >> np.uint64(3)).astype(np.int64)] >> (idx & np.uint64(7)).astype(np.uint8)) & 1
        return np.asarray(got.all(axis=1), dtype=bool)


class ScalableBloom:
    def __init__(self) -> None:
        self.layers: list[_Layer] = []

    def __len__(self) -> int:
        return sum(layer.count for layer in self.layers)

    @property
    def nbytes(self) -> int:
        return sum(layer.bits.nbytes for layer in self.layers)

    def add(self, keys: list[bytes]) -> None:
        if not keys:
            return
        h1, h2 = _hashes(keys)
        start = 0
        while start < len(keys):
            if not self.layers or self.layers[-1].count >= self.layers[-1].capacity:
                i = len(self.layers)
                self.layers.append(_Layer(FIRST_CAPACITY << i, FP_RATE / 2 ** (i + 1)))
            top = self.layers[-1]
            take = min(top.capacity - top.count, len(keys) - start)
            top.add(h1[start : start + take], h2[start : start + take])
            start += take

    def contains(self, keys: list[bytes]) -> np.ndarray:
        """Per key: possibly seen (True; rarely wrong) or certainly not (False)."""
        out = np.zeros(len(keys), dtype=bool)
        if not keys or not self.layers:
            return out
        h1, h2 = _hashes(keys)
        for layer in self.layers:
            out |= layer.has(h1, h2)
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        meta = np.array([[ly.capacity, ly.m, ly.k, ly.count] for ly in self.layers], dtype=np.int64)
        return {
            "bloom_meta": meta.reshape(-1, 4),
            **{f"bloom_{i}": ly.bits for i, ly in enumerate(self.layers)},
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> ScalableBloom:
        b = cls()
        for i, (capacity, m, k, count) in enumerate(arrays["bloom_meta"].tolist()):
            layer = _Layer.__new__(_Layer)
            layer.capacity, layer.m, layer.k, layer.count = int(capacity), int(m), int(k), int(count)
            layer.bits = np.array(arrays[f"bloom_{i}"], dtype=np.uint8)
            if layer.bits.shape != ((layer.m + 7) // 8,):
                raise ValueError("bloom layer size does not match its header")
            b.layers.append(layer)
        return b
