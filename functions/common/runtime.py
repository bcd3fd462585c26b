"""Settings and ports from the Lambda's environment, through the core's own wiring.

`optiloop.runtime.build_deps` stays the one place that chooses adapters; functions only decide
*when* to build: HTTP functions at import (Mangum needs the app), the others on first invocation
so an import (and the cold-import benchmark) touches no backend.

No Mangum or Powertools here: the authorizer imports this module and ships with the core layer only.
"""

from __future__ import annotations

from functools import lru_cache

from optiloop.config import Settings
from optiloop.deps import Deps
from optiloop.runtime import build_deps


def settings_from_env() -> Settings:
    """Validated once; a malformed OPTILOOP_* variable stops the cold start with its name."""
    return Settings.from_env()


@lru_cache(maxsize=1)
def process_deps() -> Deps:
    """The ports of this execution environment, built on first use and reused while it is warm."""
    return build_deps(settings_from_env())
