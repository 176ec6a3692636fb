/**
 * Scenarios: from a seed (and whatever the user fixed with flags) to one hidden configuration.
 * Two kinds keep the show honest and lively: fine-tuning runs sized to finish every phase in a
 * few minutes at speed 1, and windows onto long pretraining runs (fresh from step 0, or resumed
 * from a checkpoint at step k of n). Cluster size, batch and intervals are chosen the way an
 * engineer would size the job — so that steps take about a second or two — never by scaling
 * time.
 */
import {
  DATASETS,
  type DatasetSpec,
  FUN_MODELS,
  GPUS,
  type GpuSpec,
  type ModelPreset,
  MODELS,
  NAMES,
} from "../data.ts";
import { Rng } from "../core/rng.ts";
import { paramCount, trainingFlopsPerToken } from "./arch.ts";
import { type Candidate, chooseLayout } from "./layout.ts";
import { peakLrForSize } from "./schedule.ts";
import type { Framework, HiddenConfig, Layout, Precision, RunKind, Site } from "./types.ts";

export interface ScenarioRequest {
  seed: number;
  kind?: RunKind;
  model?: ModelPreset;
  /** Display name to use instead of the preset's (a humorous alias). */
  displayName?: string;
  gpu?: GpuSpec;
  gpus?: number;
  precision?: Precision;
  framework?: Framework;
  /** Run from step 0 (pretraining) rather than a resumed window. */
  fresh?: boolean;
}

export interface Scenario {
  config: HiddenConfig;
  candidate: Candidate;
  /** False when the user's fixed configuration does not fit: the run ends out of memory. */
  fits: boolean;
}

/** The request cannot run: why, and the layout that came closest (for the OOM report). */
export interface Infeasible {
  reason: string;
  closest: Candidate | null;
  request: ScenarioRequest;
  model: ModelPreset;
  gpu: GpuSpec;
  gpus: number;
  precision: Precision;
  framework: Framework;
  seqLen: number;
}

const GPU_WEIGHTS: Record<string, number> = {
  "h100-sxm": 45,
  "a100-80gb": 20,
  "h200": 14,
  "b200": 8,
  "a100-40gb": 5,
  "l40s": 4,
  "h100-pcie": 2,
  "v100-32gb": 2,
};

/** Round to 1, 2 or 5 × a power of ten (the intervals people type). */
export function niceNumber(x: number): number {
  if (x <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  const m = x / p;
  const nice = m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10;
  return nice * p;
}

function pow2Floor(x: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, x)));
}

function pow2Round(x: number): number {
  return 2 ** Math.round(Math.log2(Math.max(1, x)));
}

function roundSig(x: number, digits: number): number {
  return Number(x.toPrecision(digits));
}

// Selection heuristics read the catalog's published parameter count (tests assert it equals
// the count computed from the architecture) so that choosing a model builds no tensor lists.

function pickKind(rng: Rng, model: ModelPreset | undefined, framework?: Framework): RunKind {
  // the training code says what the run is for: HF Trainer and Lightning mostly fine-tune,
  // Megatron, torchtitan and nanoGPT pretrain
  if (framework === "hf" || framework === "lightning") {
    return rng.chance(0.85) ? "finetune" : "pretrain";
  }
  if (framework === "megatron" || framework === "torchtitan" || framework === "nanogpt") {
    return "pretrain";
  }
  const n = model ? model.params : 0;
  if (model && n < 3e8) return rng.chance(0.25) ? "finetune" : "pretrain";
  return rng.chance(0.45) ? "finetune" : "pretrain";
}

function pickModel(rng: Rng, kind: RunKind, framework?: Framework): ModelPreset {
  const pool = MODELS.filter((m) => {
    const n = m.params;
    if (framework === "nanogpt") return m.arch.style === "gpt2"; // nanoGPT trains GPT-2 shapes
    if (framework === "torchtitan") return torchtitanTrains(m);
    return kind === "finetune" ? n >= 1e8 && n <= 80e9 : n >= 1e8;
  });
  const weights = pool.map((m) => {
    const n = m.params;
    if (kind === "finetune") return n <= 15e9 ? 3 : 1;
    return n >= 3e11 ? 0.6 : 1;
  });
  return rng.weighted(pool, weights);
}

function pickGpu(rng: Rng, model: ModelPreset): GpuSpec {
  const n = model.params;
  const pool = GPUS.filter((g) => (GPU_WEIGHTS[g.id] ?? 0) > 0).filter((g) =>
    // Old or small parts only for models they were actually used for.
    g.memoryGB >= 48 || n <= 15e9
  ).filter((g) => g.arch !== "Volta" || n <= 2e9);
  return rng.weighted(pool, pool.map((g) => GPU_WEIGHTS[g.id] ?? 0));
}

function pickPrecision(rng: Rng, gpu: GpuSpec, kind: RunKind): Precision {
  if (gpu.peakTflops.bf16 === null) return "fp16";
  if (gpu.peakTflops.fp8 !== null && kind === "pretrain" && rng.chance(0.12)) return "fp8";
  if (gpu.arch === "Ampere" && rng.chance(0.1)) return "fp16";
  return "bf16";
}

/** torchtitan ships train specs for Llama (llama3; llama2 earlier) and DeepSeek-V3 only. */
export function torchtitanTrains(model: ModelPreset): boolean {
  return model.family.startsWith("Llama") || model.arch.style === "deepseek_v3";
}

/** Training code that fits the job (the dialect later formats its logs). */
export function pickFramework(
  rng: Rng,
  kind: RunKind,
  model: ModelPreset,
  gpus: number | undefined,
): Framework {
  const params = model.params;
  const titan = torchtitanTrains(model) ? 1 : 0;
  if (kind === "finetune") {
    return rng.weighted<Framework>(["hf", "deepspeed", "lightning", "fsdp"], [5, 2, 1, 2]);
  }
  // nanoGPT trains GPT-2 shapes on one node
  if (model.arch.style === "gpt2" && (gpus ?? 8) <= 8) {
    return rng.weighted<Framework>(["nanogpt", "torchtitan", "fsdp"], [4, titan, 1]);
  }
  if (params >= 3e10) return rng.weighted<Framework>(["megatron", "torchtitan"], [3, titan]);
  return rng.weighted<Framework>(
    ["megatron", "torchtitan", "deepspeed", "fsdp"],
    [3, 2 * titan, 1, 2],
  );
}

function pickSeqLen(rng: Rng, model: ModelPreset, kind: RunKind): number {
  const ctx = model.arch.context;
  const options = kind === "finetune" ? [2048, 4096] : ctx >= 8192 ? [4096, 8192] : [2048, 4096];
  return Math.min(ctx, rng.pick(options));
}

/** Tokens per optimizer step that people use at this size (REALISM 3.6). */
function targetBatchTokens(rng: Rng, kind: RunKind, params: number): number {
  if (kind === "finetune") return rng.logUniform(1.3e5, 5.3e5);
  if (params < 1e9) return rng.logUniform(2.5e5, 1e6);
  if (params < 1e10) return rng.logUniform(1e6, 4.2e6);
  if (params < 1e11) return rng.logUniform(2e6, 4.2e6);
  return rng.logUniform(4e6, 1.7e7);
}

function pickDataset(rng: Rng, kind: RunKind): DatasetSpec {
  const pool = DATASETS.filter((d) => d.kind === kind && !d.local); // local sets are for llm-sim train
  return rng.weighted(pool, pool.map((d) => (d.fun ? 1 : 3)));
}

export function pickSite(rng: Rng, gpu: GpuSpec, kind: RunKind, modelSlug: string): Site {
  const user = rng.pick(NAMES.users);
  const root = rng.pick(NAMES.checkpointRoots).replaceAll("{user}", user);
  const project = rng.pick(NAMES.projects[kind]);
  const tag = kind === "finetune" ? "sft" : "pt";
  const run = project.split("-").includes(tag)
    ? `${modelSlug}-${project}`
    : `${modelSlug}-${tag}-${project}`;
  const cuda = gpu.cuda;
  const nccl = gpu.arch === "Blackwell"
    ? "2.25.1"
    : gpu.arch === "Hopper"
    ? rng.pick(["2.21.5", "2.20.5"])
    : rng.pick(["2.18.6", "2.19.3", "2.20.5"]);
  return {
    cluster: rng.pick(NAMES.clusters),
    hostPrefix: rng.pick([
      ...(NAMES.hostPrefixes["any"] ?? []),
      ...(NAMES.hostPrefixes[gpu.id] ?? []),
    ]),
    project,
    user,
    checkpointDir: `${root}/${run}`,
    exportDir: `${root}/${run}/hf`,
    masterPort: rng.pick([29500, 29500, 29400, 6000, 12355]),
    pid: rng.int(3000, 3_900_000),
    ncclVersion: `${nccl}+cuda${cuda}`,
    torchVersion: gpu.arch === "Blackwell" ? "2.7.0" : rng.pick(["2.4.1", "2.5.1", "2.6.0"]),
    pythonVersion: rng.pick(["3.10", "3.11", "3.12"]),
  };
}

export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9.]+/g, "-").replace(/^-|-$/g, "");
}

/** Candidate GPU counts: whole nodes (or 1–8 GPUs on one node), smallest first. */
function gpuCounts(gpu: GpuSpec, max = 16384): number[] {
  const out: number[] = [];
  for (let n = 1; n < gpu.gpusPerNode; n *= 2) out.push(n);
  for (let n = gpu.gpusPerNode; n <= max; n *= 2) out.push(n);
  return out;
}

/** Build a scenario, or explain why the request cannot run. */
export function buildScenario(req: ScenarioRequest): Scenario | Infeasible {
  const root = new Rng(req.seed);
  const rng = root.fork("scenario");
  const kind = req.kind ?? pickKind(rng, req.model, req.framework);
  const model = req.model ?? pickModel(rng, kind, req.framework);
  const params = paramCount(model.arch);
  const funPool = FUN_MODELS.filter((f) => f.base === model.id);
  const displayName = req.displayName ??
    (funPool.length > 0 && rng.chance(0.35) ? rng.pick(funPool).name : model.name);
  const gpu = req.gpu ?? pickGpu(rng, model);
  const precision = req.precision ?? pickPrecision(rng, gpu, kind);
  const framework = req.framework ?? pickFramework(rng, kind, model, req.gpus);
  const seqLen = pickSeqLen(rng, model, kind);
  const flopsPerToken = trainingFlopsPerToken(model.arch, seqLen);
  const dataset = pickDataset(rng, kind);
  const layoutFor = (gpus: number, globalBatch: number) =>
    chooseLayout({ arch: model.arch, gpu, gpus, precision, framework, seqLen, globalBatch });
  const counts = req.gpus ? [req.gpus] : gpuCounts(gpu);
  const guessRate = (gpu.peakTflops.bf16 ?? gpu.peakTflops.fp16) * 1e12 * 0.4;

  /** First GPU count (from `from`) whose best layout satisfies `accept`. */
  const search = (
    from: number,
    batchFor: (gpus: number) => number,
    accept: (c: Candidate, gpus: number, gbs: number) => boolean,
  ) => {
    let last: { c: Candidate; gpus: number; gbs: number } | null = null;
    let closest: { c: Candidate; gpus: number; gbs: number } | null = null;
    let reason = "";
    for (const n of counts.filter((x) => x >= from || req.gpus)) {
      let gbs = batchFor(n);
      let choice = layoutFor(n, gbs);
      if (!choice.best && choice.reason?.includes("global batch")) {
        gbs = Math.max(gbs, pow2Round(n)); // every data-parallel rank needs a sequence
        choice = layoutFor(n, gbs);
      }
      if (choice.best) {
        if (last && choice.best.perf.stepSeconds > last.c.perf.stepSeconds * 0.9) break;
        last = { c: choice.best, gpus: n, gbs };
        if (accept(choice.best, n, gbs)) break;
      } else {
        if (choice.closest) closest = { c: choice.closest, gpus: n, gbs };
        reason = choice.reason ?? "does not fit in memory";
      }
    }
    return { last, closest, reason };
  };

  let samplesPerEpoch: number;
  let epochs: number;
  let totalSteps: number;
  let startStep = 0;
  let endStep: number;
  let found: ReturnType<typeof search>;
  if (kind === "finetune") {
    // The cluster people fine-tune this size on; the whole run (all epochs) takes about
    // 1.5–7 minutes of training at speed 1, subsampling a large data set (max_train_samples).
    epochs = rng.weighted([1, 2, 3], [2, 3, 3]);
    const budget = rng.uniform(90, 420);
    const available = Math.max(16, Math.floor(dataset.tokens / seqLen));
    const usual = params.total < 1.5e9
      ? rng.pick([1, 2, 4, 8])
      : params.total < 1.5e10
      ? rng.pick([8, 8, 16, 32])
      : params.total < 4.5e10
      ? rng.pick([16, 32, 64])
      : rng.pick([32, 64, 128]);
    // ...fewer when the data would be done in seconds
    const needed = (flopsPerToken * available * seqLen * epochs) / (budget * guessRate);
    const from = Math.min(usual, pow2Floor(needed));
    // A batch the data can feed for a few dozen steps at least; the cluster grows until a step
    // takes at most ~2.5 s (nobody watches a fine-tune crawl at 20 s a step).
    const batch = Math.max(
      8,
      Math.min(rng.pick([16, 32, 64, 64, 128, 128, 256]), pow2Floor(available * epochs / 60)),
    );
    found = search(from, (n) => Math.max(batch, pow2Round(n)), (c) => c.perf.stepSeconds <= 2.5);
    const sized = found.last ?? (req.model ? found.closest : null);
    if (sized) {
      const { c, gbs } = sized;
      const affordable = Math.floor(budget / c.perf.stepSeconds / epochs) * gbs;
      samplesPerEpoch = Math.max(gbs * 8, Math.min(available, affordable));
      samplesPerEpoch -= samplesPerEpoch % gbs;
      totalSteps = (samplesPerEpoch / gbs) * epochs;
    } else {
      samplesPerEpoch = 0;
      totalSteps = 0;
    }
    endStep = totalSteps;
  } else {
    // Pretraining: the batch people use at this size, a cluster that makes a step take about a
    // second or two.
    epochs = 1;
    const targetStep = rng.uniform(0.7, 2.2);
    const batch = pow2Round(targetBatchTokens(rng, kind, params.total) / seqLen);
    const wanted = (flopsPerToken * batch * seqLen) / (targetStep * guessRate);
    found = search(Math.min(pow2Floor(wanted), 16384), () => batch, (c) => {
      return c.perf.stepSeconds <= targetStep * 1.6;
    });
    samplesPerEpoch = 0;
    totalSteps = 0;
    endStep = 0;
  }
  // Nothing fits: when the user fixed this configuration, it runs anyway and fails the way
  // PyTorch does (out of memory, numbers from the memory model); otherwise the caller redraws.
  const fits = found.last !== null;
  const pick = found.last ?? (req.model ? found.closest : null);
  if (!pick) {
    return {
      reason: found.reason || "does not fit in memory",
      closest: found.closest?.c ?? null,
      request: req,
      model,
      gpu,
      gpus: req.gpus ?? counts[counts.length - 1] ?? gpu.gpusPerNode,
      precision,
      framework,
      seqLen,
    };
  }
  const chosen = pick.c;
  const gpus = pick.gpus;
  const globalBatch = pick.gbs;
  const layout: Layout = chosen.layout;
  const stepSeconds = chosen.perf.stepSeconds;
  const tokensPerStep = globalBatch * seqLen;
  let windowSteps = 0;
  if (kind === "pretrain") {
    const budgetTokens = Math.min(dataset.tokens, params.total * rng.logUniform(20, 300));
    totalSteps = Math.max(1000, Math.round(budgetTokens / tokensPerStep / 1000) * 1000);
    samplesPerEpoch = totalSteps * globalBatch;
    // A window of 2.5–5.5 minutes onto the run, fresh from step 0 or resumed mid-run.
    windowSteps = Math.max(40, Math.round(rng.uniform(150, 330) / stepSeconds));
    const fresh = req.fresh ?? (params.total < 1.5e10 && rng.chance(0.3));
    startStep = fresh ? 0 : Math.floor(totalSteps * rng.uniform(0.05, 0.9));
  }

  // Learning rate.
  let lr: HiddenConfig["lr"];
  if (kind === "finetune") {
    const peak = params.total >= 5e9
      ? rng.pick([1e-5, 2e-5, 5e-6])
      : params.total >= 1e9
      ? rng.pick([2e-5, 5e-5])
      : rng.pick([5e-5, 1e-4]);
    lr = {
      peak,
      min: 0,
      warmupSteps: Math.ceil(totalSteps * 0.03),
      totalSteps,
      decay: rng.chance(0.6) ? "cosine" : "linear",
      decaySteps: 0,
    };
  } else {
    const peak = roundSig(peakLrForSize(params.total) * rng.uniform(0.85, 1.5), 2);
    const warmup = niceNumber(Math.min(2000, Math.max(100, totalSteps * 0.004)));
    const wsd = rng.chance(0.2);
    lr = {
      peak,
      min: roundSig(peak * (rng.chance(0.75) ? 0.1 : 0.01), 2),
      warmupSteps: warmup,
      totalSteps,
      decay: wsd ? "wsd" : "cosine",
      decaySteps: wsd ? Math.round(totalSteps * 0.15) : 0,
    };
  }

  // Intervals: a log line every couple of seconds at most, evals and saves inside a window.
  const logChoices = [1, 2, 5, 10, 20, 25, 50, 100];
  let logInterval = 1;
  for (const c of logChoices) if (c * stepSeconds <= 2.5) logInterval = c;
  let evalInterval: number;
  let saveInterval: number;
  let evalIters: number;
  let patience = 0;
  if (kind === "finetune") {
    const perEpoch = totalSteps / epochs;
    evalInterval = Math.max(1, Math.round(perEpoch / rng.pick([1, 2, 2, 4])));
    saveInterval = evalInterval * rng.pick([1, 2]);
    const valSamples = Math.max(64, Math.round(samplesPerEpoch * 0.02));
    evalIters = Math.max(1, Math.ceil(valSamples / (layout.dp * layout.microBatch * 2)));
    patience = rng.pick([2, 3, 5]);
  } else {
    evalInterval = niceNumber(Math.max(10, windowSteps / rng.uniform(1.5, 3)));
    // saves land on eval steps, as configs set them (eval 100, save 1000)
    const save = niceNumber(Math.max(windowSteps * 1.2, 100));
    saveInterval = Math.max(1, Math.ceil(save / evalInterval)) * evalInterval;
    // a resumed run starts where a checkpoint was saved
    if (startStep > 0) startStep = Math.max(saveInterval, startStep - (startStep % saveInterval));
    endStep = Math.min(totalSteps, startStep + windowSteps);
    evalIters = rng.pick([10, 20, 50, 100]);
  }

  const gpusPerNode = Math.min(gpus, gpu.gpusPerNode);
  const config: HiddenConfig = {
    seed: req.seed >>> 0,
    kind,
    framework,
    model,
    displayName,
    arch: model.arch,
    gpu,
    gpus,
    nodes: Math.ceil(gpus / gpu.gpusPerNode),
    gpusPerNode,
    layout,
    precision,
    seqLen,
    globalBatch,
    dataset,
    samplesPerEpoch,
    epochs,
    totalSteps,
    startStep,
    endStep,
    lr,
    optimizer: {
      name: "AdamW",
      beta1: 0.9,
      beta2: 0.95,
      eps: kind === "finetune" ? 1e-8 : rng.pick([1e-8, 1e-5]),
      weightDecay: kind === "finetune" ? rng.pick([0, 0.01, 0.1]) : 0.1,
      clipGrad: 1.0,
    },
    logInterval,
    evalInterval,
    evalIters,
    saveInterval,
    patience,
    site: pickSite(rng, gpu, kind, slug(displayName)),
  };
  return { config, candidate: chosen, fits };
}

export function isInfeasible(x: Scenario | Infeasible): x is Infeasible {
  return "reason" in x;
}
