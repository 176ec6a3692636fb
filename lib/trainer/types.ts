/**
 * The trainer workflow's shapes: a run's configuration (llm-sim.toml and flags), its device,
 * and the files a run keeps under runs/<id>/ (meta.json, state.json, checkpoint manifests).
 */
import type { RunState as SimState } from "../engine/run.ts";
import type { LrSchedule, Precision } from "../engine/types.ts";

/** A run's lifecycle, as state.json records it. */
export type Lifecycle = "queued" | "running" | "completed" | "failed" | "stopped";

export const LIFECYCLES: readonly Lifecycle[] = [
  "queued",
  "running",
  "completed",
  "failed",
  "stopped",
];

/** Everything `llm-sim train` is told (llm-sim.toml, then flags over it); all keys present. */
export interface TrainConfig {
  /** [model] preset: a catalog id, alias or display name (`llm-sim --list models`). */
  model: string;
  /** [data] dataset: a catalog id (`llm-sim --list datasets`). */
  dataset: string;
  /** [data] seq_len: tokens per sample. */
  seqLen: number;
  /** [data] batch_size: samples per device per micro-step. */
  batchSize: number;
  /** [data] grad_accum: micro-steps per optimizer step. */
  gradAccum: number;
  /** [data] workers: DataLoader worker processes. */
  workers: number;
  /** [train] epochs. */
  epochs: number;
  /** [train] lr: peak learning rate. */
  lr: number;
  /** [train] min_lr: floor of the decay. */
  minLr: number;
  /** [train] warmup_steps. */
  warmupSteps: number;
  /** [train] schedule. */
  schedule: LrSchedule["decay"];
  /** [train] precision; "auto" picks bf16 where the device has it, else fp16 (GPU) or fp32. */
  precision: Precision | "auto";
  /** [train] seed. */
  seed: number;
  /** [train] eval_every: steps between evaluations; 0 = at the end of each epoch. */
  evalEvery: number;
  /** [train] save_every: steps between checkpoints; 0 = at the end of each epoch. */
  saveEvery: number;
  /** [device] device: auto | cpu | cuda | cuda:N | a GPU name (A30, H100 …). */
  device: string;
  /** [device] gpus: how many devices of that kind the run uses. */
  gpus: number;
  /** [device] strict: fail instead of falling back when the device is not available. */
  strictDevice: boolean;
}

/** The device a run trains on, after `auto`, fallbacks and closest matches. */
export interface ResolvedDevice {
  /** What was asked for, verbatim ("auto", "cuda:1", "A30", "A31"). */
  requested: string;
  kind: "cuda" | "cpu";
  /** torch's name for the first device used: "cuda:0", "cuda:1", "cpu". */
  torchDevice: string;
  /** Catalog id of the GPU ("a30"), or "cpu". */
  id: string;
  /** What torch.cuda.get_device_name() would say ("NVIDIA A30"), or the CPU's model name. */
  name: string;
  /** Devices the run uses. */
  count: number;
  /** Devices the simulated machine has of this kind. */
  available: number;
  /** One line each, printed at start-up and kept in meta.json (fallbacks, closest matches). */
  warnings: string[];
}

/** runs/<id>/meta.json: written once when the run is created. */
export interface RunMeta {
  schema: 1;
  id: string;
  /** llm-sim version that created the run. */
  version: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  seed: number;
  config: TrainConfig;
  device: ResolvedDevice;
  /** The precision the run trains in (config.precision may say "auto"). */
  precision: Precision;
  /** The engine's hidden configuration, as the JSONL run_start event's `config` holds it. */
  hidden: Record<string, unknown>;
  /** The command line that created the run. */
  argv: string[];
}

/** Latest GPU telemetry of a run (null on CPU: n/a). */
export interface GpuSnapshot {
  /** Mean GPU-Util over the run's GPUs, %. */
  util: number;
  /** Mean memory in use per GPU, MiB. */
  memUsedMiB: number;
  memTotalMiB: number;
  /** Summed over the run's GPUs, W. */
  powerW: number;
  /** Hottest GPU, °C. */
  tempC: number;
}

/** runs/<id>/state.json: rewritten (atomically) as the run progresses. */
export interface RunState {
  schema: 1;
  id: string;
  /** "running" is only true while a process holds the run's lock (see RunStore.alive). */
  status: Lifecycle;
  /** Process driving the run (null before it starts and after it ends). */
  pid: number | null;
  /** Why the run failed or stopped. */
  reason: string | null;
  /** ISO 8601 UTC: created, this process's start, last write, end. */
  queuedAt: string;
  startedAt: string | null;
  updatedAt: string;
  endedAt: string | null;
  step: number;
  totalSteps: number;
  /** Fractional epoch (samples seen / samples per epoch). */
  epoch: number;
  epochs: number;
  samples: number;
  tokens: number;
  loss: number | null;
  valLoss: number | null;
  valStep: number | null;
  lr: number | null;
  tokensPerSecond: number | null;
  /** Wall seconds of training across all processes of the run. */
  elapsedS: number;
  /** ISO 8601 UTC when the run should end, and the wall seconds left. */
  etaAt: string | null;
  remainingS: number | null;
  /** Step of the newest checkpoint. */
  lastCheckpoint: number | null;
  /** Times the run was resumed. */
  resumes: number;
  gpu: GpuSnapshot | null;
}

/** runs/<id>/checkpoints/step-<n>/manifest.json: what resume needs, and the real sizes. */
export interface CheckpointManifest {
  schema: 1;
  step: number;
  epoch: number;
  samples: number;
  tokens: number;
  /** ISO 8601 UTC. */
  savedAt: string;
  /** Steps the run was planned for when this was saved, and the LR schedule in effect. */
  totalSteps: number;
  lr: LrSchedule;
  /** The engine's state: step, RNG streams, loss-scale, telemetry, spike … */
  sim: SimState;
  loss: number | null;
  valLoss: number | null;
  /** Step of that validation loss (absent in manifests written before it was recorded). */
  valStep?: number | null;
  /** The files a real checkpoint of this size would hold. */
  files: { name: string; bytes: number }[];
  bytes: number;
}
