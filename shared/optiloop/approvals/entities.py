"""What can be approved, and how each kind of entity is read and moved through its statuses.

Only prompt versions exist today. The other entity types are part of the API already (a request
for one is validated and answered 501) so that clients and policies can name them now."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotImplementedYet
from optiloop.prompts import library
from optiloop.prompts.records import PromptVersion, version_doc

ENTITY_TYPES = ("prompt_version", "model_version", "policy", "deployment")


@dataclass(frozen=True)
class Subject:
    """The entity under review, as the approval module needs to see it."""

    entity_type: str
    entity_id: str
    project_id: str
    author: str
    status: str
    content_hash: str
    summary: dict[str, Any]


def load(deps: Deps, who: Principal, entity_type: str, entity_id: str, action: Action) -> Subject:
    if entity_type not in ENTITY_TYPES:
        raise InvalidInput(FieldProblem("entity_type", f"must be one of {', '.join(ENTITY_TYPES)}"))
    if entity_type != "prompt_version":
        raise NotImplementedYet(
            f"approvals of {entity_type} come with the capability that owns them; only prompt_version today",
            details=[{"field": "entity_type", "reason": "reserved, not built yet"}],
        )
    v = library.get_version(deps, who, entity_id, action)
    return Subject(
        entity_type=entity_type,
        entity_id=v.id,
        project_id=v.project_id,
        author=v.created_by,
        status=v.status,
        content_hash=v.content_hash,
        summary={"prompt_id": v.prompt_id, "version": v.version},
    )


def move(deps: Deps, subject: Subject, expected: tuple[str, ...], to: str) -> None:
    """Move the entity's status inside the caller's transaction, guarded by the stored rev."""
    doc = deps.store.docs.get("prompt_version", subject.entity_id)
    if doc is None:  # pragma: no cover - versions are never deleted
        raise Conflict(f"prompt version '{subject.entity_id}' vanished")
    v = PromptVersion(**{k: doc.data[k] for k in PromptVersion.__dataclass_fields__})
    if v.status not in expected:
        raise Conflict(
            f"prompt version {v.version} is {v.status}; expected {' or '.join(expected)}",
            details=[{"field": "status", "reason": f"is {v.status}"}],
        )
    deps.store.docs.replace(version_doc(replace(v, status=to)), doc.rev)
