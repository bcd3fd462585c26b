"""The experiment workflow, executed: the synthesized state machine runs in moto's Step Functions.

What is real: the ASL exactly as synthesized (intrinsics resolved to fake ARNs, the 60 s poll shortened
to 1 s), moto's interpreter executing it, the SageMaker createTrainingJob/describeTrainingJob SDK
integrations against moto's SageMaker, the SNS failure notice, and the Lambda tasks, which run the
real `functions.workflow_steps.handler.prepare_training` / `.record_model` in this process.

How the Lambda tasks reach Python: moto's Docker-less Lambda backend (`use_docker: False`) only
echoes payloads, so its `invoke` is patched to import the function's Handler string and call it with
the payload, reporting an exception the way Lambda does (FunctionError + errorType), which is what
the state machine's Catch on `NothingToTrain` matches. The handlers get their ports from the DynamoDB
and S3 adapters on moto (`open_aws`), or the in-memory store where that factory is absent.

Failure: moto's training jobs complete at once, so "Failed" comes from a botocore Stubber on the
SageMaker client moto's aws-sdk integration uses.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

pytest.importorskip("moto", reason="the workflow test runs the state machine in moto")
pytest.importorskip("aws_lambda_powertools", reason="the workflow steps run with Powertools")

import boto3
from botocore.stub import Stubber
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk as aws_sdk_task,
)

from cfn_fake import ACCOUNT, REGION, Resolver, physical_name
from optiloop.auth.principal import OPERATOR
from optiloop.deps import Deps
from optiloop.projects import create_project
from optiloop.testopt.constraints import add_constraint
from optiloop.testopt.ingest import RunReport, ingest_runs
from optiloop.testopt.suggest import SuggestRequest, suggest

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

MOTO = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
SPACE = {"params": {"qps": {"type": "integer", "min": 1, "max": 100}, "cache": {"type": "boolean"}}}


@dataclass
class FakeContext:
    function_name: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def run_python_handler(
    self: LambdaSimpleBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: dict[str, str],
) -> bytes:
    """moto's invoke, but running the function's Handler in this process."""
    fn = self.get_function(function_name, qualifier)
    module, attr = fn.handler.rsplit(".", 1)
    handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module), attr)
    try:
        result = handler(json.loads(body or b"{}"), FakeContext(fn.function_name))
    except Exception as exc:  # Lambda's shape of an unhandled error; Step Functions matches errorType
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
    return json.dumps(result).encode()


@dataclass
class Deployment:
    deps: Deps
    bucket: str
    state_machine_arn: str
    notices: str  # an SQS queue subscribed to the alarm topic

    def start(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = sfn.start_execution(
            stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload)
        )["executionArn"]
        # moto runs the execution on its own thread: poll gently (a tight loop starves it of the GIL),
        # and leave room for the first execution in a process, which warms moto's ASL parser (ANTLR)
        deadline = time.monotonic() + 240
        while True:
            ex = sfn.describe_execution(executionArn=arn)
            if ex["status"] != "RUNNING" or time.monotonic() > deadline:
                return ex
            time.sleep(0.05)

    def visited(self, execution_arn: str) -> list[str]:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        events = sfn.get_execution_history(executionArn=execution_arn)["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]

    def notice(self) -> dict[str, Any]:
        sqs = boto3.client("sqs", region_name=REGION)
        [msg] = sqs.receive_message(QueueUrl=self.notices, WaitTimeSeconds=1).get("Messages", [])
        return json.loads(json.loads(msg["Body"])["Message"])

    def project(self, runs: int) -> str:
        pid = create_project(self.deps, OPERATOR, f"wf-{uuid.uuid4().hex[:6]}").id
        add_constraint(self.deps, OPERATOR, pid, name="base", type="hard", weight=None, json_schema=SPACE)
        if runs:
            out = suggest(self.deps, pid, SuggestRequest(generator="random", batch_size=runs, seed=1), "ci")
            reports = [
                RunReport(test_id=t["id"], status="pass", buckets_hit=(i,))
                for i, t in enumerate(out["tests"])
            ]
            ingest_runs(self.deps, OPERATOR, pid, reports)
        return pid


def _ports(table: str, bucket: str) -> Deps:
    from optiloop.store import factory

    if not hasattr(factory, "open_aws"):  # the AWS adapters have not landed: same steps, in memory
        return Deps(*factory.open_memory())
    from optiloop.store.dynamodb import table_spec

    boto3.client("dynamodb", region_name=REGION).create_table(**table_spec.create_table_kwargs(table))
    return Deps(*factory.open_aws(table, bucket, region=REGION))


@pytest.fixture
def deployment(synth: Any, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    template = synth.templates["acme"]
    resolve = Resolver(template)
    [(sm_id, sm)] = synth.resources("acme", "AWS::StepFunctions::StateMachine").items()
    asl = json.loads(resolve(sm["Properties"]["DefinitionString"]))
    asl["States"]["WaitForTraining"]["Seconds"] = 1  # moto's jobs finish at once; do not idle 60 s
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", run_python_handler)

    with mock_aws(config=MOTO):
        iam = boto3.client("iam", region_name=REGION)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": ["states.amazonaws.com", "lambda.amazonaws.com"]},
                }
            ],
        }
        role_arn = iam.create_role(RoleName="workflow-test", AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]

        bucket_id = next(
            k for k in synth.resources("acme", "AWS::S3::Bucket") if k.startswith("DataArtifacts")
        )
        bucket = physical_name(bucket_id)
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=bucket)
        [topic_id] = synth.resources("acme", "AWS::SNS::Topic")
        topic_arn = boto3.client("sns", region_name=REGION).create_topic(Name=physical_name(topic_id))[
            "TopicArn"
        ]
        assert topic_arn == resolve({"Ref": topic_id})
        sqs = boto3.client("sqs", region_name=REGION)
        notices = sqs.create_queue(QueueName="notices")["QueueUrl"]
        notices_arn = sqs.get_queue_attributes(QueueUrl=notices, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        boto3.client("sns", region_name=REGION).subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=notices_arn
        )

        lambdas = boto3.client("lambda", region_name=REGION)
        functions = {resolve.arn(k): k for k in synth.resources("acme", "AWS::Lambda::Function")}
        for state in asl["States"].values():
            if state.get("Resource", "").startswith("arn:aws:lambda:"):
                lid = functions[state["Resource"]]
                lambdas.create_function(
                    FunctionName=physical_name(lid),
                    Runtime="python3.11",
                    Role=role_arn,
                    Handler=template["Resources"][lid]["Properties"]["Handler"],
                    Code={"ZipFile": b"in-process"},
                )

        deps = _ports(f"optiloop-acme-{uuid.uuid4().hex[:6]}", bucket)
        steps = importlib.import_module("functions.workflow_steps.handler")
        monkeypatch.setattr(steps, "process_deps", lambda: deps)

        sm_arn = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
            name=physical_name(sm_id), definition=json.dumps(asl), roleArn=role_arn
        )["stateMachineArn"]
        yield Deployment(deps, bucket, sm_arn, notices)


def job_name(training_id: str) -> str:
    return "optiloop-acme-" + hashlib.md5(training_id.encode()).hexdigest()


def test_success_trains_and_registers_the_model(deployment: Deployment) -> None:
    pid = deployment.project(runs=4)
    # SageMaker would write this; moto's job does not, so the "trained model" is put where it reports it
    artifact = f"models/{pid}/{job_name('trn-1')}/output/model.tar.gz"
    deployment.deps.blobs.put(artifact, b"trained model bytes")

    ex = deployment.start("train-ok", {"project_id": pid, "training_id": "trn-1"})
    assert ex["status"] == "SUCCEEDED", ex
    out = json.loads(ex["output"])
    assert out["prepared"]["runs"] == 4 and out["training"]["status"] == "Completed"
    assert out["model"]["artifact_key"] == artifact
    assert out["model"]["artifact_sha256"] == hashlib.sha256(b"trained model bytes").hexdigest()
    assert deployment.visited(ex["executionArn"]) == [
        "Prepare",
        "NameJob",
        "CreateTrainingJob",
        "WaitForTraining",
        "DescribeTrainingJob",
        "TrainingStatus",
        "RecordModel",
        "Done",
    ]

    job = boto3.client("sagemaker", region_name=REGION).describe_training_job(
        TrainingJobName=job_name("trn-1")
    )
    assert job["RoleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/workflowtrainingrole")  # the CDK role
    [channel] = job["InputDataConfig"]
    assert channel["DataSource"]["S3DataSource"]["S3Uri"] == f"s3://{deployment.bucket}/training/{pid}/trn-1/"
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{deployment.bucket}/models/{pid}/"
    # the step really ran: its snapshot and the registry entry are in the blob store, audited
    assert deployment.deps.blobs.get(f"training/{pid}/trn-1/manifest.json") is not None
    assert json.loads(deployment.deps.blobs.get(f"models/{pid}/trn-1.json"))["runs_through_seq"] == 4
    assert [r.action for r in deployment.deps.store.audit.list(project_id=pid)][-2:] == [
        "training.prepared",
        "model.registered",
    ]


def test_too_few_runs_ends_quietly_without_a_training_job(deployment: Deployment) -> None:
    pid = deployment.project(runs=0)
    ex = deployment.start("train-empty", {"project_id": pid})
    assert ex["status"] == "SUCCEEDED", ex
    assert deployment.visited(ex["executionArn"]) == ["Prepare", "NothingToTrain"]
    assert boto3.client("sagemaker", region_name=REGION).list_training_jobs()["TrainingJobSummaries"] == []


def test_failed_training_is_recorded_and_fails_the_execution(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = deployment.project(runs=3)
    name = job_name("trn-bad")
    sagemaker = aws_sdk_task.boto_client_for(region=REGION, service="sagemaker")
    stub = Stubber(sagemaker)
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{name}"
    stub.add_response("create_training_job", {"TrainingJobArn": arn})
    now = datetime.now(UTC)
    stub.add_response(
        "describe_training_job",
        {
            "TrainingJobName": name,
            "TrainingJobArn": arn,
            "TrainingJobStatus": "Failed",
            "SecondaryStatus": "Failed",
            "FailureReason": "AlgorithmError: out of memory",
            "ModelArtifacts": {"S3ModelArtifacts": ""},
            "CreationTime": now,
            "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ResourceConfig": {"InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 7200},
        },
    )
    stub.activate()
    real = aws_sdk_task.boto_client_for
    monkeypatch.setattr(
        aws_sdk_task,
        "boto_client_for",
        lambda region, service, state_credentials=None: (
            sagemaker
            if service == "sagemaker"
            else real(region=region, service=service, state_credentials=state_credentials)
        ),
    )

    ex = deployment.start("train-bad", {"project_id": pid, "training_id": "trn-bad"})
    assert ex["status"] == "FAILED", ex
    assert ex.get("error") == "OptiLoop.TrainingWorkflowFailed"
    stub.assert_no_pending_responses()
    assert deployment.visited(ex["executionArn"]) == [
        "Prepare", "NameJob", "CreateTrainingJob", "WaitForTraining", "DescribeTrainingJob", "TrainingStatus",
        "TrainingNotCompleted", "DescribeFailure", "RecordFailure", "WorkflowFailed",
    ]  # fmt: skip
    notice = deployment.notice()
    assert notice["tenant"] == "acme"
    assert notice["failure"] == {"Error": "TrainingJobNotCompleted", "Cause": "Failed"}
    assert notice["input"] == {"project_id": pid, "training_id": "trn-bad"}
    assert deployment.deps.blobs.get(f"models/{pid}/trn-bad.json") is None  # nothing registered


def test_a_failing_step_is_caught_and_recorded(deployment: Deployment) -> None:
    ex = deployment.start("train-missing", {"project_id": "prj_missing"})
    assert ex["status"] == "FAILED", ex
    notice = deployment.notice()
    assert notice["failure"]["Error"] == "NotFound" and "prj_missing" in notice["failure"]["Cause"]
    assert deployment.visited(ex["executionArn"]) == [
        "Prepare",
        "DescribeFailure",
        "RecordFailure",
        "WorkflowFailed",
    ]
