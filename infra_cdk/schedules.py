"""The tenant's periodic functions: one EventBridge rule each, at a fixed rate.

Rules rather than EventBridge Scheduler: one fixed rate per tenant needs neither time zones nor
one-off schedules, and a rule needs no extra role. Retries are bounded so a broken tick does not
pile up invocations: the next tick runs the work again anyway.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.tenant import TenantConfig


class Tick(Construct):
    """A rule invoking `function` every `every`, retried at most `retries` times within `max_age`."""

    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        function: lambda_.IFunction,
        description: str,
        every: Duration,
        retries: int,
        max_age: Duration,
    ) -> None:
        super().__init__(scope, cid)
        self.rule = events.Rule(self, "Rule", description=description, schedule=events.Schedule.rate(every))
        self.rule.add_target(targets.LambdaFunction(function, retry_attempts=retries, max_event_age=max_age))


class RetrainSchedule(Tick):
    """`retrain_check`: flag projects whose model is behind their runs."""

    def __init__(
        self, scope: Construct, cid: str, *, config: TenantConfig, function: lambda_.IFunction
    ) -> None:
        super().__init__(
            scope,
            cid,
            function=function,
            description=f"OptiLoop {config.tenant}: flag projects whose model is behind their runs",
            every=Duration.minutes(config.retrain_check_minutes),
            retries=2,
            max_age=Duration.minutes(30),
        )


MONITOR_TICK_MINUTES = 5
"""How often due model monitors are looked for. Each monitor keeps its own interval
(`schedule.every_minutes`, at least this in effect): the tick bounds how late one runs, and a tick
with nothing due reads one small index and returns."""


class MonitorSchedule(Tick):
    """`monitors`, which evaluates every model monitor that is due. A missed tick is made up by the
    next one (monitors are due until evaluated): no long retries."""

    def __init__(
        self, scope: Construct, cid: str, *, config: TenantConfig, function: lambda_.IFunction
    ) -> None:
        super().__init__(
            scope,
            cid,
            function=function,
            description=f"OptiLoop {config.tenant}: evaluate the model monitors that are due",
            every=Duration.minutes(MONITOR_TICK_MINUTES),
            retries=1,
            max_age=Duration.minutes(MONITOR_TICK_MINUTES),
        )


WEBHOOK_TICK_MINUTES = 1
"""How often due webhook deliveries are sent: the first attempt of an event is at most this late."""


class WebhookDispatchSchedule(Tick):
    """Every minute: send the due webhook deliveries and publish events to EventBridge
    (optiloop.webhooks.dispatch). A missed tick is made up by the next (deliveries stay due), so
    the rule does not retry for long."""

    def __init__(
        self, scope: Construct, cid: str, *, config: TenantConfig, function: lambda_.IFunction
    ) -> None:
        super().__init__(
            scope,
            cid,
            function=function,
            description=f"OptiLoop {config.tenant}: send due webhook deliveries, publish events",
            every=Duration.minutes(WEBHOOK_TICK_MINUTES),
            retries=1,
            max_age=Duration.minutes(2),
        )


class AuditDigestSchedule(Tick):
    """Every minute: seal the tenant's audit digest (optiloop.audit.digest), as CloudTrail seals its
    digest files. One missed tick only delays the next digest; the chain itself cannot miss one."""

    def __init__(
        self, scope: Construct, cid: str, *, config: TenantConfig, function: lambda_.IFunction
    ) -> None:
        super().__init__(
            scope,
            cid,
            function=function,
            description=f"OptiLoop {config.tenant}: seal the audit digest over every shard head",
            every=Duration.minutes(1),
            retries=1,
            max_age=Duration.minutes(5),
        )
