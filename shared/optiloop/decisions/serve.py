"""The decision path (`decide`), rewards (`feedback`) and the exact rebuild of the learning state.

A decision is data: one `decision` document written once (with a TTL: `decision_ttl_days`, 30 by
default) holding the variant, its propensity and the feature vector the learner saw, plus an audit
*event* (`record_event`: batched, never a chain append on the hot path). A reward joins its decision
by id whenever it arrives; it is written as a `decision_reward` document (id = the decision's, no
TTL) in the same transaction as the rev-guarded replace of the checkpoint, retried on conflict. That
document is the history `rebuild` folds, and its id makes a second reward for the same decision a
409: rewards count once, and the first one stands (a caller that must correct one sends it to a new
decision). A reward for an unknown or expired decision is a 404 naming `decision_id`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from optiloop.audit.trail import record as audit_record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.decisions import adapt, canary, experiments, features, guardrails
from optiloop.decisions.cache import CACHE
from optiloop.decisions.evaluate import logged_context
from optiloop.decisions.experiments import KIND, load
from optiloop.decisions.spec import DEFAULT_SCALES
from optiloop.decisions.state import STATE, LearnerState, utility
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotFound
from optiloop.store.records import Doc
from optiloop.webhooks.outbox import emit
from optiloop.webhooks.records import EXPERIMENT_DRIFT

DECISION = "decision"
REWARD = "decision_reward"
WRITE_ATTEMPTS = 8
MAX_ABS_REWARD = 1e12
FEEDBACK_STATUSES = ("Running", "Paused")


def decide(
    deps: Deps, who: Principal, experiment_id: str, unit_id: str, context: Mapping[str, Any] | None
) -> dict[str, Any]:
    entry = CACHE.get(deps, experiment_id)
    exp = entry.experiment
    authorize(who, Action.GENERATE, exp["project_id"])
    if exp["status"] != "Running":
        raise Conflict(
            f"experiment '{experiment_id}' is {exp['status']}; decisions need a Running experiment",
            details=[{"field": "status", "reason": f"is {exp['status']}"}],
        )
    x: np.ndarray | None = None
    if exp["type"] == "Contextual":
        ctx = context or {}
        features.check(ctx, exp["context"])
        x = features.featurize(ctx, exp["context"])
    arm, propensity = entry.policy.choose(unit_id, x, entry.rng)
    variant = exp["variants"][arm]
    decision_id = deps.ids("dec")
    expires_at = float(math.ceil(time.time() + exp["decision_ttl_days"] * 86_400))
    data = {
        "decision_id": decision_id,
        "experiment_id": experiment_id,
        "project_id": exp["project_id"],
        "unit_id": unit_id,
        "arm": arm,
        "variant": variant["id"],
        "propensity": propensity,
        "algorithm": exp["algorithm"],
        "x": x.tolist() if x is not None else None,
        "context": logged_context(context),  # what off-policy rules match on (evaluate)
        "state_rev": entry.state_rev,
        "created_at": deps.clock(),
    }
    deps.store.docs.create(
        Doc(
            kind=DECISION,
            id=decision_id,
            scope=experiment_id,
            sort=decision_id,
            data=data,
            expires_at=expires_at,
        )
    )
    deps.store.audit.record_event(
        principal=who.name, action="decision.served", project_id=exp["project_id"], target=experiment_id,
        details={"decision_id": decision_id, "variant": variant["id"], "propensity": propensity},
    )  # fmt: skip
    return {
        "decision_id": decision_id,
        "experiment_id": experiment_id,
        "variant": variant["id"],
        "config": variant["config"],
        "propensity": propensity,
        "algorithm": exp["algorithm"],
        "expires_at": expires_at,
    }


def composite(rewards: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """sum(w * value), where a weight named "1-x" takes 1 - rewards["x"] (the seed's cost and latency)."""
    needed = {name.removeprefix("1-") for name in weights}
    problems = [
        FieldProblem(f"rewards.{n}", "is missing (the experiment's reward_weights name it)")
        for n in sorted(needed - set(rewards))
    ]
    problems += [
        FieldProblem(f"rewards.{n}", f"is not in reward_weights ({', '.join(sorted(needed))})")
        for n in sorted(set(rewards) - needed)
    ]
    if problems:
        raise InvalidInput(problems)
    return math.fsum(
        w * (1.0 - rewards[n[2:]] if n.startswith("1-") else rewards[n]) for n, w in weights.items()
    )


def _reward(exp: dict[str, Any], reward: float | None, rewards: Mapping[str, float] | None) -> float:
    if (reward is None) == (rewards is None):
        raise InvalidInput(
            FieldProblem("reward", "send reward (a number) or rewards (named metrics), one of them")
        )
    field = "reward" if reward is not None else "rewards"
    value = float(reward) if reward is not None else composite(rewards or {}, exp["reward_weights"])
    if not math.isfinite(value) or abs(value) > MAX_ABS_REWARD:
        raise InvalidInput(FieldProblem(field, "must be a finite number"))
    if exp["metric"]["kind"] == "binary" and not 0.0 <= value <= 1.0:
        raise InvalidInput(FieldProblem(field, f"is {value:g}; a binary metric's reward is in [0, 1]"))
    return value


def _joined(deps: Deps, who: Principal, trace_id: str) -> dict[str, Any]:
    """The generate trace a reward refers to (404 naming `trace_id` when unknown or expired)."""
    doc = deps.store.docs.require(
        "trace", trace_id, field="trace_id", what="trace", reason="no such trace (or expired)"
    )
    authorize(who, Action.GENERATE, doc.data["project_id"])
    return doc.data


def _observations(trace: dict[str, Any] | None, given: Mapping[str, float] | None) -> dict[str, float]:
    """What the guardrails read: the trace's cost and latency, then the caller's (which win)."""
    out: dict[str, float] = {}
    if trace is not None:
        for name, key in (("cost", "cost_usd"), ("latency_ms", "latency_ms")):
            if isinstance(trace.get(key), int | float):
                out[name] = float(trace[key])
    problems = [
        FieldProblem(f"observations.{n}", "must be >= 0")
        for n, v in (given or {}).items()
        if n in ("cost", "latency_ms") and v < 0
    ]
    if problems:
        raise InvalidInput(problems)
    return {**out, **(given or {})}


def _filled(
    exp: dict[str, Any], rewards: Mapping[str, float] | None, observed: Mapping[str, float]
) -> dict[str, float] | None:
    """The composite's inputs, with normalized_cost/normalized_latency computed from the joined cost and
    latency (value / the experiment's scale, clipped to [0, 1]) where the caller did not give them."""
    if rewards is None:
        return None
    scales = {**DEFAULT_SCALES, **exp.get("normalization", {})}
    out = dict(rewards)
    if "normalized_cost" not in out and "cost" in observed:
        out["normalized_cost"] = min(max(observed["cost"] / scales["cost_usd"], 0.0), 1.0)
    if "normalized_latency" not in out and "latency_ms" in observed:
        out["normalized_latency"] = min(max(observed["latency_ms"] / scales["latency_ms"], 0.0), 1.0)
    return out


def feedback(
    deps: Deps,
    who: Principal,
    decision_id: str | None,
    reward: float | None,
    rewards: Mapping[str, float] | None,
    *,
    trace_id: str | None = None,
    observations: Mapping[str, float] | None = None,
    covariate: float | None = None,
) -> dict[str, Any]:
    trace = _joined(deps, who, trace_id) if trace_id is not None else None
    if decision_id is None:
        if trace is None:
            raise InvalidInput(
                FieldProblem("decision_id", "send decision_id, or trace_id of a generate call")
            )
        decision_id = trace.get("decision_id")
        if not decision_id:
            raise InvalidInput(
                FieldProblem("trace_id", "this trace records no decision; send its decision_id too")
            )
    dec = deps.store.docs.get(DECISION, decision_id)
    if dec is None:
        raise NotFound(
            f"no decision '{decision_id}'",
            details=[
                {"field": "decision_id", "reason": "unknown, or expired (decisions live decision_ttl_days)"}
            ],
        )
    d = dec.data
    authorize(who, Action.GENERATE, d["project_id"])
    if trace is not None and trace["project_id"] != d["project_id"]:
        raise InvalidInput(FieldProblem("trace_id", "belongs to another project than the decision"))
    exp = load(deps, d["experiment_id"]).data
    if exp["status"] not in FEEDBACK_STATUSES:
        raise Conflict(
            f"experiment '{exp['id']}' is {exp['status']}; its results are frozen",
            details=[{"field": "status", "reason": f"is {exp['status']}"}],
        )
    observed = _observations(trace, observations)
    filled = _filled(exp, rewards, observed)
    value = _reward(exp, reward, filled)
    tracked = {**{k: float(v) for k, v in (filled or {}).items()}, **observed}
    u = utility(value, exp["metric"])
    x = np.asarray(d["x"], dtype=float) if d.get("x") is not None else None
    now = deps.clock()
    day = str(d["created_at"])[:10]
    record = {
        "decision_id": decision_id, "experiment_id": exp["id"], "project_id": d["project_id"],
        "arm": d["arm"], "variant": d["variant"], "propensity": d["propensity"],
        "reward": value, "utility": u,
        "rewards": filled, "observations": tracked, "covariate": covariate, "trace_id": trace_id,
        "x": d.get("x"), "context": d.get("context"), "day": day, "decided_at": d["created_at"],
        "rewarded_at": now,
    }  # fmt: skip
    for attempt in range(WRITE_ATTEMPTS):
        _refuse_duplicate(deps, decision_id)
        st = deps.store.docs.get(STATE, exp["id"])
        if st is None:  # pragma: no cover - created with the experiment
            raise NotFound(f"no state for experiment '{exp['id']}'")
        state = LearnerState.from_data(st.data)
        state.add(int(d["arm"]), value, u, x, day=day, observations=tracked, covariate=covariate)
        epoch, restarted = adapt.fold(state, exp, int(d["arm"]), value, u, x)
        stage, advanced = canary.fold(state, exp, int(d["arm"]))
        record |= {"epoch": epoch, "opened": epoch + int(restarted), "stage": stage, "advanced": advanced}
        new = Doc(kind=STATE, id=st.id, scope=st.scope, sort=st.sort, data={**st.data, **state.to_data()})
        try:
            with deps.store.transaction():
                deps.store.docs.create(
                    Doc(kind=REWARD, id=decision_id, scope=exp["id"], sort=decision_id, data=record)
                )
                saved = deps.store.docs.replace(new, st.rev)
                if advanced:
                    share = exp["canary"]["stages"][stage + 1]
                    audit_record(
                        deps, who, "experiment.canary_advanced", d["project_id"], exp["id"],
                        {"stage": stage + 1, "share": share, "decision_id": decision_id},
                    )  # fmt: skip
                if restarted:
                    how = exp["drift"]
                    drift_info = {"variant": d["variant"], "epoch": epoch + 1, "decision_id": decision_id,
                                  "response": how["response"], "keep": how["keep"]}  # fmt: skip
                    audit_record(
                        deps, who, "experiment.drift_restart", d["project_id"], exp["id"], drift_info
                    )
                    emit(deps, d["project_id"], EXPERIMENT_DRIFT, {"experiment_id": exp["id"], **drift_info})
        except Conflict:
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            time.sleep(0.001 * (attempt + 1))
            continue
        CACHE.put(deps, exp, saved.rev, saved.data)
        if restarted:
            adapt.note_fired()
        deps.store.audit.record_event(
            principal=who.name, action="decision.feedback", project_id=d["project_id"], target=exp["id"],
            details={"decision_id": decision_id, "variant": d["variant"], "reward": value},
        )  # fmt: skip
        stopped = _guard(deps, who, exp, state)
        return {"decision_id": decision_id, "experiment_id": exp["id"], "variant": d["variant"],
                "reward": value, "counted": True, "joined": {k: observed[k] for k in observed},
                "experiment_status": "Paused" if stopped else exp["status"],
                "drift": {"variant": d["variant"], "epoch": epoch + 1} if restarted else None}  # fmt: skip
    raise AssertionError("unreachable")  # pragma: no cover


def _guard(deps: Deps, who: Principal, exp: dict[str, Any], state: LearnerState) -> bool:
    """Pause the experiment when this reward made a treatment breach a guardrail."""
    if exp["status"] != "Running":
        return False
    breached = guardrails.breaches(exp, state)
    if exp["type"] == "Canary" and canary.worse(exp, state):
        candidate = exp["variants"][1]["id"]
        why = "the candidate is significantly worse (mSPRT)"
        breached.append({"metric": exp["metric"]["name"], "stat": "mean", "variant": candidate,
                         "breached": True, "reason": why})  # fmt: skip
    if not breached:
        return False
    return experiments.stop_for_guardrails(deps, who, exp["id"], breached) is not None


def _refuse_duplicate(deps: Deps, decision_id: str) -> None:
    if deps.store.docs.get(REWARD, decision_id) is not None:
        raise Conflict(
            f"decision '{decision_id}' already has its reward; a reward counts once",
            details=[{"field": "decision_id", "reason": "already rewarded"}],
        )


def rebuild(deps: Deps, experiment_id: str, *, checkpoint: bool = False) -> LearnerState:
    """The state folded from every logged reward of the experiment; with `checkpoint`, also written
    over the checkpoint (rev-guarded) — the repair for a state suspected wrong."""
    exp = deps.store.docs.get(KIND, experiment_id)
    if exp is None:
        raise NotFound(
            f"no experiment '{experiment_id}'",
            details=[{"field": "experiment_id", "reason": "no such experiment"}],
        )
    while True:
        state = LearnerState.empty(exp.data)
        st = deps.store.docs.get(STATE, experiment_id)
        after: str | None = None
        kept: list[dict[str, Any]] = []  # drift bandits only: the epochs need the records
        while True:
            page = deps.store.docs.list(REWARD, experiment_id, after=after, limit=500)
            for doc in page:
                r = doc.data
                if state.cur is not None or state.stage_n is not None:
                    kept.append(r)
                x = np.asarray(r["x"], dtype=float) if r.get("x") is not None else None
                state.add(int(r["arm"]), float(r["reward"]), float(r["utility"]), x, day=r.get("day"),
                          observations=r.get("observations"), covariate=r.get("covariate"))  # fmt: skip
            if len(page) < 500:
                break
            after = page[-1].sort
        adapt.rebuild(state, exp.data, kept)
        canary.rebuild(state, kept)
        if not checkpoint or st is None:
            return state
        try:
            deps.store.docs.replace(Doc(kind=STATE, id=st.id, scope=st.scope, sort=st.sort,
                                        data={**st.data, **state.to_data()}), st.rev)  # fmt: skip
        except Conflict:
            continue  # a reward landed meanwhile: fold again
        CACHE.invalidate(deps, experiment_id)
        return state
