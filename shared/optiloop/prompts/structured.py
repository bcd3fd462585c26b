"""Structured output: a JSON Schema the answer must satisfy, checked, and repaired by asking again.

Why here and not in each provider: only some providers have a JSON mode, none of them guarantee
a schema, and the fix is the same everywhere — validate, then tell the model exactly what was
wrong (the JSON path and the rule) and ask for corrected JSON. Schemas are Draft 2020-12 with
format checking on; a schema is checked before anything is spent, so a broken one is a 422 on
the request, not a model failure. Validators are compiled once per distinct schema.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jsonschema
from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from optiloop.errors import FieldProblem, InvalidInput
from optiloop.prompts.providers.port import CompletionRequest

if TYPE_CHECKING:
    from optiloop.prompts.catalog import ModelSpec
    from optiloop.prompts.routing import RoutedCompletion, Router

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)\n?[ \t]*```", re.DOTALL)
_MAX_ERRORS = 5
_MAX_PREVIOUS = 2000


def check_schema(schema: Any) -> None:
    """InvalidInput (field "schema") unless `schema` is a valid Draft 2020-12 JSON Schema object."""
    if not isinstance(schema, Mapping):
        raise InvalidInput(
            FieldProblem("schema", "must be a JSON Schema object", hint=f"got {type(schema).__name__}")
        )
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = _json_path(exc.path)
        raise InvalidInput(
            FieldProblem("schema", exc.message, hint=f"at {where} in the schema", extra={"at": where})
        ) from None


def validate_output(text: str, schema: Mapping[str, Any]) -> tuple[Any | None, str | None]:
    """(value, None) when `text` is JSON valid for `schema`; (None, what is wrong) otherwise.

    Code fences (```json ... ```) are stripped, also when the model wrapped them in prose. The
    error names the JSON path of each problem (up to five), ready to hand back to the model.
    """
    candidate = _strip_fences(text)
    try:
        value = json.loads(candidate)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    try:
        errors = sorted(
            _validator(_canonical(schema)).iter_errors(value), key=jsonschema.exceptions.relevance
        )
    except Unresolvable as exc:
        return None, f"the schema has a $ref that cannot be resolved ({exc})"
    if not errors:
        return value, None
    parts = [f"at {e.json_path}: {e.message}" for e in errors[:_MAX_ERRORS]]
    if len(errors) > _MAX_ERRORS:
        parts.append(f"and {len(errors) - _MAX_ERRORS} more")
    return None, "; ".join(parts)


def repair_prompt(prompt: str, error: str, *, previous: str | None = None) -> str:
    """The original prompt, followed by what was wrong and a request for corrected JSON only."""
    parts = [prompt.rstrip(), ""]
    if previous is not None:
        shown = previous if len(previous) <= _MAX_PREVIOUS else previous[:_MAX_PREVIOUS] + "..."
        parts += ["Your previous answer was:", shown, ""]
    parts += [
        f"That answer was rejected: {error}",
        "Reply again with only the corrected JSON value — no explanation and no code fences.",
    ]
    return "\n".join(parts)


def complete_structured(
    router: Router,
    request: CompletionRequest,
    candidates: list[ModelSpec],
    schema: Mapping[str, Any],
    max_attempts: int = 3,
    *,
    deadline_s: float | None = None,
) -> tuple[RoutedCompletion, Any, int]:
    """Ask, validate, and ask again with the error, up to `max_attempts` rounds.

    Returns (the routed completion that passed, its value, rounds used). Every round is billed, so
    the returned completion's `cost_usd` and `attempts` cover all rounds. After the last failed
    round: InvalidInput (422) on "schema" whose message and details carry the last validation
    error and what the rounds cost. Upstream failures (502/504) propagate from the router.
    `deadline_s` bounds all rounds together (see Router.complete).
    """
    check_schema(schema)
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    current = dataclasses.replace(request, json_mode=True)
    spent = 0.0
    all_attempts: list[Any] = []
    error = ""
    begun = router.clock()
    for round_no in range(1, max_attempts + 1):
        left = None if deadline_s is None else deadline_s - (router.clock() - begun)
        routed = router.complete(current, candidates, deadline_s=left)
        spent += routed.cost_usd
        all_attempts.extend(routed.attempts)
        value, problem = validate_output(routed.completion.text, schema)
        if problem is None:
            return dataclasses.replace(routed, cost_usd=spent, attempts=all_attempts), value, round_no
        error = problem
        current = dataclasses.replace(
            current, prompt=repair_prompt(request.prompt, problem, previous=routed.completion.text)
        )
    raise InvalidInput(
        FieldProblem(
            "schema",
            f"no answer matched the schema after {max_attempts} attempts; last error: {error}",
            hint="simplify the schema, or describe the expected JSON in the prompt",
            extra={"last_error": error, "attempts": max_attempts, "cost_usd": spent},
        )
    )


def _strip_fences(text: str) -> str:
    stripped = text.strip()
    match = _FENCE.search(stripped)
    return match.group(1).strip() if match else stripped


def _canonical(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


@functools.lru_cache(maxsize=256)
def _validator(canonical: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(canonical), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _json_path(path: Any) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out
