"""Who may do what: the one permission table of the platform.

Keeping every rule in one table (instead of checks spread over handlers) makes the policy
reviewable at a glance and lets a test enumerate it exhaustively.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from optiloop.errors import Forbidden

if TYPE_CHECKING:
    from optiloop.auth.principal import Principal


class Action(StrEnum):
    PROJECT_READ = "project.read"
    PROJECT_CREATE = "project.create"
    PROJECT_UPDATE = "project.update"  # budgets
    CONSTRAINT_READ = "constraint.read"
    CONSTRAINT_WRITE = "constraint.write"
    TEST_READ = "test.read"
    TEST_SUGGEST = "test.suggest"
    RUN_INGEST = "run.ingest"
    COVERAGE_READ = "coverage.read"
    AUDIT_READ = "audit.read"
    KEY_READ = "key.read"
    KEY_CREATE = "key.create"
    KEY_REVOKE = "key.revoke"
    PROMPT_READ = "prompt.read"
    PROMPT_WRITE = "prompt.write"  # prompts, versions, datasets and examples
    APPROVAL_SUBMIT = "approval.submit"
    APPROVAL_DECIDE = "approval.decide"  # approve or reject someone else's change
    POLICY_WRITE = "policy.write"
    DEPLOY = "deployment.write"  # protected environments also need an approved version
    EVAL_RUN = "eval.run"
    GENERATE = "generate"
    TRACE_READ = "trace.read"
    CACHE_PURGE = "cache.purge"
    MODEL_READ = "model.read"  # models, versions, history, cards, lineage
    MODEL_WRITE = "model.write"  # models, versions, stages and aliases (production: approved only)
    PROJECT_DELETE = "project.delete"  # soft delete (optiloop.deletion); refused while deployed
    PROMPT_DELETE = "prompt.delete"  # soft delete of prompts and golden-set datasets
    UNDEPLOY_PROTECTED = "deployment.undeploy_protected"  # take prod/production down (admins)


# Higher rank = more power. A key may only mint or revoke keys of a rank not above its own.
ROLE_RANK: dict[str, int] = {"viewer": 0, "contributor": 1, "admin": 2, "owner": 3}

_READ = frozenset(
    {
        Action.PROJECT_READ,
        Action.CONSTRAINT_READ,
        Action.TEST_READ,
        Action.COVERAGE_READ,
        Action.AUDIT_READ,
        Action.PROMPT_READ,
        Action.TRACE_READ,
        Action.MODEL_READ,
    }
)
_CONTRIBUTE = _READ | {
    Action.TEST_SUGGEST,
    Action.RUN_INGEST,
    Action.PROJECT_CREATE,
    Action.PROMPT_WRITE,
    Action.APPROVAL_SUBMIT,
    Action.DEPLOY,
    Action.EVAL_RUN,
    Action.GENERATE,
    Action.MODEL_WRITE,
}
_ADMIN = _CONTRIBUTE | {
    Action.APPROVAL_DECIDE,
    Action.POLICY_WRITE,
    Action.CACHE_PURGE,
    Action.CONSTRAINT_WRITE,
    Action.PROJECT_UPDATE,
    Action.PROJECT_DELETE,
    Action.PROMPT_DELETE,
    Action.UNDEPLOY_PROTECTED,
    Action.KEY_READ,
    Action.KEY_CREATE,
    Action.KEY_REVOKE,
}

PERMISSIONS: dict[str, frozenset[Action]] = {
    "viewer": _READ,
    "contributor": _CONTRIBUTE,
    "admin": _ADMIN,
    "owner": _ADMIN,  # owner differs from admin only in rank (who may mint whom)
}

# Actions that are not about one existing project: a project-scoped key cannot do them, whatever its
# role, because a key bound to project X must not create state outside X.
# Deleting a project is global too: a key bound to the project must not remove the ground it stands on.
GLOBAL_ONLY: frozenset[Action] = frozenset({Action.PROJECT_CREATE, Action.PROJECT_DELETE})


def can(principal: Principal, action: Action, project_id: str | None = None) -> bool:
    if action not in PERMISSIONS.get(principal.role, frozenset()):
        return False
    if principal.project_id is None:
        return True
    if action in GLOBAL_ONLY:
        return False
    return project_id is None or project_id == principal.project_id


def authorize(principal: Principal, action: Action, project_id: str | None = None) -> None:
    """Raise Forbidden with the reason, so a client knows whether to ask for a role or another key."""
    if action not in PERMISSIONS.get(principal.role, frozenset()):
        raise Forbidden(
            f"role '{principal.role}' may not {action.value}",
            details=[{"field": "role", "reason": f"'{action.value}' needs a higher role"}],
        )
    if principal.project_id is not None:
        if action in GLOBAL_ONLY:
            raise Forbidden(
                f"'{action.value}' needs a key that is not bound to one project",
                details=[{"field": "project_id", "reason": "the key is bound to one project"}],
            )
        if project_id is not None and project_id != principal.project_id:
            raise Forbidden(
                "this key is bound to another project",
                details=[{"field": "project_id", "reason": "the key is bound to another project"}],
            )


def outranks(role: str, other: str) -> bool:
    """True when `other` is above `role` (so `role` may not grant or revoke it)."""
    return ROLE_RANK[other] > ROLE_RANK[role]
