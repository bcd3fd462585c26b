"""The hash-chained audit trail on DynamoDB (hashing itself lives in `optiloop.audit.chain`).

Records live in one partition, ``AUDIT``, sorted by seq, so an unfiltered listing and `verify` are
consistent range reads. A head item (``AUDIT#HEAD``) holds the last seq and hash; every append puts
the record (condition: its seq is free) and moves the head (condition: it still holds the values
the new record chains to) in one transaction. Two writers that read the same head cannot both
commit: the loser's transaction is cancelled, and the committer re-reads the head, re-chains and
retries. Within one process an append lock makes that race rare (see `commit.py`).

Inside `Store.transaction()` the record's seq and hash are only known at commit; `append` returns
the record chained to the head as it looks then, and if another writer appended first, the commit
re-chains it and updates the returned object in place, so what the caller holds always matches what
was stored once the transaction has committed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from optiloop.audit.chain import (
    GENESIS_HASH,
    canonical_json,
    hash_of,
    new_audit_id,
    utc_now_ms,
    verify_chain,
)
from optiloop.store.dynamodb.codec import Item, Key, N, S, dec_int, enc_int, esc, get_s, join, opt_s, to_int
from optiloop.store.dynamodb.session import Session
from optiloop.store.dynamodb.table import Table, key_map
from optiloop.store.dynamodb.table_spec import GSI1, GSI1_PK, GSI1_SK, GSI2, GSI2_PK, GSI2_SK
from optiloop.store.ports import AuditRepo
from optiloop.store.records import AuditRecord

MAX_LIST = 1000
AUDIT_PK = "AUDIT"
HEAD_KEY: Key = ("AUDIT#HEAD", "HEAD")
_SEQ_MIN, _SEQ_MAX = -(2**63), 2**63 - 1


def by_project_pk(project_id: str) -> str:
    return join("AUDIT", "P", esc(project_id))


def by_action_pk(action: str) -> str:
    return join("AUDIT", "A", esc(action))


def encode(rec: AuditRecord) -> Item:
    sk = enc_int(rec.seq, "audit seq")
    item: Item = {
        "pk": S(AUDIT_PK),
        "sk": S(sk),
        "seq": N(str(rec.seq)),
        "id": S(rec.id),
        "at": S(rec.at),
        "principal": S(rec.principal),
        "action": S(rec.action),
        "details": S(canonical_json(rec.details)),
        "prev_hash": S(rec.prev_hash),
        "hash": S(rec.hash),
        GSI2_PK: S(by_action_pk(rec.action)),
        GSI2_SK: S(sk),
    }
    opt_s(item, "project_id", rec.project_id)
    opt_s(item, "target", rec.target)
    if rec.project_id is not None:
        item[GSI1_PK], item[GSI1_SK] = S(by_project_pk(rec.project_id)), S(sk)
    return item


def decode(item: Item) -> AuditRecord:
    """Tolerates whatever tampering left behind: the record then simply fails `verify`."""
    seq = to_int(item["seq"]) if "seq" in item else dec_int(item["sk"]["S"])
    text = get_s(item, "details")
    try:
        details: Any = json.loads(text) if text is not None else None
    except ValueError:
        details = {"<unparseable>": text}
    return AuditRecord(
        seq=seq,
        id=get_s(item, "id") or "",
        at=get_s(item, "at") or "",
        principal=get_s(item, "principal") or "",
        action=get_s(item, "action") or "",
        project_id=get_s(item, "project_id"),
        target=get_s(item, "target"),
        details=details,
        prev_hash=get_s(item, "prev_hash") or "",
        hash=get_s(item, "hash") or "",
    )


def read_head(table: Table) -> tuple[int, str]:
    item = table.get(HEAD_KEY)
    if item is None:
        return 0, GENESIS_HASH
    return to_int(item["seq"]), item["hash"]["S"]


def chain(head: tuple[int, str], drafts: list[AuditRecord]) -> list[AuditRecord]:
    """The drafts with seq, prev_hash and hash continuing from `head`."""
    seq, prev = head
    out = []
    for r in drafts:
        seq += 1
        chained = replace(r, seq=seq, prev_hash=prev)
        prev = hash_of(chained)
        out.append(replace(chained, hash=prev))
    return out


def chain_ops(table: str, head: tuple[int, str], records: list[AuditRecord]) -> list[dict[str, Any]]:
    """Put each record (its seq must be free) and move the head (it must be unchanged since read)."""
    ops: list[dict[str, Any]] = [
        {"Put": {"TableName": table, "Item": encode(r), "ConditionExpression": "attribute_not_exists(pk)"}}
        for r in records
    ]
    update: dict[str, Any] = {
        "TableName": table,
        "Key": key_map(HEAD_KEY),
        "UpdateExpression": "SET #q = :s, #h = :h",
        "ExpressionAttributeNames": {"#q": "seq", "#h": "hash"},
        "ExpressionAttributeValues": {":s": N(str(records[-1].seq)), ":h": S(records[-1].hash)},
    }
    if head[0] == 0:
        update["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        update["ConditionExpression"] = "#q = :ps AND #h = :ph"
        update["ExpressionAttributeValues"].update({":ps": N(str(head[0])), ":ph": S(head[1])})
    ops.append({"Update": update})
    return ops


class DynamoAuditRepo(AuditRepo):
    def __init__(self, table: Table, session: Session, head: Callable[[], tuple[int, str]]) -> None:
        self._table = table
        self._session = session
        self._head = head  # the committer's view of the chain head (cached, re-read on conflict)

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
        draft = AuditRecord(
            seq=0,
            id=new_audit_id(),
            at=utc_now_ms(),
            principal=principal,
            action=action,
            project_id=project_id,
            target=target,
            details=details,
        )
        with self._session.write() as p:
            base = (p.audit[-1].seq, p.audit[-1].hash) if p.audit else self._head()
            (rec,) = chain(base, [draft])  # raises ValueError for text with no UTF-8 form, before buffering
            encode(rec)  # refuses what DynamoDB would refuse (e.g. an empty project id), also before
            p.audit.append(rec)
        return rec

    def list(
        self,
        *,
        project_id: str | None = None,
        action: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[AuditRecord]:
        """Keyset pages by seq, at most 1000 per call.

        Unfiltered listings read the main table (strongly consistent); filtered ones read a GSI, so
        on AWS a record can take a moment to appear there (never in a wrong order or twice).
        """
        limit = min(limit, MAX_LIST)
        if limit <= 0:
            return []
        after = enc_int(max(_SEQ_MIN, min(_SEQ_MAX, after_seq)))
        items: Iterator[Item]
        if project_id is not None:
            flt = {"filter_expr": "#act = :act", "names": {"#act": "action"}, "values": {":act": S(action)}}
            items = self._table.query(
                by_project_pk(project_id),
                index=GSI1,
                pk_name=GSI1_PK,
                sk_name=GSI1_SK,
                gt=after,
                limit=limit,
                **(flt if action is not None else {}),  # type: ignore[arg-type]
            )
        elif action is not None:
            items = self._table.query(
                by_action_pk(action), index=GSI2, pk_name=GSI2_PK, sk_name=GSI2_SK, gt=after, limit=limit
            )
        else:
            items = self._table.query(AUDIT_PK, gt=after, limit=limit)
        out = [decode(i) for i in items]
        p = self._session.pending
        if p is not None and p.audit:  # this transaction's own, not yet committed records
            out.extend(
                r
                for r in p.audit
                if r.seq > after_seq
                and (project_id is None or r.project_id == project_id)
                and (action is None or r.action == action)
            )
            out.sort(key=lambda r: r.seq)
            out = out[:limit]
        return out

    def verify(self) -> tuple[bool, int | None]:
        """Streams the trail page by page (constant memory); each page is a consistent read."""
        return verify_chain(decode(i) for i in self._table.query(AUDIT_PK))
