"""Online experiments: creation, reading (with results) and the audited lifecycle.

Draft -> Running <-> Paused -> Completed -> Archived. Decisions are served only while Running;
feedback is accepted while Running or Paused (late rewards of a paused experiment still count) and
refused once Completed, which freezes the results. Lifecycle changes are rare and must never be
lost, so each one is an audit chain append (`record`), unlike decisions and feedback (events).
"""

from __future__ import annotations

from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.decisions import attach, results, spec
from optiloop.decisions.cache import CACHE
from optiloop.decisions.state import STATE, LearnerState
from optiloop.deps import Deps
from optiloop.errors import Conflict, NotFound
from optiloop.projects import get_project
from optiloop.store.records import Doc

KIND = "experiment"  # shared with AutoML; an online experiment is the one with `type`
WRITE_ATTEMPTS = 5
# (action, statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "start": (("Draft", "Paused"), "Running"),
    "pause": (("Running",), "Paused"),
    "complete": (("Running", "Paused"), "Completed"),
    "archive": (("Completed",), "Archived"),
}


def create(deps: Deps, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    project_id = body["project_id"]
    authorize(who, Action.DEPLOY, project_id)
    get_project(deps, project_id)
    normal = spec.normalise(body)
    attach.check_prompt(deps, who, project_id, normal.get("attach"))
    exp_id = deps.ids("exp")
    now = deps.clock()
    data: dict[str, Any] = {
        "id": exp_id,
        "experiment_id": exp_id,
        "project_id": project_id,
        "name": body["name"],
        **normal,
        "status": "Draft",
        "history": [{"status": "Draft", "at": now, "by": who.name}],
        "created_at": now,
        "created_by": who.name,
    }
    state = LearnerState.empty(data)
    claim = attach.claim_doc(data)
    with deps.store.transaction():
        deps.store.docs.create(Doc(kind=KIND, id=exp_id, scope=project_id, sort=exp_id, data=data))
        if claim is not None:
            try:
                deps.store.docs.create(claim)
            except Conflict:
                raise Conflict(
                    "the label already has an experiment attached",
                    details=[{"field": "attach", "reason": "another live experiment holds this label"}],
                ) from None
        deps.store.docs.create(
            Doc(
                kind=STATE,
                id=exp_id,
                scope=project_id,
                sort=exp_id,
                data={"experiment_id": exp_id, **state.to_data()},
            )
        )
        record(
            deps, who, "experiment.created", project_id, exp_id,
            {"type": data["type"], "algorithm": data["algorithm"],
             "variants": [v["id"] for v in data["variants"]]},
        )  # fmt: skip
    return data


def load(deps: Deps, experiment_id: str) -> Doc:
    doc = deps.store.docs.require(KIND, experiment_id, field="experiment_id", what="experiment")
    if not spec.is_online(doc.data):
        raise NotFound(
            f"no online experiment '{experiment_id}'",
            details=[
                {"field": "experiment_id", "reason": "is an AutoML experiment (task_type), not an online one"}
            ],
        )
    return doc


def get(deps: Deps, who: Principal, experiment_id: str) -> dict[str, Any]:
    """The experiment and its results, computed from the checkpointed state (not the cache: a read
    after feedback sees that feedback)."""
    doc = load(deps, experiment_id)
    authorize(who, Action.PROJECT_READ, doc.data["project_id"])
    st = deps.store.docs.get(STATE, experiment_id)
    state = LearnerState.from_data(st.data) if st is not None else LearnerState.empty(doc.data)
    return {**doc.data, "results": results.summarise(doc.data, state)}


def transition(deps: Deps, who: Principal, experiment_id: str, action: str) -> dict[str, Any]:
    """One lifecycle step under the document's rev (two concurrent steps: one wins, the other re-reads
    and is judged against the new status)."""
    return _step(deps, who, experiment_id, action, None)


def stop_for_guardrails(
    deps: Deps, who: Principal, experiment_id: str, breached: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """Pause a Running experiment whose treatment breached a guardrail, recording which (audited).
    Runs on the feedback path with the caller's principal, which may only hold `generate`: the
    guardrail, not the caller, decides, so DEPLOY is not asked. None if it is no longer Running."""
    try:
        return _step(deps, who, experiment_id, "pause", {"guardrails": breached})
    except Conflict:
        return None  # paused, completed or archived meanwhile: nothing to stop


def _step(
    deps: Deps, who: Principal, experiment_id: str, action: str, reason: dict[str, Any] | None
) -> dict[str, Any]:
    allowed, target = TRANSITIONS[action]
    for attempt in range(WRITE_ATTEMPTS):
        doc = load(deps, experiment_id)
        if reason is None:
            authorize(who, Action.DEPLOY, doc.data["project_id"])
        status = doc.data["status"]
        if status not in allowed:
            raise Conflict(
                f"experiment '{experiment_id}' is {status}; {action} needs one of {', '.join(allowed)}",
                details=[{"field": "status", "reason": f"is {status}"}],
            )
        now = deps.clock()
        step = {"status": target, "at": now, "by": who.name, **({"reason": reason} if reason else {})}
        history = [*doc.data.get("history", []), step]
        new = Doc(
            kind=KIND,
            id=doc.id,
            scope=doc.scope,
            sort=doc.sort,
            data={**doc.data, "status": target, "history": history},
        )
        try:
            with deps.store.transaction():
                saved = deps.store.docs.replace(new, doc.rev)
                if target in ("Completed", "Archived"):
                    attach.release(deps, doc.data)  # the label serves as usual again
                record(
                    deps,
                    who,
                    f"experiment.{action}" if reason is None else "experiment.guardrail_stop",
                    doc.data["project_id"],
                    experiment_id,
                    {"from": status, "to": target, **(reason or {})},
                )
        except Conflict:
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            continue
        CACHE.invalidate(deps, experiment_id)
        return saved.data
    raise AssertionError("unreachable")  # pragma: no cover
