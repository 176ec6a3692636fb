/**
 * `llm-sim monitor`'s screen from its state: a pure function from (state, size) to a screen
 * buffer. Wide terminals put the run list left of the detail panel; narrow ones above it.
 * The detail panel fills what room it has in order: progress, times, the loss chart, lr and
 * throughput sparklines, the GPU heat map (per node when every GPU does not fit), the log.
 */
import { commas, fixed, humanDuration } from "../render/format.ts";
import { deviceName, epochOf, localTime } from "../trainer/status.ts";
import type { StatusView } from "../trainer/status.ts";
import { displayWidth, fitWidth, ScreenBuffer, STYLE, wrapText } from "./buffer.ts";
import { type HeatCell, heatmap, lineChart, progressBar, sparkline } from "./charts.ts";
import type { GpuReading } from "./metrics.ts";
import { type Form, type MonitorState, selectedRun } from "./monitor.ts";

/** The footer's key hints, longest first: the first that fits the width is shown. */
const KEYS = [
  "↑↓ select  Enter details  Tab panel  n new  r resume  g generate  s stop  ? help  q quit",
  "↑↓ select  Enter details  n new  r resume  g generate  s stop  ? help  q quit",
  "↑↓ select  n new  r resume  g generate  s stop  ? help  q quit",
  "n new  r resume  g gen  s stop  ? help  q quit",
  "? help  q quit",
];

function keyHints(width: number): string {
  return KEYS.find((k) => displayWidth(k) + 1 <= width) ?? KEYS[KEYS.length - 1]!;
}

const STATUS_STYLE: Record<string, number> = {
  running: STYLE.green | STYLE.bold,
  queued: STYLE.cyan,
  completed: STYLE.blue,
  stopped: STYLE.yellow,
  failed: STYLE.red | STYLE.bold,
};

function loss(x: number | null): string {
  return x === null ? "–" : fixed(x, 3);
}

function eta(v: StatusView, now: number, tz: number): string {
  if (v.eta !== null) return localTime(v.eta, now, tz);
  return v.status === "completed" ? "done" : "–";
}

/** Columns of the run list, most wanted first: dropped from the right as the panel narrows. */
const COLUMNS: { head: string; width: number; cell: (v: StatusView, s: MonitorState) => string }[] =
  [
    { head: "STATUS", width: 9, cell: (v) => v.status },
    { head: "EPOCH", width: 9, cell: epochOf },
    { head: "LOSS", width: 6, cell: (v) => loss(v.loss) },
    { head: "ETA", width: 8, cell: (v, s) => eta(v, s.now, s.tz) },
    { head: "MODEL", width: 14, cell: (v) => v.model },
    { head: "VAL", width: 6, cell: (v) => loss(v.val_loss) },
    {
      head: "DEVICE",
      width: 18,
      cell: (v) => deviceName(v, true),
    },
    { head: "STEP", width: 11, cell: (v) => `${v.step}/${v.total_steps}` },
  ];

function runList(buf: ScreenBuffer, s: MonitorState, x: number, y: number, w: number, h: number) {
  const running = s.runs.filter((r) => r.view?.alive).length;
  const focused = s.focus === "list";
  buf.box(
    x,
    y,
    w,
    h,
    `Runs ${s.runs.length}${running ? ` · ${running} running` : ""}`,
    focused ? STYLE.bold : 0,
    focused,
  );
  const inner = w - 2;
  if (s.runs.length === 0) {
    const text = s.problem ?? `No runs in ${s.runsDir} yet.`;
    buf.text(x + 2, y + 1, text, STYLE.dim, inner - 2);
    buf.text(x + 2, y + 2, "Press n to launch one.", STYLE.bold, inner - 2);
    return;
  }
  // ids without their date (the run list shows when each started anyway): 095000-gpt2-1a2b
  const short = (id: string) => id.replace(/^\d{8}-/, "");
  const idWidth = Math.min(24, Math.max(12, ...s.runs.map((r) => short(r.id).length)));
  // too long: cut in the middle, keeping the random suffix that tells runs apart
  const idText = (id: string) => {
    const t = short(id);
    if (t.length <= idWidth) return t;
    const tail = t.slice(t.lastIndexOf("-"));
    return `${fitWidth(t.slice(0, -tail.length), idWidth - tail.length)}${tail}`;
  };
  let cols = 0, used = idWidth + 1;
  while (cols < COLUMNS.length && used + COLUMNS[cols]!.width + 1 <= inner) {
    used += COLUMNS[cols++]!.width + 1;
  }
  const head = ["RUN".padEnd(idWidth), ...COLUMNS.slice(0, cols).map((c) => c.head.padEnd(c.width))]
    .join(" ");
  buf.text(x + 1, y + 1, head, STYLE.dim, inner);
  const rows = h - 3;
  const first = Math.max(0, Math.min(s.selected - rows + 1, s.runs.length - rows));
  for (let i = 0; i < rows && first + i < s.runs.length; i++) {
    const r = s.runs[first + i]!;
    const ry = y + 2 + i;
    const selected = first + i === s.selected;
    const base = selected ? STYLE.reverse : 0;
    if (selected) buf.fill(x + 1, ry, inner, 1, " ", base);
    let cx = x + 1 +
      buf.text(x + 1, ry, idText(r.id).padEnd(idWidth), base, inner) +
      1;
    if (!r.view) {
      // the run's own directory goes without saying: which file, and what is wrong with it
      const why = (r.error ?? "").replace(`${s.runsDir}/${r.id}/`, "").replace(`${r.id}/`, "");
      buf.text(cx, ry, "broken: " + why, base | STYLE.red, x + w - 1 - cx);
      continue;
    }
    for (const c of COLUMNS.slice(0, cols)) {
      const text = fitWidth(c.cell(r.view, s), c.width).padEnd(c.width);
      const style = c.head === "STATUS" ? STATUS_STYLE[r.view.status] ?? 0 : 0;
      cx += buf.text(cx, ry, text, base | (selected ? 0 : style), x + w - 1 - cx) + 1;
    }
  }
}

interface Reading {
  label: string;
  /** A node's aggregate (its power in kW). */
  node: boolean;
  util: number;
  tempC: number;
  powerW: number;
  memUsedMiB: number;
}

/** Cell widths the heat map tries, widest first. */
const CELL_WIDTHS = [24, 16, 11, 9];

/**
 * The heat map's cells: one a GPU when they all fit in `rows` rows of `width` columns, else one
 * a node (mean utilisation and memory, hottest GPU, total power), else the first nodes and how
 * many more. Every cell shows the same fields — utilisation, then temperature, memory and power
 * as far as the widest cell has room — and a run that is not running shows its last readings
 * dimmed.
 */
function gpuMap(
  gpus: readonly GpuReading[],
  width: number,
  rows: number,
  live: boolean,
): { cells: HeatCell[]; cols: number; cellWidth: number } {
  const nodes = () => {
    const by = new Map<string, GpuReading[]>();
    for (const g of gpus) by.set(g.host, [...(by.get(g.host) ?? []), g]);
    return [...by].map(([host, list]): Reading => ({
      label: nodeLabel(host),
      node: true,
      util: list.reduce((a, g) => a + g.util, 0) / list.length,
      tempC: Math.max(...list.map((g) => g.tempC)),
      powerW: list.reduce((a, g) => a + g.powerW, 0),
      memUsedMiB: list.reduce((a, g) => a + g.memUsedMiB, 0) / list.length,
    }));
  };
  const cellsOf = (units: readonly Reading[], cellWidth: number): HeatCell[] => {
    // label, a space between, a space at each end (cells stay apart without colour), the gap
    const room = cellWidth - 4 - Math.max(...units.map((u) => displayWidth(u.label)));
    const parts = (u: Reading) => [
      `${Math.round(u.util)}%`,
      `${Math.round(u.tempC)}°C`,
      `${fixed(u.memUsedMiB / 1024, 0)}G`,
      u.node ? `${fixed(u.powerW / 1000, 1)}kW` : `${Math.round(u.powerW)}W`,
    ];
    const keep = [0];
    for (let k = 1; k < 4; k++) {
      const fits = units.every((u) => {
        const p = parts(u);
        return displayWidth([...keep, k].map((i) => p[i]).join(" ")) <= room;
      });
      if (fits) keep.push(k);
    }
    return units.map((u) => ({
      label: u.label,
      value: live ? u.util / 100 : NaN,
      text: keep.map((i) => parts(u)[i]).join(" "),
    }));
  };
  const widths = CELL_WIDTHS.filter((w) => w <= width);
  // a GPU's label is its rank; large jobs log one reading a node, labelled by host
  const perGpu: Reading[] = gpus.map((g) => {
    const node = !/^\d+$/.test(g.label);
    return { ...g, node, label: node ? nodeLabel(g.host) : g.label };
  });
  for (const units of [perGpu, null]) {
    const list = units ?? nodes();
    // a GPU's cell shows its temperature too: one a GPU only in cells of 16 columns or more
    for (const w of units ? widths.filter((x) => x >= 16) : widths) {
      const cols = Math.max(1, Math.floor(width / w));
      if (list.length <= cols * rows) return { cells: cellsOf(list, w), cols, cellWidth: w };
    }
  }
  // no cell width fits every node: the narrowest (or the whole width) with the first nodes,
  // and a last cell saying how many more when they do not all fit
  const list = nodes();
  const w = Math.max(1, widths.at(-1) ?? width);
  const cols = Math.max(1, Math.floor(Math.max(1, width) / w));
  if (list.length <= cols * rows) return { cells: cellsOf(list, w), cols, cellWidth: w };
  const shown = Math.max(0, cols * rows - 1);
  const more = { label: "", value: NaN, text: `+${list.length - shown} more` };
  return { cells: [...cellsOf(list.slice(0, shown), w), more], cols, cellWidth: w };
}

/** gn012, dgx-h200-012 → n012. */
function nodeLabel(host: string): string {
  return host.replace(/^.*?(\d+)$/, "n$1");
}

/** Parts of a line in order of importance: as many as fit, the first always. */
function partsLine(parts: readonly string[], width: number): string {
  let line = parts[0] ?? "";
  for (const p of parts.slice(1)) {
    if (displayWidth(`${line} · ${p}`) <= width) line += ` · ${p}`;
  }
  return line;
}

/** Index of the step in `steps` (ascending) nearest to `step`. */
function nearest(steps: readonly number[], step: number): number {
  let lo = 0, hi = steps.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((steps[mid] as number) < step) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && step - (steps[lo - 1] as number) < (steps[lo] as number) - step) return lo - 1;
  return lo;
}

function detail(buf: ScreenBuffer, s: MonitorState, x: number, y: number, w: number, h: number) {
  const run = selectedRun(s);
  const v = run?.view ?? null;
  const title = run ? `${run.id}${v ? ` · ${v.status}` : ""}` : "Run";
  const focused = s.focus === "detail";
  buf.box(x, y, w, h, title, focused ? STYLE.bold : 0, focused);
  const ix = x + 2, iw = w - 4;
  let cy = y + 1;
  const bottom = y + h - 1;
  if (s.output) {
    generated(buf, s, ix, cy, iw, bottom - cy);
    return;
  }
  if (!run) {
    const lines: [string, number][] = [
      ["No run selected.", STYLE.dim],
      ["", 0],
      ["n    launch a run from a form: model, data, epochs, device, precision", 0],
      ["?    every key", 0],
      ["", 0],
      ["Runs started elsewhere (llm-sim train --detach) appear here as they start.", STYLE.dim],
    ];
    lines.forEach(([t, style], i) => cy + i < bottom && buf.text(ix, cy + i, t, style, iw));
    return;
  }
  if (!v) {
    buf.text(ix, cy++, "This run cannot be read:", STYLE.red | STYLE.bold, iw);
    for (const line of wrapText(run.error ?? "", iw)) {
      if (cy < bottom - 2) buf.text(ix, cy++, line, STYLE.red, iw);
    }
    buf.text(ix, cy + 1, "The other runs are fine; fix or remove its files.", STYLE.dim, iw);
    return;
  }
  const pct = `${fixed(100 * v.progress, 1)} %`;
  const label = `epoch ${epochOf(v)} · step ${commas(v.step)}/${commas(v.total_steps)} `;
  buf.text(ix, cy, label, 0, iw);
  const barW = iw - displayWidth(label) - pct.length - 1;
  if (barW >= 4) {
    buf.text(ix + displayWidth(label), cy, progressBar(barW, v.progress), STYLE.green);
    buf.text(ix + iw - pct.length, cy, pct, STYLE.bold);
  }
  cy++;
  const times = `elapsed ${humanDuration(v.elapsed_s)}` +
    (v.eta !== null && v.remaining_s !== null
      ? ` · ETA ${localTime(v.eta, s.now, s.tz)} (${humanDuration(v.remaining_s)} left)`
      : v.reason
      ? ` · ${v.reason}`
      : "");
  buf.text(ix, cy++, times, STYLE.dim, iw);
  const facts = [
    `loss ${loss(v.loss)} · val ${loss(v.val_loss)}`,
    ...(v.tokens_per_s !== null ? [`${commas(v.tokens_per_s)} tok/s`] : []),
    deviceName(v, true),
    v.precision,
  ];
  buf.text(ix, cy++, partsLine(facts, iw), 0, iw);
  const m = s.metrics;
  const left = bottom - cy;
  // the GPU map and the log keep a few rows; the chart takes the rest (at least 5)
  const gpus = m ? [...m.gpus.values()] : [];
  const map = gpus.length ? gpuMap(gpus, iw, Math.max(1, Math.floor(left / 6)), v.alive) : null;
  const gpuRows = map ? Math.ceil(map.cells.length / map.cols) : v.gpu === null ? 1 : 0;
  const logRows = Math.max(2, Math.floor((left - gpuRows - 2) / 4));
  const chartRows = Math.max(0, left - gpuRows - logRows - 2 - (gpuRows ? 1 : 0));
  if (m && chartRows >= 4 && m.loss.values.length === 0) {
    const waiting = v.status === "running" || v.status === "queued";
    const why = waiting
      ? "waiting for the first steps …"
      : `no steps logged: the run ended ${v.status}${v.reason ? ` (${v.reason})` : ""}`;
    wrapText(why, iw).slice(0, chartRows - 1).forEach((l, i) =>
      buf.text(ix, cy + 1 + i, l, waiting ? STYLE.dim : STYLE.red, iw)
    );
    cy += chartRows;
  } else if (m && chartRows >= 4) {
    const steps = m.loss.steps;
    // each evaluation at the logged step nearest to it (the loss series thins out as it grows)
    const val = steps.map(() => NaN);
    if (steps.length) { for (const e of m.val) val[nearest(steps, e.step)] = e.loss; }
    const hasVal = val.some(Number.isFinite);
    lineChart(buf, ix, cy, iw, chartRows, [
      { values: m.loss.values, style: STYLE.cyan },
      ...(hasVal ? [{ values: val, style: STYLE.yellow | STYLE.bold, marker: "◆" }] : []),
    ], {
      ...(chartRows >= 7 ? { yLabel: `loss: train ─${hasVal ? ", val ◆" : ""}` } : {}),
      xLabel: "step",
      ...(steps.length ? { xRange: [steps[0]!, steps[steps.length - 1]!] as const } : {}),
    });
    cy += chartRows;
  }
  if (m && m.lr.values.length > 0) {
    const sw = iw - 14;
    buf.text(ix, cy, "lr        ", STYLE.dim);
    buf.text(ix + 10, cy++, sparkline(m.lr.values, sw), STYLE.magenta, sw);
    buf.text(ix, cy, "tokens/s  ", STYLE.dim);
    buf.text(ix + 10, cy++, sparkline(m.tokensPerSecond.values, sw), STYLE.green, sw);
  }
  if (map) {
    cy += heatmap(buf, ix, cy, map.cells, map.cols, map.cellWidth);
  } else if (gpuRows) {
    buf.text(
      ix,
      cy++,
      v.device.kind === "cpu" ? "GPU telemetry: n/a (CPU run)" : "GPU telemetry: none yet",
      STYLE.dim,
      iw,
    );
  }
  cy++;
  const rows = bottom - cy;
  const end = Math.max(0, s.log.length - s.logScroll);
  const lines = s.log.slice(Math.max(0, end - rows), end);
  lines.forEach((l, i) => buf.text(ix, cy + i, l, STYLE.dim, iw));
}

function generated(buf: ScreenBuffer, s: MonitorState, x: number, y: number, w: number, h: number) {
  const o = s.output!;
  buf.text(x, y, `Generated text${o.running ? " (streaming…)" : ""}  ·  Esc closes`, STYLE.bold, w);
  // paragraphs word-wrapped to the panel
  const lines = o.text.split(/\n+/).flatMap((p) => {
    const wrapped = wrapText(p, w);
    return wrapped.length ? wrapped : [""];
  });
  const room = h - (o.stats ? 3 : 2);
  lines.slice(-room).forEach((l, i) => buf.text(x, y + 2 + i, l, 0, w));
  if (o.stats) buf.text(x, y + h - 1, o.stats, STYLE.dim, w);
}

function overlayBox(
  buf: ScreenBuffer,
  w: number,
  h: number,
  title: string,
): { x: number; y: number; w: number; h: number } {
  const bw = Math.min(buf.width - 2, w), bh = Math.min(buf.height - 2, h);
  const x = Math.floor((buf.width - bw) / 2), y = Math.max(1, Math.floor((buf.height - bh) / 2));
  buf.fill(x, y, bw, bh, " ");
  buf.box(x, y, bw, bh, title, STYLE.bold);
  return { x, y, w: bw, h: bh };
}

function formView(buf: ScreenBuffer, f: Form) {
  const labelW = Math.max(...f.fields.map((x) => x.label.length), 10);
  // wide enough for the longest value with its error, the longest summary line and the form's
  // error (≥ 72, ≤ 110 and the screen); a form error longer than that wraps
  const wanted = Math.max(
    72,
    displayWidth(f.title) + 8,
    ...f.fields.map((x) =>
      labelW + 8 + displayWidth(x.value) + (x.error ? displayWidth(x.error) + 1 : 0)
    ),
    ...(f.stage === "confirm" ? f.summary.map((l) => displayWidth(l) + 4) : []),
    f.error ? displayWidth(f.error) + 4 : 0,
  );
  const bw = Math.min(wanted, 110, buf.width - 2);
  const errorLines = f.stage === "edit" && f.error ? wrapText(f.error, bw - 4) : [];
  // borders, the fields, a blank, the summary and a blank (at the confirmation), the hint or
  // the action (or the wrapped error), a blank
  const height = (f.stage === "confirm" ? f.summary.length + 1 : 0) + f.fields.length + 5 +
    Math.max(0, errorLines.length - 1);
  const b = overlayBox(buf, bw, height, f.title);
  let y = b.y + 1;
  const iw = b.w - 4;
  f.fields.forEach((field, i) => {
    const focus = i === f.focus && f.stage === "edit";
    buf.text(
      b.x + 2,
      y,
      (focus ? "▸ " : "  ") + field.label.padEnd(labelW),
      focus ? STYLE.bold : 0,
    );
    const value = field.choices ? `◂ ${field.value} ▸` : field.value + (focus ? "▏" : "");
    const vx = b.x + 5 + labelW;
    const used = buf.text(vx, y, value, focus ? STYLE.underline : 0, iw - labelW - 3);
    if (field.error) {
      buf.text(vx + used + 1, y, field.error, STYLE.red, b.x + b.w - 2 - (vx + used + 1));
    }
    y++;
  });
  y++;
  if (f.stage === "confirm") {
    for (const line of f.summary) buf.text(b.x + 2, y++, line, 0, iw);
    y++;
    const act = f.kind === "launch"
      ? "launch"
      : f.kind === "stop"
      ? "stop it"
      : f.kind === "generate"
      ? "generate"
      : "resume";
    buf.text(b.x + 2, y, `Enter ${act} · Esc back`, STYLE.bold, iw);
  } else if (errorLines.length) {
    errorLines.forEach((l, i) => buf.text(b.x + 2, y + i, l, STYLE.red, iw));
  } else {
    buf.text(b.x + 2, y, "↑↓ field · ←→ choice · Enter check · Esc cancel", STYLE.dim, iw);
  }
}

const HELP = [
  ["↑ ↓  j k", "select a run (in the detail panel: scroll the log)"],
  ["PgUp PgDn", "move ten runs"],
  ["Enter", "focus the selected run's details"],
  ["Tab", "switch between the run list and the details"],
  ["n", "launch a new run (a form, checked as you type)"],
  ["r", "resume the selected run from a checkpoint"],
  ["g", "generate text from the selected run's checkpoint"],
  ["s", "stop the selected run (it saves first)"],
  ["Esc", "close a form, the help or the generated text"],
  ["q  Ctrl-C", "quit (the runs go on)"],
];

export function renderMonitor(s: MonitorState): ScreenBuffer {
  const buf = new ScreenBuffer(s.width, s.height);
  const head = ` llm-sim monitor · ${s.runsDir} · ${
    localTime(new Date(s.now).toISOString(), s.now, s.tz)
  }`;
  buf.fill(0, 0, s.width, 1, " ", STYLE.reverse);
  buf.text(0, 0, head, STYLE.reverse | STYLE.bold, s.width);
  const bodyY = 1, bodyH = s.height - 2;
  if (s.width >= 140) {
    // side by side: the list gets room for more columns as the terminal widens
    const lw = Math.max(56, Math.min(104, Math.floor(s.width * 0.5)));
    runList(buf, s, 0, bodyY, lw, bodyH);
    detail(buf, s, lw, bodyY, s.width - lw, bodyH);
  } else {
    // borders, the header (or the empty state's two lines) and a row a run
    const lh = Math.min(Math.max(s.runs.length, 1) + 3, Math.max(5, Math.floor(bodyH * 0.3)));
    runList(buf, s, 0, bodyY, s.width, lh);
    detail(buf, s, 0, bodyY + lh, s.width, bodyH - lh);
  }
  const footer = s.message
    ? { text: ` ${s.message.text}`, style: s.message.error ? STYLE.red | STYLE.bold : STYLE.green }
    : { text: ` ${keyHints(s.width)}`, style: STYLE.dim };
  buf.text(0, s.height - 1, footer.text, footer.style, s.width);
  if (s.form) formView(buf, s.form);
  else if (s.help) {
    const b = overlayBox(buf, 70, HELP.length + 4, "Keys");
    HELP.forEach(([k, d], i) => {
      buf.text(b.x + 2, b.y + 1 + i, k!.padEnd(12), STYLE.bold);
      buf.text(b.x + 14, b.y + 1 + i, d!, 0, b.w - 16);
    });
    buf.text(b.x + 2, b.y + b.h - 2, "any key closes this", STYLE.dim, b.w - 4);
  }
  return buf;
}
