"""Simulated systems-under-test shipped with the package, for the demo and for tests.

They behave like instrumented systems: each run reports the coverage buckets it exercised and,
sometimes, a failure with a severity. Buckets depend on regimes and interactions of parameters,
with failures hiding in corners, so a suggester is rewarded for exploring well, not for luck.
"""

from optiloop.testopt.sut.checkout import CheckoutService

SUTS = {CheckoutService.name: CheckoutService}

__all__ = ["SUTS", "CheckoutService"]
