"""SQS consumer for bulk ingest: runners that finish thousands of tests queue their outcomes instead
of holding HTTP connections open, and this function feeds them to the same ingest use case.

A message body is `{"project_id": "prj_...", "principal": "runner-7", "runs": [<run as in
runs:ingest>]}`. The queue is the trust boundary: only producers IAM allows to send may, so the
message names the principal recorded in the audit log instead of presenting an API key.

Delivery is at-least-once. Powertools idempotency (DynamoDB table `OPTILOOP_IDEMPOTENCY_TABLE`,
keyed on the message body) makes a redelivered message return the first result without touching
the store again, so it counts once in the metrics too; past the idempotency window the core's run
fingerprints still turn a late resend into duplicates. Each message succeeds or fails on its own
and failures are reported per message (`batchItemFailures`; the event source mapping must enable
ReportBatchItemFailures): a bad message is retried and then dead-lettered, never silently dropped,
and never holds back the good messages of its batch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from functions.common.metrics import add_ingest_metrics
from functions.common.observe import WriteTally, observed
from functions.common.powertools import powertools
from functions.common.runtime import process_deps
from optiloop.api.models.ingest import RunIn
from optiloop.auth.principal import Principal
from optiloop.config import ConfigError
from optiloop.deps import Deps
from optiloop.errors import OptiLoopError
from optiloop.testopt.ingest import MAX_RUNS_PER_REQUEST, ingest_runs

SERVICE = "ingest_queue"
IDEMPOTENCY_TABLE_ENV = "OPTILOOP_IDEMPOTENCY_TABLE"
# Long enough to cover SQS redelivery after a visibility timeout or a function retry; a message
# redelivered later than this is still safe (the core counts it as duplicates), it just does the work.
IDEMPOTENCY_TTL_S = 24 * 3600

tools = powertools(SERVICE)
# A batch in which every message failed is reported like any other (all ids listed) instead of raising:
# SQS retries exactly the same messages either way, and the function's error count stays for bugs.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
tally = WriteTally()  # writes of the message being processed
batch_tally = WriteTally()  # writes of the whole batch, reported once per invocation


class QueueMessage(BaseModel):
    """The message contract; runs are validated exactly as `runs:ingest` validates them."""

    model_config = ConfigDict(extra="forbid")

    project_id: Annotated[str, Field(min_length=1, max_length=100)]
    principal: Annotated[str, Field(min_length=1, max_length=200)]
    runs: Annotated[list[RunIn], Field(min_length=1, max_length=MAX_RUNS_PER_REQUEST)]


@lru_cache(maxsize=1)
def _deps() -> Deps:
    return observed(process_deps(), tally)


def ingest_message(message: dict[str, Any]) -> dict[str, Any]:
    """Ingest one queued message; the result is what `runs:ingest` would have answered."""
    msg = QueueMessage.model_validate(message)
    principal = Principal(name=msg.principal, role="contributor", project_id=msg.project_id, key_id=None)
    return ingest_runs(_deps(), principal, msg.project_id, [r.to_report() for r in msg.runs])


@lru_cache(maxsize=1)
def _idempotent() -> tuple[Callable[..., dict[str, Any]], IdempotencyConfig]:
    """Built on first invocation: the persistence layer creates a boto3 client, which an import
    (and the cold-import benchmark) should not pay for."""
    table = os.environ.get(IDEMPOTENCY_TABLE_ENV, "").strip()
    if not table:
        raise ConfigError(f"{IDEMPOTENCY_TABLE_ENV} must name the DynamoDB table for ingest idempotency")
    config = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_TTL_S)
    persistence = DynamoDBPersistenceLayer(table_name=table)
    wrapped = idempotent_function(
        data_keyword_argument="message", config=config, persistence_store=persistence
    )(ingest_message)
    return wrapped, config


def record_handler(record: SQSRecord) -> dict[str, Any]:
    """One message: parse and validate before the idempotency record is written (garbage never
    occupies the table), then ingest at most once per body."""
    ingest, _ = _idempotent()
    tally.reset()
    try:
        message = json.loads(record.body)
        QueueMessage.model_validate(message)
        result = ingest(message=message)
    except Exception as exc:
        details = exc.details if isinstance(exc, OptiLoopError) else None
        tools.logger.warning(
            "message failed",
            extra={
                "message_id": record.message_id,
                "error": type(exc).__name__,
                "reason": str(exc)[:500],
                "details": details,
            },
        )
        raise
    batch_tally.absorb(tally)
    return result


@tools.logger.inject_lambda_context
@tools.tracer.capture_lambda_handler(capture_response=False)
@tools.metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _, config = _idempotent()
    config.register_lambda_context(context)  # in-progress records expire with the invocation's timeout
    batch_tally.reset()
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    add_ingest_metrics(tools.metrics, batch_tally)
    failed = len(response.get("batchItemFailures", []))
    tools.metrics.add_metric(name="IngestMessagesFailed", unit=MetricUnit.Count, value=failed)
    return dict(response)
