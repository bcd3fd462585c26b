"""Business metrics shared by the HTTP and the SQS ingest, so both paths report the same names."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from functions.common.observe import WriteTally


def add_ingest_metrics(metrics: Metrics, tally: WriteTally) -> None:
    """Nothing is added when nothing was written: a batch of resends is no activity worth a datapoint."""
    if not tally.runs:
        return
    metrics.add_metric(name="RunsIngested", unit=MetricUnit.Count, value=tally.runs)
    metrics.add_metric(name="CoverageNewBuckets", unit=MetricUnit.Count, value=tally.new_buckets)
    metrics.add_metric(name="FailuresFound", unit=MetricUnit.Count, value=tally.failures)
    metrics.add_metric(name="NovelFailuresFound", unit=MetricUnit.Count, value=tally.novel_failures)
