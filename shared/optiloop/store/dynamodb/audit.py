"""The audit trail on DynamoDB: one hash chain per shard, no item shared by two projects' writers.

Items (``esc`` escapes ``#`` and ``%`` in names):

* record ``AUDIT#S#<shard> / R#<seq>``: the record, its ``shard`` and ``ord`` (tenant order); GSI1
  ``AUDIT#T#<yyyy-mm>#<bucket>`` and GSI2 ``AUDIT#A#<action>#<yyyy-mm>#<bucket>`` sorted by ``ord``
  serve the tenant-wide listings. The bucket (crc32 of the shard mod 8) spreads one month's index
  writes over 8 partitions, so the index has no hot partition either.
* head ``AUDIT#S#<shard> / HEAD``: the shard's last seq and hash. An append puts its records
  (condition: seq free) and moves the head (condition: unchanged since read) in the caller's
  transaction. Only writers of the same project contend, and they already do on the project's
  counters; the committer retries them and, past its attempts, raises `Contended` (HTTP 409 with
  Retry-After) naming the item.
* registry ``AUDIT#SHARDS / <shard>``: written with a shard's first record (unconditional, so never
  contended): how the digest sealer and `verify` find every shard.
* anchor ``AUDIT#ANCHOR / ANCHOR``: where every shard's chain starts (see `optiloop.audit.shards`).
* digests ``AUDIT#DIGEST / <n>``, written by the sealer (`optiloop.audit.digest`).
* legacy: the single chain of earlier releases stays where it was (``AUDIT / <seq>``, GSI1
  ``AUDIT#P#<project>``, GSI2 ``AUDIT#A#<action>``). The first writer of this release that finds no
  anchor seals it (`migrate`): one transaction deletes the old head ``AUDIT#HEAD`` (on condition it
  still holds what was read) and writes the anchor with that (seq, hash). An old-release writer that
  is still running then fails (its head condition can no longer hold) instead of extending it.

Inside `Store.transaction()` a record's seq, hash and time are only final at commit (`commit.py`);
`append` returns the record chained as things look then, and the commit updates it in place.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from optiloop.audit.chain import GENESIS_HASH, canonical_json, hash_of, new_audit_id, utc_now_ms
from optiloop.audit.shards import (
    LEGACY_SHARD,
    TIME_BUCKETS,
    bucket_of,
    decode_cursor,
    first_shard_ord,
    month_of,
    next_month,
    ord_of,
    shard_of,
)
from optiloop.errors import Conflict
from optiloop.store.dynamodb.codec import Item, Key, N, S, dec_int, enc_int, esc, get_s, join, opt_s, to_int
from optiloop.store.dynamodb.session import Session
from optiloop.store.dynamodb.table import Cancelled, Table, key_map
from optiloop.store.dynamodb.table_spec import GSI1, GSI1_PK, GSI1_SK, GSI2, GSI2_PK, GSI2_SK
from optiloop.store.ports import AuditRepo
from optiloop.store.records import AuditHead, AuditRecord

if TYPE_CHECKING:
    from optiloop.store.dynamodb.commit import Committer

MAX_LIST = 1000
LEGACY_PK = "AUDIT"
AUDIT_PK = LEGACY_PK  # the name earlier releases (and their tests) used for the single chain
LEGACY_HEAD: Key = ("AUDIT#HEAD", "HEAD")
HEAD_KEY = LEGACY_HEAD
ANCHOR_KEY: Key = ("AUDIT#ANCHOR", "ANCHOR")
REGISTRY_PK = "AUDIT#SHARDS"
DIGEST_PK = "AUDIT#DIGEST"
HEAD_SK = "HEAD"
_SEQ_MIN, _SEQ_MAX = -(2**63), 2**63 - 1


def shard_pk(shard: str) -> str:
    return join("AUDIT", "S", esc(shard))


def record_sk(seq: int) -> str:
    return "R#" + enc_int(seq, "audit seq")


def head_key(shard: str) -> Key:
    return shard_pk(shard), HEAD_SK


def by_project_pk(project_id: str) -> str:
    """Legacy records' index partition (GSI1)."""
    return join("AUDIT", "P", esc(project_id))


def by_action_pk(action: str) -> str:
    """Legacy records' index partition (GSI2)."""
    return join("AUDIT", "A", esc(action))


def time_pk(month: str, bucket: int) -> str:
    return join("AUDIT", "T", month, str(bucket))


def action_time_pk(action: str, month: str, bucket: int) -> str:
    return join("AUDIT", "A", esc(action), month, str(bucket))


def encode(rec: AuditRecord) -> Item:
    shard = rec.shard or shard_of(rec.project_id)
    ord_text = ord_of(shard, rec.seq, rec.at)
    month, bucket = month_of(rec.at), bucket_of(shard)
    item: Item = {
        "pk": S(shard_pk(shard)),
        "sk": S(record_sk(rec.seq)),
        "shard": S(shard),
        "ord": S(ord_text),
        "seq": N(str(rec.seq)),
        "id": S(rec.id),
        "at": S(rec.at),
        "principal": S(rec.principal),
        "action": S(rec.action),
        "details": S(canonical_json(rec.details)),
        "prev_hash": S(rec.prev_hash),
        "hash": S(rec.hash),
        GSI1_PK: S(time_pk(month, bucket)),
        GSI1_SK: S(ord_text),
        GSI2_PK: S(action_time_pk(rec.action, month, bucket)),
        GSI2_SK: S(ord_text),
    }
    opt_s(item, "project_id", rec.project_id)
    opt_s(item, "target", rec.target)
    return item


def _seq_of(item: Item) -> int:
    if "seq" in item:
        return to_int(item["seq"])
    sk = item["sk"]["S"]
    return dec_int(sk[2:] if sk.startswith("R#") else sk)


def decode(item: Item) -> AuditRecord:
    """Tolerates whatever tampering left behind: the record then simply fails `verify`."""
    text = get_s(item, "details")
    try:
        details: Any = json.loads(text) if text is not None else None
    except ValueError:
        details = {"<unparseable>": text}
    return AuditRecord(
        seq=_seq_of(item),
        id=get_s(item, "id") or "",
        at=get_s(item, "at") or "",
        principal=get_s(item, "principal") or "",
        action=get_s(item, "action") or "",
        project_id=get_s(item, "project_id"),
        target=get_s(item, "target"),
        details=details,
        prev_hash=get_s(item, "prev_hash") or "",
        hash=get_s(item, "hash") or "",
        shard=get_s(item, "shard") or LEGACY_SHARD,
    )


def row(item: Item, shard: str) -> tuple[Any, ...]:
    """A verification row (`optiloop.audit.verify.Row`) straight from the item."""
    return (
        get_s(item, "shard") or shard,
        _seq_of(item),
        get_s(item, "id") or "",
        get_s(item, "at") or "",
        get_s(item, "principal") or "",
        get_s(item, "action") or "",
        get_s(item, "project_id"),
        get_s(item, "target"),
        get_s(item, "details") or "",
        get_s(item, "prev_hash") or "",
        get_s(item, "hash") or "",
    )


def chain(head: tuple[int, str], drafts: list[AuditRecord], at: str | None = None) -> list[AuditRecord]:
    """The drafts with seq, prev_hash and hash continuing from `head` (and time `at` if given: the
    committer stamps records at commit, so a shard's records are in time order as well as seq)."""
    seq, prev = head
    out = []
    for r in drafts:
        seq += 1
        chained = replace(r, seq=seq, prev_hash=prev, at=at or r.at)
        prev = hash_of(chained)
        out.append(replace(chained, hash=prev))
    return out


def chain_ops(
    table: str, shard: str, head: tuple[int, str], exists: bool, records: list[AuditRecord]
) -> list[dict[str, Any]]:
    """Put each record (its seq must be free) and move the shard's head (unchanged since read); a new
    shard's first append also registers it."""
    ops: list[dict[str, Any]] = [
        {"Put": {"TableName": table, "Item": encode(r), "ConditionExpression": "attribute_not_exists(pk)"}}
        for r in records
    ]
    update: dict[str, Any] = {
        "TableName": table,
        "Key": key_map(head_key(shard)),
        "UpdateExpression": "SET #q = :s, #h = :h, #sh = :sh",
        "ExpressionAttributeNames": {"#q": "seq", "#h": "hash", "#sh": "shard"},
        "ExpressionAttributeValues": {
            ":s": N(str(records[-1].seq)),
            ":h": S(records[-1].hash),
            ":sh": S(shard),
        },
    }
    if not exists:
        update["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        update["ConditionExpression"] = "#q = :ps AND #h = :ph"
        update["ExpressionAttributeValues"].update({":ps": N(str(head[0])), ":ph": S(head[1])})
    ops.append({"Update": update})
    if not exists:
        registry = {"pk": S(REGISTRY_PK), "sk": S(esc(shard)), "shard": S(shard), "since": S(records[0].at)}
        ops.append({"Put": {"TableName": table, "Item": registry}})
    return ops


def read_anchor(table: Table) -> AuditHead | None:
    item = table.get(ANCHOR_KEY)
    return anchor_of(item) if item is not None else None


def read_legacy_head(table: Table) -> AuditHead | None:
    """The single chain's head on a table not sealed yet (format 1), as the anchor would hold it."""
    item = table.get(LEGACY_HEAD)
    return anchor_of(item) if item is not None else None


def anchor_of(item: Item) -> AuditHead:
    return AuditHead(LEGACY_SHARD, to_int(item["seq"]), item["hash"]["S"])


def migrate(table: Table) -> AuditHead:
    """Seal the single chain of earlier releases (if any) as the anchor; idempotent, race-safe.

    With a legacy head: delete it (condition: still the values read) and put the anchor with them,
    in one transaction. Without: put the anchor (0, genesis) on condition that no legacy head
    appeared meanwhile. Whoever loses a race simply reads the winner's anchor.
    """
    for _ in range(5):
        found = read_anchor(table)
        if found is not None:
            return found
        legacy = table.get(LEGACY_HEAD)
        seq, h = (to_int(legacy["seq"]), legacy["hash"]["S"]) if legacy else (0, GENESIS_HASH)
        anchor: dict[str, Any] = {
            "Put": {
                "TableName": table.name,
                "Item": {**key_map(ANCHOR_KEY), "seq": N(str(seq)), "hash": S(h), "since": S(utc_now_ms())},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        guard: dict[str, Any] = {"TableName": table.name, "Key": key_map(LEGACY_HEAD)}
        if legacy is None:
            op = {"ConditionCheck": {**guard, "ConditionExpression": "attribute_not_exists(pk)"}}
        else:
            op = {
                "Delete": {
                    **guard,
                    "ConditionExpression": "#q = :q AND #h = :h",
                    "ExpressionAttributeNames": {"#q": "seq", "#h": "hash"},
                    "ExpressionAttributeValues": {":q": N(str(seq)), ":h": S(h)},
                }
            }
        try:
            table.transact([anchor, op])
        except Cancelled:
            continue  # someone else migrated, or an old writer appended: look again
        return AuditHead(LEGACY_SHARD, seq, h)
    raise Conflict("could not seal the legacy audit chain: it kept changing; retry")


class DynamoAuditRepo(AuditRepo):
    def __init__(self, table: Table, session: Session, committer: Committer) -> None:
        self._table = table
        self._session = session
        self._committer = committer  # owns the cached shard heads and the anchor

    def append(
        self,
        *,
        principal: str,
        action: str,
        project_id: str | None,
        target: str | None,
        details: dict[str, Any],
    ) -> AuditRecord:
        for name, value in (("principal", principal), ("action", action)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"audit {name} must be a non-empty string")
        text = canonical_json(details)
        details = json.loads(text)  # what a later read returns (tuples -> lists etc.), so hashes agree
        shard = shard_of(project_id)
        draft = AuditRecord(
            seq=0,
            id=new_audit_id(),
            at=utc_now_ms(),
            principal=principal,
            action=action,
            project_id=project_id,
            target=target,
            details=details,
            shard=shard,
        )
        with self._session.write() as p:
            mine = [r for r in p.audit if r.shard == shard]
            base = (mine[-1].seq, mine[-1].hash) if mine else self._committer.head(shard)[:2]
            (rec,) = chain(base, [draft])  # raises ValueError for text with no UTF-8 form, before buffering
            encode(rec)  # refuses what DynamoDB would refuse (e.g. an empty project id), also before
            p.audit.append(rec)
        return rec

    # -- listings ----------------------------------------------------------------------------

    def list(
        self,
        *,
        project_id: str | None = None,
        action: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
        after: str | None = None,
    ) -> list[AuditRecord]:
        """At most 1000 per call. A project's listing reads its shard's partition (strongly
        consistent); tenant-wide listings merge the time-index buckets (GSIs: eventually consistent,
        so a record can take a moment to appear there, never in a wrong order or twice)."""
        limit = min(limit, MAX_LIST)
        if limit <= 0:
            return []
        if project_id is not None:
            out = self._project(project_id, action, after_seq, limit)
            key: Callable[[AuditRecord], Any] = lambda r: r.seq  # noqa: E731
        else:
            cursor = decode_cursor(after) if after is not None else None
            out = self._tenant(action, cursor, limit)
            key = lambda r: ord_of(r.shard, r.seq, r.at)  # noqa: E731
        p = self._session.pending
        if p is not None and p.audit:  # this transaction's own, not yet committed records
            mine = [
                r
                for r in p.audit
                if (project_id is None or r.project_id == project_id)
                and (action is None or r.action == action)
                and (
                    r.seq > after_seq
                    if project_id is not None
                    else after is None or key(r) > decode_cursor(after)
                )
            ]
            out = sorted([*out, *mine], key=key)[:limit]
        return out

    def _flt(self, action: str | None) -> dict[str, Any]:
        if action is None:
            return {}
        return {"filter_expr": "#act = :act", "names": {"#act": "action"}, "values": {":act": S(action)}}

    def _project(
        self, project_id: str, action: str | None, after_seq: int, limit: int
    ) -> builtins.list[AuditRecord]:
        anchor = self.anchor()  # a listing never seals: on a format-1 table it reads the single chain
        out: builtins.list[AuditRecord] = []
        after_seq = max(_SEQ_MIN, min(_SEQ_MAX, after_seq))
        if after_seq < anchor.seq:  # the project's records in the sealed legacy chain come first
            items = self._table.query(
                by_project_pk(project_id), index=GSI1, pk_name=GSI1_PK, sk_name=GSI1_SK,
                gt=enc_int(after_seq), limit=limit, **self._flt(action),
            )  # fmt: skip
            out = [decode(i) for i in items]
        if len(out) < limit:
            start = max(after_seq, anchor.seq)
            items = self._table.query(
                shard_pk(shard_of(project_id)),
                gt=record_sk(max(start, _SEQ_MIN + 1)),
                limit=limit - len(out),
                **self._flt(action),
            )
            out += [decode(i) for i in items]
        return out

    def _tenant(self, action: str | None, cursor: str | None, limit: int) -> builtins.list[AuditRecord]:
        out: builtins.list[AuditRecord] = []
        if cursor is None or cursor < first_shard_ord():
            after = int(cursor[2:]) if cursor else 0
            if action is None:
                items = self._table.query(LEGACY_PK, gt=enc_int(after), limit=limit)
            else:
                items = self._table.query(
                    by_action_pk(action), index=GSI2, pk_name=GSI2_PK, sk_name=GSI2_SK,
                    gt=enc_int(after), limit=limit,
                )  # fmt: skip
            out = [decode(i) for i in items]
            cursor = first_shard_ord()
        anchor_item = self._table.get(ANCHOR_KEY)
        if anchor_item is None or len(out) >= limit:
            return out
        since = get_s(anchor_item, "since") or utc_now_ms()
        month = max(month_of(since), month_of(cursor[2:]) if len(cursor) > 9 else "0000-00")
        last = month_of(utc_now_ms())
        while len(out) < limit and month <= next_month(last):
            page: builtins.list[Item] = []
            for b in range(TIME_BUCKETS):
                if action is None:
                    pk, index, pkn, skn = time_pk(month, b), GSI1, GSI1_PK, GSI1_SK
                else:
                    pk, index, pkn, skn = action_time_pk(action, month, b), GSI2, GSI2_PK, GSI2_SK
                page += self._table.query(
                    pk, index=index, pk_name=pkn, sk_name=skn, gt=cursor, limit=limit - len(out)
                )
            page.sort(key=lambda i: i["ord"]["S"])
            out += [decode(i) for i in page[: limit - len(out)]]
            month = next_month(month)
        return out

    # -- what verification and the digest sealer read --------------------------------------

    def anchor(self) -> AuditHead:
        return self._committer.anchor(create=False)

    def shards(self) -> builtins.list[str]:
        return [get_s(i, "shard") or "" for i in self._table.query(REGISTRY_PK)]

    def heads(self) -> builtins.list[AuditHead]:
        found = self._table.batch_get([head_key(s) for s in self.shards()])
        return sorted(
            (AuditHead(get_s(i, "shard") or "", to_int(i["seq"]), i["hash"]["S"]) for i in found.values()),
            key=lambda h: h.shard,
        )

    def rows(self, shard: str, after_seq: int = 0, limit: int | None = None) -> Iterator[tuple[Any, ...]]:
        """Page by page (constant memory); each page is a consistent read."""
        if shard == LEGACY_SHARD:
            items = self._table.query(LEGACY_PK, gt=enc_int(max(_SEQ_MIN, after_seq)), limit=limit)
        else:
            items = self._table.query(
                shard_pk(shard), gt=record_sk(max(_SEQ_MIN + 1, after_seq)), limit=limit
            )
        for i in items:
            yield row(i, shard)

    def add_digest(self, digest: dict[str, Any]) -> None:
        item = {
            "pk": S(DIGEST_PK),
            "sk": S(enc_int(int(digest["n"]))),
            "n": N(str(int(digest["n"]))),
            "body": S(canonical_json(digest)),
        }
        try:
            self._table.transact(
                [
                    {
                        "Put": {
                            "TableName": self._table.name,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                ]
            )
        except Cancelled:
            raise Conflict(f"audit digest {digest['n']} exists already") from None

    def digests(self) -> Iterator[dict[str, Any]]:
        for i in self._table.query(DIGEST_PK):
            yield _digest(i)

    def latest_digest(self) -> dict[str, Any] | None:
        for i in self._table.query(DIGEST_PK, forward=False, limit=1):
            return _digest(i)
        return None


def _digest(item: Item) -> dict[str, Any]:
    text = get_s(item, "body") or ""
    try:
        out = json.loads(text)
    except ValueError:
        return {"n": None, "<unparseable>": text}
    return out if isinstance(out, dict) else {"n": None, "<unparseable>": text}
