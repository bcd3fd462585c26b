"""API key use cases: mint, list and revoke, within the limits of the caller's own key.

Global admins and owners may mint and revoke any key. A project admin or owner can delegate on their
project (never above their own role, never elsewhere), so teams manage their own runners' keys without
a platform admin in the loop.

On AWS a principal's requests are metered by API Gateway's usage plan (`optiloop.auth.usage_plan`):
minting a key registers its principal there, revoking its last live key retires it. A rotation is a
new key and the old one revoked, so the principal stays registered throughout.
"""

from __future__ import annotations

from optiloop.auth.keys import generate_key, hash_key
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize, outranks
from optiloop.auth.usage_plan import register, retire_if_unkeyed
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from optiloop.names import name_problem
from optiloop.store.records import ROLES, ApiKey


def create_key(
    deps: Deps, principal: Principal, *, name: str, role: str, project_id: str | None
) -> tuple[ApiKey, str]:
    """Returns the record and the raw key; the raw key exists only in this return value."""
    if role not in ROLES:
        raise InvalidInput(FieldProblem("role", f"must be one of {', '.join(ROLES)}"))
    problem = name_problem(name) if name.strip() else "must not be blank"
    if problem:  # the API's model checks this too; the CLI comes straight here
        raise InvalidInput(FieldProblem("principal", problem))
    authorize(principal, Action.KEY_CREATE, project_id)
    if principal.project_id is not None and project_id is None:
        raise Forbidden(
            "a project-scoped key can only create keys for its own project",
            details=[{"field": "project_id", "reason": f"must be '{principal.project_id}'"}],
        )
    if principal.project_id is not None and outranks(principal.role, role):
        raise Forbidden(
            f"a '{principal.role}' key cannot create a '{role}' key",
            details=[{"field": "role", "reason": "above the role of the calling key"}],
        )
    if project_id is not None and deps.store.projects.get(project_id) is None:
        raise NotFound(
            f"no project '{project_id}'", details=[{"field": "project_id", "reason": "no such project"}]
        )
    raw = generate_key()
    key = ApiKey(
        id=deps.ids("key"),
        key_hash=hash_key(raw),
        principal=name,
        role=role,  # type: ignore[arg-type]
        project_id=project_id,
        created_at=deps.clock(),
        created_by=principal.name,
    )
    with deps.store.transaction():
        deps.store.keys.add(key)
        deps.store.audit.append(
            principal=principal.name,
            action="key.created",
            project_id=project_id,
            target=key.id,
            details={"principal": name, "role": role, "project_id": project_id, "key_id": principal.key_id},
        )
    register(deps, name)
    return key, raw


def list_keys(deps: Deps, principal: Principal) -> list[ApiKey]:
    authorize(principal, Action.KEY_READ, principal.project_id)
    return (
        deps.store.keys.list(project_id=principal.project_id)
        if principal.project_id
        else deps.store.keys.list()
    )


def revoke_key(deps: Deps, principal: Principal, key_id: str) -> ApiKey:
    authorize(principal, Action.KEY_REVOKE, principal.project_id)
    visible = list_keys(deps, principal)
    key = next((k for k in visible if k.id == key_id), None)
    if key is None:  # also for keys of other projects: do not confirm they exist
        raise NotFound(f"no API key '{key_id}'", details=[{"field": "key_id", "reason": "no such key"}])
    if principal.project_id is not None and outranks(principal.role, key.role):
        raise Forbidden(
            f"a '{principal.role}' key cannot revoke a '{key.role}' key",
            details=[{"field": "key_id", "reason": "the key's role is above the caller's"}],
        )
    with deps.store.transaction():
        deps.store.keys.revoke(key_id)
        deps.store.audit.append(
            principal=principal.name,
            action="key.revoked",
            project_id=key.project_id,
            target=key_id,
            details={"principal": key.principal, "role": key.role, "key_id": principal.key_id},
        )
    retire_if_unkeyed(deps, key.principal)
    return key
