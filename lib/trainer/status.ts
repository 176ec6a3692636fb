/**
 * What `llm-sim status` and `llm-sim runs` say about runs on disk: lifecycle corrected for
 * dead processes, progress, losses, ETA, device and GPU telemetry, as text or JSON. Pure.
 */
import { commas, fixed, humanDuration } from "../render/format.ts";
import type { Lifecycle, RunMeta, RunState } from "./types.ts";

/** `status --json`: field names are stable (README documents them). */
export interface StatusView {
  id: string;
  status: Lifecycle;
  /** A process holds the run's lock right now. */
  alive: boolean;
  pid: number | null;
  reason: string | null;
  model: string;
  dataset: string;
  precision: string;
  device: { requested: string; selected: string; name: string; kind: string; count: number };
  epoch: number;
  epochs: number;
  step: number;
  total_steps: number;
  /** 0–1. */
  progress: number;
  loss: number | null;
  val_loss: number | null;
  val_step: number | null;
  lr: number | null;
  tokens_per_s: number | null;
  elapsed_s: number;
  /** ISO 8601 UTC, null when unknown or not running. */
  eta: string | null;
  remaining_s: number | null;
  last_checkpoint: number | null;
  checkpoints: number[];
  gpu: {
    util: number;
    mem_used_mib: number;
    mem_total_mib: number;
    power_w: number;
    temp_c: number;
  } | null;
  resumes: number;
  created_at: string;
  started_at: string | null;
  updated_at: string;
  ended_at: string | null;
  run_dir: string;
}

/** Seconds a queued run may wait for its process to take the lock before it counts as dead. */
export const QUEUED_GRACE_S = 30;

/**
 * The lifecycle as it really is: a run that says running (or has been queued for long) while
 * no process holds its lock died without saying so.
 */
export function effectiveState(state: RunState, alive: boolean, nowMs: number): RunState {
  if (alive) return state;
  const queuedFor = (nowMs - Date.parse(state.queuedAt)) / 1000;
  if (state.status === "running" || (state.status === "queued" && queuedFor > QUEUED_GRACE_S)) {
    return {
      ...state,
      status: "failed",
      reason: state.status === "running" ? "process exited unexpectedly" : "process never started",
      pid: null,
      etaAt: null,
      remainingS: null,
    };
  }
  return state;
}

export function statusView(
  meta: RunMeta,
  state: RunState,
  alive: boolean,
  checkpoints: number[],
  runDir: string,
  nowMs: number,
): StatusView {
  const s = state;
  const running = s.status === "running" && alive;
  // the ETA stands as written; the time left runs down from the last update
  const remaining = running && s.etaAt !== null
    ? Math.max(0, (Date.parse(s.etaAt) - nowMs) / 1000)
    : s.status === "completed"
    ? 0
    : null;
  const d = meta.device;
  return {
    id: meta.id,
    status: s.status,
    alive,
    pid: alive ? s.pid : null,
    reason: s.reason,
    model: meta.config.model,
    dataset: meta.config.dataset,
    precision: String(meta.hidden["precision"] ?? meta.config.precision),
    device: {
      requested: d.requested,
      selected: d.torchDevice,
      name: d.name,
      kind: d.kind,
      count: d.count,
    },
    epoch: s.epoch,
    epochs: s.epochs,
    step: s.step,
    total_steps: s.totalSteps,
    progress: s.totalSteps > 0 ? Math.min(1, s.step / s.totalSteps) : 0,
    loss: s.loss,
    val_loss: s.valLoss,
    val_step: s.valStep,
    lr: s.lr,
    tokens_per_s: s.tokensPerSecond,
    elapsed_s: running && s.startedAt !== null
      ? s.elapsedS + Math.max(0, (nowMs - Date.parse(s.updatedAt)) / 1000)
      : s.elapsedS,
    eta: running ? s.etaAt : null,
    remaining_s: remaining,
    last_checkpoint: s.lastCheckpoint,
    checkpoints,
    gpu: s.gpu
      ? {
        util: s.gpu.util,
        mem_used_mib: s.gpu.memUsedMiB,
        mem_total_mib: s.gpu.memTotalMiB,
        power_w: s.gpu.powerW,
        temp_c: s.gpu.tempC,
      }
      : null,
    resumes: s.resumes,
    created_at: meta.createdAt,
    started_at: s.startedAt,
    updated_at: s.updatedAt,
    ended_at: s.endedAt,
    run_dir: runDir,
  };
}

/**
 * The checkpoint "latest" means: the one the run last saved (after resuming from an earlier
 * step, newer saves of the abandoned continuation stay on disk but are not the run's), else the
 * newest on disk; null when none is saved.
 */
export function latestCheckpointOf(last: number | null, saved: readonly number[]): number | null {
  if (last !== null && saved.includes(last)) return last;
  return saved.at(-1) ?? null;
}

/**
 * The device as status names it (cuda:0 NVIDIA A30, cuda:0 ×64 NVIDIA H100 80GB HBM3) or, short,
 * as the run tables do (1× A30, 64× H100 80GB HBM3; cpu).
 */
export function deviceName(v: StatusView, short = false): string {
  const d = v.device;
  if (short) return d.kind === "cpu" ? "cpu" : `${d.count}× ${d.name.replace("NVIDIA ", "")}`;
  return `${d.selected}${d.count > 1 ? ` ×${d.count}` : ""} ${d.name}`;
}

/**
 * Epoch reached of those planned ("1.25/3"): planned ones whole, or to two decimals after a
 * resume from mid-epoch ("1.25/2.17").
 */
export function epochOf(v: { epoch: number; epochs: number }): string {
  return `${fixed(v.epoch, 2)}/${Number.isInteger(v.epochs) ? v.epochs : fixed(v.epochs, 2)}`;
}

function loss(x: number | null): string {
  return x === null ? "–" : fixed(x, 4);
}

/** Local time of an ISO instant, `HH:MM:SS` (and the date when it is not today). */
export function localTime(iso: string, nowMs: number, tz: number): string {
  const at = new Date(Date.parse(iso) + tz * 60_000);
  const today = new Date(nowMs + tz * 60_000);
  const hms = at.toISOString().slice(11, 19);
  return at.toISOString().slice(0, 10) === today.toISOString().slice(0, 10)
    ? hms
    : `${at.toISOString().slice(0, 10)} ${hms}`;
}

export function statusText(v: StatusView, nowMs: number, tz: number): string {
  const gib = (mib: number) => fixed(mib / 1024, 1);
  const state = v.status === "running"
    ? `running (pid ${v.pid})`
    : v.reason
    ? `${v.status} (${v.reason})`
    : v.status;
  const rows: [string, string][] = [
    ["run", v.id],
    ["status", state],
    ["model", `${v.model} · ${v.dataset} · ${v.precision}`],
    [
      "device",
      deviceName(v) +
      (v.device.requested === v.device.selected ? "" : ` (requested: ${v.device.requested})`),
    ],
    [
      "progress",
      `epoch ${epochOf(v)} · step ${commas(v.step)}/${commas(v.total_steps)} (${
        fixed(100 * v.progress, 1)
      } %)`,
    ],
    [
      "loss",
      `${loss(v.loss)} · val ${loss(v.val_loss)}${
        v.val_step !== null ? ` (step ${commas(v.val_step)})` : ""
      }`,
    ],
    [
      "time",
      `elapsed ${humanDuration(v.elapsed_s)}` +
      (v.eta !== null && v.remaining_s !== null
        ? ` · ETA ${localTime(v.eta, nowMs, tz)} (${humanDuration(v.remaining_s)} left)`
        : ""),
    ],
    [
      "gpu",
      v.gpu === null
        ? "n/a"
        : `util ${v.gpu.util} % · mem ${gib(v.gpu.mem_used_mib)}/${
          gib(v.gpu.mem_total_mib)
        } GiB · ${commas(v.gpu.power_w)} W · ${v.gpu.temp_c} °C`,
    ],
    [
      "checkpoint",
      v.last_checkpoint === null
        ? "none yet"
        : `step-${v.last_checkpoint} (${v.checkpoints.length} saved) · ${v.run_dir}/checkpoints`,
    ],
  ];
  return rows.map(([k, val]) => `${k.padEnd(10)} ${val}`).join("\n") + "\n";
}

/** `llm-sim runs`: one line a run, newest first; a broken run says what is broken. */
export function runsTable(
  rows: { id: string; view: StatusView | null; error: string | null }[],
  nowMs: number,
  tz: number,
): string {
  if (rows.length === 0) return "";
  const cells = rows.map(({ id, view: v, error }) =>
    v === null ? [id, "broken", error ?? "", "", "", "", ""] : [
      id,
      v.status,
      v.model,
      epochOf(v),
      loss(v.loss),
      v.device.kind === "cpu" ? "cpu" : deviceName(v),
      v.eta !== null ? localTime(v.eta, nowMs, tz) : v.status === "completed" ? "done" : "–",
    ]
  );
  const head = ["RUN", "STATUS", "MODEL", "EPOCH", "LOSS", "DEVICE", "ETA"];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(head), ...cells.map(line)].join("\n") + "\n";
}
