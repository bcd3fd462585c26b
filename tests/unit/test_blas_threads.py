"""Serving code caps BLAS at one thread; the pytest plugin, loaded into every pytest session of an
environment with optiloop installed, leaves a user's own numpy alone."""

from __future__ import annotations

import os
import subprocess
import sys

VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _run(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in VARS}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()


def test_the_pytest_plugin_does_not_touch_blas_threads() -> None:
    code = "import os, optiloop.testopt.pytest_plugin.plugin; print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    assert _run(code) == "None"


def test_the_api_and_the_engine_cap_blas_at_one_thread() -> None:
    for module in ("optiloop.api", "optiloop.testopt.strategies"):
        assert _run(f"import os, {module}; print(os.environ.get('OPENBLAS_NUM_THREADS'))") == "1"
