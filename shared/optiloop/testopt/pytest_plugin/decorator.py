"""`@optiloop.parametrize(...)`: mark a test function whose parameters OptiLoop suggests.

The decorator only validates and records the request as a mark; the plugin's
`pytest_generate_tests` does the work at collection. Arguments are checked here, at import of the
test module, so a typo (`generator="hybird"`, a fallback without a space) fails before any server
is asked for anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

MARK = "optiloop_parametrize"
GENERATORS = ("random", "qmc", "coverage", "bo", "hybrid")  # plus any plug-in the server has installed
GENERATOR_NAME = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
RESERVED_OPTIONS = {
    "batch_size": "use n=",
    "generator": "use generator=",
    "seed": "use seed=",
    "stream": "the plugin reads one JSON answer",
}
MAX_N = 10_000  # suggested in requests of 500; a larger batch per function is a load test, not a suite


@dataclass(frozen=True)
class Request:
    """What one decorated function asks for; stored as the mark's single argument."""

    project: str
    n: int
    argname: str
    generator: str
    seed: int | None
    fallback: Literal["random"] | None
    space: Mapping[str, Any] | None
    options: Mapping[str, Any] = field(default_factory=dict)

    def body(self, seed: int | None) -> dict[str, Any]:
        """The tests:suggest body (batch_size is set per request by the client)."""
        out: dict[str, Any] = {**self.options, "generator": self.generator}
        if seed is not None:
            out["seed"] = seed
        return out


def parametrize(
    project: str,
    n: int = 20,
    argname: str = "params",
    generator: str = "hybrid",
    seed: int | None = None,
    fallback: Literal["random"] | None = None,
    space: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> pytest.MarkDecorator:
    """Parametrize `argname` with `n` test cases suggested by OptiLoop for `project` (id or name).

    `generator` and `seed` go to tests:suggest (a seed given here wins over --optiloop-seed);
    `options` adds other fields of its body (objectives, objective_weights, diversity, budget_cents).
    `fallback="random"` lets the session run offline when the server is unreachable (or with
    --optiloop-off): n seeded random feasible cases drawn locally from `space`, a constraint
    document as the API takes it (`{"params": {...}, "relations": [...]}`), and nothing reported.
    """
    if not isinstance(project, str) or not project.strip():
        raise TypeError("optiloop.parametrize: project must be a project id ('prj_...') or name")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_N:
        raise ValueError(f"optiloop.parametrize: n must be an integer 1..{MAX_N}, got {n!r}")
    if not isinstance(argname, str) or not argname.isidentifier():
        raise ValueError(f"optiloop.parametrize: argname must be a Python identifier, got {argname!r}")
    if not isinstance(generator, str) or not GENERATOR_NAME.match(generator):
        raise ValueError(
            f"optiloop.parametrize: generator must be one of {', '.join(GENERATORS)} or the name of a "
            f"generator plug-in installed on the server; got {generator!r}"
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63):
        raise ValueError(f"optiloop.parametrize: seed must be an integer 0..2^63-1, got {seed!r}")
    if fallback not in (None, "random"):
        raise ValueError(f"optiloop.parametrize: fallback must be None or 'random', got {fallback!r}")
    if space is not None and not isinstance(space, Mapping):
        raise TypeError(
            "optiloop.parametrize: space must be a constraint document {'params': ..., 'relations': ...}"
        )
    if fallback == "random" and space is None:
        raise ValueError(
            "optiloop.parametrize: fallback='random' needs space={'params': ..., 'relations': ...} "
            "to draw offline cases from"
        )
    opts = dict(options or {})
    for key, why in RESERVED_OPTIONS.items():
        if key in opts:
            raise ValueError(f"optiloop.parametrize: options may not set {key!r}: {why}")
    req = Request(
        project=project,
        n=n,
        argname=argname,
        generator=generator,
        seed=seed,
        fallback=fallback,
        space=space,
        options=opts,
    )
    mark: pytest.MarkDecorator = getattr(pytest.mark, MARK)(req)
    return mark
