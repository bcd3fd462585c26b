"""tests:suggest — the use case: validate, generate a batch, fit it to the budget, persist, audit.

Suggestions of one project are serialised by a per-project lock: the batch must be deduplicated
against every earlier test, pending ones included, and take the next `seq` numbers.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from optiloop.deps import Deps
from optiloop.errors import Conflict, Contended, FieldProblem, InvalidInput, NotFound, OptiLoopError
from optiloop.store.ports import HistoryHeads
from optiloop.store.records import Project, TestCase
from optiloop.testopt import webhook_events
from optiloop.testopt.history import cache_for
from optiloop.testopt.space import Space
from optiloop.testopt.spaces import space_for
from optiloop.testopt.strategies import compaction
from optiloop.testopt.strategies import rl as rl_strategy
from optiloop.testopt.strategies.context import SuggestContext
from optiloop.testopt.strategies.generators import generators
from optiloop.testopt.strategies.multiobjective import ParetoSpec
from optiloop.testopt.strategies.multiobjective import validate as validate_pareto
from optiloop.testopt.strategies.pipeline import Batch, build_batch, rationale
from optiloop.testopt.strategies.state import ProjectState, state_for
from optiloop.testopt.surrogate import trained as trained_surrogate

OBJECTIVES = ("coverage_gain", "failure_prob", "cost")
DEFAULT_WEIGHTS = {"coverage_gain": 0.5, "failure_prob": 0.4, "cost": 0.1}
DIVERSITY_METHODS = ("k_center", "dpp", "none")
MAX_BATCH = 500


@dataclass
class DiversitySpec:
    method: str = "k_center"  # "k_center" | "dpp" | "none"
    min_distance: float = 0.0


@dataclass
class SuggestRequest:
    generator: str = "hybrid"
    batch_size: int = 20
    seed: int | None = None
    objectives: list[str] = field(default_factory=lambda: list(OBJECTIVES))
    objective_weights: list[float] | None = None
    diversity: DiversitySpec = field(default_factory=DiversitySpec)
    budget_cents: float | None = None
    pareto: ParetoSpec | None = None  # return the pool's Pareto front (and maybe take the batch from it)


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _project_lock(project_id: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(project_id, threading.Lock())


def _validate(req: SuggestRequest) -> dict[str, float]:
    probs: list[FieldProblem] = []
    known = generators()
    if req.generator not in known:
        probs.append(
            FieldProblem("generator", f"unknown generator {req.generator!r}; one of {sorted(known)}")
        )
    if not 1 <= req.batch_size <= MAX_BATCH:
        probs.append(FieldProblem("batch_size", f"must be between 1 and {MAX_BATCH}"))
    if req.seed is not None and not 0 <= req.seed < 2**63:
        probs.append(FieldProblem("seed", "must be a non-negative integer below 2**63"))
    unknown = [o for o in req.objectives if o not in OBJECTIVES]
    if unknown:
        probs.append(
            FieldProblem("objectives", f"unknown objective {unknown[0]!r}; one of {list(OBJECTIVES)}")
        )
    if len(set(req.objectives)) != len(req.objectives):
        probs.append(FieldProblem("objectives", "must not repeat an objective"))
    weights = req.objective_weights
    if weights is None:
        weights = [DEFAULT_WEIGHTS.get(o, 0.0) for o in req.objectives]
    elif len(weights) != len(req.objectives):
        probs.append(
            FieldProblem("objective_weights", f"needs one weight per objective ({len(req.objectives)})")
        )
    elif any(not np.isfinite(w) or w < 0 for w in weights):
        probs.append(FieldProblem("objective_weights", "weights must be finite and >= 0"))
    elif weights and sum(weights) == 0:
        probs.append(FieldProblem("objective_weights", "at least one weight must be > 0"))
    if req.diversity.method not in DIVERSITY_METHODS:
        probs.append(FieldProblem("diversity.method", f"one of {list(DIVERSITY_METHODS)}"))
    if not 0.0 <= req.diversity.min_distance <= 1.0:
        probs.append(FieldProblem("diversity.min_distance", "must be between 0 and 1 (normalised distance)"))
    if req.budget_cents is not None and (not np.isfinite(req.budget_cents) or req.budget_cents < 0):
        probs.append(FieldProblem("budget_cents", "must be a finite number >= 0"))
    if req.pareto is not None:
        probs += validate_pareto(req.pareto)
    if probs:
        raise InvalidInput(probs)
    total = float(sum(weights)) or 1.0
    return {o: w / total for o, w in zip(req.objectives, weights, strict=True)}


def _fit_budget(b: Batch, limit: float | None) -> np.ndarray:
    """Indices to keep so the batch's predicted cost stays within `limit`, best scores first."""
    order = np.argsort(-b.score, kind="stable")
    if limit is None:
        return order
    keep, spent = [], 0.0
    for i in order:
        if spent + b.cost[i] <= limit + 1e-9:
            keep.append(i)
            spent += b.cost[i]
    return np.array(keep, dtype=np.int64)


WRITE_ATTEMPTS = 3


@dataclass
class _Planned:
    """A batch ready to store: the tests, the audit details and the response body."""

    tests: list[TestCase]
    audit: dict[str, Any]
    response: dict[str, Any]
    surrogate_accuracy: dict[str, Any] | None = None  # for the surrogate.accuracy_low webhook event


def suggest(deps: Deps, project_id: str, req: SuggestRequest, principal: str) -> dict[str, Any]:
    """Return {"tests":[{"id","params","score"}], "policy_version", "surrogate_version",
    "explanations":[{"id","rationale"}]}; persists the tests and one audit record.

    Within a process, suggestions of one project are serialised by a lock. Across processes (two
    Lambdas, two workers) the store's uniqueness of test `seq` is the guard: the loser's write
    raises Conflict, and the batch is planned again on the refreshed history (which now holds the
    winner's tests, so the retry does not repeat them either)."""
    objectives = _validate(req)
    store = deps.store
    # one read (one BatchGetItem on DynamoDB) for the project and where its history stands
    heads = store.history_heads(project_id)
    project = heads.project
    if project is None:
        raise NotFound(f"project {project_id!r} not found")
    space = space_for(store, project_id)
    seed = req.seed if req.seed is not None else secrets.randbits(62)
    for attempt in range(WRITE_ATTEMPTS):
        with _project_lock(project_id):
            if attempt:  # another writer took the next seqs: read where the history stands now
                heads = store.history_heads(project_id)
            planned = _plan(deps, project, space, req, objectives, seed, heads)
            try:
                with store.transaction():
                    store.tests.add_many(planned.tests)
                    store.audit.append(
                        principal=principal,
                        action="tests.suggest",
                        project_id=project_id,
                        target=planned.response["suggestion_id"],
                        details=planned.audit,
                    )
                    webhook_events.after_surrogate_check(deps, project_id, planned.surrogate_accuracy)
            except Conflict:
                if attempt == WRITE_ATTEMPTS - 1:
                    # Contended: a 409 with Retry-After naming the project's test numbers and audit chain
                    raise Contended(
                        "other writers kept taking this project's next test numbers; retry the request",
                        contended=f"the test seq counter and audit chain of project '{project_id}'",
                    ) from None
                continue
            # the next refresh need not read back what was just written (one Query fewer)
            cache_for(store).add_own_tests(project_id, planned.tests)
            return planned.response
    raise AssertionError("unreachable")


STREAM_CHUNK = 25


def suggest_stream(
    deps: Deps, project_id: str, req: SuggestRequest, principal: str
) -> Iterator[dict[str, Any]]:
    """The batch in chunks of STREAM_CHUNK tests, each planned, stored and audited as one suggestion
    and yielded test by test, then one summary: {"test": ...} lines, then {"done": {...}}.

    A runner starts on the first tests while the rest are planned, and what it has received is
    always stored: a client that goes away stops the planning between chunks, never inside one.
    Each chunk deduplicates against the earlier ones (their tests are pending) and spends what
    is left of `budget_cents`. An error before the first test raises (the caller answers 4xx);
    a later one ends the stream with an {"error": ...} line, the chunks before it stand."""
    if req.pareto is not None:  # one front per chunk would be a different question than asked
        raise InvalidInput(FieldProblem("pareto", "not available with stream: true"))
    seed = req.seed if req.seed is not None else secrets.randbits(62)
    left, budget = req.batch_size, req.budget_cents
    summary: dict[str, Any] = {"count": 0, "suggestion_ids": [], "predicted_cost_cents": 0.0, "seed": seed}
    while left > 0:
        part = replace(req, batch_size=min(STREAM_CHUNK, left), seed=seed, budget_cents=budget)
        try:
            out = suggest(deps, project_id, part, principal)
        except OptiLoopError as e:
            if not summary["count"]:
                raise
            if isinstance(e, Conflict) and budget is not None:
                summary["stopped"] = str(e)  # the request's budget is used up: a normal end
                break
            yield {"error": e}
            return
        for t, ex in zip(out["tests"], out["explanations"], strict=True):
            yield {"test": {**t, "suggestion_id": out["suggestion_id"], "rationale": ex["rationale"]}}
        summary["count"] += len(out["tests"])
        summary["suggestion_ids"].append(out["suggestion_id"])
        summary["predicted_cost_cents"] = round(
            summary["predicted_cost_cents"] + out["predicted_cost_cents"], 4
        )
        for k in ("policy_version", "surrogate_version", "space_version"):
            summary[k] = out[k]
        if len(out["tests"]) < part.batch_size:
            break  # the space (or the budget) gave no more
        left -= len(out["tests"])
        if budget is not None:
            budget = max(budget - out["predicted_cost_cents"], 0.0)
    yield {"done": summary}


def _registered_surrogate(deps: Deps, ctx: SuggestContext) -> dict[str, Any] | None:
    """Put the project's registered surrogate in `ctx` when it earns it (see
    optiloop.testopt.surrogate.trained); what was decided, or None when there is no such model."""
    trained = trained_surrogate.registered(deps, ctx.history.project_id)
    if trained is None:
        return None
    if not trained.fits(set(ctx.space.names)):
        return {
            **trained.describe(),
            "use_trained": False,
            "reason": "its inputs are not this space's params",
        }
    recent, params, failed = trained_surrogate.recent_unseen(ctx.history, trained)
    check = trained_surrogate.compare(trained, params, failed, _in_process_fail(ctx, ctx.state, recent))
    trained_surrogate.report(ctx.history.project_id, check)
    if check.use_trained:
        ctx.trained = trained
    return {**trained.describe(), **check.as_dict()}


def _in_process_fail(ctx: SuggestContext, st: ProjectState, test_ids: list[str]) -> np.ndarray | None:
    sur = ctx.surrogates
    if sur is None or not test_ids:
        return None
    mean, _ = sur["fail"].predict(compaction.embed(st, ctx.history, test_ids))
    return np.asarray(mean, dtype=np.float64)


def _budget_limit(project: Project, spent: float, req: SuggestRequest) -> float | None:
    """What the batch may cost: the request's cap and what is left of the project's budget
    (`spent`: the history's running total, the same as RunRepo.totals without a read)."""
    limit = req.budget_cents
    if project.budget_cents is not None:
        if spent >= project.budget_cents:
            raise Conflict(
                f"project budget spent: {spent:g} of {project.budget_cents:g} cents; raise it with "
                f"PATCH /v1/projects/{project.id} to continue",
                details=[{"field": "budget_cents", "reason": "the project's budget is spent"}],
            )
        left = project.budget_cents - spent
        limit = left if limit is None else min(limit, left)
    return limit


def _plan(
    deps: Deps,
    project: Project,
    space: Space,
    req: SuggestRequest,
    objectives: dict[str, float],
    seed: int,
    heads: HistoryHeads,
) -> _Planned:
    store, project_id = deps.store, project.id
    cache = cache_for(store, deps.blobs)  # the blob store holds the history's cold tier
    h = cache.held(project_id)
    st = state_for(id(store), project_id, space, h, sync=False)
    with st.lock:
        # a cold process reads a long history in pages; the state folds each in before it is compacted
        cache.refresh(h, heads, on_page=st.sync)
        st.sync(h)
        limit = _budget_limit(project, h.cost_cents, req)
        rng = np.random.default_rng([seed, h.tests_seq, h.runs_seq])
        ctx = SuggestContext(space=space, history=h, state=st, seed=seed, rng=rng)
        gen = generators()[req.generator]
        ctx.rl_policy = rl_strategy.policy_for(deps, ctx, gen.name)
        surrogate_check = _registered_surrogate(deps, ctx) if gen.model_scores else None
        b = build_batch(
            ctx,
            gen,
            req.batch_size,
            objectives,
            req.diversity.method,
            req.diversity.min_distance,
            pareto=req.pareto,
        )
        keep = _fit_budget(b, limit)
        if len(b.U) and not len(keep):
            raise Conflict(
                f"no test fits the budget: the cheapest predicted test costs {b.cost.min():.2f} "
                f"cents, {limit:.2f} cents are available",
                details=[{"field": "budget_cents", "reason": "below the predicted cost of one test"}],
            )
        # a random order within the batch: runs are credited new buckets in ingestion order, and
        # a fixed order (by operator) would hand every shared new bucket to the same operator
        keep = np.random.default_rng([seed, h.tests_seq, h.runs_seq, 1]).permutation(np.sort(keep))
        decoded = space.decode(b.U[keep])
        ok = space.feasible(decoded)
        params = space.to_dicts(decoded)
        suggestion_id = deps.ids("sug")
        now = deps.clock()
        base_seq = h.tests_seq  # just refreshed; a writer that got in since loses nothing: see suggest()
        tests: list[TestCase] = []
        explanations: list[dict[str, Any]] = []
        for n, (i, p) in enumerate(zip(keep, params, strict=True)):
            if not ok[n]:  # unreachable by construction; never hand out an infeasible test
                continue
            t = TestCase(
                id=deps.ids("tst"),
                project_id=project_id,
                seq=base_seq + len(tests) + 1,
                params=p,
                score=round(float(b.score[i]), 6),
                generator=gen.name,
                operator=b.ops[i],
                suggestion_id=suggestion_id,
                predicted_cost=round(float(b.cost[i]), 4),
                created_at=now,
                space_version=space.version,
            )
            tests.append(t)
            explanations.append({"id": t.id, "rationale": rationale(b, int(i))})
            if b.uncertainty is not None:  # the surrogate committee's disagreement at this test
                explanations[-1]["uncertainty"] = round(float(b.uncertainty[i]), 6)
        policy_version = gen.policy_version(ctx, b.weights)
        if not b.model_used:
            surrogate_version = "none"
        elif ctx.trained is not None:  # a real registry version
            surrogate_version = ctx.trained.version_id
        else:
            surrogate_version = f"rff-{space.version[3:11]}-n{st.n_runs}"
    audit = {
        "generator": gen.name,
        "batch_size": req.batch_size,
        "seed": seed,
        "objectives": objectives,
        "diversity": vars(req.diversity),
        "budget_cents": req.budget_cents,
        "test_ids": [t.id for t in tests],
        "operator_mix": {k: round(v, 4) for k, v in b.weights.items()},
        "policy_version": policy_version,
        "surrogate_version": surrogate_version,
        "space_version": space.version,
        "rationale": [e["rationale"] for e in explanations],
    }
    if surrogate_check is not None:  # why the registered surrogate was (not) used, for the record
        audit["registered_surrogate"] = surrogate_check
    if ctx.rl_policy is not None:  # the registered RL policy the `rl` generator or hybrid arm had
        audit["rl_policy"] = ctx.rl_policy.describe()
    response = {
        "suggestion_id": suggestion_id,
        "tests": [{"id": t.id, "params": t.params, "score": t.score} for t in tests],
        "policy_version": policy_version,
        "surrogate_version": surrogate_version,
        "space_version": space.version,
        "seed": seed,
        "predicted_cost_cents": round(float(sum(t.predicted_cost for t in tests)), 4),
        "explanations": explanations,
    }
    if b.front is not None and b.pool_U is not None and b.pool_ops is not None and b.pool_rows is not None:
        kept = [int(b.pool_rows[i]) for n, i in enumerate(keep) if ok[n]]
        ids = {row: t.id for row, t in zip(kept, tests, strict=True)}
        front = b.front.report(space, b.pool_U, b.pool_ops, ids)
        response["pareto"] = front
        audit["pareto"] = {k: v for k, v in front.items() if k != "front"}  # the sizes, not the members
    accuracy = None
    if surrogate_check is not None and surrogate_check.get("trained_auc") is not None:
        accuracy = {
            k: surrogate_check.get(k) for k in ("model_id", "model_version_id", "version", "alias", "runs")
        }
        accuracy["recent_auc"] = surrogate_check["trained_auc"]
    return _Planned(tests=tests, audit=audit, response=response, surrogate_accuracy=accuracy)
