/**
 * Hugging Face `Trainer` dialect (REALISM 1.4, 1.10): a fine-tuning script in the style of the
 * transformers examples (`run_clm.py`, alignment-handbook `run_sft.py`) launched with torchrun.
 * Script lines use the examples' `MM/DD/YYYY HH:MM:SS - LEVEL - __main__ - …` format; library
 * lines the explicit transformers format `[LEVEL|file.py:line] asctime >> …`. Metrics are the
 * Python dicts `ProgressCallback.on_log` writes above the bare tqdm bar; checkpoints, rotation,
 * resume, early stopping and the metrics block follow trainer.py, trainer_callback.py and
 * trainer_pt_utils.py. Line numbers are those of the transformers release the run claims
 * (TRANSFORMERS_VERSION); they are consistent within a run, not checked against that release.
 */
import type { ModelPreset, WarningSpec } from "../data.ts";
import { hash32 } from "../core/rng.ts";
import { paramCount } from "../engine/arch.ts";
import { configJson, type ShardPlan, shardPlan } from "../engine/artifacts.ts";
import type { OutOfMemory, RunEvent } from "../engine/events.ts";
import type { CheckpointRecord, EvalRecord } from "../engine/run.ts";
import type { Beat, RunContext } from "../phases/context.ts";
import { fillWarning, pythonPaths, warningsFor } from "../phases/warnings.ts";
import { blockBar, type MeterState, tqdmLine } from "../render/bar.ts";
import {
  bytesDecimal,
  clockDuration,
  commas,
  fixed,
  pyFloat,
  timestamp,
  timestampMs,
} from "../render/format.ts";
import { paint } from "../term/ansi.ts";
import type { Dialect, LiveState, LogWindow } from "./dialect.ts";
import { childFailedBeats, faultBeats, oomBeats, restartBeats } from "./failures.ts";
import { nvidiaSmiBeats } from "./smi.ts";
import { gradAccumulation, summaryTable, tokenizerOf } from "./torchrun.ts";

// ---------------------------------------------------------------------------------------------
// Python number formatting shared with the Lightning dialect
// ---------------------------------------------------------------------------------------------

/**
 * `repr(round(x, d))` for the magnitudes metrics have (1e-4 ≤ |x| < 1e16, or 0): the shortest
 * repr of the double nearest a d-decimal value is that decimal without its trailing zeros.
 */
export function pyRound(x: number, d: number): string {
  const s = fixed(x, d);
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 48 && s.charCodeAt(end - 2) !== 46) end--;
  return end === s.length ? s : s.slice(0, end);
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The bfloat16 value nearest x (round to nearest even on the 16 dropped bits). */
export function bf16Round(x: number): number {
  F32[0] = x;
  const u = U32[0] as number;
  if ((u & 0x7f800000) === 0x7f800000) return F32[0] as number; // inf, nan
  U32[0] = ((u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000) >>> 0;
  return F32[0] as number;
}

/** `str(datetime.timedelta(seconds=int(s)))`: "0:01:16", "1 day, 2:03:04". */
export function pyTimedelta(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const r = s - days * 86400;
  const h = Math.floor(r / 3600);
  const m = Math.floor((r % 3600) / 60);
  const sec = r % 60;
  const hms = `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
  return days > 0 ? `${days} day${days > 1 ? "s" : ""}, ${hms}` : hms;
}

/** tqdm's `format_sizeof` (decimal): 988000000 → "988M", 4.98e9 → "4.98G". */
export function formatSizeof(num: number, suffix = ""): string {
  let n = num;
  for (const unit of ["", "k", "M", "G", "T", "P"]) {
    if (Math.abs(n) < 999.5) {
      if (Math.abs(n) < 99.95) {
        if (Math.abs(n) < 9.995) return fixed(n, 2) + unit + suffix;
        return fixed(n, 1) + unit + suffix;
      }
      return fixed(n, 0) + unit + suffix;
    }
    n /= 1000;
  }
  return fixed(n, 1) + "E" + suffix;
}

/**
 * A tqdm meter as a log file holds it: tqdm cannot size a bar for a file, so the bar is 10
 * cells (`{bar:10}`); on a terminal it fills the width left over.
 */
export function meter(ctx: RunContext, m: MeterState): string {
  if (ctx.screen.live) return tqdmLine(m, ctx.screen.columns);
  const wide = tqdmLine(m, 10_000);
  return tqdmLine(m, wide.length - 90);
}

/** A tqdm bar over bytes with `unit_scale` (huggingface_hub downloads). */
export function bytesMeter(
  ctx: RunContext,
  desc: string,
  n: number,
  total: number,
  elapsed: number,
  bps: number,
): string {
  const frac = total > 0 ? n / total : 0;
  const left = `${desc}: ${fixed(frac * 100, 0).padStart(3)}%|`;
  const rem = bps > 0 ? clockDuration((total - n) / bps) : "?";
  const right = `| ${formatSizeof(n)}/${formatSizeof(total)} [${clockDuration(elapsed)}<${rem}, ${
    bps > 0 ? formatSizeof(bps, "B/s") : "?B/s"
  }]`;
  const width = ctx.screen.live
    ? Math.min(100, ctx.screen.columns - left.length - right.length)
    : 10;
  return width < 4 ? left + right : left + blockBar(frac, width) + right;
}

// ---------------------------------------------------------------------------------------------
// Model and file names
// ---------------------------------------------------------------------------------------------

/** Hub repositories of the presets (the ids people pass to from_pretrained). */
const HUB_IDS: Record<string, string> = {
  "gpt2": "openai-community/gpt2",
  "gpt2-medium": "openai-community/gpt2-medium",
  "gpt2-large": "openai-community/gpt2-large",
  "gpt2-xl": "openai-community/gpt2-xl",
  "llama-2-7b": "meta-llama/Llama-2-7b-hf",
  "llama-2-13b": "meta-llama/Llama-2-13b-hf",
  "llama-2-70b": "meta-llama/Llama-2-70b-hf",
  "olmo-7b": "allenai/OLMo-7B-hf",
  "falcon-7b": "tiiuae/falcon-7b",
  "falcon-40b": "tiiuae/falcon-40b",
  "gemma-2-2b": "google/gemma-2-2b",
  "gemma-2-9b": "google/gemma-2-9b",
  "gemma-2-27b": "google/gemma-2-27b",
  "deepseek-llm-7b": "deepseek-ai/deepseek-llm-7b-base",
  "deepseek-llm-67b": "deepseek-ai/deepseek-llm-67b-base",
};

const HUB_ORGS: Record<string, string> = {
  "Meta": "meta-llama",
  "Mistral AI": "mistralai",
  "Alibaba Qwen": "Qwen",
  "Google": "google",
  "Allen AI": "allenai",
  "TII": "tiiuae",
  "DeepSeek": "deepseek-ai",
  "Hugging Face": "HuggingFaceTB",
  "OpenAI": "openai-community",
};

export function hubId(m: ModelPreset): string {
  return HUB_IDS[m.id] ?? `${HUB_ORGS[m.org] ?? m.org.toLowerCase().replace(/ /g, "-")}/${m.name}`;
}

/** What the script passes as model_name_or_path: a hub id, or a local copy for a renamed model. */
export function modelPath(ctx: RunContext): string {
  const c = ctx.cfg;
  if (c.displayName === c.model.name) return hubId(c.model);
  const root = c.site.checkpointDir.slice(0, c.site.checkpointDir.lastIndexOf("/"));
  return `${root}/models/${c.displayName}`;
}

/** The decoder block class FSDP wraps (`transformer_layer_cls_to_wrap`). */
export function decoderLayerClass(m: ModelPreset): string {
  if (m.arch.style === "gpt2") return "GPT2Block";
  return m.hfClass.replace(/ForCausalLM$/, "DecoderLayer");
}

function configClass(m: ModelPreset): string {
  return m.hfClass.replace(/(ForCausalLM|LMHeadModel)$/, "") + "Config";
}

/** Training data as the script names it: a hub dataset, or a local JSON-lines file. */
export function dataArg(ctx: RunContext): { flag: "dataset_name" | "train_file"; value: string } {
  const d = ctx.cfg.dataset;
  if (d.name.includes("/") && !d.fun) return { flag: "dataset_name", value: d.name };
  const slug = d.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  const root = ctx.cfg.site.checkpointDir.slice(0, ctx.cfg.site.checkpointDir.lastIndexOf("/"));
  return { flag: "train_file", value: `${root}/data/${slug}.jsonl` };
}

/**
 * The evaluation set as the Trainer sees it: examples, per-device batch and steps, such that the
 * engine's `evalIters` is what a pass takes (fine-tuning: batches of twice the micro batch;
 * pretraining: `evalIters` global batches).
 */
export function evalShape(ctx: RunContext): { examples: number; batch: number; steps: number } {
  const c = ctx.cfg;
  const l = c.layout;
  if (c.kind !== "finetune") {
    return {
      examples: c.evalIters * c.globalBatch,
      batch: l.microBatch,
      steps: c.evalIters * gradAccumulation(ctx),
    };
  }
  const perIter = l.dp * l.microBatch * 2;
  const n = Math.max(64, Math.round(c.samplesPerEpoch * 0.02));
  return {
    examples: Math.ceil(n / perIter) === c.evalIters ? n : c.evalIters * perIter,
    batch: l.microBatch * 2,
    steps: c.evalIters,
  };
}

/** config.json as `PretrainedConfig.__repr__` prints it (Python json: 1e-05, 500000.0, 0.0). */
function configDump(ctx: RunContext, nameOrPath: string): string {
  const c = ctx.cfg;
  const dtype = c.precision === "fp32" ? "float32" : "bfloat16";
  const obj = JSON.parse(configJson(c.model, dtype)) as Record<string, unknown>;
  const floats = new Set([
    "attention_dropout",
    "initializer_range",
    "rms_norm_eps",
    "rope_theta",
    "layer_norm_epsilon",
  ]);
  const value = (k: string, v: unknown): string => {
    if (typeof v === "number") return floats.has(k) ? pyFloat(v) : String(v);
    return JSON.stringify(v);
  };
  const lines = [`  "_name_or_path": ${JSON.stringify(nameOrPath)}`];
  for (const [k, v] of Object.entries(obj)) {
    if (Array.isArray(v)) {
      lines.push(`  "${k}": [\n${v.map((x) => `    ${JSON.stringify(x)}`).join(",\n")}\n  ]`);
    } else lines.push(`  "${k}": ${value(k, v)}`);
  }
  return `${configClass(c.model)} {\n${lines.join(",\n")}\n}\n`;
}

/** Files the tokenizer class looks for when loading, in transformers' order. */
function tokenizerLoadFiles(ctx: RunContext): { name: string; present: boolean }[] {
  const files = new Set(tokenizerOf(ctx).files.map((f) => f.name));
  const vocab = files.has("vocab.json")
    ? ["vocab.json", "merges.txt", "tokenizer.json"]
    : files.has("tokenizer.model")
    ? ["tokenizer.model", "tokenizer.json"]
    : ["tokenizer.json"];
  return [...vocab, "added_tokens.json", "special_tokens_map.json", "tokenizer_config.json"].map(
    (name) => ({ name, present: files.has(name) }),
  );
}

/** transformers' message when `save_pretrained` splits the weights (REALISM 1.10). */
export function shardingMessage(shards: number, dir: string): string {
  return `The model is bigger than the maximum size per checkpoint (5GB) and is going to be split in ${shards} checkpoint shards. You can find where each parameters has been saved in the index located at ${dir}/model.safetensors.index.json.`;
}

/**
 * The line transformers logs when `save_pretrained` writes `name` (file.py, line, message), or
 * null for files it writes silently.
 */
export function savedFileMessage(
  name: string,
  dir: string,
  shards: number,
): [string, number, string] | null {
  switch (name) {
    case "config.json":
      return ["configuration_utils.py", LN.configSaved, `Configuration saved in ${dir}/${name}`];
    case "generation_config.json":
      return ["configuration_utils.py", LN.genSaved, `Configuration saved in ${dir}/${name}`];
    case "model.safetensors":
      return ["modeling_utils.py", LN.weightsSaved, `Model weights saved in ${dir}/${name}`];
    case "model.safetensors.index.json":
      return ["modeling_utils.py", LN.sharded, shardingMessage(shards, dir)];
    case "tokenizer_config.json":
      return [
        "tokenization_utils_base.py",
        LN.tokSaved,
        `tokenizer config file saved in ${dir}/${name}`,
      ];
    case "special_tokens_map.json":
      return [
        "tokenization_utils_base.py",
        LN.specialSaved,
        `Special tokens file saved in ${dir}/${name}`,
      ];
    default:
      return null;
  }
}

/** What `save_pretrained` writes (and logs) first: the model's configurations. */
export const CONFIG_FILES: readonly string[] = ["config.json", "generation_config.json"];

/** Line numbers of the logging calls in the transformers release the run claims. */
const LN = {
  config: 677,
  configDump: 746,
  configSaved: 414,
  genSaved: 865,
  tokLoad: 2211,
  tokSaved: 2646,
  specialSaved: 2655,
  weights: 3937,
  instantiate: 1670,
  allUsed: 4800,
  allInit: 4808,
  genLoad: 1051,
  sharded: 3042,
  weightsSaved: 3048,
  halfPrecision: 698,
  banner: 2314,
  loadModel: 2735,
  resume: 2336,
  completed: 2599,
  bestModel: 2778,
  evalHeader: 4009,
  saveCheckpoint: 3704,
  rotate: 3941,
  warnOnce: 328,
};

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A deterministic shuffle of 0…n-1 (how lines of parallel processes interleave). */
export function interleave(seed: number, n: number, label: string): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = hash32(seed + i, label) % (i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

/** 40 hex digits from the seed (a hub snapshot's commit). */
function snapshot(seed: number, label: string): string {
  let s = "";
  for (let i = 0; s.length < 40; i++) s += hash32(seed + i, label).toString(16).padStart(8, "0");
  return s.slice(0, 40);
}

type Level = "INFO" | "WARNING" | "ERROR";

interface StepConstants {
  bf16: boolean;
}

let stepCtx: RunContext | null = null;
let stepK: StepConstants | null = null;

function stepConstants(ctx: RunContext): StepConstants {
  let k = stepCtx === ctx ? stepK : null;
  if (!k) {
    const p = ctx.cfg.precision;
    k = { bf16: p === "bf16" || p === "fp8" };
    stepCtx = ctx;
    stepK = k;
  }
  return k;
}

/**
 * The load bar of a script built on transformers: a fine-tune fetches the pretrained weights
 * (one file from the Hub, or checkpoint shards); pretraining opens its dataset shards.
 */
export function hubLoadBar(ctx: RunContext, frac: number, elapsed: number): string {
  const c = ctx.cfg;
  const p = ctx.physics;
  if (c.kind === "finetune") {
    const plan = shardPlan(c.arch, 2);
    const shards = plan.shards.length;
    if (shards === 1) {
      // a small model is one file, fetched from the Hub the first time this node sees it
      const total = plan.shards[0]?.bytes ?? p.loadBytes;
      return bytesMeter(
        ctx,
        "model.safetensors",
        total * frac,
        total,
        elapsed,
        total / p.loadSeconds,
      );
    }
    return meter(ctx, {
      desc: "Loading checkpoint shards",
      n: Math.min(shards, Math.floor(frac * shards + 1e-9)),
      total: shards,
      elapsed,
      rate: shards / p.loadSeconds,
    });
  }
  const n = Math.max(1, Math.ceil((c.samplesPerEpoch * c.seqLen * 4) / 5e8));
  return meter(ctx, {
    desc: "Loading dataset shards",
    n: Math.min(n, Math.floor(frac * n + 1e-9)),
    total: n,
    elapsed,
    rate: n / p.loadSeconds,
  });
}

/** The Trainer's `grad_norm` for a step: the norm in the gradients' dtype, as a Python float. */
export function gradNormRepr(gradNorm: number, bf16: boolean, skipped: boolean): string {
  if (skipped) return "inf"; // the unscaled fp16 gradients overflowed
  return pyFloat(bf16 ? bf16Round(gradNorm) : Math.fround(gradNorm));
}

export class HfDialect implements Dialect {
  readonly name = "hf";
  /** Clock when this process's training loop started (trainer.train's start_time). */
  #trainStart = 0;
  /** Sum of step losses since this process started (`_total_loss_scalar`). */
  #lossSum = 0;
  #ckpts: string[] = [];
  #best: { dir: string; loss: number } | null = null;
  #lastEval: EvalRecord | null = null;
  /** Train metrics as `Trainer.train` returned them (the summary dict and the block agree). */
  #final: ReturnType<HfDialect["trainMetrics"]> | null = null;

  // ----- prefixes ------------------------------------------------------------------------

  /** transformers' explicit format: `[INFO|trainer.py:2314] 2026-11-26 09:00:00,123 >> …`. */
  #tf(ctx: RunContext, file: string, line: number, msg: string, level: Level = "INFO"): string {
    const ts = timestampMs(ctx.clock.now(), ctx.tz);
    const col = ctx.screen.color;
    const head = `[${level}|${file}:${line}]`;
    if (!col) return head + " " + ts + " >> " + msg;
    return `${paint(col, level === "INFO" ? "green" : "yellow", head)} ${
      paint(col, "dim", ts)
    } >> ${msg}`;
  }

  /** The script's logging.basicConfig format with datefmt "%m/%d/%Y %H:%M:%S". */
  #main(ctx: RunContext, msg: string, level: Level = "INFO"): string {
    const t = timestamp(ctx.clock.now(), ctx.tz);
    const ts = `${t.slice(5, 7)}/${t.slice(8, 10)}/${t.slice(0, 4)} ${t.slice(11)}`;
    const col = ctx.screen.color;
    if (!col) return `${ts} - ${level} - __main__ - ${msg}`;
    return `${paint(col, "dim", ts)} - ${
      paint(col, level === "INFO" ? "green" : "yellow", level)
    } - ${paint(col, "cyan", "__main__")} - ${msg}`;
  }

  /** DeepSpeed's logger: `[asctime] [INFO] [file:line:func] …`. */
  #ds(ctx: RunContext, where: string, msg: string): string {
    return `[${timestampMs(ctx.clock.now(), ctx.tz)}] [INFO] [${where}] ${msg}`;
  }

  #b(wait: number, text: () => string): Beat {
    return { wait, text };
  }

  // ----- launch ----------------------------------------------------------------------------

  #script(ctx: RunContext): string {
    return ctx.cfg.kind === "finetune" ? "run_sft.py" : "run_clm.py";
  }

  #outputDir(ctx: RunContext): string {
    return ctx.cfg.site.checkpointDir;
  }

  #zero2(ctx: RunContext): boolean {
    return ctx.cfg.layout.sharding === "zero2";
  }

  #dtype(ctx: RunContext): string {
    return ctx.cfg.precision === "fp16"
      ? "float16"
      : ctx.cfg.precision === "fp32"
      ? "float32"
      : "bfloat16";
  }

  #schedulerType(ctx: RunContext): { name: string; kwargs: string } {
    const lr = ctx.cfg.lr;
    if (lr.decay === "wsd") {
      return {
        name: "WARMUP_STABLE_DECAY",
        kwargs: `{'num_decay_steps': ${lr.decaySteps}, 'min_lr_ratio': ${
          pyFloat(lr.peak > 0 ? lr.min / lr.peak : 0)
        }}`,
      };
    }
    if (lr.decay === "cosine" && lr.min > 0) {
      return {
        name: "COSINE_WITH_MIN_LR",
        kwargs: `{'min_lr_rate': ${pyFloat(lr.min / lr.peak)}}`,
      };
    }
    return { name: lr.decay === "cosine" ? "COSINE" : "LINEAR", kwargs: "{}" };
  }

  launch(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const l = c.layout;
    const beats: Beat[] = c.nodes === 1 ? nvidiaSmiBeats(ctx) : [];
    const data = dataArg(ctx);
    const runner = c.nodes > 1
      ? `torchrun --nnodes=${c.nodes} --nproc_per_node=${c.gpusPerNode} --rdzv_backend=c10d --rdzv_endpoint=${
        ctx.host(0)
      }:${c.site.masterPort} ${this.#script(ctx)}`
      : `torchrun --nproc_per_node=${c.gpusPerNode} ${this.#script(ctx)}`;
    const sched = this.#schedulerType(ctx);
    const args = [
      c.kind === "finetune"
        ? `--model_name_or_path ${modelPath(ctx)}`
        : `--config_name ${modelPath(ctx)} --tokenizer_name ${modelPath(ctx)}`,
      `--torch_dtype ${this.#dtype(ctx)}`,
      `--${data.flag} ${data.value}`,
      ...(c.kind === "finetune" ? [`--max_train_samples ${c.samplesPerEpoch}`] : []),
      `--block_size ${c.seqLen}`,
      `--per_device_train_batch_size ${l.microBatch}`,
      `--per_device_eval_batch_size ${evalShape(ctx).batch}`,
      `--gradient_accumulation_steps ${gradAccumulation(ctx)}`,
      c.kind === "finetune" ? `--num_train_epochs ${c.epochs}` : `--max_steps ${c.totalSteps}`,
      `--learning_rate ${pyFloat(c.lr.peak)}`,
      `--lr_scheduler_type ${sched.name.toLowerCase()}`,
      c.kind === "finetune" ? `--warmup_ratio 0.03` : `--warmup_steps ${c.lr.warmupSteps}`,
      `--weight_decay ${pyFloat(c.optimizer.weightDecay)}`,
      `--adam_beta2 ${pyFloat(c.optimizer.beta2)}`,
      ...(c.precision === "fp16" ? ["--fp16"] : c.precision === "fp32" ? [] : ["--bf16"]),
      ...(l.recompute === "full" ? ["--gradient_checkpointing"] : []),
      ...(this.#zero2(ctx)
        ? ["--deepspeed configs/ds_zero2.json"]
        : [`--fsdp "full_shard auto_wrap"`, "--fsdp_config configs/fsdp.json"]),
      `--logging_steps ${c.logInterval}`,
      `--eval_strategy steps --eval_steps ${c.evalInterval}`,
      `--save_steps ${c.saveInterval} --save_total_limit 2`,
      "--load_best_model_at_end",
      ...(c.kind === "finetune" ? [`--early_stopping_patience ${c.patience}`] : []),
      ...(c.startStep > 0
        ? [`--resume_from_checkpoint ${this.checkpointDir(ctx, c.startStep)}`]
        : []),
      `--output_dir ${this.#outputDir(ctx)}`,
      "--report_to tensorboard",
    ];
    const cmd = [
      `$ ${runner} \\`,
      ...args.map((a, i) => `    ${a}${i < args.length - 1 ? " \\" : ""}`),
    ]
      .join("\n");
    beats.push({ wait: beats.length > 0 ? 800 : 0, text: paint(ctx.screen.color, "bold", cmd) });
    for (const w of warningsFor(ctx, "launch")) {
      if (w.id === "torchrun-omp-legacy") continue; // torch ≥ 2.4 prints the glog-style copy
      beats.push({ wait: 350, text: () => fillWarning(ctx, w).join("\n") });
    }
    return beats;
  }

  // ----- arguments -------------------------------------------------------------------------

  /** `str(TrainingArguments)` of transformers 4.46: every field, sorted, one per line. */
  #trainingArgs(ctx: RunContext): string {
    const c = ctx.cfg;
    const l = c.layout;
    const out = this.#outputDir(ctx);
    const sched = this.#schedulerType(ctx);
    const t = timestamp(ctx.clock.now(), ctx.tz);
    const logdir = `${out}/runs/${MONTHS[Number(t.slice(5, 7)) - 1]}${t.slice(8, 10)}_${
      t.slice(11).replaceAll(":", "-")
    }_${ctx.host(0)}`;
    const steps = (n: number) => (n > 1 ? String(n) : pyFloat(n));
    const bf16 = c.precision === "bf16" || c.precision === "fp8";
    const fsdp = !this.#zero2(ctx);
    const f: [string, string][] = [
      ["_n_gpu", "1"],
      [
        "accelerator_config",
        "{'split_batches': False, 'dispatch_batches': None, 'even_batches': True, 'use_seedable_sampler': True, 'non_blocking': False, 'gradient_accumulation_kwargs': None, 'use_configured_state': False}",
      ],
      ["adafactor", "False"],
      ["adam_beta1", pyFloat(c.optimizer.beta1)],
      ["adam_beta2", pyFloat(c.optimizer.beta2)],
      ["adam_epsilon", pyFloat(c.optimizer.eps)],
      ["auto_find_batch_size", "False"],
      ["average_tokens_across_devices", "False"],
      ["batch_eval_metrics", "False"],
      ["bf16", bf16 ? "True" : "False"],
      ["bf16_full_eval", "False"],
      ["data_seed", "None"],
      ["dataloader_drop_last", "False"],
      ["dataloader_num_workers", "4"],
      ["dataloader_persistent_workers", "False"],
      ["dataloader_pin_memory", "True"],
      ["dataloader_prefetch_factor", "None"],
      ["ddp_backend", "None"],
      ["ddp_broadcast_buffers", "None"],
      ["ddp_bucket_cap_mb", "None"],
      ["ddp_find_unused_parameters", "None"],
      ["ddp_timeout", String(ctx.rates.watchdogMs / 1000)],
      ["debug", "[]"],
      ["deepspeed", fsdp ? "None" : "configs/ds_zero2.json"],
      ["disable_tqdm", "False"],
      ["dispatch_batches", "None"],
      ["do_eval", "True"],
      ["do_predict", "False"],
      ["do_train", "True"],
      ["eval_accumulation_steps", "None"],
      ["eval_delay", "0"],
      ["eval_do_concat_batches", "True"],
      ["eval_on_start", "False"],
      ["eval_steps", steps(c.evalInterval)],
      ["eval_strategy", "IntervalStrategy.STEPS"],
      ["eval_use_gather_object", "False"],
      ["evaluation_strategy", "None"],
      ["fp16", c.precision === "fp16" ? "True" : "False"],
      ["fp16_backend", "auto"],
      ["fp16_full_eval", "False"],
      ["fp16_opt_level", "O1"],
      [
        "fsdp",
        fsdp
          ? "[<FSDPOption.FULL_SHARD: 'full_shard'>, <FSDPOption.AUTO_WRAP: 'auto_wrap'>]"
          : "[]",
      ],
      [
        "fsdp_config",
        fsdp
          ? `{'transformer_layer_cls_to_wrap': ['${
            decoderLayerClass(c.model)
          }'], 'min_num_params': 0, 'xla': False, 'xla_fsdp_v2': False, 'xla_fsdp_grad_ckpt': False}`
          : "{'min_num_params': 0, 'xla': False, 'xla_fsdp_v2': False, 'xla_fsdp_grad_ckpt': False}",
      ],
      ["fsdp_min_num_params", "0"],
      ["fsdp_transformer_layer_cls_to_wrap", "None"],
      ["full_determinism", "False"],
      ["gradient_accumulation_steps", String(gradAccumulation(ctx))],
      ["gradient_checkpointing", l.recompute === "full" ? "True" : "False"],
      ["gradient_checkpointing_kwargs", "None"],
      ["greater_is_better", "False"],
      ["group_by_length", "False"],
      ["half_precision_backend", "auto"],
      ["hub_always_push", "False"],
      ["hub_model_id", "None"],
      ["hub_private_repo", "None"],
      ["hub_strategy", "HubStrategy.EVERY_SAVE"],
      ["hub_token", "<HUB_TOKEN>"],
      ["ignore_data_skip", "False"],
      ["include_for_metrics", "[]"],
      ["include_inputs_for_metrics", "False"],
      ["include_num_input_tokens_seen", "False"],
      ["include_tokens_per_second", "False"],
      ["jit_mode_eval", "False"],
      ["label_names", "None"],
      ["label_smoothing_factor", "0.0"],
      ["learning_rate", pyFloat(c.lr.peak)],
      ["length_column_name", "length"],
      ["load_best_model_at_end", "True"],
      ["local_rank", "0"],
      ["log_level", "passive"],
      ["log_level_replica", "warning"],
      ["log_on_each_node", "True"],
      ["logging_dir", logdir],
      ["logging_first_step", "False"],
      ["logging_nan_inf_filter", "True"],
      ["logging_steps", steps(c.logInterval)],
      ["logging_strategy", "IntervalStrategy.STEPS"],
      ["lr_scheduler_kwargs", sched.kwargs],
      ["lr_scheduler_type", `SchedulerType.${sched.name}`],
      ["max_grad_norm", pyFloat(c.optimizer.clipGrad)],
      ["max_steps", c.kind === "finetune" ? "-1" : String(c.totalSteps)],
      ["metric_for_best_model", "loss"],
      ["mp_parameters", ""],
      ["neftune_noise_alpha", "None"],
      ["no_cuda", "False"],
      ["num_train_epochs", pyFloat(c.kind === "finetune" ? c.epochs : 3)],
      ["optim", "OptimizerNames.ADAMW_TORCH"],
      ["optim_args", "None"],
      ["optim_target_modules", "None"],
      ["output_dir", out],
      ["overwrite_output_dir", "False"],
      ["past_index", "-1"],
      ["per_device_eval_batch_size", String(evalShape(ctx).batch)],
      ["per_device_train_batch_size", String(l.microBatch)],
      ["prediction_loss_only", "False"],
      ["push_to_hub", "False"],
      ["push_to_hub_model_id", "None"],
      ["push_to_hub_organization", "None"],
      ["push_to_hub_token", "<PUSH_TO_HUB_TOKEN>"],
      ["ray_scope", "last"],
      ["remove_unused_columns", "True"],
      ["report_to", "['tensorboard']"],
      ["restore_callback_states_from_checkpoint", "False"],
      [
        "resume_from_checkpoint",
        c.startStep > 0 ? this.checkpointDir(ctx, c.startStep) : "None",
      ],
      ["run_name", out],
      ["save_on_each_node", "False"],
      ["save_only_model", "False"],
      ["save_safetensors", "True"],
      ["save_steps", steps(c.saveInterval)],
      ["save_strategy", "SaveStrategy.STEPS"],
      ["save_total_limit", "2"],
      ["seed", "42"],
      ["skip_memory_metrics", "True"],
      ["split_batches", "None"],
      ["tf32", "None"],
      ["torch_compile", "False"],
      ["torch_compile_backend", "None"],
      ["torch_compile_mode", "None"],
      ["torch_empty_cache_steps", "None"],
      ["torchdynamo", "None"],
      ["tpu_metrics_debug", "False"],
      ["tpu_num_cores", "None"],
      ["use_cpu", "False"],
      ["use_ipex", "False"],
      ["use_legacy_prediction_loop", "False"],
      ["use_liger_kernel", "False"],
      ["use_mps_device", "False"],
      ["warmup_ratio", c.kind === "finetune" ? "0.03" : "0.0"],
      ["warmup_steps", c.kind === "finetune" ? "0" : String(c.lr.warmupSteps)],
      ["weight_decay", pyFloat(c.optimizer.weightDecay)],
    ];
    return `TrainingArguments(\n${f.map(([k, v]) => `${k}=${v},\n`).join("")})`;
  }

  /** The script's own argument dataclasses, repr'd on one line each. */
  #scriptArgs(ctx: RunContext): string[] {
    const c = ctx.cfg;
    const data = dataArg(ctx);
    const q = (s: string) => `'${s}'`;
    const model = c.kind === "finetune"
      ? `ModelArguments(model_name_or_path=${
        q(modelPath(ctx))
      }, config_name=None, tokenizer_name=None, model_revision='main', torch_dtype=${
        q(this.#dtype(ctx))
      }, attn_implementation='flash_attention_2', use_fast_tokenizer=True, trust_remote_code=False)`
      : `ModelArguments(model_name_or_path=None, config_name=${q(modelPath(ctx))}, tokenizer_name=${
        q(modelPath(ctx))
      }, model_revision='main', torch_dtype=${
        q(this.#dtype(ctx))
      }, attn_implementation='flash_attention_2', use_fast_tokenizer=True, trust_remote_code=False)`;
    const dataRepr = `DataArguments(dataset_name=${
      data.flag === "dataset_name" ? q(data.value) : "None"
    }, dataset_config_name=None, train_file=${
      data.flag === "train_file" ? q(data.value) : "None"
    }, validation_split_percentage=2, block_size=${c.seqLen}, max_train_samples=${
      c.kind === "finetune" ? c.samplesPerEpoch : "None"
    }, max_eval_samples=None, preprocessing_num_workers=32, overwrite_cache=False${
      c.kind === "finetune" ? `, early_stopping_patience=${c.patience}` : ""
    })`;
    return [`Model parameters ${model}`, `Data parameters ${dataRepr}`];
  }

  distributed(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const fp16 = c.precision === "fp16" ? "True" : "False";
    const order = interleave(c.seed, c.gpusPerNode, "hf-process-rank");
    const beats: Beat[] = order.map((r, i) =>
      this.#b(
        i === 0 ? ctx.physics.ncclInitSeconds * 1000 : 15,
        () =>
          this.#main(
            ctx,
            `Process rank: ${r}, device: cuda:${r}, n_gpu: 1, distributed training: True, 16-bits training: ${fp16}`,
            "WARNING",
          ),
      )
    );
    const [model, data] = this.#scriptArgs(ctx);
    beats.push(
      this.#b(60, () => this.#main(ctx, model as string)),
      this.#b(0, () => this.#main(ctx, data as string)),
      this.#b(
        0,
        () => this.#main(ctx, `Training/evaluation parameters ${this.#trainingArgs(ctx)}`),
      ),
    );
    return beats;
  }

  // ----- model -----------------------------------------------------------------------------

  #cachePath(ctx: RunContext, file: string): string {
    const c = ctx.cfg;
    const path = modelPath(ctx);
    if (!path.includes("/") || path.startsWith("/")) return `${path}/${file}`;
    return `/home/${c.site.user}/.cache/huggingface/hub/models--${
      path.replace("/", "--")
    }/snapshots/${snapshot(c.seed, path)}/${file}`;
  }

  #cached(ctx: RunContext, file: string): string {
    const path = modelPath(ctx);
    return path.startsWith("/")
      ? `${path}/${file}`
      : `${file} from cache at ${this.#cachePath(ctx, file)}`;
  }

  model(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const path = modelPath(ctx);
    const shards = shardPlan(c.arch, 2).shards.length;
    const beats: Beat[] = [
      this.#b(
        300,
        () =>
          this.#tf(
            ctx,
            "configuration_utils.py",
            LN.config,
            `loading configuration file ${this.#cached(ctx, "config.json")}`,
          ),
      ),
      this.#b(
        0,
        () =>
          this.#tf(
            ctx,
            "configuration_utils.py",
            LN.configDump,
            `Model config ${configDump(ctx, path)}`,
          ),
      ),
    ];
    for (const f of tokenizerLoadFiles(ctx)) {
      beats.push(
        this.#b(
          f.present ? 40 : 0,
          () =>
            this.#tf(
              ctx,
              "tokenization_utils_base.py",
              LN.tokLoad,
              path.startsWith("/")
                ? `loading file ${f.name}`
                : `loading file ${f.name} from cache at ${
                  f.present ? this.#cachePath(ctx, f.name) : "None"
                }`,
            ),
        ),
      );
    }
    if (c.kind === "finetune") {
      const weights = shards > 1 ? "model.safetensors.index.json" : "model.safetensors";
      beats.push(
        this.#b(
          ctx.physics.buildSeconds * 1000,
          () =>
            this.#tf(
              ctx,
              "modeling_utils.py",
              LN.weights,
              path.startsWith("/")
                ? `loading weights file ${path}/${weights}`
                : `loading weights file model.safetensors from cache at ${
                  this.#cachePath(ctx, weights)
                }`,
            ),
        ),
        this.#b(
          0,
          () =>
            this.#tf(
              ctx,
              "modeling_utils.py",
              LN.instantiate,
              `Instantiating ${c.model.hfClass} model under default dtype torch.${
                this.#dtype(ctx)
              }.`,
            ),
        ),
      );
    } else {
      beats.push({ wait: ctx.physics.buildSeconds * 1000, text: "" });
    }
    return beats;
  }

  /** Arrow files of a pre-tokenized pretraining set (datasets writes ≤ 500 MB shards). */
  loadBar(ctx: RunContext, frac: number, elapsed: number): string {
    return hubLoadBar(ctx, frac, elapsed);
  }

  loaded(ctx: RunContext, _seconds: number): Beat[] {
    const c = ctx.cfg;
    if (c.kind !== "finetune") {
      const n = paramCount(c.arch).total;
      return [
        this.#b(
          200,
          () =>
            this.#main(
              ctx,
              `Training new model from scratch - Total size=${fixed(n / 2 ** 20, 2)}M params`,
            ),
        ),
      ];
    }
    const cls = c.model.hfClass;
    return [
      this.#b(
        150,
        () =>
          this.#tf(
            ctx,
            "modeling_utils.py",
            LN.allUsed,
            `All model checkpoint weights were used when initializing ${cls}.\n`,
          ),
      ),
      this.#b(
        0,
        () =>
          this.#tf(
            ctx,
            "modeling_utils.py",
            LN.allInit,
            `All the weights of ${cls} were initialized from the model checkpoint at ${
              modelPath(ctx)
            }.\nIf your task is similar to the task the model of the checkpoint was trained on, you can already use ${cls} for predictions without further training.`,
          ),
      ),
      this.#b(
        60,
        () =>
          this.#tf(
            ctx,
            "configuration_utils.py",
            LN.genLoad,
            `loading configuration file ${this.#cached(ctx, "generation_config.json")}`,
          ),
      ),
    ];
  }

  /** datasets' map bars (fine-tuning) or the pre-tokenized set (pretraining). */
  #datasetBeats(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const secs = ctx.physics.dataSeconds;
    if (c.kind !== "finetune") {
      return [
        this.#b(
          secs * 1000,
          () =>
            this.#main(
              ctx,
              `Loaded ${
                commas(c.samplesPerEpoch)
              } pre-tokenized sequences of ${c.seqLen} tokens from ${dataArg(ctx).value}`,
            ),
        ),
      ];
    }
    const trainRaw = c.dataset.examples ?? Math.ceil(c.samplesPerEpoch * 1.3);
    const valRaw = Math.max(1, Math.round(trainRaw * 0.02));
    const bars: [string, number, number][] = [
      ["Running tokenizer on dataset (num_proc=32)", trainRaw, 0.52],
      ["Running tokenizer on dataset (num_proc=32)", valRaw, 0.07],
      [`Grouping texts in chunks of ${c.seqLen} (num_proc=32)`, trainRaw, 0.33],
      [`Grouping texts in chunks of ${c.seqLen} (num_proc=32)`, valRaw, 0.08],
    ];
    return bars.map(([desc, n, share]) => {
      const s = secs * share;
      return this.#b(
        s * 1000,
        () => meter(ctx, { desc, n, total: n, elapsed: s, rate: n / s, unit: " examples" }),
      );
    });
  }

  data(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const beats = this.#datasetBeats(ctx);
    if (c.kind === "finetune") {
      beats.push(
        this.#b(
          80,
          () =>
            this.#main(
              ctx,
              `Adding EarlyStoppingCallback(early_stopping_patience=${c.patience}, early_stopping_threshold=0.0)`,
            ),
        ),
      );
    }
    if (c.precision !== "fp32") {
      beats.push(this.#b(
        400,
        () => this.#tf(ctx, "trainer.py", LN.halfPrecision, "Using auto half precision backend"),
      ));
    }
    return beats;
  }

  // ----- training --------------------------------------------------------------------------

  /** DeepSpeed's start-up lines when the Trainer initializes ZeRO-2 (REALISM 1.5). */
  #deepspeedInit(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const opt = c.precision === "fp16" ? "fp16" : "torch.bfloat16";
    const lines: [string, string][] = [
      [
        "logging.py:128:log_dist",
        "[Rank 0] DeepSpeed info: version=0.15.4, git-hash=unknown, git-branch=unknown",
      ],
      ["config.py:733:__init__", `Config mesh_device None world_size = ${c.gpus}`],
      ["logging.py:128:log_dist", "[Rank 0] DeepSpeed Flops Profiler Enabled: False"],
      ["logging.py:128:log_dist", "[Rank 0] Using client Optimizer as basic optimizer"],
      [
        "logging.py:128:log_dist",
        "[Rank 0] Removing param_group that has no 'params' in the basic Optimizer",
      ],
      ["logging.py:128:log_dist", "[Rank 0] DeepSpeed Basic Optimizer = AdamW"],
      [
        "utils.py:59:is_zero_supported_optimizer",
        "Checking ZeRO support for optimizer=AdamW type=<class 'torch.optim.adamw.AdamW'>",
      ],
      ["logging.py:128:log_dist", `[Rank 0] Creating ${opt} ZeRO stage 2 optimizer`],
      ["stage_1_and_2.py:149:__init__", "Reduce bucket size 500000000"],
      ["stage_1_and_2.py:150:__init__", "Allgather bucket size 500000000"],
      ["stage_1_and_2.py:151:__init__", "CPU Offload: False"],
      ["stage_1_and_2.py:152:__init__", "Round robin gradient partitioning: False"],
      ["logging.py:128:log_dist", "[Rank 0] DeepSpeed Final Optimizer = DeepSpeedZeroOptimizer"],
      ["logging.py:128:log_dist", "[Rank 0] DeepSpeed using client LR scheduler"],
      ["logging.py:128:log_dist", "[Rank 0] DeepSpeed LR Scheduler = None"],
      [
        "logging.py:128:log_dist",
        `[Rank 0] step=0, skipped=0, lr=[${pyFloat(0)}], mom=[(${pyFloat(c.optimizer.beta1)}, ${
          pyFloat(c.optimizer.beta2)
        })]`,
      ],
    ];
    return lines.map(([where, msg], i) =>
      this.#b(i === 7 ? 600 : 20, () => this.#ds(ctx, where, msg))
    );
  }

  #banner(ctx: RunContext): Beat {
    const c = ctx.cfg;
    // under FSDP the model's parameters are this rank's flat shards (get_model_param_count)
    const total = paramCount(c.arch).total;
    const trainable = c.layout.sharding === "zero3" && c.gpus > 1
      ? Math.ceil(total / c.gpus)
      : total;
    return this.#b(120, () => {
      const L = LN.banner;
      const rows: [number, string][] = [
        [L, "***** Running training *****"],
        [L + 1, `  Num examples = ${commas(c.samplesPerEpoch)}`],
        [L + 2, `  Num Epochs = ${commas(c.kind === "finetune" ? c.epochs : 1)}`],
        [L + 3, `  Instantaneous batch size per device = ${commas(c.layout.microBatch)}`],
        [
          L + 6,
          `  Total train batch size (w. parallel, distributed & accumulation) = ${
            commas(c.globalBatch)
          }`,
        ],
        [L + 7, `  Gradient Accumulation steps = ${gradAccumulation(ctx)}`],
        [L + 8, `  Total optimization steps = ${commas(c.totalSteps)}`],
        [L + 9, `  Number of trainable parameters = ${commas(trainable)}`],
      ];
      return rows.map(([n, m]) => this.#tf(ctx, "trainer.py", n, m)).join("\n");
    });
  }

  /** "Continuing training from checkpoint…" for a process that resumes at `step`. */
  #resumeLines(ctx: RunContext, step: number): Beat[] {
    const spe = ctx.physics.stepsPerEpoch;
    const epochs = Math.floor(step / spe);
    const batches = (step % spe) * gradAccumulation(ctx);
    const R = LN.resume;
    return [
      this.#b(300, () =>
        [
          this.#tf(
            ctx,
            "trainer.py",
            R,
            "  Continuing training from checkpoint, will skip to saved global_step",
          ),
          this.#tf(ctx, "trainer.py", R + 1, `  Continuing training from epoch ${epochs}`),
          this.#tf(ctx, "trainer.py", R + 2, `  Continuing training from global step ${step}`),
          this.#tf(
            ctx,
            "trainer.py",
            R + 4,
            `  Will skip the first ${epochs} epochs then the first ${batches} batches in the first epoch.`,
          ),
        ].join("\n")),
    ];
  }

  #loadingModel(ctx: RunContext, step: number): Beat {
    return this.#b(
      200,
      () =>
        this.#tf(
          ctx,
          "trainer.py",
          LN.loadModel,
          `Loading model from ${this.checkpointDir(ctx, step)}.`,
        ),
    );
  }

  /** Once-per-process warnings of the first steps: forked DataLoader workers, use_cache. */
  #firstStepWarnings(ctx: RunContext): Beat[] {
    const beats: Beat[] = [];
    for (const w of warningsFor(ctx, "dataloader")) {
      // printed by each forked worker; two of rank 0's four show before the first step
      for (let i = 0; i < 2; i++) {
        beats.push(this.#b(i === 0 ? 900 : 30, () => fillWarning(ctx, w).join("\n")));
      }
    }
    if (ctx.cfg.layout.recompute === "full") {
      const w = warningsFor(ctx, "training").find((x) => x.id === "use-cache-gc");
      if (w) {
        beats.push(this.#b(200, () => this.warning(ctx, w, fillWarning(ctx, w, 0))));
      }
    }
    return beats;
  }

  trainStart(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    this.#trainStart = ctx.clock.now();
    this.#lossSum = 0;
    const beats: Beat[] = [];
    if (c.startStep > 0) beats.push(this.#loadingModel(ctx, c.startStep));
    if (this.#zero2(ctx)) beats.push(...this.#deepspeedInit(ctx));
    beats.push(this.#banner(ctx));
    if (c.startStep > 0) beats.push(...this.#resumeLines(ctx, c.startStep));
    beats.push(...this.#firstStepWarnings(ctx));
    beats.push({
      wait: 0,
      text: () => {
        this.#trainStart = ctx.clock.now();
        return "";
      },
    });
    return beats;
  }

  /** DefaultFlowCallback logs at multiples of logging_steps (logging_first_step is off). */
  logsAt(ctx: RunContext, step: number): boolean {
    return step % ctx.cfg.logInterval === 0;
  }

  stepLog(ctx: RunContext, w: LogWindow): string {
    const k = stepConstants(ctx);
    const r = w.last;
    this.#lossSum += w.meanLoss * w.steps;
    return "{'loss': " + pyRound(w.meanLoss, 4) + ", 'grad_norm': " +
      gradNormRepr(r.gradNorm, k.bf16, r.skipped) + ", 'learning_rate': " + pyFloat(r.lr) +
      ", 'epoch': " + pyRound(r.epochFloat, 2) + "}";
  }

  live(ctx: RunContext, s: LiveState): string[] {
    return [
      tqdmLine(
        { desc: "", n: s.step, total: ctx.cfg.totalSteps, elapsed: s.elapsed, rate: s.rate },
        ctx.screen.columns,
      ),
    ];
  }

  evalStart(ctx: RunContext): Beat[] {
    const shape = evalShape(ctx);
    const E = LN.evalHeader;
    return [
      this.#b(0, () =>
        [
          this.#tf(ctx, "trainer.py", E, "\n***** Running Evaluation *****"),
          this.#tf(ctx, "trainer.py", E + 2, `  Num examples = ${shape.examples}`),
          this.#tf(ctx, "trainer.py", E + 5, `  Batch size = ${shape.batch}`),
        ].join("\n")),
    ];
  }

  evalBar(ctx: RunContext, frac: number, elapsed: number): string {
    const iters = evalShape(ctx).steps;
    return tqdmLine({
      desc: "",
      n: Math.floor(frac * iters),
      total: iters,
      elapsed,
      rate: iters / ctx.physics.evalSeconds,
    }, ctx.screen.columns);
  }

  evalDone(ctx: RunContext, e: EvalRecord): Beat[] {
    const c = ctx.cfg;
    this.#lastEval = e;
    const runtime = e.durationMs / 1000;
    const shape = evalShape(ctx);
    const n = shape.examples;
    const epoch = ctx.sim.samples / c.samplesPerEpoch;
    // the prediction bar is created with leave=False under the training bar: it vanishes
    return [{
      wait: 0,
      text: "{'eval_loss': " + pyFloat(Math.fround(e.loss)) + ", 'eval_runtime': " +
        pyRound(runtime, 4) + ", 'eval_samples_per_second': " + pyRound(n / runtime, 3) +
        ", 'eval_steps_per_second': " + pyRound(shape.steps / runtime, 3) + ", 'epoch': " +
        pyRound(epoch, 2) + "}",
    }];
  }

  checkpointDir(ctx: RunContext, step: number): string {
    return `${this.#outputDir(ctx)}/checkpoint-${step}`;
  }

  checkpointStart(ctx: RunContext, dir: string): Beat[] {
    return [
      this.#b(0, () =>
        [
          this.#tf(ctx, "trainer.py", LN.saveCheckpoint, `Saving model checkpoint to ${dir}`),
          this.#tf(
            ctx,
            "configuration_utils.py",
            LN.configSaved,
            `Configuration saved in ${dir}/config.json`,
          ),
          this.#tf(
            ctx,
            "configuration_utils.py",
            LN.genSaved,
            `Configuration saved in ${dir}/generation_config.json`,
          ),
        ].join("\n")),
    ];
  }

  /** ZeRO-2's own checkpoint of rank 0 inside the Trainer's folder (REALISM 1.5). */
  #deepspeedSave(ctx: RunContext, dir: string, step: number): string[] {
    const tag = `global_step${step}`;
    const model = `${dir}/${tag}/mp_rank_00_model_states.pt`;
    const prefix = ctx.cfg.precision === "fp16" ? "" : "bf16_";
    const optim = `${dir}/${tag}/${prefix}zero_pp_rank_0_mp_rank_00_optim_states.pt`;
    return [
      this.#ds(
        ctx,
        "logging.py:128:log_dist",
        `[Rank 0] [Torch] Checkpoint ${tag} is about to be saved!`,
      ),
      this.#ds(ctx, "logging.py:128:log_dist", `[Rank 0] Saving model checkpoint: ${model}`),
      this.#ds(ctx, "torch_checkpoint_engine.py:21:save", `[Torch] Saving ${model}...`),
      this.#ds(ctx, "torch_checkpoint_engine.py:23:save", `[Torch] Saved ${model}.`),
      this.#ds(ctx, "torch_checkpoint_engine.py:21:save", `[Torch] Saving ${optim}...`),
      this.#ds(ctx, "torch_checkpoint_engine.py:23:save", `[Torch] Saved ${optim}.`),
      this.#ds(
        ctx,
        "engine.py:3536:_save_zero_checkpoint",
        `${prefix.replace("_", "") || "fp16"} zero checkpoint saved ${optim}`,
      ),
      this.#ds(
        ctx,
        "torch_checkpoint_engine.py:33:commit",
        `[Torch] Checkpoint ${tag} is ready now!`,
      ),
    ];
  }

  checkpointDone(ctx: RunContext, c: CheckpointRecord, dir: string): Beat[] {
    const cfg = ctx.cfg;
    const shards = shardPlan(cfg.arch, cfg.precision === "fp32" ? 4 : 2).shards.length;
    const files = shards > 1 ? "model.safetensors.index.json" : "model.safetensors";
    // best_model_checkpoint: the folder saved right after the evaluation that improved
    if (this.#lastEval && this.#lastEval.step === c.step && this.#lastEval.improved) {
      this.#best = { dir, loss: this.#lastEval.loss };
    }
    this.#ckpts = this.#ckpts.filter((d) => d !== dir);
    this.#ckpts.push(dir);
    const deleted = this.#rotate();
    return [
      this.#b(0, () => {
        const lines: string[] = [];
        const w = savedFileMessage(files, dir, shards);
        if (w) lines.push(this.#tf(ctx, w[0], w[1], w[2]));
        for (const name of ["tokenizer_config.json", "special_tokens_map.json"]) {
          if (!tokenizerOf(ctx).files.some((f) => f.name === name)) continue;
          const m = savedFileMessage(name, dir, shards);
          if (m) lines.push(this.#tf(ctx, m[0], m[1], m[2]));
        }
        if (this.#zero2(ctx)) lines.push(...this.#deepspeedSave(ctx, dir, c.step));
        for (const d of deleted) {
          lines.push(
            this.#tf(
              ctx,
              "trainer.py",
              LN.rotate,
              `Deleting older checkpoint [${d}] due to args.save_total_limit`,
            ),
          );
        }
        return lines.join("\n");
      }),
    ];
  }

  /** `_rotate_checkpoints` with save_total_limit=2, keeping the best checkpoint. */
  #rotate(): string[] {
    const list = [...this.#ckpts];
    const best = this.#best?.dir;
    const at = best ? list.indexOf(best) : -1;
    if (at >= 0) {
      for (let i = at; i < list.length - 2; i++) {
        [list[i], list[i + 1]] = [list[i + 1] as string, list[i] as string];
      }
    }
    const n = Math.max(0, list.length - 2);
    const gone = list.slice(0, n);
    this.#ckpts = list.slice(n);
    return gone;
  }

  event(ctx: RunContext, e: RunEvent): Beat[] {
    switch (e.kind) {
      case "fault":
        return faultBeats(ctx, e);
      case "restart":
        return this.#relaunch(ctx, e);
      case "overflow":
        // GradScaler skips the step silently; DeepSpeed's own loss scaler says so
        if (!this.#zero2(ctx)) return [];
        return [
          this.#b(0, () =>
            this.#ds(
              ctx,
              "loss_scaler.py:190:update_scale",
              `[deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: ${e.attempted}, reducing to ${e.reduced}`,
            )),
        ];
      default:
        return []; // spikes and slow nodes show in the numbers only
    }
  }

  /** The worker group comes back: the script starts over and resumes from its checkpoint. */
  #relaunch(ctx: RunContext, e: Extract<RunEvent, { kind: "restart" }>): Beat[] {
    const c = ctx.cfg;
    const fromStep = e.fromStep;
    const restart = restartBeats(ctx, e);
    const resumed = fromStep > 0;
    const dir = this.checkpointDir(ctx, fromStep);
    const beats: Beat[] = [...restart, ...this.distributed(ctx)];
    if (resumed && fromStep > c.startStep) {
      beats.push(
        this.#b(
          100,
          () =>
            this.#main(
              ctx,
              `Checkpoint detected, resuming training at ${dir}. To avoid this behavior, change the \`--output_dir\` or add \`--overwrite_output_dir\` to train from scratch.`,
            ),
        ),
      );
    }
    beats.push(...this.model(ctx));
    beats.push({
      wait: ctx.physics.loadSeconds * 1000,
      text: () => this.loadBar(ctx, 1, ctx.physics.loadSeconds),
    });
    beats.push(...this.loaded(ctx, ctx.physics.loadSeconds), ...this.data(ctx));
    if (resumed) {
      beats.push({ ...this.#loadingModel(ctx, fromStep), wait: ctx.physics.reloadSeconds * 1000 });
    }
    if (this.#zero2(ctx)) beats.push(...this.#deepspeedInit(ctx));
    beats.push(this.#banner(ctx));
    if (resumed) beats.push(...this.#resumeLines(ctx, fromStep));
    beats.push(...this.#firstStepWarnings(ctx));
    beats.push({
      wait: 0,
      text: () => {
        // a new process: its own start time and loss total (train_loss divides by global_step)
        this.#trainStart = ctx.clock.now();
        this.#lossSum = 0;
        return "";
      },
    });
    return beats;
  }

  jobFailed(ctx: RunContext): Beat[] {
    return childFailedBeats(ctx, this.#script(ctx), -6);
  }

  oom(ctx: RunContext, o: OutOfMemory): Beat[] {
    const { site } = pythonPaths(ctx);
    const script = `/workspace/${this.#script(ctx)}`;
    const tf = `${site}/transformers/trainer.py`;
    const frames: [string, number, string, string][] = o.phase === "load"
      ? [
        [script, 412, "<module>", "main()"],
        [script, 361, "main", "trainer = Trainer("],
        [tf, 576, "__init__", "self._move_model_to_device(model, args.device)"],
        [tf, 840, "_move_model_to_device", "model = model.to(device)"],
        [
          `${site}/transformers/modeling_utils.py`,
          3164,
          "to",
          "return super().to(*args, **kwargs)",
        ],
      ]
      : [
        [script, 412, "<module>", "main()"],
        [script, 386, "main", "train_result = trainer.train(resume_from_checkpoint=checkpoint)"],
        [tf, 2123, "train", "return inner_training_loop("],
        [
          tf,
          2481,
          "_inner_training_loop",
          "tr_loss_step = self.training_step(model, inputs, num_items_in_batch)",
        ],
        [tf, 3612, "training_step", "self.accelerator.backward(loss, **kwargs)"],
        [`${site}/accelerate/accelerator.py`, 2246, "backward", "loss.backward(**kwargs)"],
      ];
    // weights that cannot fit fail when the Trainer moves the loaded model to the GPU
    const before = o.phase === "load" ? [...this.loaded(ctx, 0), ...this.#datasetBeats(ctx)] : [];
    return [...before, ...oomBeats(ctx, o, frames), ...childFailedBeats(ctx, this.#script(ctx), 1)];
  }

  warning(ctx: RunContext, w: WarningSpec, lines: string[]): string {
    switch (w.id) {
      case "hf-adamw-deprecated": // the Trainer builds torch.optim.AdamW (optim=adamw_torch)
      case "gradscaler-deprecated": // accelerate creates torch.amp.GradScaler("cuda")
        return "";
      case "use-cache-gc": // logger.warning_once, so the record's file is logging.py
        return lines.map((l, i) =>
          i === 0 ? this.#tf(ctx, "logging.py", LN.warnOnce, l, "WARNING") : l
        ).join("\n");
      default:
        return lines.join("\n");
    }
  }

  windowEnd(ctx: RunContext): Beat[] {
    // SLURM's --signal=USR1@120: the script's handler saves a checkpoint and exits for requeue
    const beats: Beat[] = [];
    if (!ctx.screen.live) beats.push({ wait: 0, text: () => this.#finalBar(ctx) });
    beats.push(this.#b(
      0,
      () =>
        this.#main(
          ctx,
          `Received SIGUSR1 (job time limit): saving ${
            this.checkpointDir(ctx, ctx.sim.step)
          } and exiting; the requeued job resumes from it`,
          "WARNING",
        ),
    ));
    return beats;
  }

  /** The training bar's last frame, as a log file keeps it. */
  #finalBar(ctx: RunContext): string {
    const elapsed = (ctx.clock.now() - this.#trainStart) / 1000;
    const done = ctx.sim.step - ctx.cfg.startStep;
    return meter(ctx, {
      desc: "",
      n: ctx.sim.step,
      total: ctx.cfg.totalSteps,
      elapsed,
      rate: elapsed > 0 ? done / elapsed : 0,
    });
  }

  /** `speed_metrics("train", …)` plus train_loss and epoch, as `Trainer.train` logs them. */
  trainMetrics(ctx: RunContext) {
    const c = ctx.cfg;
    const runtime = (ctx.clock.now() - this.#trainStart) / 1000;
    const step = Math.max(ctx.sim.step, 0.001);
    const samples = c.kind === "finetune"
      ? c.samplesPerEpoch * c.epochs
      : c.totalSteps * c.globalBatch;
    const pc = paramCount(c.arch);
    // floating_point_ops: 6 × non-embedding parameters × tokens, over every step of the run
    const flos = 6 * (pc.total - pc.embedding - pc.positional) * ctx.sim.step * c.globalBatch *
      c.seqLen;
    return {
      runtime,
      samplesPerSecond: samples / runtime,
      stepsPerSecond: c.totalSteps / runtime,
      trainLoss: this.#lossSum / step,
      // state.epoch after the last step, from the samples the engine consumed (an eval or a
      // save can follow the last logged window)
      epoch: c.samplesPerEpoch > 0 ? ctx.sim.samples / c.samplesPerEpoch : 0,
      flos,
      samples: c.kind === "finetune" ? c.samplesPerEpoch : c.totalSteps * c.globalBatch,
    };
  }

  #endOfTraining(ctx: RunContext): Beat[] {
    const beats: Beat[] = [];
    if (!ctx.screen.live) beats.push({ wait: 0, text: () => this.#finalBar(ctx) });
    beats.push(this.#b(0, () =>
      this.#tf(
        ctx,
        "trainer.py",
        LN.completed,
        "\n\nTraining completed. Do not forget to share your model on huggingface.co/models =)\n\n",
      )));
    const best = this.#best;
    if (best) {
      beats.push(
        this.#b(
          ctx.physics.reloadSeconds * 1000 * 0.3,
          () =>
            this.#tf(
              ctx,
              "trainer.py",
              LN.bestModel,
              `Loading best model from ${best.dir} (score: ${pyFloat(Math.fround(best.loss))}).`,
            ),
        ),
      );
    }
    beats.push({
      wait: 0,
      text: () => {
        const m = this.trainMetrics(ctx);
        this.#final = m;
        return "{'train_runtime': " + pyRound(m.runtime, 4) + ", 'train_samples_per_second': " +
          pyRound(m.samplesPerSecond, 3) + ", 'train_steps_per_second': " +
          pyRound(m.stepsPerSecond, 3) + ", 'train_loss': " + pyFloat(m.trainLoss) +
          ", 'epoch': " + pyRound(m.epoch, 2) + "}";
      },
    });
    return beats;
  }

  trainEnd(ctx: RunContext): Beat[] {
    // EarlyStoppingCallback only sets should_training_stop: the loop ends, nothing is printed
    return this.#endOfTraining(ctx);
  }

  // ----- export ----------------------------------------------------------------------------

  exportStart(ctx: RunContext, plan: ShardPlan): Beat[] {
    const dir = ctx.cfg.site.exportDir;
    return [
      this.#b(
        300,
        () => this.#tf(ctx, "trainer.py", LN.saveCheckpoint, `Saving model checkpoint to ${dir}`),
      ),
      // save_pretrained writes the configuration before the weights
      ...CONFIG_FILES.map((name) =>
        this.#b(10, () => {
          const m = savedFileMessage(name, dir, plan.shards.length)!;
          return this.#tf(ctx, m[0], m[1], m[2]);
        })
      ),
    ];
  }

  exportFile(ctx: RunContext, name: string, bytes: number): string {
    const c = ctx.cfg;
    const dir = c.site.exportDir;
    if (CONFIG_FILES.includes(name)) return ""; // logged before the weights
    const shards = shardPlan(c.arch, c.precision === "fp32" ? 4 : 2).shards.length;
    const m = savedFileMessage(name, dir, shards);
    if (m) return this.#tf(ctx, m[0], m[1], m[2]);
    // written without a log record of its own: the script's export hook reports it
    return this.#main(ctx, `wrote ${dir}/${name} (${bytesDecimal(bytes)})`);
  }

  exportDone(_ctx: RunContext, _plan: ShardPlan): Beat[] {
    return [];
  }

  /** `Trainer.log_metrics("train", …)`: keys padded, values right-aligned (print, no prefix). */
  #metricsBlock(ctx: RunContext): string[] {
    const m = this.#final ?? this.trainMetrics(ctx);
    const msec = Math.floor(Math.abs(m.runtime - Math.floor(m.runtime)) * 100);
    const rows: [string, string][] = [
      ["epoch", pyRound(m.epoch, 4)],
      ["total_flos", `${Math.floor(m.flos / 2 ** 30)}GF`],
      ["train_loss", pyRound(m.trainLoss, 4)],
      ["train_runtime", `${pyTimedelta(m.runtime)}.${String(msec).padStart(2, "0")}`],
      ["train_samples", String(m.samples)],
      ["train_samples_per_second", pyRound(Number(pyRound(m.samplesPerSecond, 3)), 4)],
      ["train_steps_per_second", pyRound(Number(pyRound(m.stepsPerSecond, 3)), 4)],
    ];
    const kw = Math.max(...rows.map(([k]) => k.length));
    const vw = Math.max(...rows.map(([, v]) => v.length));
    return [
      "***** train metrics *****",
      ...rows.map(([k, v]) => `  ${k.padEnd(kw)} = ${v.padStart(vw)}`),
    ];
  }

  summary(ctx: RunContext): string[] {
    const o = ctx.totals.outcome;
    // run_clm's log_metrics after trainer.train() returned (a requeued window exits before)
    const lines = o === "completed" || o === "early-stopped" ? this.#metricsBlock(ctx) : [];
    return [...lines, ...summaryTable(ctx)];
  }
}
