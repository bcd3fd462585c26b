"""Prompt versions as approvable entities: how the approvals kernel reads and moves them.

Registered with `optiloop.approvals.entities` on import. A Draft is submitted; its newest completed
evaluation per golden set is the evidence, and a policy's `eval.<metric>` measures read it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from optiloop.approvals import entities, evidence
from optiloop.approvals.policies import Policy
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action
from optiloop.deps import Deps
from optiloop.errors import Conflict
from optiloop.prompts import library
from optiloop.prompts.records import PromptVersion, version_doc


def _load(deps: Deps, who: Principal, entity_id: str, action: Action) -> entities.Subject:
    v = library.get_version(deps, who, entity_id, action)
    return entities.Subject(
        entity_type="prompt_version",
        entity_id=v.id,
        project_id=v.project_id,
        author=v.created_by,
        status=v.status,
        content_hash=v.content_hash,
        summary={"prompt_id": v.prompt_id, "version": v.version},
    )


def _move(deps: Deps, subject: entities.Subject, expected: tuple[str, ...], to: str) -> None:
    doc = deps.store.docs.get("prompt_version", subject.entity_id)
    if doc is None:  # pragma: no cover - versions are never deleted
        raise Conflict(f"prompt version '{subject.entity_id}' vanished")
    v = PromptVersion(**{k: doc.data[k] for k in PromptVersion.__dataclass_fields__})
    entities.require_status(f"prompt version {v.version}", v.status, expected)
    deps.store.docs.replace(version_doc(replace(v, status=to)), doc.rev)  # type: ignore[arg-type]  # `to` is one of the statuses the approvals module moves between


def _gather(deps: Deps, subject: entities.Subject) -> dict[str, Any]:
    return {"evaluations": evidence.latest_evals(deps, subject.entity_id)}


def _measurer(ev: dict[str, Any], policy: Policy) -> entities.Measure:
    return evidence.measurer(ev.get("evaluations", []), policy.dataset_id)


PROMPT_VERSION = entities.EntityType(
    name="prompt_version",
    load=_load,
    move=_move,
    submittable=("Draft",),
    gather=_gather,
    measurer=_measurer,
    missing_hint="was never measured (run an evaluation first)",
)
entities.register(PROMPT_VERSION)
