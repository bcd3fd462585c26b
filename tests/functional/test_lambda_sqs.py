"""The SQS bulk-ingest consumer: per-message failures, and a redelivered message counts once.

Idempotency runs against a DynamoDB table under moto, as Powertools would against the real one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from events.harness import add_tests, deployment, invoke, load_handlers, metric_values
from optiloop.auth.principal import OPERATOR
from optiloop.config import ConfigError
from optiloop.deps import Deps
from optiloop.projects import create_project

boto3 = pytest.importorskip("boto3")  # after the harness, which skips this module without the aws extra
TABLE = "optiloop-idempotency"
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def consumer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ModuleType]:
    from moto import mock_aws

    # the idempotency table is moto's on either backend; mock_aws nests inside an aws deployment
    with deployment(monkeypatch, tmp_path, OPTILOOP_IDEMPOTENCY_TABLE=TABLE), mock_aws():
        boto3.client("dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        mod = load_handlers(["ingest_queue"])["ingest_queue"]
        mod._idempotent.cache_clear()
        mod._deps.cache_clear()
        yield mod


def deps_of(mod: ModuleType) -> Deps:
    return mod._deps()


def project_with_tests(deps: Deps, n: int) -> tuple[str, list[str]]:
    pid = create_project(deps, OPERATOR, "queued").id
    return pid, add_tests(deps, pid, n)


def run(tid: str, buckets: list[int], status: str = "pass", severity: int = 0) -> dict[str, Any]:
    return {
        "test_id": tid,
        "status": status,
        "failure_severity": severity,
        "cost_cents": 1.0,
        "coverage_delta": {"buckets_hit": buckets},
    }


def record(body: Any, message_id: str | None = None) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "AQEB" + uuid.uuid4().hex,
        "body": text,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1795381200000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1795381200001",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:optiloop-ingest",
        "awsRegion": "eu-west-1",
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def ingested(deps: Deps, pid: str) -> list[Any]:
    return [r for r in deps.store.audit.list(project_id=pid) if r.action == "runs.ingested"]


def test_bad_messages_fail_alone(consumer: ModuleType) -> None:
    deps = deps_of(consumer)
    pid, tids = project_with_tests(deps, 3)
    good = record({"project_id": pid, "principal": "runner-q", "runs": [run(tids[0], [1, 2])]}, "good")
    bad = [
        record("{not json", "not-json"),
        record(
            {"project_id": "prj_nope", "principal": "runner-q", "runs": [run(tids[1], [3])]}, "no-project"
        ),
        record(
            {"project_id": pid, "principal": "runner-q", "runs": [run(tids[1], [3], "flaky")]}, "bad-status"
        ),
        record({"project_id": pid, "runs": [run(tids[1], [3])]}, "no-principal"),
        record(
            {"project_id": pid, "principal": "runner-q", "runs": [run("tst_unknown", [3])]}, "all-rejected"
        ),
    ]
    partly = record(
        {
            "project_id": pid,
            "principal": "runner-q",
            "runs": [run(tids[2], [4], "fail", 3), run("tst_x", [5])],
        },
        "partly-rejected",
    )
    resp = invoke(consumer.handler, sqs_event(good, *bad, partly), "ingest_queue")
    assert failed_ids(resp) == [r["messageId"] for r in bad]
    runs = deps.store.runs.list_since(pid, 0)
    assert [r.test_id for r in runs] == [tids[0], tids[2]]  # a run with a rejected neighbour still lands
    assert {r.principal for r in ingested(deps, pid)} == {"runner-q"}


def test_a_redelivered_message_counts_once(
    consumer: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deps = deps_of(consumer)
    pid, tids = project_with_tests(deps, 2)
    calls: list[str] = []
    real = consumer.ingest_runs

    def counting(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(consumer, "ingest_runs", counting)
    body = {
        "project_id": pid,
        "principal": "runner-q",
        "runs": [run(tids[0], [1, 2]), run(tids[1], [2, 3], "fail", 2)],
    }
    first = invoke(consumer.handler, sqs_event(record(body, "m-1")), "ingest_queue")
    # SQS redelivers after a lost ack (new receipt, same message), and a producer retry resends the body
    again = invoke(consumer.handler, sqs_event(record(body, "m-1"), record(body, "m-2")), "ingest_queue")
    assert failed_ids(first) == failed_ids(again) == []
    assert calls == [pid]  # the use case ran once; later deliveries got the stored result
    assert len(deps.store.runs.list_since(pid, 0)) == 2 and len(ingested(deps, pid)) == 1
    out = capsys.readouterr().out
    assert metric_values(out, "RunsIngested") == [2]
    assert metric_values(out, "CoverageNewBuckets") == [3]
    assert metric_values(out, "FailuresFound") == [1]
    assert metric_values(out, "IngestMessagesFailed") == [0, 0]
    assert boto3.client("dynamodb").scan(TableName=TABLE)["Count"] == 1


def test_a_failed_message_is_not_remembered(consumer: ModuleType) -> None:
    """Idempotency stores successes only: a message that failed (its tests were not suggested yet)
    succeeds when SQS redelivers it after they exist."""
    deps = deps_of(consumer)
    pid, _ = project_with_tests(deps, 1)
    late = f"tst_{pid[-8:]}_2"
    body = {"project_id": pid, "principal": "runner-q", "runs": [run(late, [9])]}
    assert failed_ids(invoke(consumer.handler, sqs_event(record(body, "m-1")))) == ["m-1"]
    assert add_tests(deps, pid, 1) == [late]  # now the runner's test exists
    assert failed_ids(invoke(consumer.handler, sqs_event(record(body, "m-1")))) == []
    assert [r.test_id for r in deps.store.runs.list_since(pid, 0)] == [late]


def test_without_an_idempotency_table_it_refuses_to_run(
    consumer: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPTILOOP_IDEMPOTENCY_TABLE")
    consumer._idempotent.cache_clear()
    with pytest.raises(ConfigError, match="OPTILOOP_IDEMPOTENCY_TABLE"):
        invoke(consumer.handler, sqs_event(record({"project_id": "p", "principal": "r", "runs": []})))
