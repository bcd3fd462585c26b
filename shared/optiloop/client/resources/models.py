"""Models: the registry (models, versions, stages and aliases, cards), training jobs, lineage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from optiloop.client.caller import It, J, N, Resource, S
from optiloop.client.request import Cursor, build, fields

Stage = Literal["staging", "production", "archived"]


class Models(Resource[J, S, N, It]):
    def create(
        self,
        name: str,
        *,
        project_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> J:
        """A model (a key bound to one project may leave out `project_id`)."""
        body = fields(
            project_id=project_id,
            name=name,
            description=description,
            tags=dict(tags) if tags is not None else None,
        )
        return self._call.json(build("models.create", json=body))

    def list(self, *, project_id: str | None = None, after: str | None = None, limit: int | None = None) -> J:
        params = {"project_id": project_id, "after": after, "limit": limit}
        return self._call.json(build("models.list", params=params))

    def iter(self, *, project_id: str | None = None, page_size: int = 100) -> It:
        req = build("models.iter", params={"project_id": project_id, "limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))

    def get(self, model_id: str) -> J:
        return self._call.json(build("models.get", {"model_id": model_id}))

    def create_version(
        self,
        model_id: str,
        *,
        training_job_id: str | None = None,
        artifact_base64: str | None = None,
        sha256: str | None = None,
        description: str | None = None,
        card: Mapping[str, Any] | None = None,
        trial_id: str | None = None,
    ) -> J:
        """An immutable version from a Completed training job, a completed AutoML trial or an uploaded
        artifact (exactly one)."""
        body = fields(
            training_job_id=training_job_id,
            trial_id=trial_id,
            artifact_base64=artifact_base64,
            sha256=sha256,
            description=description,
            card=dict(card) if card is not None else None,
        )
        return self._call.json(build("models.create_version", {"model_id": model_id}, json=body))

    def upload_version(
        self,
        model_id: str,
        artifact: bytes,
        *,
        sha256: str | None = None,
        description: str | None = None,
        intended_use: str | None = None,
        sensitive_column: str | None = None,
    ) -> J:
        """An immutable version from a raw model.tar.gz (checked against `sha256` when given)."""
        params = {
            "sha256": sha256,
            "description": description,
            "intended_use": intended_use,
            "sensitive_column": sensitive_column,
        }
        req = build(
            "models.upload_version",
            {"model_id": model_id},
            params=params,
            content=artifact,
            headers={"Content-Type": "application/gzip"},
        )
        return self._call.json(req)

    def list_versions(self, model_id: str, *, after: int | None = None, limit: int | None = None) -> J:
        params = {"after": after, "limit": limit}
        return self._call.json(build("models.list_versions", {"model_id": model_id}, params=params))

    def iter_versions(self, model_id: str, *, page_size: int = 100) -> It:
        req = build("models.iter_versions", {"model_id": model_id}, params={"limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))

    def get_version(self, model_id: str, version: str | int) -> J:
        """`version`: a number, an id (mv_...), a stage or alias (production, champion) or latest."""
        return self._call.json(build("models.get_version", {"model_id": model_id, "version": version}))

    def card(self, model_id: str, version: str | int) -> J:
        """The model card as JSON."""
        return self._call.json(build("models.card", {"model_id": model_id, "version": version}))

    def card_markdown(self, model_id: str, version: str | int) -> S:
        """The model card as Markdown."""
        req = build(
            "models.card_markdown",
            {"model_id": model_id, "version": version},
            headers={"Accept": "text/markdown"},
        )
        return self._call.text(req)

    def card_plot(self, model_id: str, version: str | int, file: str) -> Any:
        """A plot of the card (an AutoML winner's report PNG), as bytes."""
        return self._call.content(
            build("models.card_plot", {"model_id": model_id, "version": version, "file": file})
        )

    def promote(
        self,
        model_id: str,
        version: str | int,
        *,
        stage: Stage | None = None,
        alias: str | None = None,
        comment: str | None = None,
    ) -> J:
        """Move a stage (production takes only an Approved version) or a user alias to a version."""
        body = fields(stage=stage, alias=alias, comment=comment)
        req = build("models.promote", {"model_id": model_id, "version": version}, json=body)
        return self._call.json(req)

    def rollback(
        self,
        model_id: str,
        *,
        stage: Literal["staging", "production"] | None = None,
        alias: str | None = None,
        to_version: str | int | None = None,
        comment: str | None = None,
    ) -> J:
        """Back to the previous holder of the stage or alias (or to `to_version`)."""
        body = fields(stage=stage, alias=alias, to_version=to_version, comment=comment)
        return self._call.json(build("models.rollback", {"model_id": model_id}, json=body))

    def history(self, model_id: str, *, name: str | None = None, limit: int | None = None) -> J:
        """Which version held which stage or alias when, oldest first."""
        params = {"name": name, "limit": limit}
        return self._call.json(build("models.history", {"model_id": model_id}, params=params))


class TrainingJobs(Resource[J, S, N, It]):
    def create(
        self,
        project_id: str,
        entry_point: str,
        *,
        hyperparameters: Mapping[str, str] | None = None,
        inputs: Mapping[str, Mapping[str, str]] | None = None,
        backend: Literal["local", "sagemaker"] | None = None,
        instance_type: str | None = None,
        max_runtime_s: int | None = None,
    ) -> J:
        """Start `training_jobs/<entry_point>/train.py` on the deployment's backend."""
        body = fields(
            project_id=project_id,
            entry_point=entry_point,
            hyperparameters=dict(hyperparameters) if hyperparameters is not None else None,
            inputs={k: dict(v) for k, v in inputs.items()} if inputs is not None else None,
            backend=backend,
            instance_type=instance_type,
            max_runtime_s=max_runtime_s,
        )
        return self._call.json(build("training_jobs.create", json=body))

    def get(self, job_id: str) -> J:
        """The job, as the backend reports it now (poll this to learn that it ended)."""
        return self._call.json(build("training_jobs.get", {"job_id": job_id}))

    def list(self, project_id: str, *, after: str | None = None, limit: int | None = None) -> J:
        params = {"after": after, "limit": limit}
        return self._call.json(build("training_jobs.list", {"project_id": project_id}, params=params))

    def iter(self, project_id: str, *, page_size: int = 100) -> It:
        req = build("training_jobs.iter", {"project_id": project_id}, params={"limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))

    def stop(self, job_id: str) -> J:
        return self._call.json(build("training_jobs.stop", {"job_id": job_id}))

    def logs(self, job_id: str, *, since: int | None = None, limit: int | None = None) -> J:
        """Log lines after the first `since`; continue with `since=next_since` until `complete`."""
        params = {"since": since, "limit": limit}
        return self._call.json(build("training_jobs.logs", {"job_id": job_id}, params=params))


class Lineage(Resource[J, S, N, It]):
    def get(self, entity_type: str, entity_id: str, *, depth: int | None = None) -> J:
        """What the entity was made from and what was made from it, `depth` hops each way."""
        req = build(
            "lineage.get", {"entity_type": entity_type, "entity_id": entity_id}, params={"depth": depth}
        )
        return self._call.json(req)


class Workflows(Resource[J, S, N, It]):
    """Experiment workflows: train -> evaluate -> register -> (approve) -> deploy, in the background."""

    def start(self, project_id: str, entry_point: str, **spec: Any) -> J:
        """Start one (202: poll `get`); `spec`: hyperparameters, inputs, model, evaluation, deploy..."""
        body = {"project_id": project_id, "entry_point": entry_point, **spec}
        return self._call.json(build("workflows.start", json=body))

    def get(self, execution_id: str) -> J:
        """Where the execution stands, step by step (attempts, retries, errors)."""
        return self._call.json(build("workflows.get", {"execution_id": execution_id}))

    def list(self, project_id: str, *, after: str | None = None, limit: int | None = None) -> J:
        """The project's executions, newest first; continue with `after=next_after`."""
        params = {"after": after, "limit": limit}
        return self._call.json(build("workflows.list", {"project_id": project_id}, params=params))

    def iter(self, project_id: str, *, page_size: int = 50) -> It:
        req = build("workflows.iter", {"project_id": project_id}, params={"limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))
