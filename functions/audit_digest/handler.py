"""EventBridge scheduled target (every minute): seal the tenant's next audit digest.

Reads every shard head, signs the digest with the tenant's audit-signing KMS key
(OPTILOOP_AUDIT_SIGNING_KEY) and writes it to the table and the Object-Lock audit bucket
(OPTILOOP_AUDIT_BUCKET); see optiloop.audit.digest. Nothing moved since the last digest: nothing
is written. Two overlapping invocations cannot fork the chain (digest n is a conditional put).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common.powertools import powertools
from functions.common.runtime import process_deps
from optiloop.audit.sealing import seal_now

SERVICE = "audit_digest"

tools = powertools(SERVICE)


@tools.logger.inject_lambda_context(correlation_id_path="id")
@tools.tracer.capture_lambda_handler(capture_response=False)
@tools.metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    d = seal_now(process_deps())
    tools.metrics.add_metric(name="AuditDigestsSealed", unit=MetricUnit.Count, value=1 if d else 0)
    if d is None:
        return {"sealed": False}
    tools.logger.info("audit digest sealed", extra={"n": d["n"], "heads": len(d["heads"]), "hash": d["hash"]})
    return {"sealed": True, "n": d["n"], "hash": d["hash"], "heads": len(d["heads"])}
