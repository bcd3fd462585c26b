"""OptiLoop: closed optimisation loops (suggest -> run -> ingest -> learn) as a service."""

import os as _os

# One BLAS thread per process: requests run concurrently in worker threads (and one per Lambda),
# and multi-threaded OpenBLAS on small matrices spins and spikes latency 50x (measured: a 192x192
# Cholesky takes 0.3 ms median but up to 49 ms). Must happen before numpy is first imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
