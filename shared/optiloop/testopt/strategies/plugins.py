"""Generators from other packages, through the `optiloop.generators` entry point group.

A team with its own idea of where bugs live (a grammar fuzzer, a model of its service, yesterday's
incident list) ships a class with a `name` and a `propose(request) -> list[dict]` method:

    [project.entry-points."optiloop.generators"]
    incidents = "mypkg.optiloop_gen:IncidentReplay"

It then serves as `generator: "incidents"` and as an arm of `hybrid`, where it must earn its share
against QMC like every built-in operator. A plug-in is never trusted: what it returns is decoded,
snapped and checked against the space like anything else, tests that are not feasible (or are not
tests at all) are refused and logged, and a plug-in that raises contributes nothing:
the batch is still served by the other operators. Plug-ins are held to the conformance suite the
built-ins pass (tests/unit/testopt/strategies/test_generator_conformance.py: always feasible,
never repeats, seeded runs reproduce); test_plugins.py shows how to run it on one.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any, Protocol

import numpy as np

from optiloop.testopt.space import Space
from optiloop.testopt.strategies.context import SuggestContext
from optiloop.testopt.strategies.operators import Proposal

log = logging.getLogger("optiloop.plugins")

GROUP = "optiloop.generators"
BUILTIN = frozenset({"random", "qmc", "coverage", "bo", "hybrid", "rl"})  # names a plug-in cannot take
NAME = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
HISTORY = 500  # the newest runs a plug-in sees
OVERSHOOT = 4  # a plug-in may return up to this many times what was asked; the rest is ignored


@dataclass(frozen=True)
class PastRun:
    params: Mapping[str, Any]
    status: str
    failure_severity: int
    buckets: tuple[int | str, ...]


@dataclass(frozen=True)
class ProposalRequest:
    """What a plug-in gets: how many tests, the space as the API documents it, what ran lately,
    and a seeded random generator (use it, and only it, so seeded runs reproduce)."""

    n: int
    space: Mapping[str, Any]  # {"params": {...}, "relations": [...]} (hard relations only)
    history: tuple[PastRun, ...]
    rng: np.random.Generator


class GeneratorPlugin(Protocol):
    name: str

    def propose(self, request: ProposalRequest) -> Sequence[Mapping[str, Any]]: ...


def _load() -> dict[str, GeneratorPlugin]:
    found: dict[str, GeneratorPlugin] = {}
    for ep in entry_points(group=GROUP):
        try:
            obj = ep.load()
            plugin = obj() if isinstance(obj, type) else obj
            name = getattr(plugin, "name", ep.name)
        except Exception:  # a broken plug-in must not take the platform down with it
            log.exception("generator plug-in %r could not be loaded; it is ignored", ep.name)
            continue
        if not isinstance(name, str) or not NAME.match(name) or name in BUILTIN or name in found:
            log.error("generator plug-in %r has an unusable or taken name %r; it is ignored", ep.name, name)
            continue
        if not callable(getattr(plugin, "propose", None)):
            log.error("generator plug-in %r has no propose(request) method; it is ignored", name)
            continue
        found[name] = plugin
    return found


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _cached() -> dict[str, GeneratorPlugin]:
    with _lock:
        return _load()


def plugins() -> dict[str, GeneratorPlugin]:
    """The installed plug-ins by name, loaded once per process."""
    return _cached()


def refresh() -> None:
    """Forget the loaded plug-ins (tests install and remove them)."""
    _cached.cache_clear()


def _request(ctx: SuggestContext, n: int) -> ProposalRequest:
    h = ctx.history
    past = []
    for tid in h.run_order[-HISTORY:]:
        row = h.test_index.get(tid)
        r = h.runs[tid]
        if row is not None:
            past.append(PastRun(h.tests[row].params, r.status, r.failure_severity, tuple(r.buckets)))
    space = {
        "params": {p.name: p.spec() for p in ctx.space.params},
        "relations": [r.source for r in ctx.space.hard],
    }
    return ProposalRequest(n=n, space=space, history=tuple(past), rng=ctx.rng)


def operator_for(name: str, plugin: GeneratorPlugin) -> Callable[[SuggestContext, int], Proposal]:
    """The plug-in as an operator: its tests, decoded and checked; nothing if it fails."""

    def op(ctx: SuggestContext, n: int) -> Proposal:
        empty = Proposal(np.empty((0, ctx.space.dim)))
        try:
            out = list(plugin.propose(_request(ctx, n)))[: OVERSHOOT * n]
        except Exception:
            log.exception("generator plug-in %r raised; its share of the batch goes to the others", name)
            return empty
        points, refused = [], 0
        for p in out:
            u = as_test(ctx.space, p)
            if u is None:
                refused += 1
            else:
                points.append(u)
        if refused:
            log.warning(
                "generator plug-in %r: %d of %d proposed tests refused (infeasible, unknown params "
                "or values outside their ranges)",
                name,
                refused,
                len(out),
            )
        return Proposal(np.array(points).reshape(-1, ctx.space.dim)) if points else empty

    return op


def as_test(space: Space, p: object) -> np.ndarray | None:
    """The snapped unit point of a proposed test, or None unless it is exactly a test the platform
    would store: known params only, every active one present, values in range (integers whole,
    enums listed) that survive encoding unchanged, and every hard relation satisfied."""
    if not isinstance(p, Mapping) or set(p) - set(space.names):
        return None
    try:
        U = space.snap(space.encode_dicts([dict(p)]))
        batch = space.decode(U)
        if not bool(space.feasible(batch)[0]):
            return None
        back = space.to_dicts(batch)[0]
    except Exception:
        return None
    if set(back) != set(p):  # a value that did not fit was dropped, or activity disagrees
        return None
    for k, v in p.items():
        b = back[k]
        if isinstance(b, bool) or isinstance(v, bool) or isinstance(b, str):
            if v != b or type(v) is not type(b):
                return None
        elif not isinstance(v, int | float) or not math.isclose(
            float(v), float(b), rel_tol=1e-9, abs_tol=1e-12
        ):
            return None
    return U[0]
