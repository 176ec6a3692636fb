/**
 * Memory per GPU (REALISM 2.5): weights, gradients and optimizer states by sharding mode,
 * activations (Korthikanti et al. 2022 as Megatron's estimator uses them), logits, workspace,
 * allocator slack and the CUDA context nvidia-smi adds.
 */
import type { Architecture, GpuSpec } from "../data.ts";
import { layerExpertParams, layerParams, outerNormParams, paramCount } from "./arch.ts";
import type { Framework, Layout, Precision } from "./types.ts";
import type { OutOfMemory } from "./events.ts";

export const GIB = 1024 ** 3;
export const MIB = 1024 ** 2;

/**
 * Activations a framework's "selective" checkpointing keeps, relative to Megatron's estimator:
 * torchtitan's per-op policy saves only some matmul outputs (calibrated on torchtitan's
 * Llama 3.1 8B table: 77.0 GiB reserved with compile, REALISM 2.4).
 */
const SELECTIVE_KEEP: Partial<Record<Framework, number>> = { torchtitan: 0.75 };

/** cuBLAS workspaces, NCCL buffers, kernels' scratch: allocated once per process. */
const WORKSPACE_BYTES = 1.2 * GIB;
/** Caching-allocator slack: reserved ÷ allocated in a steady training loop. */
const FRAGMENTATION = 1.07;
/** CUDA context + kernels, outside PyTorch's reserved pool (what nvidia-smi adds). */
export const CUDA_CONTEXT_BYTES = 540 * MIB;
/** PyTorch refuses to use the last sliver of the device. */
const USABLE_FRACTION = 0.985;

export interface StageMemory {
  /** Decoder layers of this pipeline stage. */
  layers: number;
  /** Parameters this GPU holds before data-parallel sharding. */
  params: number;
  weights: number;
  grads: number;
  optimizer: number;
  activations: number;
  /** Logits and loss buffers (last stage). */
  logits: number;
  workspace: number;
  allocated: number;
  reserved: number;
  /** What nvidia-smi shows in use. */
  smiUsed: number;
}

export interface MemoryEstimate {
  /** One entry per pipeline stage. */
  stages: StageMemory[];
  /** The stage that needs the most. */
  worst: StageMemory;
  /** Bytes PyTorch can use on this GPU. */
  capacity: number;
  fits: boolean;
}

export interface MemoryInput {
  arch: Architecture;
  gpu: GpuSpec;
  layout: Layout;
  precision: Precision;
  seqLen: number;
  /** Sequences per step per pipeline (gbs / dp): bounds the micro-batches in flight. */
  microBatchesPerStep: number;
  /** DeepSpeed keeps a 16-bit copy of ZeRO-3 weights besides the fp32 master; FSDP does not. */
  framework?: Framework;
}

/** Bytes per parameter of [weights, grads, optimizer] before dividing the sharded parts. */
function stateBytes(
  precision: Precision,
  sharding: Layout["sharding"],
  dp: number,
  framework: Framework | undefined,
) {
  const w = precision === "fp32" ? 4 : 2;
  const opt = precision === "fp32" ? 8 : 12; // fp32 Adam m, v (+ fp32 master copy when mixed)
  if (sharding === "zero3" && framework !== "deepspeed" && precision !== "fp32") {
    // FSDP mixed precision: the sharded fp32 parameter is the master copy (16 B/param)
    return { w: 4 / dp, g: 4 / dp, o: 8 / dp };
  }
  switch (sharding) {
    case "ddp":
      return { w, g: w, o: opt };
    case "zero1": // Megatron distributed optimizer: fp32 main grads stay whole
      return { w, g: 4, o: opt / dp };
    case "zero2":
      return { w, g: 4 / dp, o: opt / dp };
    case "zero3":
      return { w: w / dp, g: 4 / dp, o: opt / dp };
  }
}

/** Layers held by each pipeline stage (first stages take the remainder). */
export function stageLayers(layers: number, pp: number): number[] {
  const base = Math.floor(layers / pp);
  const extra = layers % pp;
  return Array.from({ length: pp }, (_, s) => base + (s < extra ? 1 : 0));
}

/**
 * Activation bytes of one layer for one micro-batch with selective recompute / flash attention:
 * s·b·h·(18 + 4·F/h) ÷ TP, Megatron's estimator (Korthikanti et al. 2022; 34·s·b·h when F = 4h).
 */
function layerActivationBytes(a: Architecture, s: number, b: number, tp: number, moe: boolean) {
  const ffn = moe && a.moe ? (a.moe.topK + a.moe.shared) * a.moe.expertFfn : a.ffn;
  return (s * b * a.hidden * (18 + (4 * ffn) / a.hidden)) / tp;
}

export function estimateMemory(input: MemoryInput): MemoryEstimate {
  const { arch: a, gpu, layout: l, precision, seqLen } = input;
  const per = layerParams(a);
  const experts = layerExpertParams(a);
  const count = paramCount(a);
  const finalNorm = outerNormParams(a);
  const layersPer = stageLayers(a.layers, l.pp);
  const bytes = stateBytes(precision, l.sharding, l.dp, input.framework);
  // Experts are split across EP ranks first; their states shard over the remaining DP ranks.
  const expertBytes = stateBytes(precision, l.sharding, Math.max(1, l.dp / l.ep), input.framework);
  const actScale = (precision === "fp32" ? 2 : 1) *
    (l.recompute === "selective" ? SELECTIVE_KEEP[input.framework ?? "megatron"] ?? 1 : 1);
  const inflight = Math.max(1, Math.min(l.pp, input.microBatchesPerStep / l.microBatch));
  const stages: StageMemory[] = [];
  let first = 0;
  for (let s = 0; s < l.pp; s++) {
    const n = layersPer[s] ?? 0;
    let dense = 0, expert = 0, moeLayers = 0;
    for (let i = first; i < first + n; i++) {
      dense += (per[i] ?? 0) - (experts[i] ?? 0);
      expert += experts[i] ?? 0;
      if ((experts[i] ?? 0) > 0) moeLayers++;
    }
    first += n;
    if (s === 0) dense += count.embedding + count.positional;
    if (s === l.pp - 1) {
      dense += finalNorm + count.head;
      if (l.pp > 1 && a.tiedEmbeddings) dense += count.embedding; // last stage keeps a copy
    }
    const denseHere = dense / l.tp;
    const expertHere = expert / (l.tp * l.ep);
    const params = denseHere + expertHere;
    const weights = denseHere * bytes.w + expertHere * expertBytes.w;
    const grads = denseHere * bytes.g + expertHere * expertBytes.g;
    const optimizer = denseHere * bytes.o + expertHere * expertBytes.o;
    const layerAct = (moe: boolean) =>
      layerActivationBytes(a, seqLen, l.microBatch, l.tp, moe) * actScale;
    let activations: number;
    const denseLayers = n - moeLayers;
    if (l.recompute === "full") {
      // only each layer's input is kept; one layer's full working set during its recompute
      const kept = (n * 2 * seqLen * l.microBatch * a.hidden) / l.tp * actScale;
      activations = kept * inflight + layerAct(moeLayers > 0);
    } else {
      activations = (denseLayers * layerAct(false) + moeLayers * layerAct(true)) * inflight;
    }
    // 16-bit logits and their gradient on the last stage (vocab-parallel under TP)
    const logits = s === l.pp - 1 ? (seqLen * l.microBatch * a.vocab * 4) / l.tp : 0;
    let workspace = WORKSPACE_BYTES;
    if (l.sharding === "zero3") {
      // FSDP all-gathers the current and the prefetched layer in 16-bit
      const biggest = Math.max(...per.slice(0, Math.max(1, n)));
      workspace += (2 * biggest * 2) / l.tp;
    }
    const allocated = weights + grads + optimizer + activations + logits + workspace;
    const reserved = allocated * FRAGMENTATION;
    stages.push({
      layers: n,
      params,
      weights,
      grads,
      optimizer,
      activations,
      logits,
      workspace,
      allocated,
      reserved,
      smiUsed: reserved + CUDA_CONTEXT_BYTES,
    });
  }
  let worst = stages[0] as StageMemory;
  for (const st of stages) if (st.reserved > worst.reserved) worst = st;
  const capacity = gpu.capacityGiB * GIB * USABLE_FRACTION;
  return { stages, worst, capacity, fits: worst.reserved <= capacity };
}

/**
 * Where a configuration that does not fit runs out of memory, as PyTorch reports it: the
 * allocations of the worst stage in the order a training step makes them (weights layer by
 * layer, workspace, activations layer by layer, logits, gradients, then the optimizer states
 * at the first step); the first one the caching allocator cannot reserve fails.
 */
export function outOfMemory(est: MemoryEstimate, totalGiB: number): OutOfMemory {
  const w = est.worst;
  const n = Math.max(1, w.layers);
  const chunks: number[] = [
    ...Array<number>(n).fill(w.weights / n),
    w.workspace,
    ...Array<number>(n).fill(w.activations / n),
    w.logits,
    ...Array<number>(n).fill(w.grads / n),
    ...Array<number>(n).fill(w.optimizer / n),
  ].filter((b) => b > 0);
  let allocated = 0;
  let failing = chunks[chunks.length - 1] ?? 0;
  let index = chunks.length - 1;
  for (let i = 0; i < chunks.length; i++) {
    const b = chunks[i] as number;
    if ((allocated + b) * FRAGMENTATION > est.capacity) {
      failing = b;
      index = i;
      break;
    }
    allocated += b;
  }
  const weightChunks = w.weights > 0 ? n : 0;
  const reserved = Math.min(allocated * FRAGMENTATION, est.capacity);
  const inUse = reserved + CUDA_CONTEXT_BYTES;
  return {
    phase: index < weightChunks ? "load" : "step",
    loaded: index < weightChunks ? index / weightChunks : 1,
    tryGiB: failing / GIB,
    totalGiB,
    freeGiB: Math.max(0, totalGiB - inUse / GIB),
    inUseGiB: inUse / GIB,
    allocatedGiB: allocated / GIB,
    reservedFreeGiB: (reserved - allocated) / GIB,
  };
}
