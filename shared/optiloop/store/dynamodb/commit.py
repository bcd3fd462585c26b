"""Committing a buffered transaction: one TransactWriteItems when it fits, staged when it does not.

**Fits** (at most 100 items and well under 4 MB, the common case: a suggest of a few dozen tests, an
ingest, a key, a project): one TransactWriteItems holding the buffered puts plus the items derived
at commit time (counters, audit records and head). All or nothing, by DynamoDB.

**Does not fit** (a suggest of up to 500 tests is 1,000 history items plus counter and audit):
chunking tests into multi-test items would not help, because `get_many` by id and the uniqueness of
ids and seqs each need an item per test; so the batch is staged instead:

1. The insert-only history items (tests, runs; nothing that changes an existing item) are written
   in chunks of up to 100 items, each item tagged ``tx=<id>``. The first chunk also creates the
   transaction's marker, ``pending``. Every put keeps its uniqueness condition, so a clash stops
   the batch exactly as it would in one transaction.
2. One final TransactWriteItems flips the marker to ``committed`` (on condition it is still
   ``pending``) together with everything that is not stageable: counters, the audit record and head,
   any other record. This is the commit point.
3. Readers skip tagged items whose marker is not ``committed`` (`staging.Visibility`), and
   `list_since` reads no higher than the counter, which moves in step 2 too. So nothing of the batch
   is visible before step 2 and all of it is visible after: never half a batch.

If anything fails before the commit point, the marker is moved to ``aborted`` and the staged items
are deleted. If the process dies instead (a Lambda timeout), the items stay invisible, and the next
writer that needs one of their keys treats them as garbage once the marker is older than
`stale_after_s`: it aborts the marker (conditionally, so the original writer can no longer commit)
and overwrites them. Only the non-stageable part must fit in one transaction (99 items); larger
transactions are refused with ValueError before anything is written.

Derived items (counters, audit shard heads) are computed from values read just before the commit
and guarded by conditions on those values; if another writer got there first the cancellation reason
says so, and the commit re-reads and retries (bounded, with jittered backoff). Only writers of the
same project can contend (each project has its own counters and audit shard); when they keep
winning, the commit gives up with `Contended` naming the item (HTTP 409 with Retry-After). A failed
condition on a buffered put (a duplicate) is a `Conflict` and is not retried.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Sequence
from typing import Any

from optiloop.audit.chain import GENESIS_HASH, utc_now_ms
from optiloop.audit.shards import project_of
from optiloop.errors import Conflict, Contended
from optiloop.store.dynamodb import audit as audit_items
from optiloop.store.dynamodb.codec import Item, Key, item_size
from optiloop.store.dynamodb.counters import (
    counter_of_runs,
    counter_of_tests,
    counter_update,
    keys_update,
    seq_max,
)
from optiloop.store.dynamodb.session import Pending, Write
from optiloop.store.dynamodb.staging import Visibility, new_tx_id
from optiloop.store.dynamodb.table import Cancelled, Table, _backoff, key_map
from optiloop.store.records import AuditHead, AuditRecord

MAX_ITEMS = 100  # DynamoDB's TransactWriteItems limit
MAX_BYTES = 3_500_000  # of DynamoDB's 4 MB per transaction, with room for request overhead
MAX_ITEM_BYTES = 400 * 1024
ATTEMPTS = 12
_RETRYABLE = {
    None,
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
}
_CHECK_FAILED = "ConditionalCheckFailed"


RETRY_AFTER_S = 1.0  # what a 409 for contention tells the client to wait


class Committer:
    def __init__(self, table: Table, visibility: Visibility, *, attempts: int = ATTEMPTS) -> None:
        self.table = table
        self.visibility = visibility
        self.attempts = attempts
        # Per audit shard: serialises this process's appends to one shard (they would only cancel
        # each other's transactions); other processes still race, and the head condition settles it.
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._heads: dict[str, tuple[int, str, bool]] = {}  # shard -> (seq, hash, head item exists)
        self._anchor: AuditHead | None = None

    # -- the audit heads ---------------------------------------------------------------------

    def anchor(self, create: bool = True) -> AuditHead:
        """Where new shards start; fixed once written, so read once per process. The first writer
        of this release on a table seals the legacy chain (`audit.migrate`)."""
        if self._anchor is None:
            found = audit_items.read_anchor(self.table)
            if found is None and not create:
                # Not sealed yet (item format 1, docs/migrations.md): a reader takes the single chain's
                # head as its end, so listings and verify work without writing anything.
                return audit_items.read_legacy_head(self.table) or AuditHead("legacy", 0, GENESIS_HASH)
            self._anchor = found or audit_items.migrate(self.table)
        return self._anchor

    def head(self, shard: str) -> tuple[int, str, bool]:
        """Last known (seq, hash, exists) of a shard: cached after our own commits, read when unknown
        (one call: the head, with the anchor in the same BatchGetItem on a cold start)."""
        head = self._heads.get(shard)
        if head is None:
            head = self._heads[shard] = self._read_head(shard)
        return head

    def _read_head(self, shard: str) -> tuple[int, str, bool]:
        key = audit_items.head_key(shard)
        if self._anchor is None:
            found = self.table.batch_get([key, audit_items.ANCHOR_KEY])
            if audit_items.ANCHOR_KEY in found:
                self._anchor = audit_items.anchor_of(found[audit_items.ANCHOR_KEY])
            item = found.get(key)
        else:
            item = self.table.get(key)
        if item is not None:
            return int(item["seq"]["N"]), item["hash"]["S"], True
        anchor = self.anchor()
        return anchor.seq, anchor.hash, False

    def _lock(self, shard: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(shard, threading.Lock())

    # -- commit ------------------------------------------------------------------------------

    def __call__(self, p: Pending) -> None:
        writes = list(p.writes.values())
        for w in writes:
            if w.size() > MAX_ITEM_BYTES:
                raise ValueError(f"{w.what} is larger than DynamoDB's 400 KB item limit")
        derived = (
            len(p.audit)
            + 2 * len({r.shard for r in p.audit})
            + 2 * len(p.tests_max.keys() | p.runs_max.keys())
        )
        derived += 1 if p.keys_added else 0
        size = sum(w.size() for w in writes) + sum(item_size(audit_items.encode(r)) for r in p.audit)
        if len(writes) + derived <= MAX_ITEMS and size <= MAX_BYTES:
            self._final(p, writes)
            return
        stage = [w for w in writes if w.stageable]
        rest = [w for w in writes if not w.stageable]
        if len(rest) + derived + 1 > MAX_ITEMS:
            raise ValueError(
                f"transaction too large for DynamoDB: {len(rest) + derived} writes that cannot be staged "
                f"(at most {MAX_ITEMS - 1}); split it"
            )
        self._staged(p, stage, rest)

    def _staged(self, p: Pending, stage: list[Write], rest: list[Write]) -> None:
        tx = new_tx_id()
        written: list[Write] = []
        try:
            for i, chunk in enumerate(_chunks(stage, first_room=MAX_ITEMS - 1)):
                ops = [w.op(self.table.name, tx=tx) for w in chunk]
                if i == 0:
                    ops.insert(0, self.visibility.marker_put(tx))
                self._write_chunk(ops, chunk, offset=1 if i == 0 else 0)
                written.extend(chunk)
            self._final(p, rest, marker=tx)
        except BaseException:
            if written:
                self._abort(tx, written)
            raise
        self.visibility.mark_committed(tx)

    def _write_chunk(self, ops: list[dict[str, Any]], chunk: Sequence[Write], offset: int) -> None:
        for attempt in range(ATTEMPTS):
            try:
                self.table.transact(ops, token=uuid.uuid4().hex)
                return
            except Cancelled as c:
                for i, w in enumerate(chunk):
                    if c.codes[offset + i] == _CHECK_FAILED:
                        raise w.failure() from None
                if not set(c.codes) <= _RETRYABLE:
                    raise
                _backoff(attempt)
        raise Conflict("could not stage the batch: DynamoDB kept cancelling (contention or throttling)")

    def _abort(self, tx: str, written: list[Write]) -> None:
        """Best effort: the marker decides visibility, so leftovers are harmless, only untidy.

        Deletes go 100 at a time, each on condition the item is still ours: once the marker says
        aborted, a writer that needs one of the keys may already have overwritten it.
        """
        with contextlib.suppress(Exception):
            if not self.visibility.abort(tx):
                return  # it committed after all (an error after the commit point): keep the items
            mine = {":tx": {"S": tx}}
            for i in range(0, len(written), MAX_ITEMS):
                chunk = written[i : i + MAX_ITEMS]
                ops = [
                    {
                        "Delete": {
                            "TableName": self.table.name,
                            "Key": key_map(w.key),
                            "ConditionExpression": "tx = :tx",
                            "ExpressionAttributeValues": mine,
                        }
                    }
                    for w in chunk
                ]
                try:
                    self.table.transact(ops, token=uuid.uuid4().hex)
                except Cancelled:  # one of them is no longer ours: the rest one by one
                    for w in chunk:
                        self.table.delete(w.key, cond="tx = :tx", ExpressionAttributeValues=mine)

    def _final(self, p: Pending, writes: list[Write], marker: str | None = None) -> None:
        shards = sorted({r.shard for r in p.audit})
        contended = "the transaction's items"
        for attempt in range(self.attempts):
            with contextlib.ExitStack() as locks:
                for shard in shards:  # in name order: two transactions never wait on each other
                    locks.enter_context(self._lock(shard))
                derived, chained, key_check, whats = self._derived(p)
                ops = [w.op(self.table.name) for w in writes]
                if marker is not None:
                    ops.append(self.visibility.marker_commit(marker))
                first_derived = len(ops)
                ops.extend(derived)
                if not ops:
                    return
                try:
                    self.table.transact(ops, token=uuid.uuid4().hex)
                except Cancelled as c:
                    codes = c.codes + [None] * (len(ops) - len(c.codes))
                    for i, w in enumerate(writes):
                        if codes[i] == _CHECK_FAILED:
                            raise w.failure() from None
                    if marker is not None and codes[len(writes)] == _CHECK_FAILED:
                        raise Conflict(
                            "the batch took too long to commit and was abandoned; retry the request"
                        ) from None
                    if key_check is not None and codes[first_derived + key_check] == _CHECK_FAILED:
                        raise Conflict("API keys were added concurrently; retry") from None
                    if not set(codes) <= _RETRYABLE | {_CHECK_FAILED}:
                        if "ValidationError" in codes:
                            raise ValueError(f"DynamoDB refused the transaction: {c}") from None
                        raise
                    lost = [whats[i - first_derived] for i in range(first_derived, len(ops)) if codes[i]]
                    contended = ", ".join(dict.fromkeys(w for w in lost if w)) or contended
                    for shard in shards:
                        self._heads.pop(shard, None)  # someone else appended: re-read the head
                else:
                    for mine, final in zip(p.audit, chained, strict=True):
                        _assume(mine, final)
                    for final in chained:
                        self._heads[final.shard] = (final.seq, final.hash, True)
                    return
            _backoff(attempt)
        raise Contended(
            f"could not commit after {self.attempts} attempts: other writers kept changing {contended}; "
            "retry after the Retry-After delay",
            contended=contended,
            retry_after_s=RETRY_AFTER_S,
        )

    def _read_derived(self, p: Pending, shards: list[str]) -> dict[Key, Item]:
        """The counters the commit moves, read in one BatchGetItem together with the audit heads of
        its shards (which refreshes them: another process, an ingest Lambda say, may have appended
        since this one cached them, and a stale head costs a cancelled transaction and three more
        calls). Without a counter to read, cached heads are used as they are (no read at all)."""
        keys = [counter_of_tests(pid) for pid in sorted(p.tests_max)]
        keys += [counter_of_runs(pid) for pid in sorted(p.runs_max.keys() | p.runs_add.keys())]
        if not keys:
            return {}
        heads = [audit_items.head_key(shard) for shard in shards]
        ask_anchor = bool(shards) and self._anchor is None
        found = self.table.batch_get(keys + heads + ([audit_items.ANCHOR_KEY] if ask_anchor else []))
        if ask_anchor and audit_items.ANCHOR_KEY in found:
            self._anchor = audit_items.anchor_of(found[audit_items.ANCHOR_KEY])
        for shard, key in zip(shards, heads, strict=True):
            item = found.get(key)
            if item is not None:
                self._heads[shard] = (int(item["seq"]["N"]), item["hash"]["S"], True)
            else:
                anchor = self.anchor()
                self._heads[shard] = (anchor.seq, anchor.hash, False)
        return found

    def _derived(
        self, p: Pending
    ) -> tuple[list[dict[str, Any]], list[AuditRecord], int | None, list[str | None]]:
        """Counter and audit items as of now: (ops, re-chained audit records, index of the key check,
        what each op guards, for naming the contended item)."""
        name = self.table.name
        ops: list[dict[str, Any]] = []
        whats: list[str | None] = []
        key_check: int | None = None
        shards = list(dict.fromkeys(r.shard for r in p.audit))
        seen = self._read_derived(p, shards)
        for pid in sorted(p.tests_max):
            key = counter_of_tests(pid)
            op = counter_update(name, key, new_max=p.tests_max[pid], seen_max=seq_max(seen.get(key)))
            if op is not None:
                ops.append(op)
                whats.append(f"the test seq counter of project '{pid}'")
        for pid in sorted(p.runs_max.keys() | p.runs_add.keys()):
            key = counter_of_runs(pid)
            add = p.runs_add.get(pid)
            op = counter_update(
                name,
                key,
                new_max=p.runs_max.get(pid),
                seen_max=seq_max(seen.get(key)),
                add=(add[0], add[1], add[2]) if add else None,
            )
            if op is not None:
                ops.append(op)
                whats.append(f"the run counter of project '{pid}'")
        if p.keys_added:
            if p.keys_seen is not None:
                key_check = len(ops)
            ops.append(keys_update(name, p.keys_added, p.keys_seen))
            whats.append("the API key count")
        chained: list[AuditRecord] = []
        heads = [self.head(shard) for shard in shards]
        # Stamped after the heads are read: a record is then never older than the one it chains to
        # (up to clock skew between machines), so a shard's records are in time order as well as seq.
        at = utc_now_ms()
        for shard, (seq, h, exists) in zip(shards, heads, strict=True):
            records = audit_items.chain((seq, h), [r for r in p.audit if r.shard == shard], at=at)
            chained.extend(records)
            shard_ops = audit_items.chain_ops(name, shard, (seq, h), exists, records)
            ops.extend(shard_ops)
            owner = project_of(shard)
            what = f"the audit chain of project '{owner}'" if owner else f"the audit chain '{shard}'"
            whats.extend([what] * len(shard_ops))
        by_id = {r.id: r for r in chained}
        return ops, [by_id[r.id] for r in p.audit], key_check, whats


def _assume(record: AuditRecord, final: AuditRecord) -> None:
    """Make the record `append` returned match what was stored (it was provisional until now)."""
    for f in ("seq", "prev_hash", "hash", "at"):
        object.__setattr__(record, f, getattr(final, f))


def _chunks(writes: list[Write], first_room: int) -> list[list[Write]]:
    chunks: list[list[Write]] = []
    current: list[Write] = []
    size = 0
    room = first_room
    for w in writes:
        s = w.size()
        if current and (len(current) >= room or size + s > MAX_BYTES):
            chunks.append(current)
            current, size, room = [], 0, MAX_ITEMS
        current.append(w)
        size += s
    if current:
        chunks.append(current)
    return chunks
