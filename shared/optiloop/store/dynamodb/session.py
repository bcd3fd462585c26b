"""Per-thread write buffers: what `Store.transaction()` collects before one commit.

DynamoDB has no open transactions: TransactWriteItems is one request. So a transaction here is a
buffer of writes, kept per thread (two request threads never share one), committed at the outermost
exit and simply dropped on an exception. Nesting joins the outer buffer, as the port requires.

Reads inside a transaction must see its own writes (the ports promise it and the core relies on it:
`max_seq` right after `add_many`), so repositories overlay the buffer on what they read. Writes keep
their full item image for that purpose, which also means an update is buffered as a conditional put
of the new image: DynamoDB allows one operation per item per transaction, and a put can absorb any
number of earlier buffered changes to the same item.

A buffered write is a put or a delete, guarded by one condition on the stored item: ``new`` (absent;
optionally also an abandoned staged item, or one whose TTL attribute has passed), ``exists``,
``rev`` (its ``rev`` attribute equals a value: optimistic concurrency) or ``any`` (unguarded, for an
item another write of the same transaction already guards). A later write to the same item keeps
the first one's condition, because that condition is about the stored item, which the transaction
has not changed yet.

Each repository method validates everything (including reads that detect conflicts) before it
touches the buffer, so a method that raises leaves nothing behind even inside a transaction.

Some writes cannot be fixed at buffer time: the audit chain's next seq and hash and the per-project
counters depend on what other writers committed meanwhile, so the buffer only records the intent
(`audit`, `tests_max`, `runs_*`, `keys_added`) and the committer derives the items at commit time,
re-deriving them when it has to retry (see `commit.py`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from optiloop.errors import Conflict, NotFound, OptiLoopError
from optiloop.store.dynamodb.codec import Item, Key, item_size
from optiloop.store.dynamodb.table_spec import TTL_ATTRIBUTE
from optiloop.store.records import AuditRecord

Cond = Literal["new", "exists", "rev", "any"]


@dataclass
class Write:
    """One buffered write: the item's full image after a put (just its key for a delete) and the
    condition that guards it."""

    key: Key
    item: Item
    cond: Cond
    what: str  # names the record in error messages: "test seq 3 of project 'p1'"
    stageable: bool = False  # an insert-only history item that may be staged (see commit.py)
    replaces_tx: str | None = None  # cond "new": an abandoned staged item this put may overwrite
    rev: int | None = None  # cond "rev": the stored item's `rev` attribute must equal this
    expired_by: float | None = None  # cond "new": a stored item whose TTL attribute is <= this is absent
    delete: bool = False  # delete the item instead of putting `item`

    def op(self, table: str, tx: str | None = None) -> dict[str, Any]:
        if self.delete:
            kind, body = "Delete", {"TableName": table, "Key": {"pk": self.item["pk"], "sk": self.item["sk"]}}
        else:
            item = self.item if tx is None else {**self.item, "tx": {"S": tx}}
            kind, body = "Put", {"TableName": table, "Item": item}
        expr, names, values = self._condition()
        if expr:
            body["ConditionExpression"] = expr
        if names:
            body["ExpressionAttributeNames"] = names
        if values:
            body["ExpressionAttributeValues"] = values
        return {kind: body}

    def _condition(self) -> tuple[str | None, dict[str, str], dict[str, Any]]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if self.cond == "new":
            alternatives = ["attribute_not_exists(pk)"]
            if self.replaces_tx:
                alternatives.append("tx = :replaces")
                values[":replaces"] = {"S": self.replaces_tx}
            if self.expired_by is not None:
                alternatives.append("#ttl <= :now")
                names["#ttl"] = TTL_ATTRIBUTE
                values[":now"] = {"N": repr(float(self.expired_by))}
            return " OR ".join(alternatives), names, values
        if self.cond == "exists":
            return "attribute_exists(pk)", names, values
        if self.cond == "rev":
            if self.rev is None:
                raise ValueError(f"{self.what}: a rev condition needs the expected rev")
            return "#rev = :rev", {"#rev": "rev"}, {":rev": {"N": str(int(self.rev))}}
        return None, names, values

    def failure(self) -> OptiLoopError:
        """The domain error when the condition failed at commit time."""
        if self.cond == "new":
            return Conflict(f"{self.what} already exists")
        if self.cond == "rev":
            return Conflict(f"{self.what} was changed meanwhile (expected rev {self.rev})")
        if self.cond == "exists":
            return NotFound(f"{self.what} does not exist")
        return Conflict(f"{self.what}: the write was refused")

    def size(self) -> int:
        return item_size(self.item) + 40  # + the tx attribute a staged write carries


@dataclass
class Pending:
    """One thread's open transaction."""

    writes: dict[Key, Write] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)  # provisional seq/hash until commit
    tests_max: dict[str, int] = field(default_factory=dict)  # project -> highest seq written
    runs_max: dict[str, int] = field(default_factory=dict)
    runs_add: dict[str, list[Any]] = field(default_factory=dict)  # project -> [n, cost Decimal, failures]
    keys_added: int = 0
    keys_seen: int | None = None  # the key count this transaction read, re-checked at commit
    depth: int = 0

    def put(self, w: Write) -> None:
        """Buffer a write; a second write to the same item keeps the first one's condition."""
        prev = self.writes.get(w.key)
        if prev is not None:
            w.cond, w.replaces_tx, w.stageable = prev.cond, prev.replaces_tx, prev.stageable
            w.rev, w.expired_by = prev.rev, prev.expired_by
        self.writes[w.key] = w

    def add_runs(self, project_id: str, n: int, cost: Decimal, failures: int) -> None:
        acc = self.runs_add.setdefault(project_id, [0, Decimal(0), 0])
        acc[0] += n
        acc[1] += cost
        acc[2] += failures

    def items_under(self, pk: str) -> list[Item]:
        """Images of the items this transaction puts in partition `pk` (deleted ones are left out)."""
        return [w.item for k, w in self.writes.items() if k[0] == pk and not w.delete]

    def is_empty(self) -> bool:
        return not (self.writes or self.audit or self.tests_max or self.runs_max or self.keys_added)


class Session:
    """The buffers of every thread using one store, and the hook that commits them."""

    def __init__(self, commit: Callable[[Pending], None]) -> None:
        self._commit = commit
        self._local = threading.local()

    @property
    def pending(self) -> Pending | None:
        """This thread's open transaction, if any (reads overlay it)."""
        return getattr(self._local, "pending", None)

    @contextmanager
    def transaction(self) -> Iterator[Pending]:
        current = self.pending
        if current is not None:
            current.depth += 1
            try:
                yield current
            finally:
                current.depth -= 1
            return
        p = Pending(depth=1)
        self._local.pending = p
        try:
            yield p
        except BaseException:
            self._local.pending = None  # rollback: the writes were never sent
            raise
        self._local.pending = None  # cleared before committing: a failed commit leaves no buffer
        if not p.is_empty():
            self._commit(p)

    write = transaction  # a repository method's writes: its own transaction, or joins the open one
