"""The AutoML state machine as synthesized: Plan -> Map of training-job trials (MaxConcurrency from
the tenant config) -> Record -> Plan ... -> Finalise, every task the workflow-steps function, a role
that may invoke only that, the API allowed to start only this machine, and the stack under
CloudFormation's 500 resources."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cfn_fake import Resolver, actions, as_list, flat, logical_id_of, statements
from infra_cdk.tenant import TenantConfig, TenantError
from optiloop.automl.fanout import STEPS

STEPS_HANDLER = "functions.workflow_steps.handler.handler"
CFN_MAX_RESOURCES = 500


def _definition(synth: Any, tenant: str = "acme") -> tuple[dict[str, Any], dict[str, Any]]:
    _, sm = synth.state_machine(tenant, "automl")
    return sm["Properties"], json.loads(
        Resolver(synth.templates[tenant])(sm["Properties"]["DefinitionString"])
    )


def _function_id(synth: Any, handler: str, tenant: str = "acme") -> str:
    [lid] = [k for k, f in synth.resources(tenant, "AWS::Lambda::Function").items()
             if f["Properties"]["Handler"] == handler]  # fmt: skip
    return str(lid)


def test_trials_fan_out_from_a_map_state_with_the_tenants_concurrency(synth: Any) -> None:
    props, asl = _definition(synth)
    assert props["StateMachineName"] == "optiloop-acme-automl" and props["StateMachineType"] == "STANDARD"
    assert (
        props["TracingConfiguration"] == {"Enabled": True} and props["LoggingConfiguration"]["Level"] == "ALL"
    )
    states = asl["States"]
    assert asl["StartAt"] == "Plan" and states["Plan"]["Next"] == "MoreTrials"
    more = states["MoreTrials"]
    assert more["Choices"] == [{"Variable": "$.plan.done", "BooleanEquals": True, "Next": "Finalise"}]
    assert more["Default"] == "RunTrials"
    fan = states["RunTrials"]
    assert fan["Type"] == "Map" and fan["MaxConcurrency"] == 4 and fan["ItemsPath"] == "$.plan.trials"
    assert fan["ItemSelector"]["trial.$"] == "$$.Map.Item.Value" and fan["Next"] == "Record"
    inner = fan["ItemProcessor"]["States"]
    assert fan["ItemProcessor"]["StartAt"] == "StartTrial"
    assert [inner["StartTrial"]["Next"], inner["WaitTrial"]["Next"], inner["CheckTrial"]["Next"]] == [
        "WaitTrial", "CheckTrial", "TrialEnded"]  # fmt: skip
    polling = {c["Variable"] for c in inner["TrialEnded"]["Choices"][0]["Or"]}
    assert polling == {"$.job.status"} and inner["TrialEnded"]["Choices"][0]["Next"] == "WaitTrial"
    assert states["Record"]["Next"] == "Plan"  # the loop: until Plan says done
    assert states["Finalise"]["Next"] == "Done" and states["RecordFailure"]["Next"] == "Failed"
    for name in ("Plan", "RunTrials", "Record", "Finalise"):
        assert states[name]["Catch"][0]["Next"] == "RecordFailure"
    # every task: the workflow-steps function (no .sync integration), a step the handler knows
    steps_arn = Resolver(synth.templates["acme"]).arn(_function_id(synth, STEPS_HANDLER))
    tasks = {**{k: v for k, v in states.items() if v["Type"] == "Task"},
             **{k: v for k, v in inner.items() if v["Type"] == "Task"}}  # fmt: skip
    assert set(tasks) == {"Plan", "Record", "Finalise", "RecordFailure", "StartTrial", "CheckTrial"}
    for task in tasks.values():
        assert task["Resource"] == steps_arn and task["Parameters"]["step"] in STEPS


def test_the_concurrency_is_the_tenants_setting() -> None:
    assert TenantConfig("acme").automl_max_concurrency == 4
    with pytest.raises(TenantError, match="automl_max_concurrency"):
        TenantConfig("acme", automl_max_concurrency=0)
    with pytest.raises(TenantError, match="automl_image"):
        TenantConfig("acme", automl_image="docker.io/optiloop:latest")
    ok = TenantConfig.from_context({"tenant": "acme", "automl_max_concurrency": "12"}.get)
    assert ok.automl_max_concurrency == 12


def test_the_state_machine_may_invoke_the_steps_function_and_nothing_else(synth: Any) -> None:
    props, _ = _definition(synth)
    stmts = statements(synth.templates["acme"], logical_id_of(props["RoleArn"]))
    acts = actions(stmts)
    assert "lambda:InvokeFunction" in acts
    assert not {a for a in acts if a.startswith(("sagemaker:", "iam:", "s3:", "dynamodb:", "states:"))}
    steps_id = _function_id(synth, STEPS_HANDLER)
    for st in stmts:
        if "lambda:InvokeFunction" in json.dumps(st["Action"]):
            assert all(steps_id in flat(r) for r in (st["Resource"] if isinstance(st["Resource"], list)
                                                     else [st["Resource"]]))  # fmt: skip


def test_the_api_starts_only_the_automl_state_machine(synth: Any) -> None:
    fn = _function_id(synth, "functions.automl.handler.handler")
    props = synth.templates["acme"]["Resources"][fn]["Properties"]
    stmts = statements(synth.templates["acme"], logical_id_of(props["Role"]))
    states = [
        (a, flat(st["Resource"])) for st in stmts for a in as_list(st["Action"]) if a.startswith("states:")
    ]
    assert {a for a, _ in states} == {"states:StartExecution", "states:DescribeExecution"}
    automl_sm, _ = synth.state_machine("acme", "automl")
    for action, resource in states:
        assert automl_sm in resource or ":execution:optiloop-acme-automl:" in resource, (action, resource)
    env = props["Environment"]["Variables"]
    assert logical_id_of(env["OPTILOOP_AUTOML_STATE_MACHINE_ARN"]) == automl_sm


def test_the_steps_function_carries_optuna_and_writes_trials_under_automl(synth: Any) -> None:
    fn = synth.templates["acme"]["Resources"][_function_id(synth, STEPS_HANDLER)]["Properties"]
    assert len(fn["Layers"]) == 3  # core, aws and sql (SQLAlchemy + Optuna for the plan step)
    assert "OPTILOOP_AUTOML_IMAGE" not in fn["Environment"]["Variables"]  # acme sets no image


@pytest.mark.parametrize("tenant", ["acme", "globex"])
def test_the_stack_stays_under_cloudformations_resource_limit(synth: Any, tenant: str) -> None:
    count = len(synth.templates[tenant]["Resources"])
    assert count < CFN_MAX_RESOURCES, f"{tenant}: {count} resources"
