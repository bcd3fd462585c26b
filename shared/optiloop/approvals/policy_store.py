"""Storing a project's policies: one document per name, replaced on update, every change audited.

A project holds at most `MAX_POLICIES` policies: every submission evaluates all of them, so the set
is bounded where it is written (a 409 naming `name`) rather than cut short where it is read.

The listing is in creation order like every other listing (docs/api-versioning.md, "Listings"),
with the same `after`/`next_after` cursor. The store keeps a policy under its name (that is how a
put finds the one it replaces), so the order is made here, over the whole bounded set, by
`created_at` — kept across replacements. Policies written before `created_at` was recorded list by
their last change (`updated_at`), the earliest time the store knows for them; no migration could
know more.
"""

from __future__ import annotations

from typing import Any

from optiloop.approvals.policies import parse_policy, policy_as_dict
from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.errors import Conflict, NotFound
from optiloop.projects import get_project
from optiloop.store.records import Doc

MAX_POLICIES = 1000  # per project


def put_policy(deps: Deps, who: Principal, project_id: str, raw: Any) -> dict[str, Any]:
    """Create or replace the policy of that name; returns it normalised, with its revision."""
    policy = parse_policy(raw)
    get_project(deps, project_id)
    doc_id = f"{project_id}/{policy.name}"
    now = deps.clock()
    with deps.store.transaction():
        current = deps.store.docs.get("policy", doc_id)
        data = {
            **policy_as_dict(policy),
            "project_id": project_id,
            "created_at": _created(current.data) if current else now,
            "updated_at": now,
            "updated_by": who.name,
        }
        doc = Doc(kind="policy", id=doc_id, scope=project_id, sort=policy.name, data=data)
        if current is None:
            if len(deps.store.docs.list("policy", project_id, limit=MAX_POLICIES)) >= MAX_POLICIES:
                raise Conflict(
                    f"project already has {MAX_POLICIES} policies, the most one project may hold",
                    details=[{"field": "name", "reason": f"at most {MAX_POLICIES} policies per project",
                              "hint": "replace or delete a policy instead"}],
                )  # fmt: skip
            deps.store.docs.create(doc)
            rev = 1
        else:
            rev = deps.store.docs.replace(doc, current.rev).rev
        record(
            deps,
            who,
            "policy.updated" if current else "policy.created",
            project_id,
            doc_id,
            {"policy": policy_as_dict(policy), "previous": _strip(current.data) if current else None},
        )
    return {**data, "revision": rev}


def list_policies(
    deps: Deps,
    project_id: str,
    *,
    scope: str | None = None,
    after: str | None = None,
    limit: int = MAX_POLICIES,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the project's policies (of one `scope` if given), oldest first, and the cursor of
    the next page (None on the last). The cursor is the last item's `created_at#name`: a policy
    deleted between two pages does not lose the reader's place."""
    get_project(deps, project_id)
    docs = deps.store.docs.list("policy", project_id, limit=MAX_POLICIES)
    placed = sorted((f"{_created(d.data)}#{d.data.get('name', '')}", d) for d in docs)
    matching = [
        (key, d)
        for key, d in placed
        if (scope is None or d.data.get("scope") == scope) and (after is None or key > after)
    ]
    page = matching[:limit]
    items = [{**d.data, "created_at": _created(d.data), "revision": d.rev} for _, d in page]
    return items, page[-1][0] if len(matching) > limit else None


def delete_policy(deps: Deps, who: Principal, project_id: str, name: str) -> None:
    doc_id = f"{project_id}/{name}"
    with deps.store.transaction():
        current = deps.store.docs.get("policy", doc_id)
        if current is None:
            raise NotFound(
                f"project has no policy named '{name}'",
                details=[{"field": "name", "reason": "no such policy"}],
            )
        deps.store.docs.delete("policy", doc_id)
        record(deps, who, "policy.deleted", project_id, doc_id, {"previous": _strip(current.data)})


def _created(data: dict[str, Any]) -> str:
    """When the policy was first written: `created_at`, or for a policy stored before that was
    recorded, its last change."""
    return str(data.get("created_at") or data.get("updated_at") or "")


def _strip(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in data.items() if k not in ("created_at", "updated_at", "updated_by", "project_id")
    }
