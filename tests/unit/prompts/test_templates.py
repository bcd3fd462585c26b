"""The template sandbox and typed variables: what is refused at save time, at render, and never a crash."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optiloop.errors import InvalidInput
from optiloop.prompts import sandbox, templates
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


# --- bounded in time and memory -------------------------------------------------------------------
# Each of these once took seconds of CPU with the GIL held, or gigabytes, or both (`3 ** 20000000`:
# 12 s; `'a' * 500000000`: 1.5 GB). Each is now refused before any of that work is done.

SAVE_TIME_REFUSALS = [
    ("{{ 3 ** 10000000 }}", "digits"),
    ("{{ 3 ** 20000000 }}", "digits"),
    ("{{ 10 ** 5000 }}", "about 5,000 digits"),
    ("{{ 'a' * 500000000 }}", "500,000,000 characters"),
    ("{{ [1, 2] * 10 ** 8 }}", "characters"),
    ("{{ (10 ** 3000) * (10 ** 3000) }}", "digits"),
    ("{{ '%1000000000d' % 1 }}", "padded"),
    ("{{ 'a'|center(1000000000) }}", "center"),
    ("{{ 'a\nb'|indent(1000000000) }}", "indent"),
    ("{{ [1]|batch(100000000, 'x')|list }}", "batch"),
    ("{{ [1]|slice(100000000)|list }}", "slice"),
    ("x\n\n{{ 2 ** 100 }} {{ 'ab' ~ 'c' * 300000 }}", "line 3"),
]


@pytest.mark.parametrize(("body", "reason"), SAVE_TIME_REFUSALS)
def test_constant_expressions_past_the_limits_are_refused_when_saved(
    body: str, reason: str, time_factor: float
) -> None:
    t0 = time.perf_counter()
    with pytest.raises(InvalidInput) as exc:
        compile_template(body, {})
    assert time.perf_counter() - t0 < 0.5 * time_factor
    assert fields(exc) == ["body"] and reason in exc.value.message


RENDER_REFUSALS = [
    ("{{ n ** n }}", {"n": 100_000}, "digits"),
    ("{{ s * n }}", {"s": "ab", "n": 10**8}, "characters"),
    ("{{ [s] * n }}", {"s": "ab", "n": 100_000}, "characters"),
    ("{{ s.ljust(n) }}", {"s": "a", "n": 10**9}, "ljust"),
    ("{{ s.zfill(n) }}", {"s": "a", "n": 10**9}, "zfill"),
    ("{{ s.expandtabs(n) }}", {"s": "\t\t", "n": 10**8}, "expandtabs"),
    ("{{ s.replace('a', s) }}", {"s": "a" * 1000}, "replace"),
    ("{{ s|replace('a', s) }}", {"s": "a" * 1000}, "replace"),
    ("{{ '{:>1000000000}'.format(s) }}", {"s": "a"}, "width"),
    ("{{ '{0}{0}{0}'.format(s) }}", {"s": "x" * 90_000}, "formatted"),
    ("{{ '%(a)s%(a)s%(a)s' % {'a': s} }}", {"s": "x" * 90_000}, "%-formatted"),
    ("{{ s ~ s ~ s }}", {"s": "x" * 90_000}, "concatenation"),
    ("{{ s + s + s }}", {"s": "x" * 90_000}, "sum"),
    ("{{ [s, s, s]|join }}", {"s": "x" * 90_000}, "270,008 characters"),
    ("{{ s.join(xs) }}", {"s": "x" * 1000, "xs": ["y"] * 1000}, "join"),
    ("{{ s|wordwrap(1, wrapstring=s) }}", {"s": "a " * 1000}, "wordwrap"),
    ("{{ xs|sum(start=[]) }}", {"xs": [[1]] * 10}, "sum() adds numbers"),
    ("{{ s.encode() }}", {"s": "a"}, "encode"),
    ("{{ s.translate({97: s}) }}", {"s": "a"}, "translate"),
    ("{{ (1).to_bytes(1000000000, 'big') }}", {}, "to_bytes"),
    ("{{ ['a', 'b']|map('center', n)|join }}", {"n": 10**9}, "center"),
    # a list that repeats a list that repeats a list: exponential once printed
    (
        "{% set a = [s,s,s,s,s,s,s,s,s,s] %}{% set b = [a,a,a,a,a,a,a,a,a,a] %}"
        "{% set c = [b,b,b,b,b,b,b,b,b,b] %}{% set d = [c,c,c,c,c,c,c,c,c,c] %}{{ d|tojson }}",
        {"s": "x" * 30},
        "characters",
    ),
    # a million loop steps over strings that range() would not allow
    ("{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}", {"s": "x" * 90_000}, "loop steps"),
    # output captured into a block never reaches the output limit, but counts as emitted
    (
        "{% set x %}{% for i in range(1000) %}{% for j in range(1000) %}"
        + "y" * 100
        + "{% endfor %}{% endfor %}{% endset %}{{ x|length }}",
        {},
        "emitted",
    ),
    (
        "{% filter upper %}{% for i in range(1000) %}{% for j in range(1000) %}{{ s }}"
        "{% endfor %}{% endfor %}{% endfilter %}",
        {"s": "x" * 100},
        "emitted",
    ),
]


@pytest.mark.parametrize(("body", "values", "reason"), RENDER_REFUSALS)
def test_renders_past_the_limits_are_refused_quickly(
    body: str, values: dict, reason: str, time_factor: float
) -> None:
    decl = {k: {str: "str", int: "int", list: "list"}[type(v)] for k, v in values.items()}
    t = compile_template(body, decl)
    t0 = time.perf_counter()
    with pytest.raises(InvalidInput) as exc:
        t.render(values)
    assert time.perf_counter() - t0 < 1.5 * time_factor
    # on a loaded machine the render's own deadline can stop a template before the bound it was
    # written to reach: either way it is refused, quickly, naming the body
    msg = exc.value.message
    assert fields(exc) == ["body"] and (reason in msg or "the render took longer than" in msg), msg


def test_a_render_stops_at_its_deadline(monkeypatch: pytest.MonkeyPatch, time_factor: float) -> None:
    """Bounded operations that build nothing, many of them: each is cheap, the render as a whole is
    stopped (here after 0.3 s; 2 s by default)."""
    monkeypatch.setattr(sandbox, "MAX_RENDER_SECONDS", 0.3)
    monkeypatch.setattr(templates, "render_budget", lambda: sandbox.render_budget(seconds=0.3))
    t = compile_template(
        "{% for i in range(1000) %}{% for j in range(1000) %}{% if 'zz' in s %}!{% endif %}"
        "{% endfor %}{% endfor %}",
        {"s": "str"},
    )
    t0 = time.perf_counter()
    with pytest.raises(InvalidInput, match=r"longer than 0\.3 s"):
        t.render({"s": "x" * 90_000})
    assert time.perf_counter() - t0 < 1.0 * time_factor


@pytest.mark.parametrize("make", ["s ~ s", "s[1:]", "s.upper()", "[s, s]"])
def test_values_held_at_once_are_bounded_however_many_variables_hold_them(make: str) -> None:
    body = "".join(f"{{% set a{i} = {make} %}}" for i in range(1200))  # 1,200 values of 90,000+ chars
    t = compile_template(body, {"s": "str"})
    with pytest.raises(InvalidInput, match="built more than 20,000,000 characters") as exc:
        t.render({"s": "x" * 90_000})
    assert fields(exc) == ["body"]


def test_nesting_is_bounded_when_saved() -> None:
    for body in ("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", "{{ " + "+".join(["1"] * 3000) + " }}"):
        with pytest.raises(InvalidInput, match="nests too deeply") as exc:
            compile_template(body, {})
        assert fields(exc) == ["body"]


def test_within_the_limits_templates_render_as_jinja_does() -> None:
    body = (
        "{{ 10 ** 4000 > 0 }} {{ 2 ** 100 }} {{ (s ~ s)|length }} {{ s * 3 }} {{ [1, 2]|join(',') }} "
        "{{ '%05d'|format(3) }} {{ '%s-%s' % (s, s) }} {{ '{:>4}|{}'.format(s, 1) }} {{ s|center(6) }} "
        "{{ 'a b c'|wordwrap(1) }} {{ xs|sum }} {{ xs|batch(2, 0)|list }} {{ {'k': s}|tojson }} "
        "{{ s.upper().ljust(4, '.') }}|"
        "{% for x in tree recursive %}{% if x is iterable %}[{{ loop(x) }}]{% else %}{{ x }}{% endif %}"
        "{% endfor %}|{% for i in range(3) %}{{ loop.index }}/{{ loop.length }} {% endfor %}"
        "{% set block %}in {{ s }}{% endset %}{{ block }}"
    )
    t = compile_template(body, {"s": "str", "xs": "list", "tree": "json"})
    out = t.render({"s": "ab", "xs": [1, 2, 3], "tree": [[1, [2]], [3]]})
    assert out == (
        "True 1267650600228229401496703205376 4 ababab 1,2 00003 ab-ab   ab|1   ab   "
        'a\nb\nc 6 [[1, 2], [3, 0]] {"k": "ab"} AB..|[1[2]][3]|1/3 2/3 3/3 in ab'
    )
