"""Approval requests and decisions, and the policies that gate them.

The capabilities whose entities can be approved are imported here, so that every app that serves
approvals (`optiloop serve`, the approvals Lambda) has registered their entity types with the kernel.
Governance policies live at `/v1/policies` (project in the body or the query); the older
`/v1/projects/{id}/policies` routes still work, deprecated (that path is for the test-optimisation
seed's learned suggestion policies)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import AfterValidator

from optiloop.api.models.prompts import ApprovalCreate, CommentIn, DecisionIn
from optiloop.api.models.responses import ApprovalOut, ApprovalPage, PolicyOut, PolicyPage
from optiloop.api.models.responses_policies import ProjectPolicies
from optiloop.api.params import After, EntityId, ProjectId
from optiloop.api.security import current_principal, get_deps, require
from optiloop.approvals import policy_store, requests
from optiloop.auth import Action, Principal, authorize
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models import registry as _model_registry  # registers model_version
from optiloop.names import check_name
from optiloop.prompts import approval as _prompt_approval  # registers prompt_version

APPROVABLE = (_model_registry.__name__, _prompt_approval.__name__)

router = APIRouter(tags=["approvals"])

PolicyName = Annotated[
    str,
    Path(min_length=1, max_length=100, description="The governance policy's name, unique in its project."),
    AfterValidator(check_name),
]
_POLICY_EXAMPLE = {
    "name": "prod-gate",
    "scope": "prompt_version",
    "rule": {
        "if": {"eval.exact_match": {">=": 0.8}},
        "then": "require_approval",
        "approvers": ["admin"],
        "min_approvals": 2,
    },
}
_COMMENT_EXAMPLE = {"comment": "scores 0.91 on the golden set; ready for prod"}
PolicyBody = Annotated[
    dict[str, Any],
    Body(
        description="A policy document: `name`, `scope` (prompt_version, model_version, policy, "
        "deployment), `rule` (`if` conditions on measured values, `then` require_approval|block, "
        "`approvers`, `min_approvals` 1-10), optional `dataset_id` to measure on.",
        examples=[_POLICY_EXAMPLE],
    ),
]


@router.post(
    "/v1/prompt_versions/{version_id}/submit_for_approval", status_code=201, response_model=ApprovalOut
)
def submit_version(
    version_id: EntityId,
    body: Annotated[CommentIn | None, Body(examples=[_COMMENT_EXAMPLE])] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Submit a Draft prompt version for approval; it becomes PendingApproval until an admin other
    than its author decides. Contributors and up; audited."""
    return requests.submit(deps, who, "prompt_version", version_id, body.comment if body else "")


@router.post("/v1/prompt_versions/{version_id}/approve", response_model=ApprovalOut)
def approve_version(
    version_id: EntityId,
    body: Annotated[CommentIn | None, Body(examples=[_COMMENT_EXAMPLE])] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Approve a prompt version submitted for approval (four eyes: not its author's or submitter's
    key, nor a key they minted). Admins; audited."""
    comment = body.comment if body else ""
    return requests.decide(deps, who, "approve", entity=("prompt_version", version_id), comment=comment)


@router.post("/v1/prompt_versions/{version_id}/reject", response_model=ApprovalOut)
def reject_version(
    version_id: EntityId,
    body: CommentIn,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Reject a prompt version submitted for approval, with the comment saying why. Admins; audited."""
    return requests.decide(deps, who, "reject", entity=("prompt_version", version_id), comment=body.comment)


@router.post("/v1/approvals", status_code=201, response_model=ApprovalOut)
def create_approval(
    body: ApprovalCreate, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Ask for approval of a change to an entity (a prompt version, a model version, ...): the
    request lists what the policies in force require. Contributors and up; audited."""
    return requests.submit(deps, who, body.entity_type, body.entity_id, body.comment)


@router.get("/v1/approvals", response_model=ApprovalPage)
def list_approvals(
    status: Annotated[str | None, Query(max_length=20, description="pending, approved or rejected")] = None,
    project_id: Annotated[str | None, Query(max_length=100)] = None,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Approval requests the key may see (the approvals inbox), filtered by project and status,
    newest first (what waits now comes first; across projects in that one order). Page with
    `after` = the previous page's `next_after`."""
    items, nxt = requests.list_approvals(deps, who, project_id, status, limit, after)
    return {"items": items, "next_after": nxt}


@router.get("/v1/approvals/{approval_id}", response_model=ApprovalOut)
def get_approval(
    approval_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """One approval request: the change it is about, who submitted it, the policies' requirements and
    the decisions so far."""
    return requests.get(deps, who, approval_id)


@router.post("/v1/approvals/{approval_id}/decisions", response_model=ApprovalOut)
def decide(
    approval_id: EntityId,
    body: DecisionIn,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Approve or reject an approval request, with a comment (required to reject). The four-eyes rule
    holds: the author or submitter of a change, or a key they minted, cannot decide on it. Admins."""
    return requests.decide(deps, who, body.decision, approval_id=approval_id, comment=body.comment)


@router.put("/v1/projects/{project_id}/policies/{name}", response_model=PolicyOut)
def put_policy(
    project_id: ProjectId,
    name: PolicyName,
    body: PolicyBody,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.POLICY_WRITE)),
) -> dict[str, Any]:
    """Deprecated since API 1.1 (use `POST /v1/policies`): write a project's governance policy by name."""
    return policy_store.put_policy(deps, who, project_id, {**body, "name": body.get("name", name)})


@router.post("/v1/projects/{project_id}/policies", status_code=201, response_model=PolicyOut)
def post_policy(
    project_id: ProjectId,
    body: PolicyBody,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.POLICY_WRITE)),
) -> dict[str, Any]:
    """Deprecated since API 1.1 (use `POST /v1/policies`): write a project's governance policy."""
    return policy_store.put_policy(deps, who, project_id, body)


@router.get("/v1/projects/{project_id}/policies", response_model=ProjectPolicies)
def list_policies(
    project_id: ProjectId,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.PROMPT_READ)),
) -> dict[str, Any]:
    """`items`: the project's governance policies (deprecated here: use GET /v1/policies);
    `learned`: its learned suggestion policies (type, version, metrics, artifact, stages), which is
    what this path serves once the deprecated governance listing is gone."""
    from optiloop.testopt.policies import learned

    items, _ = policy_store.list_policies(deps, project_id)  # the whole set, as before 1.1
    return {"items": items, "learned": learned(deps, who, project_id)}


@router.delete("/v1/projects/{project_id}/policies/{name}", status_code=204)
def delete_policy(
    project_id: ProjectId,
    name: PolicyName,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.POLICY_WRITE)),
) -> Response:
    """Deprecated since API 1.1 (use `DELETE /v1/policies/{name}`): delete a project's governance policy."""
    policy_store.delete_policy(deps, who, project_id, name)
    return Response(status_code=204)


def _policy_project(body_pid: Any, query_pid: str | None, who: Principal) -> str:
    pid = body_pid if body_pid is not None else (query_pid or who.project_id)
    if not isinstance(pid, str) or not pid:
        raise InvalidInput(
            FieldProblem("project_id", "is required in the body or the query (or a project key)")
        )
    return pid


@router.post("/v1/policies", status_code=201, response_model=PolicyOut)
def create_policy(
    body: Annotated[
        dict[str, Any],
        Body(
            description="A policy document as on the project routes, with the `project_id` it belongs "
            "to (or give that in the query, or use a project-bound key).",
            examples=[{**_POLICY_EXAMPLE, "project_id": "prj_0190c3a4b5f600000001"}],
        ),
    ],
    project_id: Annotated[str | None, Query(max_length=100)] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Create or replace a governance policy (by name) of a project: the seed's body as written."""
    pid = _policy_project(body.get("project_id"), project_id, who)
    authorize(who, Action.POLICY_WRITE, pid)
    return policy_store.put_policy(deps, who, pid, {k: v for k, v in body.items() if k != "project_id"})


@router.get("/v1/policies", response_model=PolicyPage)
def get_policies(
    project_id: Annotated[str | None, Query(max_length=100)] = None,
    scope: Annotated[str | None, Query(max_length=50, description="only policies of this scope")] = None,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many policies.")] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """The governance policies (policy-as-code) in force for the tenant or a project, oldest first
    (a replaced policy keeps its place). Page with `after` = the previous page's `next_after`."""
    pid = _policy_project(None, project_id, who)
    authorize(who, Action.PROMPT_READ, pid)
    items, nxt = policy_store.list_policies(deps, pid, scope=scope, after=after, limit=limit)
    return {"items": items, "next_after": nxt}


@router.delete("/v1/policies/{name}", status_code=204)
def remove_policy(
    name: PolicyName,
    project_id: Annotated[str | None, Query(max_length=100)] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> Response:
    """Delete a governance policy by name (`project_id` in the query for a project's policy). Admins;
    audited."""
    pid = _policy_project(None, project_id, who)
    authorize(who, Action.POLICY_WRITE, pid)
    policy_store.delete_policy(deps, who, pid, name)
    return Response(status_code=204)
