"""Environments point at prompt versions; moving a pointer is a deployment, pointing back a rollback.

Protected environments (prod) accept only Approved versions: the check runs inside the same
transaction as the move, against the version's stored status, so no key — whatever its role — can
deploy around an approval. A Rejected version is deployable nowhere. Each move is appended to the
deployment's history (for one-call rollback) and to the audit log.

Undeploying takes an environment down (`undeploy`): the deployment is soft-deleted
(`optiloop.deletion`: out of the project's listing, reads by id answer 404 naming when), its history
kept for auditors and for a later deploy to the same environment, which continues it. Protected
environments may be taken down by admins only: deploying there needs an approval, and stopping what
an approval put there should not be easier than a rollback, which any deployer may do.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deletion import gone, is_deleted, tombstone
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotFound
from optiloop.projects import get_project
from optiloop.prompts import library
from optiloop.prompts.records import (
    DEPLOY_HISTORY,
    ENVIRONMENTS,
    PROTECTED_ENVIRONMENTS,
    Deployment,
    PromptVersion,
    deployment_doc,
    deployment_id,
    first_deployed,
    from_doc,
)
from optiloop.prompts.templates import check_values

MAX_OVERRIDES = 64


def deploy(
    deps: Deps, who: Principal, version_id: str, environment: str, overrides: dict[str, Any] | None = None
) -> Deployment:
    _check_environment(environment)
    version = library.get_version(deps, who, version_id, Action.DEPLOY)
    overrides = _check_overrides(version, overrides or {})
    return _move(deps, who, version, environment, overrides, "deploy")


def rollback(
    deps: Deps, who: Principal, prompt_id: str, environment: str, to_version_id: str | None = None
) -> Deployment:
    """Point `environment` back at `to_version_id`, or at the version it ran before the current one."""
    _check_environment(environment)
    prompt = library.get_prompt(deps, who, prompt_id, Action.DEPLOY)
    current = get_deployment(deps, prompt.id, environment)
    if to_version_id is None:
        earlier = [h for h in reversed(current.history) if h["version_id"] != current.version_id]
        if not earlier:
            raise Conflict(
                f"'{environment}' has never run another version of '{prompt.name}'; nothing to roll back to",
                details=[{"field": "environment", "reason": "no earlier version"}],
            )
        to_version_id = earlier[0]["version_id"]
    target = library.get_version(deps, who, to_version_id, Action.DEPLOY)
    if target.prompt_id != prompt.id:
        raise InvalidInput(FieldProblem("to_version_id", "is a version of another prompt"))
    overrides: dict[str, Any] = next(
        (h.get("overrides", {}) for h in reversed(current.history) if h["version_id"] == target.id), {}
    )
    return _move(deps, who, target, environment, overrides, "rollback")


def get_deployment(deps: Deps, prompt_id: str, environment: str) -> Deployment:
    doc = deps.store.docs.get("deployment", deployment_id(prompt_id, environment))
    if doc is None or is_deleted(doc):
        when = f" (undeployed at {doc.data['deleted_at']})" if doc is not None else ""
        raise NotFound(
            f"nothing is deployed to '{environment}' for prompt '{prompt_id}'{when}",
            details=[{"field": "environment", "reason": "undeployed" if when else "no deployment"}],
        )
    return from_doc(Deployment, doc)


def undeploy(deps: Deps, who: Principal, prompt_id: str, environment: str, reason: str = "") -> Deployment:
    """Take `environment` down for the prompt: `generate` and evaluations of that label answer 404
    from now on. The record is tombstoned with an `undeploy` entry in its history, in one transaction
    with the audit record `deployment.undeploy`; returns the deployment as it was taken down."""
    _check_environment(environment)
    prompt = library.get_prompt(deps, who, prompt_id, Action.DEPLOY)
    if environment in PROTECTED_ENVIRONMENTS:
        authorize(who, Action.UNDEPLOY_PROTECTED, prompt.project_id)
    now = deps.clock()
    with deps.store.transaction():
        doc = deps.store.docs.get("deployment", deployment_id(prompt.id, environment))
        if doc is None or is_deleted(doc):
            get_deployment(deps, prompt.id, environment)  # the 404 naming it (and when it went)
        assert doc is not None
        old = from_doc(Deployment, doc)
        entry: dict[str, Any] = {"version_id": old.version_id, "version": old.version, "at": now}
        entry |= {"by": who.name, "action": "undeploy", **({"reason": reason} if reason else {})}
        history = [*old.history, entry][-DEPLOY_HISTORY:]
        gone_dep = replace(old, history=history, created_at=first_deployed(old))
        deps.store.docs.replace(tombstone(deployment_doc(gone_dep), who, now), doc.rev)
        record(
            deps,
            who,
            "deployment.undeploy",
            prompt.project_id,
            old.id,
            {
                "prompt_id": prompt.id,
                "environment": environment,
                "from": {"version_id": old.version_id, "version": old.version},
                "reason": reason,
            },
        )
    return gone_dep


def list_deployments(
    deps: Deps, project_id: str, *, after: str | None = None, limit: int = 100
) -> list[tuple[str, Deployment]]:
    """One page of the project's live prompt deployments in creation order, each with its listing
    cursor (`created_at#id`, comparable with a model deployment's)."""
    get_project(deps, project_id)
    docs = deps.store.docs.list("deployment", project_id, after=after, limit=limit)
    return [(d.sort, from_doc(Deployment, d)) for d in docs]


def _move(
    deps: Deps, who: Principal, version: PromptVersion, environment: str, overrides: dict[str, Any], how: str
) -> Deployment:
    prompt = library.get_prompt(deps, who, version.prompt_id, Action.DEPLOY)  # authorises DEPLOY
    now = deps.clock()
    with deps.store.transaction():
        fresh = deps.store.docs.get("prompt_version", version.id)
        status = fresh.data["status"] if fresh else version.status
        _check_status(version, status, environment)
        doc = deps.store.docs.get("deployment", deployment_id(prompt.id, environment))
        entry = {
            "version_id": version.id,
            "version": version.version,
            "at": now,
            "by": who.name,
            "action": how,
        }
        if overrides:
            entry["overrides"] = overrides
        new = Deployment(
            prompt_id=prompt.id,
            prompt_name=prompt.name,
            project_id=prompt.project_id,
            environment=environment,
            version_id=version.id,
            version=version.version,
            overrides=overrides,
            deployed_at=now,
            deployed_by=who.name,
        )
        if doc is None:
            new = replace(new, history=[entry], created_at=now)
            deps.store.docs.create(deployment_doc(new))
            previous = None
        elif is_deleted(doc):  # deployed again after an undeploy: the history continues
            if how == "rollback":
                raise gone("deployment", new.id, "environment", doc.data["deleted_at"])
            was = from_doc(Deployment, doc)
            history = [*was.history, entry][-DEPLOY_HISTORY:]
            new = replace(new, history=history, created_at=first_deployed(was))
            deps.store.docs.replace(deployment_doc(new), doc.rev)
            previous = None
        else:
            old = from_doc(Deployment, doc)
            previous = {"version_id": old.version_id, "version": old.version}
            history = [*old.history, entry][-DEPLOY_HISTORY:]
            new = replace(new, history=history, created_at=first_deployed(old))
            deps.store.docs.replace(deployment_doc(new), doc.rev)
        record(
            deps,
            who,
            f"deployment.{how}",
            prompt.project_id,
            new.id,
            {
                "prompt_id": prompt.id,
                "environment": environment,
                "to": {
                    "version_id": version.id,
                    "version": version.version,
                    "content_hash": version.content_hash,
                },
                "from": previous,
                "status": status,
                "overrides": overrides,
            },
        )
    return new


def _check_environment(environment: str) -> None:
    if environment not in ENVIRONMENTS:
        raise InvalidInput(FieldProblem("environment", f"must be one of {', '.join(ENVIRONMENTS)}"))


def _check_status(version: PromptVersion, status: str, environment: str) -> None:
    if status == "Rejected":
        raise Conflict(
            f"version {version.version} was rejected and cannot be deployed",
            details=[{"field": "prompt_version_id", "reason": "rejected"}],
        )
    if environment in PROTECTED_ENVIRONMENTS and status != "Approved":
        raise Conflict(
            f"'{environment}' is protected: version {version.version} is {status} and needs approval first "
            f"(POST /v1/prompt_versions/{version.id}/submit_for_approval)",
            details=[{"field": "prompt_version_id", "reason": f"is {status}, not Approved"}],
        )


def _check_overrides(version: PromptVersion, overrides: Any) -> dict[str, Any]:
    """Environment overrides replace the version's variable defaults (e.g. a staging-only tone)."""
    if not isinstance(overrides, dict) or len(overrides) > MAX_OVERRIDES:
        raise InvalidInput(FieldProblem("overrides", f"an object of at most {MAX_OVERRIDES} variable values"))
    problems = check_values(version.variables, overrides, field="overrides", partial=True)
    if problems:
        raise InvalidInput(problems)
    return overrides


def as_dict(d: Deployment) -> dict[str, Any]:
    return {**asdict(d), "id": d.id, "protected": d.environment in PROTECTED_ENVIRONMENTS}
