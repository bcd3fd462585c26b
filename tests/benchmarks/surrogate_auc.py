"""Held-out failure AUC: the trained surrogate (training_jobs/surrogate, XGBoost, served by the numpy
trees runtime) vs the in-process one (the engine's RFF model on its embeddings), on the shared SUTs.

For each of the eight systems (the four published ones and the four in suts_extra): `--tests`
uniformly random tests (the `random` generator) are run, the first 75% train both models and the
newest 25% are held out; both are scored by ROC AUC of failure on the held-out runs. The trained
model is fitted by running the real entry point in a subprocess on the same snapshot format
`prepare_training` writes, and evaluated through the serving path (artifact -> runtimes.load).

usage: python tests/benchmarks/surrogate_auc.py [--tests 3000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / ".." / "shared" / "bench"), str(REPO / "tests" / "benchmarks")]

import suts_extra  # noqa: E402
import suts_public  # noqa: E402

from optiloop.models import runtimes  # noqa: E402
from optiloop.models.artifact import pack_dir, read_artifact  # noqa: E402
from optiloop.models.monitoring.performance import auc  # noqa: E402
from optiloop.testopt.constraints import describe_space  # noqa: E402
from optiloop.testopt.spaces import space_for  # noqa: E402
from optiloop.testopt.strategies.state import ProjectState  # noqa: E402
from optiloop.testopt.surrogate.rff import RFFSurrogate  # noqa: E402
from optiloop.testopt.sut.driver import LocalLoop  # noqa: E402


def collect(sut: Any, n: int, seed: int) -> tuple[LocalLoop, list[dict[str, Any]], list[dict[str, Any]]]:
    loop = LocalLoop(sut.schema, name=f"auc-{sut.name}")
    params, outcomes = [], []
    batch = 250
    for i in range(0, n, batch):
        out = loop.suggest(generator="random", batch_size=min(batch, n - i), seed=seed * 1000 + i)
        ran = [sut.run(t["params"]) for t in out["tests"]]
        loop.ingest([t["id"] for t in out["tests"]], ran)
        params += [t["params"] for t in out["tests"]]
        outcomes += ran
    return loop, params, outcomes


def in_process_auc(loop: LocalLoop, params: list[dict], y: np.ndarray, cut: int) -> float | None:
    space = space_for(loop.deps.store, loop.project_id)
    st = ProjectState(space)
    emb = st.emb(space.encode_dicts(params))
    model = RFFSurrogate(emb.shape[1], seed=0).partial_fit(emb[:cut], y[:cut])
    mean, _ = model.predict(emb[cut:])
    return auc(y[cut:], mean)


def trained_auc(loop: LocalLoop, params: list[dict], outcomes: list[dict], cut: int) -> float | None:
    y = np.array([o["status"] == "fail" for o in outcomes], dtype=float)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        channel, model_dir, out_dir = root / "runs", root / "model", root / "output"
        for d in (channel, model_dir, out_dir):
            d.mkdir()
        (channel / "manifest.json").write_text(
            json.dumps({"space": describe_space(loop.deps, loop.project_id)})
        )
        lines = [
            json.dumps(
                {
                    "params": p,
                    "status": o["status"],
                    "new_buckets": len(o["coverage_delta"]["buckets_hit"]),
                    "cost_cents": o.get("cost_cents", 0),
                }
            )
            for p, o in zip(params[:cut], outcomes[:cut], strict=True)
        ]
        (channel / "runs.jsonl").write_text("\n".join(lines) + "\n")
        env = {
            **os.environ,
            "SM_CHANNEL_RUNS": str(channel),
            "SM_MODEL_DIR": str(model_dir),
            "SM_OUTPUT_DATA_DIR": str(out_dir),
            "SM_HPS": json.dumps({"coverage": "false"}),
            "SM_NUM_CPUS": "1",
            "OMP_NUM_THREADS": "1",
            "OMP_WAIT_POLICY": "PASSIVE",
        }
        done = subprocess.run(
            [sys.executable, str(REPO / "training_jobs" / "surrogate" / "train.py")],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return None
        art = read_artifact(pack_dir(model_dir))
    pred = runtimes.load(art).predict(art.signature.encode(params[cut:], where="params"))[:, 0]
    return auc(y[cut:], pred)


def fmt(v: float | None) -> str:
    return "   n/a" if v is None else f"{v:6.3f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tests", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"held-out failure AUC, {args.tests} random tests per system, newest 25% held out")
    print(f"{'system':<14} {'fail train':>10} {'fail held':>9} {'in-process':>10} {'trained':>8}")
    pairs = []
    for sut in [*suts_public.SUTS, *suts_extra.SUTS]:
        loop, params, outcomes = collect(sut, args.tests, args.seed)
        y = np.array([o["status"] == "fail" for o in outcomes], dtype=float)
        cut = int(0.75 * len(y))
        a_in = in_process_auc(loop, params, y, cut)
        a_tr = trained_auc(loop, params, outcomes, cut) if 0 < y[:cut].sum() < cut else None
        print(
            f"{sut.name:<14} {int(y[:cut].sum()):>10} {int(y[cut:].sum()):>9} {fmt(a_in):>10} {fmt(a_tr):>8}",
            flush=True,
        )
        if a_in is not None and a_tr is not None:
            pairs.append((a_in, a_tr))
    if pairs:
        a = np.array(pairs)
        print(
            f"{'mean':<14} {'':>10} {'':>9} {a[:, 0].mean():10.3f} {a[:, 1].mean():8.3f}",
            f" ({len(pairs)} systems)",
        )


if __name__ == "__main__":
    main()
