"""The documents of the webhooks facility and the event catalogue.

=================  ===============  ===================================  ==============================
kind               scope            sort                                 what
=================  ===============  ===================================  ==============================
webhook            project id       created_at|id                        a subscription (with its secret)
webhook_delivery   webhook id       created_at|id                        one event for one subscription:
                                                                         status, attempts (the log)
webhook_due        ``due``          next_attempt_at|id (id = delivery)    what the dispatcher sends next
webhook_bus        ``pending``      created_at|id                        an event for EventBridge
webhook_state      ``state``        id                                   "alerted" marks (accuracy_low)
=================  ===============  ===================================  ==============================

`webhook_due` is a tenant-wide index so that a dispatcher tick is one Query of the items due by now,
oldest first, however many projects and subscriptions there are; a delivery leaves it once delivered
or failed for good. Deliveries and bus events expire (`expires_at`) after RETENTION_S.
"""

from __future__ import annotations

from datetime import UTC, datetime

WEBHOOK = "webhook"
DELIVERY = "webhook_delivery"
DUE = "webhook_due"
DUE_SCOPE = "due"
BUS = "webhook_bus"
BUS_SCOPE = "pending"
STATE = "webhook_state"
STATE_SCOPE = "state"

RETENTION_S = 30 * 24 * 3600  # the delivery log keeps a month

FAILURE_NEW_MODE = "failure.new_mode"
BUDGET_THRESHOLD = "budget.threshold"
COVERAGE_PLATEAU = "coverage.plateau"
SURROGATE_ACCURACY_LOW = "surrogate.accuracy_low"
EXPERIMENT_DRIFT = "experiment.drift"
PING = "ping"

EVENT_TYPES: dict[str, str] = {
    FAILURE_NEW_MODE: "a failing run whose (severity, buckets) combination the project had not seen",
    BUDGET_THRESHOLD: "spend crossed 80% or 100% of the project budget (once each crossing)",
    COVERAGE_PLATEAU: "no new coverage bucket in the last `plateau_runs` runs (once per plateau)",
    SURROGATE_ACCURACY_LOW: "the registered surrogate's AUC on recent runs fell below "
    "`accuracy_threshold` (once until it recovers)",
    EXPERIMENT_DRIFT: "a drift detector fired on an online experiment's reward stream and the arm's learner "
    "memory was restarted or discounted (each firing)",
}
BUDGET_PERCENTS = (80, 100)
DEFAULT_PLATEAU_RUNS = 200
DEFAULT_ACCURACY_THRESHOLD = 0.6

PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"


def iso(epoch_s: float) -> str:
    """The platform's timestamp format (`optiloop.deps.utc_now`), which sorts as it orders."""
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
