"""Where workflow executions run: the local runner, or Step Functions — one small port.

Both write the same execution document (kind `workflow_execution`, see optiloop.workflows.runner),
so `GET /v1/workflow_executions/{id}` reads one shape whichever engine ran it. The local runner
keeps that document current itself; for Step Functions, `refresh` reads the execution's status and
history (boto3; the state machine is the one infra_cdk builds from the same definition) and writes
what it learned back, so an execution's steps, attempts and errors are visible the same way.
"""

from __future__ import annotations

import json
import os
import threading
from abc import ABC, abstractmethod
from typing import Any

from optiloop.deps import Deps
from optiloop.workflows.experiment import EXPERIMENT
from optiloop.workflows.runner import KIND, MAX_EVENTS, TERMINAL, LocalRunner, execution_doc

WORKFLOWS = {EXPERIMENT.name: EXPERIMENT}
STATE_MACHINE_ENV = "OPTILOOP_EXPERIMENT_STATE_MACHINE_ARN"
SFN_STATUS = {"RUNNING": "RUNNING", "SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED"}
SFN_STATUS.update({"TIMED_OUT": "TIMED_OUT", "ABORTED": "ABORTED", "PENDING_REDRIVE": "FAILED"})


class WorkflowEngine(ABC):
    backend: str

    @abstractmethod
    def start(self, workflow: str, execution_id: str, project_id: str, data: dict[str, Any], by: str) -> None:
        """Record the execution (RUNNING) and start it; returns at once."""

    def refresh(self, data: dict[str, Any]) -> dict[str, Any]:
        """The execution document brought up to date (the local runner keeps it current already)."""
        return data


class LocalEngine(WorkflowEngine):
    backend = "local"

    def __init__(self, runner: LocalRunner) -> None:
        self.runner = runner

    def start(self, workflow: str, execution_id: str, project_id: str, data: dict[str, Any], by: str) -> None:
        self.runner.start(workflow, execution_id, project_id, data, by)


class StepFunctionsEngine(WorkflowEngine):
    """Executions on the tenant's state machines (boto3). `arns`: workflow name -> state machine ARN."""

    backend = "stepfunctions"

    def __init__(self, deps: Deps, client: Any, arns: dict[str, str]) -> None:
        self.deps = deps
        self.client = client
        self.arns = arns

    def _execution_arn(self, workflow: str, execution_id: str) -> str:
        sm = self.arns[workflow]
        return sm.replace(":stateMachine:", ":execution:", 1) + f":{execution_id}"

    def start(self, workflow: str, execution_id: str, project_id: str, data: dict[str, Any], by: str) -> None:
        now = self.deps.clock()
        doc: dict[str, Any] = {
            "id": execution_id,
            "workflow": workflow,
            "project_id": project_id,
            "backend": self.backend,
            "status": "RUNNING",
            "started_at": now,
            "started_by": by,
            "ended_at": None,
            "current_state": WORKFLOWS[workflow].start,
            "input": data,
            "state": data,
            "output": None,
            "error": None,
            "events": [],
            "visits": {},
        }
        self.deps.store.docs.create(execution_doc(doc))  # first: an execution never runs unrecorded
        # the execution's name is our id, so a retried start cannot run a second execution
        self.client.start_execution(
            stateMachineArn=self.arns[workflow], name=execution_id, input=json.dumps(data)
        )

    def refresh(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["status"] in TERMINAL:
            return data
        arn = self._execution_arn(data["workflow"], data["id"])
        ex = self.client.describe_execution(executionArn=arn)
        history = self.client.get_execution_history(executionArn=arn, maxResults=1000, reverseOrder=False)
        events, visits, current = _events(history.get("events", []))
        status = SFN_STATUS.get(ex["status"], "RUNNING")
        updated = {**data, "status": status, "events": events[-MAX_EVENTS:], "visits": visits}
        if current:
            updated["current_state"] = current
        if status in TERMINAL:
            updated["ended_at"] = _iso(ex.get("stopDate")) or self.deps.clock()
            if ex.get("output"):
                updated["output"] = json.loads(ex["output"])
            if status != "SUCCEEDED":
                updated["error"] = {"Error": ex.get("error", status), "Cause": ex.get("cause", "")}
        doc = self.deps.store.docs.get(KIND, data["id"])
        if doc is not None and updated != doc.data:
            self.deps.store.docs.replace(execution_doc(updated, doc.rev), doc.rev)
        return updated


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _events(history: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int], str | None]:
    """Step Functions history -> the runner's per-attempt events (task states only) and visit counts."""
    out: list[dict[str, Any]] = []
    visits: dict[str, int] = {}
    current: str | None = None
    open_task: dict[str, Any] | None = None
    attempts: dict[str, int] = {}
    for e in history:
        kind = e.get("type", "")
        if kind.endswith("StateEntered"):
            name = e["stateEnteredEventDetails"]["name"]
            visits[name] = visits.get(name, 0) + 1
            current = name
            if kind == "TaskStateEntered":
                attempts[name] = 0
        elif kind in ("TaskScheduled", "LambdaFunctionScheduled") and current is not None:
            attempts[current] = attempts.get(current, 0) + 1
            open_task = {
                "state": current,
                "attempt": attempts[current],
                "status": "running",
                "started_at": _iso(e.get("timestamp")),
                "ended_at": None,
                "error": None,
            }
            out.append(open_task)
        elif kind in ("TaskSucceeded", "LambdaFunctionSucceeded") and open_task is not None:
            open_task.update(status="succeeded", ended_at=_iso(e.get("timestamp")))
            open_task = None
        elif kind in ("TaskFailed", "LambdaFunctionFailed", "TaskTimedOut") and open_task is not None:
            details: dict[str, Any] = next((v for k, v in e.items() if k.endswith("EventDetails")), {}) or {}
            open_task.update(
                status="failed",
                ended_at=_iso(e.get("timestamp")),
                error={"Error": details.get("error", kind), "Cause": str(details.get("cause", ""))[:2000]},
            )
            open_task = None
    return out, visits, current


_local_lock = threading.Lock()


def engine_of(deps: Deps) -> WorkflowEngine:
    """The deployment's engine: Step Functions where a state machine ARN is configured, else one local
    runner per `Deps` (built on first use; executions left RUNNING by a previous process resume)."""
    if deps.workflows is not None:
        engine: WorkflowEngine = deps.workflows
        return engine
    arn = os.environ.get(STATE_MACHINE_ENV)
    if arn:
        import boto3

        sfn = StepFunctionsEngine(deps, boto3.client("stepfunctions"), {EXPERIMENT.name: arn})
        deps.workflows = sfn
        return sfn
    with _local_lock:
        if deps.workflows is None:
            from optiloop.workflows.steps import STEPS

            runner = LocalRunner(deps, WORKFLOWS, STEPS)
            local = LocalEngine(runner)
            deps.workflows = local
            runner.resume()
            return local
    built: WorkflowEngine = deps.workflows  # another thread built it while this one waited
    return built
