"""Metrics agree with their reference implementations, and the statistics behave as statistics should.

The references are the libraries themselves (sacrebleu, rouge-score) and, for SQuAD, a verbatim copy
of the official v1.1 script's functions below, so a drift in our normalisation shows up as a diff.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter

import numpy as np
import pytest

from optiloop.prompts import metrics
from optiloop.prompts.metrics import METRICS, aggregate, paired_comparison, score


# --- the official SQuAD v1.1 evaluation functions, verbatim apart from formatting -----------------
def squad_normalize_answer(s: str) -> str:
    def remove_articles(text: str) -> str:
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text: str) -> str:
        return " ".join(text.split())

    def remove_punc(text: str) -> str:
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def squad_f1(prediction: str, ground_truth: str) -> float:
    prediction_tokens = squad_normalize_answer(prediction).split()
    ground_truth_tokens = squad_normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def squad_em(prediction: str, ground_truth: str) -> bool:
    return squad_normalize_answer(prediction) == squad_normalize_answer(ground_truth)


# --- generated pairs --------------------------------------------------------------------------------
WORD_SOUP = (
    "the a an cat dog sat on mat Paris is capital of France 42 3.14 New-York naïve café über Straße "
    "東京 Москва ħello emoji🙂 don't it's (x) [y] {z} -- ... , . ! ? ; : \" ' e-mail U.S.A. 1,000"
)
WORDS = WORD_SOUP.split()


def random_text(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.05:
        return ""
    if kind < 0.1:
        return rng.choice(["   ", "\n\t", "!!!", "the", "a an the", "🙂"])
    n = rng.randint(1, 25)
    sep = rng.choice([" ", " ", " ", "  ", "\n"])
    return sep.join(rng.choice(WORDS) for _ in range(n))


def pairs(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        pred = random_text(rng)
        # Half the predictions are edits of the reference, so partial overlaps are common.
        if rng.random() < 0.5:
            words = pred.split() or ["x"]
            rng.shuffle(words)
            gold = " ".join(words[: rng.randint(1, len(words))])
        else:
            gold = random_text(rng)
        out.append((pred, gold))
    return out


PAIRS = pairs(300, seed=7)


def test_metrics_constant_lists_what_score_accepts() -> None:
    assert METRICS == ("exact_match", "f1", "rouge_l", "bleu", "json_valid")
    for m in METRICS:
        assert 0.0 <= score(m, "a b", "a b") <= 1.0


def test_unknown_metric_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="exact_match, f1, rouge_l, bleu, json_valid"):
        score("judge", "a", "b")


def test_squad_metrics_match_the_official_script() -> None:
    for pred, gold in PAIRS:
        assert score("exact_match", pred, gold) == float(squad_em(pred, gold))
        assert score("f1", pred, gold) == pytest.approx(squad_f1(pred, gold), abs=1e-6)


@pytest.mark.parametrize(
    ("pred", "gold", "em", "f1"),
    [
        ("The Eiffel Tower", "eiffel tower", 1.0, 1.0),
        ("Eiffel Tower.", "the eiffel tower", 1.0, 1.0),
        ("in Paris, France", "Paris", 0.0, 2 * (1 / 3) * 1 / (1 / 3 + 1)),  # P=1/3, R=1 -> 0.5
        ("Denver Broncos", "Broncos", 0.0, 2 / 3),
        ("a", "the", 1.0, 0.0),  # both normalise to empty: EM 1, F1 0 (v1.1)
        ("cat cat dog", "cat dog dog", 0.0, 2 / 3),  # multiset overlap: cat + dog = 2 of 3
        ("", "answer", 0.0, 0.0),
    ],
)
def test_squad_hand_checked(pred: str, gold: str, em: float, f1: float) -> None:
    assert score("exact_match", pred, gold) == em
    assert score("f1", pred, gold) == pytest.approx(f1)


def test_rouge_l_matches_rouge_score() -> None:
    from rouge_score import rouge_scorer

    ref = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    for pred, gold in PAIRS:
        assert score("rouge_l", pred, gold) == pytest.approx(
            ref.score(gold, pred)["rougeL"].fmeasure, abs=1e-6
        )
    assert score("rouge_l", "the cat sat on the mat", "the cat sat on the mat") == 1.0
    assert score("rouge_l", "", "anything") == 0.0


def test_bleu_matches_sacrebleu_sentence_bleu() -> None:
    import sacrebleu

    for pred, gold in PAIRS:
        expected = sacrebleu.sentence_bleu(pred, [gold]).score / 100
        assert score("bleu", pred, gold) == pytest.approx(expected, abs=1e-6)
    assert score("bleu", "the cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0)
    assert score("bleu", "", "the cat") == 0.0


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ('{"a": 1}', 1.0),
        ("  [1, 2, null]\n", 1.0),
        ("42", 1.0),
        ('"s"', 1.0),
        ("{'a': 1}", 0.0),
        ('```json\n{"a": 1}\n```', 0.0),
        ("NaN", 0.0),
        ('{"a": Infinity}', 0.0),
        ("", 0.0),
        ('{"a": 1', 0.0),
    ],
)
def test_json_valid(text: str, valid: float) -> None:
    assert score("json_valid", text, "") == valid


def test_scores_lie_in_unit_interval() -> None:
    for m in METRICS:
        for pred, gold in PAIRS[:60]:
            assert 0.0 <= score(m, pred, gold) <= 1.0


# --- aggregate -------------------------------------------------------------------------------------
def test_aggregate_fields_and_ci_contains_mean() -> None:
    rng = np.random.default_rng(1)
    values = rng.random(50).tolist()
    out = aggregate(values)
    assert out["n"] == 50
    assert out["mean"] == pytest.approx(float(np.mean(values)))
    assert out["stdev"] == pytest.approx(float(np.std(values, ddof=1)))
    assert out["ci_low"] < out["mean"] < out["ci_high"]
    assert aggregate(values) == out  # seeded


def test_aggregate_ci_shrinks_with_n() -> None:
    rng = np.random.default_rng(2)
    widths = []
    for n in (20, 200, 2000):
        out = aggregate(rng.integers(0, 2, n).astype(float).tolist())
        widths.append(out["ci_high"] - out["ci_low"])
    assert widths[0] > widths[1] > widths[2]
    # ~ 1/sqrt(n): tenfold n, about a third of the width
    assert widths[2] < 0.5 * widths[1]


def test_aggregate_single_value_and_constant() -> None:
    assert aggregate([0.7]) == {"n": 1, "mean": 0.7, "stdev": 0.0, "ci_low": 0.7, "ci_high": 0.7}
    out = aggregate([1.0] * 10)
    assert out["ci_low"] == out["ci_high"] == 1.0


def test_aggregate_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        aggregate([])
    with pytest.raises(ValueError, match="NaN"):
        aggregate([0.1, float("nan")])
    with pytest.raises(ValueError, match="confidence"):
        aggregate([0.1], confidence=1.5)


def test_aggregate_large_set_is_blocked_not_exploding() -> None:
    values = np.random.default_rng(3).random(20_000)
    out = aggregate(values.tolist())
    assert out["ci_low"] < out["mean"] < out["ci_high"]


# --- paired comparison -----------------------------------------------------------------------------
def test_identical_lists_give_p_one() -> None:
    values = np.random.default_rng(4).random(40).tolist()
    for n in (5, 40):
        out = paired_comparison(values[:n], values[:n])
        assert out["p_value"] == 1.0
        assert out["verdict"] == "no_significant_difference"
        assert out["mean_diff"] == 0.0


def test_clear_shift_is_significant_both_ways() -> None:
    rng = np.random.default_rng(5)
    base = rng.random(60)
    cand = np.clip(base + 0.2 + rng.normal(0, 0.05, 60), 0, 1.5)
    better = paired_comparison(cand.tolist(), base.tolist())
    assert better["p_value"] < 0.001
    assert better["verdict"] == "better" and better["significant"]
    assert better["ci_low"] > 0
    worse = paired_comparison(base.tolist(), cand.tolist())
    assert worse["verdict"] == "worse"
    assert worse["p_value"] == better["p_value"]  # same flips, symmetric statistic


def test_pairing_matters() -> None:
    # Per-example difficulty varies a lot; the improvement is small but consistent: a paired test
    # sees it, although the two runs' score distributions overlap almost entirely.
    rng = np.random.default_rng(6)
    difficulty = rng.random(30)
    out = paired_comparison((difficulty + 0.03).tolist(), difficulty.tolist())
    assert out["verdict"] == "better"


def test_exact_enumeration_matches_monte_carlo() -> None:
    rng = np.random.default_rng(8)
    diffs = rng.normal(0.15, 0.5, 16)
    base = rng.random(16)
    cand = base + diffs
    exact = paired_comparison(cand.tolist(), base.tolist())
    assert exact["method"] == "exact"
    # Same data through the Monte-Carlo path (force it by lowering the exact limit).
    old = metrics.EXACT_PERMUTATION_MAX_N
    metrics.EXACT_PERMUTATION_MAX_N = 0
    try:
        mc = paired_comparison(cand.tolist(), base.tolist())
    finally:
        metrics.EXACT_PERMUTATION_MAX_N = old
    assert mc["method"] == "monte_carlo"
    # MC standard error at p ~ 0.3 with 10,000 flips is ~0.005
    assert mc["p_value"] == pytest.approx(exact["p_value"], abs=0.02)


def test_exact_p_value_by_hand() -> None:
    # Four positive differences: only all-plus and all-minus reach |mean| = 1 -> p = 2/16.
    out = paired_comparison([1, 1, 1, 1], [0, 0, 0, 0])
    assert out["p_value"] == pytest.approx(2 / 16)
    assert out["verdict"] == "no_significant_difference"  # n=4 can never reach 0.05
    out = paired_comparison([1] * 6, [0] * 6)
    assert out["p_value"] == pytest.approx(2 / 64)
    assert out["verdict"] == "better"


def test_paired_comparison_is_seeded_and_validates() -> None:
    rng = np.random.default_rng(9)
    a, b = rng.random(100).tolist(), rng.random(100).tolist()
    assert paired_comparison(a, b) == paired_comparison(a, b)
    assert paired_comparison(a, b, seed=1)["p_value"] != paired_comparison(a, b, seed=2)["p_value"]
    with pytest.raises(ValueError, match="paired"):
        paired_comparison([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="alpha"):
        paired_comparison([1.0], [1.0], alpha=0)


def test_heavy_libraries_are_not_imported_with_the_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys, optiloop.prompts.metrics as m; "
        "print(any(k in sys.modules for k in ('sacrebleu', 'rouge_score', 'nltk')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
