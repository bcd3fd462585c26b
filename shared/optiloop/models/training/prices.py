"""Instance types a job may ask for, what an hour of each costs, and a job's cost.

List prices of SageMaker training instances (on-demand, us-east-1, USD per hour, 2024). They are
an estimate for comparing jobs, not a bill: other regions differ by up to ~30% and Savings Plans
apply. `OPTILOOP_TRAINING_PRICES` (a JSON object of instance type -> USD/hour) replaces entries
or adds types. Local jobs run on the platform's own machine: instance type `local`, priced at
`OPTILOOP_LOCAL_TRAINING_USD_PER_HOUR` (default 0: the machine is paid for anyway).
"""

from __future__ import annotations

import json
import os

LOCAL = "local"
SAGEMAKER_PRICES: dict[str, float] = {
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.23,
    "ml.m5.2xlarge": 0.461,
    "ml.m5.4xlarge": 0.922,
    "ml.c5.xlarge": 0.204,
    "ml.c5.2xlarge": 0.408,
    "ml.c5.4xlarge": 0.816,
    "ml.g4dn.xlarge": 0.736,
    "ml.g4dn.2xlarge": 1.053,
    "ml.g5.xlarge": 1.408,
    "ml.g5.2xlarge": 1.515,
    "ml.p3.2xlarge": 3.825,
}
GPU_FAMILIES: tuple[str, ...] = ("ml.g4dn.", "ml.g5.", "ml.p3.", "ml.p4d.", "ml.p5.")
DEFAULT_INSTANCE = "ml.m5.large"


def is_gpu(instance_type: str) -> bool:
    return instance_type.startswith(GPU_FAMILIES)


def price_table() -> dict[str, float]:
    table = dict(SAGEMAKER_PRICES)
    raw = os.environ.get("OPTILOOP_TRAINING_PRICES")
    if raw:
        extra = json.loads(raw)
        if not isinstance(extra, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in extra.values()
        ):
            raise ValueError("OPTILOOP_TRAINING_PRICES must be a JSON object of instance type -> USD/hour")
        table.update({str(k): float(v) for k, v in extra.items()})
    table[LOCAL] = float(os.environ.get("OPTILOOP_LOCAL_TRAINING_USD_PER_HOUR") or 0.0)
    return table


def hourly_price(instance_type: str) -> float:
    return price_table().get(instance_type, 0.0)


def cost_usd(billable_seconds: float | None, usd_per_hour: float) -> float | None:
    if billable_seconds is None:
        return None
    return round(billable_seconds / 3600.0 * usd_per_hour, 6)
