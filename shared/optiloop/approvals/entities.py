"""What can be approved: a registry of entity types, filled by the capabilities that own them.

The approvals kernel never imports a capability. Each capability describes its reviewable entity
once (`EntityType`: how to read it, which statuses may be submitted, how to move its status inside
the caller's transaction, what evidence a decision rests on and how a policy measures it) and calls
`register` when its package is imported: `optiloop.prompts.approval` registers `prompt_version`,
`optiloop.models.registry` registers `model_version`. The HTTP layer that serves approvals imports
those capability modules (see `optiloop.api.routers.approvals`), so `optiloop serve` and the
approvals Lambda know the same types.

The other names in `ENTITY_TYPES` are part of the API already (a request for one is validated and
answered 501) so that clients and policies can name them before their capability registers them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from optiloop.approvals.policies import Policy
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotImplementedYet

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


Measure = Callable[[str], float | None]


def _no_evidence(deps: Deps, subject: Subject) -> dict[str, Any]:
    return {}


def _nothing_after(deps: Deps, entity_id: str) -> None:
    return None


def _nothing_measured(evidence: dict[str, Any], policy: Policy) -> Measure:
    return lambda key: None


@dataclass(frozen=True)
class EntityType:
    """One reviewable kind of entity, as its capability describes it.

    load      read it (authorising `action` on its project) -> Subject; NotFound if absent
    move      set its status from one of `expected` to `to`, rev-guarded, in the caller's transaction
    submittable  the statuses a submission may start from (a prompt's Draft, a model's Registered)
    gather    the evidence a decision rests on, stored with the request (evaluations, metrics, card)
    measurer  how a policy's measures (`eval.f1`, `metrics.auc`) read that evidence
    missing_hint  what to do when a gate's measure was never taken
    moved     called after a transaction that moved its status has committed (outside it): where a
              capability keeps a copy elsewhere in step (model versions: SageMaker's registry)
    """

    name: str
    load: Callable[[Deps, Principal, str, Action], Subject]
    move: Callable[[Deps, Subject, tuple[str, ...], str], None]
    submittable: tuple[str, ...] = ("Draft",)
    gather: Callable[[Deps, Subject], dict[str, Any]] = _no_evidence
    measurer: Callable[[dict[str, Any], Policy], Measure] = _nothing_measured
    missing_hint: str = "was never measured"
    moved: Callable[[Deps, str], object] = _nothing_after  # what it returns is ignored
    extra: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, EntityType] = {}


def register(entity_type: EntityType) -> None:
    """Make an entity type approvable (idempotent: re-registering replaces the description)."""
    if entity_type.name not in ENTITY_TYPES:
        raise ValueError(f"unknown entity type {entity_type.name!r}; add it to ENTITY_TYPES first")
    _REGISTRY[entity_type.name] = entity_type


def registered() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def entity_type(name: str) -> EntityType:
    """The registered type, a 422 for a name the API does not know, a 501 for a reserved one."""
    if name not in ENTITY_TYPES:
        raise InvalidInput(FieldProblem("entity_type", f"must be one of {', '.join(ENTITY_TYPES)}"))
    found = _REGISTRY.get(name)
    if found is None:
        raise NotImplementedYet(
            f"approvals of {name} come with the capability that owns them; "
            f"approvable today: {', '.join(registered()) or 'nothing'}",
            details=[{"field": "entity_type", "reason": "reserved, not built yet"}],
        )
    return found


def load(deps: Deps, who: Principal, name: str, entity_id: str, action: Action) -> Subject:
    return entity_type(name).load(deps, who, entity_id, action)


def move(deps: Deps, subject: Subject, expected: tuple[str, ...], to: str) -> None:
    """Move the entity's status inside the caller's transaction, guarded by the stored rev."""
    entity_type(subject.entity_type).move(deps, subject, expected, to)


def moved(deps: Deps, subject: Subject) -> None:
    """After the move's transaction committed: the entity type's follow-up (never raises into the caller's
    already-committed request: a type's `moved` handles its own failures)."""
    entity_type(subject.entity_type).moved(deps, subject.entity_id)


def require_status(what: str, status: str, expected: tuple[str, ...]) -> None:
    """The Conflict every entity type's `move` answers when its entity is not where the approval
    expects it (`what`: how the entity is named, e.g. "model version 3")."""
    if status not in expected:
        raise Conflict(
            f"{what} is {status}; expected {' or '.join(expected)}",
            details=[{"field": "status", "reason": f"is {status}"}],
        )
