"""More simulated systems-under-test, unlike the published four, to keep strategy work honest.

Same interface as ../shared/bench/suts_public.py (name, schema, feasible, run; module-level
SUTS and FAIL), so the shared harness runs them with --suite. They stress what the published
ones do not: a continuous 10-d space whose behaviour depends on sums and products, a wide
categorical space, a thin feasible slab, and a space whose buckets hide in interior bands.
"""

from __future__ import annotations

import hashlib
import math
from typing import ClassVar


def _bucket(*parts) -> int:
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=4).digest(), "big") % 1_000_000


def _tier(x: float, edges) -> int:
    return next((i for i, e in enumerate(edges) if x < e), len(edges))


def _out(b, status="pass", sev=0, cost=1):
    return {
        "status": status,
        "duration_ms": 10,
        "cost_cents": cost,
        "failure_severity": sev,
        "coverage_delta": {"buckets_hit": sorted(b)},
    }


class Mixer10D:
    """An audio mixer: ten continuous gains; behaviour depends on their sum, product and spread."""

    name = "mixer-10d"
    schema: ClassVar[dict] = {
        "params": {f"g{i}": {"type": "number", "min": 0.0, "max": 2.0} for i in range(10)},
        "relations": ["g0 + g1 + g2 + g3 + g4 <= 6.0", "g5 * g6 <= 2.0"],
    }

    @staticmethod
    def feasible(p) -> bool:
        return sum(p[f"g{i}"] for i in range(5)) <= 6.0 and p["g5"] * p["g6"] <= 2.0

    @staticmethod
    def run(p):
        g = [p[f"g{i}"] for i in range(10)]
        total, spread = sum(g), max(g) - min(g)
        b = {
            _bucket("sum", _tier(total, [4, 7, 10, 13, 16])),
            _bucket("spread", _tier(spread, [0.5, 1, 1.5, 1.9])),
        }
        for i in range(0, 10, 2):
            b.add(_bucket("pair", i, _tier(g[i] * g[i + 1], [0.01, 0.25, 1, 2.5])))
        clipped = sum(x > 1.95 for x in g)
        b.add(_bucket("clip", min(clipped, 4)))
        status, sev = "pass", 0
        if clipped >= 4 and g[5] * g[6] > 1.9:
            status, sev = "fail", 4
            b.add(_bucket("fail-distortion"))
        elif total < 0.5:
            status, sev = "fail", 3
            b.add(_bucket("fail-silence"))
        return _out(b, status, sev)


class Catalog:
    """A product search: many categorical options and a couple of integers."""

    name = "catalog-search"
    schema: ClassVar[dict] = {
        "params": {
            "locale": {"type": "string", "enum": [f"l{i}" for i in range(12)]},
            "sort": {"type": "string", "enum": ["rel", "price_asc", "price_desc", "new", "rating"]},
            "facet": {"type": "string", "enum": ["none", "brand", "color", "size", "price", "stock"]},
            "page": {"type": "integer", "min": 1, "max": 1000},
            "page_size": {"type": "integer", "min": 1, "max": 200},
            "fuzzy": {"type": "boolean"},
            "cache": {"type": "boolean"},
        },
        "relations": ["page * page_size <= 10000", "if(sort=='rel') then(facet!='price')"],
    }

    @staticmethod
    def feasible(p) -> bool:
        return p["page"] * p["page_size"] <= 10000 and not (p["sort"] == "rel" and p["facet"] == "price")

    @staticmethod
    def run(p):
        b = {
            _bucket("ls", p["locale"], p["sort"]),
            _bucket("ff", p["facet"], p["fuzzy"]),
            _bucket("pg", _tier(p["page"], [2, 10, 100]), _tier(p["page_size"], [2, 20, 100])),
            _bucket("cache", p["cache"], p["sort"]),
        }
        status, sev = "pass", 0
        if p["locale"] == "l7" and p["fuzzy"] and p["facet"] == "size" and p["page_size"] == 200:
            status, sev = "fail", 4
            b.add(_bucket("fail-tokenizer"))
        elif p["page"] * p["page_size"] > 9900:
            status, sev = "fail", 3
            b.add(_bucket("fail-deep-page"))
        return _out(b, status, sev)


class ThinSlab:
    """A controller tuned inside a thin feasible slab: only 2% of the box is allowed."""

    name = "thin-slab"
    schema: ClassVar[dict] = {
        "params": {
            "kp": {"type": "number", "min": 0, "max": 10},
            "ki": {"type": "number", "min": 0, "max": 10},
            "kd": {"type": "number", "min": 0, "max": 10},
            "mode": {"type": "string", "enum": ["pos", "vel", "torque"]},
        },
        "relations": ["abs(kp - ki) <= 0.4", "kd <= kp"],
    }

    @staticmethod
    def feasible(p) -> bool:
        return abs(p["kp"] - p["ki"]) <= 0.4 and p["kd"] <= p["kp"]

    @staticmethod
    def run(p):
        kp, ki, kd = p["kp"], p["ki"], p["kd"]
        b = {
            _bucket("gain", p["mode"], _tier(kp, [0.5, 2, 5, 8])),
            _bucket("damp", _tier(kd / (kp + 1e-9), [0.1, 0.5, 0.9])),
            _bucket("int", p["mode"], _tier(ki - kp, [-0.3, -0.1, 0.1, 0.3])),
        }
        status, sev = "pass", 0
        if p["mode"] == "torque" and kp > 9.5 and kd > 9.3:
            status, sev = "fail", 4
            b.add(_bucket("fail-oscillate"))
        return _out(b, status, sev)


class Bands:
    """A codec whose interesting behaviour sits in narrow interior bands, not at the edges."""

    name = "codec-bands"
    schema: ClassVar[dict] = {
        "params": {
            "bitrate": {"type": "integer", "min": 16, "max": 20000},
            "fps": {"type": "number", "min": 1.0, "max": 240.0},
            "keyint": {"type": "integer", "min": 1, "max": 600},
            "profile": {"type": "string", "enum": ["base", "main", "high"]},
        },
        "relations": ["keyint <= fps * 10"],
    }

    @staticmethod
    def feasible(p) -> bool:
        return p["keyint"] <= p["fps"] * 10

    @staticmethod
    def run(p):
        br, fps, ki = p["bitrate"], p["fps"], p["keyint"]
        bpf = br / fps
        b = {
            _bucket("bpf", p["profile"], _tier(math.log10(bpf), [0, 0.5, 1, 1.5, 2, 2.5, 3])),
            _bucket("gop", _tier(ki / fps, [0.5, 1, 2, 5, 9])),
        }
        if 29.5 < fps < 30.5:
            b.add(_bucket("ntsc", p["profile"]))
        if 1000 <= br <= 1100:
            b.add(_bucket("cbr-window", _tier(fps, [30, 60])))
        status, sev = "pass", 0
        if p["profile"] == "high" and 59 < fps < 61 and bpf < 1.0:
            status, sev = "fail", 3
            b.add(_bucket("fail-starve"))
        return _out(b, status, sev)


SUTS = [Mixer10D, Catalog, ThinSlab, Bands]
FAIL = {
    _bucket(n)
    for n in (
        "fail-distortion",
        "fail-silence",
        "fail-tokenizer",
        "fail-deep-page",
        "fail-oscillate",
        "fail-starve",
    )
}
