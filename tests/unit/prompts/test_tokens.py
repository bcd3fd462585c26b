"""The token estimate: the pre-tokeniser is cl100k's, the counts stay close to cl100k's.

The reference counts below were taken with a real cl100k_base encoder (the `bpe-openai` package);
they are constants here so the test needs no vocabulary.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optiloop.prompts import tokens
from optiloop.prompts.tokens import estimate_tokens, pieces

# (text, cl100k_base count)
REFERENCE = [
    ("Hello world, this is a test of tokenisation!", 11),
    ("The quick brown fox jumps over the lazy dog.", 10),
    (
        "Summarise the following support ticket in two sentences, then list the customer's open "
        "questions as bullet points.",
        22,
    ),
    ("def add(a, b):\n    return a + b\n", 12),
    ('{"name": "optiloop", "version": "0.1.0", "tags": ["bandit", "bo"]}', 28),
    ("I'm sure they'll say it's 12345 USD.", 13),
]


def test_empty_text_is_zero_tokens_and_anything_else_at_least_one() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens(" ") == 1
    assert estimate_tokens("a") == 1


@pytest.mark.parametrize(("text", "true_count"), REFERENCE)
def test_close_to_cl100k_on_short_english(text: str, true_count: int) -> None:
    est = estimate_tokens(text)
    assert abs(est - true_count) <= max(2, 0.15 * true_count), (est, true_count)


def test_close_to_cl100k_on_a_long_document() -> None:
    # 40 varied English sentences: the per-piece means should average out to a few percent.
    words = (
        "the model returns a short answer when the prompt asks for one and a longer explanation "
        "otherwise; routing prefers the cheapest model that satisfies the latency constraint"
    )
    text = " ".join(f"Sentence {i}: {words}." for i in range(40))
    # cl100k_base gives 1,320 tokens for this text
    assert abs(estimate_tokens(text) - 1320) / 1320 < 0.06


def test_pieces_are_the_cl100k_split() -> None:
    assert pieces("I'm sure they'll say it's 12345 USD.") == [
        "I", "'m", " sure", " they", "'ll", " say", " it", "'s", " ", "123", "45", " USD", ".",
    ]  # fmt: skip
    assert pieces("def add(a, b):\n    return a + b\n") == [
        "def", " add", "(a", ",", " b", "):\n", "   ", " return", " a", " +", " b", "\n",
    ]  # fmt: skip
    assert pieces("snake_case __init__") == ["snake", "_case", " __", "init", "__"]


def test_non_ascii_text_counts_by_bytes() -> None:
    # CJK: roughly one token per character in cl100k (this sentence: 23)
    assert 18 <= estimate_tokens("模型的回答质量取决于所选的提供者和解码参数") <= 28
    # emoji cost several tokens each, typographic punctuation about one
    assert estimate_tokens("🎉🎉🎉") >= 6
    assert estimate_tokens("—") == 1


def test_long_unbroken_pieces_grow_linearly() -> None:
    # a hex digest or base64 blob: no BPE merge spans it, so it costs per byte
    short = estimate_tokens("a" * 30)
    long = estimate_tokens("a" * 300)
    assert long > 5 * short


def test_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_CACHE", {})
    monkeypatch.setattr(tokens, "_CACHE_MAX", 50)
    estimate_tokens(" ".join(f"w{i}x" for i in range(500)))
    assert len(tokens._CACHE) <= 50


# single characters plus the contraction suffixes, which the pattern treats specially
_TEXT = st.lists(
    st.sampled_from([*"aZé ß\n\r\t  _'-.,:;!?(){}[]\"0123456789Ж中🎉—", "'s", "'ll", "'VE", "LL"]),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_split_is_lossless(text: str) -> None:
    assert "".join(pieces(text)) == text


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_split_matches_the_original_unicode_pattern(text: str) -> None:
    regex = pytest.importorskip("regex")
    original = regex.compile(
        r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
        r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
    )
    assert pieces(text) == original.findall(text)
