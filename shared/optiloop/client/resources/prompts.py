"""Prompts: templates and versions, traces, the response cache, golden datasets and evaluations."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from optiloop.client.caller import It, J, N, Resource, S
from optiloop.client.request import Cursor, build, fields


class Prompts(Resource[J, S, N, It]):
    def create(self, project_id: str, name: str, description: str = "") -> J:
        body = {"name": name, "description": description}
        return self._call.json(build("prompts.create", {"project_id": project_id}, json=body))

    def list(self, project_id: str, *, after: str | None = None, limit: int | None = None) -> J:
        params = {"after": after, "limit": limit}
        return self._call.json(build("prompts.list", {"project_id": project_id}, params=params))

    def iter(self, project_id: str, *, page_size: int = 100) -> It:
        req = build("prompts.iter", {"project_id": project_id}, params={"limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))

    def get(self, prompt_id: str) -> J:
        return self._call.json(build("prompts.get", {"prompt_id": prompt_id}))

    def delete(self, prompt_id: str) -> N:
        """Soft delete (admins); a ConflictError while one of its versions is deployed."""
        return self._call.empty(build("prompts.delete", {"prompt_id": prompt_id}))

    def create_version(
        self,
        prompt_id: str,
        body: str,
        *,
        variables: Mapping[str, str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        notes: str | None = None,
        model: str | None = None,
        decoding: Mapping[str, Any] | None = None,
    ) -> J:
        """A new immutable version of the template `body` (sandboxed Jinja)."""
        payload = fields(
            body=body,
            variables=dict(variables) if variables is not None else None,
            defaults=dict(defaults) if defaults is not None else None,
            notes=notes,
            model=model,
            decoding=dict(decoding) if decoding is not None else None,
        )
        return self._call.json(build("prompts.create_version", {"prompt_id": prompt_id}, json=payload))

    def list_versions(self, prompt_id: str, *, after: int | None = None, limit: int | None = None) -> J:
        params = {"after": after, "limit": limit}
        return self._call.json(build("prompts.list_versions", {"prompt_id": prompt_id}, params=params))

    def iter_versions(self, prompt_id: str, *, page_size: int = 100) -> It:
        req = build("prompts.iter_versions", {"prompt_id": prompt_id}, params={"limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))

    def get_version(self, version_id: str) -> J:
        return self._call.json(build("prompts.get_version", {"version_id": version_id}))

    def diff(self, version_id: str, against: str) -> J:
        """Unified diff from `against` to `version_id`."""
        req = build("prompts.diff", {"version_id": version_id}, params={"against": against})
        return self._call.json(req)

    def submit_for_approval(self, version_id: str, comment: str = "") -> J:
        req = build("prompts.submit_for_approval", {"version_id": version_id}, json={"comment": comment})
        return self._call.json(req)

    def approve(self, version_id: str, comment: str = "") -> J:
        """Approve as this key's principal (four eyes: not the author)."""
        return self._call.json(
            build("prompts.approve", {"version_id": version_id}, json={"comment": comment})
        )

    def reject(self, version_id: str, comment: str) -> J:
        return self._call.json(build("prompts.reject", {"version_id": version_id}, json={"comment": comment}))


class Traces(Resource[J, S, N, It]):
    def get(self, trace_id: str) -> J:
        return self._call.json(build("traces.get", {"trace_id": trace_id}))

    def list(
        self,
        project_id: str,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int | None = None,
    ) -> J:
        """Newest first; continue with `after=next_after` (`before`: its deprecated name)."""
        params = {"after": after, "before": before, "limit": limit}
        return self._call.json(build("traces.list", {"project_id": project_id}, params=params))

    def iter(self, project_id: str, *, page_size: int = 100) -> It:
        req = build("traces.iter", {"project_id": project_id}, params={"limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))


class Cache(Resource[J, S, N, It]):
    def purge(self, project_id: str, *, prompt_version_id: str | None = None) -> J:
        """Drop cached generations of a project (or of one prompt version); `removed` counts them."""
        body = fields(project_id=project_id, prompt_version_id=prompt_version_id)
        return self._call.json(build("cache.purge", json=body))


class Datasets(Resource[J, S, N, It]):
    def create(self, project_id: str, name: str, description: str = "") -> J:
        body = {"project_id": project_id, "name": name, "description": description}
        return self._call.json(build("datasets.create", json=body))

    def list(self, project_id: str, *, limit: int | None = None, after: str | None = None) -> J:
        """One page, oldest first; continue with `after=next_after`."""
        params = {"limit": limit, "after": after}
        return self._call.json(build("datasets.list", {"project_id": project_id}, params=params))

    def get(self, dataset_id: str) -> J:
        return self._call.json(build("datasets.get", {"dataset_id": dataset_id}))

    def delete(self, dataset_id: str) -> N:
        """Soft delete of a golden set or a table (admins); a ConflictError while an experiment runs on it."""
        return self._call.empty(build("datasets.delete", {"dataset_id": dataset_id}))

    def add_examples(self, dataset_id: str, examples: Sequence[Mapping[str, Any]]) -> J:
        body = {"examples": [dict(e) for e in examples]}
        return self._call.json(build("datasets.add_examples", {"dataset_id": dataset_id}, json=body))

    def add_examples_jsonl(self, dataset_id: str, lines: bytes | str | Iterable[Mapping[str, Any]]) -> J:
        """Examples as JSON Lines: raw bytes/text of a .jsonl file, or objects to encode one a line."""
        if isinstance(lines, str):
            content = lines.encode()
        elif isinstance(lines, bytes):
            content = lines
        else:
            content = "".join(json.dumps(dict(e)) + "\n" for e in lines).encode()
        req = build(
            "datasets.add_examples_jsonl",
            {"dataset_id": dataset_id},
            content=content,
            headers={"Content-Type": "application/x-ndjson"},
        )
        return self._call.json(req)

    def list_examples(
        self,
        dataset_id: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> J:
        """A page of the examples, the `total` and `next_after`; `offset` is deprecated (use `after`)."""
        params = {"after": after, "limit": limit, "offset": offset}
        return self._call.json(build("datasets.list_examples", {"dataset_id": dataset_id}, params=params))

    def iter_examples(self, dataset_id: str, *, page_size: int = 1000) -> It:
        req = build("datasets.iter_examples", {"dataset_id": dataset_id}, params={"limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))


class Evals(Resource[J, S, N, It]):
    def run(
        self,
        prompt_version_id: str,
        dataset_id: str,
        *,
        metrics: Sequence[str] | None = None,
        **options: Any,
    ) -> J:
        """Evaluate a version on a golden set; `options`: provider, model, policy, judge, compare_to."""
        body = fields(
            prompt_version_id=prompt_version_id,
            dataset_id=dataset_id,
            metrics=list(metrics) if metrics is not None else None,
        )
        body.update(options)  # as given: compare_to=None means "compare with nothing"
        return self._call.json(build("evals.run", json=body))

    def get(self, eval_run_id: str) -> J:
        return self._call.json(build("evals.get", {"eval_run_id": eval_run_id}))

    def results(
        self,
        eval_run_id: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> J:
        """A page of the per-example results and `next_after`; `offset` is deprecated (use `after`)."""
        params = {"after": after, "limit": limit, "offset": offset}
        return self._call.json(build("evals.results", {"eval_run_id": eval_run_id}, params=params))

    def iter_results(self, eval_run_id: str, *, page_size: int = 1000) -> It:
        req = build("evals.iter_results", {"eval_run_id": eval_run_id}, params={"limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))
