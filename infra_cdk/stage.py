"""One Stage per tenant: the unit `cdk deploy` ships and the boundary nothing is shared across."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stage
from constructs import Construct

from infra_cdk.stack import OptiLoopStack
from infra_cdk.tenant import TenantConfig


class OptiLoopStage(Stage):
    def __init__(self, scope: Construct, config: TenantConfig, **kwargs: Any) -> None:
        super().__init__(scope, config.tenant, **kwargs)
        self.config = config
        self.stack = OptiLoopStack(self, "OptiLoop", config=config)
