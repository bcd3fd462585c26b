"""Checking the whole trail: every shard's chain, the legacy prefix, the shard heads and the digests.

The walk is streaming (constant memory per shard) and hashes stored rows without parsing their
details (`chain.row_hash`), which is what makes a million records a matter of seconds. It stops at
the first problem and names it, in this order: the digest chain (n = 1, 2, ...), then the legacy
chain, then each shard in name order (its records by seq, then its head item), then whether every
shard still holds the head the newest digest committed (a rolled-back shard).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from optiloop.audit.chain import GENESIS_HASH, canonical_json, record_hash, row_hash
from optiloop.audit.digest import digest_hash, heads_of
from optiloop.audit.merkle import merkle_root
from optiloop.audit.shards import LEGACY_SHARD, shard_of
from optiloop.audit.signing import Signer
from optiloop.store.ports import AuditRepo

# (shard, seq, id, at, principal, action, project_id, target, details as stored text, prev_hash, hash)
Row = tuple[str, int, str, str, str, str, "str | None", "str | None", str, str, str]


@dataclass(eq=False)
class Verification:
    """The outcome; it unpacks as, and compares equal to, the ``(ok, first_bad_seq)`` pair that
    `verify` returned before shards, so existing callers keep working."""

    ok: bool = True
    problem: dict[str, Any] | None = None  # kind: record | head | digest | anchor; where; why
    records: int = 0
    shards: int = 0
    digests: int = 0
    signatures: str = "checked"  # or "not checked" when no signer was given
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def first_bad_seq(self) -> int | None:
        return self.problem.get("seq") if self.problem else None

    def __iter__(self) -> Iterator[Any]:
        yield self.ok
        yield self.first_bad_seq

    def __eq__(self, other: object) -> bool:
        if isinstance(other, tuple):
            return tuple(self) == other
        if isinstance(other, Verification):
            return self.as_dict() == other.as_dict()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def fail(self, **problem: Any) -> Verification:
        self.ok, self.problem = False, problem
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "records": self.records,
            "shards": self.shards,
            "digests": self.digests,
            "signatures": self.signatures,
        }


def _row_ok(r: Row) -> bool:
    try:
        if row_hash(r[9], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]) == r[10]:
            return True
        details = json.loads(r[8])  # not canonical text: hash what it parses to, as append did
        return record_hash(
            r[9], seq=r[1], id=r[2], at=r[3], principal=r[4], action=r[5], project_id=r[6], target=r[7],
            details=json.loads(canonical_json(details)),
        ) == r[10]  # fmt: skip
    except (TypeError, ValueError):
        return False


def _walk(
    rows: Iterable[Row], shard: str, base: tuple[int, str], v: Verification
) -> tuple[int, str] | dict[str, Any]:
    """The chain's last (seq, hash), or the problem of its first bad record."""
    seq, prev = base
    legacy = shard == LEGACY_SHARD
    for r in rows:
        v.records += 1
        where = {"kind": "record", "shard": shard, "seq": r[1], "id": r[2]}
        if r[1] != seq + 1:
            return {**where, "reason": f"expected seq {seq + 1} (a record is missing or was inserted)"}
        if r[9] != prev:
            return {**where, "reason": "prev_hash is not the previous record's hash"}
        if not legacy and r[0] != shard_of(r[6]):
            return {**where, "reason": f"project_id {r[6]!r} does not belong to shard {shard!r}"}
        if not _row_ok(r):
            return {**where, "reason": "hash does not match the record's content"}
        seq, prev = r[1], r[10]
    return seq, prev


def verify_trail(audit: AuditRepo, signer: Signer | None = None) -> Verification:
    v = Verification(signatures="checked" if signer is not None else "not checked")
    # 1. the digest chain
    prev, last = GENESIS_HASH, None
    for d in audit.digests():
        v.digests += 1
        n = d.get("n")
        where = {"kind": "digest", "digest": n}
        if n != v.digests:
            return v.fail(**where, reason=f"expected digest {v.digests} (one is missing or was inserted)")
        if d.get("prev") != prev:
            return v.fail(**where, reason="prev is not the previous digest's hash")
        try:
            ok_hash = digest_hash(d) == d.get("hash")
        except (KeyError, TypeError, ValueError):
            ok_hash = False
        if not ok_hash:
            return v.fail(**where, reason="hash does not match the digest's content")
        if merkle_root([tuple(h) for h in d.get("heads") or []]) != d.get("root"):
            return v.fail(**where, reason="root is not the Merkle root of the heads it lists")
        if signer is not None and not signer.verify(bytes.fromhex(d["hash"]), str(d.get("sig", ""))):
            return v.fail(**where, reason=f"signature does not verify with key {signer.key_id}")
        prev, last = d["hash"], d
    committed = heads_of(last) if last is not None else {}
    # 2. the legacy chain, which must end exactly at the anchor
    anchor = audit.anchor()
    end = _walk(audit.rows(LEGACY_SHARD), LEGACY_SHARD, (0, GENESIS_HASH), v)
    if isinstance(end, dict):
        return v.fail(**end)
    if end != (anchor.seq, anchor.hash):
        return v.fail(
            kind="anchor",
            shard=LEGACY_SHARD,
            seq=anchor.seq,
            reason=f"the legacy chain ends at seq {end[0]}; the anchor says {anchor.seq} (or another hash)",
        )
    if LEGACY_SHARD in committed and committed[LEGACY_SHARD] != (anchor.seq, anchor.hash):
        return v.fail(kind="anchor", shard=LEGACY_SHARD, seq=anchor.seq, reason="differs from the digests'")
    # 3. every shard: records, then its head item
    heads = {h.shard: h for h in audit.heads()}
    names = sorted(set(heads) | set(audit.shards()) | (set(committed) - {LEGACY_SHARD}))
    for shard in names:
        v.shards += 1
        end = _walk(audit.rows(shard), shard, (anchor.seq, anchor.hash), v)
        if isinstance(end, dict):
            return v.fail(**end)
        head = heads.get(shard)
        have = (head.seq, head.hash) if head is not None else None
        if end[0] > anchor.seq and have != end:
            return v.fail(
                kind="head", shard=shard, seq=end[0],
                reason=f"the head item says {have[0] if have else 'nothing'}, the chain ends at seq {end[0]}",
            )  # fmt: skip
        if end[0] == anchor.seq and have is not None:
            return v.fail(kind="head", shard=shard, seq=have[0], reason="a head without records")
        if shard in committed:
            c_seq, c_hash = committed[shard]
            n = last["n"] if last else None
            if end[0] < c_seq:
                return v.fail(
                    kind="head", shard=shard, seq=end[0], digest=n,
                    reason=f"digest {n} committed seq {c_seq}; the chain ends at seq {end[0]}",
                )  # fmt: skip
            if not _has(audit, shard, c_seq, c_hash):
                return v.fail(
                    kind="record", shard=shard, seq=c_seq, digest=n,
                    reason="not the record the newest digest committed",
                )  # fmt: skip
    return v


def _has(audit: AuditRepo, shard: str, seq: int, h: str) -> bool:
    return any(r[1] == seq and r[10] == h for r in audit.rows(shard, after_seq=seq - 1, limit=1))
