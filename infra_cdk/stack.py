"""One tenant's stack: the constructs of each concern, wired together and nothing else.

Order follows the dependencies (data -> functions -> auth/api, queue, schedule, workflow ->
monitoring); every cross-construct permission is granted here or inside the construct that owns the
resource, never by a wildcard.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from infra_cdk.api import Api
from infra_cdk.auth import ApiKeyAuth, TokenSigningSecret
from infra_cdk.automl_workflow import AutomlWorkflow
from infra_cdk.console import ConsoleSite
from infra_cdk.data import DataStore
from infra_cdk.endpoints import EndpointRole
from infra_cdk.functions import Functions
from infra_cdk.identity import ConsoleUserPool
from infra_cdk.models import model_access
from infra_cdk.monitoring import AlarmTopic, Monitoring
from infra_cdk.queues import IngestQueue
from infra_cdk.routes import HTTP_GROUPS
from infra_cdk.schedules import AuditDigestSchedule, MonitorSchedule, RetrainSchedule, WebhookDispatchSchedule
from infra_cdk.tenant import TenantConfig
from infra_cdk.workflows import ExperimentWorkflow


class OptiLoopStack(Stack):
    def __init__(self, scope: Construct, cid: str, *, config: TenantConfig, **kwargs: Any) -> None:
        super().__init__(
            scope,
            cid,
            stack_name=config.prefix,
            description=f"OptiLoop tenant {config.tenant}: API, functions, data, workflow, monitoring",
            **kwargs,
        )
        Tags.of(self).add("optiloop:tenant", config.tenant)

        self.data = DataStore(self, "Data", config=config)
        self.models = model_access(config)  # the catalogue, checked before any function exists
        self.functions = Functions(self, "Functions", config=config, data=self.data, models=self.models)
        fns = self.functions.by_key

        self.auth = ApiKeyAuth(self, "Auth", function=fns["authorizer"])
        # access tokens: one signing secret, read by the functions that verify tokens (docs/auth.md)
        self.token_secret = TokenSigningSecret(self, "TokenSecret", tenant=config.tenant, key=self.data.key)
        self.functions.grant_token_secret(("authorizer", *HTTP_GROUPS), self.token_secret.secret)
        self.api = Api(self, "Api", config=config, handlers={g: fns[g] for g in HTTP_GROUPS}, auth=self.auth)
        # per-principal limits: the authorizer and key management keep the usage plan's keys
        self.functions.grant_usage_plan(("authorizer",), "projects", self.api.usage_plan_name)
        # the console: static files on S3 behind CloudFront, which serves the API on the same origin
        self.console = ConsoleSite(self, "Console", config=config, data=self.data, api=self.api.api)
        # people: a Cognito user pool of this tenant's own, for the console's sign-in (docs/auth.md)
        self.people = ConsoleUserPool(
            self,
            "People",
            prefix=config.prefix,
            console_url=config.console_url,
            static_urls=[f"{self.console.url}/"],
        )
        self.console.publish(config, self.people)
        # ...whose ID tokens the authorizer and every HTTP function accept beside API keys and access
        # tokens (JWKS fetched from the pool's issuer and cached; `cryptography` is in the core layer)
        oidc = self.people.oidc_environment()
        for key in ("authorizer", *HTTP_GROUPS):
            for name, value in oidc.items():
                fns[key].add_environment(name, value)

        self.ingest_queue = IngestQueue(
            self, "IngestQueue", config=config, data=self.data, consumer=fns["ingest_queue"]
        )
        fns["ingest_queue"].add_environment("OPTILOOP_IDEMPOTENCY_TABLE", self.data.idempotency.table_name)
        self.functions.grant_idempotency("ingest_queue", self.data.idempotency.table_arn)

        self.schedule = RetrainSchedule(self, "RetrainSchedule", config=config, function=fns["retrain_check"])
        self.audit_digests = AuditDigestSchedule(
            self, "AuditDigestSchedule", config=config, function=fns["audit_digest"]
        )
        self.functions.grant_audit_digests("audit_digest", ("audit",), self.data.audit_signing_key)

        self.alarm_topic = AlarmTopic(self, "AlarmTopic", config=config, key=self.data.key)
        self.monitor_schedule = MonitorSchedule(
            self, "MonitorSchedule", config=config, function=fns["monitors"]
        )
        self.functions.grant_alarm_topic(("monitoring", "monitors"), self.alarm_topic.topic.topic_arn)
        # webhooks: ingest and suggest emit into the outbox, the dispatcher sends and publishes
        self.webhook_dispatch = WebhookDispatchSchedule(
            self, "WebhookDispatchSchedule", config=config, function=fns["webhook_dispatch"]
        )
        self.functions.grant_event_bus(("ingest", "ingest_queue", "suggest"), "webhook_dispatch")
        self.workflow = ExperimentWorkflow(
            self,
            "Workflow",
            config=config,
            data=self.data,
            steps=fns["workflow_steps"],
            topic=self.alarm_topic.topic,
        )
        # the training function and the workflow's steps start jobs as the training role, under the
        # tenant prefix; the API starts executions of the workflow (and reads their history)
        self.functions.grant_training("training", self.workflow.training_role, config.prefix)
        self.functions.grant_training("workflow_steps", self.workflow.training_role, config.prefix)
        self.functions.grant_workflow("workflows", self.workflow.state_machine, self.workflow.name)
        # AutoML: trials fan out as training jobs from a Map state; the same steps function, training
        # role and log group as the experiment workflow (the stack is near CloudFormation's 500)
        self.automl = AutomlWorkflow(
            self, "Automl", config=config, steps=fns["workflow_steps"], log_group=self.workflow.log_group
        )
        self.automl.grant_run(fns["automl"])
        if config.automl_image:
            self.automl.grant_image(self.workflow.training_role, fns["workflow_steps"], config.automl_image)
        # framework-bound model versions are served by SageMaker endpoints running as this role
        self.endpoints = EndpointRole(self, "Endpoints", config=config, data=self.data)
        self.functions.grant_endpoint_role(("deployments", "workflow_steps"), self.endpoints.role)
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            api=self.api.api,
            functions=fns,
            dlq=self.ingest_queue.dlq,
            topic=self.alarm_topic.topic,
        )

        CfnOutput(self, "ApiUrl", value=self.api.api.url, description="base URL; routes start with /v1/")
        CfnOutput(
            self, "ConsoleUrl", value=f"{self.console.url}/", description="the console; the API at /v1/ too"
        )
        CfnOutput(self, "TableName", value=self.data.table.table_name)
        CfnOutput(self, "ArtifactsBucket", value=self.data.artifacts.bucket_name)
        CfnOutput(self, "AuditBucket", value=self.data.audit.bucket_name)
        CfnOutput(self, "IngestQueueUrl", value=self.ingest_queue.queue.queue_url)
        CfnOutput(self, "IngestProducerPolicy", value=self.ingest_queue.producer_policy.managed_policy_arn)
        CfnOutput(self, "WorkflowArn", value=self.workflow.state_machine.state_machine_arn)
        CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic.topic_arn)
