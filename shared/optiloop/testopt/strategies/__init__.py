"""Test generators (random, qmc, coverage, bo, hybrid) and the suggest pipeline."""

from optiloop.blas import cap_threads

cap_threads()  # before the engine's numpy work: see optiloop.blas

from optiloop.testopt.strategies.generators import GENERATORS, Generator  # noqa: E402

__all__ = ["GENERATORS", "Generator"]
