"""The builder the family templates share: parameters, relations with a feasibility check,
calibrated levels and features, failures and the cost model.

Randomness: structure comes from a `random.Random`, volumes from a numpy generator, both seeded
from the system's seed through a hash (never Python's `hash`), so a seed is a system on every
machine. Relations are retried with derived seeds (and looser quantiles) until the space is
feasible often enough for the platform's and the harness's samplers alike.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from optiloop.testopt.sut.procedural.buckets import (
    Band,
    Count,
    Derived,
    Edges,
    Feature,
    Flag,
    Grid,
    Interaction,
    Level,
    Mode,
    Pockets,
    Radial,
    Regime,
    Tier,
)
from optiloop.testopt.sut.procedural.failures import (
    RARITY_RANGE,
    BoxFitter,
    FailureMode,
    draw_severities,
    draw_target,
)
from optiloop.testopt.sut.procedural.params import ParamDef
from optiloop.testopt.sut.procedural.regions import Box, Pick
from optiloop.testopt.sut.procedural.relations import Ctx, Relation
from optiloop.testopt.sut.procedural.system import CostModel, GeneratedSystem, digest
from optiloop.testopt.sut.procedural.volume import Sample

MIN_FEASIBLE = 0.05  # of the platform's uniform samples (the brief's floor is 2%; keep a margin)
MIN_FEASIBLE_HARNESS = 0.03  # of the harness's naive samples (log ignored)
MAX_BUCKETS = 400
MIN_BUCKETS = 30
N_SAMPLE = 3000  # rows per system for the volume estimates, half of them decoded like the harness

WORDS = (
    "auto",
    "fast",
    "safe",
    "lazy",
    "eager",
    "strict",
    "loose",
    "batch",
    "stream",
    "local",
    "remote",
    "gzip",
    "raw",
    "dense",
    "sparse",
    "cold",
    "warm",
    "hot",
    "tiny",
    "huge",
    "sync",
    "async",
    "push",
    "pull",
    "mono",
    "multi",
    "plain",
    "tls",
    "fifo",
    "lifo",
)

NUM_RANGES = ((0.0, 1.0), (0.0, 10.0), (0.0, 100.0), (0.0, 2.0), (0.0, 1000.0), (0.5, 5.0))
SIGNED_RANGES = ((-1.0, 1.0), (-5.0, 5.0), (-10.0, 10.0))
LOG_NUM_RANGES = ((1e-5, 1.0), (1e-3, 10.0), (0.01, 100.0), (1.0, 10000.0))
INT_RANGES = ((0, 8), (1, 16), (0, 100), (1, 64), (1, 1000), (0, 4096))
LOG_INT_RANGES = ((1, 1000), (1, 65536), (1, 1_000_000), (16, 10_000_000))


def derive(*parts: Any) -> int:
    return digest(repr(parts)) ^ (digest(repr(parts[::-1])) << 32)


class Builder:
    def __init__(self, seed: int, family: str) -> None:
        self.seed = seed
        self.family = family
        self.rng = random.Random(derive(seed, "structure"))
        self.nprng = np.random.default_rng(derive(seed, "volume"))
        self.params: list[ParamDef] = []
        self.relations: list[Relation] = []
        self.features: list[Feature] = []
        self.failures: list[FailureMode] = []
        self._count: dict[str, int] = {}
        self._of: dict[tuple[str, bool], list[ParamDef]] = {}
        self._sample: Sample | None = None
        self.rows = np.zeros(0, bool)  # platform rows of the sample that are feasible
        self.units: dict[str, np.ndarray] = {}
        self.fractions = (1.0, 1.0)
        self.hard = self.rng.random()  # difficulty dial: finer tails, more rare boxes
        # interior systems keep their rare behaviour away from range ends: numeric tiers are equal
        # or narrow interior bands, rare boxes and failures sit mid-range (templates set it)
        self.interior = False

    @property
    def sample(self) -> Sample:
        """The volume sample, drawn by `relate` once the parameters are in place."""
        if self._sample is None:
            raise RuntimeError("draw the relations (Builder.relate) before calibrating levels")
        return self._sample

    # -- parameters ----------------------------------------------------------------------
    def _name(self, prefix: str) -> str:
        k = self._count.get(prefix, 0)
        self._count[prefix] = k + 1
        return f"{prefix}{k}"

    def _add(self, p: ParamDef) -> ParamDef:
        self.params.append(p)
        self._of.clear()
        return p

    def number(
        self,
        rng: tuple[float, float] | None = None,
        log: bool = False,
        parent: ParamDef | None = None,
        values: Sequence[Any] = (),
    ) -> ParamDef:
        lo, hi = rng or self.rng.choice(LOG_NUM_RANGES if log else NUM_RANGES)
        return self._add(
            ParamDef(
                self._name("c" if parent else "x"),
                "number",
                lo,
                hi,
                log,
                parent=parent.name if parent else None,
                parent_values=tuple(values),
            )
        )

    def integer(
        self,
        rng: tuple[int, int] | None = None,
        log: bool = False,
        parent: ParamDef | None = None,
        values: Sequence[Any] = (),
    ) -> ParamDef:
        lo, hi = rng or self.rng.choice(LOG_INT_RANGES if log else INT_RANGES)
        return self._add(
            ParamDef(
                self._name("k" if parent else "n"),
                "integer",
                lo,
                hi,
                log,
                parent=parent.name if parent else None,
                parent_values=tuple(values),
            )
        )

    def flag(self) -> ParamDef:
        return self._add(ParamDef(self._name("f"), "boolean"))

    def mode(self, m: int) -> ParamDef:
        values = tuple(self.rng.sample(WORDS, m))
        return self._add(ParamDef(self._name("m"), "string", enum=values))

    def of(self, kind: str, conditional: bool = False) -> list[ParamDef]:
        """Parameters of a kind: 'numeric', 'number', 'integer', 'flag', 'mode', 'discrete'."""
        got = self._of.get((kind, conditional))
        if got is not None:
            return got

        def ok(p: ParamDef) -> bool:
            if (p.parent is not None) != conditional:
                return False
            return {
                "numeric": p.numeric,
                "number": p.type == "number",
                "integer": p.type == "integer",
                "flag": p.type == "boolean",
                "mode": p.type == "string",
                "discrete": p.type in ("boolean", "string"),
            }[kind]

        got = self._of[(kind, conditional)] = [p for p in self.params if ok(p)]
        return got

    # -- relations -----------------------------------------------------------------------
    def relate(self, draw: Callable[[Ctx], None]) -> None:
        """Draw the relations (with `draw`, which calls ctx.add) until the space is feasible enough."""
        self._sample = Sample.uniform(self.params, N_SAMPLE, self.nprng)
        best: tuple[float, list[Relation]] | None = None
        for attempt in range(10):
            ctx = Ctx(self.params, random.Random(derive(self.seed, "relations", attempt)), self.sample)
            ctx.tight = 0.6**attempt
            draw(ctx)
            plat, harn = self.sample.fractions(ctx.relations)
            if plat >= MIN_FEASIBLE and harn >= MIN_FEASIBLE_HARNESS:
                best = (1.0, ctx.relations)
                break
            score = min(plat / MIN_FEASIBLE, harn / MIN_FEASIBLE_HARNESS)
            if best is None or score > best[0]:
                best = (score, ctx.relations)
        assert best is not None
        rels = list(best[1])
        while (
            rels
            and min(
                a / b
                for a, b in zip(
                    self.sample.fractions(rels), (MIN_FEASIBLE, MIN_FEASIBLE_HARNESS), strict=True
                )
            )
            < 1
        ):
            rels.pop()  # last resort: fewer relations
        self.relations = rels
        self.fractions = self.sample.fractions(rels)
        self.rows = self.sample.feasible(rels) & ~self.sample.harness
        self.units = {p.name: p.encode_vec(self.sample.cols[p.name]) for p in self.params if p.numeric}

    def relation(self, *kinds: str) -> Relation | None:
        """A drawn `lhs <= bound` relation of one of `kinds` over unconditional params, if any."""
        cands = [
            r
            for r in self.relations
            if r.kind in kinds and r.lhs is not None and r.bound is not None and not r.cond_params
        ]
        return self.rng.choice(cands) if cands else None

    # -- calibrated levels ------------------------------------------------------------------
    def _quantiles(self, x: np.ndarray, probs: Sequence[float]) -> tuple[float, ...]:
        x = x[np.isfinite(x)]
        if not len(x):
            return ()
        return tuple(sorted({round(float(v), 6) for v in np.quantile(x, probs)}))

    def tier(self, p: ParamDef, probs: Sequence[float]) -> Tier:
        rows = self.rows & self.sample.active[p.name] if p.parent else self.rows
        edges = self._quantiles(self.units[p.name][rows], probs)
        return Tier(p.name, edges, conditional=p.parent is not None)

    def derived(self, a: ParamDef, b: ParamDef, op: str, probs: Sequence[float]) -> Derived:
        x = self.sample.cols[a.name][self.rows].astype(float)
        y = self.sample.cols[b.name][self.rows].astype(float)
        with np.errstate(all="ignore"):
            q = np.log10(x / y if op == "/" else x * y)
        return Derived(a.name, b.name, op, self._quantiles(q, probs))

    def regime(self, ps: Sequence[ParamDef], levels: int) -> Regime:
        w = tuple(round(self.rng.choice([-1, 1]) * self.rng.uniform(0.5, 1.5), 3) for _ in ps)
        return Regime(
            tuple(p.name for p in ps),
            w,
            round(self.rng.uniform(0.6, 1.3), 3),
            round(self.rng.uniform(0, 2 * math.pi), 3),
            levels,
        )

    def radial(self, ps: Sequence[ParamDef], probs: Sequence[float]) -> Radial:
        c = tuple(round(self.rng.uniform(0.25, 0.75), 3) for _ in ps)
        d = np.sqrt(sum((self.units[p.name][self.rows] - ci) ** 2 for p, ci in zip(ps, c, strict=True)))
        return Radial(tuple(p.name for p in ps), c, self._quantiles(np.asarray(d), probs))

    def count(self, flags: Sequence[ParamDef], probs: Sequence[float]) -> Count:
        c = sum(self.sample.cols[f.name][self.rows].astype(int) for f in flags)
        edges = self._quantiles(np.asarray(c, float), probs)
        return Count(tuple(f.name for f in flags), tuple(sorted({math.floor(e) + 0.5 for e in edges})))

    def tails(self, harder: int = 0) -> tuple[float, ...]:
        """Tier quantiles for a numeric level of an interaction, finer with the system's difficulty
        (plus `harder` steps). Three styles, because where the rare tiers sit decides which
        strategies find them: rare tails at both ends (10%, 3% or 1%), equal tiers (3-7 of them,
        like small / medium / large settings), or narrow interior bands around a centre, which
        only a strategy that keeps sampling the interior covers."""
        step = min(2, int(self.hard * 3) + harder)
        style = self.rng.uniform(0.4 if self.interior else 0.0, 1.0)
        if style < 0.4:
            return ((0.1, 0.5, 0.9), (0.03, 0.5, 0.97), (0.01, 0.2, 0.8, 0.99))[step]
        if style < 0.75:
            k = 3 + step + self.rng.randint(0, 2)
            return tuple(round(i / k, 4) for i in range(1, k))
        c, w = self.rng.uniform(0.3, 0.7), self.rng.uniform(0.03, 0.08) / (1 + step)
        return (round(c - 2 * w, 4), round(c - w, 4), round(c + w, 4), round(c + 2 * w, 4))

    @staticmethod
    def level(p: ParamDef) -> Level:
        return Flag(p.name) if p.type == "boolean" else Mode(p.name, p.enum)

    # -- features ------------------------------------------------------------------------
    def _tag(self, kind: str) -> str:
        return f"{kind}{len(self.features)}"

    def add(self, f: Feature) -> None:
        self.features.append(f)

    def grid(self, a: ParamDef, b: ParamDef, g: int, cross: Level | None = None) -> None:
        self.add(Grid(self._tag("grid"), a.name, b.name, g, cross))

    def interact(self, *levels: Level, gate: tuple[Level, Hashable] | None = None) -> None:
        self.add(Interaction(self._tag("ix"), tuple(levels), gate))

    def band(self, rel: Relation | None, prob: float, along: Level | None = None) -> None:
        """Buckets in the thin band of feasible tests nearest `rel`'s bound (`prob` of the volume)."""
        if rel is None or rel.lhs is None or rel.bound is None:
            return
        with np.errstate(all="ignore"):
            slack = rel.bound - np.asarray(rel.lhs.vec(self.sample.cols), float)
        s = slack[self.rows]
        s = s[np.isfinite(s) & (s >= 0)]
        if len(s) < 50:
            return
        width = float(np.quantile(s, prob))
        if width <= 0:
            return
        lhs = rel.lhs.py()
        bound = rel.bound
        self.add(Band(self._tag("band"), rel.src(), lambda p: bound - lhs(p), width, along))

    def pockets(self, k: int, share: tuple[float, float] = (3e-4, 3e-3), dims: int = 2) -> None:
        """k small boxes in the interior of pairs (or triples) of numeric coordinates."""
        nums = self.of("numeric")
        if len(nums) < dims:
            return
        fitter = BoxFitter(self.sample, self.relations, self.nprng)
        boxes: list[Box] = []
        for _ in range(3 * k):
            if len(boxes) == k:
                break
            ps = self.rng.sample(nums, dims)
            target = math.exp(self.rng.uniform(math.log(share[0]), math.log(share[1])))
            got = fitter.fit(
                (),
                [(p, self.rng.uniform(0.15, 0.85), "mid") for p in ps],
                target,
                accept=(share[0] / 2, share[1] * 1.5),
            )
            if got is not None:
                boxes.append(got[0])
        if boxes:
            self.add(Pockets(self._tag("pocket"), tuple(boxes)))

    def rare(
        self,
        share_of_budget: tuple[float, float],
        kinds: Sequence[str],
        share: tuple[float, float] = (2e-4, 4e-3),
    ) -> None:
        """Rare behaviour: boxes from the failure grammar (corners, pockets, conjunctions of flags
        and modes with a numeric tail, conditional ranges) of share 2e-4 .. 4e-3 of the feasible
        volume, one bucket each, as many as a drawn share of the buckets drawn so far."""
        k = round(self.budget() * self.rng.uniform(*share_of_budget) * (0.5 + 1.5 * self.hard))
        k = min(40, max(2, k))
        fitter = BoxFitter(self.sample, self.relations, self.nprng)
        wanted = []
        for _ in range(k + max(4, k // 2)):  # more candidates than needed: some land outside the range
            target = math.exp(self.rng.uniform(math.log(share[0]), math.log(share[1])))
            picks, sides = self._structure(self.rng.choice(kinds), target)
            if picks or sides:
                wanted.append((picks, sides, target))
        got = fitter.fit_many(wanted, accept=(share[0] / 2, share[1] * 1.5), rounds=3)
        boxes = [g[0] for g in got if g is not None][:k]
        if boxes:
            self.add(Pockets(self._tag("rare"), tuple(boxes)))

    def edges(self, ps: Sequence[ParamDef]) -> None:
        ints = [p for p in ps if p.type == "integer" and p.high - p.low >= 8]
        if ints:
            self.add(Edges(self._tag("edge"), tuple((p.name, p.low, p.high) for p in ints)))

    # -- failures --------------------------------------------------------------------------
    def _pick(self, p: ParamDef) -> Pick:
        if p.type == "boolean":
            return Pick(p, (self.rng.random() < 0.5,))
        return Pick(p, (self.rng.choice(p.enum),))

    def _structure(self, kind: str, target: float) -> tuple[list[Pick], list[tuple[ParamDef, float, str]]]:
        rng = self.rng
        nums, disc = self.of("numeric"), self.of("discrete")
        picks: list[Pick] = []
        sides: list[tuple[ParamDef, float, str]] = []
        if kind == "corner" and nums:
            for p in rng.sample(nums, min(len(nums), rng.choice([2, 2, 3]))):
                sides.append((p, 0.0, rng.choice(["lo", "hi"])))
            if disc and rng.random() < 0.5:
                picks.append(self._pick(rng.choice(disc)))
        elif kind == "pocket" and nums:
            for p in rng.sample(nums, min(len(nums), 2)):
                sides.append((p, rng.uniform(0.2, 0.8), "mid"))
            if disc and rng.random() < 0.4:
                picks.append(self._pick(rng.choice(disc)))
        elif kind == "conjunction" and disc:
            q = 1.0
            for p in rng.sample(disc, min(len(disc), 6)):  # at most 4 picks are kept
                k = self._pick(p)
                if q * k.width < (2 * target if nums else target / 2.5) or len(picks) == 4:
                    break
                picks.append(k)
                q *= k.width
            if nums and q > 2 * target:
                where = "mid" if self.interior else rng.choice(["lo", "hi"])
                sides.append((rng.choice(nums), rng.uniform(0.2, 0.8), where))
        elif kind == "conditional":
            conds = self.of("numeric", conditional=True)
            if conds:
                c = rng.choice(conds)
                parent = next(p for p in self.params if p.name == c.parent)
                picks.append(Pick(parent, (rng.choice(c.parent_values),)))
                sides.append((c, 0.0, rng.choice(["lo", "hi"])))
                others = [p for p in nums if p.name != c.name]
                if others and rng.random() < 0.6:
                    sides.append((rng.choice(others), rng.uniform(0.2, 0.8), rng.choice(["lo", "hi", "mid"])))
        return picks, sides

    def fail(self, n: int, kinds: Sequence[str], flaky_p: float = 0.3) -> None:
        """n failure modes of the given kinds (see failures.py), rarities drawn log-uniformly in
        1e-4 .. 1e-2 and realised within a factor 2.5 of the draw (never beyond 5e-5 .. 2e-2)."""
        fitter = BoxFitter(self.sample, self.relations, self.nprng)
        sev = draw_severities(self.rng, n)
        flaky = self.rng.random() < flaky_p
        made: list[FailureMode] = []
        lo, hi = RARITY_RANGE
        for i in range(n + 20):
            if len(made) == n or (i >= n and made):
                break  # a mode that cannot be placed is dropped, as long as the system has one
            target = draw_target(self.rng)
            for attempt in range(12):
                kind = self.rng.choice(kinds) if attempt < 8 else self.rng.choice(["corner", "pocket"])
                picks, sides = self._structure(kind, target)
                if not picks and not sides:
                    continue
                tol = 2.5 if attempt < 8 else 4.0
                accept = (max(target / tol, lo / 2), min(target * tol, hi * 2))
                got = fitter.fit(picks, sides, target, accept=accept)
                if got is not None:
                    k = len(made)
                    made.append(FailureMode(f"fail{k}", kind, got[0], sev[k], got[1], target))
                    break
        if flaky and made:
            chosen = [m for m in made if self.rng.random() < 0.7] or [made[0]]
            for m in chosen:
                m.reproduce = round(self.rng.uniform(0.5, 0.9), 2)
        self.failures = made

    # -- finishing -------------------------------------------------------------------------
    def _cost(self) -> CostModel:
        nums = self.of("numeric")
        loads = tuple(
            (p.name, round(self.rng.uniform(0.5, 4.0), 2)) for p in self.rng.sample(nums, min(2, len(nums)))
        )
        modes = self.of("mode")
        mode = self.rng.choice(modes) if modes else None
        factors = {v: round(self.rng.uniform(0.5, 3.0), 2) for v in mode.enum} if mode else {}
        return CostModel(
            round(self.rng.uniform(10, 400), 1),
            loads,
            mode.name if mode else None,
            factors,
            round(self.rng.uniform(2, 20), 1),
        )

    def budget(self) -> int:
        return sum(f.size for f in self.features) + len(self.failures)

    def finish(self) -> GeneratedSystem:
        while len(self.features) > 2 and self.budget() > MAX_BUCKETS:
            self.features.sort(key=lambda f: f.size)
            self.features.pop()  # the largest feature goes: keep a mix of shapes
        info = {
            "feasible": self.fractions[0],
            "feasible_harness": self.fractions[1],
            "bucket_budget": self.budget(),
            "rarities": [fm.rarity for fm in self.failures],
            "hard": round(self.hard, 3),
            "interior": self.interior,
        }
        return GeneratedSystem(
            self.seed,
            self.family,
            self.params,
            self.relations,
            self.features,
            self.failures,
            self._cost(),
            info,
        )
