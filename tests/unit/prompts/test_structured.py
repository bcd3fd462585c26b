"""Structured output: schema checks, validation with JSON paths, repair prompts, the retry helper."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from optiloop.errors import InvalidInput, UpstreamFailed
from optiloop.prompts.catalog import BUILTIN, Catalog, ModelSpec, ProviderConfig
from optiloop.prompts.providers.deterministic import DeterministicProvider
from optiloop.prompts.providers.port import CompletionRequest, ProviderError
from optiloop.prompts.routing import Router, RoutingPolicy
from optiloop.prompts.structured import check_schema, complete_structured, repair_prompt, validate_output

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0},
        "email": {"type": "string", "format": "email"},
        "pets": {
            "type": "array",
            "items": {"type": "object", "properties": {"kind": {"enum": ["cat", "dog"]}}},
        },
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}


def test_a_valid_schema_passes() -> None:
    check_schema(PERSON)
    check_schema(
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "prefixItems": [{"type": "string"}]}
    )


@pytest.mark.parametrize(
    ("schema", "needle"),
    [
        ({"type": "strin"}, "is not valid under any of the given schemas"),
        ({"type": "object", "properties": {"age": {"minimum": "zero"}}}, "'zero' is not of type 'number'"),
        ({"required": "name"}, "'name' is not of type 'array'"),
        ([1, 2], "must be a JSON Schema object"),
    ],
)
def test_an_invalid_schema_is_a_422_on_schema(schema: Any, needle: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_schema(schema)
    (problem,) = info.value.details
    assert problem["field"] == "schema" and needle in problem["reason"]


def test_schema_problem_location_is_reported() -> None:
    with pytest.raises(InvalidInput) as info:
        check_schema({"type": "object", "properties": {"age": {"minimum": "zero"}}})
    assert info.value.details[0]["at"] == "$.properties.age.minimum"


def test_valid_output_with_and_without_fences() -> None:
    good = {"name": "Ada", "age": 36}
    assert validate_output(json.dumps(good), PERSON) == (good, None)
    assert validate_output(f"```json\n{json.dumps(good)}\n```", PERSON) == (good, None)
    assert validate_output(f"Here you go:\n```\n{json.dumps(good)}\n```\nAnything else?", PERSON) == (
        good,
        None,
    )


def test_invalid_json_says_where() -> None:
    value, error = validate_output('{"name": "Ada", "age": }', PERSON)
    assert value is None and error is not None
    assert error.startswith("not valid JSON:") and "line 1 column 24" in error


def test_schema_violations_name_their_json_paths() -> None:
    text = json.dumps(
        {"name": "", "age": -1, "email": "not-an-email", "pets": [{"kind": "cat"}, {"kind": "fish"}]}
    )
    value, error = validate_output(text, PERSON)
    assert value is None and error is not None
    assert "at $.age: -1 is less than the minimum of 0" in error
    assert "at $.pets[1].kind: 'fish' is not one of ['cat', 'dog']" in error
    assert "at $.name:" in error
    assert "at $.email: 'not-an-email' is not a 'email'" in error  # formats are checked
    _, missing = validate_output('{"name": "Ada"}', PERSON)
    assert missing == "at $: 'age' is a required property"


def test_many_errors_are_capped() -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    _, error = validate_output(json.dumps(["x"] * 9), schema)
    assert error is not None and error.count("is not of type") == 5 and error.endswith("and 4 more")


def test_unresolvable_ref_is_reported_not_raised() -> None:
    _, error = validate_output("{}", {"$ref": "#/$defs/missing"})
    assert error is not None and "cannot be resolved" in error


def test_repair_prompt_carries_the_error_and_the_previous_answer() -> None:
    p = repair_prompt(
        "Extract the person.", "at $.age: -1 is less than the minimum of 0", previous='{"age": -1}'
    )
    assert p.startswith("Extract the person.")
    assert "at $.age: -1 is less than the minimum of 0" in p and '{"age": -1}' in p
    assert "only the corrected JSON" in p
    assert "previous answer" not in repair_prompt("x", "e")


# -- the retry helper, through the real router ----------------------------------------------------


def _router(provider: DeterministicProvider) -> tuple[Router, list[ModelSpec]]:
    catalog = Catalog(
        providers=(ProviderConfig("det", "deterministic"),),
        models=(ModelSpec("m", "det", "json", 1.0, 4.0, 0.5, 10.0, 32_000),),
    )
    router = Router(catalog, {"det": provider}, sleep=lambda s: None, rng=random.Random(1))
    return router, router.candidates(RoutingPolicy(), 100, 100)


def _request() -> CompletionRequest:
    return CompletionRequest(model="", prompt="Extract the person from: Ada, 36.")


def test_valid_first_time() -> None:
    provider = DeterministicProvider({"Extract": '{"name": "Ada", "age": 36}'})
    router, cands = _router(provider)
    _, value, used = complete_structured(router, _request(), cands, PERSON)
    assert value == {"name": "Ada", "age": 36} and used == 1
    assert provider.calls[0].json_mode is True


def test_repaired_on_the_second_round() -> None:
    provider = DeterministicProvider(
        {"Extract": ['{"name": "Ada", "age": "36"}', '```json\n{"name": "Ada", "age": 36}\n```']}
    )
    router, cands = _router(provider)
    routed, value, used = complete_structured(router, _request(), cands, PERSON)
    assert value == {"name": "Ada", "age": 36} and used == 2
    second = provider.calls[1].prompt
    assert second.startswith("Extract the person from: Ada, 36.")
    assert "at $.age: '36' is not of type 'integer'" in second
    # both rounds were billed
    assert len(routed.attempts) == 2
    assert routed.cost_usd > routed.spec.input_usd_per_1m * routed.completion.prompt_tokens / 1e6


def test_gives_up_with_a_422_carrying_the_last_error() -> None:
    provider = DeterministicProvider(
        {"Extract": ["not json", '{"name": "Ada"}', '{"name": "Ada", "age": -3}']}
    )
    router, cands = _router(provider)
    with pytest.raises(InvalidInput) as info:
        complete_structured(router, _request(), cands, PERSON, max_attempts=3)
    assert "after 3 attempts" in info.value.message
    assert "at $.age: -3 is less than the minimum of 0" in info.value.message
    (problem,) = info.value.details
    assert problem["field"] == "schema" and problem["last_error"].startswith("at $.age")
    assert problem["attempts"] == 3 and problem["cost_usd"] > 0
    assert len(provider.calls) == 3
    # each repair prompt starts from the original prompt, not from the previous repair
    assert provider.calls[2].prompt.count("Extract the person") == 1


def test_the_deterministic_json_model_satisfies_a_schema_given_in_the_prompt() -> None:
    router, cands = _router(DeterministicProvider())
    request = CompletionRequest(model="", prompt=f"Answer as JSON matching {json.dumps(PERSON)}")
    _, value, used = complete_structured(router, request, cands, PERSON)
    assert used == 1 and set(value) == {"name", "age", "email", "pets"}


def test_a_bad_schema_is_refused_before_any_call() -> None:
    provider = DeterministicProvider()
    router, cands = _router(provider)
    with pytest.raises(InvalidInput):
        complete_structured(router, _request(), cands, {"type": 5})
    assert provider.calls == []


def test_upstream_failure_propagates() -> None:
    router, cands = _router(DeterministicProvider({"json": ProviderError("down", retryable=False)}))
    with pytest.raises(UpstreamFailed):
        complete_structured(router, _request(), cands, PERSON)


def test_builtin_catalogue_json_model_works_end_to_end() -> None:
    from optiloop.prompts.providers.registry import build_providers

    router = Router(BUILTIN, build_providers(BUILTIN))
    cands = router.candidates(RoutingPolicy(), 50, 200, model="det-json")
    request = CompletionRequest(model="", prompt=f"Schema: {json.dumps(PERSON)}", timeout_s=5)
    routed, value, _ = complete_structured(router, request, cands, PERSON)
    assert routed.spec.name == "det-json" and value["age"] == 0


def test_a_spent_deadline_stops_before_any_call() -> None:
    from optiloop.errors import UpstreamTimeout

    provider = DeterministicProvider()
    router, cands = _router(provider)
    with pytest.raises(UpstreamTimeout):
        complete_structured(router, _request(), cands, PERSON, deadline_s=0.0)
    assert provider.calls == []
