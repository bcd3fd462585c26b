"""Soft delete: a deleted thing vanishes from listings and reads, but its record stays.

Why soft: the audit log, evaluations, lineage and approvals name prompts, datasets and projects by id,
and an auditor must still be able to see what such an id was. So a delete never removes a document;
it moves it out of its listing and marks it:

* a document (prompt, golden-set dataset) is rewritten under its rev with `scope` set to
  `deleted:<scope>` (listings of the scope no longer see it) and `deleted_at` / `deleted_by` in its
  data (reads by id answer 404 naming the deletion);
* a project, a row of its own repository, gets a tombstone document (`project_deleted`, id = the
  project id) that `optiloop.projects` consults on every read.

Each delete is one store transaction with its audit record: nothing half-deleted, nothing unaudited.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.errors import Conflict, NotFound
from optiloop.store.records import Doc

DELETED_SCOPE = "deleted:"
PROJECT_TOMBSTONE = "project_deleted"

# Documents whose presence in a project's scope means something is deployed from it: a project (or
# one of its prompts) is not deleted under a live deployment. Kind names only: the kernel reads these
# documents' `prompt_id`, it imports no capability.
DEPLOYMENT_KINDS: tuple[tuple[str, str], ...] = (
    ("deployment", "prompt deployment"),
    ("model_deployment_slot", "model deployment"),
)


def is_deleted(doc: Doc | None) -> bool:
    return doc is not None and bool(doc.data.get("deleted_at"))


def gone(what: str, entity_id: str, field: str, deleted_at: str) -> NotFound:
    """The 404 a read of a deleted thing answers: it names the deletion, so a client that held the id
    knows it was deleted rather than mistyped."""
    return NotFound(
        f"{what} '{entity_id}' was deleted at {deleted_at}",
        details=[{"field": field, "reason": f"{what} deleted"}],
    )


def tombstone(doc: Doc, who: Principal, at: str) -> Doc:
    """The deleted form of a document: out of its listing, marked with who deleted it and when."""
    data: dict[str, Any] = {**doc.data, "deleted_at": at, "deleted_by": who.name}
    return replace(doc, scope=DELETED_SCOPE + doc.scope, data=data)


def deployments_in(deps: Deps, project_id: str) -> list[tuple[str, Doc]]:
    """Every live deployment of the project, as (what, document)."""
    found: list[tuple[str, Doc]] = []
    for kind, what in DEPLOYMENT_KINDS:
        found.extend((what, d) for d in deps.store.docs.list(kind, project_id, limit=1000))
    return found


def refuse_if_deployed(entity: str, entity_id: str, field: str, live: list[tuple[str, Doc]]) -> None:
    """409 naming what is deployed: undeploy it (or delete the deployment's target) first."""
    if live:
        what, doc = live[0]
        raise Conflict(
            f"{entity} '{entity_id}' has {len(live)} live deployment(s), e.g. {what} '{doc.id}'; "
            "it cannot be deleted while deployed",
            details=[
                {
                    "field": field,
                    "reason": "deployed",
                    "hint": "what is deployed stays until its deployments are gone",
                }
            ],
        )
