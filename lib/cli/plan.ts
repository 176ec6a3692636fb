/**
 * `llm-sim plan`: a what-if calculator over the same engine as the show. Given a model (preset
 * or architecture numbers), GPUs, a layout (or none: the engine picks the fastest that fits),
 * precision, batch, sequence length and a token budget, it reports memory per GPU by part,
 * whether it fits, step time, throughput, MFU, time, GPU-hours and energy to train.
 */
import type { Architecture, GpuSpec, ModelPreset } from "../data.ts";
import { paramCount, trainingFlopsPerToken } from "../engine/arch.ts";
import {
  type Candidate,
  chooseLayout,
  evaluateLayout,
  layoutProblem,
  precisionProblem,
} from "../engine/layout.ts";
import { GIB } from "../engine/memory.ts";
import { mfuPeakTflops } from "../engine/perf.ts";
import { powerFraction } from "../engine/telemetry.ts";
import type { Framework, Layout, Precision, Recompute, Sharding } from "../engine/types.ts";
import { checkGpuCount } from "./args.ts";
import { requireGpu, requireModel } from "./catalog.ts";
import { UsageError } from "./errors.ts";
import { bool, choiceFlag, type FlagSpec, intFlag, type Parsed, parseFlags, str } from "./flags.ts";
import { commas, compactCount, fixed, humanDuration } from "../render/format.ts";

export const PLAN_FLAGS: FlagSpec = {
  model: { type: "string" },
  layers: { type: "string" },
  hidden: { type: "string" },
  heads: { type: "string" },
  "kv-heads": { type: "string" },
  "head-dim": { type: "string" },
  ffn: { type: "string" },
  vocab: { type: "string" },
  context: { type: "string" },
  mlp: { type: "string" },
  tied: { type: "boolean" },
  gpu: { type: "string" },
  gpus: { type: "string" },
  tp: { type: "string" },
  pp: { type: "string" },
  dp: { type: "string" },
  vpp: { type: "string" },
  ep: { type: "string" },
  "micro-batch": { type: "string" },
  sharding: { type: "string" },
  recompute: { type: "string" },
  framework: { type: "string" },
  precision: { type: "string" },
  seq: { type: "string" },
  "global-batch": { type: "string" },
  "batch-tokens": { type: "string" },
  tokens: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

export const PLAN_HELP =
  `llm-sim plan: what a training run would take, from the same engine as the show.

Usage:
  llm-sim plan --model NAME --gpu NAME --gpus N [layout] [batch] [--tokens N] [--json]
  llm-sim plan --layers L --hidden H --heads A [--kv-heads K] [--ffn F] [--vocab V] ...

Model (a preset, or architecture numbers):
  --model NAME           preset, alias or fun name (llm-sim --list models)
  --layers --hidden --heads --kv-heads --head-dim --ffn --vocab --context
  --mlp swiglu|gelu|geglu   --tied (tie embeddings to the LM head)
Cluster and layout (leave any out: the fastest layout that fits is chosen):
  --gpu NAME --gpus N    GPU type and count (1–8, or whole nodes of 8)
  --tp --pp --dp --vpp --ep --micro-batch
  --sharding ddp|zero1|zero2|zero3   --recompute selective|full
  --framework megatron|torchtitan|deepspeed|hf|lightning|nanogpt|fsdp|megascale
Training:
  --precision bf16|fp16|fp8|fp32   --seq T
  --global-batch SEQS or --batch-tokens N (e.g. 4M)
  --tokens N             token budget (e.g. 15T; default 20 per parameter)
  --json                 machine-readable; its "args" reproduce the plan exactly
`;

export const FRAMEWORKS: readonly Framework[] = [
  "megatron",
  "torchtitan",
  "deepspeed",
  "hf",
  "lightning",
  "nanogpt",
  "fsdp",
  "megascale",
];
export const SHARDINGS: readonly Sharding[] = ["ddp", "zero1", "zero2", "zero3"];
export const RECOMPUTES: readonly Recompute[] = ["selective", "full"];
export const PRECISIONS: readonly Precision[] = ["bf16", "fp16", "fp8", "fp32"];
export const MLPS = ["swiglu", "gelu", "geglu"] as const;

/** Counts as people write them: 4096, 4M, 15.6T, 2e12, 1,000,000. */
export function parseCount(flag: string, text: string): number {
  const t = text.trim().replaceAll(",", "").replaceAll("_", "");
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)([kKmMbBgGtT]?)$/.exec(t);
  const unit: Record<string, number> = { "": 1, k: 1e3, m: 1e6, b: 1e9, g: 1e9, t: 1e12 };
  const scale = m ? unit[(m[2] ?? "").toLowerCase()] : undefined;
  if (!m || scale === undefined) {
    throw new UsageError(`--${flag} must be a count like 4096, 4M or 15T, not '${text}'`);
  }
  const n = Number(m[1]) * scale;
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--${flag} must be positive`);
  return Math.round(n);
}

export interface PlanRequest {
  model: ModelPreset | null;
  arch: Architecture;
  name: string;
  gpu: GpuSpec;
  gpus: number;
  fixed: Partial<Layout>;
  framework: Framework;
  precision: Precision;
  seqLen: number;
  globalBatch: number;
  tokens: number;
  json: boolean;
  help: boolean;
}

function archFromFlags(p: Parsed, base: Architecture | null): Architecture {
  const num = (name: string, min: number, max: number) => intFlag(p, name, min, max);
  const layers = num("layers", 1, 1000) ?? base?.layers;
  const hidden = num("hidden", 64, 131072) ?? base?.hidden;
  const heads = num("heads", 1, 1024) ?? base?.heads;
  if (layers === undefined || hidden === undefined || heads === undefined) {
    throw new UsageError("plan needs --model NAME, or --layers, --hidden and --heads");
  }
  const mlp = choiceFlag(p, "mlp", MLPS) ?? base?.mlp ?? "swiglu";
  const headDim = num("head-dim", 8, 1024) ??
    (base && base.hidden === hidden && base.heads === heads
      ? base.headDim
      : Math.floor(hidden / heads));
  const ffn = num("ffn", 1, 1_000_000) ??
    (base && base.hidden === hidden
      ? base.ffn
      : mlp === "swiglu"
      ? Math.ceil((8 * hidden) / 3 / 256) * 256
      : 4 * hidden);
  const kvHeads = num("kv-heads", 1, 1024) ?? (base && base.heads === heads ? base.kvHeads : heads);
  if (heads % kvHeads !== 0) {
    throw new UsageError(`--kv-heads ${kvHeads} must divide the ${heads} attention heads`);
  }
  const changed = base &&
    (base.layers !== layers || base.hidden !== hidden || base.heads !== heads);
  const overrides = ["ffn", "kv-heads", "head-dim", "vocab", "context", "mlp", "tied"]
    .some((k) => p.values[k] !== undefined);
  if (base && !changed && !overrides) return base;
  return {
    ...(base ?? {}),
    layers,
    hidden,
    heads,
    kvHeads,
    headDim,
    ffn,
    vocab: num("vocab", 2, 2_000_000) ?? base?.vocab ?? 128256,
    context: num("context", 64, 10_000_000) ?? base?.context ?? 8192,
    mlp,
    norm: mlp === "gelu" ? "layernorm" : base?.norm ?? "rmsnorm",
    tiedEmbeddings: bool(p, "tied") || (base?.tiedEmbeddings ?? false),
    // GeLU MLPs are GPT-shaped (two matrices, biases, learned positions), gated ones Llama-shaped
    style: mlp === "gelu"
      ? "gpt2"
      : base && base.style !== "gpt2" && base.style !== "falcon" && base.style !== "falcon_new"
      ? base.style
      : "llama",
    positional: mlp === "gelu" ? "learned" : base?.positional ?? "rope",
    linearBias: mlp === "gelu" ? true : base?.linearBias ?? false,
    qkvBias: mlp === "gelu" ? true : base?.qkvBias ?? false,
  } as Architecture;
}

export function parsePlanArgs(argv: string[]): PlanRequest {
  const p = parseFlags(argv, PLAN_FLAGS, "llm-sim plan");
  if (p.positionals.length > 0) {
    throw new UsageError(`plan takes no positional argument ('${p.positionals[0]}')`);
  }
  const help = bool(p, "help");
  const modelName = str(p, "model");
  const choice = modelName === undefined ? null : requireModel("--model", modelName);
  if (help) {
    return {
      model: null,
      arch: {} as Architecture,
      name: "",
      gpu: requireGpu("--gpu", "h100"),
      gpus: 8,
      fixed: {},
      framework: "megatron",
      precision: "bf16",
      seqLen: 0,
      globalBatch: 0,
      tokens: 0,
      json: false,
      help: true,
    };
  }
  const arch = archFromFlags(p, choice?.model.arch ?? null);
  const custom = choice === null || arch !== choice.model.arch;
  const gpu = requireGpu("--gpu", str(p, "gpu") ?? "h100");
  const gpus = checkGpuCount(intFlag(p, "gpus", 1, 1_048_576) ?? 8);
  const fixed: Partial<Layout> = {};
  for (
    const [flag, key] of [["tp", "tp"], ["pp", "pp"], ["dp", "dp"], ["vpp", "vpp"], ["ep", "ep"], [
      "micro-batch",
      "microBatch",
    ]] as const
  ) {
    const v = intFlag(p, flag, 1, 1_048_576);
    if (v !== undefined) fixed[key] = v;
  }
  const sharding = choiceFlag(p, "sharding", SHARDINGS);
  if (sharding) fixed.sharding = sharding;
  const recompute = choiceFlag(p, "recompute", RECOMPUTES);
  if (recompute) fixed.recompute = recompute;
  const seqLen = intFlag(p, "seq", 16, 10_000_000) ?? Math.min(arch.context, 4096);
  const gbsText = str(p, "global-batch");
  const tokText = str(p, "batch-tokens");
  if (gbsText !== undefined && tokText !== undefined) {
    throw new UsageError("give --global-batch (sequences) or --batch-tokens, not both");
  }
  const globalBatch = gbsText !== undefined
    ? parseCount("global-batch", gbsText)
    : tokText !== undefined
    ? Math.max(1, Math.round(parseCount("batch-tokens", tokText) / seqLen))
    : Math.max(1, Math.round(4_194_304 / seqLen));
  const total = paramCount(arch).total;
  const tokensText = str(p, "tokens");
  return {
    model: custom ? null : choice?.model ?? null,
    arch,
    name: custom
      ? `custom ${arch.layers}L/${arch.hidden}H/${arch.heads}A (${compactCount(total)})`
      : choice?.displayName ?? choice?.model.name ?? "",
    gpu,
    gpus,
    fixed,
    framework: choiceFlag(p, "framework", FRAMEWORKS) ?? "megatron",
    precision: choiceFlag(p, "precision", PRECISIONS) ?? "bf16",
    seqLen,
    globalBatch,
    tokens: tokensText !== undefined ? parseCount("tokens", tokensText) : 20 * total,
    json: bool(p, "json"),
    help,
  };
}

export interface PlanResult {
  request: PlanRequest;
  candidate: Candidate | null;
  fits: boolean;
  reason: string | null;
}

/** Evaluate the request: the given layout, or the best one; a reason when none is legal. */
export function computePlan(req: PlanRequest): PlanResult {
  const base = {
    arch: req.arch,
    gpu: req.gpu,
    gpus: req.gpus,
    precision: req.precision,
    framework: req.framework,
    seqLen: req.seqLen,
    globalBatch: req.globalBatch,
  };
  const precision = precisionProblem(req.gpu, req.precision);
  if (precision) return { request: req, candidate: null, fits: false, reason: precision };
  const f = req.fixed;
  const complete = f.tp !== undefined && f.pp !== undefined;
  if (complete) {
    const tp = f.tp as number, pp = f.pp as number;
    if (req.gpus % (tp * pp) !== 0) {
      return {
        request: req,
        candidate: null,
        fits: false,
        reason: `world size ${req.gpus} is not divisible by TP×PP = ${tp}×${pp} = ${tp * pp}`,
      };
    }
    const layout: Layout = {
      tp,
      pp,
      dp: f.dp ?? req.gpus / (tp * pp),
      ep: f.ep ?? 1,
      vpp: f.vpp ?? 1,
      microBatch: f.microBatch ?? 1,
      sharding: f.sharding ??
        (req.framework === "megatron" || req.framework === "megascale" ? "zero1" : "zero3"),
      recompute: f.recompute ?? "selective",
    };
    const problem = layoutProblem(base, layout);
    if (problem) return { request: req, candidate: null, fits: false, reason: problem };
    const c = evaluateLayout({ ...base, fixed: f }, layout);
    return { request: req, candidate: c, fits: c.memory.fits, reason: null };
  }
  const choice = chooseLayout({ ...base, fixed: f });
  if (choice.best) return { request: req, candidate: choice.best, fits: true, reason: null };
  if (choice.closest) {
    return { request: req, candidate: choice.closest, fits: false, reason: null };
  }
  return { request: req, candidate: null, fits: false, reason: choice.reason ?? "no legal layout" };
}

/** The derived figures a plan reports. */
export function planFigures(r: PlanResult) {
  const c = r.candidate;
  if (!c) return null;
  const req = r.request;
  const perf = c.perf;
  const mem = c.memory.worst;
  const steps = Math.ceil(req.tokens / perf.tokensPerStep);
  const seconds = steps * perf.stepSeconds;
  const gpuHours = (req.gpus * seconds) / 3600;
  const watts = req.gpu.tdpW * powerFraction("compute", perf.mfu, req.gpu);
  return {
    params: paramCount(req.arch),
    flopsPerToken: trainingFlopsPerToken(req.arch, req.seqLen),
    gradAccumulation: req.globalBatch / (c.layout.dp * c.layout.microBatch),
    memoryGiB: {
      weights: mem.weights / GIB,
      grads: mem.grads / GIB,
      optimizer: mem.optimizer / GIB,
      activations: mem.activations / GIB,
      logits: mem.logits / GIB,
      workspace: mem.workspace / GIB,
      reserved: mem.reserved / GIB,
      nvidiaSmi: mem.smiUsed / GIB,
      capacity: req.gpu.capacityGiB,
    },
    steps,
    seconds,
    gpuHours,
    gpuWatts: watts,
    energyMWh: (req.gpus * watts * seconds) / 3.6e9,
  };
}

/** The flags that reproduce a plan exactly (the chosen layout included). */
export function planArgs(r: PlanResult): string[] {
  const q = r.request;
  const a = q.arch;
  const args = q.model ? ["--model", q.model.id] : [
    "--layers",
    String(a.layers),
    "--hidden",
    String(a.hidden),
    "--heads",
    String(a.heads),
    "--kv-heads",
    String(a.kvHeads),
    "--head-dim",
    String(a.headDim),
    "--ffn",
    String(a.ffn),
    "--vocab",
    String(a.vocab),
    "--context",
    String(a.context),
    "--mlp",
    a.mlp,
    ...(a.tiedEmbeddings ? ["--tied"] : []),
  ];
  args.push("--gpu", q.gpu.id, "--gpus", String(q.gpus), "--framework", q.framework);
  const l = r.candidate?.layout;
  if (l) {
    args.push(
      "--tp",
      String(l.tp),
      "--pp",
      String(l.pp),
      "--dp",
      String(l.dp),
      "--vpp",
      String(l.vpp),
      "--ep",
      String(l.ep),
      "--micro-batch",
      String(l.microBatch),
      "--sharding",
      l.sharding,
      "--recompute",
      l.recompute,
    );
  }
  args.push(
    "--precision",
    q.precision,
    "--seq",
    String(q.seqLen),
    "--global-batch",
    String(q.globalBatch),
    "--tokens",
    String(q.tokens),
  );
  return args;
}

export function planJson(r: PlanResult): string {
  const q = r.request;
  const f = planFigures(r);
  const c = r.candidate;
  return JSON.stringify(
    {
      model: q.name,
      gpu: q.gpu.id,
      gpus: q.gpus,
      nodes: Math.ceil(q.gpus / q.gpu.gpusPerNode),
      framework: q.framework,
      precision: q.precision,
      seq_len: q.seqLen,
      global_batch: q.globalBatch,
      tokens: q.tokens,
      fits: r.fits,
      reason: r.reason,
      layout: c
        ? {
          tp: c.layout.tp,
          pp: c.layout.pp,
          dp: c.layout.dp,
          vpp: c.layout.vpp,
          ep: c.layout.ep,
          micro_batch: c.layout.microBatch,
          grad_accumulation: f?.gradAccumulation ?? null,
          sharding: c.layout.sharding,
          recompute: c.layout.recompute,
        }
        : null,
      params: f ? f.params.total : paramCount(q.arch).total,
      active_params: f ? f.params.active : paramCount(q.arch).active,
      flops_per_token: f?.flopsPerToken ?? trainingFlopsPerToken(q.arch, q.seqLen),
      memory_gib: f
        ? {
          weights: f.memoryGiB.weights,
          grads: f.memoryGiB.grads,
          optimizer: f.memoryGiB.optimizer,
          activations: f.memoryGiB.activations,
          logits: f.memoryGiB.logits,
          workspace: f.memoryGiB.workspace,
          reserved: f.memoryGiB.reserved,
          nvidia_smi: f.memoryGiB.nvidiaSmi,
          capacity: f.memoryGiB.capacity,
        }
        : null,
      step_time_s: c?.perf.stepSeconds ?? null,
      pipeline_bubble: c?.perf.bubble ?? null,
      tokens_per_s: c?.perf.tokensPerSecond ?? null,
      tokens_per_s_per_gpu: c?.perf.tokensPerSecondPerGpu ?? null,
      tflops_per_gpu: c?.perf.tflopsPerGpu ?? null,
      mfu: c?.perf.mfu ?? null,
      hfu: c?.perf.hfu ?? null,
      steps: f?.steps ?? null,
      train_seconds: f?.seconds ?? null,
      gpu_hours: f?.gpuHours ?? null,
      gpu_watts: f?.gpuWatts ?? null,
      energy_mwh: f?.energyMWh ?? null,
      args: planArgs(r),
    },
    null,
    2,
  ) + "\n";
}

function row(key: string, value: string): string {
  return `  ${key.padEnd(28)}${value}`;
}

export function planText(r: PlanResult): string {
  const q = r.request;
  const a = q.arch;
  const nodes = Math.ceil(q.gpus / q.gpu.gpusPerNode);
  const out: string[] = [
    `Plan: ${q.name} on ${commas(q.gpus)} × ${q.gpu.name}${
      nodes > 1 ? ` (${commas(nodes)} nodes)` : ""
    }, ${q.precision}, ${q.framework}`,
    "",
    row(
      "model",
      `${compactCount(paramCount(a).total)} params${
        a.moe ? ` (${compactCount(paramCount(a).active)} active)` : ""
      } · ${a.layers} layers · hidden ${a.hidden} · ${a.heads} heads (${a.kvHeads} KV) · FFN ${a.ffn} · vocab ${a.vocab}`,
    ),
  ];
  const c = r.candidate;
  if (!c) {
    out.push("", `Cannot run: ${r.reason}`);
    return out.join("\n") + "\n";
  }
  const f = planFigures(r)!;
  const l = c.layout;
  const m = f.memoryGiB;
  const g = (x: number) => `${fixed(x, 2).padStart(8)} GiB`;
  out.push(
    row(
      "layout",
      `TP ${l.tp} × PP ${l.pp}${l.vpp > 1 ? ` (VPP ${l.vpp})` : ""} × DP ${l.dp}${
        l.ep > 1 ? ` · EP ${l.ep}` : ""
      } · micro-batch ${l.microBatch} · grad accumulation ${f.gradAccumulation} · ${l.sharding} · ${l.recompute} recompute`,
    ),
    row(
      "batch",
      `${commas(q.globalBatch)} × ${commas(q.seqLen)} = ${
        commas(q.globalBatch * q.seqLen)
      } tokens/step`,
    ),
    "",
    "Memory per GPU (worst pipeline stage)",
    row("weights", g(m.weights)),
    row("gradients", g(m.grads)),
    row("optimizer states", g(m.optimizer)),
    row("activations", g(m.activations)),
    row("logits", g(m.logits)),
    row("workspace", g(m.workspace)),
    row(
      "reserved (PyTorch)",
      `${g(m.reserved)} of ${fixed(m.capacity, 2)} GiB → ${
        r.fits ? `fits (${fixed((100 * m.reserved) / m.capacity, 0)} %)` : "DOES NOT FIT"
      }`,
    ),
    row("in use (nvidia-smi)", g(m.nvidiaSmi)),
    "",
    "Throughput",
    row(
      "step time",
      `${fixed(c.perf.stepSeconds, 3)} s (compute ${
        fixed(c.perf.computeSeconds, 3)
      } s, exposed comm ${fixed(c.perf.exposedCommSeconds, 3)} s, optimizer ${
        fixed(c.perf.optimizerSeconds, 3)
      } s, pipeline bubble ${fixed(100 * c.perf.bubble, 1)} %)`,
    ),
    row(
      "tokens/s",
      `${commas(c.perf.tokensPerSecond)} (${commas(c.perf.tokensPerSecondPerGpu)} per GPU)`,
    ),
    row(
      "model TFLOP/s per GPU",
      `${fixed(c.perf.tflopsPerGpu, 1)} of ${mfuPeakTflops(q.gpu)} peak`,
    ),
    row("MFU", `${fixed(100 * c.perf.mfu, 1)} % (HFU ${fixed(100 * c.perf.hfu, 1)} %)`),
    "",
    `Training on ${compactCount(q.tokens)} tokens`,
    row("steps", commas(f.steps)),
    row("time", humanDuration(f.seconds)),
    row("GPU-hours", commas(f.gpuHours)),
    row(
      "energy (GPUs only)",
      `${fixed(f.energyMWh, f.energyMWh < 10 ? 2 : 1)} MWh at ${Math.round(f.gpuWatts)} W per GPU`,
    ),
  );
  if (!r.fits) {
    out.push(
      "",
      `Does not fit: ${fixed(m.reserved, 2)} GiB needed per GPU, ${
        fixed(m.capacity, 2)
      } GiB available. Try more GPUs, a larger TP/PP, ZeRO-3, full recompute or a smaller micro-batch.`,
    );
  }
  return out.join("\n") + "\n";
}
