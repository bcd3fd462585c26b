"""A Merkle root over shard heads, the way certificate-transparency logs hash their trees (RFC 6962).

Leaves and inner nodes are hashed with different prefixes (0x00, 0x01), so a leaf can never be passed
off as an inner node. The tree is split at the largest power of two below the size, so the root of
n leaves is defined for every n, and one leaf's proof is O(log n) hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from optiloop.audit.chain import canonical_json

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def leaf_hash(shard: str, seq: int, head_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + canonical_json([shard, seq, head_hash]).encode("utf-8")).digest()


def _root(leaves: Sequence[bytes]) -> bytes:
    n = len(leaves)
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + _root(leaves[:k]) + _root(leaves[k:])).digest()


def merkle_root(heads: Sequence[tuple[str, int, str]]) -> str:
    """Root over (shard, seq, hash) triples, ordered by shard so every party builds the same tree."""
    if not heads:
        return EMPTY_ROOT
    leaves = [leaf_hash(s, q, h) for s, q, h in sorted(heads)]
    return _root(leaves).hex()
