"""EventBridge scheduled target (every minute): send the webhook deliveries that are due.

Retries, the SSRF checks at send time, the delivery log and the EventBridge publication are the
core's (optiloop.webhooks.dispatch); this records what a tick did as metrics and a log line.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common.powertools import powertools
from functions.common.runtime import process_deps
from optiloop.webhooks.dispatch import dispatch_due

SERVICE = "webhook_dispatch"

tools = powertools(SERVICE)


@tools.logger.inject_lambda_context(correlation_id_path="id")
@tools.tracer.capture_lambda_handler(capture_response=False)
@tools.metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = dispatch_due(process_deps())
    for name, key in (
        ("WebhookDeliveriesSent", "sent"),
        ("WebhookDeliveriesDelivered", "delivered"),
        ("WebhookDeliveriesRetrying", "retrying"),
        ("WebhookDeliveriesFailed", "failed"),
        ("WebhookEventsPublished", "bus_published"),
    ):
        tools.metrics.add_metric(name=name, unit=MetricUnit.Count, value=result.get(key, 0))
    tools.logger.info("webhook dispatch", extra=result)
    return result
