"""The outbox without HTTP: surrogate.accuracy_low's once-until-recovered marks, rollback, the
EventBridge outbox, the in-process scheduler's job and the signature scheme."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence
from typing import Any

import pytest

from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.projects import create_project
from optiloop.testopt.webhook_events import after_surrogate_check
from optiloop.webhooks import dispatch_due, emit, signing, subscriptions, urls
from optiloop.webhooks.bus import BUS_ENV, EventBridgeBus
from optiloop.webhooks.dispatch import retry_delay_s
from optiloop.webhooks.records import BUS, BUS_SCOPE, DELIVERY
from optiloop.workflows.scheduler import local_jobs

ADMIN = Principal(name="ops", role="admin", project_id=None, key_id=None)


@pytest.fixture(autouse=True)
def _private_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(urls.ALLOW_PRIVATE_ENV, "1")
    monkeypatch.delenv(BUS_ENV, raising=False)


def project_with_hook(deps: Deps, events: list[str], **options: Any) -> tuple[str, str]:
    pid = create_project(deps, ADMIN, "p").id
    sub = subscriptions.create(deps, ADMIN, pid, "http://127.0.0.1:9/hook", events, **options)
    return pid, str(sub["id"])


def deliveries(deps: Deps, wid: str) -> list[dict[str, Any]]:
    return [d.data for d in deps.store.docs.list(DELIVERY, wid, limit=100)]


def accuracy(auc: float, version: str = "mv_1") -> dict[str, Any]:
    return {"model_id": "m_1", "model_version_id": version, "version": 1, "alias": "production",
            "runs": 40, "recent_auc": auc}  # fmt: skip


def check(deps: Deps, pid: str, acc: dict[str, Any]) -> None:
    with deps.store.transaction():
        after_surrogate_check(deps, pid, acc)


def test_accuracy_low_fires_once_until_it_recovers(deps: Deps) -> None:
    pid, wid = project_with_hook(deps, ["surrogate.accuracy_low"], accuracy_threshold=0.7)
    check(deps, pid, accuracy(0.65))
    check(deps, pid, accuracy(0.55))  # still low: already told
    assert len(deliveries(deps, wid)) == 1
    event = deliveries(deps, wid)[0]["event"]
    assert event["type"] == "surrogate.accuracy_low"
    assert event["data"]["recent_auc"] == 0.65 and event["data"]["threshold"] == 0.7
    check(deps, pid, accuracy(0.8))  # recovered: no event, re-armed
    assert len(deliveries(deps, wid)) == 1
    check(deps, pid, accuracy(0.5))
    check(deps, pid, accuracy(0.5, version="mv_2"))  # another version is news
    assert len(deliveries(deps, wid)) == 3
    check(deps, pid, None)  # no comparison: nothing
    assert len(deliveries(deps, wid)) == 3


def test_no_delivery_survives_a_rolled_back_transaction(deps: Deps) -> None:
    pid, wid = project_with_hook(deps, ["budget.threshold"])
    with pytest.raises(RuntimeError), deps.store.transaction():
        assert emit(deps, pid, "budget.threshold", {"threshold_percent": 80}) is not None
        raise RuntimeError("the change failed")
    assert deliveries(deps, wid) == []
    assert emit(deps, pid, "coverage.plateau", {}) is None  # not subscribed: nothing written


class FakeBus:
    def __init__(self) -> None:
        self.put_events: list[dict[str, Any]] = []

    def put(self, events: Sequence[dict[str, Any]]) -> list[bool]:
        self.put_events += events
        return [True] * len(events)


def test_with_a_bus_every_event_is_kept_for_eventbridge_even_without_webhooks(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BUS_ENV, "default")
    pid = create_project(deps, ADMIN, "p").id
    with deps.store.transaction():
        event_id = emit(deps, pid, "coverage.plateau", {"plateau_runs": 200})
    assert [d.id for d in deps.store.docs.list(BUS, BUS_SCOPE)] == [event_id]
    bus = FakeBus()
    assert dispatch_due(deps, bus=bus)["bus_published"] == 1
    assert [(e["id"], e["type"], e["project_id"]) for e in bus.put_events] == [
        (event_id, "coverage.plateau", pid)
    ]
    assert deps.store.docs.list(BUS, BUS_SCOPE) == []


def test_eventbridge_entries_name_the_tenant_and_the_event_type() -> None:
    class Client:
        def __init__(self) -> None:
            self.calls: list[dict[str, Any]] = []

        def put_events(self, **kw: Any) -> dict[str, Any]:
            self.calls.append(kw)
            return {"Entries": [{"EventId": "1"}, {"ErrorCode": "Throttled"}]}

    client = Client()
    ok = EventBridgeBus("default", "acme", client).put([{"type": "a", "id": "1"}, {"type": "b", "id": "2"}])
    assert ok == [True, False]
    [call] = client.calls
    entry = call["Entries"][0]
    assert (
        entry["Source"] == "optiloop.acme"
        and entry["DetailType"] == "a"
        and entry["EventBusName"] == "default"
    )
    assert json.loads(entry["Detail"]) == {"type": "a", "id": "1"}


def test_the_backoff_grows_exponentially_and_spans_about_a_day() -> None:
    rng = random.Random(1)
    waits = [retry_delay_s(n, rng) for n in range(1, 8)]
    assert all(b > a * 2 for a, b in itertools.pairwise(waits))
    assert 18 * 3600 < sum(waits) < 32 * 3600


def test_signatures_check_the_secret_the_body_and_the_age() -> None:
    body = b'{"id":"evt_1"}'
    h = signing.header("whsec_x", body, timestamp=1_700_000_000)
    assert signing.verify("whsec_x", body, h, now=1_700_000_100)
    assert not signing.verify("whsec_x", body + b" ", h, now=1_700_000_100)
    assert not signing.verify("whsec_x", body, h, now=1_700_001_000)  # too old: a replay
    assert not signing.verify("whsec_x", body, "garbage")


def test_serve_runs_the_dispatcher_every_few_seconds(deps: Deps) -> None:
    jobs = {j.name: j for j in local_jobs(deps, {"OPTILOOP_MONITOR_TICK_S": "0"})}
    assert set(jobs) == {"webhook_dispatch"} and jobs["webhook_dispatch"].interval_s == 5
    jobs["webhook_dispatch"].run()  # nothing due: a cheap no-op
    assert local_jobs(deps, {"OPTILOOP_MONITOR_TICK_S": "0", "OPTILOOP_WEBHOOK_TICK_S": "0"}) == []


def test_hot_path_reads_the_subscriptions_once_per_ttl(deps: Deps, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = create_project(deps, ADMIN, "p").id
    subscriptions.forget()
    calls = []
    real = deps.store.docs.list

    def counting(*a: Any, **kw: Any) -> Any:
        calls.append(a)
        return real(*a, **kw)

    monkeypatch.setattr(deps.store.docs, "list", counting)
    for _ in range(50):
        assert subscriptions.targets_of(deps, pid, now=100.0) == ()
    assert len(calls) == 1
    subscriptions.targets_of(deps, pid, now=100.0 + subscriptions.CACHE_TTL_S)
    assert len(calls) == 2
