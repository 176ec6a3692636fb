/**
 * Progress bars, pure functions of state and width. `tqdmLine` reproduces tqdm's default meter
 * (`{desc}: {percentage:3.0f}%|{bar}| {n}/{total} [{elapsed}<{remaining}, {rate}{postfix}]`,
 * REALISM 1.4) with the bar filling whatever width is left, as tqdm does with dynamic ncols.
 */
import { clockDuration, commas, fixed } from "./format.ts";

const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/** A bar of `width` cells filled to `frac` with eighth-block resolution. */
export function blockBar(frac: number, width: number): string {
  const f = Math.max(0, Math.min(1, frac));
  const eighths = Math.floor(f * width * 8);
  const full = Math.floor(eighths / 8);
  const part = EIGHTHS[eighths % 8] ?? "";
  const used = full + (part ? 1 : 0);
  return "█".repeat(full) + part + " ".repeat(Math.max(0, width - used));
}

export interface MeterState {
  desc: string;
  n: number;
  total: number;
  /** Seconds since the bar started. */
  elapsed: number;
  /** Iterations per second (estimated by the caller from the engine's step times). */
  rate: number;
  postfix?: string;
  /** Unit for the rate ("it", "s" …). */
  unit?: string;
  /** Lightning prints it/s only; tqdm switches to s/it below 1 it/s. */
  rateNoInverse?: boolean;
  /** Group digits of n/total. */
  commas?: boolean;
}

export function formatRate(rate: number, unit = "it", noInverse = false): string {
  if (!(rate > 0)) return `?${unit}/s`;
  // Python's `{:5.2f}`: exact ties round to even, as tqdm prints them
  if (rate >= 1 || noInverse) return `${fixed(rate, 2).padStart(5)}${unit}/s`;
  return `${fixed(1 / rate, 2).padStart(5)}s/${unit}`;
}

/** One tqdm line fitted to `width` columns. */
export function tqdmLine(m: MeterState, width: number): string {
  const frac = m.total > 0 ? m.n / m.total : 0;
  const pct = `${fixed(frac * 100, 0).padStart(3)}%`;
  const left = (m.desc ? `${m.desc}: ` : "") + pct + "|";
  const n = m.commas ? commas(m.n) : String(m.n);
  const total = m.commas ? commas(m.total) : String(m.total);
  const remaining = m.rate > 0 ? (m.total - m.n) / m.rate : NaN;
  const rem = Number.isFinite(remaining) ? clockDuration(remaining) : "?";
  const right = `| ${n}/${total} [${clockDuration(m.elapsed)}<${rem}, ${
    formatRate(m.rate, m.unit, m.rateNoInverse)
  }${m.postfix ? ", " + m.postfix : ""}]`;
  const barWidth = width - left.length - right.length;
  if (barWidth < 4) return (left + right).slice(0, width);
  return left + blockBar(frac, Math.min(barWidth, 100)) + right;
}

/** A plain bracketed bar for custom trainers: `[#######-----]  45%`. */
export function asciiBar(frac: number, width: number): string {
  const f = Math.max(0, Math.min(1, frac));
  const n = Math.round(f * width);
  return "[" + "=".repeat(Math.max(0, n - 1)) + (n > 0 ? ">" : "") + " ".repeat(width - n) + "]";
}
