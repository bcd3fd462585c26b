"""Step Functions task handlers of the experiment workflow (prepare data -> train -> register).

Two entry points, one per task state, so the state machine names the step in the handler string
(`functions.workflow_steps.handler.prepare_training` / `.record_model`) and each task's IAM and
timeout can differ. `handler` dispatches on `event["step"]` for a one-function deployment.
Errors propagate by class name (`NotFound`, `Conflict`, `NothingToTrain`, `ValidationError`) so the
state machine can Retry or Catch them precisely.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common.powertools import powertools
from functions.common.runtime import process_deps
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.workflows import training as steps

SERVICE = "workflow_steps"
Step = Callable[[Deps, dict[str, Any]], dict[str, Any]]
STEPS: dict[str, Step] = {"prepare_training": steps.prepare_training, "record_model": steps.record_model}

tools = powertools(SERVICE)


def _run(name: str, event: dict[str, Any]) -> dict[str, Any]:
    tools.logger.append_keys(
        step=name, project_id=event.get("project_id"), training_id=event.get("training_id")
    )
    result = STEPS[name](process_deps(), event)
    tools.metrics.add_dimension(name="step", value=name)
    tools.metrics.add_metric(name="StepCompleted", unit=MetricUnit.Count, value=1)
    tools.logger.info("step done", extra={"result": result})
    return result


def _decorate(fn: Callable[[dict[str, Any], LambdaContext], dict[str, Any]]) -> Any:
    fn = tools.metrics.log_metrics(capture_cold_start_metric=True)(fn)
    fn = tools.tracer.capture_lambda_handler(capture_response=False)(fn)
    return tools.logger.inject_lambda_context(clear_state=True)(fn)


@_decorate
def prepare_training(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _run("prepare_training", event)


@_decorate
def record_model(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _run("record_model", event)


@_decorate
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    name = event.get("step")
    if name not in STEPS:
        raise InvalidInput(FieldProblem("step", f"one of {sorted(STEPS)}, got {name!r}"))
    return _run(name, event)
