"""API keys. Only hashes are stored; the plaintext key never reaches the store.

Two items per key, both with the whole record:

* ``KEY`` / ``<key id>``: unique id, `revoke` by id, and `list`. All keys of a tenant share this one
  partition: they are few (people and CI runners, not requests), and a listing right after creating
  or revoking a key must show it, which a strongly consistent read of one partition does and a GSI
  (eventually consistent) would not.
* ``KEYHASH#<hash>`` / ``KEY``: unique hash, and `get_by_hash`, the lookup every request makes.

Authentication reads the hash item with a strongly consistent GetItem rather than querying a GSI on
``key_hash``: on a GSI a key just revoked could still authenticate for a moment, and a key just
created could fail. The hash item also enforces uniqueness, which a GSI cannot. `revoke` updates both
items in one transaction.
"""

from __future__ import annotations

from typing import Any

from optiloop.errors import Conflict, NotFound
from optiloop.store.dynamodb.codec import Item, Key, S, get_s, join, key_part, opt_s
from optiloop.store.dynamodb.counters import KEYS_COUNTER, key_count
from optiloop.store.dynamodb.projects import DynamoProjectRepo
from optiloop.store.dynamodb.session import Session, Write
from optiloop.store.dynamodb.table import Table
from optiloop.store.ports import KeyRepo
from optiloop.store.records import ROLES, ApiKey

KEYS_PK = "KEY"


def key_id_key(key_id: str) -> Key:
    if not isinstance(key_id, str) or not key_id:
        raise ValueError("api key id must be a non-empty string")
    return KEYS_PK, key_id


def key_hash_key(key_hash: str) -> Key:
    return join("KEYHASH", key_part(key_hash, "api key hash")), "KEY"


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
    pk, sk = key_id_key(body["id"]["S"])
    return {"pk": S(pk), "sk": S(sk), **body}


def _hash_item(body: Item) -> Item:
    pk, sk = key_hash_key(body["key_hash"]["S"])
    return {"pk": S(pk), "sk": S(sk), **{k: v for k, v in body.items() if k not in ("pk", "sk")}}


def _key(item: Item) -> ApiKey:
    return ApiKey(
        id=item["id"]["S"],
        key_hash=item["key_hash"]["S"],
        principal=item["principal"]["S"],
        role=item["role"]["S"],
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
        id_key, hash_key = key_id_key(key.id), key_hash_key(key.key_hash)
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

    def get(self, key_id: str) -> ApiKey | None:
        """A strongly consistent GetItem of the id item: an access token of a key revoked a moment
        ago must fail on its next use, as the key itself does."""
        if not isinstance(key_id, str) or not key_id:
            return None
        item = self._item(key_id_key(key_id))
        return _key(item) if item is not None else None

    def list(self, project_id: str | None = None) -> list[ApiKey]:
        """None lists every key; a project id lists the keys scoped to that project only."""
        if project_id is not None and (not isinstance(project_id, str) or not project_id):
            return []
        found = {i["sk"]["S"]: i for i in self._table.query(KEYS_PK)}
        p = self._session.pending
        if p is not None:
            found.update((i["sk"]["S"], i) for i in p.items_under(KEYS_PK))
        keys = [_key(i) for i in found.values()]
        if project_id is not None:
            keys = [k for k in keys if k.project_id == project_id]
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
            id_key, hash_key = key_id_key(key_id), key_hash_key(by_id["key_hash"]["S"])
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
