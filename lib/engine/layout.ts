/**
 * Parallel layouts: which TP×PP×DP splits are legal for a model on a cluster, and which legal
 * split that fits in memory trains fastest (what an engineer tuning the job would pick).
 */
import type { Architecture, GpuSpec } from "../data.ts";
import { estimateMemory, type MemoryEstimate } from "./memory.ts";
import { estimateThroughput, type Throughput } from "./perf.ts";
import type { Framework, Layout, Precision, Recompute, Sharding } from "./types.ts";

export interface Candidate {
  layout: Layout;
  memory: MemoryEstimate;
  perf: Throughput;
}

export interface LayoutRequest {
  arch: Architecture;
  gpu: GpuSpec;
  gpus: number;
  precision: Precision;
  framework: Framework;
  seqLen: number;
  globalBatch: number;
  /** Parts of the layout the user fixed. */
  fixed?: Partial<Layout>;
}

export interface LayoutChoice {
  best: Candidate | null;
  /** The legal layout that came closest to fitting (for out-of-memory reports). */
  closest: Candidate | null;
  /** Why nothing was legal, when `closest` is null. */
  reason: string | null;
}

interface FrameworkRules {
  shardings: Sharding[];
  maxTp: number;
  maxPp: number;
  interleave: boolean;
}

/** What each training code can do. */
const RULES: Record<Framework, FrameworkRules> = {
  megatron: { shardings: ["zero1"], maxTp: 8, maxPp: 64, interleave: true },
  deepspeed: { shardings: ["zero1", "zero2", "zero3"], maxTp: 8, maxPp: 64, interleave: false },
  torchtitan: { shardings: ["zero3"], maxTp: 8, maxPp: 64, interleave: true },
  fsdp: { shardings: ["zero3"], maxTp: 8, maxPp: 1, interleave: false },
  hf: { shardings: ["zero3", "zero2"], maxTp: 1, maxPp: 1, interleave: false },
  lightning: { shardings: ["zero3", "ddp"], maxTp: 1, maxPp: 1, interleave: false },
  nanogpt: { shardings: ["ddp"], maxTp: 1, maxPp: 1, interleave: false },
  megascale: { shardings: ["zero1"], maxTp: 8, maxPp: 64, interleave: true },
};

export function frameworkShardings(framework: Framework): readonly Sharding[] {
  return RULES[framework].shardings;
}

/** Why this cluster shape cannot run at all, or null. */
export function clusterProblem(gpu: GpuSpec, gpus: number): string | null {
  if (!Number.isInteger(gpus) || gpus < 1) return `GPU count must be a positive whole number`;
  if (gpus > gpu.gpusPerNode && gpus % gpu.gpusPerNode !== 0) {
    return `${gpus} GPUs do not fill whole nodes of ${gpu.gpusPerNode} ${gpu.name}`;
  }
  return null;
}

/** Why a precision cannot run on a GPU, or null. */
export function precisionProblem(gpu: GpuSpec, precision: Precision): string | null {
  if (precision === "bf16" && gpu.peakTflops.bf16 === null) {
    return `${gpu.name} (${gpu.arch}) has no bf16 support; use fp16 or fp32`;
  }
  if (precision === "fp8" && gpu.peakTflops.fp8 === null) {
    return `${gpu.name} (${gpu.arch}) has no fp8 tensor cores; use ${
      gpu.peakTflops.bf16 === null ? "fp16" : "bf16"
    }`;
  }
  return null;
}

/** Why a layout is illegal for this model, cluster and batch, or null when it is legal. */
export function layoutProblem(
  req: Omit<LayoutRequest, "fixed" | "framework">,
  l: Layout,
): string | null {
  const { arch, gpu, gpus, globalBatch } = req;
  const cluster = clusterProblem(gpu, gpus);
  if (cluster) return cluster;
  for (const [k, v] of Object.entries({ tp: l.tp, pp: l.pp, dp: l.dp, ep: l.ep, vpp: l.vpp })) {
    if (!Number.isInteger(v) || v < 1) return `${k.toUpperCase()} must be a positive whole number`;
  }
  if (l.tp * l.pp * l.dp !== gpus) {
    if (gpus % (l.tp * l.pp) !== 0) {
      return `world size ${gpus} is not divisible by TP×PP = ${l.tp}×${l.pp} = ${l.tp * l.pp}`;
    }
    return `TP×PP×DP = ${l.tp}×${l.pp}×${l.dp} = ${
      l.tp * l.pp * l.dp
    } is not the world size ${gpus}`;
  }
  if (l.tp > gpu.gpusPerNode) {
    return `TP ${l.tp} spans nodes: tensor parallelism needs NVLink, at most ${gpu.gpusPerNode} per node`;
  }
  if (arch.heads % l.tp !== 0) return `TP ${l.tp} does not divide ${arch.heads} attention heads`;
  if (!arch.mla && arch.kvHeads % l.tp !== 0) {
    return `TP ${l.tp} does not divide ${arch.kvHeads} key/value heads`;
  }
  if (arch.ffn % l.tp !== 0) return `TP ${l.tp} does not divide the FFN width ${arch.ffn}`;
  if (l.pp > arch.layers) return `PP ${l.pp} exceeds the ${arch.layers} layers`;
  if (l.vpp > 1) {
    if (l.pp === 1) return `interleaving (VPP ${l.vpp}) needs pipeline parallelism`;
    // chunks may be uneven (Llama 3 405B: 126 layers on PP 16, lighter first and last stages)
    if (arch.layers < l.pp * l.vpp) {
      return `${arch.layers} layers cannot fill PP ${l.pp} × VPP ${l.vpp} chunks`;
    }
  }
  if (l.ep > 1) {
    if (!arch.moe) return `EP ${l.ep} needs a mixture-of-experts model`;
    if (arch.moe.experts % l.ep !== 0) {
      return `EP ${l.ep} does not divide ${arch.moe.experts} experts`;
    }
    if (l.dp % l.ep !== 0) return `EP ${l.ep} does not divide DP ${l.dp}`;
  }
  if (globalBatch % (l.microBatch * l.dp) !== 0) {
    return `global batch ${globalBatch} is not divisible by micro-batch ${l.microBatch} × DP ${l.dp}`;
  }
  if (l.vpp > 1 && (globalBatch / (l.microBatch * l.dp)) % l.pp !== 0) {
    return `interleaved pipeline needs micro-batches per step divisible by PP ${l.pp}`;
  }
  return null;
}

function evaluate(req: LayoutRequest, layout: Layout): Candidate {
  const memory = estimateMemory({
    arch: req.arch,
    gpu: req.gpu,
    layout,
    precision: req.precision,
    seqLen: req.seqLen,
    microBatchesPerStep: req.globalBatch / layout.dp,
    framework: req.framework,
  });
  const perf = estimateThroughput({ ...req, layout, memory });
  return { layout, memory, perf };
}

function powersOfTwo(max: number): number[] {
  const out: number[] = [];
  for (let v = 1; v <= max; v *= 2) out.push(v);
  return out;
}

/** Every legal layout for the request (respecting fixed parts and the framework's abilities). */
export function legalLayouts(req: LayoutRequest): Layout[] {
  const rules = RULES[req.framework];
  const f = req.fixed ?? {};
  const tps = f.tp ? [f.tp] : powersOfTwo(Math.min(rules.maxTp, req.gpu.gpusPerNode));
  const pps = f.pp ? [f.pp] : [1, ...powersOfTwo(Math.min(rules.maxPp, req.arch.layers)).slice(1)];
  const mbs = f.microBatch ? [f.microBatch] : [1, 2, 4, 8];
  const shardings = f.sharding ? [f.sharding] : rules.shardings;
  const recomputes: Recompute[] = f.recompute ? [f.recompute] : ["selective", "full"];
  const out: Layout[] = [];
  for (const tp of tps) {
    for (const pp of pps) {
      if (req.gpus % (tp * pp) !== 0) continue;
      const dp = req.gpus / (tp * pp);
      if (f.dp && f.dp !== dp) continue;
      const vpps = f.vpp ? [f.vpp] : pp > 1 && rules.interleave ? [1, 2, 4] : [1];
      const eps = f.ep
        ? [f.ep]
        : req.arch.moe
        ? powersOfTwo(Math.min(req.arch.moe.experts, dp, 64)).filter((e) => dp % e === 0)
        : [1];
      for (const vpp of vpps) {
        for (const ep of eps) {
          for (const microBatch of mbs) {
            for (const sharding of shardings) {
              for (const recompute of recomputes) {
                const l: Layout = { tp, pp, dp, ep, vpp, microBatch, sharding, recompute };
                if (!layoutProblem(req, l)) out.push(l);
              }
            }
          }
        }
      }
    }
  }
  return out;
}

/** The fastest legal layout that fits; else the one closest to fitting, or why none is legal. */
export function chooseLayout(req: LayoutRequest): LayoutChoice {
  const cluster = clusterProblem(req.gpu, req.gpus) ?? precisionProblem(req.gpu, req.precision);
  if (cluster) return { best: null, closest: null, reason: cluster };
  const layouts = legalLayouts(req);
  if (layouts.length === 0) {
    // Report the first reason a plain data-parallel layout (or the fixed one) fails for.
    const f = req.fixed ?? {};
    const tp = f.tp ?? 1, pp = f.pp ?? 1;
    const probe: Layout = {
      tp,
      pp,
      dp: f.dp ?? Math.max(1, Math.floor(req.gpus / (tp * pp))),
      ep: f.ep ?? 1,
      vpp: f.vpp ?? 1,
      microBatch: f.microBatch ?? 1,
      sharding: f.sharding ?? (RULES[req.framework].shardings[0] as Sharding),
      recompute: f.recompute ?? "selective",
    };
    return {
      best: null,
      closest: null,
      reason: layoutProblem(req, probe) ??
        `no layout of ${req.gpus} GPUs suits ${req.framework} with global batch ${req.globalBatch}`,
    };
  }
  let best: Candidate | null = null;
  let closest: Candidate | null = null;
  for (const l of layouts) {
    const c = evaluate(req, l);
    if (c.memory.fits) {
      if (
        !best || c.perf.stepSeconds < best.perf.stepSeconds * 0.999 ||
        (c.perf.stepSeconds <= best.perf.stepSeconds * 1.001 &&
          l.tp * l.pp < best.layout.tp * best.layout.pp)
      ) best = c;
    } else if (!closest || c.memory.worst.reserved < closest.memory.worst.reserved) {
      closest = c;
    }
  }
  return { best, closest: best ? null : closest, reason: null };
}

/** Evaluate one given layout (for `plan` with a fully specified layout). */
export function evaluateLayout(req: LayoutRequest, layout: Layout): Candidate {
  return evaluate(req, layout);
}
