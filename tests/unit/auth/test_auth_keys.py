from __future__ import annotations

import hashlib

import pytest

from optiloop.auth import authenticate
from optiloop.auth import key_admin as uc
from optiloop.auth.bootstrap import ensure_first_key
from optiloop.auth.keys import KEY_PREFIX, generate_key, hash_key
from optiloop.auth.principal import OPERATOR
from optiloop.deps import Deps
from optiloop.errors import Unauthorized


def test_keys_are_random_prefixed_and_hashed() -> None:
    a, b = generate_key(), generate_key()
    assert a != b and a.startswith(KEY_PREFIX) and len(a) >= len(KEY_PREFIX) + 43
    assert hash_key(a) == hashlib.sha256(a.encode()).hexdigest() and hash_key(a) != hash_key(b)


def test_authenticate(deps: Deps) -> None:
    key, raw = uc.create_key(deps, OPERATOR, name="alice", role="viewer", project_id=None)
    p = authenticate(deps.store, raw)
    assert (p.name, p.role, p.project_id, p.key_id) == ("alice", "viewer", None, key.id)
    stored = deps.store.keys.get_by_hash(hash_key(raw))
    assert stored is not None and raw not in repr(stored)
    for bad in (None, "", "olk_wrong", "x" * 10_000):
        with pytest.raises(Unauthorized):
            authenticate(deps.store, bad)
    uc.revoke_key(deps, OPERATOR, key.id)
    with pytest.raises(Unauthorized):
        authenticate(deps.store, raw)


def test_bootstrap_with_token_then_never_again(deps: Deps) -> None:
    token = "a-very-long-admin-token-123"
    assert ensure_first_key(deps, token, generate=True) is None  # the token is the key: nothing to show
    p = authenticate(deps.store, token)
    assert (p.name, p.role, p.project_id) == ("admin", "admin", None)
    assert ensure_first_key(deps, "another-long-token-456789", generate=True) is None
    assert deps.store.keys.count() == 1
    assert [r.principal for r in deps.store.audit.list()] == ["bootstrap"]


def test_bootstrap_generates_once(deps: Deps) -> None:
    assert ensure_first_key(deps, None, generate=False) is None and deps.store.keys.count() == 0
    shown = ensure_first_key(deps, None, generate=True)
    assert shown and authenticate(deps.store, shown).role == "admin"
    assert ensure_first_key(deps, None, generate=True) is None
