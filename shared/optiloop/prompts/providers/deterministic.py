"""A provider with no network and no randomness: the default, and the test double.

Why it exists: `/v1/generate` must work on a fresh machine with no keys, the platform's own
overhead (render, guard, route, price, trace) must be measurable without a model's latency in
the way, and the router's retry/fallback paths need failures on demand. So the answers are pure
functions of the request, the latency is a constant, and a script can inject failures.

Models (the provider's ids):
- "echo": the prompt back; in a Q/A prompt, the last non-empty line after the last "A:".
- "json": a JSON object derived from the prompt; if the prompt carries a JSON Schema, an instance
  of it where that is easy (types, required, enum/const, bounds, simple formats).
Both honour `decoding.stop` and truncate to `decoding.max_tokens` (estimated tokens).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from optiloop.prompts.providers.port import Completion, CompletionRequest, Provider, ProviderError
from optiloop.prompts.tokens import estimate_tokens, truncate_to_tokens

ScriptItem = str | BaseException
ScriptValue = ScriptItem | Sequence[ScriptItem]

MODELS = ("echo", "json")


class DeterministicProvider(Provider):
    """`script` maps a model id, or else a substring of the prompt, to a fixed answer.

    A value is a text (returned), an exception (raised, a copy each call) or a sequence of those,
    consumed one per call with the last repeating: `[ProviderError("503"), ProviderError("503"),
    "ok"]` fails twice, then succeeds. Keys are tried as model ids first, then as prompt substrings
    in insertion order. `calls` records every request, for assertions.
    """

    def __init__(
        self,
        script: Mapping[str, ScriptValue] | None = None,
        *,
        name: str = "deterministic",
        latency_ms: float = 0.2,
    ) -> None:
        self.name = name
        self.latency_ms = latency_ms
        self._script = dict(script or {})
        self._cursor: dict[str, int] = {}
        self._lock = threading.Lock()
        self.calls: list[CompletionRequest] = []

    def complete(self, request: CompletionRequest) -> Completion:
        with self._lock:
            self.calls.append(request)
            scripted = self._next_scripted(request)
        if isinstance(scripted, BaseException):
            raise copy.copy(scripted)
        if scripted is not None:
            text, finish = scripted, "stop"
        elif request.model == "echo":
            text, finish = _limit(_echo(request.prompt), request)
        elif request.model == "json":
            text, finish = _limit(json.dumps(_json_answer(request.prompt), sort_keys=True), request)
        else:
            raise ProviderError(
                f"unknown model {request.model!r} (this provider serves {', '.join(MODELS)})",
                provider=self.name,
                retryable=False,
            )
        prompt = f"{request.system}\n{request.prompt}" if request.system else request.prompt
        return Completion(
            text=text,
            model=request.model,
            provider=self.name,
            prompt_tokens=estimate_tokens(prompt),
            completion_tokens=estimate_tokens(text),
            latency_ms=self.latency_ms,
            finish_reason=finish,
        )

    def _next_scripted(self, request: CompletionRequest) -> ScriptItem | None:
        key = request.model if request.model in self._script else None
        if key is None:
            key = next((k for k in self._script if k and k in request.prompt), None)
        if key is None:
            return None
        value = self._script[key]
        if isinstance(value, str | BaseException):
            return value
        if not value:
            return None
        i = self._cursor.get(key, 0)
        self._cursor[key] = i + 1
        return value[min(i, len(value) - 1)]


_ANSWER_CUE = re.compile(r"(?:^|(?<=\s))A:")


def _echo(prompt: str) -> str:
    cues = list(_ANSWER_CUE.finditer(prompt))
    if not cues:
        return prompt
    cut = cues[-1]
    for part in (prompt[cut.end() :], prompt[: cut.start()]):
        lines = [ln.strip() for ln in part.splitlines() if ln.strip()]
        if lines:
            return lines[-1]
    return ""


def _limit(text: str, request: CompletionRequest) -> tuple[str, str]:
    """Cut at the first stop sequence, then at max_tokens (estimated), as a model would stop."""
    for stop in request.decoding.stop:
        if stop and stop in text:
            text = text[: text.index(stop)]
    text, cut = truncate_to_tokens(text, request.decoding.max_tokens)
    return text, "length" if cut else "stop"


def _json_answer(prompt: str) -> Any:
    schema = _find_schema(prompt)
    if schema is not None:
        return _instance(schema, _seed_words(prompt), depth=0)
    words = prompt.split()
    return {
        "id": hashlib.sha256(prompt.encode()).hexdigest()[:16],
        "summary": " ".join(words[:8]),
        "words": len(words),
    }


def _find_schema(prompt: str) -> Mapping[str, Any] | None:
    """The largest JSON object in the prompt that looks like a schema, if any (first 200 tried)."""
    decoder = json.JSONDecoder()
    best: Mapping[str, Any] | None = None
    best_len = 0
    i = prompt.find("{")
    for _ in range(200):
        if i == -1:
            break
        try:
            value, end = decoder.raw_decode(prompt, i)
        except json.JSONDecodeError:
            end = i
        else:
            looks_like = isinstance(value, dict) and bool({"type", "properties", "$schema"} & value.keys())
            if looks_like and end - i > best_len:
                best, best_len = value, end - i
        i = prompt.find("{", i + 1)
    return best


def _seed_words(prompt: str) -> list[str]:
    words = [w.strip(".,:;!?\"'()[]{}") for w in prompt.split()]
    return [w for w in words if w.isalpha()] or ["example"]


def _instance(schema: Any, words: list[str], depth: int) -> Any:
    """A value valid for the easy parts of JSON Schema; anything harder gets a plausible guess."""
    if not isinstance(schema, Mapping) or depth > 8:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return _instance(schema[key][0], words, depth + 1)
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            if isinstance(part, Mapping):
                merged.update(part)
        return _instance(merged, words, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: _instance(v, words, depth + 1) for k, v in props.items() if isinstance(k, str)}
    if kind == "array":
        n = max(1, int(schema.get("minItems", 1)))
        if "maxItems" in schema:
            n = min(n, int(schema["maxItems"]))
        return [_instance(schema.get("items", {}), words[i:] or words, depth + 1) for i in range(n)]
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, words)


def _number(schema: Mapping[str, Any], *, integer: bool) -> int | float:
    value: float = 0
    if isinstance(schema.get("minimum"), int | float):
        value = schema["minimum"]
    elif isinstance(schema.get("exclusiveMinimum"), int | float):
        value = schema["exclusiveMinimum"] + 1
    if isinstance(schema.get("maximum"), int | float):
        value = min(value, schema["maximum"])
    if isinstance(schema.get("exclusiveMaximum"), int | float) and value >= schema["exclusiveMaximum"]:
        value = schema["exclusiveMaximum"] - (1 if integer else 0.5)
    return int(value) if integer else float(value)


_FORMATS = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def _string(schema: Mapping[str, Any], words: list[str]) -> str:
    if schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    text = " ".join(words[:3])
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    if len(text) < low:
        text = (text + " " + "x" * low)[:low] if text else "x" * low
    if high is not None:
        text = text[: int(high)]
    return text
