"""Test generators (random, qmc, coverage, bo, hybrid) and the suggest pipeline."""

from optiloop.testopt.strategies.generators import GENERATORS, Generator

__all__ = ["GENERATORS", "Generator"]
