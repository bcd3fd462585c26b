// Charts as inline SVG, written here (no chart library, nothing from a CDN). Each chart has a text
// alternative (role="img" + aria-label saying what it shows) and is drawn with shapes and labels,
// not colour alone; the pages add the numbers as a table beside it.

const NS = "http://www.w3.org/2000/svg";
const W = 480;
const H = 260;
const PAD = { left: 56, right: 16, top: 20, bottom: 48 };

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = String(text);
  return el;
}

/** About five round tick values from 0 to max. */
export function ticks(max) {
  if (!(max > 0)) return [0, 1];
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw);
  const out = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6);
  if (out.at(-1) < max) out.push(Math.round((out.at(-1) + step) * 1e6) / 1e6);
  return out;
}

function frame(label, xTitle, yTitle, xTicks, yTicks, x, y) {
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label });
  svg.append(s("title", {}, label));
  const x0 = PAD.left;
  const y0 = H - PAD.bottom;
  svg.append(s("line", { class: "axis", x1: x0, y1: y0, x2: W - PAD.right, y2: y0 }));
  svg.append(s("line", { class: "axis", x1: x0, y1: PAD.top, x2: x0, y2: y0 }));
  for (const t of yTicks) {
    svg.append(s("line", { class: "axis", x1: x0 - 4, y1: y(t), x2: x0, y2: y(t) }));
    svg.append(s("text", { x: x0 - 6, y: y(t) + 4, "text-anchor": "end" }, t));
  }
  for (const t of xTicks) {
    svg.append(s("line", { class: "axis", x1: x(t), y1: y0, x2: x(t), y2: y0 + 4 }));
    svg.append(s("text", { x: x(t), y: y0 + 16, "text-anchor": "middle" }, t));
  }
  svg.append(s("text", { x: (x0 + W - PAD.right) / 2, y: H - 6, "text-anchor": "middle" }, xTitle));
  svg.append(s("text", { x: 14, y: (PAD.top + y0) / 2, transform: `rotate(-90 14 ${(PAD.top + y0) / 2})`, "text-anchor": "middle" }, yTitle));
  return svg;
}

/** A line with a marker per point: `points` = [[x, y], ...]. */
export function lineChart(points, { label, xTitle, yTitle }) {
  const xMax = Math.max(1, ...points.map((p) => p[0]));
  const yMax = Math.max(1, ...points.map((p) => p[1]));
  const xt = ticks(xMax);
  const yt = ticks(yMax);
  const x = (v) => PAD.left + (v / xt.at(-1)) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / yt.at(-1)) * (H - PAD.top - PAD.bottom);
  const svg = frame(label, xTitle, yTitle, xt, yt, x, y);
  svg.dataset.points = String(points.length);
  if (points.length) {
    svg.append(s("polyline", { class: "series", points: points.map(([a, b]) => `${x(a)},${y(b)}`).join(" ") }));
    const every = Math.max(1, Math.ceil(points.length / 60)); // markers stay legible on long runs
    points.forEach(([a, b], i) => {
      if (i % every === 0 || i === points.length - 1) svg.append(s("circle", { class: "point", cx: x(a), cy: y(b), r: 3 }));
    });
  }
  return svg;
}

/** Vertical bars with their value written above each: `bars` = [[label, value], ...]. */
export function barChart(bars, { label, xTitle, yTitle }) {
  const yMax = Math.max(1, ...bars.map((b) => b[1]));
  const yt = ticks(yMax);
  const n = Math.max(1, bars.length);
  const slot = (W - PAD.left - PAD.right) / n;
  const y = (v) => H - PAD.bottom - (v / yt.at(-1)) * (H - PAD.top - PAD.bottom);
  const svg = frame(label, xTitle, yTitle, [], yt, () => 0, y);
  svg.dataset.points = String(bars.length);
  bars.forEach(([name, value], i) => {
    const left = PAD.left + i * slot + slot * 0.15;
    const width = slot * 0.7;
    svg.append(s("rect", { class: "bar", x: left, y: y(value), width, height: Math.max(0, y(0) - y(value)) }));
    svg.append(s("text", { x: left + width / 2, y: y(value) - 4, "text-anchor": "middle" }, value));
    svg.append(s("text", { x: left + width / 2, y: H - PAD.bottom + 16, "text-anchor": "middle" }, name));
  });
  return svg;
}

/** Spend against budget as one horizontal bar, the budget as a dashed line. */
export function spendChart(spend, budget, { label }) {
  const max = Math.max(spend, budget || 0, 1) * 1.1;
  const w = W - PAD.left - PAD.right;
  const x = (v) => PAD.left + (v / max) * w;
  const svg = s("svg", { viewBox: `0 0 ${W} 90`, class: "chart", role: "img", "aria-label": label });
  svg.append(s("title", {}, label));
  svg.append(s("rect", { class: "bar", x: PAD.left, y: 20, width: Math.max(0, x(spend) - PAD.left), height: 28 }));
  svg.append(s("text", { x: PAD.left, y: 14 }, `spent $${(spend / 100).toFixed(2)}`));
  if (budget) {
    svg.append(s("line", { class: "budget", x1: x(budget), y1: 10, x2: x(budget), y2: 60 }));
    svg.append(s("text", { x: x(budget), y: 76, "text-anchor": "middle" }, `budget $${(budget / 100).toFixed(2)}`));
  }
  return svg;
}

/**
 * A grid of cells, each with its count written inside and shaded by it (the number, not the shade,
 * carries the value): `cells[y][x]`, labels for both axes.
 */
export function heatmap(cells, xLabels, yLabels, { label, xTitle, yTitle }) {
  const left = 96;
  const w = W - left - PAD.right;
  const h = H - PAD.top - PAD.bottom;
  const cw = w / Math.max(1, xLabels.length);
  const ch = h / Math.max(1, yLabels.length);
  const max = Math.max(1, ...cells.flat());
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label });
  svg.append(s("title", {}, label));
  svg.dataset.points = String(cells.flat().filter((v) => v > 0).length);
  yLabels.forEach((yl, j) => {
    const y = PAD.top + j * ch;
    svg.append(s("text", { x: left - 6, y: y + ch / 2 + 4, "text-anchor": "end" }, yl));
    xLabels.forEach((_, i) => {
      const v = cells[j][i];
      const x = left + i * cw;
      // at most 45% of the accent under the text: its contrast stays above 4.5:1 in both schemes
      svg.append(s("rect", { class: "cell", x, y, width: cw, height: ch, "fill-opacity": v ? 0.08 + 0.37 * (v / max) : 0 }));
      svg.append(s("text", { x: x + cw / 2, y: y + ch / 2 + 4, "text-anchor": "middle" }, v));
    });
  });
  xLabels.forEach((xl, i) => svg.append(s("text", { x: left + i * cw + cw / 2, y: H - PAD.bottom + 16, "text-anchor": "middle" }, xl)));
  svg.append(s("text", { x: (left + W - PAD.right) / 2, y: H - 6, "text-anchor": "middle" }, xTitle));
  svg.append(s("text", { x: 12, y: (PAD.top + H - PAD.bottom) / 2, transform: `rotate(-90 12 ${(PAD.top + H - PAD.bottom) / 2})`, "text-anchor": "middle" }, yTitle));
  return svg;
}

/** Points with a marker each (squares for `marked`, circles otherwise): `points` = [[x, y, marked], ...]. */
export function scatter(points, { label, xTitle, yTitle }) {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const xt = ticks(Math.max(1e-9, ...xs));
  const yt = ticks(Math.max(1e-9, ...ys));
  const x = (v) => PAD.left + (v / xt.at(-1)) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / yt.at(-1)) * (H - PAD.top - PAD.bottom);
  const svg = frame(label, xTitle, yTitle, xt, yt, x, y);
  svg.dataset.points = String(points.length);
  for (const [a, b, marked] of points) {
    if (marked) svg.append(s("rect", { class: "point", x: x(a) - 4, y: y(b) - 4, width: 8, height: 8 }));
    else svg.append(s("circle", { class: "point hollow", cx: x(a), cy: y(b), r: 4 }));
  }
  return svg;
}

const INLINE = ["fill", "fill-opacity", "stroke", "stroke-width", "stroke-dasharray", "font-family", "font-size", "font-weight"];

/** The chart as a PNG file: the SVG with its computed styles inlined, drawn on a canvas at 2x. */
export async function savePng(svg, filename) {
  const clone = svg.cloneNode(true);
  const src = [svg, ...svg.querySelectorAll("*")];
  const dst = [clone, ...clone.querySelectorAll("*")];
  src.forEach((el, i) => {
    const cs = getComputedStyle(el);
    dst[i].setAttribute("style", INLINE.map((p) => `${p}:${cs.getPropertyValue(p)}`).join(";"));
  });
  const background = getComputedStyle(document.body).backgroundColor;
  clone.setAttribute("xmlns", NS);
  const [, , vw, vh] = svg.getAttribute("viewBox").split(" ").map(Number);
  const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(clone)], { type: "image/svg+xml" }));
  try {
    const img = new Image();
    await new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = () => reject(new Error("the chart could not be drawn"));
      img.src = url;
    });
    const canvas = document.createElement("canvas");
    canvas.width = vw * 2;
    canvas.height = vh * 2;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = background;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const a = document.createElement("a");
    a.href = URL.createObjectURL(png);
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  } finally {
    URL.revokeObjectURL(url);
  }
}
