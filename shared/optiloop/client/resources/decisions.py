"""Online decisions: `client.decisions.decide(...)` on the hot path, `.feedback(...)` when the outcome is
known (minutes or days later). Neither is retried after it was sent: a resent decide is a second
decision, a resent reward a 409."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiloop.client.caller import It, J, N, Resource, S
from optiloop.client.request import build, fields


class Decisions(Resource[J, S, N, It]):
    def decide(self, experiment_id: str, unit_id: str, *, context: Mapping[str, Any] | None = None) -> J:
        """`{"decision_id", "variant", "config", "propensity", ...}` from a Running experiment."""
        body = fields(
            experiment_id=experiment_id, unit_id=unit_id, context=dict(context) if context else None
        )
        return self._call.json(build("decisions.decide", json=body))

    def feedback(
        self,
        decision_id: str | None = None,
        *,
        reward: float | None = None,
        rewards: Mapping[str, float] | None = None,
        trace_id: str | None = None,
        observations: Mapping[str, float] | None = None,
        covariate: float | None = None,
    ) -> J:
        """The reward of a decision (by id, or by the generate `trace_id` that records it; a trace's cost
        and latency are joined): a number, or named metrics for the experiment's composite."""
        body = fields(
            decision_id=decision_id, reward=reward, rewards=dict(rewards) if rewards else None,
            trace_id=trace_id, observations=dict(observations) if observations else None, covariate=covariate,
        )  # fmt: skip
        return self._call.json(build("decisions.feedback", json=body))

    def dashboard(self, project_id: str, *, hours: int | None = None, bucket: str | None = None,
                  **filters: str) -> J:  # fmt: skip
        """The generate calls' series (latency, cost, success vs baseline, cache hits) and drift;
        filters: model, prompt_version_id, label."""
        params = fields(project_id=project_id, hours=hours, bucket=bucket, **filters)
        return self._call.json(build("decisions.dashboard", params=params))

    def evaluate_policy(self, experiment_id: str, policy: Mapping[str, Any]) -> J:
        """Off-policy estimates (IPS, SNIPS, DR) of a candidate on the experiment's logged decisions;
        `policy`: `{"variant": ...}`, `{"weights": {...}}` or `{"rules": [...], "default": ...}`."""
        return self._call.json(
            build(
                "decisions.evaluate_policy",
                path={"experiment_id": experiment_id},
                json={"policy": dict(policy)},
            )
        )
