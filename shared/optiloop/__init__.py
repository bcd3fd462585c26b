"""OptiLoop: closed optimisation loops (suggest -> run -> ingest -> learn) as a service."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what `optiloop.parametrize` is, for type checkers; at run time see __getattr__
    from optiloop.testopt.pytest_plugin.decorator import parametrize as parametrize

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """`optiloop.parametrize` (the pytest plugin's decorator), imported on first use so that
    `import optiloop` (every Lambda, the CLI) never imports pytest."""
    if name == "parametrize":
        from optiloop.testopt.pytest_plugin.decorator import parametrize

        return parametrize
    raise AttributeError(f"module 'optiloop' has no attribute {name!r}")
