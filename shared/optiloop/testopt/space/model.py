"""The parameter space: typed params, the unit-cube encoding, and vectorised feasibility.

Every sampler works in the unit cube [0, 1)^d, one dimension per parameter, and `Space.decode`
maps points to typed columns. Working in one cube lets samplers, distances and surrogates be
type-agnostic while the decoded values are always valid for their type and range.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

ParamType = Literal["integer", "number", "string", "boolean"]


class CompiledExpr(Protocol):
    """What the expression language hands back (see `optiloop.testopt.space.expr`)."""

    source: str
    names: frozenset[str]

    def evaluate(self, cols: dict[str, np.ndarray], n: int) -> np.ndarray: ...


@dataclass(frozen=True)
class Param:
    name: str
    type: ParamType
    low: float | None = None
    high: float | None = None
    log: bool = False
    enum: tuple[Any, ...] | None = None
    active_if: CompiledExpr | None = field(default=None, compare=False)
    active_if_source: str | None = None

    @property
    def is_numeric(self) -> bool:
        return self.type in ("integer", "number")

    @property
    def n_levels(self) -> int | None:
        """Distinct values, or None for a continuum."""
        if self.type == "boolean":
            return 2
        if self.enum is not None:
            return len(self.enum)
        if self.type == "integer":
            return int(self.high - self.low) + 1  # type: ignore[operator]
        return None

    # -- unit <-> value -----------------------------------------------------------------
    def decode(self, u: np.ndarray) -> np.ndarray:
        u = np.clip(u, 0.0, np.nextafter(1.0, 0.0))
        if self.type == "boolean":
            return u >= 0.5
        if self.enum is not None:
            idx = np.minimum((u * len(self.enum)).astype(np.int64), len(self.enum) - 1)
            return np.asarray(self.enum)[idx]  # unicode (or bool) array: fast vectorised compares
        lo, hi = float(self.low), float(self.high)  # type: ignore[arg-type]
        if self.type == "integer":
            if self.log:
                # log-uniform over [lo, hi + 1) then floor: each integer keeps its log-width share
                a, b = math.log(lo), math.log(hi + 1)
                v = np.floor(np.exp(a + u * (b - a)))
            else:
                v = lo + np.floor(u * (hi - lo + 1))
            return np.clip(v, lo, hi)
        if self.log:
            a, b = math.log(lo), math.log(hi)
            return np.clip(np.exp(a + u * (b - a)), lo, hi)
        return lo + u * (hi - lo)

    def encode(self, v: np.ndarray) -> np.ndarray:
        """Inverse of decode; discrete values map to the centre of their cell."""
        if self.type == "boolean":
            return np.where(v.astype(bool), 0.75, 0.25)
        if self.enum is not None:
            index = {e: i for i, e in enumerate(self.enum)}
            idx = np.array([index[x] for x in v], dtype=float)
            return (idx + 0.5) / len(self.enum)
        lo, hi = float(self.low), float(self.high)  # type: ignore[arg-type]
        v = v.astype(float)
        if self.type == "integer":
            if self.log:
                a, b = math.log(lo), math.log(hi + 1)
                return (0.5 * (np.log(v) + np.log(v + 1)) - a) / (b - a)
            return (v - lo + 0.5) / (hi - lo + 1)
        if self.log:
            a, b = math.log(lo), math.log(hi)
            return (np.log(v) - a) / (b - a) if b > a else np.zeros_like(v)
        return (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)

    def to_json_value(self, v: Any) -> Any:
        if self.type == "boolean":
            return bool(v)
        if self.type == "integer":
            return int(v)
        if self.type == "number":
            return float(v)
        return str(v)  # np.str_ from a unicode column -> a plain str

    def spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.enum is not None and self.type == "string":
            out["enum"] = list(self.enum)
        if self.is_numeric:
            out["min"], out["max"] = self.low, self.high
            if self.log:
                out["log"] = True
        if self.active_if_source:
            out["active_if"] = self.active_if_source
        return out


@dataclass(frozen=True)
class Relation:
    """A parsed relation; `field` is where it came from, e.g. `constraints[base].relations[1]`."""

    source: str
    expr: CompiledExpr
    constraint: str
    field: str
    weight: float = 0.0  # soft relations only


@dataclass
class Batch:
    """n decoded points: typed columns plus which params are active in each point."""

    cols: dict[str, np.ndarray]
    active: dict[str, np.ndarray]
    n: int
    everywhere: np.ndarray | None = None  # the one mask all unconditional params share


class Space:
    def __init__(self, params: list[Param], hard: list[Relation], soft: list[Relation]) -> None:
        if not params:
            raise ValueError("a space needs at least one parameter")
        self.params = tuple(params)
        self.hard = tuple(hard)
        self.soft = tuple(soft)
        self.names = tuple(p.name for p in params)
        self.index = {p.name: i for i, p in enumerate(params)}
        self.dim = len(params)
        self._conditional, self._acyclic = _parents_first([p for p in params if p.active_if is not None])
        self._groups = _Groups(self.params)
        canon = {
            "params": {p.name: p.spec() for p in params},
            "hard": [r.source for r in hard],
            "soft": [[r.source, r.weight] for r in soft],
        }
        self.version = "sp-" + hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()[:12]

    # -- decoding ------------------------------------------------------------------------
    def decode(self, U: np.ndarray) -> Batch:
        U = np.atleast_2d(np.asarray(U, dtype=float))
        if np.isnan(U).any():  # a NaN coordinate would decode to an out-of-range value or index
            U = np.where(np.isnan(U), 0.5, U)
        n = U.shape[0]
        cols = self._groups.decode(U)
        everywhere = np.ones(n, dtype=bool)  # shared, never written in place: unconditional params
        active = dict.fromkeys(self.names, everywhere)
        # parents come first, so one pass settles every chain; only a cycle (which build_space
        # rejects) needs more, and then at most one pass per conditional param
        for _ in range(1 if self._acyclic else len(self._conditional)):
            changed = False
            for p in self._conditional:
                mask = self._active_where(p, cols, active, n)
                if not np.array_equal(mask, active[p.name]):
                    active[p.name] = mask
                    changed = True
            if not changed:
                break
        return Batch(cols=cols, active=active, n=n, everywhere=everywhere)

    @staticmethod
    def _active_where(
        p: Param, cols: dict[str, np.ndarray], active: dict[str, np.ndarray], n: int
    ) -> np.ndarray:
        """Rows where `p` exists: its condition holds and every parameter the condition reads exists.

        Unlike a relation, a condition on an inactive parent is not vacuously true: `ttl` with
        active_if `cache_size > 100` must not appear in a test that has no `cache_size` at all.
        """
        expr = p.active_if
        assert expr is not None
        with np.errstate(all="ignore"):
            val = np.asarray(expr.evaluate(cols, n), dtype=bool)
        if val.shape != (n,):
            val = np.broadcast_to(val, (n,)).copy()
        for name in expr.names:
            if name in active and name != p.name:
                val = val & active[name]
        return val

    def snap(self, U: np.ndarray) -> np.ndarray:
        """Move points to the canonical unit coordinate of the value they decode to.

        Two points that decode to the same test then have distance 0, and inactive params are
        pinned to 0.5 so they do not make two identical tests look different.
        """
        U = np.atleast_2d(np.asarray(U, dtype=float))
        batch = self.decode(U)
        out = self._groups.encode(batch.cols, U.shape)
        for i, p in enumerate(self.params):
            if self._conditional:
                out[~batch.active[p.name], i] = 0.5
        return out

    def encode_dicts(self, points: list[dict[str, Any]]) -> np.ndarray:
        """Unit coordinates of stored tests (absent params count as inactive -> 0.5)."""
        U = np.full((len(points), self.dim), 0.5)
        for i, p in enumerate(self.params):
            # a value from an older space version that no longer fits is left out, that value only
            present = [j for j, pt in enumerate(points) if _fits(p, pt.get(p.name))]
            if not present:
                continue
            vals = [points[j][p.name] for j in present]
            with np.errstate(all="ignore"):
                enc = p.encode(np.asarray(vals, dtype=object if p.enum is not None else float))
            ok = np.isfinite(enc)  # e.g. a value <= 0 stored before the param became log-scaled
            U[np.asarray(present)[ok], i] = np.clip(enc[ok], 0.0, 1.0)
        return U

    def to_dicts(self, batch: Batch) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for j in range(batch.n):
            d: dict[str, Any] = {}
            for p in self.params:
                if batch.active[p.name][j]:
                    d[p.name] = p.to_json_value(batch.cols[p.name][j])
            out.append(d)
        return out

    # -- feasibility -----------------------------------------------------------------------
    @staticmethod
    def _eval(expr: CompiledExpr, batch: Batch) -> np.ndarray:
        """Evaluate a boolean expression. Rows where a referenced param is inactive count as True:
        a relation about a parameter that does not exist in this test constrains nothing."""
        n, active, everywhere = batch.n, batch.active, batch.everywhere
        with np.errstate(all="ignore"):
            val = np.asarray(expr.evaluate(batch.cols, n), dtype=bool)
        if val.shape != (n,):
            val = np.broadcast_to(val, (n,)).copy()
        for name in expr.names:
            mask = active.get(name)
            if mask is not None and mask is not everywhere:
                val = val | ~mask
        return val

    def relation_mask(self, batch: Batch) -> np.ndarray:
        """(n, n_hard) bool: which hard relation each point satisfies."""
        if not self.hard:
            return np.ones((batch.n, 0), dtype=bool)
        return np.stack([self._eval(r.expr, batch) for r in self.hard], axis=1)

    def feasible(self, batch: Batch) -> np.ndarray:
        ok = np.ones(batch.n, dtype=bool)
        for r in self.hard:
            ok &= self._eval(r.expr, batch)
        return ok

    def soft_penalty(self, batch: Batch) -> np.ndarray:
        pen = np.zeros(batch.n)
        for r in self.soft:
            pen += r.weight * ~self._eval(r.expr, batch)
        return pen

    def feasible_dicts(self, points: list[dict[str, Any]]) -> np.ndarray:
        return self.feasible(self.decode(self.encode_dicts(points)))


class _Groups:
    """Params grouped by how they decode, so a batch decodes in a few array operations instead of
    one Python call per parameter: samplers decode thousands of points per suggestion."""

    def __init__(self, params: tuple[Param, ...]) -> None:
        self.params = params
        num = [(i, p) for i, p in enumerate(params) if p.is_numeric]
        self.num_idx = np.array([i for i, _ in num], dtype=np.int64)
        self.num_names = [p.name for _, p in num]
        lo = np.array([p.low for _, p in num], dtype=float)
        hi = np.array([p.high for _, p in num], dtype=float)
        self.lo, self.hi = lo, hi
        self.is_int = np.array([p.type == "integer" for _, p in num], dtype=bool)
        self.is_log = np.array([p.log for _, p in num], dtype=bool)
        top = np.where(self.is_int, hi + 1, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.a = np.where(self.is_log, np.log(np.where(self.is_log, lo, 1.0)), lo)
            self.b = np.where(self.is_log, np.log(np.where(self.is_log, top, 1.0)), top)
        self.cat = [
            (i, p.name, np.asarray(p.enum), len(p.enum))  # type: ignore[arg-type]
            for i, p in enumerate(params)
            if p.type == "string"
        ]
        self.bool = [(i, p.name) for i, p in enumerate(params) if p.type == "boolean"]

    def decode(self, U: np.ndarray) -> dict[str, np.ndarray]:
        U = np.clip(U, 0.0, np.nextafter(1.0, 0.0))
        cols: dict[str, np.ndarray] = {}
        if len(self.num_idx):
            X = self.a + U[:, self.num_idx] * (self.b - self.a)
            with np.errstate(over="ignore"):
                X = np.where(self.is_log, np.exp(X), X)
            X = np.where(self.is_int, np.floor(X), X)
            X = np.clip(X, self.lo, self.hi)
            for k, name in enumerate(self.num_names):
                cols[name] = X[:, k]
        for i, name, values, m in self.cat:
            cols[name] = values[np.minimum((U[:, i] * m).astype(np.int64), m - 1)]
        for i, name in self.bool:
            cols[name] = U[:, i] >= 0.5
        return {p.name: cols[p.name] for p in self.params}

    def encode(self, cols: dict[str, np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        out = np.empty(shape)
        if len(self.num_idx):
            V = np.stack([cols[name].astype(float) for name in self.num_names], axis=1)
            lo_cell = V  # an integer's cell is [v, v+1): encode to its middle
            hi_cell = np.where(self.is_int, V + 1, V)
            with np.errstate(divide="ignore", invalid="ignore"):
                lo_t = np.where(self.is_log, np.log(np.maximum(lo_cell, 1e-300)), lo_cell)
                hi_t = np.where(self.is_log, np.log(np.maximum(hi_cell, 1e-300)), hi_cell)
                width = self.b - self.a
                Z = np.where(width > 0, ((lo_t + hi_t) / 2 - self.a) / np.where(width > 0, width, 1.0), 0.0)
            out[:, self.num_idx] = Z
        for i, name, values, m in self.cat:
            index = {v: j for j, v in enumerate(values)}
            out[:, i] = (np.fromiter((index[v] for v in cols[name]), float, len(cols[name])) + 0.5) / m
        for i, name in self.bool:
            out[:, i] = np.where(cols[name], 0.75, 0.25)
        return out


def _fits(p: Param, v: Any) -> bool:
    """Whether a stored value can be encoded for `p` at all (None means absent)."""
    if v is None:
        return False
    if p.enum is not None:
        try:
            return v in p.enum
        except TypeError:  # unhashable, e.g. a list in a malformed document
            return False
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def _parents_first(conditional: list[Param]) -> tuple[list[Param], bool]:
    """Conditional params ordered so that each comes after the conditional params its condition reads.

    Returns the order and whether it is a true topological one (False when conditions form a cycle).
    """
    by_name = {p.name: p for p in conditional}
    done: set[str] = set()
    order: list[Param] = []
    pending = list(conditional)
    while pending:
        ready = [
            p
            for p in pending
            if p.active_if is None
            or all(d in done or d not in by_name or d == p.name for d in p.active_if.names)
        ]
        if not ready:
            order.extend(pending)
            return order, False
        for p in ready:
            done.add(p.name)
            order.append(p)
        pending = [p for p in pending if p.name not in done]
    return order, True
