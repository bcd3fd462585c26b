"""EventBridge scheduled target: flag projects whose registered model is behind their runs.

The schedule's input may carry `{"min_new_runs": n}` (in `detail`, or at the top level for a rule
with constant input); otherwise OPTILOOP_RETRAIN_MIN_RUNS, default 1. The result and the log say
what was found; nothing is retrained here (see optiloop.workflows.retrain for what "last fit" means today).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common.powertools import powertools
from functions.common.runtime import process_deps
from optiloop.config import ConfigError
from optiloop.workflows.retrain import check_all

SERVICE = "retrain_check"
MIN_RUNS_ENV = "OPTILOOP_RETRAIN_MIN_RUNS"

tools = powertools(SERVICE)


def min_new_runs(event: dict[str, Any]) -> int:
    raw_detail = event.get("detail")
    detail: dict[str, Any] = raw_detail if isinstance(raw_detail, dict) else {}
    raw = detail.get("min_new_runs", event.get("min_new_runs", os.environ.get(MIN_RUNS_ENV, 1)))
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"min_new_runs ({MIN_RUNS_ENV} or the rule's input) must be an integer, got {raw!r}"
        ) from None
    if value < 1:
        raise ConfigError(f"min_new_runs must be >= 1, got {value}")
    return value


@tools.logger.inject_lambda_context(correlation_id_path="id")
@tools.tracer.capture_lambda_handler(capture_response=False)
@tools.metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = check_all(process_deps(), min_new_runs=min_new_runs(event))
    tools.metrics.add_metric(name="ProjectsChecked", unit=MetricUnit.Count, value=result["checked"])
    tools.metrics.add_metric(name="RetrainDue", unit=MetricUnit.Count, value=len(result["due"]))
    tools.logger.info(
        "retrain check",
        extra={
            "checked": result["checked"],
            "due": [d["project_id"] for d in result["due"]],
            "recorded": result["recorded"],
        },
    )
    return result
