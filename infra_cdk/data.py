"""Where a tenant's data lives: one KMS key, one DynamoDB table, an artifacts and an audit bucket.

One customer-managed key per tenant means one key policy and one CloudTrail stream answer "who read
this tenant's data", and disabling the key makes the whole tenant unreadable at once (offboarding).
Every store resource is RETAIN: a stack deletion or a replacement must never delete data.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra_cdk.table_spec import Key, TableShape, table_shape
from infra_cdk.tenant import TenantConfig

# S3 key prefixes of the artifacts bucket. Each role is granted only the prefixes it uses, so these
# names are part of the security design, not just a layout.
MODELS = "models/"  # <project>/<job>/output/model.tar.gz (SageMaker) and <project>/<training>.json (registry)
TRAINING = "training/"  # <project>/<training>/manifest.json + runs.jsonl: written by prepare_training
AUDIT_CHECKPOINTS = "checkpoints/"  # audit-chain head hashes, in the Object Lock bucket
AUDIT_DIGESTS = "digests/"  # signed audit digests (optiloop.audit.digest), in the Object Lock bucket
DATASETS = "datasets/"  # <project>/<dataset>/part-NNNNN.jsonl: golden-set examples (prompts.datasets)
EVALS = "evals/"  # <project>/<eval run>.jsonl: per-example evaluation results (prompts.evals)
AUTOML = "automl/"  # <project>/<experiment>/<trial>/model.tar.gz: AutoML trials' refit models
TESTOPT = "testopt/"  # history/<project>/snapshot.npz: a test history's cold tier (testopt.history_snapshot)

_ATTR = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def _attr(key: Key) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTR[key.type])


class DataStore(Construct):
    def __init__(
        self, scope: Construct, cid: str, *, config: TenantConfig, shape: TableShape | None = None
    ) -> None:
        super().__init__(scope, cid)
        self.shape = shape or table_shape()
        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{config.prefix}",
            description=f"OptiLoop tenant {config.tenant}: table, buckets, queues, alarms topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch alarms publish to the tenant's encrypted SNS topic; the service needs the key to do so.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToEncryptForSns",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy "*" means this key
            )
        )
        # Signs the tenant's audit digests (optiloop.audit.signing.KmsSigner). Asymmetric so that a
        # verifier needs only kms:Verify (or the public key), never the right to sign.
        self.audit_signing_key = kms.Key(
            self,
            "AuditSigningKey",
            description=f"OptiLoop tenant {config.tenant}: signs audit digests",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.table = self._table()
        # Powertools idempotency records of the queue consumer: short-lived, keyed on the message body
        # hash, and kept apart so the main table's key design does not have to know about them.
        self.idempotency = dynamodb.Table(
            self,
            "Idempotency",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute="expiration",  # Powertools' default expiry attribute
            removal_policy=RemovalPolicy.DESTROY,  # 24 h of dedup state; nothing of record
        )
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access logging delivers only to SSE-S3 buckets, not SSE-KMS.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.artifacts = s3.Bucket(
            self,
            "Artifacts",
            versioned=True,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,  # one KMS call per bucket key, not per object: KMS cost stays flat
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="artifacts/",
            lifecycle_rules=[
                s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30)),
                s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(7)),
                s3.LifecycleRule(prefix=TRAINING, expiration=Duration.days(90)),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Governance mode, `audit_retention_days` (365 by default): nobody can delete or overwrite a
        # checkpoint for a year, except a principal explicitly granted s3:BypassGovernanceRetention
        # (a break-glass role, for a court-ordered erasure). Compliance mode would make even that
        # impossible and cannot be shortened once set, which is more than an audit trail needs here.
        self.audit = s3.Bucket(
            self,
            "Audit",
            versioned=True,  # Object Lock requires versioning
            object_lock_enabled=True,
            object_lock_default_retention=s3.ObjectLockRetention.governance(
                Duration.days(config.audit_retention_days)
            ),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="audit/",
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _table(self) -> dynamodb.Table:
        shape = self.shape
        table = dynamodb.Table(
            self,
            "Table",
            partition_key=_attr(shape.partition_key),
            sort_key=_attr(shape.sort_key) if shape.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,  # idle tenants cost nothing per hour
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=shape.ttl_attribute,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in shape.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_attr(index.partition_key),
                sort_key=_attr(index.sort_key) if index.sort_key else None,
                projection_type=dynamodb.ProjectionType[index.projection],
            )
        return table
