"""The template sandbox: Jinja's `ImmutableSandboxedEnvironment`, bounded in memory and in time.

Jinja's sandbox keeps a template away from Python internals, but not from asking for work: one C
call such as `3 ** 10000000` holds the GIL for seconds (every other request waits), `'a' * 500000000`
takes half a gigabyte, and a list that repeats a list that repeats a list is exponential once
printed. Worse, Jinja evaluates constant expressions while *compiling*, outside every runtime hook.
So here:

* nothing is evaluated at compile time: the optimizer is off (`optimized=False`) and `finalize`
  takes the context, which stops Jinja from folding printed constants;
* every operation that can make a value bigger than its inputs is checked *before* it runs, against
  the sizes of its operands: arithmetic (`+ - * / // % **`, through `call_binop`), `~`, list, tuple
  and dict literals (the compiled AST calls `bounded_concat` / `bounded_value`, see `bound_ast`),
  the str methods that pad, repeat or replace (through `call`; only an allowlist of str and number
  methods is reachable at all: no `encode`, `translate`, `to_bytes`), `str.format` field by field,
  and the filters that pad, repeat, fill or join;
* every value an operation, a call or a filter returns is measured (`size_of`: characters of a
  string, digits of an integer, the characters a container prints to, each reference counted), so
  no value a template builds passes `MAX_VALUE_SIZE` characters or an integer `MAX_INT_DIGITS` digits
  (Python's own limit for printing one);
* a render stops after `MAX_LOOP_STEPS` loop steps (every loop, recursive ones included, iterates
  through `bounded_iter`), after emitting `MAX_EMITTED_CHARS` characters (blocks captured with
  `{% set %}...{% endset %}` or `{% filter %}` included: literal text is emitted through `finalize`
  too), after building `MAX_BUILT_CHARS` characters of values in all (what it can hold at once, in
  however many variables), or after `MAX_RENDER_SECONDS`, whichever comes first. Each check runs
  between operations that are themselves bounded, so the overshoot is one operation.

A refusal raises `TemplateLimit` (a `SecurityError`), which the caller turns into a 422 naming the
body. `constant_problems` applies the same checks to the constant expressions of a body when it is
saved, so `{{ 3 ** 10000000 }}` never becomes a version at all.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from string import Formatter
from typing import Any, cast

from jinja2 import StrictUndefined, nodes, pass_context, pass_environment, pass_eval_context
from jinja2 import filters as jf
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.visitor import NodeTransformer
from markupsafe import EscapeFormatter, Markup

MAX_VALUE_SIZE = 200_000  # characters of any value a template builds (the rendered-output limit)
MAX_INT_DIGITS = 4_300  # Python's default limit for converting an int to text
MAX_RANGE = 1_000
MAX_LOOP_STEPS = 1_000_000
MAX_EMITTED_CHARS = 5 * MAX_VALUE_SIZE  # all output of one render, captured blocks included
MAX_BUILT_CHARS = 100 * MAX_VALUE_SIZE  # all values one render builds, summed (what it can hold at once)
MAX_RENDER_SECONDS = 2.0

_SIZE_CAP = 8 * MAX_VALUE_SIZE  # size_of stops counting past this: it only feeds comparisons with limits

# Reachable attributes of strings and numbers; anything else (encode, translate, maketrans, to_bytes,
# from_bytes, hex...) is refused like a private attribute.
STR_METHODS = frozenset(
    [
        "capitalize",
        "casefold",
        "center",
        "count",
        "endswith",
        "expandtabs",
        "find",
        "format",
        "format_map",
        "index",
        "isalnum",
        "isalpha",
        "isascii",
        "isdecimal",
        "isdigit",
        "isidentifier",
        "islower",
        "isnumeric",
        "isprintable",
        "isspace",
        "istitle",
        "isupper",
        "join",
        "ljust",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "replace",
        "rfind",
        "rindex",
        "rjust",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
        "zfill",
    ]
)
NUMBER_ATTRS = frozenset(
    [
        "real",
        "imag",
        "numerator",
        "denominator",
        "conjugate",
        "bit_length",
        "bit_count",
        "is_integer",
        "as_integer_ratio",
    ]
)
_PADDING = frozenset({"center", "ljust", "rjust", "zfill"})


class TemplateLimit(SecurityError):
    """A template asked for more than a render may use; the message says what and which limit."""


YIELD_EVERY_S = 0.0005  # a long render hands the GIL over this often


@dataclass
class _Budget:
    deadline: float
    steps: int
    emitted: int = 0
    built: int = 0
    next_yield: float = 0.0

    def pace(self) -> None:
        """Stop at the deadline; meanwhile give other threads (the event loop, other requests) the GIL
        every YIELD_EVERY_S instead of every switch interval (5 ms), which a request handing off
        between threads a dozen times would otherwise wait for at each hand-off."""
        now = time.monotonic()
        if now > self.deadline:
            raise TemplateLimit(f"the render took longer than {MAX_RENDER_SECONDS:g} s")
        if now >= self.next_yield:
            time.sleep(0)
            self.next_yield = now + YIELD_EVERY_S


_BUDGET: ContextVar[_Budget | None] = ContextVar("optiloop_template_budget", default=None)


@contextmanager
def render_budget(seconds: float = MAX_RENDER_SECONDS, steps: int = MAX_LOOP_STEPS) -> Iterator[None]:
    """Time, loop steps and output for one render (a context variable: each request has its own)."""
    now = time.monotonic()
    token = _BUDGET.set(_Budget(deadline=now + seconds, steps=steps, next_yield=now + YIELD_EVERY_S))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def tick() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.pace()


# --- sizes -------------------------------------------------------------------------------------


def _digits(n: int) -> int:
    """Decimal digits of |n|, rounded up (from the bit length: never converts the number)."""
    return (abs(n).bit_length() * 30103) // 100_000 + 1


def size_of(value: Any, _memo: dict[int, int] | None = None) -> int:
    """About how many characters `value` prints to: strings by length, integers by digits,
    containers by the sum of their items with each reference counted (a list that repeats one big
    string is as big as the text it prints). Memoised by identity, so a shared structure costs its
    distinct parts to measure, not its printed size; counting stops past a cap."""
    if isinstance(value, str):
        return len(value)
    if value is None or isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return _digits(value)
    if isinstance(value, float):
        return 24
    if isinstance(value, (bytes, bytearray)):
        return 4 * len(value)
    if not isinstance(value, (list, tuple, dict, set, frozenset)):
        return 16  # ranges, loop contexts, generators, undefined: their printed form is short
    memo = {} if _memo is None else _memo
    known = memo.get(id(value))
    if known is not None:
        return known
    memo[id(value)] = 0  # the immutable sandbox builds no cycles; if data had one, it counts once
    total = 2
    if isinstance(value, dict):
        for key, item in value.items():
            total += 4 + size_of(key, memo) + size_of(item, memo)
            if total > _SIZE_CAP:
                break
    else:
        for item in value:
            total += 2 + size_of(item, memo)
            if total > _SIZE_CAP:
                break
    memo[id(value)] = total
    return total


def _show(value: Any) -> str:
    big_int = isinstance(value, int) and _digits(value) > 30
    text = f"<{_digits(value)}-digit int>" if big_int else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check(value: Any, what: str) -> Any:
    """Refuse a value past the limits; return it unchanged otherwise. Each value checked is one the
    template built, so its size also counts against the render's MAX_BUILT_CHARS: a template cannot
    hold a thousand values of the largest size in a thousand variables."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = _digits(value)
        if size > MAX_INT_DIGITS + 1:
            raise TemplateLimit(
                f"{what} has about {size:,} digits; numbers in a template have at most {MAX_INT_DIGITS:,}"
            )
    else:
        size = size_of(value)
        if size > MAX_VALUE_SIZE:
            raise TemplateLimit(
                f"{what} would be {size:,} characters or more; values in a template are limited to "
                f"{MAX_VALUE_SIZE:,}"
            )
    budget = _BUDGET.get()
    if budget is not None:
        budget.built += size
        if budget.built > MAX_BUILT_CHARS:
            raise TemplateLimit(
                f"the template built more than {MAX_BUILT_CHARS:,} characters of values in one render"
            )
    return value


def _check_size(size: int, what: str) -> None:
    if size > MAX_VALUE_SIZE:
        shown = f"{size:,}" if size < 10**18 else "more than 10^18"
        raise TemplateLimit(
            f"{what} would be {shown} characters; values in a template are limited to {MAX_VALUE_SIZE:,}"
        )


def _num(digits: str | None) -> int:
    """A width or precision written in a format string (a long run of digits counts as huge)."""
    return int(digits) if digits and len(digits) <= 12 else (0 if not digits else 10**13)


def _is_int(v: Any) -> bool:
    return isinstance(v, int)  # bool included: True * 'x' is 'x'


# --- operators ---------------------------------------------------------------------------------

_BINOPS: dict[str, Callable[[Any, Any], Any]] = dict(ImmutableSandboxedEnvironment.default_binop_table)


def _pre_pow(base: Any, exp: Any) -> None:
    if not (_is_int(base) and _is_int(exp)) or exp <= 0 or abs(base) <= 1:
        return  # floats overflow with an OverflowError; 0, 1, -1 and negative exponents stay small
    digits = math.inf if exp > 4 * MAX_INT_DIGITS else exp * math.log10(abs(base))
    if digits > MAX_INT_DIGITS:
        about = f"about {digits:,.0f}" if digits != math.inf else "more than 10,000"
        raise TemplateLimit(
            f"{_show(base)} ** {_show(exp)} would have {about} digits; numbers in a template have at "
            f"most {MAX_INT_DIGITS:,}"
        )


def _pre_mul(left: Any, right: Any) -> None:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and _is_int(times):
            if times > 0:
                _check_size(size_of(seq) * times, f"repeating {_show(seq)} {_show(times)} times")
            return
    if _is_int(left) and _is_int(right) and _digits(left) + _digits(right) > MAX_INT_DIGITS + 1:
        raise TemplateLimit(
            f"{_show(left)} * {_show(right)} would have about {_digits(left) + _digits(right):,} digits; "
            f"numbers in a template have at most {MAX_INT_DIGITS:,}"
        )


def _pre_add(left: Any, right: Any) -> None:
    if isinstance(left, (str, list, tuple)) and type(left) is type(right):
        _check_size(size_of(left) + size_of(right), "the sum")


# %[(key)][flags][width][.precision][length]type
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.?)", re.DOTALL)


def check_percent(fmt: str, args: Any) -> None:
    """`fmt % args` (and the `format` filter): padding widths, precisions and the arguments each
    conversion may print, summed, must stay within the value limit. A mapping argument may be named
    by every conversion, so each counts it whole."""
    largest = max((size_of(a) for a in args), default=0) if isinstance(args, tuple) else size_of(args)
    total = len(fmt)
    for m in _PERCENT.finditer(fmt):
        width, precision, kind = m.groups()
        if "*" in (width, precision):
            raise TemplateLimit("'*' widths and precisions are not supported in templates")
        pad = max(_num(width), _num(precision))
        if pad > MAX_VALUE_SIZE:
            _check_size(pad, f"a %-conversion padded to {pad:,}")
        if kind != "%":
            total += pad + largest
    _check_size(total, "the %-formatted text")


def checked_binop(op: str, left: Any, right: Any) -> Any:
    tick()
    if op == "**":
        _pre_pow(left, right)
    elif op == "*":
        _pre_mul(left, right)
    elif op == "+":
        _pre_add(left, right)
    elif op == "%" and isinstance(left, str):
        check_percent(left, right)
    return check(_BINOPS[op](left, right), f"the result of {op}")


def bounded_concat(*parts: Any) -> str:
    """`a ~ b ~ c`: measured before joining."""
    tick()
    _check_size(sum(size_of(p) for p in parts), "the concatenation")
    return "".join(map(str, parts))


def bounded_value(value: Any) -> Any:
    """A list, tuple or dict literal (its items may repeat a big value), or a slice (a copy)."""
    tick()
    return check(value, "the value")


def bounded_iter(iterable: Any) -> Iterator[Any]:
    """Every loop of a template iterates through this: its steps count against the render's."""
    budget = _BUDGET.get()
    for item in iterable:
        if budget is not None:
            budget.steps -= 1
            if budget.steps < 0:
                raise TemplateLimit(f"the template ran more than {MAX_LOOP_STEPS:,} loop steps")
            budget.pace()
        yield item


def bounded_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise TemplateLimit(f"range() is limited to {MAX_RANGE} items in a template")
    return r


# --- str methods and str.format ----------------------------------------------------------------


def _int_arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: int) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _replaced_size(s: str, old: Any, new: Any, count: Any) -> int:
    if not (isinstance(old, str) and isinstance(new, str)):
        return len(s)  # str.replace raises its own TypeError
    n = s.count(old) if old else len(s) + 1
    if _is_int(count) and count >= 0:
        n = min(n, count)
    return len(s) + n * max(0, len(new) - len(old))


def _joined_size(sep: str, items: list[Any]) -> int:
    return sum(size_of(i) for i in items) + len(sep) * max(0, len(items) - 1)


def _precheck_str_method(s: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Check a str method call that can outgrow its string; returns the (possibly materialised) args."""
    if name in _PADDING:
        width = _int_arg(args, kwargs, 0, "width", 0)
        if _is_int(width) and width > MAX_VALUE_SIZE:
            _check_size(width, f"str.{name}({_show(width)})")
    elif name == "expandtabs":
        tabsize = _int_arg(args, kwargs, 0, "tabsize", 8)
        if _is_int(tabsize):
            _check_size(len(s) + s.count("\t") * max(0, tabsize), "str.expandtabs()")
    elif name == "replace" and len(args) >= 2:
        count = _int_arg(args, kwargs, 2, "count", -1)
        _check_size(_replaced_size(s, args[0], args[1], count), "str.replace()")
    elif name == "join" and len(args) == 1:
        items = list(bounded_iter(args[0]))
        _check_size(_joined_size(s, items), "str.join()")
        return (items,)
    return args


class _BoundedFormatter(SandboxedFormatter):
    """str.format / format_map in the sandbox, with every field's width and the total measured."""

    def __init__(self, env: Any, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self._size = 0

    def format_field(self, value: Any, format_spec: str) -> Any:
        tick()
        pad = max((_num(n) for n in re.findall(r"\d+", format_spec)), default=0)
        _check_size(pad, "a format field's width")
        self._size += max(pad, size_of(value))
        _check_size(self._size, "the formatted text")
        return super().format_field(value, format_spec)


class _BoundedEscapeFormatter(_BoundedFormatter, EscapeFormatter):
    pass


# --- filters -----------------------------------------------------------------------------------


def _pad_width(width: Any, what: str) -> None:
    if _is_int(width) and width > MAX_VALUE_SIZE:
        _check_size(width, f"{what}({_show(width)})")


def _center(value: Any, width: int = 80) -> str:
    _pad_width(width, "center")
    return jf.do_center(value, width)


def _indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    _pad_width(width, "indent")
    text = str(s)
    step = width if _is_int(width) else len(str(width))
    _check_size(len(text) + (text.count("\n") + 1) * max(0, int(step)), "indent()")
    return jf.do_indent(s, width, first, blank)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    if isinstance(value, str):
        check_percent(value, args if args else kwargs)
    return jf.do_format(value, *args, **kwargs)


@pass_eval_context
def _join(eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
    items = list(bounded_iter(value))
    # with an attribute each item prints at most its own size (or a short repr of a method)
    per_item = len(str(d)) + (64 if attribute is not None else 0)
    _check_size(sum(size_of(i) for i in items) + per_item * len(items), "join")
    return jf.sync_do_join(eval_ctx, items, d, attribute)


@pass_eval_context
def _replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: int | None = None) -> str:
    _check_size(_replaced_size(str(s), str(old), str(new), -1 if count is None else count), "replace")
    return jf.do_replace(eval_ctx, s, old, new, count)


def _fill_check(value: Any, count: Any, fill_with: Any, what: str) -> None:
    if what == "slice" and _is_int(count):  # slice loops once per slice
        _check_size(count, f"slice({_show(count)})")
    if fill_with is not None and _is_int(count):
        _check_size(size_of(value) + max(0, count) * (2 + size_of(fill_with)), what)


def _batch(value: Any, linecount: int, fill_with: Any = None) -> Iterator[list[Any]]:
    _fill_check(value, linecount, fill_with, "batch")
    return jf.do_batch(value, linecount, fill_with)


def _slice(value: Any, slices: int, fill_with: Any = None) -> Iterator[list[Any]]:
    _fill_check(value, slices, fill_with, "slice")
    return jf.sync_do_slice(value, slices, fill_with)


@pass_environment
def _wordwrap(
    environment: Any,
    s: str,
    width: int = 79,
    break_long_words: bool = True,
    wrapstring: str | None = None,
    break_on_hyphens: bool = True,
) -> str:
    text = str(s)
    sep = environment.newline_sequence if wrapstring is None else str(wrapstring)
    if _is_int(width) and width > 0:
        # a greedy wrap fills each line past half the width, except before a paragraph break
        lines = 2 * len(text) // width + text.count("\n") + 1
        _check_size(len(text) + lines * len(sep), "wordwrap")
    return jf.do_wordwrap(environment, s, width, break_long_words, wrapstring, break_on_hyphens)


@pass_eval_context
def _urlize(
    eval_ctx: Any,
    value: str,
    trim_url_limit: int | None = None,
    nofollow: bool = False,
    target: str | None = None,
    rel: str | None = None,
    extra_schemes: Iterable[str] | None = None,
) -> str:
    text = str(value)
    per_link = 40 + len(str(target or "")) + len(str(rel or ""))
    _check_size(3 * len(text) + (len(text) // 2 + 1) * per_link, "urlize")
    return jf.do_urlize(eval_ctx, value, trim_url_limit, nofollow, target, rel, extra_schemes)


@pass_environment
def _sum(environment: Any, iterable: Iterable[Any], attribute: Any = None, start: Any = 0) -> Any:
    if not isinstance(start, (int, float)):
        raise TemplateLimit("sum() adds numbers in a template; join or concatenate lists another way")
    return jf.sync_do_sum(environment, bounded_iter(iterable), attribute, start)


def _tojson(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


_REPLACED_FILTERS: dict[str, Callable[..., Any]] = {
    "center": _center,
    "indent": _indent,
    "format": _format,
    "join": _join,
    "replace": _replace,
    "batch": _batch,
    "slice": _slice,
    "wordwrap": _wordwrap,
    "urlize": _urlize,
    "sum": _sum,
    "tojson": _tojson,
}


def _measured(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Any filter: the deadline before, the size of what it returns after (keeps Jinja's pass_* marker)."""

    @wraps(func)
    def filtered(*args: Any, **kwargs: Any) -> Any:
        tick()
        return check(func(*args, **kwargs), f"the '{name}' filter's result")

    return filtered


# --- the environment ---------------------------------------------------------------------------


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    """Every printed value, literal text included (see `bound_ast`): measured and counted."""
    size = len(value) if isinstance(value, str) else size_of(value)
    budget = _BUDGET.get()
    if budget is not None:
        budget.emitted += size
        if budget.emitted > MAX_EMITTED_CHARS:
            raise TemplateLimit(
                f"the template emitted more than {MAX_EMITTED_CHARS:,} characters (captured blocks included)"
            )
        budget.pace()
    if size > MAX_VALUE_SIZE:
        _check_size(size, "a printed value")
    return value


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            optimized=False,  # no constant folding: `{{ 3 ** 10000000 }}` would be computed compiling
            finalize=_finalize,
        )
        # nothing else: no cycler, joiner, lipsum, dict, namespace
        self.globals = {"range": bounded_range}
        self.bounded_iter = bounded_iter
        self.bounded_concat = bounded_concat
        self.bounded_value = bounded_value
        filters = {**self.filters, **_REPLACED_FILTERS}
        self.filters = {name: _measured(name, f) for name, f in filters.items()}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        return checked_binop(operator, left, right)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if isinstance(obj, str):
            return attr in STR_METHODS
        if isinstance(obj, (int, float)):
            return attr in NUMBER_ATTRS
        return not isinstance(obj, (bytes, bytearray))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Jinja's own wrapper for `str.format`/`format_map`, with a formatter that measures fields."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        f_self: str = value.__self__
        is_format_map = value.__name__ == "format_map"

        def bounded_format(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one positional argument")
                kwargs, args = args[0], ()
            formatter: Formatter
            if isinstance(f_self, Markup):
                formatter = _BoundedEscapeFormatter(self, escape=f_self.escape)
                return Markup(formatter.vformat(f_self, args, kwargs))
            formatter = _BoundedFormatter(self)
            return str(formatter.vformat(f_self, args, kwargs))

        return bounded_format

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        tick()
        if isinstance(obj, LoopContext) and args:  # `loop(children)` in a recursive loop
            args = (bounded_iter(args[0]), *args[1:])
        else:
            owner = getattr(obj, "__self__", None)
            if isinstance(owner, str):
                args = _precheck_str_method(owner, getattr(obj, "__name__", ""), args, kwargs)
        return check(super().call(context, obj, *args, **kwargs), "the call's result")


# --- the compiled AST --------------------------------------------------------------------------


class _Bound(NodeTransformer):
    """Route loops, `~`, literals and literal text through the environment's bounded functions."""

    @staticmethod
    def _env_call(name: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
        func = nodes.EnvironmentAttribute(name, lineno=lineno)
        return nodes.Call(func, args, [], None, None, lineno=lineno)

    # jinja2 types generic_visit as returning Node; it returns the node it was given, transformed
    def visit_For(self, node: nodes.For) -> nodes.For:
        node = cast(nodes.For, self.generic_visit(node))
        node.iter = self._env_call("bounded_iter", [cast(nodes.Expr, node.iter)], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        node = cast(nodes.Concat, self.generic_visit(node))
        return self._env_call("bounded_concat", list(node.nodes), node.lineno)

    def _literal(self, node: nodes.Expr) -> nodes.Expr:
        node = cast(nodes.Expr, self.generic_visit(node))
        return self._env_call("bounded_value", [node], node.lineno)

    def visit_List(self, node: nodes.List) -> nodes.Expr:
        return self._literal(node)

    def visit_Dict(self, node: nodes.Dict) -> nodes.Expr:
        return self._literal(node)

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Expr:
        if node.ctx != "load":  # an assignment or loop target
            return cast(nodes.Expr, self.generic_visit(node))
        return self._literal(node)

    def visit_Getitem(self, node: nodes.Getitem) -> nodes.Expr:
        # Jinja compiles `x[a:b]` to a plain subscript, past the environment's getitem; a slice is a
        # copy, so it is measured and counted as built (`{% set a1 = s[1:] %}` a thousand times)
        if isinstance(node.arg, nodes.Slice) and node.ctx == "load":
            return self._literal(node)
        return cast(nodes.Expr, self.generic_visit(node))

    def visit_TemplateData(self, node: nodes.TemplateData) -> nodes.Const:
        # as a constant, literal text goes through `finalize` and counts as emitted output
        return nodes.Const(node.data, lineno=node.lineno)


def bound_ast(ast: nodes.Template, env: BoundedEnvironment) -> nodes.Template:
    out = cast(nodes.Template, _Bound().visit(ast))
    out.set_environment(env)
    return out


# --- save-time checks --------------------------------------------------------------------------

_NOT_CONST = object()
_UNOPS: dict[str, Callable[[Any], Any]] = dict(ImmutableSandboxedEnvironment.default_unop_table)


def constant_problems(ast: nodes.Template, env: BoundedEnvironment) -> list[str]:
    """Constant expressions of a body that break a limit, as 'line N: reason'. Evaluated with the
    same checks a render applies (each step bounded), in one pass over the tree."""
    problems: list[str] = []

    def attempt(node: nodes.Node, compute: Callable[[], Any]) -> Any:
        try:
            return compute()
        except TemplateLimit as exc:
            problems.append(f"line {node.lineno}: {exc.message or exc}")
        except Exception:  # e.g. 1 / 0 or 'a' - 1: reported when it renders, with its values
            pass
        return _NOT_CONST

    def fold(node: nodes.Node) -> Any:
        if isinstance(node, nodes.Const):
            return node.value
        if isinstance(node, nodes.BinExpr):
            left, right = fold(node.left), fold(node.right)
            if _NOT_CONST in (left, right):
                return _NOT_CONST
            return attempt(node, lambda: checked_binop(node.operator, left, right))
        if isinstance(node, nodes.UnaryExpr):
            value = fold(node.node)
            return _NOT_CONST if value is _NOT_CONST else attempt(node, lambda: _UNOPS[node.operator](value))
        if isinstance(node, nodes.Concat):
            parts = [fold(n) for n in node.nodes]
            return _NOT_CONST if _NOT_CONST in parts else attempt(node, lambda: bounded_concat(*parts))
        if isinstance(node, (nodes.List, nodes.Tuple)) and getattr(node, "ctx", "load") == "load":
            items = [fold(n) for n in node.items]
            if _NOT_CONST in items:
                return _NOT_CONST
            seq = list(items) if isinstance(node, nodes.List) else tuple(items)
            return attempt(node, lambda: bounded_value(seq))
        if isinstance(node, nodes.Filter) and node.node is not None and node.dyn_args is None:
            return _fold_filter(node, fold, attempt)
        for child in node.iter_child_nodes():
            fold(child)
        return _NOT_CONST

    def _fold_filter(node: nodes.Filter, fold: Callable[..., Any], attempt: Callable[..., Any]) -> Any:
        value = fold(node.node)
        args = [fold(a) for a in node.args]
        kwargs = {str(k.key): fold(k.value) for k in node.kwargs}
        if node.dyn_kwargs is not None:
            fold(node.dyn_kwargs)
            return _NOT_CONST
        func = env.filters.get(node.name)
        if func is None or getattr(func, "jinja_pass_arg", None) is not None:
            return _NOT_CONST
        if _NOT_CONST in (value, *args, *kwargs.values()):
            return _NOT_CONST
        return attempt(node, lambda: func(value, *args, **kwargs))

    fold(ast)
    return problems
