"""The role SageMaker real-time endpoints run as, for model versions served by their framework.

A version whose runtime is `endpoint` (it needs its framework or a GPU) is served by a SageMaker
endpoint that the deployments function (or the workflow's deploy step) creates under the tenant's
prefix (optiloop.models.serving.endpoint). The endpoint's container assumes this role: it reads the
model archive under `models/` of the tenant's bucket (through S3, with the tenant key), pulls the
SageMaker framework image, and writes its logs and metrics — nothing else. Only the functions that
create endpoints may pass it, and only to SageMaker (Functions.grant_endpoint_role).
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra_cdk.data import MODELS, DataStore
from infra_cdk.nag import acknowledge_wildcards, arn_of
from infra_cdk.tenant import TenantConfig

ENDPOINT_METRICS_NAMESPACE = "/aws/sagemaker/Endpoints"
LOGS_FINDING = "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"


class EndpointRole(Construct):
    def __init__(self, scope: Construct, cid: str, *, config: TenantConfig, data: DataStore) -> None:
        super().__init__(scope, cid)
        bucket = data.artifacts
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"OptiLoop {config.tenant}: SageMaker endpoints serving framework-bound models",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{MODELS}*")])
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[data.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"}},
            )
        )
        # the SageMaker framework images live in AWS-owned accounts (one per region, plus the deep
        # learning containers' account): pulling them needs these, and GetAuthorizationToken has no
        # resource-level permission at all
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                resources=[f"arn:{Aws.PARTITION}:ecr:{Aws.REGION}:*:repository/*"],
            )
        )
        self.role.add_to_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
        logs = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group"
        group = f"{logs}:/aws/sagemaker/Endpoints/{config.prefix}-*"
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[group, f"{group}:*"],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": ENDPOINT_METRICS_NAMESPACE}},
            )
        )
        acknowledge_wildcards(
            self.role,
            [
                f"Resource::{arn_of(bucket)}/{MODELS}*",
                "Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:*:repository/*",
                "Resource::*",
                f"{LOGS_FINDING}/aws/sagemaker/Endpoints/{config.prefix}-*",
                f"{LOGS_FINDING}/aws/sagemaker/Endpoints/{config.prefix}-*:*",
            ],
            "Read-only on models/ of the tenant's bucket; the framework images are in AWS-owned accounts "
            "that differ per region; ecr:GetAuthorizationToken and PutMetricData (limited by namespace) "
            "accept no resource; the endpoints' log groups are named per endpoint under the prefix.",
        )
