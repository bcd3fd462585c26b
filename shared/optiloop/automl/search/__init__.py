"""The search: portfolio, cross-validation, metrics and the Optuna loop.

Imported only by the worker that runs experiments (scikit-learn, xgboost and optuna are heavy and
never on the HTTP path). Thread pools are capped to one thread and OpenMP told not to spin
(`OMP_WAIT_POLICY=PASSIVE`, set before xgboost loads): on a loaded 2-core machine a busy-waiting
OpenMP made one 0.15 s XGBoost fit take 30 s.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "1")
