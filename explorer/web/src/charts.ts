// Charts as SVG drawn by our code: a few lines and bars do not justify a
// charting library in the bundle, and SVG attributes (not inline styles)
// keep the page inside its Content-Security-Policy (docs/explorer.md).

const NS = "http://www.w3.org/2000/svg";

function el(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export interface Series {
  name: string;
  color: string;
  /** [x, y] in data units, x increasing. */
  points: [number, number][];
}

function fmtNum(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(0) + "k";
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(1);
  return v.toFixed(2);
}

/** A line chart with a y axis from min(0, data) to the data's maximum. */
export function lineChart(title: string, series: Series[], xLabel: (x: number) => string, yUnit: string, labelEnds = false, xDomain?: [number, number]): HTMLElement {
  const W = 460, H = 210, L = 52, R = 10, T = 36, B = 28;
  const fig = document.createElement("figure");
  fig.className = "chart";
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title }) as SVGSVGElement;
  svg.appendChild(el("text", { x: 4, y: 16, class: "chart-title" }, title));
  const pts = series.flatMap((s) => s.points);
  if (pts.length === 0) {
    svg.appendChild(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "chart-empty" }, "no data yet"));
    fig.appendChild(svg);
    return fig;
  }
  let x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
  if (xDomain) [x0, x1] = xDomain;
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  const y0 = Math.min(0, ...pts.map((p) => p[1]));
  let y1 = Math.max(...pts.map((p) => p[1]));
  if (y1 === y0) y1 = y0 + 1;
  const sx = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y: number) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    svg.appendChild(el("line", { x1: L, x2: W - R, y1: sy(v), y2: sy(v), class: "grid" }));
    svg.appendChild(el("text", { x: L - 4, y: sy(v) + 4, "text-anchor": "end", class: "tick" }, fmtNum(v)));
  }
  svg.appendChild(el("text", { x: 4, y: T - 8, class: "tick" }, yUnit));
  ([[x0, "start"], [(x0 + x1) / 2, "middle"], [x1, "end"]] as const).forEach(([x, anchor]) => {
    svg.appendChild(el("text", { x: sx(x), y: H - 8, "text-anchor": anchor, class: "tick" }, xLabel(x)));
  });
  // The legend sits right-aligned under the title; with many series
  // each line is named at its end instead.
  const R2 = labelEnds ? 50 : R;
  const sx2 = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R2);
  let lx = W - R - series.reduce((w, s) => w + 24 + s.name.length * 6, 0);
  for (const s of series) {
    if (labelEnds) {
      const pts = s.points.map(([x, y]) => [sx2(x), sy(y)] as [number, number]);
      if (pts.length === 1) svg.appendChild(el("circle", { cx: pts[0][0], cy: pts[0][1], r: 3, fill: s.color }));
      if (pts.length > 1) svg.appendChild(el("path", { d: pts.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join(""), fill: "none", stroke: s.color, "stroke-width": 2 }));
      const end = pts[pts.length - 1];
      if (end) svg.appendChild(el("text", { x: end[0] + 4, y: end[1] + 3, class: "legend", fill: s.color }, s.name));
      continue;
    }
    if (s.points.length === 1) {
      const [x, y] = s.points[0];
      svg.appendChild(el("circle", { cx: sx(x), cy: sy(y), r: 3, fill: s.color }));
    } else if (s.points.length > 1) {
      const d = s.points.map(([x, y], i) => `${i ? "L" : "M"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join("");
      svg.appendChild(el("path", { d, fill: "none", stroke: s.color, "stroke-width": 2 }));
    }
    svg.appendChild(el("rect", { x: lx, y: T - 17, width: 10, height: 10, fill: s.color }));
    svg.appendChild(el("text", { x: lx + 14, y: T - 8, class: "legend" }, s.name));
    lx += 24 + s.name.length * 6;
  }
  fig.appendChild(svg);
  return fig;
}

export interface Bar {
  label: string;
  value: number;
  color: string;
}

/** Horizontal bars, each labelled with its value. */
export function barChart(title: string, bars: Bar[]): HTMLElement {
  const W = 460, rowH = 24, T = 26, L = 110;
  const H = T + bars.length * rowH + 6;
  const fig = document.createElement("figure");
  fig.className = "chart";
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  svg.appendChild(el("text", { x: 4, y: 16, class: "chart-title" }, title));
  const max = Math.max(1, ...bars.map((b) => b.value));
  bars.forEach((b, i) => {
    const y = T + i * rowH;
    svg.appendChild(el("text", { x: L - 6, y: y + 15, "text-anchor": "end", class: "tick" }, b.label));
    const w = ((W - L - 60) * b.value) / max;
    svg.appendChild(el("rect", { x: L, y: y + 3, width: Math.max(w, 1), height: rowH - 8, fill: b.color }));
    svg.appendChild(el("text", { x: L + w + 6, y: y + 15, class: "tick" }, String(b.value)));
  });
  fig.appendChild(svg);
  return fig;
}
