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


MONITOR_TICK_MINUTES = 5
"""How often due model monitors are looked for. Each monitor keeps its own interval
(`schedule.every_minutes`, at least this in effect): the tick bounds how late one runs, and a tick
with nothing due reads one small index and returns."""


class MonitorSchedule(Construct):
    """An EventBridge rule invoking `monitors`, which evaluates every model monitor that is due."""

    def __init__(
        self, scope: Construct, cid: str, *, config: TenantConfig, function: lambda_.IFunction
    ) -> None:
        super().__init__(scope, cid)
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"OptiLoop {config.tenant}: evaluate the model monitors that are due",
            schedule=events.Schedule.rate(Duration.minutes(MONITOR_TICK_MINUTES)),
        )
        # a missed tick is made up by the next one (monitors are due until evaluated): no long retries
        self.rule.add_target(
            targets.LambdaFunction(
                function, retry_attempts=1, max_event_age=Duration.minutes(MONITOR_TICK_MINUTES)
            )
        )


WEBHOOK_TICK_MINUTES = 1
"""How often due webhook deliveries are sent: the first attempt of an event is at most this late."""


class WebhookDispatchSchedule(Construct):
    """Every minute: send the due webhook deliveries and publish events to EventBridge
    (optiloop.webhooks.dispatch). A missed tick is made up by the next (deliveries stay due), so
    the rule does not retry for long."""

    def __init__(
        self, scope: Construct, cid: str, *, config: TenantConfig, function: lambda_.IFunction
    ) -> None:
        super().__init__(scope, cid)
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"OptiLoop {config.tenant}: send due webhook deliveries, publish events",
            schedule=events.Schedule.rate(Duration.minutes(WEBHOOK_TICK_MINUTES)),
        )
        self.rule.add_target(
            targets.LambdaFunction(function, retry_attempts=1, max_event_age=Duration.minutes(2))
        )


class AuditDigestSchedule(Construct):
    """Every minute: seal the tenant's audit digest (optiloop.audit.digest), as CloudTrail seals its
    digest files. One missed tick only delays the next digest; the chain itself cannot miss one."""

    def __init__(
        self, scope: Construct, cid: str, *, config: TenantConfig, function: lambda_.IFunction
    ) -> None:
        super().__init__(scope, cid)
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"OptiLoop {config.tenant}: seal the audit digest over every shard head",
            schedule=events.Schedule.rate(Duration.minutes(1)),
        )
        self.rule.add_target(
            targets.LambdaFunction(function, retry_attempts=1, max_event_age=Duration.minutes(5))
        )
