/**
 * Keeps a training run on disk while it plays: state.json (progress, losses, ETA, GPU
 * telemetry) at most once a second of wall time and at every lifecycle change, evaluation and
 * checkpoint; a manifest per checkpoint with everything resume needs. Pure: the files are a
 * port the shell implements atomically.
 */
import type { CheckpointRecord, EvalRecord, StepRecord } from "../engine/run.ts";
import type { Recorder, RunContext } from "../phases/context.ts";
import type { CheckpointManifest, GpuSnapshot, RunState } from "./types.ts";

export interface RunFiles {
  writeState(state: RunState): void;
  writeCheckpoint(manifest: CheckpointManifest): void;
  /** Someone ran `llm-sim stop` (or the process got SIGINT/SIGTERM). */
  stopRequested(): boolean;
  /** Real time, epoch ms (ETA and elapsed are wall-clock figures). */
  wallNow(): number;
}

/** Wall ms between state.json writes while steps go by, and between stop-file checks. */
const WRITE_EVERY_MS = 1000;
const POLL_EVERY_MS = 200;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The files a checkpoint of this trainer holds, sized by the engine. */
export function checkpointFiles(rec: CheckpointRecord): { name: string; bytes: number }[] {
  const s = rec.size;
  return [
    { name: "model.safetensors", bytes: s.modelBytes },
    { name: "optimizer.pt", bytes: s.optimizerBytes },
    { name: "scheduler.pt", bytes: 1_465 },
    { name: "rng_state.pth", bytes: s.extraBytes - 1_465 },
  ];
}

/** Mean utilization and memory, hottest GPU, total power over the run's GPUs (null on CPU). */
export function gpuSnapshot(ctx: RunContext): GpuSnapshot | null {
  const c = ctx.cfg;
  if (c.gpu.vendor !== "nvidia") return null;
  let util = 0, mem = 0, power = 0, temp = -Infinity, total = 0;
  const now = ctx.clock.now();
  for (let g = 0; g < c.gpus; g++) {
    const x = ctx.sim.telemetry.sample(g, now);
    util += x.util;
    mem += x.memUsedMiB;
    power += x.powerW;
    temp = Math.max(temp, x.tempC);
    total = x.memTotalMiB;
  }
  return {
    util: Math.round(util / c.gpus),
    memUsedMiB: Math.round(mem / c.gpus),
    memTotalMiB: total,
    powerW: power,
    tempC: temp,
  };
}

export class RunRecorder implements Recorder {
  readonly #files: RunFiles;
  readonly #s: RunState;
  readonly #pid: number;
  #lastWrite = -Infinity;
  #lastPoll = -Infinity;
  #stop = false;
  /** Wall time and step when this process started training, and the elapsed before it. */
  #wallStart = 0;
  #elapsedBefore = 0;
  /** The wall time and step of this process's first step: the pace is measured from there. */
  #pace: { t: number; step: number } | null = null;

  /** `state` is the run's state.json as it stands (queued, or a previous process's). */
  constructor(files: RunFiles, state: RunState, pid: number) {
    this.#files = files;
    this.#s = { ...state };
    this.#pid = pid;
  }

  get state(): RunState {
    return { ...this.#s };
  }

  #write(): void {
    const now = this.#files.wallNow();
    this.#lastWrite = now;
    this.#s.updatedAt = iso(now);
    this.#files.writeState({ ...this.#s });
  }

  start(ctx: RunContext): void {
    const c = ctx.cfg;
    const now = this.#files.wallNow();
    this.#wallStart = now;
    this.#elapsedBefore = this.#s.elapsedS;
    Object.assign(
      this.#s,
      {
        status: "running",
        pid: this.#pid,
        reason: null,
        startedAt: iso(now),
        endedAt: null,
        step: c.startStep,
        totalSteps: c.endStep,
        // exact: a resume from mid-epoch for N more epochs ends mid-epoch too
        epochs: c.endStep / (c.samplesPerEpoch / c.globalBatch),
        epoch: (c.startStep * c.globalBatch) / c.samplesPerEpoch,
        samples: c.startStep * c.globalBatch,
        tokens: c.startStep * c.globalBatch * c.seqLen,
        etaAt: null,
        remainingS: null,
      } satisfies Partial<RunState>,
    );
    this.#write();
  }

  step(ctx: RunContext, r: StepRecord): void {
    const s = this.#s;
    s.step = r.step;
    s.epoch = r.epochFloat;
    s.samples = r.samples;
    s.tokens = r.tokens;
    s.loss = r.loss;
    s.lr = r.lr;
    s.tokensPerSecond = r.tokensPerSecond;
    const now = this.#files.wallNow();
    this.#pace ??= { t: now, step: r.step };
    if (now - this.#lastWrite < WRITE_EVERY_MS) return;
    this.#progress(ctx, now);
    this.#write();
  }

  /**
   * Elapsed, ETA from this process's pace so far, GPU telemetry. The pace starts after the
   * first step (start-up and the first step's warm-up would make the early ETA hours too long)
   * and takes in evaluations and saves as they come.
   */
  #progress(ctx: RunContext, now: number): void {
    const s = this.#s;
    s.elapsedS = this.#elapsedBefore + (now - this.#wallStart) / 1000;
    const wall = this.#pace ? (now - this.#pace.t) / 1000 : 0;
    const done = this.#pace ? s.step - this.#pace.step : 0;
    if (done > 0 && wall > 0) {
      const remaining = ((s.totalSteps - s.step) * wall) / done;
      s.remainingS = remaining;
      s.etaAt = iso(now + remaining * 1000);
    }
    s.gpu = gpuSnapshot(ctx);
  }

  eval(ctx: RunContext, e: EvalRecord): void {
    this.#s.valLoss = e.loss;
    this.#s.valStep = e.step;
    this.#progress(ctx, this.#files.wallNow());
    this.#write();
  }

  checkpoint(ctx: RunContext, _dir: string, rec: CheckpointRecord): void {
    const c = ctx.cfg;
    const files = checkpointFiles(rec);
    this.#files.writeCheckpoint({
      schema: 1,
      step: rec.step,
      epoch: (rec.step * c.globalBatch) / c.samplesPerEpoch,
      samples: rec.step * c.globalBatch,
      tokens: rec.step * c.globalBatch * c.seqLen,
      savedAt: iso(this.#files.wallNow()),
      totalSteps: c.totalSteps,
      lr: c.lr,
      sim: ctx.sim.state(),
      loss: this.#s.loss,
      valLoss: this.#s.valLoss,
      valStep: this.#s.valStep,
      files,
      bytes: files.reduce((a, f) => a + f.bytes, 0),
    });
    this.#s.lastCheckpoint = rec.step;
    this.#progress(ctx, this.#files.wallNow());
    this.#write();
  }

  /** Ask the run to stop from inside (SIGINT/SIGTERM in the trainer's process). */
  requestStop(): void {
    this.#stop = true;
  }

  stopRequested(): boolean {
    if (this.#stop) return true;
    const now = this.#files.wallNow();
    if (now - this.#lastPoll < POLL_EVERY_MS) return false;
    this.#lastPoll = now;
    this.#stop = this.#files.stopRequested();
    return this.#stop;
  }

  end(ctx: RunContext): void {
    const o = ctx.totals.outcome;
    const s = this.#s;
    this.#progress(ctx, this.#files.wallNow());
    s.status = o === "completed" || o === "early-stopped"
      ? "completed"
      : o === "stopped"
      ? "stopped"
      : "failed";
    s.reason = o === "oom"
      ? "CUDA out of memory"
      : o === "failed"
      ? "NCCL timeout; no restarts left"
      : o === "stopped"
      ? "stopped on request"
      : null;
    if (s.status === "completed") {
      s.remainingS = 0;
      s.etaAt = null;
    }
    s.pid = null;
    s.endedAt = iso(this.#files.wallNow());
    this.#write();
  }

  /** The process is going down without finishing (a second Ctrl-C, a crash): say so. */
  abort(reason: string, status: "failed" | "stopped"): void {
    Object.assign(this.#s, { status, reason, pid: null, endedAt: iso(this.#files.wallNow()) });
    this.#write();
  }
}
