"""EventBridge scheduled target: evaluate every model monitor that is due.

Each monitor carries its own interval and next due time (optiloop.models.monitoring.schedule); the
rule's rate only bounds how late one can run. The metrics feed the tenant dashboard's model widgets:
the largest drift statistic of the tick, alerts opened and resolved, monitors evaluated and in breach.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common.powertools import powertools
from functions.common.runtime import process_deps
from optiloop.models.monitoring.schedule import run_due

SERVICE = "monitors"

tools = powertools(SERVICE)


@tools.logger.inject_lambda_context(correlation_id_path="id")
@tools.tracer.capture_lambda_handler(capture_response=False)
@tools.metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = run_due(process_deps())
    for name, key in (
        ("ModelMonitorsEvaluated", "evaluated"),
        ("ModelMonitorsBreached", "breached"),
        ("ModelAlertsOpened", "alerts_opened"),
        ("ModelAlertsResolved", "alerts_resolved"),
        ("ModelRetrainRequested", "retrain_requests"),
    ):
        tools.metrics.add_metric(name=name, unit=MetricUnit.Count, value=result[key])
    tools.metrics.add_metric(name="ModelMonitorErrors", unit=MetricUnit.Count, value=len(result["errors"]))
    if result["max_drift"] is not None:
        tools.metrics.add_metric(
            name="ModelDriftStatistic", unit=MetricUnit.NoUnit, value=result["max_drift"]
        )
    tools.logger.info(
        "monitors run",
        extra={k: result[k] for k in ("checked", "due", "evaluated", "breached", "alerts_opened", "errors")},
    )
    return result
