"""Multilingual semantic head of the injection score: a static token table distilled from Google's USE.

Why a second table: the MiniLM table (embedding.py) is English — a German or Russian attack falls
apart into sub-word pieces with weak meanings, and the five attack sources the detector never trained
on caught only ~0.38 of their non-English attacks. Universal Sentence Encoder multilingual v3 was
trained to put translations of a sentence close together (16 languages), and its 128k-piece
SentencePiece vocabulary is shared across them, so the output for "ignoriere", "ignora", "忽略" and
"ignore" alone point the same way. tests/benchmarks/guardrails_embed_use.py distils it once, offline,
as guardrails_embed.py does for MiniLM: USE's output for each piece alone, PCA to 128 dimensions, int8
rows with a scale each, SIF weights from the SentencePiece model's unigram probabilities.

At run time a window is tokenised by ``sentencepiece`` (the C++ tokenizer, ~0.3 ms for 2 KB) with the
model serialised inside the package file, its rows are averaged with the SIF weights in windows of
``SUB_WINDOW`` pieces every ``SUB_STRIDE`` (a paragraph or so: a long benign passage is judged a
paragraph at a time, so the score does not drift as texts grow, and an attack inside a tool's output is
not averaged away by the whole output),
and a one-hidden-layer MLP maps [normalised mean, max] to a logit, Platt-calibrated on held-out
training texts. The table stays int8 in memory (16 MB; dequantising it would take 65 MB); only the
rows of a window's pieces are converted. Work per request is bounded by the caller's windows (at most
MAX_WINDOWS chunks of ~700 characters, each cut at MAX_TOKENS pieces).

When the package file is absent, or ``sentencepiece`` cannot be imported, the head abstains
(``load_multi_embed_model`` returns None, logged once) and the detector runs on the rules, the n-grams
and the English head at the same cut: less recall on other languages, no crash.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

import numpy as np

from optiloop.prompts.guardrails.embedding import (
    MAX_TOKENS,
    MlpHead,
    head_fields,
    stack_features,
    window_features,
)

MULTI_FILE = "injection_embed_multi.npz"
# Pieces per scored window, and the step: wider than the English head's 48/24. Measured on the five
# never-trained sources at 1% MMLU false positives, this head alone: 48 pieces 0.48 recall (non-English
# 0.47), 128 pieces 0.60 (0.63), the whole ~700-character chunk 0.58 (0.62); MMLU 1,000+ 3.0%, 1.8%,
# 1.7% (docs/benchmarks.md, round 6). USE was trained on sentence-to-paragraph inputs, and a static
# table's mean over one sentence of a long role-play says too little. Stored in the package file.
SUB_WINDOW = 128
SUB_STRIDE = 64
log = logging.getLogger(__name__)


class _Processor(Protocol):
    def encode(self, text: bytes) -> list[int]: ...

    def get_piece_size(self) -> int: ...


class SentencePieceTokenizer:
    """USE's SentencePiece model (unigram, NFKC normalisation built in), ids without <s>/</s>."""

    def __init__(self, processor: _Processor) -> None:
        self._sp = processor

    @classmethod
    def from_bytes(cls, model: bytes) -> SentencePieceTokenizer:
        import sentencepiece as spm  # a core dependency; imported with the table, not at module import

        return cls(spm.SentencePieceProcessor(model_proto=model))

    @property
    def size(self) -> int:
        return int(self._sp.get_piece_size())

    def encode(self, text: str, limit: int = MAX_TOKENS) -> list[int]:
        """Piece ids of ``text``, at most ``limit``: the text is cut at 8 characters per allowed piece
        first, so a 200 KB string handed in whole is not tokenised whole to keep its first pieces. It is
        handed over as UTF-8 with lone surrogates replaced ("\\ud800" cannot cross into C++ as str)."""
        return list(self._sp.encode(text[: 8 * limit].encode("utf-8", "replace")))[:limit]


@dataclass(frozen=True)
class MultiEmbedModel(MlpHead):
    """The distilled USE table (int8), its token weights, the MLP head and its Platt map."""

    table_q: np.ndarray  # int8 (V, D)
    row_scale: np.ndarray  # float32 (V,): each row's dequantisation scale
    token_weight: np.ndarray  # float32 (V,): SIF weight a / (a + p(piece))
    w1: np.ndarray  # (2D, H): input is [normalised weighted mean, max] of a window's rows
    b1: np.ndarray  # (H,)
    w2: np.ndarray  # (H,)
    b2: float
    platt_a: float
    platt_b: float
    threshold: float  # the joint cut of all heads and the rules (guardrails_eval.py)
    meta: dict[str, Any]
    tokenizer: SentencePieceTokenizer
    sub_window: int = SUB_WINDOW
    sub_stride: int = SUB_STRIDE

    def features(self, chunks: list[str]) -> np.ndarray:
        """(n, 2D) features of every piece window of ``chunks``, as EmbedModel.features computes them
        (with this head's window and stride)."""
        feats: list[np.ndarray] = []
        for chunk in chunks:
            ids = np.fromiter(self.tokenizer.encode(chunk), dtype=np.intp)
            if ids.size == 0:
                continue
            wts = self.token_weight[ids]
            rows = self.table_q[ids].astype(np.float32) * (self.row_scale[ids] * wts)[:, None]
            feats.extend(window_features(rows, wts, self.sub_window, self.sub_stride))
        return stack_features(feats, self.table_q.shape[1])


def from_arrays(data: Any) -> MultiEmbedModel:
    """A MultiEmbedModel from the arrays of an ``injection_embed_multi.npz`` (a file, or a dict)."""
    return MultiEmbedModel(
        table_q=np.asarray(data["table_q"], dtype=np.int8),
        row_scale=np.asarray(data["table_scale"], dtype=np.float32),
        token_weight=np.asarray(data["token_weight"], dtype=np.float32),
        **head_fields(data),
        tokenizer=SentencePieceTokenizer.from_bytes(np.asarray(data["sp_model"], dtype=np.uint8).tobytes()),
        sub_window=int(data["sub_window"]) if "sub_window" in data else SUB_WINDOW,
        sub_stride=int(data["sub_stride"]) if "sub_stride" in data else SUB_STRIDE,
    )


@lru_cache(maxsize=1)
def load_multi_embed_model() -> MultiEmbedModel | None:
    """The shipped multilingual head, loaded once per process; None when it cannot run (see above)."""
    ref = resources.files("optiloop.prompts.guardrails").joinpath(MULTI_FILE)
    if not ref.is_file():
        return None
    try:
        import sentencepiece  # noqa: F401
    except ImportError:
        log.warning("%s ships but sentencepiece is not installed: multilingual head off", MULTI_FILE)
        return None
    with ref.open("rb") as fh:
        data = np.load(fh, allow_pickle=False)
        model = from_arrays({k: data[k] for k in data.files})
    v, d = model.table_q.shape
    if model.tokenizer.size != v or model.w1.shape[0] != 2 * d or model.token_weight.shape != (v,):
        raise RuntimeError(f"{MULTI_FILE}: table {model.table_q.shape}, pieces {model.tokenizer.size}, "
                           f"w1 {model.w1.shape}")  # fmt: skip
    return model
