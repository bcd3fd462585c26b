"""Evaluations: run a prompt version over a golden set, score it, and compare it with what is live.

Per example: render the version with the example's input, call the model through the same provider
layer as `generate` (routing, retries, fallback, cost), score the output with each requested metric.
Per-example results go to the blob store as JSON Lines; the `eval_run` document keeps aggregates
with bootstrap confidence intervals and the comparison, which is what approvals measure policies on.

The comparison is a regression gate: the version deployed on `compare_to` (prod by default) is
evaluated on the same examples (or its earlier run on the same dataset content is reused), and a
paired sign-flip test per metric says whether the difference is significant. Paired, because both
versions answer the same questions: per-example differences cancel question difficulty out.

Runs synchronously inside the request, bounded by `MAX_EXAMPLES_PER_RUN`: enough for golden sets
that gate a release; larger sets belong in a workflow (not built yet).
"""

from __future__ import annotations

import json
import re
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput, NotFound, OptiLoopError, UpstreamFailed
from optiloop.prompts import datasets, library
from optiloop.prompts.deployments import get_deployment
from optiloop.prompts.generation import call_model
from optiloop.prompts.metrics import METRICS, aggregate, paired_comparison, score
from optiloop.prompts.providers.port import Decoding
from optiloop.prompts.records import ENVIRONMENTS, PromptVersion
from optiloop.prompts.templates import stored_template
from optiloop.store.records import Doc

ALL_METRICS = (*METRICS, "judge")
MAX_EXAMPLES_PER_RUN = 1_000
MAX_CONSECUTIVE_UPSTREAM_FAILURES = 5
JUDGE_RUBRIC = (
    "You grade an answer against a reference answer.\n"
    "Question and context:\n{input}\n\nReference answer:\n{expected}\n\nCandidate answer:\n{output}\n\n"
    "Criteria: {criteria}\n"
    'Reply with JSON only: {{"score": <integer 1-5>, "reason": "<one sentence>"}}; '
    "5 means fully correct."
)
DEFAULT_CRITERIA = "factually consistent with the reference, complete, no invented details"


def run_eval(deps: Deps, who: Principal, spec: dict[str, Any]) -> dict[str, Any]:
    version = library.get_version(deps, who, spec["prompt_version_id"], Action.EVAL_RUN)
    dataset = datasets.get_dataset(deps, who, spec["dataset_id"])
    if dataset["project_id"] != version.project_id:
        raise InvalidInput(FieldProblem("dataset_id", "belongs to another project than the prompt version"))
    metrics = _check_metrics(spec.get("metrics") or ["exact_match"])
    examples = list(datasets.iter_examples(deps, dataset))
    if not examples:
        raise InvalidInput(FieldProblem("dataset_id", "the dataset has no examples yet"))
    if len(examples) > MAX_EXAMPLES_PER_RUN:
        raise InvalidInput(
            FieldProblem(
                "dataset_id",
                f"{len(examples)} examples; a synchronous run takes at most {MAX_EXAMPLES_PER_RUN}",
            )
        )
    route = {k: spec.get(k) for k in ("provider", "model", "policy")}
    judge = spec.get("judge") or {}
    run = _evaluate(deps, version, examples, metrics, route, judge)
    comparison = _compare(
        deps, who, version, dataset, examples, metrics, route, judge, run, spec.get("compare_to", "prod")
    )
    return _store(deps, who, version, dataset, metrics, run, comparison)


def get_eval(deps: Deps, who: Principal, run_id: str) -> dict[str, Any]:
    doc = _find(deps, run_id)
    authorize(who, Action.PROMPT_READ, doc["project_id"])
    return doc


def eval_results(
    deps: Deps, who: Principal, run_id: str, limit: int = 1000, offset: int = 0
) -> list[dict[str, Any]]:
    run = get_eval(deps, who, run_id)
    blob = deps.blobs.get(run["results_key"]) or b""
    lines = blob.decode().splitlines()[offset : offset + limit]
    return [json.loads(line) for line in lines]


def _find(deps: Deps, run_id: str) -> dict[str, Any]:
    return deps.store.docs.require("eval_run", run_id, field="eval_run_id", what="evaluation run").data


def _check_metrics(metrics: Any) -> list[str]:
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
        raise InvalidInput(FieldProblem("metrics", f"a non-empty list from {', '.join(ALL_METRICS)}"))
    unknown = [m for m in metrics if m not in ALL_METRICS]
    if unknown:
        raise InvalidInput(
            FieldProblem(
                "metrics", f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(ALL_METRICS)}"
            )
        )
    return list(dict.fromkeys(metrics))


def _evaluate(
    deps: Deps,
    version: PromptVersion,
    examples: list[dict[str, Any]],
    metrics: list[str],
    route: dict[str, Any],
    judge: dict[str, Any],
) -> dict[str, Any]:
    template = stored_template(version.body, version.variables, version.defaults)
    decoding = Decoding(
        **{k: v for k, v in version.decoding.items() if k in ("temperature", "top_p", "max_tokens")}
    )
    rows: list[dict[str, Any]] = []
    cost = 0.0
    tokens = {"prompt": 0, "completion": 0}
    outage = 0
    for ex in examples:
        row: dict[str, Any] = {"id": ex["id"], "scores": {}, "error": None}
        expected = datasets.expected_text(ex["expected"])
        try:
            prompt = template.render(ex["input"])
            call = call_model(
                deps,
                prompt=prompt,
                decoding=decoding,
                model=route["model"] or version.model,
                provider=route["provider"],
                policy=route["policy"],
            )
        except OptiLoopError as exc:  # a bad example or a failed call scores 0, and says why
            outage = outage + 1 if isinstance(exc, UpstreamFailed) else 0
            if outage >= MAX_CONSECUTIVE_UPSTREAM_FAILURES:  # the provider is down, not the examples bad
                raise UpstreamFailed(
                    f"{outage} examples in a row failed upstream; evaluation stopped: {exc.message}",
                    details=exc.details,
                ) from None
            row["error"] = exc.message
            row["scores"] = dict.fromkeys(metrics, 0.0)
            rows.append(row)
            continue
        outage = 0
        cost += call.cost_usd
        tokens["prompt"] += call.prompt_tokens
        tokens["completion"] += call.completion_tokens
        row.update(output=call.text, model=call.model, latency_ms=round(call.latency_ms, 3))
        for m in metrics:
            if m == "judge":
                verdict = _judge(deps, ex, expected, call.text, judge)
                cost += verdict.pop("cost_usd", 0.0)
                row["scores"][m] = verdict["score"]
                row["judge"] = verdict
            else:
                row["scores"][m] = score(m, call.text, expected)
        rows.append(row)
    aggregates = {m: aggregate([r["scores"][m] for r in rows]) for m in metrics}
    return {
        "rows": rows,
        "aggregates": aggregates,
        "cost_usd": cost,
        "tokens": tokens,
        "errors": sum(1 for r in rows if r["error"]),
    }


def _judge(
    deps: Deps, ex: dict[str, Any], expected: str, output: str, judge: dict[str, Any]
) -> dict[str, Any]:
    """LLM-as-judge through the same provider layer: a rubric prompt, a 1-5 score scaled to [0, 1]."""
    prompt = JUDGE_RUBRIC.format(
        input=json.dumps(ex["input"], ensure_ascii=False),
        expected=expected,
        output=output,
        criteria=judge.get("criteria") or DEFAULT_CRITERIA,
    )
    try:
        call = call_model(
            deps,
            prompt=prompt,
            decoding=Decoding(temperature=0.0, max_tokens=200),
            model=judge.get("model"),
            provider=judge.get("provider"),
            policy=None,
            json_mode=True,
        )
    except OptiLoopError as exc:
        return {"score": 0.0, "raw": None, "reason": f"judge call failed: {exc.message}", "cost_usd": 0.0}
    raw = _judge_score(call.text)
    if raw is None:
        return {
            "score": 0.0,
            "raw": None,
            "reason": "judge reply had no 1-5 score",
            "cost_usd": call.cost_usd,
        }
    return {"score": (raw - 1) / 4, "raw": raw, "reason": _judge_reason(call.text), "cost_usd": call.cost_usd}


def _judge_score(text: str) -> int | None:
    try:
        value = json.loads(text).get("score")
    except (json.JSONDecodeError, AttributeError):
        m = re.search(r'"?score"?\s*[:=]\s*([1-5])\b', text)
        value = int(m.group(1)) if m else None
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5 else None


def _judge_reason(text: str) -> str:
    try:
        reason = json.loads(text).get("reason", "")
    except (json.JSONDecodeError, AttributeError):
        reason = ""
    return str(reason)[:500]


def _compare(
    deps: Deps,
    who: Principal,
    version: PromptVersion,
    dataset: dict[str, Any],
    examples: list[dict[str, Any]],
    metrics: list[str],
    route: dict[str, Any],
    judge: dict[str, Any],
    run: dict[str, Any],
    label: Any,
) -> dict[str, Any] | None:
    if label is None:
        return None
    if label not in ENVIRONMENTS:
        raise InvalidInput(FieldProblem("compare_to", f"an environment ({', '.join(ENVIRONMENTS)}) or null"))
    try:
        live = get_deployment(deps, version.prompt_id, label)
    except NotFound:
        return {"label": label, "baseline_version_id": None, "reason": f"nothing is deployed to {label}"}
    if live.version_id == version.id:
        return {"label": label, "baseline_version_id": version.id, "reason": "this version is the live one"}
    baseline = library.get_version(deps, who, live.version_id)
    base_rows = _reuse(deps, baseline.id, dataset["content_hash"], metrics)
    reused = base_rows is not None
    if base_rows is None:
        base_rows = _evaluate(deps, baseline, examples, metrics, route, judge)["rows"]
    by_id = {r["id"]: r for r in base_rows}
    paired = [(r, by_id[r["id"]]) for r in run["rows"] if r["id"] in by_id]
    per_metric = {
        m: paired_comparison([a["scores"][m] for a, _ in paired], [b["scores"][m] for _, b in paired])
        for m in metrics
    }
    regressions = [m for m, c in per_metric.items() if c["verdict"] == "worse"]
    return {
        "label": label,
        "baseline_version_id": baseline.id,
        "baseline_version": baseline.version,
        "baseline_reused": reused,
        "metrics": per_metric,
        "regressions": regressions,
        "verdict": "regression" if regressions else "no_regression",
    }


def _reuse(deps: Deps, version_id: str, content_hash: str, metrics: list[str]) -> list[dict[str, Any]] | None:
    for doc in deps.store.docs.list("eval_run", version_id, limit=20, descending=True):
        run = doc.data
        if run.get("dataset_hash") == content_hash and set(metrics) <= set(run.get("metrics", [])):
            blob = deps.blobs.get(run["results_key"])
            if blob is not None:
                return [json.loads(line) for line in blob.decode().splitlines()]
    return None


def _store(
    deps: Deps,
    who: Principal,
    version: PromptVersion,
    dataset: dict[str, Any],
    metrics: list[str],
    run: dict[str, Any],
    comparison: dict[str, Any] | None,
) -> dict[str, Any]:
    run_id = deps.ids("ev")
    now = deps.clock()
    key = f"evals/{version.project_id}/{run_id}.jsonl"
    deps.blobs.put(key, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in run["rows"]).encode())
    data = {
        "id": run_id,
        "project_id": version.project_id,
        "prompt_id": version.prompt_id,
        "prompt_version_id": version.id,
        "version": version.version,
        "dataset_id": dataset["id"],
        "dataset_hash": dataset["content_hash"],
        "metrics": metrics,
        "status": "completed",
        "n": len(run["rows"]),
        "errors": run["errors"],
        "aggregates": run["aggregates"],
        "comparison": comparison,
        "cost_usd": run["cost_usd"],
        "tokens": run["tokens"],
        "results_key": key,
        "created_at": now,
        "created_by": who.name,
    }
    sort = f"{now}#{run_id}"
    with deps.store.transaction():
        deps.store.docs.create(Doc(kind="eval_run", id=run_id, scope=version.id, sort=sort, data=data))
        record(
            deps,
            who,
            "eval.completed",
            version.project_id,
            run_id,
            {
                "prompt_version_id": version.id,
                "dataset_id": dataset["id"],
                "dataset_hash": dataset["content_hash"],
                "aggregates": {m: a["mean"] for m, a in run["aggregates"].items()},
                "verdict": comparison.get("verdict") if comparison else None,
            },
        )
    return data
