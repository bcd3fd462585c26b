"""A generated system-under-test: the object the benchmark harness drives.

Same interface as the hand-written SUTs (`name`, `schema`, `feasible(p)`, `run(p)`), plus what a
generalisation report needs: `family` (the template it came from), `fail_buckets`, `describe()`
and `info` (feasible fraction, rarities, bucket budget). `run` is pure Python over precompiled
closures and a per-system cache of bucket ids: tens of microseconds per test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optiloop.testopt.sut.procedural.buckets import Feature
from optiloop.testopt.sut.procedural.failures import FailureMode, reproduces
from optiloop.testopt.sut.procedural.params import ParamDef, is_active
from optiloop.testopt.sut.procedural.relations import Relation

# failure buckets live above every behaviour bucket, so no behaviour bucket of any generated
# system can collide with a failure kind in a suite's pooled FAIL set
FAIL_BASE = 1 << 40


def digest(text: str) -> int:
    """A stable 32-bit hash (Python's hash() of str changes between processes)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big")


@dataclass
class CostModel:
    """duration grows with a load coordinate or two and with the mode; cost follows duration."""

    base_ms: float
    loads: tuple[tuple[str, float], ...]  # (numeric param, weight on its unit coordinate)
    mode: str | None
    factors: Mapping[str, float]
    cents_per_s: float

    def __call__(self, p: Mapping[str, Any], u: Mapping[str, float], failed: bool) -> tuple[int, int]:
        d = self.base_ms
        for name, w in self.loads:
            d *= 1.0 + w * u.get(name, 0.0)
        if self.mode is not None:
            d *= self.factors.get(p.get(self.mode, ""), 1.0)
        if failed:
            d *= 1.5
        return max(1, int(d)), max(1, round(d / 1000.0 * self.cents_per_s))


class GeneratedSystem:
    def __init__(
        self,
        seed: int,
        family: str,
        params: Sequence[ParamDef],
        relations: Sequence[Relation],
        features: Sequence[Feature],
        failures: Sequence[FailureMode],
        cost: CostModel,
        info: Mapping[str, Any],
    ) -> None:
        self.seed = seed
        self.name = f"gen-{seed:04d}"
        self.family = family
        self.params = tuple(params)
        self.relations = tuple(relations)
        self.features = tuple(features)
        self.failures = tuple(failures)
        self.cost = cost
        self.info = dict(info)
        for k, fm in enumerate(self.failures):
            fm.bucket = FAIL_BASE + digest(repr((self.name, "fail", k, fm.kind)))
        self.fail_buckets: frozenset[int] = frozenset(fm.bucket for fm in self.failures)
        self.flaky = any(fm.reproduce < 1 for fm in self.failures)
        self.schema: dict[str, Any] = {
            "params": {p.name: p.spec() for p in self.params},
            "relations": [r.src() for r in self.relations],
        }
        self._encoders: list[tuple[str, Callable[[Any], float], ParamDef | None]] = [
            (p.name, p.encoder(), p if p.parent is not None else None) for p in self.params if p.numeric
        ]
        self._ids: dict[tuple[Hashable, ...], int] = {}
        self._calls = 0

    # -- the SUT interface ---------------------------------------------------------------
    def feasible(self, p: Mapping[str, Any]) -> bool:
        return all(r.holds(p) for r in self.relations)

    def units(self, p: Mapping[str, Any]) -> dict[str, float]:
        """Unit coordinates of the numeric parameters present (and active) in `p`."""
        u: dict[str, float] = {}
        for name, enc, cond in self._encoders:
            if cond is None or is_active(cond, p):
                u[name] = enc(p[name])
        return u

    def buckets(self, p: Mapping[str, Any], u: Mapping[str, float] | None = None) -> set[int]:
        """The behaviour buckets of `p` (no failures)."""
        if u is None:
            u = self.units(p)
        keys: list[tuple[Hashable, ...]] = []
        for f in self.features:
            f.emit(p, u, keys)
        ids = self._ids
        out = set()
        for k in keys:
            b = ids.get(k)
            if b is None:
                b = ids[k] = digest(repr((self.name, k)))
            out.add(b)
        return out

    def run(self, p: Mapping[str, Any]) -> dict[str, Any]:
        self._calls += 1
        u = self.units(p)
        hit = self.buckets(p, u)
        severity = 0
        for fm in self.failures:
            if fm.contains(p) and (fm.reproduce >= 1 or reproduces(self.name, self._calls, p, fm, digest)):
                hit.add(fm.bucket)
                severity = max(severity, fm.severity)
        duration, cents = self.cost(p, u, severity > 0)
        return {
            "status": "fail" if severity else "pass",
            "duration_ms": duration,
            "cost_cents": cents,
            "failure_severity": severity,
            "coverage_delta": {"buckets_hit": sorted(hit)},
        }

    def reset(self) -> None:
        """Start the flaky-failure draws over, as a freshly generated system."""
        self._calls = 0

    # -- reporting -----------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return len(self.params)

    def describe(self) -> str:
        kinds: dict[str, int] = {}
        for p in self.params:
            k = "log-" + p.type if p.log else p.type
            kinds[k] = kinds.get(k, 0) + 1
        cond = sum(p.parent is not None for p in self.params)
        lines = [
            f"{self.name} [{self.family}] d={self.dim} ("
            + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items()))
            + (f"; {cond} conditional" if cond else "")
            + f"), feasible {self.info.get('feasible', 0):.0%}"
            + f", buckets <= {self.info.get('bucket_budget', 0)}"
            + f", difficulty {self.info.get('hard', 0):.2f}"
            + (", interior" if self.info.get("interior") else ""),
            "  relations: " + ("; ".join(self.schema["relations"]) or "none"),
            "  buckets: " + "; ".join(f.describe() for f in self.features),
        ]
        lines += [f"  failure {k}: {fm.describe()}" for k, fm in enumerate(self.failures)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"GeneratedSystem({self.name}, {self.family}, d={self.dim})"
