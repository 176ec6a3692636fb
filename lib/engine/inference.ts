/**
 * Decoding speed of a model on a GPU, as the trainer's own PyTorch generate loop runs it
 * (eager mode, batch 1, KV cache): one token reads every weight once, so a step takes at least
 * the weight bytes over the memory bandwidth (split across tensor-parallel GPUs); on top, every
 * operator costs CPU dispatch time (Python, the dispatcher, the kernel launch), which is what
 * bounds small models, plus the per-token logits processing and sampling. The prompt is
 * processed in one compute-bound pass.
 */
import type { Architecture, GpuSpec } from "../data.ts";
import { paramCount } from "./arch.ts";
import type { Precision } from "./types.ts";

/** Fraction of the datasheet bandwidth a decode kernel sustains (STREAM-like reads). */
export const DECODE_BANDWIDTH_EFFICIENCY = 0.8;
/** Operators per layer in an eager decoder step (norms, QKV, rotary, attention, output, MLP, adds). */
const OPS_PER_LAYER = 12;
/** CPU cost of dispatching one eager PyTorch operator (Python + dispatcher + launch), seconds. */
const OP_DISPATCH_S = 15e-6;
/** Logits processors, sampling and the Python loop around each token, seconds. */
const PER_TOKEN_S = 0.5e-3;
/** Prefill reaches about this share of the dense peak. */
const PREFILL_EFFICIENCY = 0.4;

export function weightBytes(arch: Architecture, precision: Precision): number {
  const bytes = precision === "fp32" ? 4 : precision === "fp8" ? 1 : 2;
  return paramCount(arch).active * bytes;
}

/** Seconds per generated token. */
export function decodeSeconds(
  arch: Architecture,
  gpu: GpuSpec,
  precision: Precision,
  tp = 1,
): number {
  const bw = gpu.memBandwidthGBps * 1e9 * DECODE_BANDWIDTH_EFFICIENCY;
  return weightBytes(arch, precision) / bw / tp + arch.layers * OPS_PER_LAYER * OP_DISPATCH_S +
    PER_TOKEN_S;
}

/** Seconds to read a prompt of `tokens` tokens (2 FLOPs per parameter per token). */
export function prefillSeconds(
  arch: Architecture,
  gpu: GpuSpec,
  precision: Precision,
  tokens: number,
  tp = 1,
): number {
  const peak =
    (precision === "fp32" ? gpu.peakTflops.tf32 : gpu.peakTflops.bf16 ?? gpu.peakTflops.fp16) *
    1e12;
  const flops = 2 * paramCount(arch).active * Math.max(1, tokens);
  return flops / (peak * PREFILL_EFFICIENCY * tp) +
    arch.layers * OPS_PER_LAYER * OP_DISPATCH_S;
}
