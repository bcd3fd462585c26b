"""The experiment workflow: prepare a snapshot, train on SageMaker, register the model.

    Prepare (Lambda) -> CreateTrainingJob -> Wait -> DescribeTrainingJob -> Choice
        Completed        -> RecordModel (Lambda) -> Succeed
        InProgress/...   -> back to Wait
        Failed/Stopped   -> RecordFailure -> Fail
    any task error       -> RecordFailure -> Fail     (Prepare's NothingToTrain -> Succeed quietly)

Polling (createTrainingJob + Wait + describeTrainingJob) rather than the `.sync` integration: it
keeps every call an ordinary SDK call whose IAM is visible in this file (`.sync` adds EventBridge
rule permissions on a managed rule), and it is what the moto-based test can execute.

Contract with functions/workflow_steps (optiloop.workflows.training): Prepare gets the execution input
(`{"project_id", "training_id"?, "min_runs"?}`) and returns `{project_id, training_id, ...}`, having
written `training/<project>/<training>/`; RecordModel gets `{project_id, training_id, artifact}`.
The job name is `optiloop-<tenant>-<md5 of training_id>` (an identifier, not a security use of
MD5): at most 62 of SageMaker's 63 characters, valid whatever characters the training id has,
the same on a retry, and prefixed by the tenant so IAM can scope CreateTrainingJob to it.

RecordFailure publishes the failure (execution, error, original input) to the tenant's alarm topic:
operators hear about it, and Step Functions keeps the execution history for 90 days.
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
from infra_cdk.nag import acknowledge_wildcards, arn_of
from infra_cdk.tenant import TenantConfig

POLL_SECONDS = 60
INSTANCE_TYPE = "ml.m5.large"
MAX_TRAINING_SECONDS = 2 * 3600
TRAINING_METRICS_NAMESPACE = "/aws/sagemaker/TrainingJobs"


class TrainingWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        config: TenantConfig,
        data: DataStore,
        prepare: lambda_.IFunction,
        record: lambda_.IFunction,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, cid)
        bucket = data.artifacts
        job_arns = (
            f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:training-job/{config.prefix}-*"
        )
        self.training_role = self._training_role(config, data)

        notice = sfn.Pass(
            self,
            "DescribeFailure",
            parameters={
                "tenant": config.tenant,
                "execution": sfn.JsonPath.execution_id,
                "failure": sfn.JsonPath.object_at("$.failure"),
                "input": sfn.JsonPath.object_at("$$.Execution.Input"),
            },
            result_path="$.notice",
        )
        notice.next(
            tasks.SnsPublish(
                self,
                "RecordFailure",
                topic=topic,
                subject=f"OptiLoop {config.tenant}: training workflow failed",
                message=sfn.TaskInput.from_text(
                    sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.notice"))
                ),
                result_path=sfn.JsonPath.DISCARD,
            )
        ).next(
            sfn.Fail(
                self,
                "WorkflowFailed",
                error="OptiLoop.TrainingWorkflowFailed",
                cause="the RecordFailure notice carries the failed step's error and cause",
            )
        )

        def catch(task: sfn.TaskStateBase) -> sfn.TaskStateBase:
            return task.add_catch(notice, errors=[sfn.Errors.ALL], result_path="$.failure")

        prepare_task = tasks.LambdaInvoke(
            self,
            "Prepare",
            lambda_function=prepare,
            payload_response_only=True,
            retry_on_service_exceptions=True,
            result_path="$.prepared",
        )
        prepare_task.add_catch(
            sfn.Succeed(self, "NothingToTrain", comment="too few runs yet; the next check tries again"),
            errors=["NothingToTrain"],
            result_path="$.skipped",
        )
        catch(prepare_task)

        create = tasks.CallAwsService(
            self,
            "CreateTrainingJob",
            service="sagemaker",
            action="createTrainingJob",
            iam_action="sagemaker:CreateTrainingJob",
            iam_resources=[job_arns],
            result_path=sfn.JsonPath.DISCARD,
            parameters={
                "TrainingJobName": sfn.JsonPath.string_at("$.job.name"),
                "AlgorithmSpecification": {
                    "TrainingImage": config.training_image,
                    "TrainingInputMode": "File",
                },
                "RoleArn": self.training_role.role_arn,
                "InputDataConfig": [
                    {
                        "ChannelName": "train",
                        "DataSource": {
                            "S3DataSource": {
                                "S3DataType": "S3Prefix",
                                "S3Uri": sfn.JsonPath.string_at("$.job.input"),
                                "S3DataDistributionType": "FullyReplicated",
                            }
                        },
                    }
                ],
                "OutputDataConfig": {
                    "S3OutputPath": sfn.JsonPath.string_at("$.job.output"),
                    "KmsKeyId": data.key.key_arn,
                },
                "ResourceConfig": {"InstanceType": INSTANCE_TYPE, "InstanceCount": 1, "VolumeSizeInGB": 10},
                "StoppingCondition": {"MaxRuntimeInSeconds": MAX_TRAINING_SECONDS},
                "Tags": [
                    {"Key": "optiloop:tenant", "Value": config.tenant},
                    {"Key": "optiloop:project", "Value": sfn.JsonPath.string_at("$.prepared.project_id")},
                    {"Key": "optiloop:training", "Value": sfn.JsonPath.string_at("$.prepared.training_id")},
                ],
            },
        )
        create.add_retry(
            errors=["SageMaker.ResourceLimitExceededException", "SageMaker.ThrottlingException"],
            interval=Duration.seconds(30),
            max_attempts=4,
            backoff_rate=2,
        )
        catch(create)

        # Names and S3 locations are computed in the state machine, from the prepared ids, so a
        # Lambda cannot point a training job at another prefix or name it outside the tenant.
        job = sfn.Pass(
            self,
            "NameJob",
            parameters={
                "name": sfn.JsonPath.format(
                    f"{config.prefix}-{{}}",
                    sfn.JsonPath.hash(sfn.JsonPath.string_at("$.prepared.training_id"), "MD5"),
                ),
                "input": sfn.JsonPath.format(
                    f"s3://{bucket.bucket_name}/{TRAINING}{{}}/{{}}/",
                    sfn.JsonPath.string_at("$.prepared.project_id"),
                    sfn.JsonPath.string_at("$.prepared.training_id"),
                ),
                "output": sfn.JsonPath.format(
                    f"s3://{bucket.bucket_name}/{MODELS}{{}}/",
                    sfn.JsonPath.string_at("$.prepared.project_id"),
                ),
            },
            result_path="$.job",
        )

        wait = sfn.Wait(self, "WaitForTraining", time=sfn.WaitTime.duration(Duration.seconds(POLL_SECONDS)))
        describe = tasks.CallAwsService(
            self,
            "DescribeTrainingJob",
            service="sagemaker",
            action="describeTrainingJob",
            iam_action="sagemaker:DescribeTrainingJob",
            iam_resources=[job_arns],
            parameters={"TrainingJobName": sfn.JsonPath.string_at("$.job.name")},
            result_selector={
                "status": sfn.JsonPath.string_at("$.TrainingJobStatus"),
                "model_artifacts": sfn.JsonPath.string_at("$.ModelArtifacts.S3ModelArtifacts"),
            },
            result_path="$.training",
        )
        describe.add_retry(
            errors=[sfn.Errors.ALL], interval=Duration.seconds(5), max_attempts=3, backoff_rate=2
        )
        catch(describe)

        record_task = tasks.LambdaInvoke(
            self,
            "RecordModel",
            lambda_function=record,
            payload_response_only=True,
            retry_on_service_exceptions=True,
            payload=sfn.TaskInput.from_object(
                {
                    "project_id": sfn.JsonPath.string_at("$.prepared.project_id"),
                    "training_id": sfn.JsonPath.string_at("$.prepared.training_id"),
                    "artifact": sfn.JsonPath.string_at("$.training.model_artifacts"),
                }
            ),
            result_path="$.model",
        )
        catch(record_task)

        not_completed = sfn.Pass(
            self,
            "TrainingNotCompleted",
            parameters={
                "Error": "TrainingJobNotCompleted",
                "Cause": sfn.JsonPath.string_at("$.training.status"),
            },
            result_path="$.failure",
        ).next(notice)

        status = "$.training.status"
        choice = (
            sfn.Choice(self, "TrainingStatus")
            .when(
                sfn.Condition.string_equals(status, "Completed"), record_task.next(sfn.Succeed(self, "Done"))
            )
            .when(
                sfn.Condition.or_(
                    sfn.Condition.string_equals(status, "InProgress"),
                    sfn.Condition.string_equals(status, "Stopping"),
                ),
                wait,
            )
            # Failed, Stopped, and any status SageMaker may add later: fail closed, never loop forever
            .otherwise(not_completed)
        )
        definition = prepare_task.next(job).next(create).next(wait).next(describe).next(choice)

        self.log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.DESTROY
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.hours(6),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
            comment=f"OptiLoop {config.tenant}: prepare -> SageMaker training -> register model",
        )
        role = self.state_machine.role
        role.add_to_principal_policy(iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=[job_arns]))
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.training_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        acknowledge_wildcards(
            role,
            [
                f"Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/{config.prefix}-*",
                f"Resource::{arn_of(prepare)}:*",
                f"Resource::{arn_of(record)}:*",
            ],
            "Training jobs get generated names under this tenant's prefix (so the prefix is the "
            "scope), and Step Functions invokes function versions as <function ARN>:<version>.",
        )
        acknowledge_wildcards(
            role,
            ["Resource::*"],
            "CloudWatch Logs delivery (CreateLogDelivery, DescribeResourcePolicies, ...) and X-Ray "
            "PutTraceSegments accept no resource-level permissions: '*' is the only resource IAM allows.",
        )

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
