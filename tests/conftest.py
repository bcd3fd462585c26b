"""Fixtures shared by every test tier. Kept small: tier-specific fixtures live next to their tests."""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
# make test runs pytest-xdist with `--dist loadgroup`, whose scheduler is the one below: tests go one
# by one to whichever worker is free, except those that share an expensive fixture, which go to one
# worker as a unit so the fixture is built once, as in a run on one process. (xdist's own loadgroup
# reads `xdist_group` marks through `item._nodeid`, which pytest 9 no longer has: the marks are
# silently ignored, so the units are decided here, from paths, in the controller.) A new test needs
# nothing to take part; a new module-scoped fixture keeps its file together by itself.

TESTS = Path(__file__).resolve().parent
# tests/infra share one CDK synthesis of the whole app (tens of seconds and a node process): one unit.
SESSION_UNITS = ("tests/infra/",)
# files (or folders, by their conftest.py) whose fixtures outlive a test: each file is one unit
WIDE_SCOPE = re.compile(r"""scope\s*=\s*["'](?:module|package|class)["']""")


@functools.cache
def _shares_fixtures(path: str) -> bool:
    """Whether the test file at `path` (relative to the repository), or a conftest.py above it inside
    tests/, defines a fixture wider than a function."""
    file = TESTS.parent / path
    candidates = [file, *(d / "conftest.py" for d in file.parents if d != TESTS and TESTS in d.parents)]
    return any(c.is_file() and WIDE_SCOPE.search(c.read_text(errors="replace")) for c in candidates)


def _unit(nodeid: str) -> str:
    """The unit of work a test belongs to: a group, its file, or itself."""
    path = nodeid.split("::", 1)[0]
    for prefix in SESSION_UNITS:
        if path.startswith(prefix):
            return prefix
    return path if _shares_fixtures(path) else nodeid


try:
    from xdist.scheduler import LoadScopeScheduling
except ImportError:  # xdist is in the dev extra; without it the suite runs on one process
    LoadScopeScheduling = None

if LoadScopeScheduling is not None:

    class SharedFixtureScheduling(LoadScopeScheduling):
        """xdist's scope scheduling with `_unit` as the scope: units are sent whole, the largest
        first, then one at a time to the worker that runs out of work."""

        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    @pytest.hookimpl(optionalhook=True)  # `-p no:xdist` (a one-process run) does not define the hook
    def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
        if config.getoption("dist") != "loadgroup":
            return None  # another --dist asked for by hand: xdist's own
        return SharedFixtureScheduling(config, log)
