"""Model cards: what a version is for, what it was trained on, how good, calibrated and fair it is.

Generated once, when the version is registered, from the version itself (metrics, signature, data
fingerprint, code version) and what the registering request says (intended use, the sensitive
column, known limits), then stored beside the artifact as JSON and Markdown; the version records the
JSON's key and sha256, and the registration's audit record carries both hashes, so a card shown
later can be checked against what was approved.

Numbers come from the version's metrics by name: calibration from `ece` (also `calibration.ece`,
`calibration_ece`) and `brier`; fairness from `fairness.<name>` / `fairness_<name>` or the common
names (`demographic_parity`, ...), reported only when a sensitive column is named — a parity number
without the column it was measured on is not evidence of anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optiloop.errors import FieldProblem, InvalidInput

CARD_FORMAT = "optiloop.model_card/1"
MAX_TEXT = 4_000
MAX_LIMITS = 20
FAIRNESS_NAMES = ("demographic_parity", "equalized_odds", "equal_opportunity", "disparate_impact")
CALIBRATION_ALIASES = {
    "ece": ("calibration.ece", "calibration_ece", "ece"),
    "brier": ("calibration.brier", "calibration_brier", "brier"),
}
ROW_KEYS = ("train_rows", "n_train", "rows", "n_rows")
DEFAULT_USE = (
    "Not stated at registration. Use only for the task and inputs in the signature, on data like the "
    "training data (see its fingerprint)."
)
DEFAULT_LIMITS = (
    "Evaluated only on the held-out data of its training run; performance on other populations is unknown.",
    "Inputs outside the training distribution are scored without warning; watch the drift monitors.",
)


@dataclass(frozen=True)
class CardSpec:
    """What the registering request may say about the version (everything else is derived)."""

    intended_use: str | None = None
    sensitive_column: str | None = None
    limitations: tuple[str, ...] = ()

    @staticmethod
    def parse(raw: Any, where: str = "card") -> CardSpec:
        if raw is None:
            return CardSpec()
        if not isinstance(raw, Mapping):
            raise InvalidInput(FieldProblem(where, "must be an object"))
        problems: list[FieldProblem] = []
        unknown = sorted(set(raw) - {"intended_use", "sensitive_column", "limitations"})
        if unknown:
            problems.append(FieldProblem(f"{where}.{unknown[0]}", "unknown field"))
        use, col, lims = raw.get("intended_use"), raw.get("sensitive_column"), raw.get("limitations", [])
        if use is not None and (not isinstance(use, str) or len(use) > MAX_TEXT):
            problems.append(FieldProblem(f"{where}.intended_use", f"a string of at most {MAX_TEXT} chars"))
        if col is not None and (not isinstance(col, str) or not col or len(col) > 200):
            problems.append(FieldProblem(f"{where}.sensitive_column", "an input or data column name"))
        if (
            not isinstance(lims, list)
            or len(lims) > MAX_LIMITS
            or not all(isinstance(x, str) and 0 < len(x) <= MAX_TEXT for x in lims)
        ):
            problems.append(FieldProblem(f"{where}.limitations", f"at most {MAX_LIMITS} non-empty strings"))
        if problems:
            raise InvalidInput(problems)
        return CardSpec(use, col, tuple(lims))


def _first(metrics: Mapping[str, float], names: tuple[str, ...]) -> float | None:
    for n in names:
        if n in metrics:
            return float(metrics[n])
    return None


def calibration_of(metrics: Mapping[str, float]) -> dict[str, float]:
    out = {k: _first(metrics, names) for k, names in CALIBRATION_ALIASES.items()}
    return {k: v for k, v in out.items() if v is not None}


def fairness_of(metrics: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in metrics.items():
        for prefix in ("fairness.", "fairness_"):
            if k.startswith(prefix) and len(k) > len(prefix):
                out[k[len(prefix) :]] = float(v)
    for n in FAIRNESS_NAMES:
        if n in metrics and n not in out:
            out[n] = float(metrics[n])
    return out


def build_card(
    version: Mapping[str, Any],
    spec: CardSpec,
    *,
    model_name: str,
    rows: int | None,
    explanation: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The card's JSON form, from a version's fields (as in its document) and the request's spec;
    `explanation`: an AutoML winner's report tables and plots (`explanation_of`), when it has one."""
    metrics: dict[str, float] = dict(version.get("metrics") or {})
    sig = version.get("signature") or {}
    inputs = [i.get("name") for i in sig.get("inputs", [])]
    fairness: dict[str, Any]
    if spec.sensitive_column:
        numbers = fairness_of(metrics)
        fairness = {
            "sensitive_column": spec.sensitive_column,
            "metrics": numbers,
            "assessed": bool(numbers),
            "note": None
            if numbers
            else "a sensitive column is named but training reported no fairness metric",
        }
    else:
        fairness = {
            "sensitive_column": None,
            "metrics": {},
            "assessed": False,
            "note": "no sensitive column named",
        }
    calibration = calibration_of(metrics)
    reserved = {n for names in CALIBRATION_ALIASES.values() for n in names} | set(FAIRNESS_NAMES)
    performance = {
        k: v
        for k, v in sorted(metrics.items())
        if k not in reserved and not k.startswith(("fairness", "calibration"))
    }
    limits = list(spec.limitations) or list(DEFAULT_LIMITS)
    if not calibration and sig.get("task") in ("binary", "multiclass"):
        limits.append("Calibration was not measured: treat scores as rankings, not probabilities.")
    return {
        "format": CARD_FORMAT,
        "model": {"id": version["model_id"], "name": model_name},
        "version": {
            "id": version["id"],
            "version": version["version"],
            "framework": version["framework"],
            "runtime": version["runtime"],
            "artifact_sha256": version["artifact_sha256"],
            "code_version": version.get("code_version"),
            "source": version.get("source", {}),
            "created_at": version["created_at"],
            "created_by": version["created_by"],
        },
        "intended_use": spec.intended_use or DEFAULT_USE,
        "task": sig.get("task"),
        "inputs": inputs,
        "classes": sig.get("classes", []),
        "data": {"fingerprint": version.get("data_fingerprint"), "rows": rows},
        "metrics": performance,
        "calibration": calibration,
        "fairness": fairness,
        "params": version.get("params", {}),
        "limitations": limits,
    } | ({"explanation": dict(explanation)} if explanation else {})


def explanation_of(report: Mapping[str, Any], plots: Mapping[str, str]) -> dict[str, Any]:
    """What a card keeps of an AutoML experiment's report on the registered trial: the top of its
    importance and SHAP tables, the PDP features, the reliability curve, the threshold table, and the
    plots copied beside the card (`plots`: file -> sha256)."""
    shap = report.get("shap") or {}
    cal = report.get("calibration") or {}
    return {
        "permutation_importance": list(report.get("permutation_importance") or [])[:10],
        "shap_mean_abs": list(shap.get("mean_abs") or [])[:10],
        "partial_dependence_features": [c["feature"] for c in report.get("partial_dependence") or []],
        "reliability_curve": list(cal.get("curve") or []),
        "thresholds": list((report.get("thresholds") or {}).get("rows") or []),
        "source": cal.get("source"),
        "plots": dict(plots),
    }


def render_markdown(card: Mapping[str, Any]) -> str:
    """The card as a human reads it; every number is the JSON's, nothing is added."""
    v, m = card["version"], card["model"]
    lines = [
        f"# Model card: {m['name']} v{v['version']}",
        "",
        f"- Version id: `{v['id']}`; artifact sha256 `{v['artifact_sha256']}`",
        f"- Framework: {v['framework']}; served by the `{v['runtime']}` runtime",
        f"- Registered {v['created_at']} by {v['created_by']}",
        f"- Code version: {v.get('code_version') or 'unknown'}",
        "",
        "## Intended use",
        "",
        str(card["intended_use"]),
        "",
        "## Task and inputs",
        "",
        f"{card['task']}; inputs: {', '.join(str(i) for i in card['inputs'])}",
        "",
        "## Data",
        "",
        f"- Fingerprint: {card['data']['fingerprint'] or 'unknown'}",
        f"- Rows: {card['data']['rows'] if card['data']['rows'] is not None else 'unknown'}",
        "",
        "## Metrics",
        "",
        *(_table(card["metrics"]) or ["No held-out metrics were reported."]),
        "",
        "## Calibration",
        "",
        *(_table(card["calibration"]) or ["Not measured."]),
        "",
        "## Fairness",
        "",
    ]
    fair = card["fairness"]
    if fair["sensitive_column"]:
        lines.append(f"Sensitive column: `{fair['sensitive_column']}`")
        lines.append("")
        lines += _table(fair["metrics"]) or [str(fair["note"])]
    else:
        lines.append("Not assessed: no sensitive column was named.")
    ex = card.get("explanation")
    if ex:
        lines += ["", "## Explanation (the experiment's report)", ""]
        lines += ["| feature | permutation importance | mean abs SHAP |", "|---|---|---|"]
        shap = {r["feature"]: r["value"] for r in ex["shap_mean_abs"]}
        lines += [f"| {r['feature']} | {r['importance']:.6g} | {shap.get(r['feature'], float('nan')):.6g} |"
                  for r in ex["permutation_importance"]]  # fmt: skip
        if ex["reliability_curve"]:
            lines += ["", f"Reliability ({ex['source']}): mean predicted -> observed (count)", ""]
            lines += [
                f"- {r['mean_predicted']:.3f} -> {r['observed']:.3f} ({r['count']})"
                for r in ex["reliability_curve"]
            ]
        lines += ["", *(f"![{name}](card/{name})" for name in ex["plots"])]
    lines += ["", "## Limitations", "", *(f"- {x}" for x in card["limitations"]), ""]
    return "\n".join(lines)


def _table(numbers: Mapping[str, float]) -> list[str]:
    if not numbers:
        return []
    return ["| measure | value |", "|---|---|", *(f"| {k} | {v:.6g} |" for k, v in numbers.items())]


def encode(card: Mapping[str, Any]) -> tuple[bytes, bytes, str]:
    """(JSON bytes, Markdown bytes, sha256 of the JSON): canonical JSON so the hash is reproducible."""
    raw = json.dumps(card, sort_keys=True, separators=(",", ":")).encode()
    return raw, render_markdown(card).encode(), hashlib.sha256(raw).hexdigest()


def plot_key(artifact_key: str, name: str) -> str:
    """A card's plot, beside it: `.../card/<name>`."""
    return f"{artifact_key.rsplit('/', 1)[0]}/card/{name}"


def card_keys(artifact_key: str) -> tuple[str, str]:
    """The card's blob keys, beside the artifact: `.../card.json` and `.../card.md`."""
    base = artifact_key.rsplit("/", 1)[0]
    return f"{base}/card.json", f"{base}/card.md"
