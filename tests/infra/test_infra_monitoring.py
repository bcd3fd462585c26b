"""The tenant's dashboard, its alarms and the encrypted topic they notify."""

from __future__ import annotations

import json
from typing import Any

from cfn_fake import Resolver, logical_id_of


def dashboard(synth: Any, tenant: str = "acme") -> dict[str, Any]:
    [(_, board)] = synth.resources(tenant, "AWS::CloudWatch::Dashboard").items()
    assert board["Properties"]["DashboardName"] == f"optiloop-{tenant}"
    return json.loads(Resolver(synth.templates[tenant])(board["Properties"]["DashboardBody"]))


def test_dashboard_widgets(synth: Any) -> None:
    widgets = {w["properties"].get("title"): w["properties"] for w in dashboard(synth)["widgets"]}
    assert {
        "API latency (ms)",
        "API errors",
        "Suggest latency (ms)",
        "Lambda duration p95 (ms)",
        "Lambda errors",
        "Lambda throttles",
        "Coverage growth (new buckets)",
        "Failures found",
        "Alarms",
        "Dead-lettered ingest messages",
    } <= set(widgets)

    def stats(title: str) -> set[str]:
        return {m[-1]["stat"] for m in widgets[title]["metrics"]}

    assert stats("API latency (ms)") == {"p50", "p95", "p99"}
    assert stats("Suggest latency (ms)") == {"p50", "p95", "p99"}
    assert {m[1] for m in widgets["Suggest latency (ms)"]["metrics"]} == {"SuggestLatency"}
    assert {m[0] for m in widgets["Suggest latency (ms)"]["metrics"]} == {"OptiLoop"}
    assert {m[1] for m in widgets["API errors"]["metrics"]} == {"4XXError", "5XXError", "Count"}
    assert {m[1] for m in widgets["Coverage growth (new buckets)"]["metrics"]} == {"CoverageNewBuckets"}
    assert {"FailuresFound", "NovelFailuresFound"} == {m[1] for m in widgets["Failures found"]["metrics"]}
    # the platform's functions; CDK's own providers (the console's BucketDeployment) are not watched
    functions = len(
        [k for k in synth.resources("acme", "AWS::Lambda::Function") if not k.startswith("CustomCDK")]
    )
    for title, metric in (
        ("Lambda duration p95 (ms)", "Duration"),
        ("Lambda errors", "Errors"),
        ("Lambda throttles", "Throttles"),
    ):
        assert [m[1] for m in widgets[title]["metrics"]] == [metric] * functions, title


def alarms(synth: Any) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in synth.resources("acme", "AWS::CloudWatch::Alarm").items()}


def test_the_alarms_notify_the_encrypted_topic(synth: Any) -> None:
    found = alarms(synth)
    assert len(found) == 5
    [(topic_id, topic)] = synth.resources("acme", "AWS::SNS::Topic").items()
    assert logical_id_of(topic["Properties"]["KmsMasterKeyId"]).startswith("DataKey")
    for props in found.values():
        assert [logical_id_of(a) for a in props["AlarmActions"]] == [topic_id]
        assert [logical_id_of(a) for a in props["OKActions"]] == [topic_id]
        assert props["TreatMissingData"] == "notBreaching"
    [policy] = synth.resources("acme", "AWS::SNS::TopicPolicy").values()
    [deny] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_suggest_p95_alarm(synth: Any) -> None:
    [props] = [p for p in alarms(synth).values() if p.get("MetricName") == "SuggestLatency"]
    assert props["Namespace"] == "OptiLoop" and props["ExtendedStatistic"] == "p95"
    dims = sorted(props["Dimensions"], key=lambda d: d["Name"])
    assert dims == [{"Name": "service", "Value": "suggest"}, {"Name": "tenant", "Value": "acme"}]
    assert props["Threshold"] == 500 and props["ComparisonOperator"] == "GreaterThanThreshold"


def test_server_error_rate_alarm(synth: Any) -> None:
    [props] = [p for p in alarms(synth).values() if "Metrics" in p]
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in props["Metrics"] if "MetricStat" in m}
    assert names == {"5XXError", "Count"}
    [expr] = [m for m in props["Metrics"] if "Expression" in m]
    assert "errors / requests" in expr["Expression"] and props["Threshold"] == 0.01


def test_dead_letter_alarm(synth: Any) -> None:
    [props] = [
        p for p in alarms(synth).values() if p.get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    [dim] = props["Dimensions"]
    dlq = synth.templates["acme"]["Resources"][logical_id_of(dim["Value"])]
    assert dlq["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" not in dlq["Properties"]
    assert props["Threshold"] == 0 and props["ComparisonOperator"] == "GreaterThanThreshold"


def test_a_stale_registered_surrogate_raises_an_alarm(synth: Any) -> None:
    [props] = [p for p in alarms(synth).values() if p.get("MetricName") == "SurrogateRecentAUC"]
    assert props["ComparisonOperator"] == "LessThanThreshold" and props["Threshold"] == 0.6
    assert props["Statistic"] == "Minimum" and props["EvaluationPeriods"] == 12
    assert {d["Name"]: d["Value"] for d in props["Dimensions"]} == {"service": "suggest", "tenant": "acme"}


def test_a_drifting_online_experiment_raises_an_alarm(synth: Any) -> None:
    [props] = [p for p in alarms(synth).values() if p.get("MetricName") == "DriftFired"]
    assert props["Namespace"] == "OptiLoop" and props["Statistic"] == "Sum"
    assert props["ComparisonOperator"] == "GreaterThanThreshold" and props["Threshold"] == 0
    # the dimensions the decisions handler writes (functions/decisions/handler.py emf)
    assert {d["Name"]: d["Value"] for d in props["Dimensions"]} == {"service": "decisions", "tenant": "acme"}


def test_the_dashboard_shows_the_predict_path_and_the_registered_surrogate(synth: Any) -> None:
    widgets = {w["properties"].get("title"): w["properties"] for w in dashboard(synth)["widgets"]}
    predict = widgets["Predict latency (ms)"]["metrics"]
    assert {m[1] for m in predict} == {"Duration"} and {m[-1]["stat"] for m in predict} == {
        "p50",
        "p95",
        "p99",
    }
    surrogate = widgets["Registered surrogate: AUC on unseen runs"]["metrics"]
    assert {m[1] for m in surrogate} == {"SurrogateRecentAUC", "SurrogateInUse"}
