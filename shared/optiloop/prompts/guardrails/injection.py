"""Prompt-injection score: hand-written rules plus a small hashed n-gram logistic regression.

Neither half is enough alone. The rules catch short explicit attacks exactly and explain themselves,
but miss the long role-play jailbreaks that rephrase endlessly; the classifier learns those from
public jailbreak collections but has seen few two-line attacks. The two are combined as a noisy-OR
(either piece of evidence can raise the score; neither can lower it), and the threshold was tuned on
out-of-fold scores of the training split (tests/benchmarks/train_injection.py) for a low false-positive
rate on ordinary requests, since a false block refuses a legitimate user outright.

The model is a numpy file shipped in the package (injection_model.npz: float16 weights over 2**18
hashed features, ~0.5 MB); it is loaded once per process and inference is a dot product over the
few thousand non-zero features of the input, so no scikit-learn on the hot path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from optiloop.prompts.guardrails.features import DIM, HASH_BITS, featurize
from optiloop.prompts.guardrails.heuristics import clean, heuristic_score, rule_hits

MODEL_FILE = "injection_model.npz"


@dataclass(frozen=True, slots=True)
class InjectionVerdict:
    score: float  # combined, in [0, 1]
    is_injection: bool
    reasons: tuple[str, ...]  # rule ids that fired, and "classifier" when the model alone crosses
    classifier_score: float
    heuristic_score: float
    start: int = 0  # span of the strongest rule hit; the whole text when only the classifier fired
    end: int = 0


@dataclass(frozen=True)
class InjectionModel:
    weights: np.ndarray  # float32, DIM
    bias: float
    threshold: float
    meta: dict[str, Any]

    def probability(self, text: str) -> float:
        idx, values = featurize(text)
        z = self.bias + float(np.dot(self.weights[idx], values))
        return float(1.0 / (1.0 + np.exp(-z)))


@lru_cache(maxsize=1)
def load_model() -> InjectionModel:
    with resources.files("optiloop.prompts.guardrails").joinpath(MODEL_FILE).open("rb") as fh:
        data = np.load(fh, allow_pickle=False)
        if int(data["hash_bits"]) != HASH_BITS:
            raise RuntimeError(
                f"{MODEL_FILE} was trained with {int(data['hash_bits'])} hash bits, not {HASH_BITS}"
            )
        weights = data["weights"].astype(np.float32)
        meta = json.loads(str(data["meta"]))
        model = InjectionModel(weights, float(data["bias"]), float(data["threshold"]), meta)
    if model.weights.shape != (DIM,):
        raise RuntimeError(f"{MODEL_FILE}: weights of shape {model.weights.shape}, expected ({DIM},)")
    return model


def combine(classifier: float, heuristic: float) -> float:
    return 1.0 - (1.0 - classifier) * (1.0 - heuristic)


def default_threshold() -> float:
    return load_model().threshold


def detect_injection(text: str, threshold: float | None = None) -> InjectionVerdict:
    """Score ``text`` for prompt injection; ``threshold`` defaults to the one tuned with the model."""
    model = load_model()
    cut = model.threshold if threshold is None else threshold
    cleaned = clean(text)
    hits = rule_hits(cleaned)
    h = heuristic_score(hits)
    p = model.probability(cleaned)
    score = combine(p, h)
    reasons = [hit.id for hit in sorted(hits, key=lambda x: -x.weight)]
    if p >= cut:
        reasons.append("classifier")
    start, end = (0, len(text))
    if hits:
        top = max(hits, key=lambda x: x.weight)
        # Offsets refer to the cleaned text; NFKC can change lengths, so clamp to the original.
        start, end = min(top.start, len(text)), min(top.end, len(text))
    return InjectionVerdict(score, score >= cut, tuple(reasons), p, h, start, end)
