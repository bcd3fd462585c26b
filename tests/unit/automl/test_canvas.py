"""The report plots' numpy renderer (optiloop.automl.canvas) and chart layout (report_plots): PNG files
any decoder reads back to the canvas's pixels, lines and rectangles covering the pixels geometry says,
text from the shipped glyph atlas, round ticks, and a legend that keeps off the data."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from optiloop.automl import canvas as cv
from optiloop.automl import report_plots as rp


def decode_png(data: bytes) -> np.ndarray:
    """A PNG decoder for 8-bit RGB, every filter type, written from the specification (RFC 2083)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])[0] == zlib.crc32(kind + body)
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + n
    w, h, depth, colour = struct.unpack(">IIBB", header[:10])
    assert (depth, colour) == (8, 2)
    raw, stride = zlib.decompress(idat), w * 3
    out = np.zeros((h, stride), dtype=np.int32)
    for r in range(h):
        f = raw[r * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, r * (stride + 1) + 1).astype(np.int32)
        up = out[r - 1] if r else np.zeros(stride, dtype=np.int32)
        row = np.zeros(stride, dtype=np.int32)
        for i in range(stride):
            left = row[i - 3] if i >= 3 else 0
            ul = up[i - 3] if i >= 3 else 0
            pred = {0: 0, 1: left, 2: up[i], 3: (left + up[i]) // 2}.get(f)
            if pred is None:  # Paeth
                p = left + up[i] - ul
                pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - ul)
                pred = left if pa <= pb and pa <= pc else up[i] if pb <= pc else ul
            row[i] = (line[i] + pred) % 256
        out[r] = row
    return out.reshape(h, w, 3).astype(np.uint8)


def test_the_png_reads_back_as_the_canvas_pixels() -> None:
    c = cv.Canvas(23, 11)
    c.pixels[:] = np.random.default_rng(0).random((11, 23, 3))
    assert np.array_equal(decode_png(c.png()), np.rint(c.pixels * 255).astype(np.uint8))
    assert c.png() == c.png()


def test_a_line_covers_the_pixels_within_half_its_width() -> None:
    c = cv.Canvas(60, 20)
    c.line([5.0, 50.0], [10.0, 10.0], "#000000", width=2.0)
    ink = 1.0 - c.pixels[..., 0]
    assert np.allclose(ink[9:11, 8:48], 1.0)  # rows whose centres are 0.5 from the line
    assert np.allclose(ink[:8], 0.0) and np.allclose(ink[12:], 0.0)
    assert np.allclose(ink[:, 53:], 0.0)  # nothing past the end and its half-width cap


def test_a_polyline_is_not_darkened_twice_at_its_joints() -> None:
    c = cv.Canvas(40, 40)
    c.line([5.0, 20.0, 35.0], [20.0, 20.0, 20.0], "#000000", width=2.0, alpha=0.5)
    assert np.allclose(c.pixels[19:21, 8:32, 0], 0.5)  # one blend, even at x = 20


def test_dashes_cut_a_line_by_arc_length() -> None:
    c = cv.Canvas(100, 10)
    c.line([0.0, 100.0], [5.0, 5.0], "#000000", width=2.0, dash=(10.0, 10.0))
    ink = 1.0 - c.pixels[5, :, 0]
    assert ink[2:9].min() > 0.99 and ink[12:19].max() < 0.01 and ink[22:29].min() > 0.99


def test_rectangles_cover_fractional_edges_in_part() -> None:
    c = cv.Canvas(10, 4)
    c.rect(1.5, 0.0, 4.0, 4.0, "#000000")
    ink = 1.0 - c.pixels[0, :, 0]
    assert ink[1] == pytest.approx(0.5) and np.allclose(ink[2:4], 1.0) and ink[4] == 0.0 and ink[0] == 0.0


def test_text_is_set_from_the_atlas_and_unknown_characters_as_question_marks() -> None:
    narrow, wide = cv.text_mask("il"), cv.text_mask("WWWW")
    assert narrow.shape[0] == wide.shape[0] == cv.text_height()
    assert wide.shape[1] > 3 * narrow.shape[1] and wide.max() == pytest.approx(1.0)
    assert np.array_equal(cv.text_mask("漢"), cv.text_mask("?"))
    assert cv.text_width("größe") > cv.text_width("gr")
    assert cv.text_height(cv.LARGE) > cv.text_height(cv.SMALL)
    assert cv.fit_text("short", 200) == "short"
    cut = cv.fit_text("a rather long feature name that will not fit", 80)
    assert cut.endswith("…") and cv.text_width(cut) <= 80


def test_anchored_and_vertical_text_lands_where_asked() -> None:
    c = cv.Canvas(120, 120)
    c.text(60, 60, "Axis", anchor="rb")
    ink = np.argwhere(c.pixels[..., 0] < 0.5)
    assert ink[:, 1].max() < 60 and ink[:, 0].max() < 60 and ink[:, 1].min() > 25
    v = cv.Canvas(120, 120)
    v.text(10, 60, "Axis label", anchor="lm", vertical=True)
    ink = np.argwhere(v.pixels[..., 0] < 0.5)
    assert np.ptp(ink[:, 0]) > 2 * np.ptp(ink[:, 1])  # taller than wide: turned


@pytest.mark.parametrize(
    ("lo", "hi", "target", "expected"),
    [(0.0, 1.0, 6, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]), (0.0, 0.3, 6, [0.0, 0.1, 0.2, 0.3]),
     (0.0, 0.3, 7, [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]), (-2.6, 3.2, 6, [-2.0, 0.0, 2.0]),
     (-2.6, 3.2, 7, [-2.0, -1.0, 0.0, 1.0, 2.0, 3.0]), (1200.0, 5100.0, 6, [2000.0, 3000.0, 4000.0, 5000.0]),
     (0.0, 10.0, 5, [0.0, 2.5, 5.0, 7.5, 10.0])],
)  # fmt: skip
def test_ticks_are_round_and_inside_the_range(
    lo: float, hi: float, target: int, expected: list[float]
) -> None:
    assert rp.nice_ticks(lo, hi, target) == pytest.approx(expected)


def test_tick_labels_show_the_digits_the_step_needs() -> None:
    assert [rp.tick_label(t, [0.0, 0.25, 0.5]) for t in (0.0, 0.25, 0.5)] == ["0", "0.25", "0.50"]
    assert rp.tick_label(-2.0, [-2.0, 0.0, 2.0]) == "−2"
    assert rp.tick_label(2e7, [0.0, 1e7, 2e7]) == "2e+07"


def test_the_legend_keeps_to_the_corner_without_data() -> None:
    chart = rp.Chart("t", "x", "y", (0.0, 1.0), (0.0, 1.0))
    chart.line([0.0, 1.0], [1.0, 1.0], "#000000", label="along the top")  # the two upper corners
    chart.line([0.5, 1.0], [0.0, 0.0], "#000000", label="lower right")
    decode_png(chart.png())
    left, bottom = int(chart.box[0]), int(chart.box[3])
    assert (
        chart.c.pixels[bottom - 30 : bottom - 8, left + 10 : left + 60] < 0.5
    ).any()  # lower left, the one corner the lines leave free


def test_bars_are_drawn_longest_first_at_their_values() -> None:
    rows = [{"feature": "a", "importance": 0.4}, {"feature": "b", "importance": 0.1}]
    img = decode_png(rp.bars(rows, "importance", "Permutation importance", "loss"))
    blue = np.all(np.abs(img.astype(int) - [0x33, 0x67, 0xD6]) < 8, axis=2)
    widths = [blue[r].sum() for r in range(img.shape[0]) if blue[r].any()]
    assert max(widths) > 3 * min(widths)  # 0.4 against 0.1
    first = np.argmax(blue.any(axis=1))
    assert blue[first].sum() == max(widths)  # the first row on top


def test_the_plots_draw_with_numpy_alone() -> None:
    """What the AWS Finalise Lambda has: no matplotlib, Pillow, scikit-learn or SciPy."""
    import subprocess
    import sys

    code = """
import sys
sys.modules.update({m: None for m in ("matplotlib", "PIL", "sklearn", "scipy", "torch")})
from optiloop.automl import report_plots
rows = [{"feature": "a", "importance": 0.2}, {"feature": "b", "importance": 0.1}]
png = report_plots.render({"permutation_importance": rows}, "value")["importance.png"]
assert png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", png[:8]
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_missing_and_non_finite_values_leave_gaps_not_errors() -> None:
    rows = [{"feature": "a", "importance": float("nan")}, {"feature": "b", "importance": 0.1},
            {"feature": "c", "importance": None}]  # fmt: skip
    decode_png(rp.bars(rows, "importance", "t", "x"))
    curve = {"feature": "f", "grid": [0.0, 1.0, None, 3.0], "pdp": [[0.1], [None], [0.3], [float("inf")]],
             "ice": [[0.1, float("nan"), 0.2, 0.3]]}  # fmt: skip
    decode_png(rp.dependence(curve, "value"))
