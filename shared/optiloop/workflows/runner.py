"""The local workflow runner: interprets a `Workflow` definition in process, as Step Functions would.

Semantics kept from ASL: a task's error is its exception's class name (as a Lambda's errorType is);
`Retry` entries are tried in order (interval x backoff^n between attempts), then `Catch` entries; a
caught error is stored as `{"Error", "Cause"}` at the catch's key and execution moves on; an uncaught
one fails the execution. A task's result is stored at its `result_key`.

Durability: the execution document is rewritten after every transition with the state object and
the next state's name, so a process that dies mid-way leaves an execution that `resume` continues
from where it stood (a task interrupted mid-call runs again: steps are idempotent on the execution
id, which is what Step Functions' own retries already demand of them).

What happened is visible per step: each task attempt is an event (state, step, attempt, status,
error, cause, times) on the execution, the last `MAX_EVENTS` kept, plus a count per state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from optiloop.deps import Deps
from optiloop.errors import NotFound
from optiloop.store.records import Doc
from optiloop.workflows.definition import (
    ALL_ERRORS,
    Choice,
    Fail,
    Succeed,
    Task,
    Wait,
    Workflow,
)

log = logging.getLogger("optiloop.workflows")

Step = Callable[[Deps, dict[str, Any]], dict[str, Any]]
KIND = "workflow_execution"
RUNNING_KIND = "workflow_running"  # the index of executions still running, by backend: what resume reads
MAX_EVENTS = 200
MAX_TRANSITIONS = 100_000  # a definition bug that loops without waiting still ends
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"})


def _matches(errors: tuple[str, ...], name: str) -> bool:
    return ALL_ERRORS in errors or name in errors


def execution_doc(data: dict[str, Any], rev: int = 1) -> Doc:
    return Doc(
        kind=KIND,
        id=data["id"],
        scope=data["project_id"],
        sort=f"{data['started_at']}#{data['id']}",
        data=data,
        rev=rev,
    )


class LocalRunner:
    """Runs executions on daemon threads (or inline with `run`), persisting each transition."""

    backend = "local"

    def __init__(
        self,
        deps: Deps,
        workflows: Mapping[str, Workflow],
        steps: Mapping[str, Step],
        *,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.deps = deps
        self.workflows = dict(workflows)
        self.steps = dict(steps)
        self._stop = threading.Event()
        self._sleep = sleep or self._interruptible_sleep
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self, workflow: str, execution_id: str, project_id: str, data: dict[str, Any], by: str) -> None:
        """Record the execution and run it on a thread; returns at once."""
        self._create(workflow, execution_id, project_id, data, by)
        self._spawn(execution_id)

    def run(
        self, workflow: str, execution_id: str, project_id: str, data: dict[str, Any], by: str
    ) -> dict[str, Any]:
        """Record the execution and run it to the end on this thread (tests, the CLI)."""
        self._create(workflow, execution_id, project_id, data, by)
        return self._drive(execution_id)

    def resume(self) -> list[str]:
        """Continue every RUNNING local execution (after a restart). Returns their ids. Reads the
        index of running executions only (one document each, removed when they end), not every
        project's history."""
        resumed: list[str] = []
        after: str | None = None
        while True:
            page = self.deps.store.docs.list(RUNNING_KIND, self.backend, after=after, limit=100)
            for d in page:
                doc = self.deps.store.docs.get(KIND, d.id)
                if doc is not None and doc.data.get("status") == "RUNNING":
                    self._spawn(d.id)
                    resumed.append(d.id)
            if len(page) < 100:
                return resumed
            after = page[-1].sort

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for t in list(self._threads.values()):
            t.join(timeout)

    def wait(self, execution_id: str, timeout: float = 60.0) -> None:
        t = self._threads.get(execution_id)
        if t is not None:
            t.join(timeout)

    # -- internals -------------------------------------------------------------------------------

    def _interruptible_sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _create(
        self, workflow: str, execution_id: str, project_id: str, data: dict[str, Any], by: str
    ) -> None:
        wf = self.workflows[workflow]
        now = self.deps.clock()
        running = Doc(
            kind=RUNNING_KIND, id=execution_id, scope=self.backend, sort=f"{now}#{execution_id}", data={}
        )
        with self.deps.store.transaction():
            self.deps.store.docs.create(running)
            self.deps.store.docs.create(
                execution_doc(
                    {
                        "id": execution_id,
                        "workflow": workflow,
                        "project_id": project_id,
                        "backend": self.backend,
                        "status": "RUNNING",
                        "started_at": now,
                        "started_by": by,
                        "ended_at": None,
                        "deadline": time.time() + wf.timeout_s,
                        "current_state": wf.start,
                        "input": data,
                        "state": data,
                        "output": None,
                        "error": None,
                        "events": [],
                        "visits": {},
                    }
                )
            )

    def _spawn(self, execution_id: str) -> None:
        with self._lock:
            t = self._threads.get(execution_id)
            if t is not None and t.is_alive():
                return
            t = threading.Thread(
                target=self._drive_logged, args=(execution_id,), name=f"workflow-{execution_id}", daemon=True
            )
            self._threads[execution_id] = t
            t.start()

    def _drive_logged(self, execution_id: str) -> None:
        try:
            self._drive(execution_id)
        except Exception:  # pragma: no cover - _drive records failures itself; this is the last net
            log.exception("workflow execution %s crashed", execution_id)

    def _load(self, execution_id: str) -> Doc:
        doc = self.deps.store.docs.get(KIND, execution_id)
        if doc is None:
            raise NotFound(f"no workflow execution '{execution_id}'")
        return doc

    def _save(self, doc: Doc, **changes: Any) -> Doc:
        data = {**doc.data, **changes}
        return self.deps.store.docs.replace(execution_doc(data, doc.rev), doc.rev)

    def _event(self, doc: Doc, event: dict[str, Any]) -> list[dict[str, Any]]:
        return [*doc.data["events"], event][-MAX_EVENTS:]

    def _drive(self, execution_id: str) -> dict[str, Any]:
        doc = self._load(execution_id)
        wf = self.workflows[doc.data["workflow"]]
        for _ in range(MAX_TRANSITIONS):
            data = doc.data
            if data["status"] in TERMINAL:
                return data
            if self._stop.is_set():
                return data  # left RUNNING: resumed by the next process
            if time.time() > data["deadline"]:
                doc = self._finish(doc, "TIMED_OUT", error={"Error": "States.Timeout", "Cause": "deadline"})
                continue
            name = data["current_state"]
            state = wf.states[name]
            visits = {**data["visits"], name: data["visits"].get(name, 0) + 1}
            if isinstance(state, Succeed):
                doc = self._finish(doc, "SUCCEEDED", output=data["state"], visits=visits)
            elif isinstance(state, Fail):
                doc = self._finish(
                    doc, "FAILED", error={"Error": state.error, "Cause": state.cause}, visits=visits
                )
            elif isinstance(state, Wait):
                seconds = float(data["state"].get(state.seconds_key, state.default_s))
                self._sleep(max(0.0, seconds))
                doc = self._save(doc, current_state=state.next, visits=visits)
            elif isinstance(state, Choice):
                value = data["state"].get(state.key)
                if state.field and isinstance(value, dict):
                    value = value.get(state.field)
                nxt = state.cases.get(str(value), state.default)
                doc = self._save(doc, current_state=nxt, visits=visits)
            else:
                doc = self._task(doc, name, state, visits)
        return self._finish(
            doc, "FAILED", error={"Error": "States.Runaway", "Cause": "too many transitions"}
        ).data

    def _task(self, doc: Doc, name: str, task: Task, visits: dict[str, int]) -> Doc:
        step = self.steps[task.step]
        attempt = 0
        while True:
            attempt += 1
            started = self.deps.clock()
            try:
                result = step(self.deps, dict(doc.data["state"]))
            except Exception as exc:  # a step's error is data for Retry/Catch, as in Step Functions
                error = {"Error": type(exc).__name__, "Cause": str(exc)[:2000]}
                retry = next((r for r in task.retry if _matches(r.errors, error["Error"])), None)
                if retry is not None and attempt < retry.max_attempts and not self._stop.is_set():
                    event = self._ev(name, task, attempt, "retrying", started, error)
                    doc = self._save(doc, events=self._event(doc, event), visits=visits)
                    self._sleep(retry.interval_s * retry.backoff ** (attempt - 1))
                    continue
                catch = next((c for c in task.catch if _matches(c.errors, error["Error"])), None)
                event = self._ev(name, task, attempt, "caught" if catch else "failed", started, error)
                if catch is None:
                    doc = self._save(doc, events=self._event(doc, event), visits=visits)
                    return self._finish(doc, "FAILED", error=error)
                state = {**doc.data["state"], catch.result_key: {**error, "state": name}}
                return self._save(
                    doc, state=state, current_state=catch.next, events=self._event(doc, event), visits=visits
                )
            event = self._ev(name, task, attempt, "succeeded", started, None)
            state = {**doc.data["state"], task.result_key: result}
            nxt = task.next
            if nxt is None:
                doc = self._save(doc, state=state, events=self._event(doc, event), visits=visits)
                return self._finish(doc, "SUCCEEDED", output=state)
            return self._save(
                doc, state=state, current_state=nxt, events=self._event(doc, event), visits=visits
            )

    def _ev(
        self, name: str, task: Task, attempt: int, status: str, started: str, error: dict[str, str] | None
    ) -> dict[str, Any]:
        return {
            "state": name,
            "step": task.step,
            "attempt": attempt,
            "status": status,
            "started_at": started,
            "ended_at": self.deps.clock(),
            "error": error,
        }

    def _finish(self, doc: Doc, status: str, **changes: Any) -> Doc:
        with self.deps.store.transaction():
            done = self._save(doc, status=status, ended_at=self.deps.clock(), **changes)
            self.deps.store.docs.delete(RUNNING_KIND, doc.id)
        return done
