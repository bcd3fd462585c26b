from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from optiloop.api.models.common import Cents, Id, RequestModel

Objective = Literal["coverage_gain", "failure_prob", "cost"]
OBJECTIVES_ALL: tuple[Objective, ...] = ("coverage_gain", "failure_prob", "cost")


class DiversityIn(RequestModel):
    method: Literal["k_center", "dpp", "none"] = Field(
        "k_center",
        description="How the batch is spread out: greedy k-center, a determinantal point process, or "
        "by score alone.",
    )
    # Euclidean distance in the unit cube divided by sqrt(d): 0 = identical, 1 = opposite corners
    min_distance: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        0.0,
        description="No two tests closer than this: distance in the unit cube over sqrt(d), 0 identical, "
        "1 opposite corners.",
    )


ParetoObjective = Literal["coverage_gain", "failure_prob", "cost", "duration_ms", "flakiness"]
PARETO_DEFAULT: tuple[ParetoObjective, ...] = ("coverage_gain", "failure_prob", "duration_ms", "flakiness")


class ParetoIn(RequestModel):
    objectives: Annotated[list[ParetoObjective], Field(min_length=2, max_length=5)] = Field(
        default_factory=lambda: list(PARETO_DEFAULT),
        description="What the front trades off, each once: coverage_gain (maximised), failure_prob "
        "(maximised), cost (predicted cents, minimised), duration_ms (predicted from the nearest logged "
        "runs, minimised), flakiness (predicted flake rate from nearby params that were run more than "
        "once, minimised).",
    )
    select: Literal["none", "crowding", "scalarise"] = Field(
        default="none",
        description="How the batch is chosen. none: as without `pareto` (the front is reported beside "
        "it); crowding: whole fronts in rank order, the last one cut by crowding distance (NSGA-II); "
        "scalarise: whole fronts in rank order, each ordered by the weighted sum of its objectives.",
    )
    weights: (
        Annotated[
            list[Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]],
            Field(min_length=2, max_length=5),
        ]
        | None
    ) = Field(
        default=None,
        description="select scalarise only: one weight per objective, in the order of `objectives`, "
        "applied to each objective scaled to [0, 1] over the pool (default: equal weights).",
    )
    max_front: Annotated[int, Field(ge=1, le=500)] = Field(
        default=100,
        description="List at most this many front members (its extremes and sparsest stretches first).",
    )

    @field_validator("objectives")
    @classmethod
    def _each_once(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("each objective may appear once")
        return v

    @field_validator("weights")
    @classmethod
    def _one_per_objective(cls, v: list[float] | None, info: ValidationInfo) -> list[float] | None:
        if v is None:
            return v
        if info.data.get("select") != "scalarise":
            raise ValueError("weights apply only with select 'scalarise'")
        objectives = info.data.get("objectives")
        if objectives is not None and len(v) != len(objectives):
            raise ValueError(f"needs one weight per objective ({len(objectives)}), got {len(v)}")
        if not any(w > 0 for w in v):
            raise ValueError("at least one weight must be > 0")
        return v


class SuggestIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"batch_size": 20},
                {
                    "generator": "bo",
                    "batch_size": 50,
                    "seed": 7,
                    "objectives": ["failure_prob", "coverage_gain"],
                    "objective_weights": [0.7, 0.3],
                    "diversity": {"method": "dpp", "min_distance": 0.05},
                    "budget_cents": 500,
                },
            ]
        }
    )

    generator: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$")] = Field(
        default="hybrid",
        description="random, qmc, coverage, bo, hybrid (default), active (active learning: where the "
        "surrogate committee disagrees most), or the name of an installed generator "
        "plug-in (entry point group optiloop.generators); an unknown name is a 422 listing the known ones.",
    )
    batch_size: Annotated[int, Field(ge=1, le=500)] = Field(
        20, description="How many tests to suggest (fewer when the budget or the space runs out)."
    )
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = Field(
        None,
        description="Makes the batch reproducible on the same history (null: random; the answer says it).",
    )
    objectives: Annotated[list[Objective], Field(min_length=1, max_length=3)] = Field(
        default_factory=lambda: list(OBJECTIVES_ALL),
        description="What a test is scored on, each once: coverage_gain and failure_prob (maximised), "
        "cost (predicted cents, minimised).",
    )
    objective_weights: list[Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]] | None = Field(
        None,
        description="One weight per objective, in order, normalised to sum 1 (null: coverage_gain 0.5, "
        "failure_prob 0.4, cost 0.1).",
    )
    diversity: DiversityIn = Field(
        default_factory=DiversityIn,
        description="How the batch is kept apart (default: k_center, no minimum).",
    )
    budget_cents: Cents | None = Field(
        None,
        description="The batch's predicted cost stays within this and within what is left of the project "
        "budget (null: the project budget only).",
    )
    stream: bool = Field(
        default=False,
        description="Answer NDJSON (application/x-ndjson): one {'test': ...} line per test as it is "
        "planned and stored, in chunks of 25, then one {'done': {...}} summary line.",
    )

    pareto: ParetoIn | None = Field(
        default=None,
        description="Also return the Pareto front of the candidate pool (every operator's feasible, new "
        "candidates) over these objectives, with each member's values, crowding distance, and test id if "
        "it is in the batch; `select` takes the batch from the fronts. `true` asks for the defaults, "
        "`false` or null for none. Not with stream.",
    )

    @field_validator("pareto", mode="before")
    @classmethod
    def _pareto_shorthand(cls, v: Any) -> Any:
        if v is True:
            return {}
        return None if v is False else v

    @field_validator("pareto")
    @classmethod
    def _not_streamed(cls, v: ParetoIn | None, info: ValidationInfo) -> ParetoIn | None:
        if v is not None and info.data.get("stream"):
            raise ValueError("not available with stream: true (one front per chunk is another question)")
        return v

    @field_validator("generator")
    @classmethod
    def _known_generator(cls, v: str) -> str:
        from optiloop.testopt.strategies.generators import generators  # plug-ins load on first use

        known = generators()
        if v not in known:
            raise ValueError(f"unknown generator {v!r}; one of {sorted(known)}")
        return v

    @field_validator("objectives")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("each objective may appear once")
        return v

    @field_validator("objective_weights")
    @classmethod
    def _one_per_objective(cls, v: list[float] | None, info: ValidationInfo) -> list[float] | None:
        objectives = info.data.get("objectives")
        if v is None or objectives is None:
            return v
        if len(v) != len(objectives):
            raise ValueError(f"needs one weight per objective ({len(objectives)}), got {len(v)}")
        if not any(w > 0 for w in v):
            raise ValueError("at least one weight must be > 0")
        return v


class CaseIn(RequestModel):
    id: Id = Field(description="Your id for the test case (a test name, a file::function path).")
    params: dict[str, Any] = Field(description="The case's parameters, named as in the project's space.")
    last_status: Literal["pass", "fail", "skipped"] | None = Field(
        default=None,
        description="How it ended last time, if known: a recent failure keeps it near the front.",
    )
    duration_ms: Annotated[float, Field(ge=0, le=1e10, allow_inf_nan=False)] | None = Field(
        default=None, description="How long it took last time; the order is by value per unit of time."
    )


class PrioritizeIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tests": [
                        {
                            "id": "test_login[eu]",
                            "params": {"region": "eu", "retries": 2},
                            "duration_ms": 1200,
                        },
                        {
                            "id": "test_login[us]",
                            "params": {"region": "us", "retries": 0},
                            "last_status": "fail",
                        },
                    ],
                    "objective": "failures",
                    "budget_ms": 60000,
                }
            ]
        }
    )

    tests: Annotated[list[CaseIn], Field(min_length=1, max_length=10_000)] = Field(
        description="The candidate test cases (1-10,000), each with its parameters."
    )
    objective: Literal["balanced", "failures", "coverage"] = Field(
        "balanced",
        description="Weight of failure probability vs new coverage: balanced 0.5/0.5, failures 0.9/0.1, "
        "coverage 0.1/0.9.",
    )
    budget_ms: Annotated[float, Field(gt=0, le=1e10, allow_inf_nan=False)] | None = Field(
        default=None, description="Return only the cases that fit this time box (in the order to run them)."
    )


class ReplayIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"policy": "prioritize", "budgets": [10, 50, 100], "unit": "tests"}]}
    )

    policy: Literal["as_run", "prioritize"] = Field(
        description="as_run: the logged tests in ingestion order; prioritize: the order tests:prioritize "
        "would give them, computed leave-future-out (each refit knows only the tests replayed before it)."
    )
    budgets: Annotated[
        list[Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)]],
        Field(min_length=1, max_length=1000),
    ] = Field(
        description="Strictly increasing cut-offs: numbers of tests, or milliseconds of logged test time."
    )
    unit: Literal["tests", "ms"] = Field(
        "tests", description="What `budgets` count: tests run, or milliseconds of logged test time."
    )
    objective: Literal["balanced", "failures", "coverage"] = Field(
        default="balanced", description="The tests:prioritize objective (policy prioritize only)."
    )
