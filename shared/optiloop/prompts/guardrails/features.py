"""Hashed character and word n-gram features, computed with numpy alone.

The injection classifier runs on every generate call inside the API Lambda, where scikit-learn is not
allowed (ARCHITECTURE.md: the hot path imports numpy only). Hashing needs no vocabulary file, and a
vectorised polynomial hash over the code points makes the ~10k character n-grams of a 2 KB prompt
cost tens of microseconds rather than a Python loop's milliseconds. The training script imports this
same module, so training and serving cannot drift apart.

Features: character 3-, 4- and 5-grams of the lower-cased, whitespace-collapsed text, plus word
unigrams and bigrams (punctuation runs count as words: "###", "</", "}}" carry signal), weighted
1 + log(count) and L2-normalised. Long inputs are cut to their first 6,000 and last 2,000 characters:
the markers of a jailbreak sit at its start and its end, and the cost stays bounded.
"""

from __future__ import annotations

import numpy as np

HASH_BITS = 18
DIM = 1 << HASH_BITS
CHAR_NGRAMS = (3, 4, 5)
HEAD_CHARS = 6000
TAIL_CHARS = 2000

_P = np.uint64(0x100000001B3)  # FNV-64 prime as the polynomial base
_M1 = np.uint64(0xFF51AFD7ED558CCD)  # murmur3 fmix64 constants
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_SHIFT = np.uint64(64 - HASH_BITS)
_SALT = {n: np.uint64(0x9E3779B97F4A7C15 * (n + 1) % (1 << 64)) for n in (*CHAR_NGRAMS, 101, 102)}
# Character classes for word tokens: 0 space, 1 word (ASCII alnum, "_", and any non-ASCII code point,
# so other scripts' letters form words), 2 punctuation. A token is a maximal run of one class.
_ASCII_CLASS = np.array(
    [0 if chr(i).isspace() else 1 if (chr(i).isalnum() or chr(i) == "_") else 2 for i in range(128)],
    dtype=np.int8,
)
_MAX_TOKEN_POS = 64
_POS_WEIGHT = np.array([pow(int(_P), k, 1 << 64) for k in range(_MAX_TOKEN_POS)], dtype=np.uint64)


def normalise(text: str) -> str:
    text = " ".join(text.lower().split())
    if len(text) > HEAD_CHARS + TAIL_CHARS:
        text = text[:HEAD_CHARS] + " " + text[-TAIL_CHARS:]
    return f" {text} "


def _mix(h: np.ndarray, salt: np.uint64) -> np.ndarray:
    h = h ^ salt
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h >> _SHIFT


def _token_hashes(codes: np.ndarray) -> np.ndarray:
    """One polynomial hash per word or punctuation token, vectorised over the code points."""
    cls = np.where(codes < 128, _ASCII_CLASS[np.minimum(codes, 127).astype(np.intp)], 1)
    prev = np.concatenate(([0], cls[:-1]))
    keep = cls != 0
    starts = (cls != prev) & keep
    if not starts.any():
        return np.zeros(0, dtype=np.uint64)
    start_pos = np.flatnonzero(starts)
    token_of = np.cumsum(starts)[keep] - 1
    offset = np.flatnonzero(keep) - start_pos[token_of]
    weighted = (codes[keep] + np.uint64(1)) * _POS_WEIGHT[np.minimum(offset, _MAX_TOKEN_POS - 1)]
    first = np.flatnonzero(np.concatenate(([True], token_of[1:] != token_of[:-1])))
    return np.add.reduceat(weighted, first)


def hashed_indices(text: str) -> np.ndarray:
    """Bucket index of every n-gram occurrence of ``text`` (with repeats), as int64."""
    norm = normalise(text)
    # surrogatepass: a lone surrogate ("\ud800" is valid JSON) must be scored, not raise a 500
    codes = np.frombuffer(norm.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    parts: list[np.ndarray] = []
    with np.errstate(over="ignore"):
        for n in CHAR_NGRAMS:
            count = codes.size - n + 1
            if count <= 0:
                continue
            h = codes[:count].copy()
            for k in range(1, n):
                h *= _P
                h += codes[k : k + count]
            parts.append(_mix(h, _SALT[n]))
        words = _token_hashes(codes)
        if words.size:
            parts.append(_mix(words, _SALT[101]))
        if words.size > 1:
            parts.append(_mix(words[:-1] * _P + words[1:], _SALT[102]))
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(parts).astype(np.int64)


def featurize(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Sparse feature vector of ``text``: (sorted unique bucket indices, float32 L2-normalised values)."""
    idx, counts = np.unique(hashed_indices(text), return_counts=True)
    values = 1.0 + np.log(counts.astype(np.float32))
    norm = float(np.sqrt(np.dot(values, values)))
    if norm > 0:
        values /= norm
    return idx, values.astype(np.float32)
