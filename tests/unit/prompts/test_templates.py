"""The template sandbox and typed variables: what is refused at save time, at render, and never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optiloop.errors import InvalidInput
from optiloop.prompts.templates import MAX_RENDERED_CHARS, compile_template


def fields(exc: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [p.field for p in exc.value.problems]


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__ }}",
        "{{ q.__class__.__mro__ }}",
        "{{ q['__class__'] }}",
        "{{ q|attr('__class__') }}",
        "{{ q._private }}",
        "{% include 'x.txt' %}",
        "{% import 'x' as y %}",
        "{% extends 'base' %}",
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        "{% for a in range(3) %}{% for b in range(3) %}{% for c in range(3) %}"
        "{% endfor %}{% endfor %}{% endfor %}",
    ],
)
def test_unsafe_bodies_are_refused_when_saved(body: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        compile_template(body, {"q": "str"})
    assert fields(exc) == ["body"]


def test_sandbox_stops_mutation_and_huge_ranges_at_render() -> None:
    with pytest.raises(InvalidInput, match="unsafe"):
        compile_template("{{ xs.append(1) }}", {"xs": "list"}).render({"xs": []})
    with pytest.raises(InvalidInput, match="limited to 1000"):
        compile_template("{% for i in range(5000) %}.{% endfor %}", {}).render({})


def test_render_output_is_bounded() -> None:
    t = compile_template(
        "{% for i in range(1000) %}{% for j in range(1000) %}{{ s }}{% endfor %}{% endfor %}", {"s": "str"}
    )
    with pytest.raises(InvalidInput, match=str(MAX_RENDERED_CHARS)):
        t.render({"s": "xxxx"})


def test_types_missing_and_unknown_are_all_named_at_once() -> None:
    t = compile_template(
        "{{ n }} {{ f }} {{ b }} {{ s }} {{ xs|length }} {{ j|tojson }}",
        {"n": "int", "f": "float", "b": "bool", "s": "str", "xs": "list", "j": "json"},
    )
    assert (
        t.render({"n": 1, "f": 2, "b": True, "s": "x", "xs": [1, 2], "j": {"a": 1}})
        == '1 2 True x 2 {"a": 1}'
    )
    with pytest.raises(InvalidInput) as exc:
        t.render({"n": True, "f": "2", "s": "x", "xs": [], "j": None, "zzz": 1})
    assert sorted(fields(exc)) == ["variables.b", "variables.f", "variables.n", "variables.zzz"]


def test_defaults_then_overrides_then_values() -> None:
    t = compile_template("{{ tone }}:{{ q }}", {"tone": "str", "q": "str"}, {"tone": "plain"})
    assert t.render({"q": "x"}) == "plain:x"
    assert t.render({"q": "x"}, {"tone": "formal"}) == "formal:x"
    assert t.render({"q": "x", "tone": "warm"}, {"tone": "formal"}) == "warm:x"
    with pytest.raises(InvalidInput) as exc:
        compile_template("{{ q }}", {"q": "str"}, {"q": 3})
    assert fields(exc) == ["defaults.q"]


def test_declarations_are_checked() -> None:
    with pytest.raises(InvalidInput) as exc:
        compile_template("{{ a }}", {"a": "text", "_b": "str", "1c": "int"})
    # "a" has no valid type, so the body also uses an undeclared variable
    assert sorted(fields(exc)) == ["variables", "variables.1c", "variables._b", "variables.a"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.dictionaries(st.sampled_from(["a", "b"]), st.text(max_size=20)))
def test_arbitrary_bodies_only_ever_raise_invalid_input(body: str, values: dict[str, str]) -> None:
    try:
        t = compile_template(body, {"a": "str", "b": "str"})
        t.render({"a": values.get("a", ""), "b": values.get("b", "")})
    except InvalidInput:
        pass
