"""The scheduled `monitors` Lambda: evaluates the due monitors, publishes alerts to the alarm topic
(SNS under moto) and reports the dashboard's metrics; the `monitoring` HTTP Lambda answers too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from events.harness import REGION, deployment, invoke, load_handlers, logs_to_stdout, metric_values
from functions.common.runtime import process_deps
from optiloop.auth.principal import OPERATOR
from optiloop.deps import Deps
from optiloop.models.artifact import FORMAT, MANIFEST, pack_files, sha256_hex
from optiloop.models.monitoring import monitors
from optiloop.models.monitoring.baseline import build_baseline
from optiloop.models.monitoring.targets import BASELINES
from optiloop.models.signature import parse_signature
from optiloop.projects import create_project
from optiloop.store.records import Doc

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
TOPIC = f"arn:aws:sns:{REGION}:123456789012:optiloop-alarms"
SIGNATURE = {"task": "binary", "classes": [0, 1], "inputs": [{"name": "amount", "type": "number"}]}


@pytest.fixture
def lambdas(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, ModuleType]]:
    with deployment(monkeypatch, tmp_path, OPTILOOP_ALARM_TOPIC_ARN=TOPIC) as backend:
        if backend == "aws":
            import boto3

            boto3.client("sns", region_name=REGION).create_topic(Name="optiloop-alarms")
        yield load_handlers(["monitors"])


@pytest.fixture
def deps(lambdas: dict[str, ModuleType]) -> Deps:
    BASELINES.clear()
    return process_deps()


def deployed(deps: Deps) -> str:
    pid = create_project(deps, OPERATOR, "fraud").id
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 1))
    baseline = build_baseline(parse_signature(SIGNATURE), x, 1 / (1 + np.exp(-x)))
    manifest = {"format": FORMAT, "framework": "xgboost", "runtime": "trees", "model_file": "m.json",
                "signature": SIGNATURE, "baseline_file": "baseline.json"}  # fmt: skip
    blob = pack_files(
        {
            MANIFEST: json.dumps(manifest).encode(),
            "m.json": b"{}",
            "baseline.json": json.dumps(baseline).encode(),
        }
    )
    deps.blobs.put("models/p/m/mv_1/model.tar.gz", blob)
    version = {"id": "mv_1", "model_id": "mdl_1", "project_id": pid, "signature": SIGNATURE, "metrics": {},
               "artifact_key": "models/p/m/mv_1/model.tar.gz",
               "artifact_sha256": sha256_hex(blob)}  # fmt: skip
    deps.store.docs.create(Doc("model_version", "mv_1", "mdl_1", "00000001", version))
    dep = {"id": "dep_1", "project_id": pid, "model_id": "mdl_1", "stable": {"model_version_id": "mv_1"}}
    deps.store.docs.create(Doc("model_deployment", "dep_1", pid, "x#dep_1", dep))
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    shifted = rng.normal(loc=2.0, size=(200, 1))
    data = {"deployment_id": "dep_1", "variant": "stable", "model_version_id": "mv_1", "at": at,
            "request_id": "r1", "features": shifted.tolist(),
            "outputs": (1 / (1 + np.exp(-shifted))).tolist(), "keys": []}  # fmt: skip
    deps.store.docs.create(Doc("inference_capture", "dep_1|r1|stable", "dep_1", f"{at}#r1", data))
    return "dep_1"


def scheduled() -> dict[str, Any]:
    return {"id": "evt-1", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}


def test_the_tick_evaluates_due_monitors_alerts_and_counts(
    lambdas: dict[str, ModuleType], deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    logs_to_stdout(lambdas.values())
    tick = lambdas["monitors"].handler
    assert invoke(tick, scheduled(), "monitors")["checked"] == 0
    dep = deployed(deps)
    monitors.create(deps, OPERATOR, dep, {"type": "data_drift", "metric": "psi", "threshold": 0.25})
    capsys.readouterr()
    result = invoke(tick, scheduled(), "monitors")
    assert result["evaluated"] == 1 and result["breached"] == 1 and result["alerts_opened"] == 1
    assert result["errors"] == [] and result["max_drift"] > 1.0
    out = capsys.readouterr().out
    assert metric_values(out, "ModelAlertsOpened") == [1] and metric_values(out, "ModelMonitorsBreached") == [
        1
    ]
    assert metric_values(out, "ModelDriftStatistic")[0] > 1.0
    assert invoke(tick, scheduled(), "monitors")["due"] == 0  # next due in an hour
    if deps.notifier is not None:  # the aws backend: the alert reached the topic
        from moto.sns.models import sns_backends

        sent = sns_backends["123456789012"][REGION].topics[TOPIC].sent_notifications
        assert len(sent) == 1 and json.loads(sent[0][1])["severity"] == "warning"
