"""Model monitoring over HTTP: drift and performance monitors, alerts, feedback, schedules, retraining.

The version, deployment and capture documents are written straight to the store in the shapes the
registry and serving write them, so these tests are about monitoring alone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from optiloop.deps import Deps
from optiloop.models.artifact import FORMAT, MANIFEST, pack_files, sha256_hex
from optiloop.models.monitoring import schedule
from optiloop.models.monitoring.baseline import build_baseline
from optiloop.models.monitoring.records import RETRAIN_REQUEST
from optiloop.models.monitoring.targets import BASELINES
from optiloop.models.signature import parse_signature
from optiloop.store.records import Doc

SIGNATURE = {
    "task": "binary",
    "classes": [0, 1],
    "inputs": [
        {"name": "amount", "type": "number"},
        {"name": "country", "type": "category", "categories": ["pt", "pe", "no"]},
    ],
}


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rows(rng: np.random.Generator, n: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    x = np.column_stack([rng.normal(loc=shift, size=n), rng.integers(0, 3, size=n).astype(float)])
    return x, (1 / (1 + np.exp(-x[:, 0]))).reshape(-1, 1)


class World:
    """A project with one model version (artifact in blobs) deployed, and a capture writer."""

    def __init__(self, api: Any, *, baseline: bool = True, name: str = "fraud") -> None:
        self.api, self.deps = api, api.deps
        deps: Deps = api.deps
        self.pid = api.project(name)
        self.rng = np.random.default_rng(0)
        sig = parse_signature(SIGNATURE)
        files = {"model.trees.json": b"{}"}
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "framework": "xgboost",
            "runtime": "trees",
            "model_file": "model.trees.json",
            "signature": SIGNATURE,
            "metrics": {"auc": 0.9},
        }
        if baseline:
            x, out = rows(self.rng, 5000)
            files["baseline.json"] = json.dumps(build_baseline(sig, x, out)).encode()
            manifest["baseline_file"] = "baseline.json"
        files[MANIFEST] = json.dumps(manifest).encode()
        blob = pack_files(files)
        self.vid = f"mv_{name}"
        key = f"models/{self.vid}/model.tar.gz"
        deps.blobs.put(key, blob)
        version = {
            "id": self.vid, "model_id": f"mdl_{name}", "project_id": self.pid, "version": 1,
            "status": "Approved", "artifact_key": key, "artifact_sha256": sha256_hex(blob),
            "artifact_bytes": len(blob), "framework": "xgboost", "runtime": "trees", "signature": SIGNATURE,
            "params": {}, "metrics": {"auc": 0.9}, "data_fingerprint": None, "code_version": None,
            "source": {"upload": "x"}, "created_at": "2026-01-01T00:00:00.000Z", "created_by": "alice",
        }  # fmt: skip
        deps.store.docs.create(Doc("model_version", self.vid, f"mdl_{name}", "00000001", version))
        self.dep = f"dep_{name}"
        deployment = {
            "id": self.dep, "project_id": self.pid, "model_id": f"mdl_{name}", "model_name": name,
            "environment": "production",
            "stable": {"model_version_id": self.vid, "version": 1, "artifact_key": key,
                       "artifact_sha256": sha256_hex(blob), "runtime": "trees"},
            "candidate": None, "strategy": {}, "slos": {}, "capture_rate": 1.0,
        }  # fmt: skip
        deps.store.docs.create(Doc("model_deployment", self.dep, self.pid, f"x#{self.dep}", deployment))
        self.seq = 0
        BASELINES.clear()

    def capture(
        self, n: int, shift: float = 0.0, *, per_request: int = 50, minutes_ago: float = 1.0
    ) -> list[str]:
        """n served rows in requests of `per_request`, stamped `minutes_ago` (later requests newer)."""
        x, out = rows(self.rng, n, shift)
        rids = []
        for start in range(0, n, per_request):
            self.seq += 1
            at = iso(datetime.now(UTC) - timedelta(minutes=minutes_ago) + timedelta(milliseconds=self.seq))
            rid = f"req_{self.seq:06d}"
            rids.append(rid)
            data = {
                "deployment_id": self.dep, "variant": "stable", "model_version_id": self.vid, "at": at,
                "request_id": rid, "features": x[start : start + per_request].tolist(),
                "outputs": out[start : start + per_request].tolist(), "keys": [],
            }  # fmt: skip
            self.deps.store.docs.create(Doc("inference_capture", f"cap_{rid}", self.dep, f"{at}#{rid}", data))
        return rids

    def monitor(self, **body: Any) -> dict[str, Any]:
        r = self.api.client.post(f"/v1/monitoring/{self.dep}/monitors", headers=self.api.admin, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def run(self, monitor_id: str) -> dict[str, Any]:
        r = self.api.client.post(f"/v1/monitoring/monitors/{monitor_id}:run", headers=self.api.admin)
        assert r.status_code == 200, r.text
        return r.json()

    def alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        q = f"?status={status}" if status else ""
        r = self.api.client.get(f"/v1/monitoring/{self.dep}/alerts{q}", headers=self.api.admin)
        assert r.status_code == 200, r.text
        return r.json()["items"]


@pytest.fixture
def world(api: Any) -> World:
    return World(api)


def test_a_shifted_window_opens_one_alert_that_resolves_when_traffic_calms(world: World) -> None:
    m = world.monitor(
        type="data_drift", metric="psi", threshold=0.25, window={"rows": 300}, severity="warning"
    )
    assert m["features"] == ["amount", "country"] and m["next_run_at"] == m["created_at"]
    world.capture(300, shift=2.0)
    first = world.run(m["id"])
    assert first["status"] == "breached" and first["worst_feature"] == "amount"
    assert first["features"]["amount"]["value"] > 1.0 and first["features"]["country"]["value"] < 0.1
    assert first["reference"]["sources"] == {"amount": "baseline", "country": "baseline"}
    assert first["alert"]["event"] == "opened"
    second = world.run(m["id"])  # still shifted: the same alert, not a second one
    assert second["alert"] == {**first["alert"], "event": "updated"}
    [alert] = world.alerts()
    assert alert["status"] == "open" and alert["breaches"] == 2 and alert["severity"] == "warning"
    assert "amount" in alert["message"] and "psi" in alert["message"]
    world.capture(300, shift=0.0)  # the newest 300 rows are calm again
    third = world.run(m["id"])
    assert third["status"] == "ok" and third["alert"]["event"] == "resolved"
    assert [a["status"] for a in world.alerts()] == ["resolved"]
    got = world.api.client.get(f"/v1/monitoring/monitors/{m['id']}", headers=world.api.admin).json()
    assert got["last_result"]["status"] == "ok" and got["open_alert_id"] is None
    assert [r["status"] for r in got["runs"]] == ["ok", "breached", "breached"]
    actions = [r.action for r in world.deps.store.audit.list(limit=1000)]
    assert actions.count("monitor.alert_opened") == 1 and actions.count("monitor.alert_resolved") == 1


def test_a_calm_window_raises_nothing_and_too_little_data_changes_nothing(world: World) -> None:
    m = world.monitor(type="data_drift", metric="ks", threshold=0.2, window={"minutes": 30})
    world.capture(10)
    thin = world.run(m["id"])
    assert thin["status"] == "insufficient_data" and "alert" not in thin
    world.capture(400)
    calm = world.run(m["id"])
    assert calm["status"] == "ok" and calm["value"] < 0.2 and "p_value" in calm
    world.capture(400, minutes_ago=90, shift=3.0)  # shifted, but outside the 30-minute window
    assert world.run(m["id"])["status"] == "ok"
    assert world.alerts() == []


def test_prediction_drift_without_a_baseline_uses_the_first_captured_rows(api: Any) -> None:
    w = World(api, baseline=False, name="nobase")
    m = w.monitor(
        type="prediction_drift", metric="js", threshold=0.1, window={"rows": 200}, reference={"rows": 200}
    )
    w.capture(100, minutes_ago=5)
    early = w.run(m["id"])
    assert early["status"] == "insufficient_data"  # the reference window is not full yet
    w.capture(100, minutes_ago=4)
    w.capture(200, shift=3.0)
    r = w.run(m["id"])
    assert r["status"] == "breached" and r["reference"]["sources"] == {"prediction": "window"}
    assert r["reference"]["baseline"] is False and r["reference"]["reference_window"]["rows"] == 200


def test_labels_drive_a_performance_monitor_and_its_decay(world: World) -> None:
    m = world.monitor(type="performance", metric="auc", threshold=0.75, window={"rows": 200})
    assert m["metric"] == "auc"
    rids = world.capture(200, per_request=20)
    caps = {
        d.data["request_id"]: d.data
        for d in world.deps.store.docs.list("inference_capture", world.dep, limit=100)
    }

    def send(flip: bool) -> None:
        labels = []
        for rid in rids:
            for i, out in enumerate(caps[rid]["outputs"]):
                truth = int(out[0] >= 0.5)
                labels.append({"request_id": rid, "index": i, "label": 1 - truth if flip else truth})
        r = world.api.client.post(f"/v1/deployments/{world.dep}/feedback", headers=world.api.admin,
                                  json={"labels": labels})  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == 200

    send(flip=False)
    good = world.run(m["id"])
    assert good["status"] == "ok" and good["value"] == 1.0 and good["labelled_rows"] == 200
    assert good["training_value"] == 0.9 and good["decay"] == pytest.approx(-0.1)
    send(flip=True)  # corrected labels replace the earlier ones
    bad = world.run(m["id"])
    assert bad["status"] == "breached" and bad["value"] == 0.0 and bad["decay"] == pytest.approx(0.9)
    assert "below the threshold" in world.alerts()[0]["message"]
    acc = world.monitor(type="performance", metric="accuracy", threshold=0.5, window={"rows": 200})
    assert world.run(acc["id"])["value"] == 0.0


def test_the_scheduler_runs_due_monitors_once_per_interval(world: World) -> None:
    a = world.monitor(type="data_drift", metric="psi", threshold=0.25, schedule={"every_minutes": 15})
    b = world.monitor(type="prediction_drift", metric="psi", threshold=0.25, schedule={"every_minutes": 60})
    world.capture(300, shift=2.0)
    summary = schedule.run_due(world.deps)
    assert summary["due"] == 2 and summary["evaluated"] == 2 and summary["breached"] == 2
    assert summary["alerts_opened"] == 2 and summary["errors"] == [] and summary["max_drift"] > 1.0
    assert schedule.run_due(world.deps)["due"] == 0  # nothing due until their next_run_at
    later = iso(datetime.now(UTC) + timedelta(minutes=20))
    _, due = schedule.due_monitor_ids(world.deps, later)
    assert due == [a["id"]]
    again = schedule.run_due(world.deps, later)
    assert again["evaluated"] == 1 and again["alerts_opened"] == 0  # the open alert is updated
    assert len(world.alerts("open")) == 2
    assert b["id"] not in due


def test_a_critical_breach_requests_a_retrain_once_and_promotes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from optiloop.workflows import executions

    started: list[dict[str, Any]] = []

    def fake_start(deps: Deps, who: Any, body: dict[str, Any]) -> dict[str, Any]:
        started.append(body)
        return {"id": "wfx_1"}

    monkeypatch.setattr(executions, "start_experiment", fake_start)
    training = {"entry_point": "tabular_xgb", "inputs": {"train": {"dataset_id": "ds_1"}},
                "evaluation": {"metric": "auc"}, "approval": False}  # fmt: skip
    m = world.monitor(type="data_drift", metric="psi", threshold=0.25, severity="critical",
                      retrain={"on": "critical", "training": training})  # fmt: skip
    world.capture(300, shift=2.0)
    r = world.run(m["id"])
    assert r["retrain_request"]["status"] == "started"
    world.run(m["id"])  # the same incident: no second request, no second workflow
    [body] = started
    assert body["approval"] is True  # forced: the retrained version waits for four eyes
    assert body["model"] == {"model_id": "mdl_fraud"} and body["project_id"] == world.pid
    assert body["entry_point"] == "tabular_xgb"
    [req] = [d.data for d in world.deps.store.docs.list(RETRAIN_REQUEST, "mdl_fraud", limit=10)]
    assert req["monitor_id"] == m["id"] and req["approval"] == "required"
    assert req["workflow_execution_id"] == "wfx_1" and req["evidence"]["metric"] == "psi"
    [rec] = world.deps.store.audit.list(action="monitor.retrain_requested", limit=10)
    assert rec.details["alert_id"] == r["alert"]["id"] and rec.project_id == world.pid
    assert world.alerts()[0]["retrain_request_id"] == req["id"]
    version = world.deps.store.docs.get("model_version", world.vid)
    assert version is not None and version.data["status"] == "Approved"  # untouched
    warning = world.monitor(type="data_drift", metric="psi", threshold=0.25, severity="warning",
                            retrain={"on": "critical"})  # fmt: skip
    assert "retrain_request" not in world.run(warning["id"])


def test_a_retrain_the_workflow_refuses_is_recorded_not_raised(world: World) -> None:
    m = world.monitor(type="data_drift", metric="psi", threshold=0.25, severity="critical",
                      retrain={"training": {"entry_point": "tabular_xgb"}})  # fmt: skip
    world.capture(300, shift=2.0)
    r = world.run(m["id"])
    assert r["status"] == "breached" and r["retrain_request"]["status"] == "failed_to_start"
    [req] = [d.data for d in world.deps.store.docs.list(RETRAIN_REQUEST, "mdl_fraud", limit=10)]
    assert req["error"] and req["workflow_execution_id"] is None
    assert len(world.deps.store.audit.list(action="monitor.retrain_requested", limit=10)) == 1


def test_alerts_are_acknowledged_and_reach_the_alarm_topic(world: World) -> None:
    moto = pytest.importorskip("moto")
    import boto3

    from optiloop.models.monitoring.sns import SnsNotifier

    with moto.mock_aws():
        sns = boto3.client("sns", region_name="eu-west-1")
        arn = sns.create_topic(Name="alarms")["TopicArn"]
        world.deps.notifier = SnsNotifier(arn)  # type: ignore[attr-defined]
        m = world.monitor(type="data_drift", metric="psi", threshold=0.25)
        world.capture(300, shift=2.0)
        r = world.run(m["id"])
        assert r["alert"]["notified"] is True
        from moto.sns.models import sns_backends

        sent = sns_backends["123456789012"]["eu-west-1"].topics[arn].sent_notifications
        assert len(sent) == 1 and json.loads(sent[0][1])["alert_id"] == r["alert"]["id"]
    aid = r["alert"]["id"]
    url = f"/v1/monitoring/{world.dep}/alerts/{aid}:acknowledge"
    ack = world.api.client.post(url, headers=world.api.admin, json={"comment": "looking"})
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert world.api.client.post(url, headers=world.api.admin).json()["status"] == "acknowledged"
    assert world.alerts("acknowledged")[0]["acknowledged_by"]
    bad = world.api.client.post(f"/v1/monitoring/{world.dep}/alerts/{aid}:close", headers=world.api.admin)
    assert bad.status_code in (404, 405)  # no such method
    viewer = world.api.key("viewer")
    assert world.api.client.post(url, headers=viewer).status_code == 403


def test_bad_monitors_and_feedback_are_4xx_naming_the_field(world: World) -> None:
    api, dep = world.api, world.dep
    post = api.client.post

    def fields(url: str, body: dict[str, Any], status: int = 422) -> list[str]:
        r = post(url, headers=api.admin, json=body)
        assert r.status_code == status, r.text
        return api.error_fields(r)

    base = {"type": "data_drift", "metric": "psi", "threshold": 0.2}
    before = api.audit_count()
    assert fields("/v1/monitoring/dep_nope/monitors", base, 404) == ["deployment_id"]
    assert fields(f"/v1/monitoring/{dep}/monitors", {**base, "features": ["amount", "colour"]}) == [
        "features[1]"
    ]
    assert any("threshold" in f for f in fields(f"/v1/monitoring/{dep}/monitors", {**base, "threshold": 0}))
    assert fields(f"/v1/monitoring/{dep}/monitors", {**base, "metric": "ks", "threshold": 1.5}) == [
        "threshold"
    ]
    assert fields(f"/v1/monitoring/{dep}/monitors", {**base, "metric": "auc"}) == ["metric"]
    perf = {"type": "performance", "metric": "rmse", "threshold": 1.0}
    assert fields(f"/v1/monitoring/{dep}/monitors", perf) == ["metric"]  # a binary model has no RMSE
    assert fields(f"/v1/monitoring/{dep}/monitors", {**base, "window": {"minutes": 5, "rows": 100}}) == [
        "window"
    ]
    assert any("severity" in f for f in fields(f"/v1/monitoring/{dep}/monitors", {**base, "severity": "meh"}))
    assert api.audit_count() == before  # nothing written
    assert world.deps.store.docs.list("model_monitor", dep) == []
    r = post("/v1/monitoring/monitors/mon_nope:run", headers=api.admin)
    assert r.status_code == 404 and api.error_fields(r) == ["monitor_id"]
    fb = f"/v1/deployments/{dep}/feedback"
    assert fields(
        fb, {"labels": [{"request_id": "r1", "label": 1}, {"request_id": "r2", "label": "cat"}]}
    ) == ["labels[1].label"]
    assert fields(
        "/v1/deployments/dep_nope/feedback", {"labels": [{"request_id": "r", "label": 1}]}, 404
    ) == ["deployment_id"]
    assert any("labels" in f for f in fields(fb, {"labels": []}))
    assert world.deps.store.docs.list("inference_label", dep) == []
