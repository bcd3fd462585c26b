"""Step Functions task handler of the experiment workflow (optiloop.workflows.experiment) and of the
AutoML fan-out (optiloop.automl.fanout: `automl_*` steps).

Every Task state invokes this one function with `{"step": <name>, "state": <the state object>}` and
stores what it returns at the state's result path (infra_cdk/workflows.py builds that from the same
definition the local runner interprets). Errors propagate by class name — Lambda reports the
exception's class as the errorType — so the definition's Retry and Catch match them precisely
(`NothingToTrain`, `InvalidInput`, `Conflict`, ...).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common.powertools import powertools
from functions.common.runtime import process_deps
from optiloop.automl.fanout import STEPS as AUTOML_STEPS
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.workflows.steps import STEPS as WORKFLOW_STEPS

SERVICE = "workflow_steps"
# one function serves both state machines (the experiment workflow's and AutoML's fan-out): one
# role with SageMaker training rights and one log group instead of two
STEPS = {**WORKFLOW_STEPS, **AUTOML_STEPS}

tools = powertools(SERVICE)


@tools.logger.inject_lambda_context(clear_state=True)
@tools.tracer.capture_lambda_handler(capture_response=False)
@tools.metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    name = event.get("step")
    state = event.get("state")
    if name not in STEPS:
        raise InvalidInput(FieldProblem("step", f"one of {sorted(STEPS)}, got {name!r}"))
    if not isinstance(state, dict):
        raise InvalidInput(FieldProblem("state", "must be the workflow's state object"))
    tools.logger.append_keys(
        step=name, execution_id=state.get("execution_id"), project_id=state.get("project_id")
    )
    result = STEPS[name](process_deps(), state)
    tools.metrics.add_dimension(name="step", value=str(name))
    tools.metrics.add_metric(name="StepCompleted", unit=MetricUnit.Count, value=1)
    tools.logger.info("step done", extra={"result": result})
    return result
