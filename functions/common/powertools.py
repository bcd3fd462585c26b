"""One way to set up Powertools per function, so every Lambda logs, traces and counts alike.

The core never imports Powertools: handlers observe it (responses, write tallies) and report here.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

from aws_lambda_powertools import Logger, Metrics, Tracer

NAMESPACE = "OptiLoop"

# Only the AWS SDK is patched: DynamoDB/S3 calls are the latency worth tracing, and patching
# everything (the default) would import and wrap libraries the handlers never call, at cold start.
TRACED_MODULES = ("botocore",)

# Read-only functions legitimately add no business metric; Powertools would warn on each such flush.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


@dataclass(frozen=True)
class Tools:
    service: str
    logger: Logger
    tracer: Tracer
    metrics: Metrics


def powertools(service: str) -> Tools:
    """Logger, Tracer and Metrics for one function; the service name is also the metrics dimension.

    The tracer stays off where POWERTOOLS_TRACE_DISABLED is set (tests, local runs) and never records
    responses: they can carry a freshly minted API key, which must not end up in X-Ray.
    """
    metrics = Metrics(namespace=NAMESPACE, service=service)
    tenant = os.environ.get("OPTILOOP_TENANT")
    if tenant:  # tenants may share an account: their metrics (and alarms) must not mix
        metrics.set_default_dimensions(tenant=tenant)
    return Tools(
        service=service,
        logger=Logger(service=service),
        tracer=Tracer(service=service, patch_modules=TRACED_MODULES),
        metrics=metrics,
    )
