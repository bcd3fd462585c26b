"""The tenant-level digest chain: one signed digest over every shard's head, sealed on a schedule.

Shards make appends independent, but then no single hash commits to the whole trail any more, and a
shard could be rolled back (its newest records deleted, its head moved back) without breaking any
link. Digests close that, the way CloudTrail chains its hourly digest files and certificate-
transparency logs sign tree heads: every minute (EventBridge -> the ``audit_digest`` Lambda on AWS;
the in-process scheduler of ``optiloop serve`` locally) the sealer reads every shard head and writes

    digest n = {n, at, prev: hash of digest n-1 (GENESIS for n=1), root: Merkle root over every
                shard's (shard, seq, hash) and the legacy anchor, heads: those triples}
    hash     = sha256(canonical_json(digest n)),  sig = the tenant key's signature of hash

into the store (conditionally on n being free: two sealers cannot both write n) and into the
Object-Lock audit bucket (a local folder on one machine), where nobody can rewrite it for the
retention period. Verification replays the digests: each must chain to its predecessor, carry a
valid signature, and its root must be the root of the heads it implies; and every shard's chain
must still contain the head the last digest committed. A digest is written only when some head
moved, so an idle tenant costs nothing. Each digest lists every head (about 100 bytes a shard), so
a DynamoDB digest item holds up to ~3,000 shards; past that the heads belong in the bucket object only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from optiloop.audit.chain import GENESIS_HASH, canonical_json, utc_now_ms
from optiloop.audit.merkle import merkle_root
from optiloop.audit.shards import LEGACY_SHARD
from optiloop.audit.signing import Signer
from optiloop.errors import Conflict
from optiloop.store.ports import AuditRepo, BlobStore

DIGEST_PREFIX = "digests/"
_BODY = ("n", "at", "prev", "root", "heads")


def digest_hash(d: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json({k: d[k] for k in _BODY}).encode("utf-8")).hexdigest()


def current_heads(audit: AuditRepo) -> dict[str, tuple[int, str]]:
    """Every shard head plus the legacy anchor (a shard that no longer moves)."""
    heads = {h.shard: (h.seq, h.hash) for h in audit.heads()}
    anchor = audit.anchor()
    if anchor.seq > 0:
        heads[LEGACY_SHARD] = (anchor.seq, anchor.hash)
    return heads


def heads_of(d: dict[str, Any]) -> dict[str, tuple[int, str]]:
    """The heads one digest commits to."""
    return {shard: (seq, h) for shard, seq, h in d.get("heads") or []}


def object_key(d: dict[str, Any]) -> str:
    return f"{DIGEST_PREFIX}{d['n']:012d}-{d['hash'][:16]}.json"


def seal(
    audit: AuditRepo,
    signer: Signer,
    sink: BlobStore | None = None,
    *,
    clock: Callable[[], str] = utc_now_ms,
    force: bool = False,
) -> dict[str, Any] | None:
    """Write the next digest if any head moved since the last one (or `force`); returns it or None.

    Two sealers racing (a retried Lambda, two machines) cannot fork the chain: the store refuses a
    second digest n, and the loser returns None.
    """
    last = audit.latest_digest()
    heads = current_heads(audit)
    if last is not None and heads_of(last) == heads and not force:
        return None
    d: dict[str, Any] = {
        "n": (last["n"] + 1) if last else 1,
        "at": clock(),
        "prev": last["hash"] if last else GENESIS_HASH,
        "root": merkle_root([(s, q, h) for s, (q, h) in heads.items()]),
        "heads": sorted([s, q, h] for s, (q, h) in heads.items()),
    }
    d["hash"] = digest_hash(d)
    d["sig"] = signer.sign(bytes.fromhex(d["hash"]))
    d["key_id"], d["alg"] = signer.key_id, signer.alg
    try:
        audit.add_digest(d)
    except Conflict:
        return None
    if sink is not None:
        sink.put(object_key(d), json.dumps(d, sort_keys=True).encode("utf-8"))
    return d
