"""The experiment report's plots as PNG files, drawn from the report's own tables.

Drawn with matplotlib's Agg backend (no display) where it is installed — the `automl` extra brings it
to the worker that runs a local search — and skipped, saying so, where it is not (a report written by
the AWS Finalise Lambda, which keeps to numpy: its tables are the same). Each plot is a function of
the report's tables only, so what the PNG shows is what the JSON says. Small (640 x 400 at 100 dpi)
and deterministic (no timestamps in the file: `metadata` cleared).
"""

from __future__ import annotations

import io
from typing import Any

SIZE = (6.4, 4.0)
DPI = 100


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def _figure() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=SIZE)


def bars(rows: list[dict[str, Any]], value: str, title: str, xlabel: str, top: int = 15) -> bytes:
    """Horizontal bars of the `top` rows' `value`, largest on top (importance, mean |SHAP|)."""
    fig, ax = _figure()
    shown = rows[:top][::-1]
    ax.barh([str(r["feature"]) for r in shown], [float(r[value]) for r in shown], color="#3367d6")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    return _png(fig)


def dependence(c: dict[str, Any], ylabel: str) -> bytes:
    """ICE lines (thin) and the PDP (thick) of one feature; output 0."""
    fig, ax = _figure()
    for line in c["ice"]:
        ax.plot(c["grid"], line, color="#9aa0a6", linewidth=0.8, alpha=0.7)
    ax.plot(c["grid"], [p[0] for p in c["pdp"]], color="#d93025", linewidth=2.5, label="partial dependence")
    ax.set_title(f"Partial dependence and ICE: {c['feature']}")
    ax.set_xlabel(str(c["feature"]))
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")
    return _png(fig)


def reliability(rows: list[dict[str, Any]], source: str) -> bytes:
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], linestyle="--", color="#9aa0a6", label="perfectly calibrated")
    ax.plot([r["mean_predicted"] for r in rows], [r["observed"] for r in rows], marker="o", color="#3367d6",
            label="this model")  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(f"Reliability curve ({source})")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed frequency")
    ax.legend(loc="upper left")
    return _png(fig)


def thresholds(rows: list[dict[str, Any]], source: str) -> bytes:
    fig, ax = _figure()
    ts = [r["threshold"] for r in rows]
    for key, style in (("precision", "-"), ("recall", "--"), ("f1", "-."), ("flagged", ":")):
        ax.plot(ts, [r[key] for r in rows], linestyle=style, label=key)
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Decision threshold analysis ({source})")
    ax.set_xlabel("threshold: positive when p >= t")
    ax.legend(loc="best")
    return _png(fig)


def render(report: dict[str, Any], output: str) -> dict[str, bytes]:
    """Every plot the report's tables allow, by file name."""
    out: dict[str, bytes] = {}
    if report.get("permutation_importance"):
        out["importance.png"] = bars(report["permutation_importance"], "importance",
                                     "Permutation importance", "objective lost when shuffled")  # fmt: skip
    shap = report.get("shap") or {}
    if shap.get("mean_abs"):
        out["shap.png"] = bars(
            shap["mean_abs"], "value", "Mean |SHAP value|", f"mean |contribution| to the {output}"
        )
    for k, c in enumerate(report.get("partial_dependence") or []):
        out[f"pdp_{k}.png"] = dependence(c, output)
    cal = report.get("calibration") or {}
    if cal.get("curve"):
        out["reliability.png"] = reliability(cal["curve"], cal.get("source", ""))
    th = report.get("thresholds") or {}
    if th.get("rows"):
        out["thresholds.png"] = thresholds(th["rows"], th.get("source", ""))
    return out
