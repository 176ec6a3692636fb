/**
 * The GPU grid: a pure function of telemetry samples and width. Up to 8 GPUs get a line each;
 * larger jobs get one cell per GPU grouped by node (glyph height and colour = temperature); when
 * that would take too many rows, one glyph per node; when even that does not fit, a summary of
 * the distribution with the hottest nodes named.
 */
import type { GpuSample } from "../engine/telemetry.ts";
import { paint, truncate } from "../term/ansi.ts";
import { padEnd, padStart } from "./format.ts";

export interface GridInput {
  gpus: number;
  gpusPerNode: number;
  gpuName: string;
  host: (node: number) => string;
  sample: (rank: number) => GpuSample;
  width: number;
  color: boolean;
  /** Rows the grid may use below its header. */
  maxRows: number;
}

const LEVELS = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];

function level(tempC: number): string {
  return LEVELS[Math.max(0, Math.min(7, Math.floor((tempC - 30) / 7)))] as string;
}

function band(tempC: number): "red" | "yellow" | "green" {
  return tempC >= 80 ? "red" : tempC >= 70 ? "yellow" : "green";
}

/** Temperature glyphs, one colour sequence per run of equal colour (few bytes per redraw). */
function glyphs(temps: readonly number[], color: boolean): string {
  if (!color) return temps.map(level).join("");
  let out = "";
  let i = 0;
  while (i < temps.length) {
    const b = band(temps[i] as number);
    let run = "";
    while (i < temps.length && band(temps[i] as number) === b) run += level(temps[i++] as number);
    out += paint(color, b, run);
  }
  return out;
}

function gib(mib: number): string {
  return (mib / 1024).toFixed(1);
}

interface Stats {
  util: number;
  power: number;
  tempAvg: number;
  tempMax: number;
  memUsed: number;
  memTotal: number;
}

function stats(samples: readonly GpuSample[]): Stats {
  let util = 0, power = 0, temp = 0, tmax = -Infinity, mem = 0;
  for (const s of samples) {
    util += s.util;
    power += s.powerW;
    temp += s.tempC;
    tmax = Math.max(tmax, s.tempC);
    mem += s.memUsedMiB;
  }
  const n = Math.max(1, samples.length);
  return {
    util: util / n,
    power: power / n,
    tempAvg: temp / n,
    tempMax: tmax,
    memUsed: mem / n,
    memTotal: samples[0]?.memTotalMiB ?? 0,
  };
}

function watts(w: number): string {
  if (w >= 1e6) return `${(w / 1e6).toFixed(2)} MW`;
  if (w >= 1e4) return `${(w / 1e3).toFixed(1)} kW`;
  return `${Math.round(w)} W`;
}

function header(inp: GridInput, st: Stats, sampled: boolean): string {
  const total = st.power * inp.gpus;
  const s = `GPUs ${inp.gpus}× ${inp.gpuName}  util ${Math.round(st.util)}%  power ${
    watts(total)
  } (${Math.round(st.power)} W/GPU)  temp ${Math.round(st.tempAvg)}°C avg ${
    Math.round(st.tempMax)
  }°C max  mem ${gib(st.memUsed)}/${gib(st.memTotal)} GiB${sampled ? " (sampled)" : ""}`;
  return s.length > inp.width ? s.slice(0, inp.width) : s;
}

/** Lines of the grid, each at most `width` columns (cut with "…" on very narrow terminals). */
export function renderGpuGrid(inp: GridInput): string[] {
  return layoutGrid(inp).map((l) => truncate(l, inp.width));
}

function layoutGrid(inp: GridInput): string[] {
  const { gpus, gpusPerNode, width, color } = inp;
  const nodes = Math.ceil(gpus / gpusPerNode);
  if (gpus <= 8) {
    const samples = Array.from({ length: gpus }, (_, r) => inp.sample(r));
    return samples.map((s) => {
      const line = `GPU${padEnd(String(s.rank), 2)} ${inp.gpuName}  ${
        padStart(String(s.util), 3)
      }%  ${padStart(String(s.powerW), 4)}W / ${s.powerCapW}W  ${padStart(String(s.tempC), 2)}°C  ${
        padStart(gib(s.memUsedMiB), 5)
      } / ${gib(s.memTotalMiB)} GiB`;
      return line.length > width ? line.slice(0, width) : line;
    });
  }
  const hostWidth = inp.host(nodes - 1).length;
  const cellWidth = hostWidth + 1 + gpusPerNode + 6; // host, glyphs, " 71°C"
  const perRow = Math.max(1, Math.floor((width + 2) / (cellWidth + 2)));
  if (Math.ceil(nodes / perRow) <= inp.maxRows) {
    const all: GpuSample[] = [];
    const cells: string[] = [];
    for (let n = 0; n < nodes; n++) {
      const temps: number[] = [];
      for (let l = 0; l < gpusPerNode; l++) {
        const s = inp.sample(n * gpusPerNode + l);
        all.push(s);
        temps.push(s.tempC);
      }
      const tmax = Math.max(...temps);
      cells.push(
        `${padEnd(inp.host(n), hostWidth)} ${glyphs(temps, color)} ${padStart(String(tmax), 3)}°C`,
      );
    }
    const rows: string[] = [header(inp, stats(all), false)];
    for (let i = 0; i < cells.length; i += perRow) rows.push(cells.slice(i, i + perRow).join("  "));
    return rows;
  }
  // One glyph per node: its first GPU stands for it (GPUs of a node share airflow and load).
  // Rows are labelled in Slurm node-list notation, e.g. gpu-node-[000-063].
  const label = (a: number, b: number) => {
    const first = inp.host(a), last = inp.host(b);
    let i = 0;
    while (i < first.length && first[i] === last[i]) i++;
    while (i > 0 && /\d/.test(first[i - 1] as string)) i--;
    return `${first.slice(0, i)}[${first.slice(i)}-${last.slice(i)}] `;
  };
  const labelWidth = label(0, nodes - 1).length;
  const perLine = Math.max(8, width - labelWidth);
  const reps = Array.from({ length: nodes }, (_, n) => inp.sample(n * gpusPerNode));
  if (Math.ceil(nodes / perLine) <= inp.maxRows) {
    const rows: string[] = [header(inp, stats(reps), true)];
    for (let i = 0; i < nodes; i += perLine) {
      const end = Math.min(nodes, i + perLine);
      rows.push(label(i, end - 1) + glyphs(reps.slice(i, end).map((r) => r.tempC), color));
    }
    return rows;
  }
  const st = stats(reps);
  const sorted = [...reps].sort((a, b) => b.tempC - a.tempC || a.node - b.node);
  const temps = reps.map((s) => s.tempC).sort((a, b) => a - b);
  const q = (p: number) => temps[Math.min(temps.length - 1, Math.floor(p * temps.length))] ?? 0;
  const hot = sorted.slice(0, 3).map((s) => `${inp.host(s.node)} ${s.tempC}°C`).join(", ");
  const lines = [
    header(inp, st, true),
    `${nodes} nodes  temp p5 ${q(0.05)}°C  p50 ${q(0.5)}°C  p95 ${q(0.95)}°C  hottest: ${hot}`,
  ];
  return lines.map((l) => (l.length > width ? l.slice(0, width) : l));
}
