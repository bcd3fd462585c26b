"""An RGB canvas in numpy that draws anti-aliased lines, rectangles, dots and text, and writes PNG.

Why not matplotlib: the report's plots are drawn where the report is written, and on AWS that is the
Finalise Lambda, whose core layer leaves less room than matplotlib needs (~100 MB with Pillow and
fontTools, against Lambda's 250 MB for code and layers together). numpy is already on every path, so
one renderer draws the same bytes locally and on AWS. It draws what the report's charts need, no more.

Anti-aliasing: a line's coverage of a pixel is its distance field (1 inside half the width, falling
to 0 over one pixel), the maximum over the polyline's segments, so joints are not blended twice;
dashes cut that coverage by arc length. Text: glyphs from plot_font.npz (DejaVu Sans rasterised by
tests/benchmarks/build_plot_font.py), composited by their 8-bit coverage at whole-pixel positions.
Colours are "#rrggbb". Deterministic: the same calls give the same bytes.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

FONT_FILE = Path(__file__).with_name("plot_font.npz")
SMALL, LARGE = 11, 13  # the atlas's pixel sizes: labels and ticks, titles


def rgb(colour: str) -> np.ndarray:
    c = colour.lstrip("#")
    return np.array([int(c[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.float32) / 255.0


@cache
def _font() -> dict[str, Any]:
    with np.load(FONT_FILE, allow_pickle=False) as z:
        font = {k: z[k] for k in z.files}
    font["index"] = {int(c): i for i, c in enumerate(font["chars"])}
    return font


class Canvas:
    def __init__(self, width: int, height: int, background: str = "#ffffff") -> None:
        self.width, self.height = width, height
        self.pixels = np.empty((height, width, 3), dtype=np.float32)
        self.pixels[:] = rgb(background)

    # ---------------------------------------------------------------- compositing
    def _blend(self, cover: np.ndarray, x0: int, y0: int, colour: str, alpha: float = 1.0) -> None:
        """Composite `colour` over the pixels at (x0, y0) by `cover` (0..1), clipped to the canvas."""
        h, w = cover.shape
        xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + w, self.width), min(y0 + h, self.height)
        if xa >= xb or ya >= yb:
            return
        a = (cover[ya - y0 : yb - y0, xa - x0 : xb - x0] * alpha)[..., None]
        region = self.pixels[ya:yb, xa:xb]
        region *= 1.0 - a
        region += a * rgb(colour)

    # ---------------------------------------------------------------- shapes
    def rect(self, x0: float, y0: float, x1: float, y1: float, colour: str) -> None:
        """A filled rectangle; fractional edges are partly covered (bars of any length stay exact)."""
        xa, xb = sorted((x0, x1))
        ya, yb = sorted((y0, y1))
        cols = np.arange(int(np.floor(xa)), int(np.ceil(xb)))
        rows = np.arange(int(np.floor(ya)), int(np.ceil(yb)))
        if cols.size == 0 or rows.size == 0:
            return
        cx = np.clip(np.minimum(cols + 1, xb) - np.maximum(cols, xa), 0, 1)
        cy = np.clip(np.minimum(rows + 1, yb) - np.maximum(rows, ya), 0, 1)
        self._blend(np.outer(cy, cx).astype(np.float32), int(cols[0]), int(rows[0]), colour)

    def line(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        colour: str,
        width: float = 1.0,
        dash: tuple[float, float] | None = None,
        alpha: float = 1.0,
    ) -> None:
        """A polyline through (xs, ys) in pixel coordinates; `dash` = (on, off) lengths in pixels.
        Points that are not finite break the line."""
        pts = np.column_stack([np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)])
        if len(pts) < 2:
            return
        half = width / 2.0
        pad = int(np.ceil(half + 1))
        ok = np.all(np.isfinite(pts), axis=1)
        seg_ok = ok[:-1] & ok[1:]
        if not seg_ok.any():
            return
        used = pts[ok]
        x0 = max(int(np.floor(used[:, 0].min())) - pad, 0)
        y0 = max(int(np.floor(used[:, 1].min())) - pad, 0)
        x1 = min(int(np.ceil(used[:, 0].max())) + pad + 1, self.width)
        y1 = min(int(np.ceil(used[:, 1].max())) + pad + 1, self.height)
        if x0 >= x1 or y0 >= y1:
            return
        cover = np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
        travelled = 0.0
        for k in np.flatnonzero(seg_ok):
            (ax, ay), (bx, by) = pts[k], pts[k + 1]
            length = float(np.hypot(bx - ax, by - ay))
            sx0 = max(int(np.floor(min(ax, bx))) - pad, x0)
            sy0 = max(int(np.floor(min(ay, by))) - pad, y0)
            sx1 = min(int(np.ceil(max(ax, bx))) + pad + 1, x1)
            sy1 = min(int(np.ceil(max(ay, by))) + pad + 1, y1)
            if sx0 >= sx1 or sy0 >= sy1:
                travelled += length
                continue
            px, py = np.meshgrid(np.arange(sx0, sx1) + 0.5, np.arange(sy0, sy1) + 0.5)
            if length > 0:
                t = np.clip(((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / length**2, 0.0, 1.0)
            else:
                t = np.zeros_like(px)
            dist = np.hypot(px - (ax + t * (bx - ax)), py - (ay + t * (by - ay)))
            c = np.clip(half + 0.5 - dist, 0.0, 1.0)
            if dash is not None:
                c = np.where(np.mod(travelled + t * length, dash[0] + dash[1]) < dash[0], c, 0.0)
            box = cover[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0]
            np.maximum(box, c.astype(np.float32), out=box)
            travelled += length
        self._blend(cover, x0, y0, colour, alpha)

    def dot(self, x: float, y: float, radius: float, colour: str) -> None:
        x0, y0 = int(np.floor(x - radius - 1)), int(np.floor(y - radius - 1))
        size = int(np.ceil(2 * radius + 3))
        px, py = np.meshgrid(np.arange(x0, x0 + size) + 0.5, np.arange(y0, y0 + size) + 0.5)
        cover = np.clip(radius + 0.5 - np.hypot(px - x, py - y), 0.0, 1.0).astype(np.float32)
        self._blend(cover, x0, y0, colour)

    # ---------------------------------------------------------------- text
    def text(
        self,
        x: float,
        y: float,
        s: str,
        size: int = SMALL,
        colour: str = "#202124",
        anchor: str = "lt",
        vertical: bool = False,
    ) -> None:
        """`s` with its box anchored at (x, y): anchor = horizontal (l, c, r) + vertical (t, m, b)
        letters of the box; `vertical` turns it a quarter anticlockwise (a y-axis label)."""
        cover = text_mask(s, size)
        if vertical:
            cover = np.rot90(cover)
        h, w = cover.shape
        ox = {"l": 0.0, "c": w / 2, "r": float(w)}[anchor[0]]
        oy = {"t": 0.0, "m": h / 2, "b": float(h)}[anchor[1]]
        self._blend(cover, round(x - ox), round(y - oy), colour)

    # ---------------------------------------------------------------- output
    def png(self) -> bytes:
        """The canvas as an 8-bit RGB PNG: no metadata, each row filtered by "Sub" (byte
        differences from the pixel to the left compress flat plot areas well)."""
        img = np.rint(np.clip(self.pixels, 0.0, 1.0) * 255).astype(np.uint8)
        rows = img.reshape(self.height, self.width * 3).astype(np.int16)
        sub = rows.copy()
        sub[:, 3:] -= rows[:, :-3]
        raw = np.concatenate(
            [np.ones((self.height, 1), dtype=np.uint8), (sub % 256).astype(np.uint8)], axis=1
        )
        return b"".join(
            (
                b"\x89PNG\r\n\x1a\n",
                _chunk(b"IHDR", struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)),
                _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
                _chunk(b"IEND", b""),
            )
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def text_width(s: str, size: int = SMALL) -> int:
    font = _font()
    adv = font[f"advance_{size}"]
    index = font["index"]
    q = index[ord("?")]
    return int(np.ceil(sum(float(adv[index.get(ord(ch), q)]) for ch in s)))


def text_height(size: int = SMALL) -> int:
    return int(_font()[f"alpha_{size}"].shape[0])


def text_mask(s: str, size: int = SMALL) -> np.ndarray:
    """The coverage (0..1) of `s` set in one line, as high as the font's cell."""
    font = _font()
    strip, lefts, widths = font[f"alpha_{size}"], font[f"left_{size}"], font[f"width_{size}"]
    adv, index, pad = font[f"advance_{size}"], font["index"], int(font["pad"])
    q = index[ord("?")]
    out = np.zeros((strip.shape[0], text_width(s, size) + 2 * pad + 2), dtype=np.float32)
    pen = float(pad)
    for ch in s:
        i = index.get(ord(ch), q)
        x = round(pen) - pad
        cell = strip[:, lefts[i] : lefts[i] + widths[i]].astype(np.float32) / 255.0
        w = min(cell.shape[1], out.shape[1] - x)
        np.maximum(out[:, x : x + w], cell[:, :w], out=out[:, x : x + w])
        pen += float(adv[i])
    return out


def fit_text(s: str, width: int, size: int = SMALL) -> str:
    """`s`, cut with "…" to at most `width` pixels."""
    if text_width(s, size) <= width:
        return s
    while s and text_width(s + "…", size) > width:
        s = s[:-1]
    return s + "…"
