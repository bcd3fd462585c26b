"""Where alerts go besides the store: a notifier port (the tenant's alarm SNS topic on AWS).

`Deps.notifier` is None locally (the alert documents and the audit log are the record) and an
`SnsNotifier` (`optiloop.models.monitoring.sns`, wired by `optiloop.runtime` from
OPTILOOP_ALARM_TOPIC_ARN) on AWS. Publishing is best effort: a failed publish is logged and noted
on the evaluation's result, never a failed evaluation — the alert is already recorded, and the
next evaluation must still run.

The CloudWatch side is the scheduled function's metrics (functions/monitors: drift statistic,
alerts opened/open) in Powertools' embedded metric format, which the tenant dashboard graphs.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from optiloop.deps import Deps
from optiloop.models.monitoring.records import Alert

log = logging.getLogger("optiloop.models.monitoring")


class Notifier(Protocol):
    def publish(self, subject: str, message: str, attributes: dict[str, str]) -> None: ...


def alert_message(alert: Alert, event: str) -> tuple[str, str, dict[str, str]]:
    """(subject, JSON body, message attributes) of one alert event; subjects stay under SNS's 100."""
    subject = f"OptiLoop model alert {event}: {alert.severity} on {alert.deployment_id}"[:100]
    body = json.dumps(
        {
            "event": f"alert_{event}",
            "alert_id": alert.id,
            "monitor_id": alert.monitor_id,
            "deployment_id": alert.deployment_id,
            "project_id": alert.project_id,
            "severity": alert.severity,
            "status": alert.status,
            "message": alert.message,
            "metric": alert.metric,
            "value": alert.value,
            "threshold": alert.threshold,
            "opened_at": alert.opened_at,
            "resolved_at": alert.resolved_at,
        },
        separators=(",", ":"),
    )
    return subject, body, {"severity": alert.severity, "event": event, "source": "optiloop.monitoring"}


def send(deps: Deps, alert: Alert, event: str) -> bool | None:
    """Publish an alert event; True sent, False failed (logged), None no notifier configured."""
    notifier: Notifier | None = getattr(deps, "notifier", None)
    if notifier is None:
        return None
    subject, body, attributes = alert_message(alert, event)
    try:
        notifier.publish(subject, body, attributes)
    except Exception as e:
        log.warning("alert %s: publishing the %s event failed: %s", alert.id, event, e)
        return False
    return True


def describe(value: Any) -> str:  # pragma: no cover - tiny helper for logs
    return json.dumps(value, default=str)[:500]
