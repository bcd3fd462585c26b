from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends

from optiloop.api.models.keys import KeyCreate, KeyCreated, KeyOut
from optiloop.api.models.responses import KeyList
from optiloop.api.params import EntityId
from optiloop.api.security import current_principal, get_deps
from optiloop.auth import Principal
from optiloop.auth import key_admin as uc
from optiloop.deps import Deps
from optiloop.store.records import ApiKey

router = APIRouter(tags=["api-keys"])


def _public(k: ApiKey) -> dict[str, Any]:
    d = asdict(k)
    d.pop("key_hash")
    return d


@router.post("/v1/api-keys", status_code=201, response_model=KeyCreated)
def create_key(
    body: KeyCreate, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Mint an API key for a principal with a role, optionally bound to one project. The key is in
    this answer once and stored only as a hash. A key may not mint a role above its own. Admins;
    audited as `key.created`."""
    key, raw = uc.create_key(deps, who, name=body.principal, role=body.role, project_id=body.project_id)
    return {**_public(key), "key": raw}


@router.get("/v1/api-keys", response_model=KeyList)
def list_keys(deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)) -> dict[str, Any]:
    """The tenant's keys (a key bound to one project: that project's), with ids, principals, roles
    and state, never the keys themselves. Admins."""
    return {"items": [KeyOut(**_public(k)).model_dump() for k in uc.list_keys(deps, who)]}


@router.delete("/v1/api-keys/{key_id}", response_model=KeyOut)
def revoke_key(
    key_id: EntityId,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Revoke a key: it, its access tokens and console sessions are refused from their next request.
    Audited as `key.revoked`."""
    key = uc.revoke_key(deps, who, key_id)
    return {**_public(key), "revoked": True}
