"""What an operator of one tenant looks at: a dashboard, its alarms, and an encrypted SNS topic.

Alarms page on symptoms users feel (slow suggestions, server errors) and on work silently piling up
(a non-empty dead-letter queue), not on every Lambda error: a 4xx storm from a misconfigured client
is on the dashboard, not in someone's inbox.

Business metrics come from the functions through Powertools' embedded metric format: namespace
`OptiLoop`, dimension `service` (the function's SERVICE, see functions/*/handler.py).

The prompt side adds no alarm of its own: an evaluation outliving API Gateway's 29 s, a provider
outage or a guardrail blocking output all reach clients as 5xx, which the error-rate alarm already
pages on; the dashboard shows which of them it was (generate latency, cost, blocks; eval durations
against the 29 s line).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra_cdk.tenant import TenantConfig

NAMESPACE = "OptiLoop"
SUGGEST_P95_MS = 500
GATEWAY_LIMIT_MS = 29_000  # API Gateway's integration timeout: an eval run above it was a 504
SERVER_ERROR_RATE = 0.01  # 1% of requests over 5 minutes
PERIOD = Duration.minutes(5)
SURROGATE_MIN_AUC = 0.6  # a registered failure surrogate ranking recent failures worse than this is stale


def business_metric(name: str, service: str, tenant: str, statistic: str = "Sum") -> cw.Metric:
    """A Powertools metric of one function. The dimension set must match what the function emits
    exactly (service, and the tenant the handlers add as a default dimension), or CloudWatch sees a
    different metric and the alarm never leaves INSUFFICIENT_DATA. The tenant dimension keeps two
    tenants deployed in one account from sharing a metric and an alarm."""
    return cw.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service, "tenant": tenant},
        statistic=statistic,
        period=PERIOD,
    )


class AlarmTopic(Construct):
    """Created before the workflow so its failure step can publish here too."""

    def __init__(self, scope: Construct, cid: str, *, config: TenantConfig, key: kms.IKey) -> None:
        super().__init__(scope, cid)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=f"OptiLoop {config.tenant} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        if config.alarm_email:
            self.topic.add_subscription(subs.EmailSubscription(config.alarm_email))


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        config: TenantConfig,
        api: apigw.RestApi,
        functions: Mapping[str, lambda_.IFunction],
        dlq: sqs.IQueue,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, cid)
        action = cw_actions.SnsAction(topic)

        latency = {
            p: api.metric_latency(statistic=p, period=PERIOD, label=f"API {p}") for p in ("p50", "p95", "p99")
        }
        suggest = {
            p: business_metric("SuggestLatency", "suggest", config.tenant, p).with_(label=f"suggest {p}")
            for p in ("p50", "p95", "p99")
        }
        errors_4xx = api.metric_client_error(period=PERIOD, statistic="Sum", label="4xx")
        errors_5xx = api.metric_server_error(period=PERIOD, statistic="Sum", label="5xx")
        requests = api.metric_count(period=PERIOD, statistic="Sum", label="requests")
        error_rate = cw.MathExpression(
            expression="IF(requests > 0, errors / requests, 0)",
            using_metrics={"errors": errors_5xx, "requests": requests},
            period=PERIOD,
            label="5xx rate",
        )
        dlq_depth = dlq.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic="Maximum"
        )

        self.suggest_p95 = cw.Alarm(
            self,
            "SuggestP95",
            alarm_description=f"{config.tenant}: suggest p95 above {SUGGEST_P95_MS} ms for 15 minutes",
            metric=business_metric(
                "SuggestLatency", "suggest", config.tenant, "p95"
            ),  # no label: the plain alarm form
            threshold=SUGGEST_P95_MS,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=3,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,  # no suggest calls is not slowness
        )
        self.server_errors = cw.Alarm(
            self,
            "ServerErrorRate",
            alarm_description=f"{config.tenant}: over {SERVER_ERROR_RATE:.0%} of API requests answered 5xx",
            metric=error_rate,
            threshold=SERVER_ERROR_RATE,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self.dlq_not_empty = cw.Alarm(
            self,
            "DeadLettersNotEmpty",
            alarm_description=f"{config.tenant}: bulk-ingest messages dead-lettered; inspect and redrive",
            metric=dlq_depth,
            threshold=0,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        # the registered failure surrogate on the runs it has not seen (suggest falls back to the
        # in-process model on its own; the alarm says a retrain is due)
        self.surrogate_auc = cw.Alarm(
            self,
            "SurrogateAccuracy",
            alarm_description=(
                f"{config.tenant}: a registered failure surrogate ranks recent failures below AUC "
                f"{SURROGATE_MIN_AUC} for an hour; retrain it (POST /v1/projects/{{id}}/policies:train)"
            ),
            metric=business_metric("SurrogateRecentAUC", "suggest", config.tenant, "Minimum"),
            threshold=SURROGATE_MIN_AUC,
            comparison_operator=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=12,
            datapoints_to_alarm=12,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,  # no registered model, nothing to judge
        )
        # an online experiment's reward stream drifted (a Page-Hinkley detector fired and an arm's
        # learner memory was restarted or discounted): someone should look at what changed
        self.decision_drift = cw.Alarm(
            self,
            "DecisionDrift",
            alarm_description=(
                f"{config.tenant}: a drift detector fired on an online experiment's rewards (audit "
                "experiment.drift_restart, webhook event experiment.drift names the experiment and variant)"
            ),
            metric=business_metric("DriftFired", "decisions", config.tenant, "Sum"),
            threshold=0,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self.alarms = (
            self.suggest_p95, self.server_errors, self.dlq_not_empty, self.surrogate_auc, self.decision_drift,
        )  # fmt: skip
        for alarm in self.alarms:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)

        def per_function(title: str, metric: str, statistic: str) -> cw.GraphWidget:
            return cw.GraphWidget(
                title=title,
                width=8,
                left=[
                    fn.metric(metric, statistic=statistic, period=PERIOD, label=key)
                    for key, fn in functions.items()
                ],
            )

        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=config.prefix,
            default_interval=Duration.hours(24),
            widgets=[
                [
                    cw.GraphWidget(title="API latency (ms)", width=8, left=list(latency.values())),
                    cw.GraphWidget(
                        title="API errors", width=8, left=[errors_4xx, errors_5xx], right=[requests]
                    ),
                    cw.GraphWidget(
                        title="Suggest latency (ms)",
                        width=8,
                        left=list(suggest.values()),
                        left_annotations=[cw.HorizontalAnnotation(value=SUGGEST_P95_MS, label="p95 budget")],
                    ),
                ],
                [
                    per_function("Lambda duration p95 (ms)", "Duration", "p95"),
                    per_function("Lambda errors", "Errors", "Sum"),
                    per_function("Lambda throttles", "Throttles", "Sum"),
                ],
                [
                    cw.GraphWidget(
                        title="Coverage growth (new buckets)",
                        width=8,
                        left=[
                            business_metric("CoverageNewBuckets", "ingest", config.tenant).with_(
                                label="HTTP ingest"
                            ),
                            business_metric("CoverageNewBuckets", "ingest_queue", config.tenant).with_(
                                label="queued ingest"
                            ),
                        ],
                    ),
                    cw.GraphWidget(
                        title="Failures found",
                        width=8,
                        left=[
                            business_metric("FailuresFound", "ingest", config.tenant).with_(
                                label="HTTP ingest"
                            ),
                            business_metric("FailuresFound", "ingest_queue", config.tenant).with_(
                                label="queued ingest"
                            ),
                            business_metric("NovelFailuresFound", "ingest", config.tenant).with_(
                                label="novel (HTTP)"
                            ),
                        ],
                    ),
                    cw.AlarmStatusWidget(title="Alarms", width=8, alarms=list(self.alarms)),
                ],
                [cw.SingleValueWidget(title="Dead-lettered ingest messages", width=8, metrics=[dlq_depth])],
                self._prompt_widgets(config.tenant),
                self._model_monitor_widgets(config.tenant),
                self._model_serving_widgets(config.tenant, functions),
            ],
        )

    @staticmethod
    def _model_serving_widgets(tenant: str, functions: Mapping[str, lambda_.IFunction]) -> list[cw.IWidget]:
        """The predict path (its Lambda's own metrics: it carries no Powertools, see
        functions/inference) and the suggestion engine's registered surrogate."""
        predict = functions["inference"]
        return [
            cw.GraphWidget(
                title="Predict latency (ms)",
                width=8,
                left=[
                    predict.metric_duration(statistic=p, period=PERIOD, label=f"predict {p}")
                    for p in ("p50", "p95", "p99")
                ],
            ),
            cw.GraphWidget(
                title="Predict requests and errors",
                width=8,
                left=[predict.metric_invocations(period=PERIOD, label="requests")],
                right=[predict.metric_errors(period=PERIOD, label="errors")],
            ),
            cw.GraphWidget(
                title="Registered surrogate: AUC on unseen runs",
                width=8,
                left=[
                    business_metric("SurrogateRecentAUC", "suggest", tenant, "Minimum").with_(
                        label="AUC (min)"
                    ),
                    business_metric("SurrogateInUse", "suggest", tenant, "Average").with_(
                        label="share in use"
                    ),
                ],
                left_annotations=[cw.HorizontalAnnotation(value=SURROGATE_MIN_AUC, label="alarm")],
            ),
        ]

    @staticmethod
    def _model_monitor_widgets(tenant: str) -> list[cw.IWidget]:
        """What the scheduled model monitors found: the largest drift statistic of each tick, alerts
        opened and resolved, and monitors in breach (functions/monitors' metrics)."""

        def mon(name: str, statistic: str = "Sum", label: str | None = None) -> cw.Metric:
            return business_metric(name, "monitors", tenant, statistic).with_(label=label or name)

        return [
            cw.GraphWidget(
                title="Model drift statistic (largest per tick)",
                width=8,
                left=[mon("ModelDriftStatistic", "Maximum", "drift (max)")],
            ),
            cw.GraphWidget(
                title="Model alerts",
                width=8,
                left=[
                    mon("ModelAlertsOpened", label="opened"),
                    mon("ModelAlertsResolved", label="resolved"),
                    mon("ModelMonitorsBreached", label="monitors in breach"),
                ],
            ),
            cw.GraphWidget(
                title="Model monitors evaluated",
                width=8,
                left=[
                    mon("ModelMonitorsEvaluated", label="evaluated"),
                    mon("ModelMonitorErrors", label="errors"),
                    mon("ModelRetrainRequested", label="retrain requests"),
                ],
            ),
        ]

    @staticmethod
    def _prompt_widgets(tenant: str) -> list[cw.IWidget]:
        """Generate's latency, spend and safety, and how long evaluations take against the 29 s line."""

        def gen(name: str, statistic: str = "Sum", label: str | None = None) -> cw.Metric:
            return business_metric(name, "generate", tenant, statistic).with_(label=label or name)

        return [
            cw.GraphWidget(
                title="Generate latency (ms)",
                width=6,
                left=[gen("GenerateLatency", p, f"generate {p}") for p in ("p50", "p95", "p99")],
            ),
            cw.GraphWidget(
                title="Generate cost (USD) and tokens",
                width=6,
                left=[gen("GenerateCostUsd", label="cost USD")],
                right=[gen("GenerateTokens", label="tokens")],
            ),
            cw.GraphWidget(
                title="Guardrail blocks and cache hits",
                width=6,
                left=[
                    gen("GuardrailBlocks", label="guardrail blocks"),
                    gen("GenerateCacheHits", label="cache hits"),
                ],
            ),
            cw.GraphWidget(
                title="Eval run duration (ms)",
                width=6,
                left=[
                    business_metric("EvalRunLatency", "evals", tenant, s).with_(label=f"eval run {s}")
                    for s in ("p50", "Maximum")
                ],
                left_annotations=[cw.HorizontalAnnotation(value=GATEWAY_LIMIT_MS, label="API Gateway limit")],
            ),
        ]
