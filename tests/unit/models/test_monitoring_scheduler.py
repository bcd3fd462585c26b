"""The in-process scheduler (`optiloop serve`'s EventBridge) and the alert notifier wiring."""

from __future__ import annotations

import pytest

from optiloop.config import ConfigError, Settings
from optiloop.deps import Deps
from optiloop.models.monitoring.sns import SnsNotifier
from optiloop.runtime import build_notifier
from optiloop.workflows.scheduler import Job, Scheduler, local_jobs, monitor_tick_s


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_jobs_run_when_due_and_a_failing_one_runs_again_next_tick() -> None:
    clock = FakeClock()
    calls: list[str] = []

    def boom() -> None:
        calls.append("boom")
        raise RuntimeError("nope")

    sched = Scheduler([Job("a", 10, lambda: calls.append("a")), Job("b", 30, boom)], clock=clock)
    for job in sched.jobs:  # as start() arms them, without the thread
        job.next_at = clock() + job.interval_s
    assert sched.tick() == []
    clock.t = 10
    assert sched.tick() == ["a"]
    clock.t = 30
    assert sched.tick() == ["a", "b"]
    clock.t = 60
    assert sched.tick() == ["a", "b"] and calls == ["a", "a", "boom", "a", "boom"]


def test_the_thread_starts_and_stops() -> None:
    ran: list[int] = []
    sched = Scheduler([Job("fast", 0.01, lambda: ran.append(1))]).start()
    for _ in range(200):
        if ran:
            break
        import time

        time.sleep(0.01)
    sched.stop()
    assert ran and sched._thread is not None and not sched._thread.is_alive()


def test_monitor_tick_setting() -> None:
    assert monitor_tick_s({}) == 60
    assert monitor_tick_s({"OPTILOOP_MONITOR_TICK_S": "0"}) == 0
    with pytest.raises(ConfigError, match="OPTILOOP_MONITOR_TICK_S"):
        monitor_tick_s({"OPTILOOP_MONITOR_TICK_S": "soon"})
    with pytest.raises(ConfigError):
        monitor_tick_s({"OPTILOOP_MONITOR_TICK_S": "-1"})


def test_local_jobs_run_the_due_monitors(deps: Deps) -> None:
    off = {"OPTILOOP_WEBHOOK_TICK_S": "0"}  # the webhook dispatcher has its own test
    assert local_jobs(deps, {"OPTILOOP_MONITOR_TICK_S": "0", **off}) == []
    [job] = local_jobs(deps, off)
    assert job.name == "model_monitors" and job.interval_s == 60
    job.run()  # no monitors: a cheap no-op


def test_alerts_go_to_sns_only_where_a_topic_is_configured() -> None:
    assert build_notifier(Settings(backend="memory")) is None
    arn = "arn:aws:sns:eu-west-1:123456789012:alarms"
    n = build_notifier(Settings.from_env({"OPTILOOP_BACKEND": "memory", "OPTILOOP_ALARM_TOPIC_ARN": arn}))
    assert isinstance(n, SnsNotifier) and n.topic_arn == arn
