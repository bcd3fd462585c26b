"""Bulk-ingest queue with its DLQ, the retraining schedule, and the experiment workflow's shape."""

from __future__ import annotations

import json
from typing import Any

from cfn_fake import Resolver, flat, logical_id_of, statements


def test_ingest_queue_is_encrypted_redriven_and_consumed_with_partial_failures(synth: Any) -> None:
    queues = synth.resources("acme", "AWS::SQS::Queue")
    [(main_id, main)] = [(k, v) for k, v in queues.items() if "RedrivePolicy" in v["Properties"]]
    [(dlq_id, dlq)] = [(k, v) for k, v in queues.items() if k != main_id]
    assert main["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
    assert logical_id_of(main["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]) == dlq_id
    for q in (main, dlq):
        assert logical_id_of(q["Properties"]["KmsMasterKeyId"]).startswith("DataKey")
    assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert main["Properties"]["VisibilityTimeout"] == 6 * 60  # six times the consumer's timeout
    for policy in synth.resources("acme", "AWS::SQS::QueuePolicy").values():
        [deny] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    [(_, mapping)] = synth.resources("acme", "AWS::Lambda::EventSourceMapping").items()
    props = mapping["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert logical_id_of(props["EventSourceArn"]) == main_id
    consumer = synth.templates["acme"]["Resources"][logical_id_of(props["FunctionName"])]
    assert consumer["Properties"]["Handler"] == "functions.ingest_queue.handler.handler"


def test_producer_policy_only_sends(synth: Any) -> None:
    [(_, policy)] = synth.resources("acme", "AWS::IAM::ManagedPolicy").items()
    acts = {a for s in policy["Properties"]["PolicyDocument"]["Statement"] for a in s["Action"]}
    assert acts == {"sqs:SendMessage", "sqs:GetQueueUrl", "kms:GenerateDataKey", "kms:Decrypt"}


def test_retraining_check_runs_on_a_schedule(synth: Any) -> None:
    resources = synth.templates["acme"]["Resources"]
    [props] = [
        r["Properties"]
        for r in synth.resources("acme", "AWS::Events::Rule").values()
        if resources[logical_id_of(r["Properties"]["Targets"][0]["Arn"])]["Properties"]["Handler"]
        == "functions.retrain_check.handler.handler"
    ]  # the model monitors have their own rule (test_infra_monitoring_models.py)
    assert props["ScheduleExpression"] == "rate(1 hour)" and props["State"] == "ENABLED"
    [target] = props["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2


def definition(synth: Any, tenant: str = "acme") -> dict[str, Any]:
    _, sm = synth.state_machine(tenant, "experiment")
    return json.loads(Resolver(synth.templates[tenant])(sm["Properties"]["DefinitionString"]))


def test_workflow_definition_is_the_shared_one(synth: Any) -> None:
    """Every state of optiloop.workflows.experiment.EXPERIMENT, by name and kind, wired as it says."""
    from optiloop.workflows.definition import Choice, Fail, Succeed, Task, Wait
    from optiloop.workflows.experiment import EXPERIMENT

    asl = definition(synth)
    states = asl["States"]
    assert asl["StartAt"] == EXPERIMENT.start
    assert set(states) == set(EXPERIMENT.states) | {"NotifyFailure"}  # + the AWS-only operators' notice
    resolve = Resolver(synth.templates["acme"])
    steps_fn = {
        resolve.arn(lid)
        for lid, f in synth.resources("acme", "AWS::Lambda::Function").items()
        if f["Properties"]["Handler"] == "functions.workflow_steps.handler.handler"
    }
    for name, s in EXPERIMENT.states.items():
        st = states[name]
        if isinstance(s, Task):
            assert st["Type"] == "Task" and st["Parameters"] == {"step": s.step, "state.$": "$"}, name
            assert st["Resource"] in steps_fn, name
            assert st["ResultPath"] == f"$.{s.result_key}", name
            expected_next = "NotifyFailure" if name == "RecordFailure" else s.next
            assert st.get("Next") == expected_next and st.get("End", False) == (s.next is None), name
            ours = [(list(r.errors), r.max_attempts - 1) for r in s.retry]
            theirs = [(r["ErrorEquals"], r["MaxAttempts"]) for r in st.get("Retry", [])]
            assert theirs[-len(ours) or len(theirs) :] == ours or ours == [], name  # + Lambda service retries
            assert [(c["ErrorEquals"], c["Next"], c["ResultPath"]) for c in st.get("Catch", [])] == [
                (list(c.errors), c.next, f"$.{c.result_key}") for c in s.catch
            ], name
        elif isinstance(s, Wait):
            assert st == {"Type": "Wait", "SecondsPath": f"$.{s.seconds_key}", "Next": s.next}, name
        elif isinstance(s, Choice):
            rules = {r["StringEquals"]: r["Next"] for r in st["Choices"]}
            assert all(r["Variable"] == f"$.{s.key}.{s.field}" for r in st["Choices"]), name
            assert rules == s.cases and st["Default"] == s.default, name
        elif isinstance(s, Succeed):
            assert st["Type"] == "Succeed", name
        elif isinstance(s, Fail):
            assert st["Type"] == "Fail" and st["Error"] == s.error, name
    assert states["NotifyFailure"]["Resource"] == "arn:aws:states:::sns:publish"
    assert states["NotifyFailure"]["Next"] == "Failed"


def test_workflow_logs_traces_and_has_a_least_privilege_role(synth: Any) -> None:
    _, sm = synth.state_machine("acme", "experiment")
    props = sm["Properties"]
    assert props["StateMachineType"] == "STANDARD" and props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    stmts = statements(synth.templates["acme"], logical_id_of(props["RoleArn"]))
    by_action: dict[str, list[str]] = {}
    for s in stmts:
        for a in s["Action"] if isinstance(s["Action"], list) else [s["Action"]]:
            res = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
            by_action.setdefault(a, []).extend(flat(r) for r in res)
    # the state machine itself calls no AWS service but its steps function, SNS, logs and X-Ray:
    # SageMaker and iam:PassRole belong to the steps function (Functions.grant_training)
    assert not any(a.startswith(("dynamodb:", "s3:", "sagemaker:", "iam:")) for a in by_action)
    assert {r.split(":*")[0] for r in by_action["lambda:InvokeFunction"]} == {
        f"<{lid}.Arn>"
        for lid, f in synth.resources("acme", "AWS::Lambda::Function").items()
        if f["Properties"]["Handler"].startswith("functions.workflow_steps.")
    }
    steps_role = next(
        f["Properties"]["Role"]
        for f in synth.resources("acme", "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "functions.workflow_steps.handler.handler"
    )
    step_actions = {
        a
        for s in statements(synth.templates["acme"], logical_id_of(steps_role))
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert {"sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "iam:PassRole"} <= step_actions
