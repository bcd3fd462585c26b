"""Evaluation metrics for golden-set runs of prompt versions, and the statistics to compare two runs.

Per-example scores follow the reference definitions other tools report, so a number from OptiLoop
means what the same name means in a paper or a leaderboard:

- ``exact_match`` and ``f1``: the official SQuAD v1.1 evaluation script (normalise: lower case,
  drop ASCII punctuation, drop the articles a/an/the, collapse whitespace; F1 over the multiset of
  tokens). As in v1.1, two empty answers have EM 1.0 but F1 0.0 (v2.0 changed the latter to 1.0).
- ``rouge_l``: Google's ``rouge-score`` package, ``RougeScorer(["rougeL"], use_stemmer=False)``,
  F-measure. No stemmer, as in Hugging Face ``evaluate``'s default: the Porter stemmer is
  English-only and would make a score depend on the language. Its default tokenizer lower-cases and
  keeps only ``[a-z0-9]`` runs, so text with no ASCII letters or digits scores 0.0 against
  anything (a limit of the reference, kept on purpose so numbers stay comparable).
- ``bleu``: ``sacrebleu.sentence_bleu(prediction, [expected]).score / 100`` with sacrebleu's
  defaults: 13a tokenisation, case-sensitive, ``exp`` smoothing, effective order. Sentence BLEU is
  noisy; prefer it averaged over a set.
- ``json_valid``: 1.0 when the prediction parses as strict JSON (``NaN``/``Infinity`` rejected;
  surrounding whitespace allowed; a fenced block is not JSON).

``sacrebleu`` and ``rouge-score`` (which imports nltk, ~0.5 s) are imported on first use only: the
API Lambda imports this module for ``METRICS`` validation and must not pay for them at cold start.

Comparing two prompt versions uses a *paired* test because both were scored on the same examples:
the per-example difference removes the example difficulty, which dominates the variance of each
run's scores, so a paired test detects a real difference with far fewer examples than comparing two
independent means would. The sign-flip permutation test needs no normality assumption (scores are
bounded, often 0/1) and no scipy: under the null of exchangeable candidate/baseline, each
difference's sign is a fair coin.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

METRICS: tuple[str, ...] = ("exact_match", "f1", "rouge_l", "bleu", "json_valid")

BOOTSTRAP_RESAMPLES = 2000
PERMUTATION_RESAMPLES = 10_000
EXACT_PERMUTATION_MAX_N = 16
# Bound on the elements of one resampling block (rows x n), so a 100k-example set stays in memory.
_BLOCK_ELEMENTS = 2_000_000

_PUNCT = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD v1.1's ``normalize_answer``, step for step (order matters: punctuation before articles)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, expected: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(expected))


def f1(prediction: str, expected: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(expected).split()
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer  # lazy: pulls nltk

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def rouge_l(prediction: str, expected: str) -> float:
    # rouge-score's signature is score(target, prediction).
    return float(_rouge_scorer().score(expected, prediction)["rougeL"].fmeasure)


def bleu(prediction: str, expected: str) -> float:
    from sacrebleu.metrics.bleu import BLEU  # lazy

    # Clipped: a perfect match comes back as 100.00000000000004 from the float arithmetic.
    return min(1.0, float(_sentence_bleu(BLEU)(prediction, [expected]).score) / 100.0)


@lru_cache(maxsize=1)
def _sentence_bleu(bleu_cls: Any) -> Callable[[str, list[str]], Any]:
    # What sacrebleu.sentence_bleu builds on every call, built once.
    score: Callable[[str, list[str]], Any] = bleu_cls(effective_order=True).sentence_score
    return score


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_valid(prediction: str, expected: str = "") -> float:
    try:
        json.loads(prediction, parse_constant=_reject_constant)
    except ValueError:  # JSONDecodeError is a ValueError
        return 0.0
    return 1.0


_SCORERS: dict[str, Callable[[str, str], float]] = {
    "exact_match": exact_match,
    "f1": f1,
    "rouge_l": rouge_l,
    "bleu": bleu,
    "json_valid": json_valid,
}


def score(metric: str, prediction: str, expected: str) -> float:
    """The score in [0, 1] of one prediction against its expected answer."""
    scorer = _SCORERS.get(metric)
    if scorer is None:
        raise ValueError(f"unknown metric {metric!r}; known metrics: {', '.join(METRICS)}")
    return scorer(prediction, expected)


def _as_array(values: Sequence[float], name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence of numbers")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: nothing to aggregate")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return arr


def _bootstrap_means(arr: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    n = arr.size
    rows = max(1, _BLOCK_ELEMENTS // n)
    means = np.empty(resamples)
    for start in range(0, resamples, rows):
        stop = min(resamples, start + rows)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = arr[idx].mean(axis=1)
    return means


def _percentile_ci(arr: np.ndarray, confidence: float, seed: int) -> tuple[float, float]:
    mean = float(arr.mean())
    if arr.size < 2:
        return mean, mean
    means = _bootstrap_means(arr, BOOTSTRAP_RESAMPLES, np.random.default_rng(seed))
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return float(low), float(high)


def aggregate(values: Sequence[float], *, confidence: float = 0.95, seed: int = 0) -> dict[str, float]:
    """Mean of per-example scores with a percentile-bootstrap confidence interval (2,000 resamples).

    For fewer than two values there is nothing to resample: the interval is the mean itself.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    arr = _as_array(values, "values")
    low, high = _percentile_ci(arr, confidence, seed)
    return {
        "n": arr.size,
        "mean": float(arr.mean()),
        "stdev": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
        "ci_low": low,
        "ci_high": high,
    }


def _sign_flip_p_value(diffs: np.ndarray, seed: int) -> tuple[float, str]:
    """Two-sided p of the paired sign-flip test on the mean difference."""
    n = diffs.size
    observed = abs(diffs.mean())
    # Sums of the same numbers in another order may differ in the last bits; count those as ties.
    tol = 1e-12 * max(1.0, float(np.abs(diffs).max()))
    if n <= EXACT_PERMUTATION_MAX_N:
        patterns = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) * 2 - 1
        stats = np.abs(patterns @ diffs) / n
        return float(np.mean(stats >= observed - tol)), "exact"
    rng = np.random.default_rng(seed)
    rows = max(1, _BLOCK_ELEMENTS // n)
    hits = 0
    for start in range(0, PERMUTATION_RESAMPLES, rows):
        size = min(rows, PERMUTATION_RESAMPLES - start)
        signs = rng.integers(0, 2, size=(size, n), dtype=np.int8) * 2 - 1
        hits += int(np.count_nonzero(np.abs(signs @ diffs) / n >= observed - tol))
    # The observed labelling is one of the possible ones: (1 + hits) / (1 + B) is never 0.
    return (1 + hits) / (1 + PERMUTATION_RESAMPLES), "monte_carlo"


def paired_comparison(
    candidate: Sequence[float], baseline: Sequence[float], *, alpha: float = 0.05, seed: int = 0
) -> dict[str, Any]:
    """Is the candidate better than the baseline on the same examples (index i = example i)?

    p_value: two-sided paired sign-flip permutation test of the mean difference, exact over all
    2**n sign patterns when n <= 16, else 10,000 seeded Monte-Carlo flips. ci_low/ci_high: the
    (1 - alpha) percentile-bootstrap interval of the mean difference.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    cand = _as_array(candidate, "candidate")
    base = _as_array(baseline, "baseline")
    if cand.size != base.size:
        raise ValueError(f"candidate and baseline must be paired: {cand.size} != {base.size} scores")
    diffs = cand - base
    mean_diff = float(diffs.mean())
    low, high = _percentile_ci(diffs, 1.0 - alpha, seed)
    p_value, method = _sign_flip_p_value(diffs, seed)
    significant = p_value < alpha and mean_diff != 0.0
    verdict = "no_significant_difference"
    if significant:
        verdict = "better" if mean_diff > 0 else "worse"
    return {
        "n": int(diffs.size),
        "mean_diff": mean_diff,
        "ci_low": low,
        "ci_high": high,
        "p_value": float(min(1.0, p_value)),
        "method": method,
        "alpha": alpha,
        "significant": bool(significant),
        "verdict": verdict,
    }
