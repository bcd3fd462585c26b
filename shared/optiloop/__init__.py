"""OptiLoop: closed optimisation loops (suggest -> run -> ingest -> learn) as a service."""

import os as _os
import sys as _sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what `optiloop.parametrize` is, for type checkers; at run time see __getattr__
    from optiloop.testopt.pytest_plugin.decorator import parametrize as parametrize

# One BLAS thread per process: requests run concurrently in worker threads (and one per Lambda),
# and multi-threaded OpenBLAS on small matrices spins and spikes latency 50x (measured: a 192x192
# Cholesky takes 0.3 ms median but up to 49 ms, and a suggest call 30 ms becomes 200 ms when
# another process holds a core). The environment works only before numpy loads; if the host
# process imported numpy first, limit the already-loaded BLAS at run time instead.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")
if "numpy" in _sys.modules:
    from threadpoolctl import threadpool_limits as _limits

    _limits(limits=1, user_api="blas")

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """`optiloop.parametrize` (the pytest plugin's decorator), imported on first use so that
    `import optiloop` (every Lambda, the CLI) never imports pytest."""
    if name == "parametrize":
        from optiloop.testopt.pytest_plugin.decorator import parametrize

        return parametrize
    raise AttributeError(f"module 'optiloop' has no attribute {name!r}")
