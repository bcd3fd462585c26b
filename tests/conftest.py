"""Fixtures shared by every test tier. Kept small: tier-specific fixtures live next to their tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

try:  # a checkout without `pip install -e .` still runs the suites
    import optiloop  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shared"))

from optiloop.deps import Deps
from optiloop.store.factory import open_memory


@pytest.fixture
def deps() -> Iterator[Deps]:
    """Fresh ports on a throwaway SQLite file: the production adapter, isolated per test."""
    store, blobs = open_memory()
    yield Deps(store=store, blobs=blobs)
    store.close()


@pytest.fixture(scope="session")
def time_factor() -> float:
    """What a test's wall-clock bound is multiplied by: 3 while coverage.py measures this process (its
    tracer runs for every line of optiloop, several times slower in tight loops such as the template
    sandbox's step counter; `make test` runs the suite so), 1 otherwise. The bounds themselves stay
    the claims about uninstrumented code."""
    cov = sys.modules.get("coverage")
    return 3.0 if cov is not None and cov.Coverage.current() is not None else 1.0


def pytest_configure(config: pytest.Config) -> None:
    """Measure the pytest processes only. Under `coverage run` with patch = subprocess (pyproject.toml)
    every Python process started with COVERAGE_PROCESS_CONFIG in its environment measures itself: the
    xdist workers must, so the variable stays in a controller that starts workers, and is dropped
    everywhere else (the workers, a run on one process) before any test starts a subprocess, which
    is then not measured (and not slowed), as before the suite ran on workers."""
    starts_workers = bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")
    if not starts_workers:
        os.environ.pop("COVERAGE_PROCESS_CONFIG", None)


# -- running the suite on several processes (`make test`: pytest-xdist, `-n` workers) ----------------
# The suite is run by `make test` on pytest-xdist workers (--dist loadgroup): tests go one by one to
# whichever worker is free, except those that share an expensive fixture, which go to one worker so
# the fixture is built once, as in a run on one process. A new test needs nothing to take part: what
# it shares is read from its fixtures' scopes here.

# Directories whose tests share a session-scoped fixture too expensive to build on every worker:
# tests/infra's one CDK synthesis of the whole app (tens of seconds, a node process) is built once.
SESSION_GROUPS = {"infra": "infra"}
WIDE_SCOPES = {"module", "package", "class"}


def _xdist_group(item: pytest.Item) -> str | None:
    """The group that keeps `item` on the worker that holds its shared fixtures, or None (any worker)."""
    path = Path(str(item.path)).resolve()
    tests = Path(__file__).resolve().parent
    try:
        rel = path.relative_to(tests)
    except ValueError:  # a test outside tests/ (none today)
        return None
    if rel.parts and rel.parts[0] in SESSION_GROUPS:
        return SESSION_GROUPS[rel.parts[0]]
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    if any(d.scope in WIDE_SCOPES for fixturedefs in defs for d in fixturedefs):
        return rel.as_posix()  # a module- or class-scoped fixture: the whole file on one worker
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # the controller has --dist loadgroup; xdist hands its workers `loadgroup` instead
    if config.getoption("dist", "no") != "loadgroup" and not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        group = _xdist_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
