/**
 * Step time, throughput and MFU (REALISM 2.2–2.4). Compute time is FLOPs over an achieved rate;
 * the rate is the GPU's dense peak times efficiencies that each have a physical cause (GEMM
 * size, micro-batch size, tensor-parallel communication, pipeline bubble, recompute, the
 * training code). Exposed data-parallel communication and the optimizer step are added as time.
 * MFU is then *measured* from the step time, so step time × tokens/s = tokens/step by
 * construction.
 */
import type { Architecture, GpuSpec } from "../data.ts";
import { trainingFlopsPerToken } from "./arch.ts";
import { allReduceBusBandwidth } from "./cluster.ts";
import type { MemoryEstimate } from "./memory.ts";
import type { Framework, Layout, Precision } from "./types.ts";

/** Fraction of dense peak that large, well-shaped training GEMMs reach, by GPU generation. */
const ARCH_EFFICIENCY: Record<string, number> = {
  Hopper: 0.6,
  Blackwell: 0.56,
  Ampere: 0.64,
  "Ada Lovelace": 0.52,
  Volta: 0.56,
  // PyTorch on a CPU: oneDNN GEMMs reach well under half the FMA peak once attention,
  // norms and the optimizer's memory traffic are counted
  "Zen 3": 0.3,
};

/**
 * Efficiency of the training code relative to Megatron-LM with Transformer Engine (fused
 * kernels, overlapped communication). Calibrated against published runs in tests/plan_test.ts.
 */
export const FRAMEWORK_EFFICIENCY: Record<Framework, number> = {
  megatron: 1.0,
  deepspeed: 0.93,
  torchtitan: 0.85,
  nanogpt: 0.88,
  fsdp: 0.88,
  lightning: 0.86,
  hf: 0.82,
  // 1.34× Megatron-LM on the same 12,288-GPU job (Jiang et al. 2024)
  megascale: 1.34,
};

/**
 * fp8 runs this much faster than bf16 end to end: the GEMMs nearly double, the rest does not
 * (torchtitan Llama 3.1 8B: 8,532 vs 6,667 tokens/s/GPU with compile, REALISM 2.4).
 */
const FP8_SPEEDUP = 1.25;

export interface Throughput {
  flopsPerToken: number;
  tokensPerStep: number;
  flopsPerStep: number;
  /** Pipeline bubble as a fraction of useful compute, (p−1)/(v·m). */
  bubble: number;
  computeSeconds: number;
  commSeconds: number;
  exposedCommSeconds: number;
  optimizerSeconds: number;
  stepSeconds: number;
  tokensPerSecond: number;
  tokensPerSecondPerGpu: number;
  tflopsPerGpu: number;
  /** Model FLOPs utilization against the 16-bit dense peak, 0–1. */
  mfu: number;
  /** Hardware FLOPs utilization (recompute included), 0–1. */
  hfu: number;
}

export interface ThroughputInput {
  arch: Architecture;
  gpu: GpuSpec;
  gpus: number;
  layout: Layout;
  precision: Precision;
  framework: Framework;
  seqLen: number;
  globalBatch: number;
  memory: MemoryEstimate;
}

/** The 16-bit dense peak MFU is quoted against (fp16 on parts without bf16). */
export function mfuPeakTflops(gpu: GpuSpec): number {
  return gpu.peakTflops.bf16 ?? gpu.peakTflops.fp16;
}

/** Peak the math actually runs at for a precision. */
function computePeakTflops(gpu: GpuSpec, precision: Precision): number {
  switch (precision) {
    case "fp32":
      return gpu.peakTflops.tf32;
    case "fp16":
      return gpu.peakTflops.fp16;
    case "bf16":
      return gpu.peakTflops.bf16 ?? gpu.peakTflops.fp16;
    case "fp8":
      return mfuPeakTflops(gpu) * (gpu.peakTflops.fp8 ? FP8_SPEEDUP : 1);
  }
}

/** FLOP per byte at which an A100 (312 TFLOP/s bf16, 2.04 TB/s) turns compute-bound. */
const A100_RIDGE = 312 / 2.039;

function tensorParallelEfficiency(tp: number): number {
  return tp <= 1 ? 1 : 1 - 0.025 * Math.log2(tp);
}

/** Achieved math rate per GPU in FLOP/s. */
export function achievedFlops(input: ThroughputInput): number {
  const { arch, gpu, layout, precision, framework, seqLen } = input;
  const peak = computePeakTflops(gpu, precision) * 1e12;
  const base = ARCH_EFFICIENCY[gpu.arch] ?? 0.5;
  // Small hidden sizes: GEMMs are thin and norms/activations weigh more, and the more math a
  // GPU does per byte of memory traffic (its roofline ridge), the harder thin GEMMs are to fill.
  const ridge = (peak / 1e12) / (gpu.memBandwidthGBps / 1e3);
  const shape = 1 / (1 + (600 * Math.sqrt(Math.max(1, ridge / A100_RIDGE))) / arch.hidden);
  // Few tokens per micro-batch: kernel launch and wave quantization costs dominate.
  const micro = 1 / (1 + 256 / (seqLen * layout.microBatch));
  const moe = arch.moe ? 0.8 : 1; // all-to-all dispatch and uneven expert load
  return peak * base * shape * micro * moe * tensorParallelEfficiency(layout.tp) *
    FRAMEWORK_EFFICIENCY[framework] * (gpu.sustainedFraction ?? 1);
}

export function estimateThroughput(input: ThroughputInput): Throughput {
  const { arch, gpu, gpus, layout, precision, seqLen, globalBatch, memory } = input;
  const flopsPerToken = trainingFlopsPerToken(arch, seqLen);
  const tokensPerStep = globalBatch * seqLen;
  const flopsPerStep = flopsPerToken * tokensPerStep;
  const microBatches = globalBatch / (layout.dp * layout.microBatch);
  const bubble = layout.pp > 1 ? (layout.pp - 1) / (layout.vpp * microBatches) : 0;
  const recompute = layout.recompute === "full" ? 4 / 3 : 1;
  const rate = achievedFlops(input);
  const computeSeconds = (flopsPerStep * recompute * (1 + bubble)) / (gpus * rate);

  // Data-parallel gradient reduction (ZeRO-3 also all-gathers weights forward and backward).
  const gradBytes = memory.worst.params * (precision === "fp32" ? 4 : 2);
  const volume = layout.sharding === "zero3" ? 1.5 : 1;
  const span = layout.dp * layout.tp;
  const groupBw = allReduceBusBandwidth(gpu, span) * 1e9 /
    (span > gpu.gpusPerNode ? layout.tp : 1);
  const commSeconds = layout.dp > 1
    ? (gradBytes * volume * 2 * (layout.dp - 1)) / layout.dp / groupBw +
      20e-6 * Math.log2(layout.dp)
    : 0;
  const overlap = layout.sharding === "zero3" ? 0.85 : 0.8;
  const exposedCommSeconds = Math.max(commSeconds * (1 - overlap), commSeconds - computeSeconds);

  // Optimizer step: read and write every resident state once, memory-bound.
  const w = memory.worst;
  const optimizerSeconds = ((w.weights + w.grads + w.optimizer) * 2) /
    (gpu.memBandwidthGBps * 1e9 * 0.6);

  const stepSeconds = computeSeconds + exposedCommSeconds + optimizerSeconds + 0.002;
  const tokensPerSecond = tokensPerStep / stepSeconds;
  const tokensPerSecondPerGpu = tokensPerSecond / gpus;
  const tflopsPerGpu = (flopsPerToken * tokensPerSecondPerGpu) / 1e12;
  const mfu = tflopsPerGpu / mfuPeakTflops(gpu);
  return {
    flopsPerToken,
    tokensPerStep,
    flopsPerStep,
    bubble,
    computeSeconds,
    commSeconds,
    exposedCommSeconds,
    optimizerSeconds,
    stepSeconds,
    tokensPerSecond,
    tokensPerSecondPerGpu,
    tflopsPerGpu,
    mfu,
    hfu: mfu * recompute,
  };
}
