"""Bulk ingest: an encrypted SQS queue, its dead-letter queue, and the consumer subscription.

Runners that finish thousands of tests send their outcomes here instead of holding HTTP
connections. Failures are per message (ReportBatchItemFailures): a bad message is retried
`MAX_RECEIVES` times and then parked in the DLQ, where an alarm sees it, while the good messages of
its batch are deleted. Producers get `producer_policy`, which allows sending and nothing else.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra_cdk.data import DataStore
from infra_cdk.tenant import TenantConfig

MAX_RECEIVES = 5
BATCH_SIZE = 10


class IngestQueue(Construct):
    def __init__(
        self, scope: Construct, cid: str, *, config: TenantConfig, data: DataStore, consumer: lambda_.Function
    ) -> None:
        super().__init__(scope, cid)
        self.dlq = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=data.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),  # the SQS maximum: two weeks to notice and redrive
        )
        timeout = consumer.timeout or Duration.seconds(60)
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=data.key,
            data_key_reuse=Duration.hours(1),  # fewer KMS calls; the key never leaves the tenant
            enforce_ssl=True,
            # AWS's guidance for Lambda consumers: six times the function timeout, so a message is
            # not redelivered while a (retried) invocation still works on it.
            visibility_timeout=Duration.seconds(6 * timeout.to_seconds()),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=MAX_RECEIVES),
        )
        consumer.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=BATCH_SIZE,
                max_batching_window=Duration.seconds(5),
                report_batch_item_failures=True,
            )
        )
        self.producer_policy = iam.ManagedPolicy(
            self,
            "ProducerPolicy",
            description=f"Send bulk-ingest messages to OptiLoop tenant {config.tenant} (attach to runners)",
            statements=[
                iam.PolicyStatement(
                    actions=["sqs:SendMessage", "sqs:GetQueueUrl"], resources=[self.queue.queue_arn]
                ),
                # SQS encrypts each message under a data key from the tenant's key.
                iam.PolicyStatement(
                    actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[data.key.key_arn]
                ),
            ],
        )
