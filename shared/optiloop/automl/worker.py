"""The bounded local worker pool that runs experiments in the background.

`OPTILOOP_AUTOML_WORKERS` experiments at once (default 1: a search already keeps a core busy, and the
API must stay responsive on a small machine); the rest wait in the queue with status `queued`.
Each run gets a cancel event the API can set; the durable `cancel_requested` flag covers a cancel
sent to another process. On AWS (`OPTILOOP_AUTOML_RUNNER=stepfunctions`) a run is instead an
execution of the tenant's AutoML state machine, whose trials fan out as SageMaker training jobs
(optiloop.automl.fanout; a forecasting or anomaly search runs as one job, optiloop.automl.search_job);
both runners answer the same four calls the API makes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.errors import Conflict

STATE_MACHINE_ENV = "OPTILOOP_AUTOML_STATE_MACHINE_ARN"
SEARCH_MODULES = ("optuna", "sklearn", "scipy", "xgboost")  # the automl extra, as the search imports it
BATCH_ENV = "OPTILOOP_AUTOML_BATCH"  # trials per batch: the state machine's Map MaxConcurrency


class ExperimentPool:
    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="automl")
        self._events: dict[str, threading.Event] = {}
        self._futures: dict[str, Future[object]] = {}
        self._lock = threading.Lock()

    def accepts(self, exp: dict[str, Any]) -> None:
        """Every task runs here, once the search's libraries are installed: checked before the
        experiment is queued, so a server without the `automl` extra answers a 409 saying what to
        install instead of queueing a run that fails on its first import."""
        missing = [m for m in SEARCH_MODULES if importlib.util.find_spec(m) is None]
        if missing:
            raise Conflict(
                f"this server cannot run AutoML searches: {', '.join(missing)} not installed; install "
                "the automl extra (pip install 'optiloop[automl]'; `make run` does) and restart it",
                details=[{"field": "experiment_id", "reason": "the automl extra is not installed"}],
            )

    def submitter(self, who: Principal) -> Callable[[Deps, str], None]:
        return self.submit

    def submit(self, deps: Deps, experiment_id: str) -> None:
        from optiloop.automl.run import execute

        event = threading.Event()
        with self._lock:
            self._events[experiment_id] = event
            self._futures[experiment_id] = self._executor.submit(
                self._run, execute, deps, experiment_id, event
            )

    def _run(self, execute: object, deps: Deps, experiment_id: str, event: threading.Event) -> object:
        try:
            return execute(deps, experiment_id, event)  # type: ignore[operator]
        finally:
            with self._lock:
                self._events.pop(experiment_id, None)

    def cancel(self, experiment_id: str) -> None:
        with self._lock:
            event = self._events.get(experiment_id)
        if event is not None:
            event.set()

    def is_active(self, experiment_id: str) -> bool:
        """Queued or running in this process's pool (a resume must not start it twice)."""
        with self._lock:
            future = self._futures.get(experiment_id)
        return future is not None and not future.done()

    def wait(self, experiment_id: str, timeout: float | None = None) -> None:
        """Block until the run ends (tests, the benchmark and the CLI's --wait)."""
        with self._lock:
            future = self._futures.get(experiment_id)
        if future is not None:
            future.result(timeout=timeout)


class StepFunctionsRunner:
    """Runs on AWS: each run or resume is an execution of the AutoML state machine, named
    `<experiment id>-<n>` (n: the experiment's resumes), so a retried request cannot start a second
    one. Cancelling needs no signal: the durable flag ends the loop at its next Plan."""

    def __init__(self, client: Any, arn: str, batch: int) -> None:
        self.client, self.arn, self.batch = client, arn, batch

    def accepts(self, exp: dict[str, Any]) -> None:
        """Every task runs on AWS: classification and regression fan out a job per trial, forecasting
        and anomaly run their search as one job (optiloop.automl.search_job); the images' libraries
        are the tenant image's, not this Lambda's, so there is nothing to refuse here."""

    def _name(self, deps: Deps, experiment_id: str) -> str:
        from optiloop.automl import experiments

        return f"{experiment_id}-{int(experiments._load(deps, experiment_id).data.get('resumes') or 0)}"

    def submitter(self, who: Principal) -> Callable[[Deps, str], None]:
        def submit(deps: Deps, experiment_id: str) -> None:
            from optiloop.automl import experiments
            from optiloop.automl.fanout import execution_input

            data = execution_input(experiments._load(deps, experiment_id).data, who) | {
                "batch_size": self.batch
            }
            self.client.start_execution(
                stateMachineArn=self.arn, name=self._name(deps, experiment_id), input=json.dumps(data)
            )

        return submit

    def cancel(self, experiment_id: str) -> None:
        """The durable `cancel_requested` flag is the signal: the next Plan ends the loop."""

    def is_active(self, experiment_id: str, deps: Deps | None = None) -> bool:
        """Whether the experiment's latest execution is still running (a resume must not start a
        second loop beside it)."""
        if deps is None:
            return True
        arn = self.arn.replace(":stateMachine:", ":execution:", 1) + f":{self._name(deps, experiment_id)}"
        try:
            status = self.client.describe_execution(executionArn=arn)["status"]
        except self.client.exceptions.ExecutionDoesNotExist:
            return False
        return bool(status == "RUNNING")


_pool: ExperimentPool | None = None
_sfn: StepFunctionsRunner | None = None
_pool_lock = threading.Lock()


def pool() -> ExperimentPool | StepFunctionsRunner:
    """The process's runner: the local pool, the AutoML state machine (OPTILOOP_AUTOML_RUNNER=
    stepfunctions: the automl Lambda), or a 409 where this deployment runs no searches (=none)."""
    global _pool, _sfn
    runner = os.environ.get("OPTILOOP_AUTOML_RUNNER", "local")
    if runner == "none":
        raise Conflict(
            "this deployment runs no AutoML searches (OPTILOOP_AUTOML_RUNNER=none); run them with "
            "`optiloop serve`, where a local worker pool runs them",
            details=[{"field": "experiment_id", "reason": "no AutoML runner in this deployment"}],
        )
    if runner == "stepfunctions":
        with _pool_lock:
            if _sfn is None:
                import boto3

                _sfn = StepFunctionsRunner(
                    boto3.client("stepfunctions"), os.environ[STATE_MACHINE_ENV],
                    int(os.environ.get(BATCH_ENV, "4") or 4),
                )  # fmt: skip
            return _sfn
    with _pool_lock:
        if _pool is None:
            _pool = ExperimentPool(int(os.environ.get("OPTILOOP_AUTOML_WORKERS", "1") or 1))
        return _pool
