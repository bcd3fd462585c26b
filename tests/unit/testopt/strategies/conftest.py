"""A tiny harness: a project on an in-memory store, driven through the real use cases."""

from __future__ import annotations

import pytest
from loop_harness import Loop  # this folder is on sys.path (rootdir import mode)


@pytest.fixture
def loop_factory() -> type[Loop]:
    return Loop
