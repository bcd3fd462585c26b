"""tests:suggest — the use case. (Being built: strategies in optiloop.strategies.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from optiloop.errors import NotImplementedYet
from optiloop.testopt.deps import Deps


@dataclass
class DiversitySpec:
    method: str = "k_center"  # "k_center" | "dpp" | "none"
    min_distance: float = 0.0


@dataclass
class SuggestRequest:
    generator: str = "hybrid"
    batch_size: int = 20
    seed: int | None = None
    objectives: list[str] = field(default_factory=lambda: ["coverage_gain", "failure_prob", "cost"])
    objective_weights: list[float] | None = None
    diversity: DiversitySpec = field(default_factory=DiversitySpec)
    budget_cents: float | None = None


def suggest(deps: Deps, project_id: str, req: SuggestRequest, principal: str) -> dict[str, Any]:
    """Return the response body: {"tests":[{"id","params","score"}], "policy_version",
    "surrogate_version", "explanations":[{"id","rationale"}]}; persists the tests and an audit record."""
    raise NotImplementedYet("tests:suggest is being built")
