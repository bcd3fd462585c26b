"""Generic JSON documents (`DocRepo`) on the single table: two items per document.

=============  ===========================  ======================  =====================================
item           pk                           sk                      serves
=============  ===========================  ======================  =====================================
by id          ``DOC#<kind>#<id>``          ``DOC``                 get (GetItem), get_many (BatchGet),
                                                                    the uniqueness of (kind, id), `rev`
listing        ``DOCS#<kind>#<scope>``      <sort> ``\\x01`` <id>    list: one Query of the scope's
                                                                    partition, in either direction
=============  ===========================  ======================  =====================================

Both items carry the whole document (kind, id, scope, sort, data as JSON text, rev, expires_at), so
`get` is one GetItem and a `list` page is one Query page, with no second round trip to fetch bodies.
The alternatives cost a round trip on one of the two paths: a small pointer item by id would make
`get` two reads, and listing through a GSI would be eventually consistent on AWS (a document just
created could be missing from its listing) where the main table's partition read is not. The price
is a doubled write (every write puts both items in one TransactWriteItems, so they never disagree)
and a document limited by the larger of the two items to DynamoDB's 400 KB, checked before anything
is written (`InvalidInput` on ``data``).

Keys. kind, id and scope are escaped (`codec.esc`: ``#`` and ``%``) so that no two documents can
share a key. The listing sort key must order like (sort, id) compared as strings, which escaping
would not keep (``#`` becomes ``%23``), so ``sort`` is encoded order-preservingly instead: the three
lowest code points are escaped as ``\\x02`` plus one character (``\\x00`` -> ``\\x02\\x02``, ``\\x01`` ->
``\\x02\\x03``, ``\\x02`` -> ``\\x02\\x04``) and ``\\x01`` ends the sort part. The end mark is lower than any
encoded character, so a sort value that is a prefix of another sorts first, as a string does; the id
after it is the tie-break and needs no escaping (nothing follows it). DynamoDB compares UTF-8 bytes,
which is code point order, the same order as SQLite's BINARY collation and Python's str. `after`
becomes a key bound: ``>= enc(after) \\x02`` ascending, ``< enc(after) \\x01`` descending.

Writes go through the session buffer like every other record (`session.py`), so they join
`Store.transaction()` and reads inside one see its writes. A replace is a put of the by-id item on
condition ``rev = expected`` plus a put of the listing item, and a delete of the old listing item when
scope or sort moved; a delete is two deletes, the by-id one guarded by the rev it read (on its own,
a delete that loses that race reads again and retries). The listing items need no condition of
their own: the by-id item's condition guards the transaction.

Expiry. ``expires_at`` is the table's TTL attribute (`table_spec.TTL_ATTRIBUTE`), so DynamoDB deletes
expired documents, but late (up to days), and each item on its own; so every read drops items past
their ``expires_at`` itself. `create` may take over an expired document: it reads the by-id item
first (one GetItem, which also makes a duplicate a `Conflict` of the call itself inside a
transaction), deletes the expired document's listing item in the same transaction, and puts the new
by-id item on condition "absent, or expired by now", so a concurrent create still conflicts.

`delete_scope` outside a transaction deletes in rounds: Query the first 25 listing items, delete
them and their by-id items in one TransactWriteItems (50 writes), repeat until the partition is
empty. Each document goes with both its items or not at all, which BatchWriteItem (no conditions, no
atomicity across items) could not promise: a concurrent move of a document to another scope would
leave its new listing item without a by-id item. Inside a transaction, the deletes join its buffer
instead, so a large scope there makes the transaction too large to commit (ValueError); run it on its
own.
"""

from __future__ import annotations

import builtins
import dataclasses
import json
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotFound
from optiloop.store.dynamodb.codec import (
    Item,
    Key,
    N,
    S,
    esc,
    float_attr,
    item_size,
    join,
    key_part,
    to_float,
)
from optiloop.store.dynamodb.commit import MAX_ITEM_BYTES
from optiloop.store.dynamodb.session import Pending, Session, Write
from optiloop.store.dynamodb.table import Table, _backoff
from optiloop.store.dynamodb.table_spec import TTL_ATTRIBUTE
from optiloop.store.ports import DocRepo
from optiloop.store.records import Doc

ID_SK = "DOC"
SCOPE_CHUNK = 25  # documents per delete_scope round: 50 writes, half of a transaction
ATTEMPTS = 8  # rounds in a row that may lose to concurrent writers before delete/delete_scope give up
MAX_SORT_KEY_BYTES = 1024  # DynamoDB's limit on a sort key value
_END = "\x01"  # ends the encoded sort part of a listing key
_ABOVE_END = "\x02"
_SORT_ESCAPES = str.maketrans({"\x00": "\x02\x02", "\x01": "\x02\x03", "\x02": "\x02\x04"})


# -- keys --------------------------------------------------------------------------------------


def id_key(kind: str, doc_id: str) -> Key:
    return join("DOC", key_part(kind, "doc kind"), key_part(doc_id, "doc id")), ID_SK


def scope_pk(kind: str, scope: str) -> str:
    if not isinstance(scope, str):
        raise ValueError(f"doc scope must be a string, got {type(scope).__name__}")
    return join("DOCS", key_part(kind, "doc kind"), esc(scope))


def sort_part(sort: str) -> str:
    """Order-preserving: enc(a) < enc(b) exactly when a < b, also when one is a prefix of the other."""
    return sort.translate(_SORT_ESCAPES) + _END


def listing_key(kind: str, scope: str, sort: str, doc_id: str) -> Key:
    if not isinstance(sort, str):
        raise ValueError(f"doc sort must be a string, got {type(sort).__name__}")
    sk = sort_part(sort) + doc_id
    if len(sk.encode()) > MAX_SORT_KEY_BYTES:
        raise ValueError(f"doc sort and id together must stay under {MAX_SORT_KEY_BYTES - 1} bytes")
    return scope_pk(kind, scope), sk


def _listing_key_of(item: Item) -> Key:
    return listing_key(item["kind"]["S"], item["scope"]["S"], item["sort"]["S"], item["id"]["S"])


# -- items -------------------------------------------------------------------------------------


def _body(doc: Doc, rev: int) -> Item:
    if not isinstance(doc.data, dict):
        raise ValueError(f"doc data must be a JSON object (dict), got {type(doc.data).__name__}")
    body: Item = {
        "kind": S(doc.kind),
        "id": S(doc.id),
        "scope": S(doc.scope),
        "sort": S(doc.sort),
        "data": S(json.dumps(doc.data, separators=(",", ":"), ensure_ascii=False)),
        "rev": N(str(rev)),
    }
    if doc.expires_at is not None:
        body[TTL_ATTRIBUTE] = float_attr(doc.expires_at, "doc expires_at")
    return body


def _items(doc: Doc, rev: int) -> tuple[Key, Item, Key, Item]:
    """The by-id and listing items of a document, refused whole if either is too large."""
    if isinstance(rev, bool) or not isinstance(rev, int):
        raise ValueError(f"doc rev must be an integer, got {type(rev).__name__}")
    by_id = id_key(doc.kind, doc.id)
    listed = listing_key(doc.kind, doc.scope, doc.sort, doc.id)
    body = _body(doc, rev)
    id_item = {"pk": S(by_id[0]), "sk": S(by_id[1]), **body}
    list_item = {"pk": S(listed[0]), "sk": S(listed[1]), **body}
    size = max(item_size(id_item), item_size(list_item)) + 40  # as `Write.size` counts
    if size > MAX_ITEM_BYTES:
        raise InvalidInput(
            FieldProblem(
                "data",
                f"the document takes {math.ceil(size / 1024)} KB stored; DynamoDB holds at most "
                f"{MAX_ITEM_BYTES // 1024} KB per item",
                hint="keep large content in the blob store and its key in the document",
            )
        )
    return by_id, id_item, listed, list_item


def _key_item(key: Key) -> Item:
    return {"pk": S(key[0]), "sk": S(key[1])}


def _rev(item: Item) -> int:
    return int(item["rev"]["N"])


def _live(item: Item, now: float) -> bool:
    exp = item.get(TTL_ATTRIBUTE)
    return exp is None or to_float(exp) > now


def _doc(item: Item) -> Doc:
    exp = item.get(TTL_ATTRIBUTE)
    return Doc(
        kind=item["kind"]["S"],
        id=item["id"]["S"],
        scope=item["scope"]["S"],
        sort=item["sort"]["S"],
        data=json.loads(item["data"]["S"]),
        rev=_rev(item),
        expires_at=None if exp is None else to_float(exp),
    )


def _valid_id(kind: Any, doc_id: Any) -> bool:
    return isinstance(kind, str) and bool(kind) and isinstance(doc_id, str) and bool(doc_id)


# -- the repository ----------------------------------------------------------------------------


class DynamoDocRepo(DocRepo):
    def __init__(self, table: Table, session: Session, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._session = session
        self._clock = clock

    # -- reads -------------------------------------------------------------------------------

    def _stored(self, key: Key) -> Item | None:
        """The by-id item as this thread sees it (its own buffered writes first), expired or not."""
        p = self._session.pending
        if p is not None and (w := p.writes.get(key)) is not None:
            return None if w.delete else w.item
        return self._table.get(key)

    def get(self, kind: str, doc_id: str) -> Doc | None:
        if not _valid_id(kind, doc_id):
            return None
        item = self._stored(id_key(kind, doc_id))
        return _doc(item) if item is not None and _live(item, self._clock()) else None

    def get_many(self, kind: str, doc_ids: Sequence[str]) -> dict[str, Doc]:
        keys = {id_key(kind, i): i for i in dict.fromkeys(doc_ids) if _valid_id(kind, i)}
        found: dict[Key, Item | None] = {}
        p = self._session.pending
        if p is not None:
            for key in keys:
                if (w := p.writes.get(key)) is not None:
                    found[key] = None if w.delete else w.item
        found.update(self._table.batch_get([k for k in keys if k not in found]))
        now = self._clock()
        return {keys[k]: _doc(i) for k, i in found.items() if i is not None and _live(i, now)}

    def list(
        self,
        kind: str,
        scope: str,
        *,
        after: str | None = None,
        limit: int = 100,
        descending: bool = False,
    ) -> list[Doc]:
        if limit <= 0 or not isinstance(kind, str) or not kind or not isinstance(scope, str):
            return []
        pk = scope_pk(kind, scope)
        bound = None
        if after is not None:
            bound = sort_part(after) if descending else sort_part(after)[:-1] + _ABOVE_END
        now = self._clock()
        p = self._session.pending
        mine = {k: w for k, w in p.writes.items() if k[0] == pk} if p is not None else {}
        items = self._query(pk, bound=bound, descending=descending, want=limit, skip=mine.keys(), now=now)
        if mine:
            items += [
                w.item
                for k, w in mine.items()
                if not w.delete and _live(w.item, now) and _in_range(k[1], bound, descending)
            ]
            items.sort(key=lambda i: i["sk"]["S"], reverse=descending)
        return [_doc(i) for i in items[:limit]]

    def _query(
        self,
        pk: str,
        *,
        bound: str | None = None,
        descending: bool = False,
        want: int | None,
        skip: Any = (),
        now: float | None,
        projection: str | None = None,
    ) -> builtins.list[Item]:  # builtins: `list` in this class body is DocRepo.list
        """The first `want` items of a scope partition past `bound`, leaving out keys in `skip` and,
        when `now` is given, expired items (fetching further pages for what was left out)."""
        names = {"#p": "pk"}
        values: dict[str, Any] = {":p": S(pk)}
        cond = "#p = :p"
        if bound is not None:
            names["#s"] = "sk"
            values[":b"] = S(bound)
            cond += " AND #s < :b" if descending else " AND #s >= :b"
        kw: dict[str, Any] = {
            "TableName": self._table.name,
            "KeyConditionExpression": cond,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not descending,
            "ConsistentRead": True,
        }
        if projection:
            aliases = {f"#a{i}": a.strip() for i, a in enumerate(projection.split(","))}
            kw["ProjectionExpression"] = ", ".join(aliases)
            names.update(aliases)
        kw["ExpressionAttributeNames"] = names
        out: list[Item] = []
        page = want
        while want is None or len(out) < want:
            if page is not None:
                kw["Limit"] = page
            resp = self._table.client.query(**kw)
            for item in resp.get("Items", []):
                if (item["pk"]["S"], item["sk"]["S"]) in skip or (now is not None and not _live(item, now)):
                    continue
                out.append(item)
            if not resp.get("LastEvaluatedKey"):
                break
            kw["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
            if want is not None:  # some were left out: read ahead more widely than exactly what is missing
                page = min(1000, max(want - len(out), 100))
        return out if want is None else out[:want]

    # -- writes ------------------------------------------------------------------------------

    def create(self, doc: Doc) -> None:
        by_id, id_item, listed, list_item = _items(doc, rev=1)
        what = f"{doc.kind} {doc.id!r}"
        now = self._clock()
        with self._session.write() as p:
            current = self._stored(by_id)
            if current is not None:
                if _live(current, now):
                    raise Conflict(f"{what} already exists")
                old = _listing_key_of(current)  # the expired document's listing item goes too
                if old != listed:
                    p.put(Write(old, _key_item(old), "any", what, delete=True))
            p.put(Write(by_id, id_item, "new", what, expired_by=now))
            p.put(Write(listed, list_item, "any", what))

    def replace(self, doc: Doc, expected_rev: int) -> Doc:
        by_id, id_item, listed, list_item = _items(doc, rev=expected_rev + 1)
        what = f"{doc.kind} {doc.id!r}"
        with self._session.write() as p:
            current = self._stored(by_id)
            if current is None or not _live(current, self._clock()):
                raise NotFound(f"{what} does not exist")
            if _rev(current) != expected_rev:
                raise Conflict(f"{what} was changed meanwhile (rev {_rev(current)}, expected {expected_rev})")
            old = _listing_key_of(current)
            if old != listed:
                p.put(Write(old, _key_item(old), "any", what, delete=True))
            p.put(Write(by_id, id_item, "rev", what, rev=expected_rev))
            p.put(Write(listed, list_item, "any", what))
        return dataclasses.replace(doc, rev=expected_rev + 1)

    def delete(self, kind: str, doc_id: str) -> bool:
        """Deletes an expired document too (tidier than waiting for TTL), but answers False for it."""
        if not _valid_id(kind, doc_id):
            return False
        key = id_key(kind, doc_id)
        for attempt in range(ATTEMPTS):
            try:  # only a commit of its own can fail here; inside a transaction the outer commit does
                with self._session.write() as p:
                    current = self._stored(key)
                    if current is None:
                        return False
                    self._buffer_delete(p, current)
                    return _live(current, self._clock())
            except Conflict:  # written in between the read and the delete: read again
                _backoff(attempt)
        raise Conflict(f"{kind} {doc_id!r} kept changing while being deleted; retry")

    def _buffer_delete(self, p: Pending, item: Item) -> None:
        """Both items of the document `item` (either of them) shows, the by-id one on condition it
        still has the rev read."""
        kind, doc_id = item["kind"]["S"], item["id"]["S"]
        what = f"{kind} {doc_id!r}"
        by_id, listed = id_key(kind, doc_id), _listing_key_of(item)
        p.put(Write(listed, _key_item(listed), "any", what, delete=True))
        p.put(Write(by_id, _key_item(by_id), "rev", what, rev=_rev(item), delete=True))

    def delete_scope(self, kind: str, scope: str) -> int:
        if not isinstance(kind, str) or not kind or not isinstance(scope, str):
            return 0
        pk = scope_pk(kind, scope)
        if self._session.pending is not None:
            with self._session.write() as p:
                return max(self._buffer_scope(p, pk, want=None), 0)
        deleted = 0
        lost = 0
        while True:
            try:
                with self._session.write() as p:
                    n = self._buffer_scope(p, pk, want=SCOPE_CHUNK)
            except Conflict:  # a document changed between the Query and the deletes: query again
                lost += 1
                if lost >= ATTEMPTS:
                    raise Conflict(f"documents of {kind} scope {scope!r} kept changing; retry") from None
                _backoff(lost)
                continue
            if n < 0:
                return deleted
            deleted += n
            lost = 0

    def _buffer_scope(self, p: Pending, pk: str, want: int | None) -> int:
        """Buffer the deletes of the first `want` (None: all) listing items; how many were live, or -1
        when the partition (as this thread sees it) was empty."""
        mine = {k: w for k, w in p.writes.items() if k[0] == pk}
        items = self._query(pk, want=want, skip=mine.keys(), now=None)
        items += [w.item for w in mine.values() if not w.delete]
        if not items:
            return -1
        now = self._clock()
        live = 0
        for item in items:
            if _live(item, now):
                self._buffer_delete(p, item)
                live += 1
            else:  # an expired listing item: its by-id item may already belong to a newer document
                key = (item["pk"]["S"], item["sk"]["S"])
                p.put(Write(key, _key_item(key), "any", "an expired document", delete=True))
        return live


def _in_range(sk: str, bound: str | None, descending: bool) -> bool:
    if bound is None:
        return True
    return sk < bound if descending else sk >= bound
