"""API keys. Only hashes are stored; the plaintext key never reaches the store.

Two items per key, both with the whole record:

* ``KEY#<id>`` / ``KEY``: unique id, `revoke` by id, and the listings through the GSIs (``gsi1`` by
  project, ``gsi2`` every key);
* ``KEYHASH#<hash>`` / ``KEY``: unique hash, and `get_by_hash`, the lookup every request makes.

Authentication reads the hash item with a strongly consistent GetItem rather than querying a GSI on
``key_hash``: a GSI is eventually consistent, so a key just revoked could still authenticate for a
moment, and a key just created could fail. The hash item also enforces uniqueness, which a GSI
cannot. `revoke` updates both items in one transaction.
"""

from __future__ import annotations

from typing import Any

from optiloop.errors import Conflict, NotFound
from optiloop.store.dynamodb.codec import Item, Key, S, esc, get_s, join, key_part, opt_s
from optiloop.store.dynamodb.counters import KEYS_COUNTER, key_count
from optiloop.store.dynamodb.projects import DynamoProjectRepo
from optiloop.store.dynamodb.session import Session, Write
from optiloop.store.dynamodb.table import Table
from optiloop.store.dynamodb.table_spec import GSI1, GSI1_PK, GSI1_SK, GSI2, GSI2_PK, GSI2_SK
from optiloop.store.ports import KeyRepo
from optiloop.store.records import ROLES, ApiKey

ALL_KEYS_PK = "KEYS"


def key_id_key(key_id: str) -> Key:
    return join("KEY", key_part(key_id, "api key id")), "KEY"


def key_hash_key(key_hash: str) -> Key:
    return join("KEYHASH", key_part(key_hash, "api key hash")), "KEY"


def by_project_pk(project_id: str) -> str:
    return join("KEYS", "P", esc(project_id))


def _str(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    return S(value)


def _body(k: ApiKey) -> Item:
    if k.role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {k.role!r}")
    item: Item = {
        "id": _str(k.id, "api key id"),
        "key_hash": _str(k.key_hash, "api key hash"),
        "principal": _str(k.principal, "principal"),
        "role": S(k.role),
        "created_at": _str(k.created_at, "created_at"),
        "created_by": _str(k.created_by, "created_by"),
        "revoked": {"BOOL": bool(k.revoked)},
    }
    if k.project_id is not None:
        key_part(k.project_id, "api key project_id")
    opt_s(item, "project_id", k.project_id)
    return item


def _id_item(body: Item) -> Item:
    """The id item, indexed for listings; the hash item stays out of the GSIs (no duplicates there)."""
    key_id = body["id"]["S"]
    pk, sk = key_id_key(key_id)
    order = S(f"{body['created_at']['S']}#{key_id}")
    item: Item = {"pk": S(pk), "sk": S(sk), **body, GSI2_PK: S(ALL_KEYS_PK), GSI2_SK: order}
    project_id = get_s(body, "project_id")
    if project_id is not None:
        item[GSI1_PK], item[GSI1_SK] = S(by_project_pk(project_id)), order
    return item


def _hash_item(body: Item) -> Item:
    pk, sk = key_hash_key(body["key_hash"]["S"])
    fields = {k: v for k, v in body.items() if k not in ("pk", "sk", GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK)}
    return {"pk": S(pk), "sk": S(sk), **fields}


def _key(item: Item) -> ApiKey:
    return ApiKey(
        id=item["id"]["S"],
        key_hash=item["key_hash"]["S"],
        principal=item["principal"]["S"],
        role=item["role"]["S"],  # type: ignore[arg-type]
        project_id=get_s(item, "project_id"),
        created_at=item["created_at"]["S"],
        created_by=item["created_by"]["S"],
        revoked=bool(item["revoked"]["BOOL"]),
    )


class DynamoKeyRepo(KeyRepo):
    def __init__(self, table: Table, session: Session, projects: DynamoProjectRepo) -> None:
        self._table = table
        self._session = session
        self._projects = projects

    def _item(self, key: Key) -> Item | None:
        p = self._session.pending
        if p is not None and (w := p.writes.get(key)) is not None:
            return w.item
        return self._table.get(key)

    def add(self, key: ApiKey) -> None:
        """`Conflict` on a duplicate id or key_hash (two keys must never authenticate as each other)."""
        body = _body(key)
        by_id, by_hash = _id_item(body), _hash_item(body)
        id_key, hash_key = (by_id["pk"]["S"], "KEY"), (by_hash["pk"]["S"], "KEY")
        what = f"api key {key.id!r}"
        outer = self._session.pending is not None
        with self._session.write() as p:
            if key.project_id is not None and not self._projects.exists(key.project_id):
                raise NotFound(f"{what}: project {key.project_id!r} does not exist")
            for k in (id_key, hash_key):
                if k in p.writes or (outer and self._table.get(k, projection="pk") is not None):
                    raise Conflict(f"{what} (or its hash) already exists")
            p.put(Write(id_key, by_id, "new", what))
            p.put(Write(hash_key, by_hash, "new", f"the hash of {what}"))
            p.keys_added += 1

    def get_by_hash(self, key_hash: str) -> ApiKey | None:
        """Revoked keys are returned too (with revoked=True) so the caller can say why auth failed."""
        if not isinstance(key_hash, str) or not key_hash:
            return None
        item = self._item(key_hash_key(key_hash))
        return _key(item) if item is not None else None

    def list(self, project_id: str | None = None) -> list[ApiKey]:
        """None lists every key; a project id lists the keys scoped to that project only.

        Read from a GSI, so on AWS a key created a moment ago may be missing for that moment.
        """
        if project_id is None:
            items = self._table.query(ALL_KEYS_PK, index=GSI2, pk_name=GSI2_PK, sk_name=GSI2_SK)
        elif not isinstance(project_id, str) or not project_id:
            return []
        else:
            items = self._table.query(by_project_pk(project_id), index=GSI1, pk_name=GSI1_PK, sk_name=GSI1_SK)
        found = {i["id"]["S"]: i for i in items}
        p = self._session.pending
        if p is not None:
            for (pk, _), w in p.writes.items():
                if pk.startswith("KEY#") and (
                    project_id is None or get_s(w.item, "project_id") == project_id
                ):
                    found[w.item["id"]["S"]] = w.item
        keys = [_key(i) for i in found.values()]
        keys.sort(key=lambda k: (k.created_at, k.id))
        return keys

    def revoke(self, key_id: str) -> bool:
        """True if the key exists (revoking twice is harmless), False for an unknown id."""
        if not isinstance(key_id, str) or not key_id:
            return False
        with self._session.write() as p:
            current = self._item(key_id_key(key_id))
            if current is None:
                return False
            by_id = {**current, "revoked": {"BOOL": True}}
            by_hash = _hash_item(by_id)
            id_key, hash_key = key_id_key(key_id), (by_hash["pk"]["S"], "KEY")
            p.put(Write(id_key, by_id, "exists", f"api key {key_id!r}"))
            p.put(Write(hash_key, by_hash, "exists", f"the hash of api key {key_id!r}"))
        return True

    def count(self) -> int:
        """Every key ever issued, revoked ones included: revoking all keys must not reopen bootstrap.

        Inside a transaction the count read is re-checked when the transaction commits (if it adds
        keys), so "create the first key if there is none" cannot run twice concurrently.
        """
        stored = key_count(self._table.get(KEYS_COUNTER))
        p = self._session.pending
        if p is None:
            return stored
        if p.keys_seen is None:
            p.keys_seen = stored
        return stored + p.keys_added
