"""Stages and aliases: which version of a model holds `staging`, `production` or a user alias.

MLflow's lesson (RFC #10336): fixed stages are too few and too coupled to one workflow, so it moved
to named aliases. Here both are one mechanism — the model's `aliases` map, name -> version id — with
two stages that carry rules: `production` takes only an Approved version (the approvals module's
four eyes and policy gates), and `archived` is not a pointer but a version's end state: an archived
version loses every alias it held and can never again be promoted or deployed.

Every move (promote, rollback, archive, and each alias an archive removes) is appended to the
model's history (kind `model_alias_event`, never rewritten) and to the audit log, in the same
transaction as the rev-guarded write of the model, so a concurrent move is a 409, not a lost update.
Rollback uses that history: without `to_version` it returns the stage or alias to the version that
held it before the current one (repeated rollbacks walk further back; archived versions are skipped).
"""

from __future__ import annotations

import re
from dataclasses import asdict, replace
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput
from optiloop.models.records import STAGES, Model, ModelVersion, model_doc, model_version_doc
from optiloop.models.registry import mirror
from optiloop.models.registry.models import get_model, load_model
from optiloop.models.registry.versions import load_version, resolve
from optiloop.store.records import Doc

ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,62}$")
RESERVED = frozenset({*STAGES, "latest"})
MAX_COMMENT = 2_000
PROTECTED = "production"


def check_target(stage: str | None, alias: str | None) -> tuple[str, str]:
    """(kind, name) of a promotion target: exactly one of a stage or a user alias."""
    if (stage is None) == (alias is None):
        raise InvalidInput(FieldProblem("stage", "give exactly one of stage or alias"))
    if stage is not None:
        if stage not in STAGES:
            raise InvalidInput(FieldProblem("stage", f"must be one of {', '.join(STAGES)}"))
        return "stage", stage
    assert alias is not None
    if not ALIAS.fullmatch(alias) or alias.startswith("mv_"):
        raise InvalidInput(
            FieldProblem("alias", "1-63 of A-Z a-z 0-9 _ - starting with a letter (and not mv_)")
        )
    if alias in RESERVED:
        raise InvalidInput(FieldProblem("alias", f"'{alias}' is reserved: use stage for stages"))
    return "alias", alias


def check_promotable(v: ModelVersion, target: str) -> None:
    """Why `v` may not hold `target`, as a 409 naming the version and what is missing."""
    if v.status == "Archived":
        raise Conflict(
            f"version {v.version} ({v.id}) is archived and cannot be promoted or deployed",
            details=[{"field": "version", "reason": "is Archived", "version_id": v.id}],
        )
    if v.status == "Rejected":
        raise Conflict(
            f"version {v.version} ({v.id}) was rejected in review and cannot be promoted",
            details=[{"field": "version", "reason": "is Rejected", "version_id": v.id}],
        )
    if target == PROTECTED and v.status != "Approved":
        missing = (
            "its approval request is still pending"
            if v.status == "PendingApproval"
            else "submit it for approval (POST /v1/approvals with entity_type model_version) and have "
            "someone other than its author approve it"
        )
        raise Conflict(
            f"version {v.version} ({v.id}) is {v.status}; production needs an Approved version: {missing}",
            details=[
                {
                    "field": "version",
                    "reason": f"is {v.status}, production needs Approved",
                    "version_id": v.id,
                    "missing": "approval",
                }
            ],
        )


def require_deployable(deps: Deps, version_id: str, environment: str) -> ModelVersion:
    """The stored version if it may be deployed to `environment`: never an archived or rejected one,
    and only an Approved one to production. Serving calls this inside its own transaction."""
    v, _ = load_version(deps, version_id)
    check_promotable(v, PROTECTED if environment == PROTECTED else environment)
    return v


def is_approved(deps: Deps, version_id: str) -> bool:
    v, _ = load_version(deps, version_id)
    return v.status == "Approved"


def promote(
    deps: Deps,
    who: Principal,
    model_id: str,
    ref: str | int,
    *,
    stage: str | None = None,
    alias: str | None = None,
    comment: str = "",
) -> dict[str, Any]:
    """Point a stage or alias at a version (or archive it); returns the model and the history event."""
    kind, name = check_target(stage, alias)
    _check_comment(comment)
    model = get_model(deps, who, model_id, Action.MODEL_WRITE)
    v = resolve(deps, model, ref)
    if name == "archived":
        return _archive(deps, who, model, v, comment)
    check_promotable(v, name)
    return _move(deps, who, model.id, name, kind, v, "promote", comment)


def rollback(
    deps: Deps,
    who: Principal,
    model_id: str,
    *,
    stage: str | None = None,
    alias: str | None = None,
    to_version: str | int | None = None,
    comment: str = "",
) -> dict[str, Any]:
    """Return a stage or alias to the version that held it before (or to `to_version`)."""
    kind, name = check_target(stage, alias)
    if name == "archived":
        raise InvalidInput(FieldProblem("stage", "archived is a version's end state, not a pointer"))
    _check_comment(comment)
    model = get_model(deps, who, model_id, Action.MODEL_WRITE)
    current = model.aliases.get(name)
    if to_version is not None:
        target = resolve(deps, model, to_version)
    else:
        target = _previous(deps, model, name, current)
    if target.id == current:
        raise Conflict(
            f"version {target.version} already holds '{name}'",
            details=[{"field": "to_version", "reason": "already holds it"}],
        )
    check_promotable(target, name)
    return _move(deps, who, model.id, name, kind, target, "rollback", comment)


def history(
    deps: Deps, who: Principal, model_id: str, *, name: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Every move of the model's stages and aliases, oldest first (optionally of one name)."""
    get_model(deps, who, model_id)
    events = _events(deps, model_id)
    if name is not None:
        events = [e for e in events if e["name"] == name]
    return events[:limit]


def _events(deps: Deps, model_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = deps.store.docs.list("model_alias_event", model_id, after=after, limit=500)
        out += [d.data for d in page]
        if len(page) < 500:
            return out
        after = page[-1].sort


def _previous(deps: Deps, model: Model, name: str, current: str | None) -> ModelVersion:
    """The holder before the current one: replay the history as a stack (a promotion pushes, a
    rollback pops back to its target, an archive removes the version) and take the next one down
    that may still hold `name`."""
    stack: list[str] = []
    archived: set[str] = set()
    for e in _events(deps, model.id):
        if e["action"] == "archive":
            archived.add(e["version_id"])
        if e["name"] != name:
            continue
        vid = e["version_id"]
        if e["action"] == "promote":
            stack.append(vid)
        elif e["action"] == "rollback":
            if vid in stack:
                del stack[stack.index(vid) + 1 :]
            else:
                stack.append(vid)
    if current is not None and stack and stack[-1] == current:
        stack.pop()
    for vid in reversed(stack):
        if vid != current and vid not in archived:
            v, _ = load_version(deps, vid)
            if v.status != "Archived":
                return v
    raise Conflict(
        f"nothing to roll '{name}' back to: no earlier version held it",
        details=[{"field": "to_version", "reason": f"no earlier holder of '{name}'; name one"}],
    )


def _event(
    deps: Deps, who: Principal, model: Model, name: str, kind: str, action: str,
    v: ModelVersion, previous: str | None, comment: str, offset: int = 0,
) -> Doc:  # fmt: skip
    at = deps.clock()
    seq = _last_seq(deps, model.id) + 1 + offset
    eid = f"{model.id}#{seq:08d}"  # a second writer with the same seq fails its create: a 409
    prev_version = None
    if previous is not None:
        pdoc = deps.store.docs.get("model_version", previous)
        prev_version = pdoc.data["version"] if pdoc is not None else None
    data = {
        "id": eid,
        "seq": seq,
        "model_id": model.id,
        "project_id": model.project_id,
        "name": name,
        "kind": kind,
        "action": action,
        "version_id": v.id,
        "version": v.version,
        "previous_version_id": previous,
        "previous_version": prev_version,
        "by": who.name,
        "at": at,
        "comment": comment,
    }
    return Doc(kind="model_alias_event", id=eid, scope=model.id, sort=f"{seq:08d}", data=data)


def _last_seq(deps: Deps, model_id: str) -> int:
    last = deps.store.docs.list("model_alias_event", model_id, limit=1, descending=True)
    return int(last[0].data["seq"]) if last else 0


def _move(
    deps: Deps, who: Principal, model_id: str, name: str, kind: str, v: ModelVersion, action: str,
    comment: str,
) -> dict[str, Any]:  # fmt: skip
    model, doc = load_model(deps, model_id)
    previous = model.aliases.get(name)
    if previous == v.id and action == "promote":
        return {"model": asdict(model), "event": None, "changed": False}
    updated = replace(model, aliases={**model.aliases, name: v.id})
    event = _event(deps, who, model, name, kind, action, v, previous, comment)
    with deps.store.transaction():
        vdoc = deps.store.docs.get("model_version", v.id)  # the stored status, not the one read earlier
        if vdoc is None or vdoc.data["status"] != v.status:
            raise Conflict(f"version {v.version} changed status meanwhile; try again")
        deps.store.docs.replace(model_doc(updated), doc.rev)
        deps.store.docs.create(event)
        record(
            deps,
            who,
            "model.promoted" if action == "promote" else "model.rolled_back",
            model.project_id,
            model.id,
            {
                k: event.data[k]
                for k in ("name", "kind", "version_id", "version", "previous_version_id", "comment")
            },
        )
    return {"model": asdict(updated), "event": event.data, "changed": True}


def _archive(deps: Deps, who: Principal, model: Model, v: ModelVersion, comment: str) -> dict[str, Any]:
    if v.status == "Archived":
        return {"model": asdict(model), "event": None, "changed": False}
    if v.status == "PendingApproval":
        raise Conflict(
            f"version {v.version} has an open approval request; decide it before archiving",
            details=[{"field": "version", "reason": "is PendingApproval"}],
        )
    model, doc = load_model(deps, model.id)
    held = sorted(n for n, vid in model.aliases.items() if vid == v.id)
    updated = replace(model, aliases={n: vid for n, vid in model.aliases.items() if vid != v.id})
    events = [
        _event(deps, who, model, n, _kind(n), "remove", v, v.id, comment, offset=k)
        for k, n in enumerate(held)
    ]
    archive = _event(deps, who, model, "archived", "stage", "archive", v, None, comment, offset=len(held))
    with deps.store.transaction():
        vdoc = deps.store.docs.get("model_version", v.id)
        if vdoc is None or vdoc.data["status"] != v.status:
            raise Conflict(f"version {v.version} changed status meanwhile; try again")
        deps.store.docs.replace(model_version_doc(replace(v, status="Archived")), vdoc.rev)
        if held:
            deps.store.docs.replace(model_doc(updated), doc.rev)
        for e in [*events, archive]:
            deps.store.docs.create(e)
        record(
            deps,
            who,
            "model_version.archived",
            model.project_id,
            v.id,
            {"model_id": model.id, "version": v.version, "removed_from": held, "comment": comment},
        )
    mirror.sync(deps, v.id)  # archived -> Rejected in SageMaker, after the commit
    return {"model": asdict(updated), "event": archive.data, "removed_from": held, "changed": True}


def _kind(name: str) -> str:
    return "stage" if name in STAGES else "alias"


def _check_comment(comment: Any) -> None:
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise InvalidInput(FieldProblem("comment", f"a string of at most {MAX_COMMENT} characters"))
