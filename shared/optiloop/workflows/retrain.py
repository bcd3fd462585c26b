"""Which projects have runs their last trained surrogate has not seen.

"Last fit" is the newest snapshot a registered model version of the project was trained on: each
`model_version.registered` audit record names its training job, whose `project_runs` channel
records `runs_through_seq` (optiloop.models.training.channels). The in-process surrogate refits on
every suggest call and registers nothing, so this check is about the trained one
(`POST /v1/projects/{id}/policies:train`): it says where a retrain would teach something new, it
does not retrain. A project is flagged once per new run it has: re-running the check without new
runs reports it again as still due but writes no second record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from optiloop.deps import Deps
from optiloop.models.records import runs_through_seq
from optiloop.store.ports import Store
from optiloop.store.records import AuditRecord, Project

MODEL_REGISTERED = "model_version.registered"
RETRAIN_DUE = "model.retrain_due"
ACTOR = "system:retrain-check"
PAGE = 1000


@dataclass(frozen=True)
class ProjectCheck:
    project_id: str
    last_run_seq: int  # runs are numbered 1..n per project, so this is also the run count
    last_fit_seq: int  # 0: no model registered yet
    new_runs: int
    due: bool
    recorded: bool  # a retrain-due record was written by this check (False: up to date, or already flagged)


def _projects(store: Store) -> Iterator[Project]:
    after: str | None = None
    while True:
        page = store.projects.list(limit=PAGE, after_id=after)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].id


def latest_record(store: Store, project_id: str, action: str) -> AuditRecord | None:
    """The newest audit record of one action for one project (the log lists oldest first)."""
    last: AuditRecord | None = None
    after = 0
    while True:
        page = store.audit.list(project_id=project_id, action=action, after_seq=after, limit=PAGE)
        if page:
            last = page[-1]
            after = page[-1].seq
        if len(page) < PAGE:
            return last


def _seq(record: AuditRecord | None, key: str) -> int:
    value = record.details.get(key) if record is not None else None
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def last_fit_seq(deps: Deps, project_id: str) -> int:
    """The newest run a registered version of the project was trained on (0: none)."""
    best, after = 0, 0
    while True:
        page = deps.store.audit.list(
            project_id=project_id, action=MODEL_REGISTERED, after_seq=after, limit=PAGE
        )
        for rec in page:
            job_id = (rec.details.get("source") or {}).get("training_job_id")
            job = deps.store.docs.get("training_job", str(job_id)) if job_id else None
            if job is not None:
                best = max(best, runs_through_seq(job.data, project_id))
        if len(page) < PAGE:
            return best
        after = page[-1].seq


def check_project(deps: Deps, project_id: str, *, min_new_runs: int = 1) -> ProjectCheck:
    store = deps.store
    last_run = store.runs.max_seq(project_id)
    fit = last_fit_seq(deps, project_id)
    new_runs = max(0, last_run - fit)
    due = new_runs >= max(1, min_new_runs)
    recorded = False
    if due and _seq(latest_record(store, project_id, RETRAIN_DUE), "last_run_seq") < last_run:
        store.audit.append(
            principal=ACTOR,
            action=RETRAIN_DUE,
            project_id=project_id,
            target=project_id,
            details={
                "last_run_seq": last_run,
                "last_fit_seq": fit,
                "new_runs": new_runs,
                "checked_at": deps.clock(),
            },
        )
        recorded = True
    return ProjectCheck(project_id, last_run, fit, new_runs, due, recorded)


def check_all(deps: Deps, *, min_new_runs: int = 1) -> dict[str, Any]:
    """Check every project; the summary is what the scheduled run reports (logs and its result)."""
    checks = [check_project(deps, p.id, min_new_runs=min_new_runs) for p in _projects(deps.store)]
    due = [c for c in checks if c.due]
    return {
        "checked": len(checks),
        "due": [asdict(c) for c in due],
        "recorded": sum(c.recorded for c in due),
        "up_to_date": len(checks) - len(due),
    }
