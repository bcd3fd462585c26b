"""The bounded local worker pool that runs experiments in the background.

`OPTILOOP_AUTOML_WORKERS` experiments at once (default 1: a search already keeps a core busy, and the
API must stay responsive on a small machine); the rest wait in the queue with status `queued`.
Each run gets a cancel event the API can set; the durable `cancel_requested` flag covers a cancel
sent to another process. On AWS the search is to fan trials out as SageMaker jobs (not built yet: the
automl Lambda sets OPTILOOP_AUTOML_RUNNER=none and `run` answers 409).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from optiloop.deps import Deps
from optiloop.errors import Conflict


class ExperimentPool:
    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="automl")
        self._events: dict[str, threading.Event] = {}
        self._futures: dict[str, Future[object]] = {}
        self._lock = threading.Lock()

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


_pool: ExperimentPool | None = None
_pool_lock = threading.Lock()


def pool() -> ExperimentPool:
    """The process's pool; a 409 where this deployment runs no searches (OPTILOOP_AUTOML_RUNNER=none:
    the Lambda, whose layers carry no scikit-learn or xgboost)."""
    global _pool
    if os.environ.get("OPTILOOP_AUTOML_RUNNER", "local") == "none":
        raise Conflict(
            "this deployment runs no AutoML searches (OPTILOOP_AUTOML_RUNNER=none); run them with "
            "`optiloop serve`, where a local worker pool runs them",
            details=[{"field": "experiment_id", "reason": "no AutoML runner in this deployment"}],
        )
    with _pool_lock:
        if _pool is None:
            _pool = ExperimentPool(int(os.environ.get("OPTILOOP_AUTOML_WORKERS", "1") or 1))
        return _pool
