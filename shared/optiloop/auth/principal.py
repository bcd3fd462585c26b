"""The authenticated caller of a request."""

from __future__ import annotations

from dataclasses import dataclass

from optiloop.auth.keys import hash_key
from optiloop.errors import Unauthorized
from optiloop.store.ports import Store

MAX_KEY_CHARS = 512  # longer is never one of ours; refuse before hashing arbitrary input


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    project_id: str | None  # None: the role holds on every project
    key_id: str | None  # None for operators acting through the CLI on the data dir


def authenticate(store: Store, raw_key: str | None) -> Principal:
    """Resolve a presented key; the same message for unknown and revoked keys so neither leaks."""
    if not raw_key:
        raise Unauthorized("an API key is required: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'")
    if len(raw_key) > MAX_KEY_CHARS:
        raise Unauthorized("invalid or revoked API key")
    key = store.keys.get_by_hash(hash_key(raw_key))
    if key is None or key.revoked:
        raise Unauthorized("invalid or revoked API key")
    return Principal(name=key.principal, role=key.role, project_id=key.project_id, key_id=key.id)


OPERATOR = Principal(name="operator", role="owner", project_id=None, key_id=None)
"""Someone with direct access to the data dir (the CLI): they could edit the database anyway."""
