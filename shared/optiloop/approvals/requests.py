"""Approval requests: submit, approve, reject, list — with rules no API key can bypass.

* Four eyes: the author (and the submitter) of a change cannot approve or reject it, and neither can
  a key the author minted for someone else (an admin could otherwise mint "bob" and approve as him).
* Policies (`policies.py`) are evaluated at submission: a failing gate refuses the submission with
  the rule's name and the measured value; passing gates set how many approvals from whom it needs.
* Every decision is appended to the audit log with its evidence: the content hash of what was
  approved, the evaluations it was measured on, and the policy outcomes.
* At most one open request per entity (a claim document), and every decision is a conditional write
  on the request's rev, so two approvers racing cannot both count or lose one another's vote.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any, Literal

from optiloop.approvals import entities, policy_store
from optiloop.approvals.policies import Policy, evaluate, parse_policy
from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import ROLE_RANK, Action, authorize
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, Forbidden, InvalidInput
from optiloop.store.records import Doc

DEFAULT_REQUIREMENT = {"policy": "default", "approvers": ["admin"], "min_approvals": 1}
MAX_COMMENT = 2_000
STATUSES = ("pending", "approved", "rejected")
GROUP_HOLDER = "admin"  # the least role that holds a named approver group (see _eligible)


def submit(deps: Deps, who: Principal, entity_type: str, entity_id: str, comment: str = "") -> dict[str, Any]:
    _check_comment(comment)
    kind = entities.entity_type(entity_type)
    subject = kind.load(deps, who, entity_id, Action.APPROVAL_SUBMIT)
    if subject.status not in kind.submittable:
        raise Conflict(
            f"only a {' or '.join(kind.submittable)} {entity_type} can be submitted; "
            f"this one is {subject.status}",
            details=[{"field": "status", "reason": f"is {subject.status}"}],
        )
    gathered = kind.gather(deps, subject)
    outcomes = [
        evaluate(p, kind.measurer(gathered, p), missing_hint=kind.missing_hint)
        for p in _policies(deps, subject)
    ]
    failed = [o for o in outcomes if not o.passed]
    if failed:
        record(
            deps,
            who,
            "approval.blocked",
            subject.project_id,
            subject.entity_id,
            {"entity_type": entity_type, "policies": [asdict(o) for o in outcomes]},
        )
        raise Conflict(
            "; ".join(o.message for o in failed),
            details=[
                {"field": f"policy.{o.policy}", "reason": o.message, "measured": o.measured} for o in failed
            ],
        )
    requirements = [o.requirement for o in outcomes if o.requirement] or [DEFAULT_REQUIREMENT]
    now = deps.clock()
    approval = {
        "id": deps.ids("apr"),
        "project_id": subject.project_id,
        "entity_type": entity_type,
        "entity_id": subject.entity_id,
        "entity": subject.summary,
        "author": subject.author,
        "submitted_by": who.name,
        "submitted_at": now,
        "comment": comment,
        "status": "pending",
        "requirements": requirements,
        "policy_outcomes": [asdict(o) for o in outcomes],
        "evidence": {"content_hash": subject.content_hash, **gathered},
        "decisions": [],
        "decided_at": None,
    }
    claim = Doc(
        kind="approval_open",
        id=f"{entity_type}:{subject.entity_id}",
        scope=subject.project_id,
        sort=subject.entity_id,
        data={"approval_id": approval["id"]},
    )
    with deps.store.transaction():
        try:
            deps.store.docs.create(claim)
        except Conflict:
            raise Conflict("an approval request for this entity is already open") from None
        entities.move(deps, subject, kind.submittable, "PendingApproval")
        deps.store.docs.create(_doc(approval))
        record(
            deps,
            who,
            "approval.submitted",
            subject.project_id,
            subject.entity_id,
            {
                "approval_id": approval["id"],
                "entity_type": entity_type,
                "requirements": requirements,
                "content_hash": subject.content_hash,
            },
        )
    entities.moved(deps, subject)
    return approval


def decide(
    deps: Deps,
    who: Principal,
    decision: Literal["approve", "reject"],
    *,
    approval_id: str | None = None,
    entity: tuple[str, str] | None = None,
    comment: str = "",
) -> dict[str, Any]:
    _check_comment(comment)
    if decision == "reject" and not comment.strip():
        raise InvalidInput(FieldProblem("comment", "a rejection needs a comment saying why"))
    doc = _open_request(deps, approval_id, entity)
    approval = dict(doc.data)
    authorize(who, Action.APPROVAL_DECIDE, approval["project_id"])
    _four_eyes(deps, who, approval)
    if approval["status"] != "pending":
        raise Conflict(f"approval '{approval['id']}' is already {approval['status']}")
    if any(d["principal"] == who.name for d in approval["decisions"]):
        raise Conflict(f"'{who.name}' has already decided on this request")
    counts_for = [r["policy"] for r in approval["requirements"] if _eligible(who, r["approvers"])]
    if not counts_for:
        wanted = sorted({a for r in approval["requirements"] for a in r["approvers"]})
        raise Forbidden(
            f"this request needs a decision from {', '.join(wanted)}",
            details=[{"field": "role", "reason": f"'{who.role}' is not among the approvers"}],
        )
    approval["decisions"] = [
        *approval["decisions"],
        {
            "principal": who.name,
            "role": who.role,
            "key_id": who.key_id,
            "decision": decision,
            "comment": comment,
            "at": deps.clock(),
            "counts_for": counts_for,
        },
    ]
    done = decision == "reject" or _satisfied(approval)
    subject = entities.load(deps, who, approval["entity_type"], approval["entity_id"], Action.APPROVAL_DECIDE)
    if subject.content_hash != approval["evidence"]["content_hash"]:  # pragma: no cover - immutable content
        raise Conflict("the entity changed since it was submitted; submit it again")
    with deps.store.transaction():
        if done:
            approval["status"] = "approved" if decision == "approve" else "rejected"
            approval["decided_at"] = deps.clock()
            entities.move(
                deps, subject, ("PendingApproval",), "Approved" if decision == "approve" else "Rejected"
            )
            deps.store.docs.delete("approval_open", f"{approval['entity_type']}:{approval['entity_id']}")
        deps.store.docs.replace(_doc(approval), doc.rev)  # Conflict if another decision landed first
        record(
            deps,
            who,
            f"approval.{decision}d",
            approval["project_id"],
            approval["entity_id"],
            {
                "approval_id": approval["id"],
                "entity_type": approval["entity_type"],
                "comment": comment,
                "status": approval["status"],
                "evidence": approval["evidence"],
                "policy_outcomes": approval["policy_outcomes"],
            },
        )
    if done:
        entities.moved(deps, subject)
    return approval


def get(deps: Deps, who: Principal, approval_id: str) -> dict[str, Any]:
    doc = deps.store.docs.require("approval", approval_id, field="approval_id", what="approval")
    authorize(who, Action.PROMPT_READ, doc.data["project_id"])
    return doc.data


def list_approvals(
    deps: Deps,
    who: Principal,
    project_id: str | None,
    status: str | None,
    limit: int = 100,
    after: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the inbox, newest first (an inbox shows what is waiting now first), and the
    cursor of the next (None on the last page): the listing key `submitted_at#id` of the page's
    last request. Requests per project are few (one per submitted change), so a status filter over
    the project's listing is cheaper than keeping a second index in step. A key bound to no project
    and naming none sees every project's requests, merged in that one order across projects, a
    page of each project in memory at a time."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(FieldProblem("status", f"must be one of {', '.join(STATUSES)}"))
    project_id = project_id or who.project_id
    if project_id is not None:
        authorize(who, Action.PROMPT_READ, project_id)
        streams = [_project_stream(deps, project_id, status, after)]
    else:
        authorize(who, Action.PROMPT_READ)
        streams = [_project_stream(deps, p.id, status, after) for p in _all_projects(deps)]
    page = list(itertools.islice(heapq.merge(*streams, key=lambda kd: kd[0], reverse=True), limit))
    return [d for _, d in page], (page[-1][0] if len(page) == limit else None)


def _all_projects(deps: Deps) -> Iterator[Any]:
    after: str | None = None
    while True:
        projects = deps.store.projects.list(limit=200, after_id=after)
        yield from projects
        if len(projects) < 200:
            return
        after = projects[-1].id


def _project_stream(
    deps: Deps, project_id: str, status: str | None, after: str | None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The project's requests past `after`, newest first, read 200 at a time as they are consumed."""
    while True:
        page = deps.store.docs.list("approval", project_id, after=after, limit=200, descending=True)
        yield from ((d.sort, d.data) for d in page if status is None or d.data["status"] == status)
        if len(page) < 200:
            return
        after = page[-1].sort


def _open_request(deps: Deps, approval_id: str | None, entity: tuple[str, str] | None) -> Doc:
    if approval_id is None:
        assert entity is not None
        claim = deps.store.docs.get("approval_open", f"{entity[0]}:{entity[1]}")
        if claim is None:
            raise Conflict(
                f"{entity[0]} '{entity[1]}' has no open approval request; submit it first",
                details=[{"field": "status", "reason": "not submitted for approval"}],
            )
        approval_id = claim.data["approval_id"]
    return deps.store.docs.require("approval", approval_id, field="approval_id", what="approval")


def _four_eyes(deps: Deps, who: Principal, approval: dict[str, Any]) -> None:
    people = {approval["author"], approval["submitted_by"]}
    if who.name in people:
        raise Forbidden(
            "four-eyes rule: the author or submitter of a change cannot decide on it",
            details=[{"field": "principal", "reason": f"'{who.name}' wrote or submitted this change"}],
        )
    if who.key_id is not None:
        minted_by = next((k.created_by for k in deps.store.keys.list() if k.id == who.key_id), None)
        if minted_by in people:
            raise Forbidden(
                "four-eyes rule: this key was created by the change's author",
                details=[{"field": "key_id", "reason": f"minted by '{minted_by}'"}],
            )


def _eligible(who: Principal, approvers: list[str]) -> bool:
    """A role means that role or above; `user:<name>` that person. Any other name is a governance
    group (`risk_officer`, `mlops_admin`): keys carry no group membership yet, so a group is held by
    whoever may decide approvals at all (admin or above), and the decision records which one it
    counted for. The four-eyes rule applies to every kind of approver."""
    for a in approvers:
        if a.startswith("user:"):
            if a[5:] == who.name:
                return True
        elif a in ROLE_RANK:
            if ROLE_RANK.get(who.role, -1) >= ROLE_RANK[a]:
                return True
        elif ROLE_RANK.get(who.role, -1) >= ROLE_RANK[GROUP_HOLDER]:
            return True
    return False


def _satisfied(approval: dict[str, Any]) -> bool:
    approvals = [d for d in approval["decisions"] if d["decision"] == "approve"]
    return all(
        sum(1 for d in approvals if r["policy"] in d["counts_for"]) >= r["min_approvals"]
        for r in approval["requirements"]
    )


def _policies(deps: Deps, subject: entities.Subject) -> list[Policy]:
    docs = deps.store.docs.list("policy", subject.project_id, limit=policy_store.MAX_POLICIES)
    return [p for p in (parse_policy(d.data) for d in docs) if p.scope == subject.entity_type]


def _check_comment(comment: Any) -> None:
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise InvalidInput(FieldProblem("comment", f"a string of at most {MAX_COMMENT} characters"))


def _doc(approval: dict[str, Any]) -> Doc:
    return Doc(
        kind="approval",
        id=approval["id"],
        scope=approval["project_id"],
        sort=f"{approval['submitted_at']}#{approval['id']}",
        data=approval,
    )
