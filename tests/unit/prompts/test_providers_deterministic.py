"""The deterministic provider: pure answers, honest token counts, scripted failures."""

from __future__ import annotations

import json
import threading

import jsonschema
import pytest

from optiloop.prompts.providers.deterministic import DeterministicProvider
from optiloop.prompts.providers.port import CompletionRequest, Decoding, ProviderError, ProviderTimeout
from optiloop.prompts.tokens import estimate_tokens


def _req(model: str, prompt: str, **kw: object) -> CompletionRequest:
    return CompletionRequest(model=model, prompt=prompt, **kw)  # type: ignore[arg-type]


def test_echo_returns_the_prompt() -> None:
    out = DeterministicProvider().complete(_req("echo", "Hello there"))
    assert out.text == "Hello there" and out.finish_reason == "stop"
    assert out.prompt_tokens == estimate_tokens("Hello there") == out.completion_tokens
    assert out.provider == "deterministic" and out.latency_ms == 0.2


def test_echo_answers_a_qa_prompt_with_the_last_line_after_the_last_answer_cue() -> None:
    prompt = "Q: capital of France?\nA: Paris\nQ: capital of Italy?\nA: Rome\n\n"
    assert DeterministicProvider().complete(_req("echo", prompt)).text == "Rome"
    # an empty final answer: the last line before it (the question)
    assert DeterministicProvider().complete(_req("echo", "Q: 2+2?\nA:")).text == "Q: 2+2?"
    # "DATA:" is not an answer cue
    assert DeterministicProvider().complete(_req("echo", "DATA: x")).text == "DATA: x"


def test_echo_truncates_to_max_tokens_and_honours_stop() -> None:
    prompt = " ".join(["word"] * 100)
    out = DeterministicProvider().complete(_req("echo", prompt, decoding=Decoding(max_tokens=10)))
    assert out.finish_reason == "length" and out.completion_tokens == 10
    assert prompt.startswith(out.text)
    out = DeterministicProvider().complete(_req("echo", "one. two. three", decoding=Decoding(stop=(". t",))))
    assert out.text == "one"


def test_same_request_same_answer() -> None:
    a = DeterministicProvider().complete(_req("json", "Summarise the incident report"))
    b = DeterministicProvider().complete(_req("json", "Summarise the incident report"))
    assert a == b
    assert set(json.loads(a.text)) == {"id", "summary", "words"}


def test_json_follows_a_schema_in_the_prompt() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 3, "maxLength": 20},
            "severity": {"enum": ["low", "high"]},
            "score": {"type": "number", "minimum": 0.5, "maximum": 1},
            "count": {"type": "integer", "exclusiveMinimum": 2},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "due": {"type": "string", "format": "date"},
            "owner": {
                "type": ["null", "object"],
                "properties": {"email": {"type": "string", "format": "email"}},
            },
            "ok": {"type": "boolean"},
        },
        "required": ["title", "severity", "score", "count", "tags", "due", "owner", "ok"],
        "additionalProperties": False,
    }
    prompt = (
        f"Extract the ticket.\nAnswer with JSON matching this schema:\n{json.dumps(schema)}\nTicket: full"
    )
    out = DeterministicProvider().complete(_req("json", prompt, decoding=Decoding(max_tokens=1000)))
    value = json.loads(out.text)
    jsonschema.Draft202012Validator(schema).validate(value)


def test_script_by_model_and_by_prompt_substring() -> None:
    p = DeterministicProvider({"gpt-x": "fixed", "refund": "Refunds take 5 days."})
    assert p.complete(_req("gpt-x", "anything")).text == "fixed"
    assert p.complete(_req("echo", "How long does a refund take?")).text == "Refunds take 5 days."
    assert p.complete(_req("echo", "unrelated")).text == "unrelated"
    assert len(p.calls) == 3


def test_script_sequence_fails_n_times_then_succeeds_and_repeats_the_last() -> None:
    p = DeterministicProvider({"echo": [ProviderError("503"), ProviderTimeout("slow"), "ok"]})
    with pytest.raises(ProviderError) as first:
        p.complete(_req("echo", "x"))
    assert first.value.retryable and not isinstance(first.value, ProviderTimeout)
    with pytest.raises(ProviderTimeout):
        p.complete(_req("echo", "x"))
    assert p.complete(_req("echo", "x")).text == "ok"
    assert p.complete(_req("echo", "x")).text == "ok"


def test_scripted_exception_keeps_its_attributes_and_is_a_fresh_copy() -> None:
    err = ProviderError("bad request", provider="det", retryable=False)
    p = DeterministicProvider({"echo": err})
    raised = []
    for _ in range(2):
        with pytest.raises(ProviderError) as info:
            p.complete(_req("echo", "x"))
        raised.append(info.value)
    assert raised[0] is not raised[1] and raised[0] is not err
    assert raised[0].retryable is False and raised[0].provider == "det"


def test_unknown_model_is_not_retryable() -> None:
    with pytest.raises(ProviderError, match="unknown model") as info:
        DeterministicProvider().complete(_req("gpt-9", "x"))
    assert info.value.retryable is False


def test_script_sequence_is_consumed_once_per_call_across_threads() -> None:
    p = DeterministicProvider({"echo": [str(i) for i in range(100)]})
    got: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            text = p.complete(_req("echo", "x")).text
            with lock:
                got.append(text)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got, key=int) == [str(i) for i in range(100)]
