"""Prompt-injection score: hand-written rules plus a hashed n-gram logistic regression, per window.

Neither half is enough alone. The rules catch short explicit attacks exactly (the core intents in
30 languages, multilingual.py, and inside base64/rot13 wrappers) and explain themselves, but miss the
long role-play jailbreaks that rephrase endlessly; the classifier learns those from public jailbreak
collections. The two are combined as a noisy-OR (either piece of evidence can raise the score; neither
can lower it).

Length-robust by construction: the classifier scores windows of ``WINDOW`` characters (overlapping by
``WINDOW - STRIDE``) and the text takes its highest window. A whole-text model drifts towards
"injection" as a benign text grows (more n-grams, more chances for an attack-like one, and a 2,000-char
history passage looks more like a 2,000-char jailbreak than like a one-line question); a window of a
reading passage looks like any other paragraph. Windows also find an attack buried in the middle of a
pasted e-mail or tool output, where head-and-tail truncation did not look.

Calibrated: the window logit goes through a Platt map fitted on a group-held-out calibration part of the
training sources, so ``classifier_score`` is a probability, and the threshold was chosen on benign texts
of that calibration part (tests/benchmarks/guardrails_eval.py; sources it never saw are reported there).

The model is a numpy file shipped in the package (injection_model.npz: float16 weights over 2**18
hashed features, ~0.5 MB), loaded once per process on first use; inference is a dot product over the
non-zero features of each window, so no scikit-learn (and no onnxruntime) on the hot path.
Two semantic heads share the classifier's max with it: an MLP over static token embeddings distilled
from English MiniLM (embedding.py, injection_embed.npz) and one over a table distilled from Google's
multilingual USE (multilingual_embedding.py, injection_embed_multi.npz, 16 languages); each is
Platt-calibrated on the same held-out part, and the cut is tuned on their joint maximum.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import numpy as np

from optiloop.prompts.guardrails.embedding import EmbedModel, load_embed_model
from optiloop.prompts.guardrails.features import DIM, HASH_BITS, featurize
from optiloop.prompts.guardrails.heuristics import clean, heuristic_score, rule_hits
from optiloop.prompts.guardrails.multilingual_embedding import MultiEmbedModel, load_multi_embed_model

MODEL_FILE = "injection_model.npz"
MAX_WINDOWS = 64
# A rule this heavy blocks by itself at the cut the models were tuned to (its hit lifts the score to
# that cut): the precise phrasings ("ignore all previous instructions", a task hijack inside a
# document, GCG token soup) have no false hits on the benign sets, and a cut raised by the models' hard
# negatives must not let them through. A caller's own higher threshold still decides.
DECISIVE_WEIGHT = 0.8


@dataclass(frozen=True, slots=True)
class InjectionVerdict:
    score: float  # combined, in [0, 1]
    is_injection: bool
    reasons: tuple[str, ...]  # rule ids that fired, and "classifier" when the model alone crosses
    classifier_score: float  # the larger of the two models' calibrated probabilities
    heuristic_score: float
    start: int = 0  # span of the strongest rule hit; the whole text when only the classifier fired
    end: int = 0
    embedding_score: float = 0.0  # the token-embedding model's probability (0 when it is not shipped)
    multilingual_score: float = 0.0  # the multilingual (USE) head's probability (0 when it is off)


@dataclass(frozen=True)
class InjectionModel:
    weights: np.ndarray  # float32, DIM
    bias: float
    threshold: float
    meta: dict[str, Any]
    platt_a: float = 1.0  # calibrated probability = sigmoid(platt_a * logit + platt_b)
    platt_b: float = 0.0
    window: int = 0  # 0: score the whole text (the first model's behaviour)
    stride: int = 0

    def logit(self, text: str) -> float:
        idx, values = featurize(text)
        return self.bias + float(np.dot(self.weights[idx], values))

    def probability(self, text: str) -> float:
        """Calibrated probability of the highest-scoring window of ``text`` (already cleaned)."""
        z = max(self.logit(w) for w in windows(text, self.window, self.stride))
        return float(1.0 / (1.0 + np.exp(-(self.platt_a * z + self.platt_b))))


def windows(text: str, size: int, stride: int, cap: int = MAX_WINDOWS) -> list[str]:
    """Overlapping windows of about ``size`` characters, cut at whitespace; the whole text if short.

    More than ``cap`` windows (a 200 KB paste) are thinned to the first and last quarter of the cap
    plus evenly spaced ones between, keeping the cost bounded; the rules still read the whole text."""
    if size <= 0 or len(text) <= size + stride // 2:
        return [text]
    starts = list(range(0, max(1, len(text) - size + stride), stride))
    if len(starts) > cap:
        q = cap // 4
        middle = starts[q:-q]
        step = len(middle) / (cap - 2 * q)
        starts = starts[:q] + [middle[int(i * step)] for i in range(cap - 2 * q)] + starts[-q:]
    out = []
    for s0 in starts:
        a = s0
        if a > 0:
            sp = text.find(" ", a, a + 40)
            a = sp + 1 if sp != -1 else a
        b = min(len(text), s0 + size)
        if b < len(text):
            sp = text.rfind(" ", b - 40, b)
            b = sp if sp > a else b
        out.append(text[a:b])
    return out


@lru_cache(maxsize=1)
def load_model() -> InjectionModel:
    with resources.files("optiloop.prompts.guardrails").joinpath(MODEL_FILE).open("rb") as fh:
        data = np.load(fh, allow_pickle=False)
        if int(data["hash_bits"]) != HASH_BITS:
            raise RuntimeError(
                f"{MODEL_FILE} was trained with {int(data['hash_bits'])} hash bits, not {HASH_BITS}"
            )
        extra = {k: float(data[k]) for k in ("platt_a", "platt_b") if k in data.files}
        extra |= {k: int(data[k]) for k in ("window", "stride") if k in data.files}
        model = InjectionModel(
            data["weights"].astype(np.float32),
            float(data["bias"]),
            float(data["threshold"]),
            json.loads(str(data["meta"])),
            **extra,  # type: ignore[arg-type]
        )
    if model.weights.shape != (DIM,):
        raise RuntimeError(f"{MODEL_FILE}: weights of shape {model.weights.shape}, expected ({DIM},)")
    return model


def combine(classifier: float, heuristic: float) -> float:
    return 1.0 - (1.0 - classifier) * (1.0 - heuristic)


def default_threshold() -> float:
    """The cut tuned with the shipped models: the joint one when the embedding models ship."""
    multi = load_multi_embed_model()
    if multi is not None:
        return multi.threshold
    embed = load_embed_model()
    return embed.threshold if embed is not None else load_model().threshold


def detect_injection(
    text: str,
    threshold: float | None = None,
    *,
    model: InjectionModel | None = None,
    extended: bool = True,
    embed: EmbedModel | Literal["shipped"] | None = "shipped",
    multi: MultiEmbedModel | Literal["shipped"] | None = "shipped",
) -> InjectionVerdict:
    """Score ``text`` for prompt injection; ``threshold`` defaults to the one tuned with the models.

    The classifier probability is the largest of the hashed n-gram model's, the English
    token-embedding model's and the multilingual (USE) one's (each calibrated on the same held-out
    part, the cut tuned on their maximum): the n-grams know the training attacks' exact phrasing and
    other scripts, the English table knows paraphrases, the multilingual table knows them across 16
    languages. ``model``, ``embed``, ``multi`` and ``extended`` exist for the evaluation, which scores
    earlier detectors (their model files and rule sets) side by side with this one; callers leave them."""
    em = load_embed_model() if embed == "shipped" else embed
    mm = load_multi_embed_model() if multi == "shipped" else multi
    model = model or load_model()
    tuned = mm.threshold if mm is not None else em.threshold if em is not None else model.threshold
    cut = tuned if threshold is None else threshold
    cleaned = clean(text)
    hits = rule_hits(cleaned, extended=extended)
    h = heuristic_score(hits)
    p_hash = model.probability(cleaned)
    chunks = windows(cleaned, model.window or 700, model.stride or 500) if em or mm else []
    p_embed = em.probability(chunks) if em else 0.0
    p_multi = mm.probability(chunks) if mm else 0.0
    p = max(p_hash, p_embed, p_multi)
    score = combine(p, h)
    if any(hit.weight >= DECISIVE_WEIGHT for hit in hits):
        score = max(score, tuned)  # at least as suspicious as the tuned cut; a caller's higher cut wins
    reasons = [hit.id for hit in sorted(hits, key=lambda x: -x.weight)]
    if p >= cut:
        reasons.append("classifier")
    start, end = (0, len(text))
    if hits:
        top = max(hits, key=lambda x: x.weight)
        # Offsets refer to the cleaned text; NFKC can change lengths, so clamp to the original.
        start, end = min(top.start, len(text)), min(top.end, len(text))
    return InjectionVerdict(score, score >= cut, tuple(reasons), p, h, start, end, p_embed, p_multi)
