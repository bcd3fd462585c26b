"""Every namespace of the client, assembled once for the sync and the async client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic

from optiloop.client.caller import Caller, It, J, N, S
from optiloop.client.request import build, fields
from optiloop.client.resources.automl import Experiments, Tables
from optiloop.client.resources.connectors import Connectors
from optiloop.client.resources.decisions import Decisions
from optiloop.client.resources.governance import Approvals, Policies
from optiloop.client.resources.models import Lineage, Models, TrainingJobs, Workflows
from optiloop.client.resources.platform import Audit, Auth, Keys
from optiloop.client.resources.prompts import Cache, Datasets, Evals, Prompts, Traces
from optiloop.client.resources.serving import Deployments, Inference, Monitoring
from optiloop.client.resources.testopt import Constraints, Coverage, Projects, Runs, Tests
from optiloop.client.resources.webhooks import Webhooks


class Namespaces(Generic[J, S, N, It]):
    """`client.projects`, `client.tests`... over one caller; `generate` and `health` are top-level."""

    def __init__(self, caller: Caller[J, S, N, It]) -> None:
        self._caller = caller
        # test optimisation
        self.projects = Projects(caller)
        self.constraints = Constraints(caller)
        self.tests = Tests(caller)
        self.runs = Runs(caller)
        self.coverage = Coverage(caller)
        # prompts
        self.prompts = Prompts(caller)
        self.traces = Traces(caller)
        self.cache = Cache(caller)
        self.datasets = Datasets(caller)
        self.evals = Evals(caller)
        # governance
        self.approvals = Approvals(caller)
        self.policies = Policies(caller)
        # models
        self.models = Models(caller)
        self.training_jobs = TrainingJobs(caller)
        self.lineage = Lineage(caller)
        self.workflows = Workflows(caller)
        self.deployments = Deployments(caller)
        self.inference = Inference(caller)
        self.monitoring = Monitoring(caller)
        # automl
        self.tables = Tables(caller)
        self.experiments = Experiments(caller)
        self.connectors = Connectors(caller)
        self.decisions = Decisions(caller)
        # platform
        self.keys = Keys(caller)
        self.auth = Auth(caller)
        self.audit = Audit(caller)
        self.webhooks = Webhooks(caller)

    def health(self) -> J:
        """Liveness (no key needed): `status` and the server's `version`."""
        return self._caller.json(build("health"))

    def generate(
        self,
        *,
        project_id: str | None = None,
        prompt_version_id: str | None = None,
        prompt: Mapping[str, Any] | None = None,
        variables: Mapping[str, Any] | None = None,
        schema: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> J:
        """One guarded, routed, cached and traced generation: a prompt version by id, or a deployed one
        by `prompt={"name", "label"}`; `options`: decoding, policy, provider, model, guardrails, cache.
        Not retried after it was sent (a provider call costs money)."""
        body = fields(
            project_id=project_id,
            prompt_version_id=prompt_version_id,
            prompt=dict(prompt) if prompt is not None else None,
            variables=dict(variables) if variables is not None else None,
            schema=dict(schema) if schema is not None else None,
            **options,
        )
        return self._caller.json(build("generate", json=body))
