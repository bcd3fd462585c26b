"""One BLAS thread per serving process.

Requests run concurrently in worker threads (and one per Lambda), and multi-threaded OpenBLAS on
small matrices spins and spikes latency 50x (measured: a 192x192 Cholesky takes 0.3 ms median but
up to 49 ms, and a suggest call 30 ms becomes 200 ms when another process holds a core). The
environment works only before numpy loads; if the process imported numpy first, the
already-loaded BLAS is limited at run time instead.

Called by the packages that serve or suggest (`optiloop.api`, `optiloop.testopt.strategies`), not
by `import optiloop`: the pytest plugin loads with every pytest session of an environment that has
optiloop installed, and a user's own numpy-heavy tests must keep their threads.
"""

from __future__ import annotations

import os
import sys

_done = False


def cap_threads() -> None:
    global _done
    if _done:
        return
    _done = True
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if "numpy" in sys.modules:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
