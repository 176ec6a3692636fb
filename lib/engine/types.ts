/** Types of the one hidden configuration and what the engine derives from it. */
import type { Architecture, DatasetSpec, GpuSpec, ModelPreset } from "../data.ts";

export type Precision = "bf16" | "fp16" | "fp8" | "fp32";
export const PRECISIONS: readonly Precision[] = ["bf16", "fp16", "fp8", "fp32"];

/**
 * How optimizer state, gradients and weights are split across data-parallel ranks:
 * ddp (replicated), zero1 (optimizer states: Megatron distributed optimizer, DeepSpeed stage 1),
 * zero2 (+ gradients), zero3 (+ weights: FSDP full shard, DeepSpeed stage 3).
 */
export type Sharding = "ddp" | "zero1" | "zero2" | "zero3";

/** selective: attention core recomputed / flash attention; full: every layer recomputed. */
export type Recompute = "selective" | "full";

/** Training code whose efficiency and defaults shape the run (a dialect formats its logs). */
export type Framework =
  | "megatron"
  | "torchtitan"
  | "deepspeed"
  | "hf"
  | "lightning"
  | "nanogpt"
  | "fsdp"
  /** ByteDance's MegaScale: Megatron plus overlapped communication and fused kernels (plan only). */
  | "megascale";

export interface Layout {
  tp: number;
  pp: number;
  dp: number;
  /** Expert parallel degree (MoE); 1 for dense models. Experts are split across EP ranks of DP. */
  ep: number;
  /** Virtual pipeline stages per rank (interleaved 1F1B); 1 without interleaving. */
  vpp: number;
  microBatch: number;
  sharding: Sharding;
  recompute: Recompute;
}

export type RunKind = "pretrain" | "finetune";

export interface LrSchedule {
  peak: number;
  min: number;
  warmupSteps: number;
  totalSteps: number;
  decay: "cosine" | "linear" | "wsd";
  /** WSD: steps of the final decay. */
  decaySteps: number;
  /**
   * A run extended after it was planned (resume with more epochs): from this step the rate
   * decays on from where it stood to `min` over the new remaining steps, without a jump;
   * up to it, the schedule as it was (`before`, itself possibly extended) holds.
   */
  extendedAt?: { step: number; lr: number; before: LrSchedule };
}

export interface Optimizer {
  name: "AdamW";
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  clipGrad: number;
}

/** Names and places: the lived-in details, all chosen from the seed. */
export interface Site {
  cluster: string;
  hostPrefix: string;
  project: string;
  user: string;
  /** Directory checkpoints go to. */
  checkpointDir: string;
  /** Directory the final export goes to. */
  exportDir: string;
  masterPort: number;
  /** PID of local rank 0 on the first node. */
  pid: number;
  ncclVersion: string;
  torchVersion: string;
  pythonVersion: string;
}

/** Everything that decides a run. The user never sees this object; every number derives from it. */
export interface HiddenConfig {
  seed: number;
  kind: RunKind;
  framework: Framework;
  model: ModelPreset;
  /** Name shown to the user (the preset's, or a humorous one over the same architecture). */
  displayName: string;
  arch: Architecture;
  gpu: GpuSpec;
  gpus: number;
  nodes: number;
  gpusPerNode: number;
  layout: Layout;
  precision: Precision;
  seqLen: number;
  /** Sequences per optimizer step. */
  globalBatch: number;
  dataset: DatasetSpec;
  /** Sequences in one epoch of the data this run trains on. */
  samplesPerEpoch: number;
  epochs: number;
  /** Steps in the whole run (all epochs), as the lr schedule knows it. */
  totalSteps: number;
  /** First step this session runs (0 for a fresh run; k when resuming from checkpoint k). */
  startStep: number;
  /** Last step this session runs (a window onto a long run stops early). */
  endStep: number;
  lr: LrSchedule;
  optimizer: Optimizer;
  logInterval: number;
  evalInterval: number;
  evalIters: number;
  saveInterval: number;
  /** Early-stopping patience in evaluations (fine-tuning). */
  patience: number;
  /** Evaluate once more at the end when the last step was not an evaluation step (a trainer's own loop). */
  evalAtEnd?: boolean;
  site: Site;
}
