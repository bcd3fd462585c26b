"""The periodic retraining check: an EventBridge rule invoking `retrain_check`.

A rule rather than EventBridge Scheduler: one fixed rate per tenant needs neither time zones nor
one-off schedules, and a rule needs no extra role. Retries are bounded so a broken check does not
pile up invocations: the next tick runs it again anyway.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.tenant import TenantConfig


class RetrainSchedule(Construct):
    def __init__(
        self, scope: Construct, cid: str, *, config: TenantConfig, function: lambda_.IFunction
    ) -> None:
        super().__init__(scope, cid)
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"OptiLoop {config.tenant}: flag projects whose model is behind their runs",
            schedule=events.Schedule.rate(Duration.minutes(config.retrain_check_minutes)),
        )
        self.rule.add_target(
            targets.LambdaFunction(function, retry_attempts=2, max_event_age=Duration.minutes(30))
        )
