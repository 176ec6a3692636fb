/**
 * The hidden configuration of an `llm-sim train` run. Unlike the show, nothing is drawn: the
 * user's model, data, device, batch and schedule are taken as given, and the engine works out
 * the rest (layout on one machine, memory, step time including the data loader, intervals).
 * Only the lived-in names (Python and torch versions, the hostname) come from the seed.
 */
import type { DatasetSpec, GpuSpec, ModelPreset } from "../data.ts";
import { Rng } from "../core/rng.ts";
import { evaluateLayout } from "./layout.ts";
import type { Candidate } from "./layout.ts";
import type { Throughput } from "./perf.ts";
import { pickSite, type Scenario, slug } from "./scenario.ts";
import type { HiddenConfig, Layout, LrSchedule, Precision } from "./types.ts";

export interface TrainSpec {
  seed: number;
  model: ModelPreset;
  displayName?: string;
  dataset: DatasetSpec;
  gpu: GpuSpec;
  gpus: number;
  precision: Precision;
  seqLen: number;
  /** Samples per device per micro-step. */
  microBatch: number;
  gradAccum: number;
  /** DataLoader worker processes (0: the training process loads batches itself). */
  workers: number;
  epochs: number;
  lr: Pick<LrSchedule, "peak" | "min" | "warmupSteps" | "decay">;
  /** Steps between evaluations and checkpoints; 0 = at the end of each epoch. */
  evalEvery: number;
  saveEvery: number;
  /** Where checkpoints go (runs/<id>/checkpoints), the user and the process id. */
  checkpointDir: string;
  user: string;
  pid: number;
}

/** Tokens a second one DataLoader worker collates, pins and hands over (pre-tokenized data). */
export const WORKER_TOKENS_PER_S = 6e5;
/** The same work done in the training process itself (workers = 0), blocking the step. */
export const INLINE_TOKENS_PER_S = 2.5e6;

/**
 * Step time once the input pipeline is accounted for: every rank loads its share of the batch
 * with its own DataLoader. With no workers, loading blocks every step; with workers it overlaps
 * compute, and only a pipeline slower than the GPU stalls it (the GPU then idles, which
 * nvidia-smi shows as lower utilization).
 */
export function withDataLoader(perf: Throughput, workers: number, ranks: number): Throughput {
  const tokens = perf.tokensPerStep / ranks;
  const stall = workers === 0
    ? tokens / INLINE_TOKENS_PER_S
    : Math.max(0, tokens / (workers * WORKER_TOKENS_PER_S) - perf.stepSeconds);
  if (stall === 0) return perf;
  const stepSeconds = perf.stepSeconds + stall;
  const slow = perf.stepSeconds / stepSeconds;
  return {
    ...perf,
    stepSeconds,
    tokensPerSecond: perf.tokensPerSecond * slow,
    tokensPerSecondPerGpu: perf.tokensPerSecondPerGpu * slow,
    tflopsPerGpu: perf.tflopsPerGpu * slow,
    mfu: perf.mfu * slow,
    hfu: perf.hfu * slow,
  };
}

/** Why the data cannot feed one step, or the number of sequences in an epoch. */
export function samplesPerEpoch(
  dataset: DatasetSpec,
  seqLen: number,
  globalBatch: number,
): number | string {
  const sequences = Math.floor(dataset.tokens / seqLen);
  const usable = sequences - (sequences % globalBatch);
  if (usable > 0) return usable;
  return `${dataset.id} holds ${
    sequences.toLocaleString("en-US")
  } sequences of ${seqLen} tokens; ` +
    `one step needs ${globalBatch.toLocaleString("en-US")}`;
}

export function buildTrainScenario(spec: TrainSpec): Scenario | { reason: string } {
  const rng = new Rng(spec.seed).fork("train-scenario");
  const { model, gpu, gpus, precision, seqLen } = spec;
  const globalBatch = spec.microBatch * spec.gradAccum * gpus;
  const perEpoch = samplesPerEpoch(spec.dataset, seqLen, globalBatch);
  if (typeof perEpoch === "string") return { reason: perEpoch };
  const stepsPerEpoch = perEpoch / globalBatch;
  const totalSteps = stepsPerEpoch * spec.epochs;
  const layout: Layout = {
    tp: 1,
    pp: 1,
    dp: gpus,
    ep: 1,
    vpp: 1,
    microBatch: spec.microBatch,
    sharding: "ddp",
    recompute: "selective",
  };
  const evaluated = evaluateLayout(
    { arch: model.arch, gpu, gpus, precision, framework: "fsdp", seqLen, globalBatch },
    layout,
  );
  const candidate: Candidate = {
    ...evaluated,
    perf: withDataLoader(evaluated.perf, spec.workers, gpus),
  };
  const stepSeconds = candidate.perf.stepSeconds;
  const logChoices = [1, 2, 5, 10, 20, 25, 50, 100];
  let logInterval = 1;
  for (const c of logChoices) if (c * stepSeconds <= 2.5 && c <= stepsPerEpoch) logInterval = c;
  const displayName = spec.displayName ?? model.name;
  const site = pickSite(rng, gpu, "pretrain", slug(displayName));
  const config: HiddenConfig = {
    seed: spec.seed >>> 0,
    kind: "pretrain",
    framework: "fsdp",
    model,
    displayName,
    arch: model.arch,
    gpu,
    gpus,
    nodes: Math.ceil(gpus / gpu.gpusPerNode),
    gpusPerNode: Math.min(gpus, gpu.gpusPerNode),
    layout,
    precision,
    seqLen,
    globalBatch,
    dataset: spec.dataset,
    samplesPerEpoch: perEpoch,
    epochs: spec.epochs,
    totalSteps,
    startStep: 0,
    endStep: totalSteps,
    lr: {
      ...spec.lr,
      // a warm-up longer than the run just never reaches the peak, as in any trainer
      warmupSteps: Math.min(spec.lr.warmupSteps, totalSteps),
      totalSteps,
      decaySteps: spec.lr.decay === "wsd" ? Math.max(1, Math.round(totalSteps * 0.2)) : 0,
    },
    optimizer: { name: "AdamW", beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clipGrad: 1 },
    logInterval,
    evalInterval: spec.evalEvery > 0 ? spec.evalEvery : stepsPerEpoch,
    evalIters: Math.max(1, Math.min(50, Math.round(stepsPerEpoch / 10))),
    saveInterval: spec.saveEvery > 0 ? spec.saveEvery : stepsPerEpoch,
    patience: 0,
    evalAtEnd: true,
    site: {
      ...site,
      cluster: "local",
      user: spec.user,
      checkpointDir: spec.checkpointDir,
      exportDir: spec.checkpointDir,
      pid: spec.pid,
    },
  };
  return { config, candidate, fits: candidate.memory.fits };
}
