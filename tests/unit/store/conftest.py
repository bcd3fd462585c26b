"""SQLite- and local-folder-specific tests: what the adapter-neutral contract suites cannot see."""

from __future__ import annotations

import sys
from pathlib import Path

try:  # a checkout without `pip install -e .` still runs the tests
    import optiloop  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "shared"))
