"""Deployments (prompt and model versions), inference and model monitoring."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from optiloop.client.caller import It, J, N, Resource, S
from optiloop.client.request import Cursor, build, fields


class Deployments(Resource[J, S, N, It]):
    def deploy_prompt(
        self, prompt_version_id: str, environment: str, *, overrides: Mapping[str, Any] | None = None
    ) -> J:
        """Point an environment (dev, staging, prod) at a prompt version; prod needs an approved one."""
        body = fields(
            prompt_version_id=prompt_version_id,
            environment=environment,
            overrides=dict(overrides) if overrides is not None else None,
        )
        return self._call.json(build("deployments.deploy_prompt", json=body))

    def deploy_model(
        self,
        model_version_id: str,
        environment: str,
        *,
        strategy: Mapping[str, Any] | None = None,
        slos: Mapping[str, Any] | None = None,
        capture_rate: float | None = None,
        instance_type: str | None = None,
    ) -> J:
        """Serve a model version (staging, production) with a strategy (canary, blue_green, shadow)."""
        body = fields(
            model_version_id=model_version_id,
            environment=environment,
            strategy=dict(strategy) if strategy is not None else None,
            slos=dict(slos) if slos is not None else None,
            capture_rate=capture_rate,
            instance_type=instance_type,
        )
        return self._call.json(build("deployments.deploy_model", json=body))

    def rollback_prompt(self, prompt_id: str, environment: str, *, to_version_id: str | None = None) -> J:
        """Point a prompt's environment back at its previous (or a named) version."""
        body = fields(prompt_id=prompt_id, environment=environment, to_version_id=to_version_id)
        return self._call.json(build("deployments.rollback_prompt", json=body))

    def list(self, project_id: str, *, after: str | None = None, limit: int | None = None) -> J:
        """One page of a project's prompt and model deployments, oldest first, each with its `type`."""
        params = {"after": after, "limit": limit}
        return self._call.json(build("deployments.list", {"project_id": project_id}, params=params))

    def iter(self, project_id: str, *, page_size: int = 100) -> It:
        """Every deployment of the project, page after page as it is consumed."""
        req = build("deployments.iter", {"project_id": project_id}, params={"limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))

    def get(self, deployment_id: str) -> J:
        return self._call.json(build("deployments.get", {"deployment_id": deployment_id}))

    def undeploy(self, deployment_id: str, reason: str = "") -> N:
        """Take a deployment down (`<prompt id>:<environment>` or `dep_...`); prod/production: admins."""
        path = {"deployment_id": deployment_id}
        req = build("deployments.undeploy", path, params={"reason": reason or None})
        return self._call.empty(req)

    def promote(self, deployment_id: str) -> J:
        """The candidate (canary, standby, shadow) becomes the stable version."""
        return self._call.json(build("deployments.promote", {"deployment_id": deployment_id}))

    def rollback(self, deployment_id: str, reason: str = "") -> J:
        """Drop the candidate; with none, return to the previous stable version."""
        req = build("deployments.rollback", {"deployment_id": deployment_id}, json={"reason": reason})
        return self._call.json(req)

    def metrics(self, deployment_id: str) -> J:
        """Requests, errors and latency percentiles per variant over 5 minutes, an hour and a day."""
        return self._call.json(build("deployments.metrics", {"deployment_id": deployment_id}))

    def start_batch(self, deployment_id: str, dataset_id: str) -> J:
        """Score every example of a stored dataset with the stable version (runs in the background)."""
        req = build(
            "deployments.start_batch", {"deployment_id": deployment_id}, json={"dataset_id": dataset_id}
        )
        return self._call.json(req)

    def get_batch(self, deployment_id: str, job_id: str) -> J:
        req = build("deployments.get_batch", {"deployment_id": deployment_id, "job_id": job_id})
        return self._call.json(req)

    def feedback(self, deployment_id: str, labels: Sequence[Mapping[str, Any]]) -> J:
        """Ground truth for served predictions: `{"request_id", "index"?, "label"}` each."""
        body = {"labels": [dict(x) for x in labels]}
        return self._call.json(build("deployments.feedback", {"deployment_id": deployment_id}, json=body))


class Inference(Resource[J, S, N, It]):
    def predict(self, deployment_id: str, instances: Sequence[Any], *, key: str | None = None) -> J:
        """Predictions of the deployment's stable or canary version; `key` makes the split sticky.
        Not retried after it was sent: each call is counted in the serving metrics."""
        body = fields(instances=list(instances), key=key)
        return self._call.json(build("inference.predict", {"deployment_id": deployment_id}, json=body))


class Monitoring(Resource[J, S, N, It]):
    def create_monitor(
        self,
        deployment_id: str,
        type: Literal["data_drift", "prediction_drift", "performance"],
        threshold: float,
        **options: Any,
    ) -> J:
        """A monitor; `options`: features, metric, window, schedule, severity, retrain, reference."""
        body = {"type": type, "threshold": threshold, **options}
        return self._call.json(
            build("monitoring.create_monitor", {"deployment_id": deployment_id}, json=body)
        )

    def list_monitors(self, deployment_id: str) -> J:
        return self._call.json(build("monitoring.list_monitors", {"deployment_id": deployment_id}))

    def get_monitor(self, monitor_id: str, *, runs: int | None = None) -> J:
        """The monitor and its `runs` most recent runs, newest first."""
        req = build("monitoring.get_monitor", {"monitor_id": monitor_id}, params={"runs": runs})
        return self._call.json(req)

    def run_monitor(self, monitor_id: str) -> J:
        """Evaluate it now."""
        return self._call.json(build("monitoring.run_monitor", {"monitor_id": monitor_id}))

    def list_alerts(self, deployment_id: str, *, status: str | None = None, limit: int | None = None) -> J:
        """`status`: open, acknowledged or resolved."""
        params = {"status": status, "limit": limit}
        return self._call.json(
            build("monitoring.list_alerts", {"deployment_id": deployment_id}, params=params)
        )

    def acknowledge_alert(self, deployment_id: str, alert_id: str, comment: str = "") -> J:
        req = build(
            "monitoring.acknowledge_alert",
            {"deployment_id": deployment_id, "alert_id": alert_id},
            json={"comment": comment},
        )
        return self._call.json(req)
