"""AutoML: tables (`POST /v1/datasets/ingest`, multipart) and experiments, shaped like the seed's
`client.experiments.create(...)`, `.run(...)`, `.leaderboard(...)`; online experiments (the same
resource) are `create_online(...)`, `start`, `pause`, `complete` and `archive`."""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Mapping
from typing import Any

from optiloop.client.caller import It, J, N, Resource, S
from optiloop.client.request import Cursor, build, fields


def multipart(form: Mapping[str, str], filename: str, data: bytes | str) -> tuple[bytes, str]:
    """A multipart/form-data body of text fields and one `file` part, and its Content-Type."""
    boundary = "optiloop-" + secrets.token_hex(16)
    chunks: list[bytes] = []
    for name, value in form.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    safe = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
    chunks.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    chunks.append(data.encode() if isinstance(data, str) else data)
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


class Tables(Resource[J, S, N, It]):
    def ingest(self, project_id: str, name: str, data: bytes | str, *, filename: str = "table.csv") -> J:
        """A tabular dataset from CSV, JSON Lines or Parquet (bytes, or text): typed, profiled and
        fingerprinted; the format is told by `filename`, else by the first bytes."""
        body, ctype = multipart({"project_id": project_id, "name": name}, filename, data)
        return self._call.json(build("tables.ingest", content=body, headers={"Content-Type": ctype}))

    def ingest_from(self, project_id: str, name: str, connector_id: str, **options: Any) -> J:
        """A table read through a connector: `path=` (folder, S3) or `query=` / `table=` (SQL), and
        optionally `target`, `expectations`, `pii`, `ordinal`, `max_rows`, `max_bytes`, `timeout_s`."""
        body = fields(project_id=project_id, name=name, connector_id=connector_id, **options)
        return self._call.json(build("tables.ingest_from", json=body))

    def refresh(self, dataset_id: str, *, name: str | None = None) -> J:
        """Read a connector dataset again with its stored spec (expectations, PII policy): a new
        dataset whose `previous_id` is `dataset_id`."""
        return self._call.json(build("tables.refresh", json=fields(refresh_of=dataset_id, name=name)))


class Experiments(Resource[J, S, N, It]):
    def create(
        self,
        *,
        project_id: str,
        task_type: str,
        dataset_id: str,
        target: str,
        objective: str | None = None,
        config: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> J:
        """An AutoML experiment with the seed's body; `{"experiment_id", "status", "leaderboard_url"}`.
        `objective` may be left out for forecasting (MASE by default); other tasks name it."""
        body = fields(
            project_id=project_id,
            task_type=task_type,
            objective=objective,
            dataset_id=dataset_id,
            target=target,
            config=dict(config) if config is not None else None,
            name=name,
        )
        return self._call.json(build("experiments.create", json=body))

    def list(self, *, project_id: str | None = None, after: str | None = None, limit: int | None = None) -> J:
        """A project's experiments (AutoML and online), oldest first, as summaries."""
        params = {"project_id": project_id, "after": after, "limit": limit}
        return self._call.json(build("experiments.list", params=params))

    def iter(self, *, project_id: str | None = None, page_size: int = 100) -> It:
        req = build("experiments.iter", params={"project_id": project_id, "limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))

    def get(self, experiment_id: str) -> J:
        return self._call.json(build("experiments.get", {"experiment_id": experiment_id}))

    def run(self, experiment_id: str) -> J:
        """Queue the search; poll `get` for `status` and `progress`."""
        return self._call.json(build("experiments.run", {"experiment_id": experiment_id}))

    def cancel(self, experiment_id: str) -> J:
        return self._call.json(build("experiments.cancel", {"experiment_id": experiment_id}))

    def resume(self, experiment_id: str) -> J:
        """Continue a cancelled, failed or interrupted search with the rest of its trial budget."""
        return self._call.json(build("experiments.resume", {"experiment_id": experiment_id}))

    def trials(self, experiment_id: str, *, after: int | None = None, limit: int | None = None) -> J:
        params = {"after": after, "limit": limit}
        return self._call.json(build("experiments.trials", {"experiment_id": experiment_id}, params=params))

    def leaderboard(self, experiment_id: str, *, limit: int | None = None) -> J:
        """Completed trials, best first: `{"trials": [{"trial_id", "model", "metrics"}, ...]}`."""
        req = build("experiments.leaderboard", {"experiment_id": experiment_id}, params={"limit": limit})
        return self._call.json(req)

    def report_plot(self, experiment_id: str, file: str) -> Any:
        """One PNG of the experiment report (`report.plots.files`), as bytes."""
        return self._call.content(
            build("experiments.report_plot", {"experiment_id": experiment_id, "file": file})
        )

    def create_online(
        self,
        *,
        project_id: str,
        name: str,
        type: str,
        variants: builtins.list[Mapping[str, Any]],
        **options: Any,
    ) -> J:
        """An online experiment (`type`: AB | Bandit | Contextual), in Draft; `options`: algorithm, metric,
        reward_weights, stopping, context, decision_ttl_days, seed (docs/decisions.md)."""
        body = fields(
            project_id=project_id, name=name, type=type, variants=[dict(v) for v in variants], **options
        )
        return self._call.json(build("experiments.create_online", json=body))

    def start(self, experiment_id: str) -> J:
        """Draft or Paused -> Running: decisions are served."""
        return self._call.json(build("experiments.start", {"experiment_id": experiment_id}))

    def pause(self, experiment_id: str) -> J:
        return self._call.json(build("experiments.pause", {"experiment_id": experiment_id}))

    def complete(self, experiment_id: str) -> J:
        """Running or Paused -> Completed: results are frozen (later rewards are refused)."""
        return self._call.json(build("experiments.complete", {"experiment_id": experiment_id}))

    def archive(self, experiment_id: str) -> J:
        return self._call.json(build("experiments.archive", {"experiment_id": experiment_id}))

    def promote(self, experiment_id: str, *, variant: str | None = None, comment: str | None = None) -> J:
        """Propose the winner (or `variant`) for approval; the experiment never switches traffic itself."""
        body = fields(variant=variant, comment=comment)
        return self._call.json(build("experiments.promote", {"experiment_id": experiment_id}, json=body))
