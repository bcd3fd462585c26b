"""Versioned item formats of the DynamoDB table, and the runner that migrates a table up or down.

**Per item kind: a ``fmt`` attribute** (a number). Absent means 1, the format every item had before
formats were versioned, so no existing item needs rewriting to be readable and a writer only adds the
attribute the day its kind changes. A sort-key prefix was the other choice; it was not taken because
changing a key means a new item (a put and a delete, and a second key for every reader to try), where
an attribute changes in place under a condition. One exception predates this scheme: the audit
trail's format 2 (shards) is told apart by its keys (``AUDIT#S#...``, ``AUDIT#ANCHOR``) rather than by
``fmt``; `fmt_of` knows that. `ITEM_FORMATS` lists each kind's current format.

**Readers accept the previous format** of their kind, so a rolling deploy (old and new Lambdas at once)
works: this release reads audit items of format 1 (the single chain ``AUDIT / <seq>``, head
``AUDIT#HEAD``) as well as 2, without writing (`Committer.anchor(create=False)` takes the single chain's
head as its end), and its first append seals format 1 into 2 (`audit.migrate`), after which an old
writer's head condition fails instead of forking the trail.

**The table's version** lives in the item ``FORMAT / TABLE`` (``version``; while a step runs also
``p_step``, ``p_dir``, ``p_phase``, ``p_cursor``). A table without it is detected: 2 if the audit anchor
exists, else 1. Steps (`STEPS`):

1. base: every kind at format 1 (the single audit chain).
2. audit shards. Up: seal the single chain (`audit.migrate`, one transaction). Down: fold every shard
   back into the single chain, in tenant-wide order, re-chained after the legacy prefix (which keeps
   its hashes); each folded item keeps ``folded_from`` (its shard and seq) and ``folded_hash``, so its
   old hash (in digests) can still be traced. The signed digests are dropped (a data loss: they commit
   to shard heads that no longer exist).
3. ``fmt`` stamped on project items. A no-op by design (absent and 1 mean the same); it exists so the
   runner's machinery (scan in pages, conditional writes, a saved cursor) has a tested step before the
   first real format change needs it.
4. Listings in creation order: documents of models, prompts and prompt deployments move to the
   listing key of `optiloop.store.listing_order`'s sort (down: models by name, deployments by prompt
   name and environment). No item format changes (readers never look at a listing key's sort).

**The runner** (`migrate_table`) runs one step at a time. Each step scans or queries in pages and writes
with conditions, so running it twice changes nothing (idempotent), and it saves its cursor in the
``FORMAT`` item after each page, so a process that dies resumes where it stopped on the next run
(resumable). A step has one commit point, where the table's version moves: for the fold, the single
transaction that writes ``AUDIT#HEAD`` and deletes the anchor; for the others, the end. A step that
fails before its commit point is undone (`FormatStep.abort`), so the table stays at the previous
version; one that fails after it is finished by the next run. Going down needs the writers stopped
(the API in maintenance, or the old release not yet deployed): see docs/migrations.md.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from optiloop.audit.chain import record_hash
from optiloop.store import listing_order
from optiloop.store.dynamodb import audit as audit_items
from optiloop.store.dynamodb import docs
from optiloop.store.dynamodb.codec import Item, Key, N, S, enc_int, get_s, to_int
from optiloop.store.dynamodb.table import Cancelled, Table, key_map, key_of
from optiloop.store.dynamodb.table_spec import GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK
from optiloop.store.migrations import DataLossRefused

FMT_ATTR = "fmt"
META_KEY: Key = ("FORMAT", "TABLE")
ITEM_FORMATS: dict[str, int] = {
    "project": 1,
    "constraint": 1,
    "test": 1,
    "run": 1,
    "counter": 1,
    "key": 1,
    "audit": 2,
    "doc": 1,
    "tx": 1,
    "meta": 1,
}
_BATCH = 25  # items per TransactWriteItems of a step: small enough to retry cheaply
Log = Callable[[str], None]


def kind_of(key: Key) -> str:
    pk, sk = key
    if pk == "PROJECT":
        return "project"
    if pk.startswith("P#"):
        if sk in ("TESTS", "RUNS"):
            return "counter"
        tail = pk.rsplit("#", 2)
        if pk.endswith("#C"):
            return "constraint"
        return "test" if pk.endswith("#T") or (len(tail) == 3 and tail[1] == "TID") else "run"
    if pk in ("KEY", "KEYS") or pk.startswith("KEYHASH#"):
        return "key"
    if pk.startswith("AUDIT"):
        return "audit"
    if pk.startswith("DOC"):
        return "doc"
    if pk.startswith("TX#"):
        return "tx"
    return "meta"


def fmt_of(item: Item) -> int:
    """An item's format: its ``fmt``, else 1, except audit items, whose keys say it."""
    if FMT_ATTR in item:
        return to_int(item[FMT_ATTR])
    key = key_of(item)
    if kind_of(key) == "audit" and key[0] not in (audit_items.LEGACY_PK, audit_items.LEGACY_HEAD[0]):
        return 2
    return 1


def readable(item: Item) -> bool:
    """Whether this release reads the item: its kind's current format or the one before."""
    current = ITEM_FORMATS[kind_of(key_of(item))]
    return current - 1 <= fmt_of(item) <= current


# -- the runner ---------------------------------------------------------------------------------


@dataclass
class Ctx:
    """One run of one step in one direction: where it is (phase, cursor) and how to save that."""

    table: Table
    step: int
    direction: str  # "up" | "down"
    phase: str = "start"
    cursor: Any = None
    committed: bool = False
    page_size: int = 100
    log: Log = field(default=lambda message: None)

    def checkpoint(self, phase: str, cursor: Any = None) -> None:
        self.phase, self.cursor = phase, cursor
        self.table.update(
            META_KEY,
            "SET p_phase = :ph, p_cursor = :c",
            cond="p_step = :s AND p_dir = :d",
            ExpressionAttributeValues={
                ":ph": S(phase), ":c": S(json.dumps(cursor)), ":s": N(str(self.step)), ":d": S(self.direction)
            },
        )  # fmt: skip

    def scan(self, filter_expr: str, values: dict[str, Any]) -> Iterator[tuple[list[Item], Any]]:
        """Pages of the table from the saved cursor: (items, the cursor after them; None at the end)."""
        kw: dict[str, Any] = {
            "TableName": self.table.name,
            "FilterExpression": filter_expr,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
            "Limit": self.page_size,
        }
        start = self.cursor
        while True:
            if start:
                kw["ExclusiveStartKey"] = start
            resp = self.table.client.scan(**kw)
            start = resp.get("LastEvaluatedKey")
            yield resp.get("Items", []), start
            if not start:
                return


@dataclass(frozen=True)
class FormatStep:
    version: int
    summary: str
    up: Callable[[Ctx], None]
    down: Callable[[Ctx], None]
    abort: Callable[[Ctx], None]  # undo what the failed direction did before its commit point
    loses: Callable[[Table], str | None]


def _nothing(ctx: Ctx) -> None:
    return None


def _no_loss(table: Table) -> str | None:
    return None


# -- step 2: the audit trail in shards ------------------------------------------------------------


def _seal(ctx: Ctx) -> None:
    audit_items.migrate(ctx.table)


def _folded_item(rec: dict[str, Any], seq: int, prev: str) -> Item:
    """A shard record as the single-chain release wrote its records, chained at `seq` after `prev`."""
    details = rec["details"]
    h = record_hash(
        prev, seq=seq, id=rec["id"], at=rec["at"], principal=rec["principal"], action=rec["action"],
        project_id=rec["project_id"], target=rec["target"], details=json.loads(details),
    )  # fmt: skip
    item: Item = {
        "pk": S(audit_items.LEGACY_PK), "sk": S(enc_int(seq)), "seq": N(str(seq)), "id": S(rec["id"]),
        "at": S(rec["at"]), "principal": S(rec["principal"]), "action": S(rec["action"]),
        "details": S(details), "prev_hash": S(prev), "hash": S(h),
        GSI2_PK: S(audit_items.by_action_pk(rec["action"])), GSI2_SK: S(enc_int(seq)),
        "folded_from": S(f"{rec['shard']}#{rec['seq']}"), "folded_hash": S(rec["hash"]),
    }  # fmt: skip
    if rec["project_id"] is not None:
        item["project_id"] = S(rec["project_id"])
        item[GSI1_PK], item[GSI1_SK] = S(audit_items.by_project_pk(rec["project_id"])), S(enc_int(seq))
    if rec["target"] is not None:
        item["target"] = S(rec["target"])
    return item


def _shard_records(table: Table) -> Iterator[dict[str, Any]]:
    """Every shard's records merged in tenant-wide order (`ord`), one page per shard in memory."""

    def one(shard: str) -> Iterator[dict[str, Any]]:
        for item in table.query(audit_items.shard_pk(shard), begins="R#"):
            r = audit_items.row(item, shard)
            yield {
                "ord": get_s(item, "ord") or "", "shard": r[0], "seq": r[1], "id": r[2], "at": r[3],
                "principal": r[4], "action": r[5], "project_id": r[6], "target": r[7], "details": r[8],
                "hash": r[10],
            }  # fmt: skip

    shards = [get_s(i, "shard") or "" for i in table.query(audit_items.REGISTRY_PK)]
    return heapq.merge(*(one(s) for s in shards), key=lambda r: str(r["ord"]))


def _put_batch(table: Table, items: list[Item]) -> None:
    """Conditional puts: absent, or already this very record (a resumed run)."""
    ops = [
        {
            "Put": {
                "TableName": table.name,
                "Item": it,
                "ConditionExpression": "attribute_not_exists(pk) OR id = :id",
                "ExpressionAttributeValues": {":id": it["id"]},
            }
        }
        for it in items
    ]
    try:
        table.transact(ops)
    except Cancelled as c:
        raise RuntimeError(
            f"folding the audit trail met a record it did not write in the single chain ({c.codes}); "
            "is an old-release writer running? Stop writers and run migrate again."
        ) from None


def _fold(ctx: Ctx) -> None:
    table = ctx.table
    anchor = audit_items.read_anchor(table)
    if ctx.phase in ("start", "copy"):
        if anchor is None:  # nothing sealed: already format 1
            return
        if ctx.phase == "start":
            _verify(table)
        done = int(ctx.cursor or 0)
        seq, prev, batch = anchor.seq, anchor.hash, []
        for rec in _shard_records(table):
            seq += 1
            item = _folded_item(rec, seq, prev)
            prev = item["hash"]["S"]
            if seq <= done:
                continue
            batch.append(item)
            if len(batch) == _BATCH:
                _put_batch(table, batch)
                ctx.checkpoint("copy", seq)
                batch = []
        if batch:
            _put_batch(table, batch)
        ctx.checkpoint("copy", seq)
        ctx.log(f"audit: {seq - anchor.seq} shard records folded after the legacy prefix (seq {anchor.seq})")
        _switch(ctx, anchor, seq, prev)
    _cleanup(ctx)


def _verify(table: Table) -> None:
    """Refuse to fold a trail that does not verify: re-hashing would hide the tampering."""
    from optiloop.store.dynamodb.store import DynamoStore

    result = DynamoStore(table.name, client=table.client).audit.verify()
    if not result.ok:
        raise RuntimeError(
            f"the audit trail does not verify ({result.problem}); folding it would re-hash the records and "
            "hide that, so the table keeps its format. Investigate with GET /v1/audit/verify first."
        )


def _switch(ctx: Ctx, anchor: Any, seq: int, h: str) -> None:
    """The commit point: the single chain gets its head back and the anchor goes, in one transaction,
    with the table's version; from here on the step can only be finished, not undone."""
    t = ctx.table.name
    ops: list[dict[str, Any]] = [
        {
            "Delete": {
                "TableName": t, "Key": key_map(audit_items.ANCHOR_KEY),
                "ConditionExpression": "#h = :h", "ExpressionAttributeNames": {"#h": "hash"},
                "ExpressionAttributeValues": {":h": S(anchor.hash)},
            }
        },
        {
            "Update": {
                "TableName": t, "Key": key_map(META_KEY),
                "UpdateExpression": "SET #ver = :v, p_phase = :ph, p_cursor = :c",
                "ExpressionAttributeNames": {"#ver": "version"},
                "ConditionExpression": "p_step = :s AND p_dir = :d",
                "ExpressionAttributeValues": {
                    ":v": N("1"), ":ph": S("cleanup"), ":c": S("null"), ":s": N("2"), ":d": S("down")
                },
            }
        },
    ]  # fmt: skip
    if seq > 0:
        head = {**key_map(audit_items.LEGACY_HEAD), "seq": N(str(seq)), "hash": S(h)}
        ops.append({"Put": {"TableName": t, "Item": head, "ConditionExpression": "attribute_not_exists(pk)"}})
    ctx.table.transact(ops)
    ctx.committed, ctx.phase = True, "cleanup"


def _delete_all(table: Table, keys: list[Key]) -> None:
    for i in range(0, len(keys), _BATCH):
        table.transact(
            [{"Delete": {"TableName": table.name, "Key": key_map(k)}} for k in keys[i : i + _BATCH]]
        )


def _cleanup(ctx: Ctx) -> None:
    """Remove what format 1 does not have: shard records and heads, the registry, the digests.
    Idempotent (unconditional deletes, found afresh each time); a shard leaves the registry last."""
    ctx.committed = True
    table = ctx.table
    for reg in list(table.query(audit_items.REGISTRY_PK)):
        shard = get_s(reg, "shard") or ""
        keys = [key_of(i) for i in table.query(audit_items.shard_pk(shard), projection="pk, sk")]
        _delete_all(table, keys)
        _delete_all(table, [key_of(reg)])
    digests = [key_of(i) for i in table.query(audit_items.DIGEST_PK, projection="pk, sk")]
    _delete_all(table, digests)
    ctx.log(f"audit: shard items, registry and {len(digests)} digests removed")


def _unfold(ctx: Ctx) -> None:
    """Undo a fold stopped before its commit point: delete the folded records past the anchor."""
    anchor = audit_items.read_anchor(ctx.table)
    if anchor is None:
        return
    for item in list(ctx.table.query(audit_items.LEGACY_PK, gt=enc_int(anchor.seq))):
        ctx.table.delete(key_of(item), cond="attribute_exists(folded_from)")


def _digests_lost(table: Table) -> str | None:
    n = sum(1 for _ in table.query(audit_items.DIGEST_PK, projection="pk"))
    if not n:
        return None
    return (
        f"item format 2 down drops {n} signed audit digests (they commit to shard heads the fold re-chains; "
        "copies stay under digests/ in the audit bucket)"
    )


# -- step 3: fmt on project items (a no-op that exercises the machinery) ---------------------------


def _stamp(ctx: Ctx, up: bool) -> None:
    values = {":p": S("PROJECT")}
    for items, after in ctx.scan("pk = :p", values):
        for item in items:
            if up:
                ctx.table.update(
                    key_of(item),
                    f"SET {FMT_ATTR} = :v",
                    cond=f"attribute_exists(pk) AND attribute_not_exists({FMT_ATTR})",
                    ExpressionAttributeValues={":v": N("1")},
                )
            else:
                ctx.table.update(
                    key_of(item),
                    f"REMOVE {FMT_ATTR}",
                    cond=f"{FMT_ATTR} = :v",
                    ExpressionAttributeValues={":v": N("1")},
                )
        ctx.checkpoint("scan", after)


# -- step 4: listings in creation order (models, prompts, prompt deployments) --------------------


def _resort(ctx: Ctx, rule: Callable[[str, str, str, dict[str, Any]], Any], *, save: bool = True) -> None:
    """Move each document of `listing_order.KINDS` that `rule` places elsewhere to its new listing
    key: one transaction per document puts the by-id item with the new sort (on condition its rev is
    the one read, so a concurrent write is never overwritten: it is read again), deletes the old
    listing item and puts the new one. The rev is kept, so a writer that read the document before is
    not refused; a writer of this release computes the same sort. Pages of the scan are checkpointed
    (`save`), so a run that died resumes at its page."""
    kinds = {f":k{i}": S(k) for i, k in enumerate(listing_order.KINDS)}
    where = f"sk = :doc AND kind IN ({', '.join(kinds)})"
    for items, after in ctx.scan(where, {":doc": S(docs.ID_SK), **kinds}):
        for item in items:
            for _ in range(_ATTEMPTS):
                placed = rule(
                    item["kind"]["S"], item["id"]["S"], item["sort"]["S"], json.loads(item["data"]["S"])
                )
                if placed is None or _move_listing(ctx.table, item, *placed):
                    break
                fresh = ctx.table.get(key_of(item))
                if fresh is None:  # deleted meanwhile: nothing to move
                    break
                item = fresh
            else:
                raise RuntimeError(
                    f"document {item['kind']['S']} {item['id']['S']!r} kept changing; run migrate again"
                )
        if save:
            ctx.checkpoint("scan", after)


_ATTEMPTS = 5


def _move_listing(table: Table, item: Item, sort: str, data: dict[str, Any]) -> bool:
    """One document to its new sort, all three writes or none; False if it changed since read."""
    old_key = docs.listing_key(item["kind"]["S"], item["scope"]["S"], item["sort"]["S"], item["id"]["S"])
    new_key = docs.listing_key(item["kind"]["S"], item["scope"]["S"], sort, item["id"]["S"])
    body = {**item, "sort": S(sort), "data": S(json.dumps(data, separators=(",", ":"), ensure_ascii=False))}
    by_id = {**body, "pk": item["pk"], "sk": item["sk"]}
    listed = {**body, "pk": S(new_key[0]), "sk": S(new_key[1])}
    t = table.name
    ops: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": t, "Item": by_id, "ConditionExpression": "rev = :r",
                "ExpressionAttributeValues": {":r": item["rev"]},
            }
        },
        {"Delete": {"TableName": t, "Key": key_map(old_key)}},
        {"Put": {"TableName": t, "Item": listed}},
    ]  # fmt: skip
    try:
        table.transact(ops)
    except Cancelled:
        return False
    return True


def _resort_up(ctx: Ctx) -> None:
    _resort(ctx, listing_order.up)


def _resort_down(ctx: Ctx) -> None:
    _resort(ctx, listing_order.down)


def _resort_abort(ctx: Ctx) -> None:
    """Undo a direction stopped part-way: the other rule over every document (each is idempotent)."""
    back = Ctx(ctx.table, ctx.step, ctx.direction, page_size=ctx.page_size, log=ctx.log)
    _resort(back, listing_order.down if ctx.direction == "up" else listing_order.up, save=False)


STEPS: list[FormatStep] = [
    FormatStep(2, "audit trail in shards", _seal, _fold, _unfold, _digests_lost),
    FormatStep(
        3,
        "fmt on project items (no-op)",
        lambda c: _stamp(c, True),
        lambda c: _stamp(c, False),
        _nothing,
        _no_loss,
    ),
    FormatStep(4, "listings in creation order", _resort_up, _resort_down, _resort_abort, _no_loss),
]
LATEST_FORMAT = STEPS[-1].version
_FIRST = 1


def _meta(table: Table) -> Item | None:
    return table.get(META_KEY)


def table_version(table: Table) -> int:
    """The version in the ``FORMAT`` item, else detected (2 if the audit anchor exists, else 1); a
    format-1 table that a writer of this release sealed since is 2 whatever the item says."""
    meta = _meta(table)
    have = to_int(meta["version"]) if meta is not None and "version" in meta else _FIRST
    if have < 2 and audit_items.read_anchor(table) is not None:
        have = 2
    return have


def _claim(table: Table, step: int, direction: str) -> None:
    """Record the running step; refused while another step is recorded as running."""
    ok = table.update(
        META_KEY,
        "SET p_step = :s, p_dir = :d, p_phase = if_not_exists(p_phase, :ph), "
        "p_cursor = if_not_exists(p_cursor, :c)",
        cond="attribute_not_exists(p_step) OR (p_step = :s AND p_dir = :d)",
        ExpressionAttributeValues={
            ":s": N(str(step)),
            ":d": S(direction),
            ":ph": S("start"),
            ":c": S("null"),
        },
    )
    if not ok:
        raise RuntimeError(
            "another migration step is recorded as running in this table; run migrate to resume it"
        )


def _finish(table: Table, version: int) -> None:
    table.update(
        META_KEY,
        "SET #ver = :v REMOVE p_step, p_dir, p_phase, p_cursor",
        ExpressionAttributeNames={"#ver": "version"},
        ExpressionAttributeValues={":v": N(str(version))},
    )


def _run(table: Table, step: FormatStep, direction: str, log: Log, page_size: int, meta: Item | None) -> None:
    ctx = Ctx(table, step.version, direction, page_size=page_size, log=log)
    if meta is not None and get_s(meta, "p_dir") == direction and "p_step" in meta:
        ctx.phase = get_s(meta, "p_phase") or "start"
        ctx.cursor = json.loads(get_s(meta, "p_cursor") or "null")
        log(f"step {step.version} {direction}: resuming at {ctx.phase}")
    _claim(table, step.version, direction)
    log(f"step {step.version} {direction}: {step.summary}")
    try:
        (step.up if direction == "up" else step.down)(ctx)
    except BaseException:
        if not ctx.committed and ctx.phase != "cleanup":
            try:
                step.abort(ctx)
                table.update(META_KEY, "REMOVE p_step, p_dir, p_phase, p_cursor")
                log(f"step {step.version} {direction} failed and was undone: version {table_version(table)}")
            except Exception as undo:  # the next run resumes it instead
                log(f"step {step.version} {direction} failed, not undone ({undo}); run migrate again")
        raise
    _finish(table, step.version if direction == "up" else step.version - 1)


def migrate_table(
    table: Table,
    target: int | None = None,
    *,
    allow_data_loss: bool = False,
    log: Log | None = None,
    page_size: int = 100,
) -> int:
    """Bring the table's item formats to `target` (default LATEST_FORMAT), one step at a time; first
    finishes or undoes a step an earlier run left recorded. Returns the version reached."""
    say: Log = log or (lambda message: None)
    want = LATEST_FORMAT if target is None else target
    if not _FIRST <= want <= LATEST_FORMAT:
        raise ValueError(f"no item format version {want}: this release knows {_FIRST}..{LATEST_FORMAT}")
    by_version = {s.version: s for s in STEPS}
    meta = _meta(table)
    if meta is not None and "p_step" in meta:  # an earlier run stopped inside a step
        step, direction = by_version[to_int(meta["p_step"])], get_s(meta, "p_dir") or "up"
        going_up = want >= step.version
        if (direction == "up") == going_up or get_s(meta, "p_phase") == "cleanup":
            _run(table, step, direction, say, page_size, meta)
        else:
            say(f"step {step.version} {direction}: undoing what an earlier run left")
            step.abort(Ctx(table, step.version, direction, log=say))
            table.update(META_KEY, "REMOVE p_step, p_dir, p_phase, p_cursor")
    have = table_version(table)
    if want < have and not allow_data_loss:
        losses = [m for s in reversed(STEPS) if want < s.version <= have if (m := s.loses(table))]
        if losses:
            raise DataLossRefused(want, losses)
    while have != want:
        if have < want:
            _run(table, by_version[have + 1], "up", say, page_size, None)
        else:
            _run(table, by_version[have], "down", say, page_size, None)
        have = table_version(table)
    if _meta(table) is None:
        _finish(table, have)  # record a detected version, so the next run need not detect it
    return have
