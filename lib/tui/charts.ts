/**
 * Charts for the monitor, pure: a braille line chart and a heat map drawn into a ScreenBuffer
 * rectangle (never outside it), and a sparkline and a progress bar as strings.
 */
import { blockBar } from "../render/bar.ts";
import { displayWidth, fitWidth, heat, type ScreenBuffer, STYLE } from "./buffer.ts";

const LEVELS = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];

/** A tick or axis label in at most ~5 columns: 10.8, 7.2, 0.036, 1.5e-5, 12.3k, 4M. */
export function compactNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return "0";
  const trim = (s: string) => (s.includes(".") ? s.replace(/\.?0+$/, "") : s);
  for (const [div, unit] of [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]] as const) {
    if (a >= div * 0.9995) return trim((v / div).toPrecision(3)) + unit;
  }
  if (a < 1e-3) {
    const [m, e] = v.toExponential(1).split("e") as [string, string];
    return `${trim(m)}e${Number(e)}`;
  }
  return trim(v.toPrecision(3));
}

/**
 * Plain decimal tick labels given one number of decimals (11 · 8.96 → 11.0 · 9.0), the most
 * that keeps every label within the widest compact one, so a column of them lines up on the
 * point. Labels with a unit or an exponent, or ones that would no longer differ, stay as they are.
 */
function alignDecimals(ticks: Map<number, string>, values: Map<number, number>): void {
  const labels = [...ticks.values()];
  if (!labels.every((l) => /^-?\d+(\.\d+)?$/.test(l))) return;
  const width = Math.max(...labels.map((l) => l.length));
  for (let d = 4; d >= 0; d--) {
    const fixed = new Map([...values].map(([row, v]) => [row, v.toFixed(d)]));
    const all = [...fixed.values()];
    if (all.some((l) => l.length > width) || new Set(all).size < new Set(labels).size) continue;
    for (const [row, l] of fixed) ticks.set(row, l);
    return;
  }
}

/** `frac` (clamped; NaN is 0) of `width` cells filled with eighth blocks. */
export function progressBar(width: number, frac: number): string {
  return blockBar(Number.isNaN(frac) ? 0 : frac, Math.max(0, Math.floor(width)));
}

/**
 * Values resampled to `width` columns (each column the mean of the finite values of its
 * bucket; with fewer values than columns, values repeat) as ▁…█ scaled from the lowest to the
 * highest column. A column with no finite value is a space; all-equal columns are ▁.
 */
export function sparkline(values: readonly number[], width: number): string {
  const n = values.length;
  width = Math.floor(width);
  if (n === 0 || width <= 0) return "";
  const cols: number[] = [];
  for (let i = 0; i < width; i++) {
    const a = Math.floor((i * n) / width);
    const b = Math.max(a + 1, Math.floor(((i + 1) * n) / width));
    let sum = 0, k = 0;
    for (let j = a; j < b; j++) {
      const v = values[j] as number;
      if (Number.isFinite(v)) (sum += v), k++;
    }
    cols.push(k > 0 ? sum / k : NaN);
  }
  const finite = cols.filter(Number.isFinite);
  const lo = Math.min(...finite), hi = Math.max(...finite);
  return cols.map((v) => {
    if (!Number.isFinite(v)) return " ";
    return LEVELS[hi > lo ? Math.round(((v - lo) / (hi - lo)) * 7) : 0] as string;
  }).join("");
}

export interface Series {
  values: readonly number[];
  style: number;
  /**
   * Drawn as this character at each point instead of a line (sparse series such as the
   * validation loss, told apart from the line without colour too), on top of the lines.
   */
  marker?: string;
}

export interface LineChartOptions {
  /** A title on the chart's first row. */
  yLabel?: string;
  /** Centred under the x axis when it fits between the first and last x labels. */
  xLabel?: string;
  yMin?: number;
  yMax?: number;
  /** Log-scaled y (values ≤ 0 are skipped); ticks are still in the values' units. */
  logY?: boolean;
  /** The x values of the first and last points, for the x labels (default: their indices). */
  xRange?: readonly [number, number];
}

// Braille dot bits by [dot column][dot row] within a cell (U+2800 + bits).
const DOTS = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]] as const;

/**
 * A line chart in the rectangle (x, y, w, h):
 *
 *   [yLabel]
 *   10.8┤⠑⢄          one braille cell = 2×4 dots
 *    7.2┤  ⠑⠢⣀       3–4 y ticks (max, evenly spaced values, min)
 *    3.6┤     ⠈⠉⠒⠤
 *      0┤
 *       └────────   x axis
 *       0  xLabel 99 first and last x
 *
 * Points are spread over the width by index (the longest series sets the scale, so series of
 * one length share an x axis) and joined with lines. NaN and ±Infinity are skipped, the line
 * joining the points around them: a series sampled every k steps (validation loss) pads with
 * NaN to share the x axis of one logged every step. Where series meet in a cell its dots are the union and its style that of the last
 * series with a dot there (later series draw on top). Too small a rectangle draws nothing.
 */
export function lineChart(
  buf: ScreenBuffer,
  x: number,
  y: number,
  w: number,
  h: number,
  series: readonly Series[],
  opts: LineChartOptions = {},
): void {
  const top = y + (opts.yLabel ? 1 : 0);
  const rows = y + h - top - 2;
  if (rows < 1 || w < 3) return;
  const tf = (v: number) => (opts.logY ? (v > 0 ? Math.log10(v) : NaN) : v);
  const un = (t: number) => (opts.logY ? 10 ** t : t);

  // y range in transformed units
  let lo = Infinity, hi = -Infinity;
  for (const s of series) {
    for (const v of s.values) {
      const t = tf(v);
      if (Number.isFinite(t)) (lo = Math.min(lo, t)), (hi = Math.max(hi, t));
    }
  }
  const yMin = opts.yMin === undefined ? NaN : tf(opts.yMin);
  const yMax = opts.yMax === undefined ? NaN : tf(opts.yMax);
  if (Number.isFinite(yMin)) lo = yMin;
  if (Number.isFinite(yMax)) hi = yMax;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) (lo = 0), (hi = 1);
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    const pad = Math.abs(lo) * 0.1 || 1;
    (lo -= pad), (hi += pad);
  }
  const dotRows = rows * 4;
  const dotY = (t: number) => ((hi - t) / (hi - lo)) * (dotRows - 1);

  // y ticks: evenly spaced values from hi to lo, each on the row its value falls in
  const k = Math.min(rows, 4);
  const ticks = new Map<number, string>();
  const tickValues = new Map<number, number>();
  for (let i = 0; i < k; i++) {
    const t = k === 1 ? hi : hi - (i * (hi - lo)) / (k - 1);
    const row = Math.floor(Math.round(dotY(t)) / 4);
    ticks.set(row, compactNumber(un(t)));
    tickValues.set(row, un(t));
  }
  alignDecimals(ticks, tickValues);
  const labelW = Math.min(w - 2, Math.max(...[...ticks.values()].map(displayWidth)));
  const axis = x + labelW, px0 = axis + 1, pw = w - labelW - 1;
  const dim = STYLE.dim;

  if (opts.yLabel) buf.text(x, y, fitWidth(opts.yLabel, w), dim, w);
  for (let r = 0; r < rows; r++) {
    const label = ticks.get(r);
    if (label !== undefined) {
      const fitted = fitWidth(label, labelW);
      buf.text(axis - displayWidth(fitted), top + r, fitted, dim, labelW);
    }
    buf.text(axis, top + r, label === undefined ? "│" : "┤", dim);
  }
  buf.text(axis, top + rows, "└" + "─".repeat(pw), dim);

  // x labels
  const n = Math.max(0, ...series.map((s) => s.values.length));
  if (n > 0) {
    const [a, b] = opts.xRange ?? [0, n - 1];
    const first = compactNumber(a), last = compactNumber(b);
    const fw = displayWidth(first), lw = displayWidth(last);
    const row = top + rows + 1;
    buf.text(px0, row, first, dim, pw);
    const both = n > 1 && fw + 1 + lw <= pw;
    if (both) buf.text(px0 + pw - lw, row, last, dim);
    const xl = opts.xLabel ?? "", xw = displayWidth(xl);
    const room = pw - fw - (both ? lw + 1 : 0) - 1; // a space after the first, before the last
    if (xl && xw <= room) {
      const centred = px0 + Math.floor((pw - xw) / 2);
      const at = Math.min(px0 + pw - (both ? lw + 1 : 0) - xw, Math.max(px0 + fw + 1, centred));
      buf.text(at, row, xl, dim);
    }
  }

  // plot: per cell the union of dots and the style of the last series there
  const bits = new Uint8Array(pw * rows);
  const owner = new Int32Array(pw * rows).fill(-1);
  const dotCols = pw * 2;
  const dotX = (i: number) => (n === 1 ? 0 : (i * (dotCols - 1)) / (n - 1));
  series.forEach((s, si) => {
    if (s.marker !== undefined) return; // drawn after the lines
    // dx is within the grid by construction; span() clamps dy
    const set = (dx: number, dy: number) => {
      const c = Math.floor(dy / 4) * pw + Math.floor(dx / 2);
      bits[c] = (bits[c] as number) | DOTS[dx % 2 as 0 | 1][dy % 4 as 0 | 1 | 2 | 3];
      owner[c] = si;
    };
    // a vertical run of dots in one dot column, clamped to the grid first (bounded work)
    const span = (dx: number, ya: number, yb: number) => {
      const from = Math.max(0, Math.round(Math.min(ya, yb)));
      const to = Math.min(dotRows - 1, Math.round(Math.max(ya, yb)));
      for (let dy = from; dy <= to; dy++) set(dx, dy);
    };
    let prev: { x: number; y: number } | null = null;
    s.values.forEach((v, i) => {
      const t = tf(v);
      if (!Number.isFinite(t)) return;
      const p = { x: dotX(i), y: dotY(t) };
      if (prev === null) {
        span(Math.round(p.x), p.y, p.y);
      } else {
        // each dot column from the previous point to this one gets the part of the segment
        // within half a column of it, so steep segments stay joined
        const a: { x: number; y: number } = prev;
        const at = (cx: number) =>
          p.x === a.x ? p.y : a.y + ((p.y - a.y) * (cx - a.x)) / (p.x - a.x);
        for (let dx = Math.round(a.x); dx <= Math.round(p.x); dx++) {
          const l = Math.max(a.x, dx - 0.5), r = Math.min(p.x, dx + 0.5);
          span(dx, at(l), at(r));
        }
        if (p.x === a.x) span(Math.round(p.x), a.y, p.y);
      }
      prev = p;
    });
  });
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < pw; c++) {
      const i = r * pw + c;
      const si = owner[i] as number;
      if (si < 0) continue;
      buf.text(
        px0 + c,
        top + r,
        String.fromCharCode(0x2800 + (bits[i] as number)),
        series[si]?.style ?? 0,
      );
    }
  }
  for (const s of series) {
    if (s.marker === undefined) continue;
    s.values.forEach((v, i) => {
      const t = tf(v);
      if (!Number.isFinite(t)) return;
      const r = Math.floor(Math.max(0, Math.min(dotRows - 1, Math.round(dotY(t)))) / 4);
      buf.text(px0 + Math.floor(Math.round(dotX(i)) / 2), top + r, s.marker!, s.style);
    });
  }
}

export interface HeatCell {
  label: string;
  /** 0–1; sets the background (NaN or ±Infinity: a dim cell without one). */
  value: number;
  /** Shown instead of the value as a percentage. */
  text?: string;
}

/**
 * A heat map, row-major, `cols` cells per row, each `cellWidth` columns (the last one a gap
 * when cellWidth > 2) on one row, with white text on a heat background. Inside: the label at
 * the left and the text (default: the value as "87%") at the right when both fit, else the
 * text alone, else the label, else a level glyph ▁…█ — so without colour the value can still
 * be read when the cell is wide enough. Returns the rows used.
 */
export function heatmap(
  buf: ScreenBuffer,
  x: number,
  y: number,
  cells: readonly HeatCell[],
  cols: number,
  cellWidth: number,
): number {
  cols = Math.max(1, Math.floor(cols));
  const bw = cellWidth > 2 ? cellWidth - 1 : cellWidth;
  if (bw <= 0) return 0;
  cells.forEach((cell, i) => {
    const cx = x + (i % cols) * cellWidth, cy = y + Math.floor(i / cols);
    const finite = Number.isFinite(cell.value);
    const v = finite ? Math.max(0, Math.min(1, cell.value)) : 0;
    const style = finite ? STYLE.white | heat(v) : STYLE.dim;
    const text = cell.text ?? (finite ? `${Math.round(v * 100)}%` : "?");
    const lw = displayWidth(cell.label), tw = displayWidth(text);
    buf.fill(cx, cy, bw, 1, " ", style);
    if (lw + 1 + tw <= bw) {
      const pad = lw + tw + 3 <= bw ? 1 : 0;
      buf.text(cx + pad, cy, cell.label, style, bw);
      buf.text(cx + bw - pad - tw, cy, text, style, bw);
    } else if (tw <= bw) {
      buf.text(cx + bw - tw, cy, text, style);
    } else if (lw <= bw) {
      buf.text(cx, cy, cell.label, style);
    } else {
      buf.text(cx, cy, LEVELS[Math.min(7, Math.floor(v * 8))] as string, style);
    }
  });
  return Math.ceil(cells.length / cols);
}
