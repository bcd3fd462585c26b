"""The experiment report's plots as PNG files, drawn from the report's own tables.

Each plot is a function of the report's tables only, so what the PNG shows is what the JSON says. They
are drawn by optiloop.automl.canvas (numpy alone) so that a report written on AWS (the Finalise
Lambda) has the same plots as one written by a local run — matplotlib does not fit in that Lambda.
Small (640 x 400) and deterministic (same tables, same bytes).

The layout is a plain chart: a title, an axes box with light grid lines at "nice" ticks (1, 2, 2.5 or
5 x 10^k), tick labels, axis labels (the y one turned), and a legend in the corner of the axes that
covers the fewest points.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from optiloop.automl import canvas as cv

WIDTH, HEIGHT = 640, 400
INK, GRID, FRAME = "#202124", "#e8eaed", "#5f6368"
BLUE, RED, GREY = "#3367d6", "#d93025", "#9aa0a6"
CYCLE = ("#3367d6", "#e37400", "#188038", "#d93025")  # lines without a colour of their own
LABELS_MAX = 200  # pixels for a bar chart's category labels; longer ones end in "…"


def nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Round tick values covering [lo, hi], about `target` of them."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, target - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * 0.999)
    first = math.ceil(lo / step - 1e-9) * step
    n = math.floor((hi - first) / step + 1e-9) + 1
    return [round(first + i * step, 12) for i in range(n)]


def tick_label(v: float, ticks: Sequence[float]) -> str:
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else abs(v) or 1.0
    biggest = max(abs(t) for t in ticks) if ticks else abs(v)
    if biggest >= 1e6 or (0 < biggest < 1e-3):
        return f"{v:.2g}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if f"{step:.{decimals}f}" != f"{step:.{decimals + 1}f}".rstrip("0").rstrip("."):
        decimals += 1  # 2.5 x 10^k needs one more
    text = f"{v:.{decimals}f}"
    return "0" if float(text) == 0 else text.replace("-", "−")


def _num(v: Any) -> float:
    """A table's value as a float; a missing one (None) NaN, which breaks a line rather than the plot."""
    return math.nan if v is None else float(v)


def _limits(values: Sequence[float], pad: float = 0.04) -> tuple[float, float]:
    v = [x for x in values if math.isfinite(x)]
    if not v:
        return 0.0, 1.0
    lo, hi = min(v), max(v)
    if hi == lo:
        span = abs(lo) * 0.1 or 1.0
        return lo - span, hi + span
    return lo - (hi - lo) * pad, hi + (hi - lo) * pad


class Chart:
    """A titled axes box on a canvas; data methods take data coordinates."""

    def __init__(
        self,
        title: str,
        xlabel: str,
        ylabel: str,
        xlim: tuple[float, float],
        ylim: tuple[float, float] | None,
        categories: Sequence[str] = (),
    ) -> None:
        self.c = cv.Canvas(WIDTH, HEIGHT)
        self.xlim, self.categories = xlim, list(categories)
        self.ylim = ylim if ylim is not None else (-0.5, len(self.categories) - 0.5)
        self.xticks = nice_ticks(*xlim, target=7)
        self.yticks = nice_ticks(*self.ylim) if not self.categories else []
        small = cv.text_height(cv.SMALL)
        if self.categories:
            labels = [cv.fit_text(s, LABELS_MAX) for s in self.categories]
        else:
            labels = [tick_label(t, self.yticks) for t in self.yticks]
        left = 12 + (small + 6 if ylabel else 0) + max((cv.text_width(s) for s in labels), default=0) + 8
        top = cv.text_height(cv.LARGE) + 16
        bottom = HEIGHT - (small + 8 + (small + 6 if xlabel else 0) + 8)
        self.box = (float(left), float(top), float(WIDTH - 16), float(bottom))
        self.points: list[tuple[float, float]] = []
        self.legend: list[tuple[str, str, tuple[float, float] | None, float, bool]] = []
        self._frame(title, xlabel, ylabel, labels)

    def px(self, x: float) -> float:
        (lo, hi), (left, _, right, _) = self.xlim, self.box
        return left + (x - lo) / (hi - lo) * (right - left)

    def py(self, y: float) -> float:
        (lo, hi), (_, top, _, bottom) = self.ylim, self.box
        if self.categories:  # the first category on top
            return top + (y - lo) / (hi - lo) * (bottom - top)
        return bottom - (y - lo) / (hi - lo) * (bottom - top)

    def _frame(self, title: str, xlabel: str, ylabel: str, labels: list[str]) -> None:
        c, (left, top, right, bottom) = self.c, self.box
        c.text(WIDTH / 2, 8, cv.fit_text(title, WIDTH - 24, cv.LARGE), cv.LARGE, INK, "ct")
        for t in self.xticks:
            x = self.px(t)
            c.line([x, x], [top, bottom], GRID)
            c.line([x, x], [bottom, bottom + 4], FRAME)
            c.text(x, bottom + 6, tick_label(t, self.xticks), cv.SMALL, INK, "ct")
        for t, s in zip(self.yticks or range(len(labels)), labels, strict=True):
            y = self.py(t)
            if not self.categories:
                c.line([left, right], [y, y], GRID)
            c.line([left - 4, left], [y, y], FRAME)
            c.text(left - 6, y, s, cv.SMALL, INK, "rm")
        c.line([left, right, right, left, left], [top, top, bottom, bottom, top], FRAME)
        if xlabel:
            label = cv.fit_text(xlabel, int(right - left))
            c.text((left + right) / 2, HEIGHT - 8, label, cv.SMALL, INK, "cb")
        if ylabel:
            c.text(10, (top + bottom) / 2, cv.fit_text(ylabel, int(bottom - top)), cv.SMALL, INK, "lm",
                   vertical=True)  # fmt: skip

    def line(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        colour: str,
        width: float = 1.5,
        dash: tuple[float, float] | None = None,
        alpha: float = 1.0,
        label: str | None = None,
        dots: bool = False,
    ) -> None:
        px = [self.px(_num(x)) for x in xs]
        py = [self.py(_num(y)) for y in ys]
        self.c.line(px, py, colour, width, dash, alpha)
        if dots:
            for x, y in zip(px, py, strict=True):
                if math.isfinite(x) and math.isfinite(y):
                    self.c.dot(x, y, 3.0, colour)
        self.points += _along(px, py)
        if label:
            self.legend.append((label, colour, dash, width, dots))

    def bar(self, row: int, value: float, colour: str) -> None:
        if not math.isfinite(value):
            return
        y = self.py(row)
        self.c.rect(self.px(0.0), y - 0.35 * self._slot(), self.px(value), y + 0.35 * self._slot(), colour)

    def _slot(self) -> float:
        return abs(self.py(1.0) - self.py(0.0))

    def png(self) -> bytes:
        if self.legend:
            self._legend()
        return self.c.png()

    def _legend(self) -> None:
        c, (left, top, right, bottom) = self.c, self.box
        row = cv.text_height(cv.SMALL) + 4
        w = 36 + max(cv.text_width(s) for s, *_ in self.legend)
        h = row * len(self.legend) + 8
        corners = [(right - w - 8, top + 8), (left + 8, top + 8), (right - w - 8, bottom - h - 8),
                   (left + 8, bottom - h - 8)]  # fmt: skip
        pts = np.asarray(self.points or [(0.0, 0.0)])

        def covered(corner: tuple[float, float]) -> int:
            x0, y0, x1, y1 = corner[0] - 8, corner[1] - 8, corner[0] + w + 8, corner[1] + h + 8  # + the gap
            inside = (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
            return int(inside.sum())

        x0, y0 = min(corners, key=covered)  # the first of the least covered: upper right first
        c.rect(x0, y0, x0 + w, y0 + h, "#ffffff")
        c.line([x0, x0 + w, x0 + w, x0, x0], [y0, y0, y0 + h, y0 + h, y0], GRID)
        for k, (label, colour, dash, width, dots) in enumerate(self.legend):
            y = y0 + 4 + row * k + row / 2
            c.line([x0 + 6, x0 + 28], [y, y], colour, width, dash)
            if dots:
                c.dot(x0 + 17, y, 3.0, colour)
            c.text(x0 + 32, y, label, cv.SMALL, INK, "lm")


def _along(px: Sequence[float], py: Sequence[float], every: float = 6.0) -> list[tuple[float, float]]:
    """Points every `every` pixels along a polyline: what a legend must not cover."""
    out: list[tuple[float, float]] = []
    for (ax, ay), (bx, by) in itertools.pairwise(zip(px, py, strict=True)):
        if all(math.isfinite(v) for v in (ax, ay, bx, by)):
            n = max(1, math.ceil(math.hypot(bx - ax, by - ay) / every))
            out += [(ax + (bx - ax) * i / n, ay + (by - ay) * i / n) for i in range(n + 1)]
    return out or [(x, y) for x, y in zip(px, py, strict=True) if math.isfinite(x) and math.isfinite(y)]


def bars(rows: list[dict[str, Any]], value: str, title: str, xlabel: str, top: int = 15) -> bytes:
    """Horizontal bars of the `top` rows' `value`, largest on top (importance, mean |SHAP|)."""
    shown = rows[:top]
    values = [_num(r.get(value)) for r in shown]
    lo, hi = _limits([0.0, *values], pad=0.05)
    chart = Chart(title, xlabel, "", (min(lo, 0.0), max(hi, 0.0)), None, [str(r["feature"]) for r in shown])
    for k, v in enumerate(values):
        chart.bar(k, v, BLUE)
    if chart.xlim[0] < 0 < chart.xlim[1]:
        chart.c.line([chart.px(0.0)] * 2, [chart.box[1], chart.box[3]], FRAME)
    return chart.png()


def dependence(c: dict[str, Any], ylabel: str) -> bytes:
    """ICE lines (thin) and the PDP (thick) of one feature; output 0."""
    grid = [_num(g) for g in c["grid"]]
    pdp = [_num(p[0]) for p in c["pdp"]]
    ice = [[_num(v) for v in line] for line in c["ice"]]
    ys = pdp + [v for line in ice for v in line]
    chart = Chart(f"Partial dependence and ICE: {c['feature']}", str(c["feature"]), ylabel,
                  _limits(grid, 0.02), _limits(ys))  # fmt: skip
    for line in ice:
        chart.line(grid, line, GREY, 0.8, alpha=0.7)
    if ice:
        chart.legend.append(("individual rows (ICE)", GREY, None, 0.8, False))
    chart.line(grid, pdp, RED, 2.5, label="partial dependence")
    return chart.png()


def reliability(rows: list[dict[str, Any]], source: str) -> bytes:
    chart = Chart(f"Reliability curve ({source})", "mean predicted probability", "observed frequency",
                  (0.0, 1.0), (0.0, 1.0))  # fmt: skip
    chart.line([0, 1], [0, 1], GREY, 1.2, dash=(6, 4), label="perfectly calibrated")
    chart.line([r["mean_predicted"] for r in rows], [r["observed"] for r in rows], BLUE, 1.8,
               label="this model", dots=True)  # fmt: skip
    return chart.png()


def thresholds(rows: list[dict[str, Any]], source: str) -> bytes:
    ts = [_num(r["threshold"]) for r in rows]
    chart = Chart(f"Decision threshold analysis ({source})", "threshold: positive when p ≥ t", "",
                  _limits(ts, 0.02), (0.0, 1.02))  # fmt: skip
    for key, colour, dash in (("precision", CYCLE[0], None), ("recall", CYCLE[1], (7.0, 4.0)),
                              ("f1", CYCLE[2], (14.0, 4.0)), ("flagged", CYCLE[3], (2.0, 3.0))):  # fmt: skip
        chart.line(ts, [r[key] for r in rows], colour, 1.8, dash, label=key)
    return chart.png()


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
