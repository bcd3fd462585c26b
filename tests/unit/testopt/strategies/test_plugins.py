"""Generator plug-ins (entry point group `optiloop.generators`): loaded, refused when broken,
never trusted, and held to the conformance suite every built-in generator passes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import test_generator_conformance as conformance  # same folder: pytest puts it on sys.path

from optiloop.testopt.strategies import plugins as plugin_mod
from optiloop.testopt.strategies.generators import generators


class Toy:
    """Draws params from the documented space with the request's rng (so seeds reproduce)."""

    name = "toy"

    def propose(self, request: plugin_mod.ProposalRequest) -> list[dict[str, Any]]:
        rng, out = request.rng, []
        for _ in range(3 * request.n):
            p: dict[str, Any] = {}
            for name, spec in request.space["params"].items():
                if "active_if" in spec:
                    continue
                if spec["type"] == "boolean":
                    p[name] = bool(rng.random() < 0.5)
                elif spec["type"] == "string":
                    p[name] = str(rng.choice(spec["enum"]))
                elif spec["type"] == "integer":
                    p[name] = int(rng.integers(spec["min"], spec["max"] + 1))
                else:
                    p[name] = float(spec["min"] + rng.random() * (spec["max"] - spec["min"]))
            out.append(p)
        return out


class Raises:
    name = "raises"

    def propose(self, request: plugin_mod.ProposalRequest) -> list[dict[str, Any]]:
        raise RuntimeError("boom")


class Junk:
    """Infeasible tests, unknown params, values out of range, a string for a number, not a dict."""

    name = "junk"

    def propose(self, request: plugin_mod.ProposalRequest) -> list[Any]:
        return [
            {"qps": 5000, "region": "us", "payload_kb": 512.0, "cache": True},  # qps * payload > 1e6
            {"qps": 10, "region": "us", "payload_kb": 1.0, "cache": True, "extra": 1},
            {"qps": 99999, "region": "us", "payload_kb": 1.0, "cache": True},
            {"qps": "ten", "region": "us", "payload_kb": 1.0, "cache": True},
            {"qps": 10.5, "region": "us", "payload_kb": 1.0, "cache": True},
            "not a test",
        ]


class _EP:
    def __init__(self, name: str, obj: object) -> None:
        self.name, self._obj = name, obj

    def load(self) -> object:
        if isinstance(self._obj, Exception):
            raise self._obj
        return self._obj


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    eps = [
        _EP("toy", Toy),
        _EP("raises", Raises()),
        _EP("junk", Junk()),
        _EP("broken", ImportError("no such module")),
        _EP("hybrid", type("Clash", (), {"name": "hybrid", "propose": lambda self, r: []})),
    ]
    monkeypatch.setattr(plugin_mod, "entry_points", lambda group: eps if group == plugin_mod.GROUP else [])
    plugin_mod.refresh()
    yield
    plugin_mod.refresh()


def test_plugins_load_and_bad_ones_are_left_out(installed: None, caplog: pytest.LogCaptureFixture) -> None:
    known = generators()
    assert {"toy", "raises", "junk"} <= set(known)
    assert known["hybrid"].__class__.__name__ == "HybridGenerator"  # a plug-in cannot take a built-in name
    assert "broken" not in known


@pytest.mark.parametrize(
    ("label", "schema", "ok"), conformance.SPACES, ids=[s[0] for s in conformance.SPACES]
)
def test_a_plugin_passes_the_generator_conformance_suite(
    installed: None, loop_factory, label, schema, ok
) -> None:
    conformance.test_always_feasible_and_never_repeats(loop_factory, "toy", label, schema, ok)


def test_a_plugin_reproduces_with_its_seed(installed: None, loop_factory) -> None:
    conformance.test_same_seed_same_history_same_suggestions(loop_factory, "toy")


def test_plugin_tests_are_named_in_the_rationale(installed: None, loop_factory) -> None:
    out = loop_factory(conformance.ISSUE_SPACE).suggest(generator="toy", batch_size=5, seed=1)
    assert all("generator plug-in 'toy'" in e["rationale"] for e in out["explanations"])


@pytest.mark.parametrize("name", ["raises", "junk"])
def test_a_failing_plugin_is_logged_and_the_batch_still_served(
    installed: None, loop_factory, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    loop = loop_factory(conformance.ISSUE_SPACE)
    with caplog.at_level(logging.WARNING, logger="optiloop.plugins"):
        out = loop.suggest(generator=name, batch_size=8, seed=2)
    assert len(out["tests"]) == 8
    assert all(conformance.issue_ok(t["params"]) for t in out["tests"])
    assert all("plug-in" not in e["rationale"] for e in out["explanations"])  # none of its tests got in
    assert any(name in r.getMessage() for r in caplog.records)
    if name == "junk":
        assert any("6 of 6 proposed tests refused" in r.getMessage() for r in caplog.records)


def test_hybrid_gives_plugins_an_arm_that_must_earn_its_share(installed: None, loop_factory) -> None:
    loop = loop_factory(conformance.ISSUE_SPACE)
    first = loop.suggest(generator="hybrid", batch_size=40, seed=4)
    assert any("plug-in 'toy'" in e["rationale"] for e in first["explanations"])
    for _ in range(3):
        loop.ingest(first["tests"])
        first = loop.suggest(generator="hybrid", batch_size=20, seed=4)
        assert len(first["tests"]) == 20 and all(conformance.issue_ok(t["params"]) for t in first["tests"])
