"""`generate`: resolve a prompt version, guard the input, render, call a model, guard the output,
account for cost, cache and trace — the one path every production prompt call takes.

Order matters: guardrails see the caller's variables before rendering (the template body is
reviewed, approved content; the variables are not), the cache is consulted only after the input
passed the guards (a blocked input must stay blocked even if an identical prompt was once
answered), and the trace stores redacted text only.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.decisions import attach
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, UpstreamFailed
from optiloop.prompts import cache, library, traces
from optiloop.prompts.deployments import get_deployment
from optiloop.prompts.generation import call_model, gateway, policy_of
from optiloop.prompts.guardrails import GuardConfig, GuardVerdict, check_input, check_output, redact
from optiloop.prompts.guardrails.policy import canary_instruction, canary_token
from optiloop.prompts.providers.port import Decoding
from optiloop.prompts.records import PromptVersion
from optiloop.prompts.structured import check_schema
from optiloop.prompts.templates import stored_template
from optiloop.prompts.tokens import estimate_tokens

SCHEMA_INSTRUCTION = "\n\nRespond with JSON only, one value that validates against this JSON Schema:\n"


class GuardrailBlocked(InvalidInput):
    """The input tripped a guardrail set to block (HTTP 422, with the findings, never the text)."""

    code = "guardrail_blocked"


@dataclass
class _Answer:
    output: str
    parsed: Any
    call: dict[str, Any]  # model, provider, tokens, cost_usd, latency_ms
    attempts: list[dict[str, Any]]
    cached: bool
    cache_key: str


def generate(deps: Deps, who: Principal, req: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    version, overrides, label = _resolve(deps, who, req)
    decision = attach.consult(deps, who, version.prompt_id, label, req)  # an experiment on the label
    if decision is not None:
        version, req = _variant(deps, who, version, decision, req)
    if req.get("project_id") not in (None, version.project_id):
        raise InvalidInput(FieldProblem("project_id", "the prompt version belongs to another project"))
    authorize(who, Action.GENERATE, version.project_id)
    guard_cfg = _guard_config(req.get("guardrails"))
    variables = req.get("variables") or {}
    template = stored_template(version.body, version.variables, version.defaults)
    verdict_in = _guard_input(variables, guard_cfg, template.trusted)
    safe_vars = {**variables, **verdict_in.texts} if verdict_in.action == "redact" else variables
    prompt = template.render(safe_vars, overrides)  # untrusted variables come back spotlighted
    canary = canary_token(version.id) if guard_cfg.canary else None
    if canary is not None:
        prompt = canary_instruction(canary) + prompt
    schema = req.get("schema")
    if schema is not None:
        check_schema(schema)
        prompt += SCHEMA_INSTRUCTION + json.dumps(schema, sort_keys=True)
    answer = _answer(deps, req, version, prompt, schema)

    verdict_out = check_output(answer.output, guard_cfg, canary=canary)

    def trace(output: str, blocked: bool) -> str:
        return _trace(deps, who, version, label, prompt, variables, output, answer, (verdict_in, verdict_out),
                      started, blocked=blocked, decision=decision, names=guard_cfg.names)  # fmt: skip

    if verdict_out.action == "block":
        trace(answer.output, True)
        raise UpstreamFailed(
            f"the model's output was blocked by guardrails: {verdict_out.reason}",
            details=[{"field": "output", "reason": f.kind} for f in verdict_out.findings],
        )
    out = (
        verdict_out.text if verdict_out.action == "redact" and verdict_out.text is not None else answer.output
    )
    cache_cfg = req.get("cache") or {}
    if not answer.cached and cache_cfg.get("enabled", True):
        entry = {"output": out, "parsed": answer.parsed, "call": answer.call, "prompt_version_id": version.id}
        cache.store(deps, version.project_id, answer.cache_key, entry, _ttl(cache_cfg.get("ttl_s")))
    trace_id = trace(out, False)
    result: dict[str, Any] = {
        "output": out,
        "metrics": {
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            "provider_latency_ms": round(answer.call["latency_ms"], 3),
            "tokens": {
                "prompt": answer.call["prompt_tokens"],
                "completion": answer.call["completion_tokens"],
            },
            "cost_usd": answer.call["cost_usd"],
        },
        "trace_id": trace_id,
        "model": answer.call["model"],
        "provider": answer.call["provider"],
        "prompt_version_id": version.id,
        "cached": answer.cached,
        "guardrails": {"input": verdict_in.action, "output": verdict_out.action},
    }
    if schema is not None:
        result["parsed"] = answer.parsed
    if decision is not None:
        result["decision"] = {
            k: decision[k] for k in ("decision_id", "experiment_id", "variant", "propensity")
        }
    return result


def _variant(
    deps: Deps, who: Principal, version: PromptVersion, decision: dict[str, Any], req: dict[str, Any]
) -> tuple[PromptVersion, dict[str, Any]]:
    """The experiment's variant applied: its prompt version (of the same prompt), model and decoding."""
    vid = decision["config"].get("prompt_version_id")
    if vid:
        chosen = library.get_version(deps, who, vid, Action.GENERATE)
        if chosen.prompt_id != version.prompt_id:
            raise Conflict(
                f"experiment '{decision['experiment_id']}' variant '{decision['variant']}' names a version "
                "of another prompt",
                details=[{"field": "attach", "reason": "variant's prompt_version_id is of another prompt"}],
            )
        version = chosen
    return version, attach.apply(decision, req)


def _guard_input(variables: dict[str, Any], cfg: GuardConfig, trusted: tuple[str, ...] = ()) -> GuardVerdict:
    """Block (422 naming each variable, never echoing it), or pass on the verdict."""
    verdict = check_input({k: v for k, v in variables.items() if isinstance(v, str)}, cfg, trusted=trusted)
    if verdict.action == "block":
        problems = [
            FieldProblem(f"variables.{f.field}", f"{f.kind} detected (score {f.score:.2f})")
            for f in verdict.findings
            if f.kind == "injection" or cfg.pii == "block"
        ]
        raise GuardrailBlocked(
            problems or [FieldProblem("variables", verdict.reason or "blocked")],
            message=f"guardrails blocked the input: {verdict.reason}",
        )
    return verdict


def _answer(deps: Deps, req: dict[str, Any], version: PromptVersion, prompt: str, schema: Any) -> _Answer:
    """From the cache if the same prompt went to the same first-choice model, else from the router."""
    decoding = _decoding(version, req.get("decoding"))
    candidates = gateway(deps).router.candidates(
        policy_of(deps, req.get("policy")),
        estimate_tokens(prompt),
        decoding.max_tokens,
        req.get("provider"),
        req.get("model") or version.model,
    )
    key = cache.cache_key(version.project_id, prompt, candidates[0].name, asdict(decoding), schema)
    hit = cache.lookup(deps, key) if (req.get("cache") or {}).get("enabled", True) else None
    if hit is not None:
        call = {**hit["call"], "cost_usd": 0.0, "latency_ms": 0.0}
        return _Answer(hit["output"], hit.get("parsed"), call, [], cached=True, cache_key=key)
    c = call_model(deps, prompt=prompt, decoding=decoding, schema=schema, candidates=candidates)
    call = {
        "model": c.model,
        "provider": c.provider,
        "prompt_tokens": c.prompt_tokens,
        "completion_tokens": c.completion_tokens,
        "cost_usd": c.cost_usd,
        "latency_ms": c.latency_ms,
    }
    return _Answer(c.text, c.parsed, call, c.attempts, cached=False, cache_key=key)


def _resolve(
    deps: Deps, who: Principal, req: dict[str, Any]
) -> tuple[PromptVersion, dict[str, Any], str | None]:
    if req.get("prompt_version_id"):
        if req.get("prompt"):
            raise InvalidInput(FieldProblem("prompt", "give prompt_version_id or prompt, not both"))
        return library.get_version(deps, who, req["prompt_version_id"], Action.GENERATE), {}, None
    ref = req.get("prompt")
    if not isinstance(ref, dict) or not ref.get("name") or not req.get("project_id"):
        raise InvalidInput(
            FieldProblem(
                "prompt_version_id", 'give prompt_version_id, or project_id with prompt {"name", "label"}'
            )
        )
    prompt = library.find_prompt(deps, who, req["project_id"], ref["name"])
    label = ref.get("label") or "prod"
    dep = get_deployment(deps, prompt.id, label)
    return library.get_version(deps, who, dep.version_id, Action.GENERATE), dep.overrides, label


def _decoding(version: PromptVersion, raw: dict[str, Any] | None) -> Decoding:
    merged = {**version.decoding, **{k: v for k, v in (raw or {}).items() if v is not None}}
    return Decoding(**{k: merged[k] for k in ("temperature", "top_p", "max_tokens") if k in merged})


def _guard_config(raw: dict[str, Any] | None) -> GuardConfig:
    if raw is None:
        return GuardConfig()
    try:
        return GuardConfig(**raw)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(FieldProblem("guardrails", str(exc))) from None


def _ttl(raw: Any) -> int:
    if raw is None:
        return cache.DEFAULT_TTL_S
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= cache.MAX_TTL_S:
        raise InvalidInput(FieldProblem("cache.ttl_s", f"an integer from 1 to {cache.MAX_TTL_S}"))
    return raw


def _trace(
    deps: Deps,
    who: Principal,
    version: PromptVersion,
    label: str | None,
    prompt: str,
    variables: dict[str, Any],
    output: str,
    answer: _Answer,
    verdicts: tuple[GuardVerdict, GuardVerdict],
    started: float,
    *,
    blocked: bool,
    decision: dict[str, Any] | None = None,
    names: bool = False,
) -> str:
    """Save the call's trace. What it keeps is redacted whatever the guardrails' mode, and names too
    when the caller asked for them: a trace must not keep what the caller asked to have found."""
    trace_id = deps.ids("trc")
    call = answer.call
    traces.save(
        deps,
        {
            "id": trace_id,
            "project_id": version.project_id,
            "at": deps.clock(),
            "principal": who.name,
            "key_id": who.key_id,
            "prompt_id": version.prompt_id,
            "prompt_version_id": version.id,
            "version": version.version,
            "label": label,
            "model": call["model"],
            "provider": call["provider"],
            "tokens": {"prompt": call["prompt_tokens"], "completion": call["completion_tokens"]},
            "cost_usd": call["cost_usd"],
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            "provider_latency_ms": call["latency_ms"],
            "cached": answer.cached,
            "blocked": blocked,
            "attempts": answer.attempts,
            "guardrails": {"input": verdicts[0].as_dict(), "output": verdicts[1].as_dict()},
            "variables": {
                k: redact(v, names=names) if isinstance(v, str) else v for k, v in variables.items()
            },
            "prompt": redact(prompt, names=names),
            "output": redact(output, names=names),
            **(
                {
                    "decision_id": decision["decision_id"],
                    "experiment_id": decision["experiment_id"],
                    "variant": decision["variant"],
                }
                if decision
                else {}
            ),
        },
    )
    return trace_id
