"""Test optimisation: projects, their constraints, suggest, ingest, coverage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from optiloop.client.caller import It, J, N, Resource, S
from optiloop.client.request import Cursor, build, fields

Objective = Literal["coverage_gain", "failure_prob", "cost"]


class Projects(Resource[J, S, N, It]):
    def create(self, name: str, description: str = "", *, budget_cents: float | None = None) -> J:
        """A project; its parameter space comes next (`constraints.add`)."""
        body = fields(name=name, description=description, budget_cents=budget_cents)
        return self._call.json(build("projects.create", json=body))

    def list(self, *, limit: int | None = None, after: str | None = None, after_id: str | None = None) -> J:
        """One page, oldest first: `items` and `next_after` (null on the last page) to pass back as
        `after`; `iter` walks them all. `after_id` is the deprecated name of `after`."""
        params = {"limit": limit, "after": after, "after_id": after_id}
        return self._call.json(build("projects.list", params=params))

    def iter(self, *, page_size: int = 100) -> It:
        """Every project the key may see, page by page as they are consumed."""
        req = build("projects.iter", params={"limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))

    def get(self, project_id: str) -> J:
        return self._call.json(build("projects.get", {"project_id": project_id}))

    def delete(self, project_id: str) -> N:
        """Soft delete (global admins); a ConflictError while anything of the project is deployed."""
        return self._call.empty(build("projects.delete", {"project_id": project_id}))

    def update(self, project_id: str, *, budget_cents: float | None) -> J:
        """Set the project's budget (None removes it)."""
        req = build("projects.update", {"project_id": project_id}, json={"budget_cents": budget_cents})
        return self._call.json(req)


class Constraints(Resource[J, S, N, It]):
    def add(
        self,
        project_id: str,
        json_schema: Mapping[str, Any],
        *,
        name: str = "base",
        type: Literal["hard", "soft"] = "hard",
        weight: float | None = None,
    ) -> J:
        """Add params and relations (the constraint language: README); a bad one is an
        InvalidInputError naming the position and suggesting a fix."""
        body = fields(name=name, type=type, weight=weight, json_schema=dict(json_schema))
        return self._call.json(build("constraints.add", {"project_id": project_id}, json=body))

    def list(self, project_id: str) -> J:
        return self._call.json(build("constraints.list", {"project_id": project_id}))

    def space(self, project_id: str) -> J:
        """The parameter space the constraints add up to, as the suggestion engine sees it."""
        return self._call.json(build("constraints.space", {"project_id": project_id}))


class Tests(Resource[J, S, N, It]):
    def suggest(
        self,
        project_id: str,
        *,
        batch_size: int | None = None,
        generator: str | None = None,
        seed: int | None = None,
        objectives: Sequence[Objective] | None = None,
        objective_weights: Sequence[float] | None = None,
        diversity: Mapping[str, Any] | None = None,
        budget_cents: float | None = None,
        pareto: bool | Mapping[str, Any] | None = None,
    ) -> J:
        """A batch of feasible tests (stored as pending). Not retried once sent: a resend after a lost
        answer would store a second batch. `pareto` (True, or `{"objectives", "select", "weights",
        "max_front"}`) adds the candidate pool's Pareto front to the answer."""
        body = _suggest_body(
            batch_size, generator, seed, objectives, objective_weights, diversity, budget_cents
        )
        if pareto is not None:
            body["pareto"] = pareto if isinstance(pareto, bool) else dict(pareto)
        return self._call.json(build("tests.suggest", {"project_id": project_id}, json=body))

    def suggest_stream(
        self,
        project_id: str,
        *,
        batch_size: int | None = None,
        generator: str | None = None,
        seed: int | None = None,
        objectives: Sequence[Objective] | None = None,
        objective_weights: Sequence[float] | None = None,
        diversity: Mapping[str, Any] | None = None,
        budget_cents: float | None = None,
    ) -> It:
        """The same as NDJSON, each line as it is planned: `{"test": ...}` lines, then `{"done": ...}`.
        An error after the stream began is raised as an APIError where it occurs."""
        body = _suggest_body(
            batch_size, generator, seed, objectives, objective_weights, diversity, budget_cents
        )
        body["stream"] = True
        return self._call.lines(build("tests.suggest_stream", {"project_id": project_id}, json=body))

    def prioritize(
        self,
        project_id: str,
        tests: Sequence[Mapping[str, Any]],
        *,
        objective: Literal["balanced", "failures", "coverage"] | None = None,
        budget_ms: float | None = None,
    ) -> J:
        """Order existing cases (`{"id", "params", "last_status"?, "duration_ms"?}`) for a time-boxed run."""
        body = fields(tests=[dict(t) for t in tests], objective=objective, budget_ms=budget_ms)
        return self._call.json(build("tests.prioritize", {"project_id": project_id}, json=body))

    def replay(
        self,
        project_id: str,
        policy: Literal["as_run", "prioritize"],
        budgets: Sequence[float],
        *,
        unit: Literal["tests", "ms"] | None = None,
        objective: Literal["balanced", "failures", "coverage"] | None = None,
    ) -> J:
        """The buckets and failures the logged runs reach by each budget in a policy's order."""
        body = fields(policy=policy, budgets=list(budgets), unit=unit, objective=objective)
        return self._call.json(build("tests.replay", {"project_id": project_id}, json=body))

    def list(
        self,
        project_id: str,
        *,
        status: Literal["pending", "ran"] | None = None,
        limit: int | None = None,
        after: str | None = None,
        after_seq: int | None = None,
    ) -> J:
        """One page: `items` and `next_after` to pass back as `after` (`after_seq`: its deprecated name)."""
        params = {"status": status, "limit": limit, "after": after, "after_seq": after_seq}
        return self._call.json(build("tests.list", {"project_id": project_id}, params=params))

    def iter(
        self, project_id: str, *, status: Literal["pending", "ran"] | None = None, page_size: int = 500
    ) -> It:
        """Every test of the project, oldest first."""
        req = build("tests.iter", {"project_id": project_id}, params={"status": status, "limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))


def _suggest_body(
    batch_size: int | None,
    generator: str | None,
    seed: int | None,
    objectives: Sequence[Objective] | None,
    objective_weights: Sequence[float] | None,
    diversity: Mapping[str, Any] | None,
    budget_cents: float | None,
) -> dict[str, Any]:
    return fields(
        batch_size=batch_size,
        generator=generator,
        seed=seed,
        objectives=list(objectives) if objectives is not None else None,
        objective_weights=list(objective_weights) if objective_weights is not None else None,
        diversity=dict(diversity) if diversity is not None else None,
        budget_cents=budget_cents,
    )


class Runs(Resource[J, S, N, It]):
    def ingest(self, project_id: str, runs: Sequence[Mapping[str, Any]]) -> J:
        """Report outcomes (at most 1,000 runs a request). Safe to resend: the server recognises a
        run it already has, so this one is retried on 5xx and timeouts too."""
        body = {"runs": [dict(r) for r in runs]}
        return self._call.json(build("runs.ingest", {"project_id": project_id}, json=body))


class Coverage(Resource[J, S, N, It]):
    def get(self, project_id: str) -> J:
        """Buckets, tests, failures and spend, as the coverage dashboards show them."""
        return self._call.json(build("coverage.get", {"project_id": project_id}, params={"format": "json"}))

    def csv(self, project_id: str) -> S:
        """The same report as CSV text."""
        req = build("coverage.csv", {"project_id": project_id}, params={"format": "csv"})
        return self._call.text(req)
