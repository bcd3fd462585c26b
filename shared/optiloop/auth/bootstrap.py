"""The first key of a new data dir: without it nobody could call the API to create keys."""

from __future__ import annotations

import logging

from optiloop.auth.keys import generate_key, hash_key
from optiloop.deps import Deps
from optiloop.store.records import ApiKey

log = logging.getLogger("optiloop.auth")

BOOTSTRAP_PRINCIPAL = "admin"


def ensure_first_key(deps: Deps, admin_token: str | None, *, generate: bool) -> str | None:
    """Create the first global admin key when the store has none.

    With `admin_token` its hash becomes that key (so operators can provision the secret up front, e.g.
    from a secrets manager). Without it and with `generate`, a fresh key is created and returned so the
    caller can show it once; it is never stored in clear. Returns None when nothing new must be shown.
    """
    store = deps.store
    with store.transaction():
        if store.keys.count() > 0:
            if admin_token and store.keys.get_by_hash(hash_key(admin_token)) is None:
                log.warning(
                    "OPTILOOP_ADMIN_TOKEN is set but the data dir already has keys: the token is "
                    "only used to bootstrap a new data dir and is ignored here"
                )
            return None
        if admin_token:
            raw, show = admin_token, None
        elif generate:
            raw = generate_key()
            show = raw
        else:
            return None
        key = ApiKey(
            id=deps.ids("key"),
            key_hash=hash_key(raw),
            principal=BOOTSTRAP_PRINCIPAL,
            role="admin",
            project_id=None,
            created_at=deps.clock(),
            created_by="bootstrap",
        )
        store.keys.add(key)
        store.audit.append(
            principal="bootstrap",
            action="key.created",
            project_id=None,
            target=key.id,
            details={
                "principal": key.principal,
                "role": key.role,
                "project_id": None,
                "source": "OPTILOOP_ADMIN_TOKEN" if admin_token else "generated",
            },
        )
        return show
