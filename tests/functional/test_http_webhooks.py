"""Webhooks end to end: subscriptions over HTTP, events from the real ingest, signed deliveries to a real
HTTP receiver, retries with backoff, the delivery log, and the SSRF refusals (at creation and at send)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from optiloop.auth.principal import Principal
from optiloop.testopt import webhook_events
from optiloop.testopt.ingest import RunReport, ingest_runs
from optiloop.webhooks import dispatch_due, signing, urls
from optiloop.webhooks.records import DELIVERY, DUE, DUE_SCOPE, epoch, iso

if TYPE_CHECKING:
    from tests.functional.conftest import Api


@dataclass
class Receiver:
    """A threaded http.server on a free port that records requests and answers `codes` in turn
    (then 200)."""

    codes: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def answer(self) -> int:
        return self.codes.pop(0) if self.codes else 200


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv(urls.ALLOW_PRIVATE_ENV, "1")
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            rec.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
            code = rec.answer()
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b"ok" if code < 300 else b"receiver says no")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/optiloop"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


def subscribe(api: Api, pid: str, url: str, events: list[str], **extra: Any) -> Any:
    return api.client.post(
        f"/v1/projects/{pid}/webhooks", headers=api.admin, json={"url": url, "events": events, **extra}
    )


def ingest(api: Api, pid: str, runs: list[dict[str, Any]]) -> Any:
    r = api.client.post(f"/v1/projects/{pid}/runs:ingest", headers=api.admin, json={"runs": runs})
    assert r.status_code == 200, r.text
    return r.json()


def run(tid: str, buckets: list[int], status: str = "pass", severity: int = 0, cost: float = 1.0) -> dict:
    return {
        "test_id": tid,
        "status": status,
        "failure_severity": severity,
        "cost_cents": cost,
        "coverage_delta": {"buckets_hit": buckets},
    }


def log_of(api: Api, webhook_id: str, **params: Any) -> Any:
    r = api.client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=api.admin, params=params)
    assert r.status_code == 200, r.text
    return r.json()


RUNNER = Principal(name="runner", role="admin", project_id=None, key_id=None)


def later(seconds: float) -> str:
    """A time `seconds` from now, in the platform's format."""
    return iso(time.time() + seconds)


# -- subscriptions ---------------------------------------------------------------------------------


def test_create_shows_the_secret_once_then_list_get_delete(api: Api, receiver: Receiver) -> None:
    pid = api.project()
    r = subscribe(api, pid, receiver.url, ["failure.new_mode", "coverage.plateau"], description="ci")
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["secret"].startswith("whsec_") and created["plateau_runs"] == 200
    assert created["accuracy_threshold"] == 0.6 and created["status"] == "active"
    wid = created["id"]
    got = api.client.get(f"/v1/webhooks/{wid}", headers=api.admin).json()
    assert "secret" not in got and got["url"] == receiver.url and got["events"] == created["events"]
    listed = api.client.get(f"/v1/projects/{pid}/webhooks", headers=api.admin).json()
    assert [w["id"] for w in listed["items"]] == [wid] and "secret" not in listed["items"][0]
    assert api.client.delete(f"/v1/webhooks/{wid}", headers=api.admin).status_code == 204
    assert api.client.get(f"/v1/webhooks/{wid}", headers=api.admin).status_code == 404
    actions = [a.action for a in api.deps.store.audit.list(project_id=pid)]
    assert "webhook.created" in actions and "webhook.deleted" in actions


def test_a_contributor_may_not_manage_webhooks(api: Api, receiver: Receiver) -> None:
    pid = api.project()
    r = api.client.post(
        f"/v1/projects/{pid}/webhooks",
        headers=api.key("contributor", pid),
        json={"url": receiver.url, "events": ["budget.threshold"]},
    )
    assert r.status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "javascript:alert(1)",
        "http://user:secret@example.com/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "https:///nohost",
    ],
)
def test_urls_that_could_reach_inside_are_422_naming_url(api: Api, url: str) -> None:
    pid = api.project()
    r = subscribe(api, pid, url, ["budget.threshold"])
    assert r.status_code == 422, r.text
    assert api.error_fields(r) == ["url"]
    assert api.client.get(f"/v1/projects/{pid}/webhooks", headers=api.admin).json()["items"] == []


def test_link_local_and_metadata_stay_refused_when_private_addresses_are_allowed(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(urls.ALLOW_PRIVATE_ENV, "1")
    pid = api.project()
    for url in ("http://169.254.169.254/", "http://[fd00:ec2::254]/", "http://169.254.10.1/"):
        r = subscribe(api, pid, url, ["budget.threshold"])
        assert r.status_code == 422 and api.error_fields(r) == ["url"], url
    assert subscribe(api, pid, "http://127.0.0.1:9/hook", ["budget.threshold"]).status_code == 201


def test_unknown_events_and_bad_options_name_their_field(api: Api, receiver: Receiver) -> None:
    pid = api.project()
    r = subscribe(api, pid, receiver.url, ["budget.threshold", "build.finished"])
    assert r.status_code == 422 and api.error_fields(r) == ["events[1]"]
    r = subscribe(api, pid, receiver.url, ["coverage.plateau"], plateau_runs=0, accuracy_threshold=1.5)
    assert r.status_code == 422 and set(api.error_fields(r)) == {"plateau_runs", "accuracy_threshold"}


# -- delivery ----------------------------------------------------------------------------------------


def test_a_new_failure_mode_is_delivered_signed_and_logged(api: Api, receiver: Receiver) -> None:
    pid = api.project()
    created = subscribe(api, pid, receiver.url, ["failure.new_mode"]).json()
    t = api.add_tests(pid, 2)
    ingest(api, pid, [run(t[0], [1, 2]), run(t[1], [2, 7], status="fail", severity=3)])
    assert dispatch_due(api.deps)["delivered"] == 1

    [req] = receiver.requests
    h, body = req["headers"], req["body"]
    assert req["path"] == "/hooks/optiloop" and h["Content-Type"] == "application/json"
    assert signing.verify(created["secret"], body, h["OptiLoop-Signature"])
    assert not signing.verify("whsec_other", body, h["OptiLoop-Signature"])
    event = json.loads(body)
    assert set(event) == {"id", "type", "project_id", "created_at", "data"}
    assert event["type"] == h["OptiLoop-Event"] == "failure.new_mode" and event["project_id"] == pid
    assert event["data"]["test_id"] == t[1] and event["data"]["failure_severity"] == 3
    assert event["data"]["buckets"] == [2, 7]

    [entry] = log_of(api, created["id"])["items"]
    assert entry["id"] == h["OptiLoop-Delivery"] and entry["event_id"] == event["id"]
    assert entry["status"] == "delivered" and entry["attempt_count"] == 1 and entry["response_code"] == 200
    assert entry["next_attempt_at"] is None and entry["delivered_at"] is not None
    assert api.deps.store.docs.list(DUE, DUE_SCOPE) == []
    assert dispatch_due(api.deps)["sent"] == 0  # nothing left to send


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(api: Api, receiver: Receiver) -> None:
    receiver.codes = [500, 503]
    pid = api.project()
    wid = subscribe(api, pid, receiver.url, ["failure.new_mode"]).json()["id"]
    t = api.add_tests(pid, 1)
    ingest(api, pid, [run(t[0], [1], status="fail", severity=1)])

    now = later(1)
    assert dispatch_due(api.deps, now)["retrying"] == 1
    [entry] = log_of(api, wid)["items"]
    assert entry["status"] == "pending" and entry["attempt_count"] == 1 and entry["response_code"] == 500
    assert "HTTP 500" in entry["error"]
    first_wait = epoch(entry["next_attempt_at"]) - epoch(now)
    assert 0.8 * 80 <= first_wait <= 1.2 * 80
    assert dispatch_due(api.deps, now)["sent"] == 0  # not due yet

    now = iso(epoch(entry["next_attempt_at"]) + 1)
    assert dispatch_due(api.deps, now)["retrying"] == 1
    [entry] = log_of(api, wid)["items"]
    second_wait = epoch(entry["next_attempt_at"]) - epoch(now)
    assert 0.8 * 240 <= second_wait <= 1.2 * 240  # exponential

    now = iso(epoch(entry["next_attempt_at"]) + 1)
    assert dispatch_due(api.deps, now)["delivered"] == 1
    [entry] = log_of(api, wid)["items"]
    assert entry["status"] == "delivered" and entry["attempt_count"] == 3
    assert [a["response_code"] for a in entry["attempts"]] == [500, 503, 200]
    assert len(receiver.requests) == 3
    assert len({r["headers"]["OptiLoop-Delivery"] for r in receiver.requests}) == 1  # one delivery id


def test_after_eight_failed_attempts_a_delivery_is_failed(api: Api, receiver: Receiver) -> None:
    receiver.codes = [500] * 20
    pid = api.project()
    wid = subscribe(api, pid, receiver.url, ["failure.new_mode"]).json()["id"]
    t = api.add_tests(pid, 1)
    ingest(api, pid, [run(t[0], [1], status="fail", severity=1)])
    for day in range(1, 12):
        dispatch_due(api.deps, later(day * 2 * 86400))
    [entry] = log_of(api, wid)["items"]
    assert entry["status"] == "failed" and entry["attempt_count"] == 8 and len(receiver.requests) == 8
    assert api.deps.store.docs.list(DUE, DUE_SCOPE) == []


def test_a_host_that_resolves_to_loopback_at_send_time_is_refused(
    api: Api, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: public when subscribed, 127.0.0.1 when sent; private addresses not allowed."""
    monkeypatch.delenv(urls.ALLOW_PRIVATE_ENV)
    answers = {"hooks.example.com": ["93.184.216.34"]}
    monkeypatch.setattr(urls, "resolve", lambda host, port: answers[host])
    pid = api.project()
    port = receiver.url.split(":")[2].split("/")[0]
    r = subscribe(api, pid, f"http://hooks.example.com:{port}/hook", ["failure.new_mode"])
    assert r.status_code == 201, r.text
    answers["hooks.example.com"] = ["127.0.0.1"]
    t = api.add_tests(pid, 1)
    ingest(api, pid, [run(t[0], [1], status="fail", severity=1)])
    dispatch_due(api.deps, later(1))
    [entry] = log_of(api, r.json()["id"])["items"]
    assert entry["status"] == "pending" and entry["response_code"] is None
    assert entry["error"].startswith("refused:") and "127.0.0.1" in entry["error"]
    assert receiver.requests == []


def test_ping_sends_now_and_the_log_pages(api: Api, receiver: Receiver) -> None:
    receiver.codes = [200, 404]
    pid = api.project()
    created = subscribe(api, pid, receiver.url, ["budget.threshold"]).json()
    wid = created["id"]
    first = api.client.post(f"/v1/webhooks/{wid}/ping", headers=api.admin)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "delivered" and first.json()["event_type"] == "ping"
    second = api.client.post(f"/v1/webhooks/{wid}/ping", headers=api.admin).json()
    assert second["status"] == "failed" and second["response_code"] == 404  # a ping is tried once
    assert signing.verify(
        created["secret"], receiver.requests[0]["body"], receiver.requests[0]["headers"][signing.HEADER]
    )
    page = log_of(api, wid, limit=1)
    assert [d["id"] for d in page["items"]] == [second["id"]] and page["next_after"]
    rest = log_of(api, wid, limit=1, after=page["next_after"])
    assert [d["id"] for d in rest["items"]] == [first.json()["id"]]


def test_deleting_a_webhook_cancels_what_it_had_pending(api: Api, receiver: Receiver) -> None:
    pid = api.project()
    wid = subscribe(api, pid, receiver.url, ["failure.new_mode"]).json()["id"]
    t = api.add_tests(pid, 1)
    ingest(api, pid, [run(t[0], [1], status="fail", severity=1)])
    [delivery] = api.deps.store.docs.list(DELIVERY, wid)
    assert api.client.delete(f"/v1/webhooks/{wid}", headers=api.admin).status_code == 204
    assert dispatch_due(api.deps)["cancelled"] == 1
    assert api.deps.store.docs.get(DELIVERY, delivery.id).data["status"] == "cancelled"  # type: ignore[union-attr]
    assert receiver.requests == []


# -- events from the real ingest ---------------------------------------------------------------------


def test_ingest_emits_new_modes_budget_crossings_and_one_plateau(api: Api, receiver: Receiver) -> None:
    pid = api.project(budget_cents=10.0)
    events = ["failure.new_mode", "budget.threshold", "coverage.plateau"]
    wid = subscribe(api, pid, receiver.url, events, plateau_runs=3).json()["id"]
    t = api.add_tests(pid, 12)
    seen: set[str] = set()

    def new() -> dict[str, dict]:
        """The events since the last call, by type (one event per type in each step here)."""
        docs = [d for d in api.deps.store.docs.list(DELIVERY, wid, limit=1000) if d.id not in seen]
        seen.update(d.id for d in docs)
        out = {d.data["event_type"]: d.data["event"]["data"] for d in docs}
        assert len(out) == len(docs), "one event per type"
        return out

    ingest(api, pid, [run(t[0], [1], cost=4.0), run(t[1], [1], "fail", 2, cost=1.0)])
    assert set(new()) == {"failure.new_mode"}  # 5 of 10 cents: no threshold yet

    # spend 8/10 crosses 80%; seq 4 is the third run since the last new bucket (seq 1): a plateau;
    # the failure has the mode of the first one
    ingest(api, pid, [run(t[2], [1]), run(t[3], [1], "fail", 2), run(t[4], [1])])
    got = new()
    assert set(got) == {"budget.threshold", "coverage.plateau"}
    assert (
        got["budget.threshold"]["threshold_percent"] == 80 and got["budget.threshold"]["spent_cents"] == 8.0
    )
    assert got["coverage.plateau"] == {
        "plateau_runs": 3,
        "last_new_bucket_seq": 1,
        "through_seq": 4,
        "total_buckets": 1,
    }

    # the plateau goes on: no second event; another severity is a new mode; spend reaches 100%
    ingest(api, pid, [run(t[5], [1]), run(t[6], [1], "fail", 5, cost=1.5)])
    got = new()
    assert set(got) == {"failure.new_mode", "budget.threshold"}
    assert got["failure.new_mode"]["failure_severity"] == 5 and got["failure.new_mode"]["known_modes"] == 1
    assert got["budget.threshold"]["threshold_percent"] == 100

    # a new bucket (seq 8) ends the plateau; three more runs without one are the next plateau
    ingest(api, pid, [run(t[7], [9]), run(t[8], [9]), run(t[9], [9]), run(t[10], [1])])
    got = new()
    assert set(got) == {"coverage.plateau"} and got["coverage.plateau"]["last_new_bucket_seq"] == 8


def test_a_project_without_webhooks_gets_no_deliveries(api: Api, receiver: Receiver) -> None:
    other = api.project("other")
    subscribe(api, other, receiver.url, ["failure.new_mode"])
    pid = api.project()
    t = api.add_tests(pid, 1)
    ingest(api, pid, [run(t[0], [1], "fail", 2)])
    assert api.deps.store.docs.list(DUE, DUE_SCOPE) == []


def test_nothing_is_emitted_when_the_ingest_transaction_fails(
    api: Api, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = api.project()
    wid = subscribe(api, pid, receiver.url, ["failure.new_mode"]).json()["id"]
    t = api.add_tests(pid, 1)
    real_emit = webhook_events.emit

    def emit_then_fail(*args: Any, **kwargs: Any) -> Any:
        real_emit(*args, **kwargs)  # the delivery is written in the ingest's transaction...
        raise RuntimeError("the store went away")  # ...which then fails

    monkeypatch.setattr(webhook_events, "emit", emit_then_fail)
    with pytest.raises(RuntimeError):
        ingest_runs(api.deps, RUNNER, pid, [RunReport(t[0], "fail", failure_severity=2, buckets_hit=[1])])
    assert api.deps.store.docs.list(DELIVERY, wid) == []
    assert api.deps.store.docs.list(DUE, DUE_SCOPE) == []
    assert api.deps.store.runs.list_since(pid, 0) == []


def test_suggest_reports_a_registered_surrogate_below_the_threshold(
    api: Api, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comparison suggest makes (optiloop.testopt.surrogate.trained) reaches the outbox with the
    suggestion's transaction; here a stand-in registered model ranks recent failures at AUC 0.41."""
    from optiloop.testopt import suggest as suggest_module

    check = {"model_id": "mdl_1", "model_version_id": "mv_1", "version": 3, "alias": "production",
             "runs": 40, "trained_auc": 0.41, "use_trained": False}  # fmt: skip
    monkeypatch.setattr(suggest_module, "_registered_surrogate", lambda deps, ctx: check)
    pid = api.project()
    api.constrain(pid)
    wid = subscribe(api, pid, receiver.url, ["surrogate.accuracy_low"]).json()["id"]
    for seed in (1, 2):
        r = api.client.post(
            f"/v1/projects/{pid}/tests:suggest", headers=api.admin, json={"batch_size": 3, "seed": seed}
        )
        assert r.status_code == 200, r.text
    [delivery] = api.deps.store.docs.list(DELIVERY, wid)  # once, not once per suggest
    data = delivery.data["event"]["data"]
    assert data["recent_auc"] == 0.41 and data["threshold"] == 0.6 and data["model_version_id"] == "mv_1"
