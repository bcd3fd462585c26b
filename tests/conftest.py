"""Fixtures shared by every test tier. Kept small: tier-specific fixtures live next to their tests."""

from __future__ import annotations

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
