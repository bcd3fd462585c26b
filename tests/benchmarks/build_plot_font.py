"""Build the glyph atlas the report's PNG plots are lettered with (automl/plot_font.npz).

    .venv/bin/python tests/benchmarks/build_plot_font.py     # rebuilds the file bit for bit

Why an atlas: the experiment report's plots are drawn by optiloop.automl.canvas in numpy alone, so
that the AWS Finalise Lambda (which cannot carry matplotlib's ~100 MB beside the core layer under
Lambda's 250 MB) draws the same PNGs as a local run. Text is the one thing numpy cannot rasterise, so
the glyphs are rasterised once, here, and shipped: DejaVu Sans (the Bitstream Vera licence, with
DejaVu's changes in the public domain: free to redistribute, NOTICE.md beside the atlas) at the
pixel sizes in SIZES, with Pillow's FreeType anti-aliasing, as 8-bit coverage.

Per size the file holds `alpha_<px>` (uint8, one row strip of every glyph's cell, each cell as high
as the font's ascent + descent), `left_<px>` (int32, each glyph's first column in the strip),
`width_<px>` (its cell width), `advance_<px>` (float32, the pen advance, in pixels) and `ascent_<px>`;
`pad` is the columns left of the pen in every cell, `chars` the code points in the order of the
cells. Characters outside CHARS are drawn as "?".
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "shared" / "optiloop" / "automl" / "plot_font.npz"
SIZES = (11, 13)
PAD = 1  # columns left of the pen in every cell (italic-free DejaVu Sans overhangs by at most one)
# printable ASCII, Latin-1's letters and signs, and the few symbols the report's labels use
CHARS = [*range(32, 127), *range(161, 256), *map(ord, "–—…≥≤±×·−•→")]


def font_path() -> str:
    import matplotlib

    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")


def rasterise(px: int) -> dict[str, np.ndarray]:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(font_path(), px)
    ascent, descent = font.getmetrics()
    height = ascent + descent
    cells, lefts, widths, advances = [], [], [], []
    x = 0
    for code in CHARS:
        ch = chr(code)
        advance = font.getlength(ch)
        box = font.getbbox(ch)  # (left, top, right, bottom) from the pen at the ascent line
        width = max(1, math.ceil(max(advance, box[2])) + 1 + PAD)
        img = Image.new("L", (width, height), 0)
        ImageDraw.Draw(img).text((PAD, 0), ch, font=font, fill=255)  # PAD: a glyph's ink left of the pen
        cells.append(np.asarray(img, dtype=np.uint8))
        lefts.append(x)
        widths.append(width)
        advances.append(advance)
        x += width
    return {
        f"alpha_{px}": np.concatenate(cells, axis=1),
        f"left_{px}": np.asarray(lefts, dtype=np.int32),
        f"width_{px}": np.asarray(widths, dtype=np.int32),
        f"advance_{px}": np.asarray(advances, dtype=np.float32),
        f"ascent_{px}": np.asarray(ascent, dtype=np.int32),
    }


def main() -> None:
    arrays = {"chars": np.asarray(CHARS, dtype=np.int32), "pad": np.asarray(PAD, dtype=np.int32)}
    for px in SIZES:
        arrays |= rasterise(px)
    buf = io.BytesIO()
    np.savez_compressed(buf, allow_pickle=False, **arrays)
    OUT.write_bytes(buf.getvalue())
    print(f"{OUT.relative_to(ROOT)}: {len(CHARS)} glyphs at {SIZES} px, {len(buf.getvalue()) / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
