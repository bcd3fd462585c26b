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
