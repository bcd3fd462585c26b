"""Family templates: the shapes of system the suite is made of.

Each template fixes a parameter layout and which parts of the grammar it draws from; sizes,
ranges, relations, levels and failures are drawn per seed. Two shapes the engine once lost to
random sampling are common on purpose, not one-offs:

  grid-regime        continuous 5-8-d; a linear budget, an order between two coordinates and a
                     product bound; buckets = interior cells of a grid over two coordinates
                     crossed with a smooth periodic regime of the others
  flag-interactions  ~24-d mixed (12-18 flags, 3-5 integers, 3-5 enums); buckets = 2-4-way
                     interactions of a few flags with tiered levels and modes

and the rest cover the published kinds and the corners of the grammar:

  derived            sizes and a scale: aspect-ratio and area tiers per format, failures in corners
  log-wide           wide integer ranges with log scale; decades, ratios, exact bounds
  enum-heavy         many enums; pairwise and gated triple interactions; failures on value triples
  conditional        params that exist only under a mode or a flag (active_if); their tiers
  smooth-regimes     continuous 8-14-d; regimes of several coordinates, balls, dominant coordinate
  boolean-wide       25-40-d, mostly flags; k-way interactions, counts of flags set
  thin-band          3-6-d with a thin slab; buckets in bands along the relations' boundaries
"""

from __future__ import annotations

from collections.abc import Callable

from optiloop.testopt.sut.procedural.buckets import ArgMax, Flag, Mode
from optiloop.testopt.sut.procedural.builder import SIGNED_RANGES, Builder
from optiloop.testopt.sut.procedural.relations import (
    Ctx,
    budget,
    either,
    exclusion,
    implies_bound,
    implies_equal,
    implies_flag,
    order,
    peak,
    product,
    ratio,
    slab,
)

# tier edges at these quantiles of the feasible volume (b.tails() draws one per system's difficulty)
RARE = (0.03, 0.5, 0.97)  # two rare tails, two halves
SKEW = (0.1, 0.5, 0.9)
FIVE = (0.02, 0.2, 0.5, 0.8, 0.98)
QUART = (0.25, 0.5, 0.75)


def grid_regime(b: Builder) -> None:
    d = b.rng.choice([5, 6, 6, 6, 7, 8])
    shared = b.rng.choice([(0.0, 1.0), (0.0, 10.0), (0.0, 100.0), (0.0, 2.0)])
    xs = [b.number(shared if b.rng.random() < 0.7 else None) for _ in range(d)]
    if b.rng.random() < 0.25:
        xs.append(b.number(log=True))
    ga, gb = b.rng.sample(xs, 2)
    others = [x for x in xs if x not in (ga, gb)]

    def rels(ctx: Ctx) -> None:
        r = ctx.rng
        ctx.add(budget(ctx, r.sample(xs, r.choice([2, 3, 3, 4])), ctx.q(0.5, 0.85)))
        a, c = r.sample(xs, 2)
        ctx.add(order(ctx, a, c))
        pos = [x for x in xs if x.low >= 0]
        if len(pos) >= 2:
            a, c = r.sample(pos, 2)
            ctx.add(product(ctx, a, c, ctx.q(0.55, 0.9)))

    b.relate(rels)
    b.grid(ga, gb, b.rng.choice([6, 7, 8, 8, 9, 10]), b.regime(others, b.rng.choice([3, 4, 4, 5])))
    if b.rng.random() < 0.6:
        b.band(b.relation("budget", "product"), b.rng.uniform(0.02, 0.05), b.tier(b.rng.choice(xs), QUART))
    if b.rng.random() < 0.6:
        b.pockets(b.rng.randint(2, 4))
    if b.rng.random() < 0.5:
        b.interact(b.regime(b.rng.sample(xs, 3), 3), b.tier(b.rng.choice(xs), RARE))
    b.rare((0.0, 0.15), ["corner", "pocket"])
    b.fail(b.rng.randint(1, 3), ["corner", "pocket"])


def flag_interactions(b: Builder) -> None:
    canonical = b.rng.random() < 0.5
    b.interior = b.rng.random() < 0.4
    r = b.rng
    nf, ni, ne = (16, 4, 4) if canonical else (r.randint(12, 18), r.randint(3, 5), r.randint(3, 5))
    flags = [b.flag() for _ in range(nf)]
    ints = [b.integer(log=b.rng.random() < 0.2) for _ in range(ni)]
    modes = [b.mode(b.rng.randint(3, 5)) for _ in range(ne)]

    def rels(ctx: Ctx) -> None:
        r = ctx.rng
        ctx.add(implies_bound(ctx, r.choice(flags), [True], [r.choice(ints)], ctx.q(0.3, 0.7)))
        m = r.choice(modes)
        ctx.add(implies_flag(ctx, m, r.sample(m.enum, 1), r.choice(flags), r.random() < 0.5))
        if r.random() < 0.7:
            ctx.add(budget(ctx, r.sample(ints, 2), ctx.q(0.5, 0.85)))
        else:
            m1, m2 = r.sample(modes, 2)
            ctx.add(exclusion(ctx, m1, r.sample(m1.enum, 1), m2, r.sample(m2.enum, 2)))

    b.relate(rels)
    f = r.sample(flags, 8)
    b.interact(Flag(f[0].name), Flag(f[1].name), b.tier(ints[0], b.tails()), b.level(modes[0]))
    b.interact(Flag(f[2].name), Flag(f[3].name), Flag(f[4].name), b.level(modes[1]))
    b.interact(Flag(f[0].name), Flag(f[5].name), b.tier(ints[1], b.tails(1)), b.level(modes[2]))
    if r.random() < 0.6:
        b.interact(b.tier(ints[2], b.tails()), b.level(modes[-1]), gate=(Flag(f[6].name), True))
    if r.random() < 0.5:
        b.interact(b.count(flags, (0.03, 0.25, 0.75, 0.97)), Flag(f[7].name))
    if r.random() < 0.4 and not b.interior:
        b.edges(ints)
    b.rare((0.1, 0.3), ["conjunction", "conjunction", "pocket" if b.interior else "corner"])
    b.fail(r.randint(1, 3), ["conjunction", "conjunction", "corner"])


def derived(b: Builder) -> None:
    big = b.rng.choice([(1, 4096), (1, 8192), (16, 16384)])
    lg = b.rng.random() < 0.3
    w, h = b.integer(big, log=lg), b.integer(big, log=lg)
    s = b.number(b.rng.choice([(0.05, 4.0), (0.1, 10.0)]), log=b.rng.random() < 0.3)
    fmt = b.mode(b.rng.randint(3, 5))
    qual = b.integer((1, 100))
    extra = [b.flag() for _ in range(b.rng.randint(0, 2))] + [b.number() for _ in range(b.rng.randint(0, 2))]

    def rels(ctx: Ctx) -> None:
        r = ctx.rng
        ctx.add(product(ctx, w, h, ctx.q(0.6, 0.9)))
        ctx.add(implies_bound(ctx, fmt, [fmt.enum[0]], [w, h], ctx.q(0.4, 0.8)))
        if r.random() < 0.4:
            ctx.add(implies_equal(ctx, fmt, fmt.enum[1], qual, 100))
        else:
            ctx.add(implies_bound(ctx, fmt, [fmt.enum[1]], [qual], ctx.q(0.4, 0.7), upper=False))

    b.relate(rels)
    r = b.rng
    b.interact(b.derived(w, h, "/", (0.05, 0.25, 0.75, 0.95)), b.level(fmt))
    b.interact(b.derived(w, h, "*", FIVE), b.level(fmt))
    b.interact(b.tier(s, b.tails()), b.derived(w, h, "*", (0.1, 0.9)))
    b.interact(b.tier(qual, (0.05, 0.5, 0.95)), gate=(b.level(fmt), 2))
    b.edges([w, h, qual])
    if extra and r.random() < 0.6:
        b.interact(b.level(extra[0]) if extra[0].type == "boolean" else b.tier(extra[0], SKEW), b.level(fmt))
    b.rare((0.1, 0.3), ["corner", "pocket", "conjunction"])
    b.fail(r.randint(1, 3), ["corner", "corner", "pocket"])


def log_wide(b: Builder) -> None:
    r = b.rng
    ints = [b.integer(log=True) for _ in range(r.randint(2, 5))]
    nums = [b.number(log=True) for _ in range(r.randint(1, 2))]
    modes = [b.mode(r.randint(3, 5)) for _ in range(r.randint(1, 2))]
    flags = [b.flag() for _ in range(r.randint(0, 2))]

    def rels(ctx: Ctx) -> None:
        rr = ctx.rng
        same = [p for p in ints if p.high == ints[0].high]
        if len(same) >= 2:
            ctx.add(order(ctx, *rr.sample(same, 2)))
        ctx.add(product(ctx, rr.choice(ints), rr.choice(nums), ctx.q(0.6, 0.9)))
        ctx.add(implies_bound(ctx, modes[0], [modes[0].enum[0]], [rr.choice(ints)], ctx.q(0.3, 0.7)))

    b.relate(rels)
    b.interact(b.tier(ints[0], (0.1, 0.3, 0.5, 0.7, 0.9)), b.level(modes[-1]))
    if len(ints) >= 2:
        b.interact(
            b.derived(ints[0], ints[1], "/", FIVE), b.level(flags[0]) if flags else b.tier(nums[0], SKEW)
        )
    b.grid(ints[-1], nums[0], r.choice([6, 7, 8]))
    b.edges(ints)
    b.interact(b.level(modes[0]), *([b.level(flags[-1])] if flags else []))
    if r.random() < 0.5:
        b.interact(b.tier(nums[-1], b.tails()), b.tier(ints[-1], RARE), b.level(modes[0]))
    b.fail(r.randint(1, 3), ["corner", "corner", "conjunction"])


def enum_heavy(b: Builder) -> None:
    r = b.rng
    b.interior = r.random() < 0.3
    modes = [b.mode(r.randint(3, 8)) for _ in range(r.randint(4, 8))]
    flags = [b.flag() for _ in range(r.randint(1, 2))]
    ints = [b.integer() for _ in range(r.randint(1, 2))]

    def rels(ctx: Ctx) -> None:
        rr = ctx.rng
        for _ in range(rr.randint(2, 6)):
            kind = rr.random()
            a, c = rr.sample(modes, 2)
            if kind < 0.5:
                ctx.add(exclusion(ctx, a, rr.sample(a.enum, 1), c, rr.sample(c.enum, rr.randint(1, 2))))
            elif kind < 0.8 or not ints:
                ctx.add(implies_flag(ctx, a, rr.sample(a.enum, 2), rr.choice(flags), rr.random() < 0.5))
            else:
                ctx.add(implies_bound(ctx, a, rr.sample(a.enum, 1), [rr.choice(ints)], ctx.q(0.3, 0.7)))

    b.relate(rels)
    small = sorted(modes, key=lambda m: len(m.enum))
    b.interact(b.level(small[0]), b.level(small[1]), b.level(flags[0]))
    if b.hard < 0.5:
        b.interact(b.level(small[2]), b.level(small[-1]))
    else:
        b.interact(b.level(small[2]), b.level(small[-1]), b.level(flags[0]), gate=(b.level(small[1]), 1))
    b.interact(b.level(small[0]), b.level(small[1]), b.tier(ints[0], b.tails(1)))
    b.interact(b.level(small[1]), b.level(small[3]), gate=(b.level(small[0]), 0))
    if len(modes) >= 5:
        b.interact(b.level(small[0]), b.level(small[2]), b.level(small[4]), gate=(b.level(flags[-1]), True))
    else:
        b.interact(
            b.level(small[0]),
            b.level(small[2]),
            b.level(flags[-1]),
            b.level(small[3]),
            gate=(b.level(small[1]), 1),
        )
    b.rare((0.15, 0.35), ["conjunction"])
    b.fail(r.randint(1, 3), ["conjunction", "conjunction", "conjunction", "corner"])


def conditional(b: Builder) -> None:
    r = b.rng
    b.interior = r.random() < 0.3
    parents = [b.mode(r.randint(3, 4)) for _ in range(r.randint(1, 2))]
    parents += [b.flag() for _ in range(r.randint(1, 2))]
    base = [b.number(None if r.random() < 0.5 else (0.0, 1.0)) for _ in range(r.randint(2, 4))]
    conds = []
    for _ in range(r.randint(2, 5)):
        par = r.choice(parents)
        vals = [True] if par.type == "boolean" else r.sample(par.enum, r.randint(1, 2))
        make = b.integer if r.random() < 0.4 else b.number
        conds.append(make(parent=par, values=vals))

    def rels(ctx: Ctx) -> None:
        rr = ctx.rng
        ctx.add(budget(ctx, rr.sample(base, 2), ctx.q(0.5, 0.85)))
        c = rr.choice(conds)
        par = next(p for p in parents if p.name == c.parent)
        ctx.add(implies_bound(ctx, par, c.parent_values, [c], ctx.q(0.4, 0.8)))
        if rr.random() < 0.5:
            # holds vacuously in tests where the conditional param is inactive (the platform's rule)
            ctx.add(budget(ctx, [rr.choice(conds), rr.choice(base)], ctx.q(0.5, 0.85)))

    b.relate(rels)
    for c in conds[:3]:
        par = next(p for p in parents if p.name == c.parent)
        other = r.choice([p for p in parents if p is not par] or [par])
        b.interact(b.tier(c, b.tails(1)), b.level(par), b.level(other))
    b.grid(conds[0], base[0], r.choice([6, 7, 8]), b.level(r.choice(parents)))
    b.interact(b.tier(base[-1], b.tails()), b.level(parents[0]))
    b.rare((0.1, 0.3), ["conditional", "conditional", "pocket"])
    b.fail(r.randint(1, 3), ["conditional", "conditional", "corner", "pocket"])


def smooth_regimes(b: Builder) -> None:
    r = b.rng
    xs = [b.number(r.choice(SIGNED_RANGES) if r.random() < 0.2 else None) for _ in range(r.randint(8, 14))]
    mode = b.mode(r.randint(2, 4)) if r.random() < 0.5 else None
    unconstrained = r.random() < 0.25  # the whole box is feasible

    def rels(ctx: Ctx) -> None:
        rr = ctx.rng
        if unconstrained:
            return
        pos = [x for x in xs if x.low >= 0]
        ctx.add(budget(ctx, rr.sample(xs, rr.randint(3, 6)), ctx.q(0.5, 0.85)))
        if rr.random() < 0.7 and len(pos) >= 2:
            a, c = rr.sample(pos, 2)
            ctx.add(product(ctx, a, c, ctx.q(0.6, 0.9)))
        if rr.random() < 0.5:
            a, c = rr.sample(xs, 2)
            ctx.add(slab(ctx, a, c, ctx.q(0.3, 0.6)))

    b.relate(rels)
    sh = r.sample(xs, len(xs))
    b.interact(b.regime(sh[:4], r.choice([4, 5])), b.regime(sh[4:8], r.choice([3, 4])))
    b.interact(b.radial(sh[:3], (0.01, 0.05, 0.2, 0.5)), ArgMax(tuple(x.name for x in sh[3:6])))
    b.interact(
        ArgMax(tuple(x.name for x in sh[5:9])),
        b.tier(sh[-1], b.tails()),
        *([Mode(mode.name, mode.enum)] if mode else []),
    )
    if r.random() < 0.6:
        b.band(b.relation("budget", "product", "slab"), r.uniform(0.01, 0.03), b.tier(sh[1], FIVE))
    b.grid(sh[0], sh[1], r.choice([7, 8, 9]), b.regime(sh[6:], r.choice([3, 4])))
    if r.random() < 0.5:
        b.pockets(r.randint(2, 4), dims=3)
    b.rare((0.05, 0.2), ["pocket", "corner"])
    b.fail(r.randint(1, 3), ["pocket", "corner"])


def boolean_wide(b: Builder) -> None:
    r = b.rng
    b.interior = r.random() < 0.3
    flags = [b.flag() for _ in range(r.randint(20, 32))]
    modes = [b.mode(r.randint(2, 4)) for _ in range(r.randint(1, 3))]
    ints = [b.integer() for _ in range(r.randint(2, 4))]
    if r.random() < 0.3:
        ints.append(b.integer(log=True))

    def rels(ctx: Ctx) -> None:
        rr = ctx.rng
        for _ in range(rr.randint(2, 6)):
            kind = rr.random()
            if kind < 0.4:
                f1, f2 = rr.sample(flags, 2)
                ctx.add(implies_flag(ctx, f1, [True], f2, rr.random() < 0.5))
            elif kind < 0.7:
                ctx.add(either(ctx, rr.choice(flags), rr.choice(ints), ctx.q(0.3, 0.7)))
            else:
                ctx.add(implies_bound(ctx, rr.choice(flags), [True], rr.sample(ints, 2), ctx.q(0.4, 0.8)))

    b.relate(rels)
    f = r.sample(flags, 12)
    b.interact(Flag(f[0].name), Flag(f[1].name), Flag(f[2].name), b.tier(ints[0], b.tails()))
    b.interact(*(Flag(x.name) for x in f[3:7]), b.tier(ints[-1], b.tails(1)))
    b.interact(b.count(flags, (0.02, 0.2, 0.5, 0.8, 0.98)), b.level(modes[-1]))
    b.interact(Flag(f[7].name), b.tier(ints[1], b.tails()), gate=(Flag(f[8].name), True))
    if r.random() < 0.5:
        b.interact(
            Flag(f[9].name), Flag(f[10].name), b.tier(ints[-1], b.tails()), gate=(Flag(f[11].name), False)
        )
    if r.random() < 0.4:
        b.edges(ints)
    b.rare((0.15, 0.35), ["conjunction"])
    b.fail(r.randint(1, 4), ["conjunction", "conjunction", "corner"])


def thin_band(b: Builder) -> None:
    r = b.rng
    shared = r.choice([(0.0, 10.0), (0.0, 1.0), (0.0, 100.0)])
    xs = [b.number(shared) for _ in range(r.randint(3, 5))]
    mode = b.mode(r.randint(2, 4)) if r.random() < 0.5 else None
    ratio_pair = r.random() < 0.3

    def rels(ctx: Ctx) -> None:
        rr = ctx.rng
        ctx.add(slab(ctx, xs[0], xs[1], ctx.q(0.15, 0.35)))
        ctx.add(order(ctx, xs[2], xs[0]))
        if len(xs) > 3:
            if ratio_pair and xs[3].low > 0:
                ctx.add(ratio(ctx, xs[3], xs[1], ctx.q(0.5, 0.8)))
            else:
                ctx.add(peak(ctx, rr.sample(xs, 2), ctx.q(0.5, 0.85)))

    b.relate(rels)
    by_kind = {rel.kind: rel for rel in b.relations}
    b.band(by_kind.get("slab"), r.uniform(0.01, 0.03), b.tier(xs[0], (0.15, 0.3, 0.45, 0.6, 0.75, 0.9)))
    b.band(by_kind.get("order"), r.uniform(0.01, 0.03), b.tier(xs[1], (0.2, 0.4, 0.6, 0.8)))
    b.grid(xs[0], xs[2], r.choice([8, 9, 10]), b.level(mode) if mode else b.regime(xs[1:], 3))
    b.interact(b.tier(xs[-1], FIVE), b.tier(xs[1], b.tails()))
    b.rare((0.1, 0.3), ["corner", "pocket"])
    b.fail(r.randint(1, 2), ["corner", "pocket"])


FAMILIES: dict[str, Callable[[Builder], None]] = {
    "grid-regime": grid_regime,
    "flag-interactions": flag_interactions,
    "derived": derived,
    "log-wide": log_wide,
    "enum-heavy": enum_heavy,
    "conditional": conditional,
    "smooth-regimes": smooth_regimes,
    "boolean-wide": boolean_wide,
    "thin-band": thin_band,
}

# the family of seed s is WHEEL[(s // 4 + 5 * (s % 4)) % 15]: the two common shapes fill 3 slots
# each, derived and conditional 2; every family appears equally often in the tune and held-out sets
WHEEL = (
    "grid-regime",
    "flag-interactions",
    "derived",
    "conditional",
    "log-wide",
    "grid-regime",
    "flag-interactions",
    "enum-heavy",
    "smooth-regimes",
    "thin-band",
    "grid-regime",
    "flag-interactions",
    "derived",
    "conditional",
    "boolean-wide",
)
