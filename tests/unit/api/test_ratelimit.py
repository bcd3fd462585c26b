"""Token buckets per principal, on a fake clock."""

from __future__ import annotations

import threading

import pytest

from optiloop.api import ratelimit
from optiloop.api.ratelimit import PrincipalLimits, TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_spends_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    b = TokenBuckets(rate=2.0, capacity=3, clock=clock)
    assert [b.take("a")[0] for _ in range(3)] == [0, 0, 0]
    wait, _ = b.take("a")
    assert wait == pytest.approx(0.5)  # one token at 2 a second
    assert b.take("b")[0] == 0  # every key has its own bucket
    clock.now += 0.5
    assert b.take("a")[0] == 0 and b.take("a")[0] > 0
    clock.now += 100
    assert [b.take("a")[0] for _ in range(4)][:3] == [0, 0, 0]  # refilled to capacity, not beyond


def test_refusal_verdicts_mark_the_first_of_an_episode() -> None:
    clock = Clock()
    limits = PrincipalLimits(rate_rps=100, burst=100, refusals_per_minute=2, clock=clock)
    verdicts = [limits.refusal("ci") for _ in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, False, False, False]
    assert [v.first_refused for v in verdicts] == [False, False, True, False, False]
    assert verdicts[2].retry_after_s == pytest.approx(30.0)  # 2 a minute: one every 30 s
    clock.now += 30
    assert limits.refusal("ci").allowed
    assert limits.refusal("ci").first_refused  # a new episode starts


def test_idle_principals_are_forgotten_when_the_table_is_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "MAX_TRACKED", 10)
    clock = Clock()
    b = TokenBuckets(rate=1.0, capacity=2, clock=clock)
    for i in range(10):
        b.take(f"p{i}")
    clock.now += 10  # everyone refilled
    b.take("new")
    assert len(b._buckets) == 1


def test_buckets_are_thread_safe() -> None:
    b = TokenBuckets(rate=1e-9, capacity=1000)
    allowed = []

    def spend() -> None:
        allowed.extend(1 for _ in range(200) if b.take("k")[0] == 0)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 1000
