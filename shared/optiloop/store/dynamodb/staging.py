"""Markers of staged transactions, and which staged items readers may see.

A transaction larger than one TransactWriteItems (100 items, 4 MB) writes its insert-only history
items (tests, runs) first, in chunks, each item tagged ``tx=<id>``, and then commits by flipping
its marker item from ``pending`` to ``committed`` in one final transaction together with everything
else (counters, the audit record). Readers treat a tagged item as present only once its marker says
``committed``, so the batch appears all at once or never; see `commit.py` for the protocol.

Marker states: ``pending`` -> ``committed`` (final) or ``pending`` -> ``aborted``. Both moves are
conditional on ``pending``, so a committer and someone aborting a stalled transaction can never both
win. A marker that is missing counts as aborted: markers are written in the same transaction as the
first staged chunk, and aborted markers expire by TTL once their items may linger as garbage.

Committed is forever, so committed ids are cached per process; after a warm start a staged batch
costs readers nothing extra.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from optiloop.store.dynamodb.codec import Item, Key, get_s, join
from optiloop.store.dynamodb.table import Table
from optiloop.store.dynamodb.table_spec import TTL_ATTRIBUTE

PENDING, COMMITTED, ABORTED = "pending", "committed", "aborted"
TX_ATTR = "tx"
ABORTED_TTL_S = 7 * 24 * 3600  # long after any reader could still care about the garbage
_CACHE_MAX = 50_000


def new_tx_id() -> str:
    return secrets.token_hex(12)


def marker_key(tx: str) -> Key:
    return join("TX", tx), "TX"


class Visibility:
    """Resolves staged-transaction markers for readers and for writers that meet leftovers."""

    def __init__(self, table: Table, *, stale_after_s: float, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self.stale_after_s = stale_after_s
        self.clock = clock
        self._committed: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    # -- markers -----------------------------------------------------------------------------

    def marker_put(self, tx: str) -> dict[str, Any]:
        pk, sk = marker_key(tx)
        return {
            "Put": {
                "TableName": self.table.name,
                "Item": {
                    "pk": {"S": pk},
                    "sk": {"S": sk},
                    "st": {"S": PENDING},
                    "created": {"N": repr(round(self.clock(), 3))},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def marker_commit(self, tx: str) -> dict[str, Any]:
        pk, sk = marker_key(tx)
        return {
            "Update": {
                "TableName": self.table.name,
                "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                "UpdateExpression": "SET #st = :c",
                "ConditionExpression": "#st = :p",
                "ExpressionAttributeNames": {"#st": "st"},
                "ExpressionAttributeValues": {":c": {"S": COMMITTED}, ":p": {"S": PENDING}},
            }
        }

    def mark_committed(self, tx: str) -> None:
        with self._lock:
            self._committed[tx] = None
            self._committed.move_to_end(tx)
            while len(self._committed) > _CACHE_MAX:
                self._committed.popitem(last=False)

    def abort(self, tx: str, *, only_if_stale: bool = False) -> bool:
        """Move a pending marker to aborted; True if the transaction is (now) aborted or unknown."""
        now = self.clock()
        values: dict[str, Any] = {
            ":a": {"S": ABORTED},
            ":p": {"S": PENDING},
            ":exp": {"N": str(int(now) + ABORTED_TTL_S)},
        }
        cond = "#st = :p"
        if only_if_stale:
            cond += " AND #cr < :cutoff"
            values[":cutoff"] = {"N": repr(round(now - self.stale_after_s, 3))}
        if self.table.update(
            marker_key(tx),
            "SET #st = :a, #ttl = :exp",
            cond=cond,
            ExpressionAttributeNames={
                "#st": "st",
                "#ttl": TTL_ATTRIBUTE,
                **({"#cr": "created"} if only_if_stale else {}),
            },
            ExpressionAttributeValues=values,
        ):
            return True
        return self.statuses([tx])[tx] == ABORTED

    # -- reads -------------------------------------------------------------------------------

    def statuses(self, txs: Iterable[str]) -> dict[str, str]:
        """Status per id: committed, pending or aborted (missing markers count as aborted)."""
        out: dict[str, str] = {}
        unknown: list[str] = []
        with self._lock:
            for tx in dict.fromkeys(txs):
                if tx in self._committed:
                    out[tx] = COMMITTED
                else:
                    unknown.append(tx)
        if unknown:
            found = self.table.batch_get([marker_key(t) for t in unknown], projection="st, created")
            for tx in unknown:
                item = found.get(marker_key(tx))
                out[tx] = ABORTED if item is None else (get_s(item, "st") or ABORTED)
                if out[tx] == COMMITTED:
                    self.mark_committed(tx)
        return out

    def visible(self, items: Sequence[Item]) -> list[Item]:
        """Items as readers may see them: untagged ones, and staged ones whose transaction committed."""
        tagged = {get_s(i, TX_ATTR) for i in items} - {None}
        if not tagged:
            return list(items)
        status = self.statuses(t for t in tagged if t is not None)
        return [i for i in items if (tx := get_s(i, TX_ATTR)) is None or status[tx] == COMMITTED]

    def classify_existing(self, items: Sequence[Item]) -> tuple[list[Item], dict[Key, str]]:
        """For a writer whose new items' keys are taken: (items that really block it, garbage it may
        overwrite, by key -> the abandoned transaction's id).

        Garbage is what an aborted transaction left behind, or a pending one older than
        `stale_after_s` (a Lambda that died mid-commit), which is aborted here first so that it can no
        longer commit. A younger pending transaction is a concurrent writer and blocks.
        """
        blocking: list[Item] = []
        garbage: dict[Key, str] = {}
        txs = {tx for i in items if (tx := get_s(i, TX_ATTR)) is not None}
        status = self.statuses(txs) if txs else {}
        for tx in txs:  # once per transaction, however many of its items are in the way
            if status[tx] == PENDING and self.abort(tx, only_if_stale=True):
                status[tx] = ABORTED
        for item in items:
            tx = get_s(item, TX_ATTR)
            if tx is not None and status[tx] == ABORTED:
                garbage[(item["pk"]["S"], item["sk"]["S"])] = tx
            else:
                blocking.append(item)
        return blocking, garbage
