"""The experiment workflow on Step Functions, built from the definition the local runner runs.

`optiloop.workflows.experiment.EXPERIMENT` says what happens (train -> evaluate -> register ->
(approve) -> deploy; see that module for the diagram); this construct translates it state by state:
a Task becomes a LambdaInvoke of the workflow-steps function (`{"step", "state": $}` in, the result
at `$.<result_key>`), with the definition's Retry (ASL MaxAttempts = attempts - 1) and Catch; a Wait
waits `SecondsPath` seconds; a Choice compares one string; Succeed and Fail are themselves. One
definition, two executors: the states, their names and their order are the same locally and here.

Polling (a task that asks SageMaker, a Wait, a Choice) rather than the `.sync` integrations: every
call is an ordinary request-response call made by the steps function, whose IAM is visible in
infra_cdk/functions.py (Functions.grant_training), the local runner executes the same loop, and
moto can run it. The steps function calls SageMaker through the models capability's trainer port,
so job names, channels and artifacts are what `POST /v1/training_jobs` makes too.

AWS only: after RecordFailure (which writes the failure to the audit trail) the failure is
published to the tenant's alarm topic, so operators hear about it; Step Functions keeps the
execution history for 90 days.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra_cdk.data import MODELS, TRAINING, DataStore
from infra_cdk.nag import acknowledge_state_machine_role, acknowledge_wildcards, arn_of
from infra_cdk.tenant import TenantConfig
from optiloop.workflows.definition import Choice, Fail, Succeed, Task, Wait, Workflow
from optiloop.workflows.experiment import EXPERIMENT

TRAINING_METRICS_NAMESPACE = "/aws/sagemaker/TrainingJobs"
FAILURE_NOTICE = "NotifyFailure"


def build_definition(
    scope: Construct,
    wf: Workflow,
    steps: lambda_.IFunction,
    insert_after: dict[str, sfn.TaskStateBase] | None = None,
) -> sfn.IChainable:
    """The state machine of `wf`: every state made first, then wired (the definition has loops).
    `insert_after` puts an AWS-only state between a task and its successor."""
    inserts = insert_after or {}
    made: dict[str, sfn.State] = {}
    for name, s in wf.states.items():
        if isinstance(s, Task):
            made[name] = tasks.LambdaInvoke(
                scope,
                name,
                lambda_function=steps,
                payload=sfn.TaskInput.from_object({"step": s.step, "state": sfn.JsonPath.object_at("$")}),
                payload_response_only=True,
                retry_on_service_exceptions=True,
                result_path=f"$.{s.result_key}",
                comment=s.comment or None,
            )
        elif isinstance(s, Wait):
            made[name] = sfn.Wait(scope, name, time=sfn.WaitTime.seconds_path(f"$.{s.seconds_key}"))
        elif isinstance(s, Choice):
            made[name] = sfn.Choice(scope, name)
        elif isinstance(s, Succeed):
            made[name] = sfn.Succeed(scope, name, comment=s.comment or None)
        elif isinstance(s, Fail):
            made[name] = sfn.Fail(scope, name, error=s.error, cause=s.cause or None)
    for name, s in wf.states.items():
        state = made[name]
        if isinstance(s, Task):
            assert isinstance(state, tasks.LambdaInvoke)
            for r in s.retry:
                state.add_retry(
                    errors=list(r.errors),
                    max_attempts=r.max_attempts - 1,
                    interval=Duration.seconds(max(1, round(r.interval_s))),
                    backoff_rate=r.backoff,
                )
            for c in s.catch:
                state.add_catch(made[c.next], errors=list(c.errors), result_path=f"$.{c.result_key}")
            if s.next is not None:
                extra = inserts.get(name)
                if extra is not None:
                    state.next(extra)
                    extra.next(made[s.next])
                else:
                    state.next(made[s.next])
        elif isinstance(s, Wait):
            assert isinstance(state, sfn.Wait)
            state.next(made[s.next])
        elif isinstance(s, Choice):
            assert isinstance(state, sfn.Choice)
            path = f"$.{s.key}.{s.field}" if s.field else f"$.{s.key}"
            for case, target_name in s.cases.items():
                state.when(sfn.Condition.string_equals(path, case), made[target_name])
            state.otherwise(made[s.default])
    return made[wf.start]


class ExperimentWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        config: TenantConfig,
        data: DataStore,
        steps: lambda_.IFunction,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, cid)
        self.training_role = self._training_role(config, data)
        self.name = f"{config.prefix}-{EXPERIMENT.name}"
        # RecordFailure -> NotifyFailure -> Failed: the audit record first, then the operators' notice
        notify = tasks.SnsPublish(
            self,
            FAILURE_NOTICE,
            topic=topic,
            subject=f"OptiLoop {config.tenant}: experiment workflow failed",
            message=sfn.TaskInput.from_object(
                {
                    "tenant": config.tenant,
                    "execution": sfn.JsonPath.execution_id,
                    "failure": sfn.JsonPath.object_at("$.failure_record"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        definition = build_definition(self, EXPERIMENT, steps, insert_after={"RecordFailure": notify})

        self.log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.DESTROY
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            # named, so that the API's right to read executions is one literal ARN pattern
            state_machine_name=self.name,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.seconds(EXPERIMENT.timeout_s),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
            comment=f"OptiLoop {config.tenant}: train -> evaluate -> register -> approve -> deploy",
        )
        acknowledge_state_machine_role(self.state_machine.role, steps)

    def _training_role(self, config: TenantConfig, data: DataStore) -> iam.Role:
        """What a training job may touch: read its snapshots, write models, log, report metrics."""
        bucket = data.artifacts
        role = iam.Role(
            self,
            "TrainingRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"OptiLoop {config.tenant}: SageMaker training jobs (training/ in, models/ out)",
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{TRAINING}*")])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{TRAINING}*"]}},
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[bucket.arn_for_objects(f"{MODELS}*")])
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[data.key.key_arn])
        )
        log_groups = (
            f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/TrainingJobs"
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[log_groups, f"{log_groups}:*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": TRAINING_METRICS_NAMESPACE}},
            )
        )
        acknowledge_wildcards(
            role,
            [
                f"Resource::{arn_of(bucket)}/{TRAINING}*",
                f"Resource::{arn_of(bucket)}/{MODELS}*",
                "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/TrainingJobs:*",
                "Resource::*",
            ],
            "Prefix scopes only: training/ to read and models/ to write in the tenant's bucket, the "
            "log streams SageMaker names per job in its fixed log group, and PutMetricData (no "
            "resource-level permissions) limited by condition to SageMaker's training namespace.",
        )
        return role
