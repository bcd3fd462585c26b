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
    [(_, sm)] = synth.resources(tenant, "AWS::StepFunctions::StateMachine").items()
    return json.loads(Resolver(synth.templates[tenant])(sm["Properties"]["DefinitionString"]))


def test_workflow_definition_shape(synth: Any) -> None:
    asl = definition(synth)
    states = asl["States"]
    assert asl["StartAt"] == "Prepare"
    path, name = [], "Prepare"
    while name in states and states[name]["Type"] != "Choice":
        path.append(name)
        name = states[name]["Next"]
    assert path == ["Prepare", "NameJob", "CreateTrainingJob", "WaitForTraining", "DescribeTrainingJob"]
    assert states["Prepare"]["Resource"].startswith("arn:aws:lambda:")
    assert states["CreateTrainingJob"]["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:createTrainingJob"
    assert (
        states["DescribeTrainingJob"]["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob"
    )
    assert states["WaitForTraining"]["Type"] == "Wait" and states["WaitForTraining"]["Seconds"] == 60

    choice = states["TrainingStatus"]
    by_status = {}
    for rule in choice["Choices"]:
        for cond in rule.get("Or", [rule]):
            by_status[cond["StringEquals"]] = rule["Next"]
    assert by_status == {
        "Completed": "RecordModel",
        "InProgress": "WaitForTraining",
        "Stopping": "WaitForTraining",
    }
    assert choice["Default"] == "TrainingNotCompleted"  # Failed, Stopped and anything new
    assert states["TrainingNotCompleted"]["Next"] == "DescribeFailure"
    assert states["DescribeFailure"]["Next"] == "RecordFailure"
    assert states["RecordFailure"]["Resource"] == "arn:aws:states:::sns:publish"
    assert states[states["RecordFailure"]["Next"]]["Type"] == "Fail"
    assert states[states["RecordModel"]["Next"]]["Type"] == "Succeed"

    for task in ("Prepare", "CreateTrainingJob", "DescribeTrainingJob", "RecordModel"):
        assert states[task]["Retry"], task
        assert states[task]["Catch"][-1] == {
            "ErrorEquals": ["States.ALL"],
            "ResultPath": "$.failure",
            "Next": "DescribeFailure",
        }, task
    assert states["Prepare"]["Catch"][0]["ErrorEquals"] == ["NothingToTrain"]

    create = states["CreateTrainingJob"]["Parameters"]
    assert create["RoleArn"].startswith("arn:aws:iam::") and create["OutputDataConfig"]["KmsKeyId"]
    name = states["NameJob"]["Parameters"]["name.$"]
    assert name == "States.Format('optiloop-acme-{}', States.Hash($.prepared.training_id, 'MD5'))"


def test_workflow_logs_traces_and_has_a_least_privilege_role(synth: Any) -> None:
    [(_, sm)] = synth.resources("acme", "AWS::StepFunctions::StateMachine").items()
    props = sm["Properties"]
    assert props["StateMachineType"] == "STANDARD" and props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    stmts = statements(synth.templates["acme"], logical_id_of(props["RoleArn"]))
    by_action: dict[str, list[str]] = {}
    for s in stmts:
        for a in s["Action"] if isinstance(s["Action"], list) else [s["Action"]]:
            res = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
            by_action.setdefault(a, []).extend(flat(r) for r in res)
    job = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/optiloop-acme-*"
    for action in ("sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:AddTags"):
        assert by_action[action] == [job], action
    assert [r.split("TrainingRole")[0] for r in by_action["iam:PassRole"]] == ["<Workflow"]
    [pass_role] = [s for s in stmts if s["Action"] == "iam:PassRole"]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    assert not any(a.startswith(("dynamodb:", "s3:")) for a in by_action)
    assert {r.split(":*")[0] for r in by_action["lambda:InvokeFunction"]} == {
        f"<{lid}.Arn>"
        for lid, f in synth.resources("acme", "AWS::Lambda::Function").items()
        if f["Properties"]["Handler"].startswith("functions.workflow_steps.")
    }
