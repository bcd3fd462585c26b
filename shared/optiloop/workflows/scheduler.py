"""The in-process scheduler of `optiloop serve`: what EventBridge rules do on AWS, on one machine.

One daemon thread runs each registered job every `interval_s` seconds (the first run one interval
after start, so a restart loop never hammers the store). A job that raises is logged and runs again
at its next tick; the thread never dies of it. `stop()` ends the thread at its next wake-up, and the
process exiting ends it anyway (daemon). Jobs run one after another, never two at once, which is what
the scheduled Lambdas get from their rules too (a tick that overruns delays the next).

Jobs today: the model monitors (`optiloop.models.monitoring.schedule.run_due`) every
OPTILOOP_MONITOR_TICK_S seconds (default 60; 0 turns the scheduler's monitors job off), and the webhook
dispatcher (`optiloop.webhooks.dispatch.dispatch_due`) every OPTILOOP_WEBHOOK_TICK_S seconds (default
5; 0 turns it off).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from optiloop.config import ConfigError
from optiloop.deps import Deps

log = logging.getLogger("optiloop.scheduler")
MONITOR_TICK_ENV = "OPTILOOP_MONITOR_TICK_S"
DEFAULT_MONITOR_TICK_S = 60
WEBHOOK_TICK_ENV = "OPTILOOP_WEBHOOK_TICK_S"
DEFAULT_WEBHOOK_TICK_S = 5


@dataclass
class Job:
    name: str
    interval_s: float
    run: Callable[[], Any]
    next_at: float = 0.0


class Scheduler:
    def __init__(self, jobs: list[Job], *, clock: Callable[[], float] = time.monotonic) -> None:
        self.jobs = jobs
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Scheduler:
        now = self._clock()
        for job in self.jobs:
            job.next_at = now + job.interval_s
        self._thread = threading.Thread(target=self._loop, name="optiloop-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def tick(self) -> list[str]:
        """Run the jobs that are due now; their names (the loop's body, callable from tests)."""
        ran = []
        for job in self.jobs:
            if self._clock() < job.next_at:
                continue
            try:
                job.run()
            except Exception:  # a failing job is logged and retried at its next tick
                log.exception("scheduled job %s failed", job.name)
            job.next_at = self._clock() + job.interval_s
            ran.append(job.name)
        return ran

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            wait = min((j.next_at for j in self.jobs), default=self._clock() + 60) - self._clock()
            self._stop.wait(max(0.05, wait))


def monitor_tick_s(env: dict[str, str] | None = None) -> int:
    return _tick_s(env, MONITOR_TICK_ENV, DEFAULT_MONITOR_TICK_S)


def webhook_tick_s(env: dict[str, str] | None = None) -> int:
    return _tick_s(env, WEBHOOK_TICK_ENV, DEFAULT_WEBHOOK_TICK_S)


def _tick_s(env: dict[str, str] | None, name: str, default: int) -> int:
    raw = (env if env is not None else os.environ).get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer number of seconds, got {raw!r}") from None
    if not 0 <= value <= 86_400:
        raise ConfigError(f"{name} must be between 0 (off) and 86400, got {value}")
    return value


def local_jobs(deps: Deps, env: dict[str, str] | None = None) -> list[Job]:
    """The jobs `optiloop serve` runs in process (the scheduled Lambdas' work on AWS)."""
    jobs: list[Job] = []
    tick = monitor_tick_s(env)
    if tick:

        def monitors() -> None:
            from optiloop.models.monitoring.schedule import run_due  # lazy: numpy only when it runs

            summary = run_due(deps)
            if summary["evaluated"] or summary["errors"]:
                log.info("model monitors: %s", {k: summary[k] for k in ("due", "evaluated", "breached")})

        jobs.append(Job("model_monitors", float(tick), monitors))
    webhook_tick = webhook_tick_s(env)
    if webhook_tick:

        def webhooks() -> None:
            from optiloop.webhooks.dispatch import dispatch_due  # lazy: httpx only when it runs

            summary = dispatch_due(deps)
            if summary["sent"] or summary["cancelled"]:
                log.info("webhooks: %s", summary)

        jobs.append(Job("webhook_dispatch", float(webhook_tick), webhooks))
    return jobs


def start_local(deps: Deps, env: dict[str, str] | None = None) -> Scheduler | None:
    """Start the in-process scheduler for `optiloop serve`; None when no job is configured."""
    jobs = local_jobs(deps, env)
    return Scheduler(jobs).start() if jobs else None
