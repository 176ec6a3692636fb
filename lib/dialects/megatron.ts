/**
 * Megatron-LM (`pretrain_gpt.py` → `megatron/training/training.py`, core_v0.9 era) launched with
 * torchrun (REALISM 1.1): the world-size line, the sorted arguments dump, distributed and kernel
 * set-up, per-shard parameter counts, the datetime markers, the dataset sizes, the setup timers,
 * the iteration line of `training_log` every log interval, the one-off memory report, validation
 * frames, torch_dist checkpoint lines and the exit lines. Every number comes from the run context;
 * the lines Megatron computes itself (padded vocabulary, theoretical memory, dataset target sizes)
 * use Megatron's own formulas on the hidden configuration.
 */
import { TOKENIZERS, type WarningSpec } from "../data.ts";
import { paramCount } from "../engine/arch.ts";
import type { ShardPlan } from "../engine/artifacts.ts";
import type { OutOfMemory, RunEvent } from "../engine/events.ts";
import { MIB } from "../engine/memory.ts";
import type { CheckpointRecord, EvalRecord } from "../engine/run.ts";
import type { Beat, RunContext } from "../phases/context.ts";
import { fillWarning, warningsFor } from "../phases/warnings.ts";
import { bytesDecimal, commas, fixed, pyFloat, sciE, timestamp } from "../render/format.ts";
import { noise } from "../core/rng.ts";
import { paint } from "../term/ansi.ts";
import type { Dialect, LiveState, LogWindow } from "./dialect.ts";
import { childFailedBeats, faultBeats, oomBeats, restartBeats } from "./failures.ts";
import { ncclInitBeats } from "./nccl.ts";
import { summaryTable, tqdmBars } from "./torchrun.ts";

/** Where the Megatron-LM checkout lives in the training container. */
export const MEGATRON_DIR = "/workspace/Megatron-LM";

const SPACES = "                                ";

/** Right-align `s` in `n` columns (Python `{:nd}` for the integers Megatron prints). */
export function padLeft(s: string, n: number): string {
  return s.length >= n ? s : SPACES.slice(0, n - s.length) + s;
}

/** Python `str()` of an argument value as `_print_args` shows it. */
export type ArgValue = string | number | boolean | null | string[];

function pyStr(v: ArgValue): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return "[" + v.map((x) => `'${x}'`).join(", ") + "]";
  return Number.isInteger(v) ? String(v) : pyFloat(v);
}

/** A float argument printed the way Python prints a float (`1.0`, `0.0003`, `1e-05`). */
function float(x: number): string {
  return pyFloat(x);
}

/** `_print_args`: two spaces, the name, dots to 48 characters, the value; sorted case-insensitively. */
export function argumentsDump(title: string, args: [string, ArgValue][]): string[] {
  const lines = args.map(([name, v]) =>
    "  " + name + " " + ".".repeat(Math.max(0, 48 - name.length)) + " " + pyStr(v)
  );
  const keyed = lines.map((l) => [l.toLowerCase(), l] as const);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return [
    `------------------------ ${title} ------------------------`,
    ...keyed.map((k) => k[1]),
    `-------------------- end of ${title} ---------------------`,
  ];
}

/** `print_datetime`: `[label] datetime: YYYY-MM-DD HH:MM:SS ` (the trailing space is Megatron's). */
export function datetimeLine(ctx: RunContext, label: string): string {
  return "[" + label + "] datetime: " + timestamp(ctx.clock.now(), ctx.tz) + " ";
}

/** Megatron's timers block (`Timers.log`, min/max across ranks): names dot-padded to 48. */
export function timersBlock(rows: [string, number, number][]): string {
  let s = "(min, max) time across ranks (ms):";
  for (const [name, min, max] of rows) {
    s += "\n    " + (name + " ").padEnd(48, ".") + ": (" + fixed(min, 2) + ", " + fixed(max, 2) +
      ")";
  }
  return s;
}

/** How far apart ranks finish a barrier-ended timer: grows slowly with the job size (ms). */
export function rankSkewMs(ctx: RunContext): number {
  return 0.01 + 0.004 * Math.log2(Math.max(1, ctx.cfg.gpus));
}

/**
 * Spread of the save timer across ranks: it starts and stops on barriers, so the ranks differ
 * only by when each left them, a little more on some saves than others (0.02–1.5 ms).
 */
function saveSkewMs(ctx: RunContext, step: number): number {
  const u = (noise(ctx.cfg.seed, 0x5a7e, step) + 1) / 2;
  return rankSkewMs(ctx) * (2 + 18 * u);
}

/** `evaluate_and_print_results`: the loss line framed by dashes one longer than it. */
export function validationFrame(prefix: string, loss: number): string {
  const s = " validation loss at " + prefix + " | lm loss value: " + sciE(loss, 6) +
    " | lm loss PPL: " + sciE(Math.exp(Math.min(20, loss)), 6) + " | ";
  const dash = "-".repeat(s.length + 1);
  return dash + "\n" + s + "\n" + dash;
}

/** The directory the site keeps checkpoints, data and tokenizers under. */
export function siteRoot(ctx: RunContext): string {
  const dir = ctx.cfg.site.checkpointDir;
  const cut = dir.lastIndexOf("/");
  return cut > 0 ? dir.slice(0, cut) : dir;
}

/** Indexed dataset prefix (`--data-path`) of the run's corpus, preprocessed Megatron-style. */
export function dataPath(ctx: RunContext): string {
  const id = ctx.cfg.dataset.id;
  return `${siteRoot(ctx)}/data/${id}/${id}_text_document`;
}

export function tokenizerOfRun(ctx: RunContext) {
  return TOKENIZERS.find((t) => t.id === ctx.cfg.model.tokenizer) ?? TOKENIZERS[0]!;
}

/** The model's name as a directory name (`GPT-2 Medium` → `GPT-2-Medium`). */
export function modelDirName(ctx: RunContext): string {
  return ctx.cfg.model.name.replaceAll(" ", "-");
}

/** Megatron's tokenizer class and files for the run's tokenizer. */
export function megatronTokenizer(ctx: RunContext): {
  type: string;
  model: string | null;
  vocabFile: string | null;
  mergeFile: string | null;
} {
  const t = tokenizerOfRun(ctx);
  const root = `${siteRoot(ctx)}/tokenizers`;
  if (t.id === "gpt2") {
    return {
      type: "GPT2BPETokenizer",
      model: null,
      vocabFile: `${root}/gpt2/vocab.json`,
      mergeFile: `${root}/gpt2/merges.txt`,
    };
  }
  return {
    type: "HuggingFaceTokenizer",
    model: `${root}/${modelDirName(ctx)}`,
    vocabFile: null,
    mergeFile: null,
  };
}

/** `_vocab_size_with_padding`: the tokenizer's vocabulary rounded up to 128 × TP. */
export function paddedVocab(ctx: RunContext): { orig: number; padded: number } {
  const orig = tokenizerOfRun(ctx).vocab;
  const multiple = 128 * ctx.cfg.layout.tp;
  return { orig, padded: Math.ceil(orig / multiple) * multiple };
}

export function microBatches(ctx: RunContext): number {
  const l = ctx.cfg.layout;
  return ctx.cfg.globalBatch / (l.microBatch * l.dp);
}

/** Global rank of the data-parallel rank 0 of shard (tp, pp): Megatron orders tp-cp-ep-dp-pp. */
export function shardRank(ctx: RunContext, tp: number, pp: number): number {
  const l = ctx.cfg.layout;
  return tp + l.tp * l.dp * pp;
}

/**
 * Every (tp, pp) shard in the order their lines reach the console: each DP-rank-0 prints its
 * own, so they arrive interleaved rather than sorted.
 */
export function shardOrder(ctx: RunContext, salt: number): [number, number][] {
  const l = ctx.cfg.layout;
  const out: [number, number, number][] = [];
  for (let pp = 0; pp < l.pp; pp++) {
    for (let tp = 0; tp < l.tp; tp++) {
      // stages finish in order, give or take a little; ranks within a stage in any order
      out.push([tp, pp, pp + 1.5 * noise(ctx.cfg.seed, shardRank(ctx, tp, pp), salt)]);
    }
  }
  out.sort((a, b) => a[2] - b[2]);
  return out.map(([tp, pp]) => [tp, pp]);
}

/**
 * Parameters each shard holds (the engine's per-stage count), with Megatron's padded
 * vocabulary in place of the tokenizer's on the stages that hold the embedding or output layer.
 */
export function shardParams(ctx: RunContext, pp: number): number {
  const c = ctx.cfg;
  const a = c.arch;
  const l = c.layout;
  const stages = ctx.physics.candidate.memory.stages;
  const st = stages[pp] ?? stages[0]!;
  const extraRows = paddedVocab(ctx).padded - a.vocab;
  let tables = 0;
  if (pp === 0) tables++;
  if (pp === l.pp - 1 && (!a.tiedEmbeddings || l.pp > 1)) tables++;
  return Math.round(st.params + (tables * extraRows * a.hidden) / l.tp);
}

/** ` > number of parameters on (tensor, pipeline) model parallel rank (t, p): N`, every shard. */
export function parameterLines(ctx: RunContext): string {
  return shardOrder(ctx, 11).map(([tp, pp]) =>
    ` > number of parameters on (tensor, pipeline) model parallel rank (${tp}, ${pp}): ${
      shardParams(ctx, pp)
    }`
  ).join("\n");
}

/** The engine's memory of a stage as `report_memory` prints it: MiB as raw Python floats. */
export function memoryReportLines(ctx: RunContext, iteration: number): string {
  const stages = ctx.physics.candidate.memory.stages;
  const mib = (bytes: number, granule: number) =>
    pyFloat((Math.ceil(bytes / granule) * granule) / MIB);
  return shardOrder(ctx, 23).map(([tp, pp]) => {
    const st = stages[pp] ?? stages[0]!;
    const settled = st.weights + st.grads + st.optimizer + st.workspace;
    return `[Rank ${
      shardRank(ctx, tp, pp)
    }] (after ${iteration} iterations) memory (MB) | allocated: ${
      mib(settled, 512)
    } | max allocated: ${mib(st.allocated, 512)} | reserved: ${
      mib(st.reserved, 2 * MIB)
    } | max reserved: ${mib(st.reserved, 2 * MIB)}`;
  }).join("\n");
}

/** `report_theoretical_memory(verbose=True)` on rank 0, Megatron's estimate from its arguments. */
export function theoreticalMemoryLines(ctx: RunContext): string[] {
  const c = ctx.cfg;
  const a = c.arch;
  const l = c.layout;
  const h = a.hidden;
  const L = a.layers;
  const heads = a.heads;
  const groups = a.kvHeads;
  const qRatio = (a.headDim * heads) / h;
  const experts = a.moe ? a.moe.experts : 1;
  const ffn = a.moe ? a.moe.expertFfn : a.ffn;
  const gated = a.mlp === "swiglu" || a.mlp === "geglu" ? 1.5 : 1;
  const vp = paddedVocab(ctx).padded;
  const transformer = 2 * L * h * h *
    ((1 + groups / heads) * qRatio + (ffn / h) * experts * gated + 2 / h + 1 / (L * h));
  const embedding = h * vp;
  const untied = !a.tiedEmbeddings;
  const embeddingLayers = untied ? 2 * embedding : embedding;
  const total = transformer + embeddingLayers;
  const lines = [
    // Python's `{: .2f}`: a space where the sign would go
    `Number of parameters in transformer layers in billions:  ${fixed(transformer / 1e9, 2)}`,
    `Number of parameters in embedding layers in billions: ${fixed(embeddingLayers / 1e9, 2)}`,
    `Total number of parameters in billions: ${fixed(total / 1e9, 2)}`,
  ];
  let mostLoaded = (transformer / l.pp + embedding) / l.tp;
  if (untied && l.pp === 1) mostLoaded += embedding / l.tp;
  lines.push(
    `Number of parameters in most loaded shard in billions: ${fixed(mostLoaded / 1e9, 4)}`,
  );
  if (l.pp > 1) {
    lines.push(
      `Number of parameters in other shards in billions: ${
        fixed(transformer / (l.pp * l.tp) / 1e9, 4)
      }`,
    );
  }
  const bytesPerParam = l.sharding === "ddp" ? 18 : 6 + 12 / l.dp;
  const weightOpt = (mostLoaded * bytesPerParam) / MIB;
  const sequenceParallel = l.tp > 1;
  if (!sequenceParallel || l.recompute !== "selective") {
    lines.push(`Theoretical memory footprints: weight and optimizer=${fixed(weightOpt, 2)} MB`);
    return lines;
  }
  const s = c.seqLen;
  const b = l.microBatch;
  let act = s * b * h * (18 + 4 * (a.ffn / h));
  lines.push(
    `Activation memory footprint per transformer layer: ${fixed(act / MIB / l.tp, 1)} MB`,
  );
  act *= L;
  act += 8 * s * b * l.pp;
  act += s * b * h * l.pp;
  if (l.vpp > 1) {
    const penalty = 1 + (l.pp - 1) / (l.pp * l.vpp);
    lines.push(`Memory penalty from interleaved schedule: ${fixed(penalty, 2)}`);
    lines.push(`Number of in-flight microbatches: ${Math.ceil(penalty * l.pp)}`);
    act *= penalty;
  } else if (l.pp > 1) {
    const nmb = microBatches(ctx);
    act *= Math.min(1, nmb / l.pp);
    lines.push(`Number of in-flight microbatches: ${Math.min(nmb, l.pp)}`);
  }
  if (l.pp === 1) act += s * b * h * 4 * (1 + vp / h);
  const actMb = act / l.tp / MIB;
  lines.push(
    `Theoretical memory footprints: weight and optimizer=${fixed(weightOpt, 2)} MB, activation=${
      fixed(actMb, 2)
    } MB, total=${fixed(weightOpt + actMb, 2)} MB\n`,
  );
  return lines;
}

/** Sizes `build_train_valid_test_datasets` asks the dataset builder for. */
export function datasetTargetLines(ctx: RunContext): string[] {
  const c = ctx.cfg;
  const train = c.totalSteps * c.globalBatch;
  const valid = (Math.floor(c.totalSteps / c.evalInterval) + 1) * c.evalIters * c.globalBatch;
  const test = c.evalIters * c.globalBatch;
  return [
    " > datasets target sizes (minimum size):",
    `    train:      ${train}`,
    `    validation: ${valid}`,
    `    test:       ${test}`,
  ];
}

/** Where the (converted) pretrained weights of a fine-tune live. */
export function pretrainedDir(ctx: RunContext): string {
  const l = ctx.cfg.layout;
  return `${siteRoot(ctx)}/${modelDirName(ctx)}-mcore-tp${l.tp}-pp${l.pp}`;
}

/** How a window onto a longer run meets its `--exit-duration-in-mins`. */
interface ExitPlan {
  minutes: number;
  /**
   * Ms from the start of training to the time-limit checks after the last step and the one
   * before (after that step's validation and save, where the check sits in `train()`).
   */
  last: number;
  beforeLast: number;
}

const EXIT_PLANS = new WeakMap<RunContext, ExitPlan | null>();

/** Slack the launch-time estimate of the set-up keeps, so the data set-up can absorb it. */
const EXIT_MARGIN_MS = 3000;

/**
 * The time limit of a window: Megatron checks `train_time > exit_duration_in_mins` after every
 * iteration (`train_time` from the process start), so a window that ends at step `endStep` has
 * a limit its last iteration crosses. The engine forecasts the training part exactly; the
 * set-up is estimated here, and `exitSlackMs` stretches the data set-up to land the limit in the
 * middle of the last iteration.
 */
function exitPlan(ctx: RunContext): ExitPlan | null {
  if (EXIT_PLANS.has(ctx)) return EXIT_PLANS.get(ctx)!;
  const c = ctx.cfg;
  let plan: ExitPlan | null = null;
  if (c.endStep < c.totalSteps) {
    const p = ctx.physics;
    let last = 0, beforeLast = 0;
    for (const f of ctx.sim.forecast()) {
      beforeLast = last;
      last += f.stepMs + f.evalMs + f.saveMs;
    }
    const setup = (p.ncclInitSeconds + p.buildSeconds + p.loadSeconds + p.dataSeconds + 3) * 1000;
    const minutes = Math.max(1, Math.ceil((setup + last + EXIT_MARGIN_MS) / 60_000));
    plan = { minutes, last, beforeLast };
  }
  EXIT_PLANS.set(ctx, plan);
  return plan;
}

/**
 * `--exit-duration-in-mins` of a job that is a window onto a longer run (null for a run that
 * goes to its last step).
 */
export function exitDurationMinutes(ctx: RunContext): number | null {
  return exitPlan(ctx)?.minutes ?? null;
}

/**
 * Extra ms the data set-up takes so the time limit falls in the middle of the window's last
 * iteration: `trainsInMs` is how long from now until the first iteration starts without it.
 */
export function exitSlackMs(ctx: RunContext, processStartMs: number, trainsInMs: number): number {
  const plan = exitPlan(ctx);
  if (!plan) return 0;
  const start = ctx.clock.now() + trainsInMs - processStartMs;
  return Math.max(0, plan.minutes * 60_000 - start - (plan.last + plan.beforeLast) / 2);
}

/**
 * `--distributed-timeout-minutes` (default 10): the process groups' timeout, after which the
 * NCCL watchdog takes a hung job down; a flaky cluster's jobs fail fast (one minute).
 */
function timeoutMinutes(ctx: RunContext): number {
  return Math.max(1, Math.round(ctx.rates.watchdogMs / 60_000));
}

function lrDecayStyle(ctx: RunContext): string {
  const d = ctx.cfg.lr.decay;
  return d === "wsd" ? "WSD" : d;
}

/** The arguments of the job (a realistic subset of the ~400 Megatron prints), all from the config. */
function megatronArgs(ctx: RunContext): [string, ArgValue][] {
  const c = ctx.cfg;
  const a = c.arch;
  const l = c.layout;
  const o = c.optimizer;
  const moe = a.moe;
  const bf16 = c.precision === "bf16" || c.precision === "fp8";
  const fp16 = c.precision === "fp16";
  const rope = a.positional === "rope";
  const tok = megatronTokenizer(ctx);
  const dropout = a.style === "gpt2" ? 0.1 : 0.0;
  const vpp = l.vpp > 1 ? l.vpp : null;
  const full = l.recompute === "full";
  const exit = exitDurationMinutes(ctx);
  const stageLayers = ctx.physics.candidate.memory.stages.map((st) => st.layers);
  const even = a.layers % (l.pp * l.vpp) === 0;
  const unevenPp = a.layers % l.pp !== 0;
  const args: [string, ArgValue][] = [
    ["accumulate_allreduce_grads_in_fp32", bf16],
    ["adam_beta1", float(o.beta1)],
    ["adam_beta2", float(o.beta2)],
    ["adam_eps", float(o.eps)],
    ["add_bias_linear", a.linearBias],
    ["add_position_embedding", a.positional === "learned"],
    ["add_qkv_bias", a.qkvBias],
    ["adlr_autoresume", false],
    ["adlr_autoresume_interval", 1000],
    ["apply_layernorm_1p", false],
    ["apply_query_key_layer_scaling", false],
    ["apply_residual_connection_post_layernorm", false],
    ["apply_rope_fusion", rope],
    ["async_save", null],
    ["attention_dropout", float(dropout)],
    ["attention_softmax_in_fp32", false],
    ["barrier_with_L1_time", true],
    ["bf16", bf16],
    ["bias_dropout_fusion", true],
    ["bias_gelu_fusion", a.mlp === "gelu"],
    ["bias_swiglu_fusion", a.mlp === "swiglu"],
    ["calculate_per_token_loss", false],
    ["check_for_nan_in_loss_and_grad", true],
    ["ckpt_assume_constant_structure", false],
    ["ckpt_format", "torch_dist"],
    ["ckpt_fully_parallel_load", false],
    ["ckpt_fully_parallel_save", true],
    ["clip_grad", float(o.clipGrad)],
    ["consumed_train_samples", 0],
    ["consumed_valid_samples", 0],
    ["context_parallel_size", 1],
    ["data_cache_path", null],
    ["data_parallel_random_init", false],
    ["data_parallel_size", l.dp],
    ["data_path", [dataPath(ctx)]],
    ["dataloader_type", "single"],
    ["decoupled_lr", null],
    ["deterministic_mode", false],
    ["distribute_saved_activations", false],
    ["distributed_backend", "nccl"],
    ["distributed_timeout_minutes", timeoutMinutes(ctx)],
    ["empty_unused_memory_level", 0],
    ["encoder_num_layers", a.layers],
    ["encoder_seq_length", c.seqLen],
    ["end_weight_decay", float(o.weightDecay)],
    ["eod_mask_loss", false],
    ["eval_interval", c.evalInterval],
    ["eval_iters", c.evalIters],
    ["exit_duration_in_mins", exit],
    ["exit_interval", null],
    ["exit_on_missing_checkpoint", false],
    ["exit_signal_handler", false],
    ["expert_model_parallel_size", l.ep],
    ["ffn_hidden_size", a.ffn],
    ["finetune", false],
    ["fp16", fp16],
    ["fp16_lm_cross_entropy", false],
    ["fp32_residual_connection", false],
    ["fp8", c.precision === "fp8" ? "hybrid" : null],
    ["fp8_amax_compute_algo", "most_recent"],
    ["fp8_amax_history_len", c.precision === "fp8" ? 1024 : 1],
    ["global_batch_size", c.globalBatch],
    ["gradient_accumulation_fusion", true],
    ["group_query_attention", a.kvHeads < a.heads],
    ["hidden_dropout", float(dropout)],
    ["hidden_size", a.hidden],
    ["hysteresis", 2],
    ["init_method_std", float(0.02)],
    ["initial_loss_scale", 4294967296],
    ["kv_channels", a.headDim],
    ["lazy_mpu_init", null],
    ["load", c.site.checkpointDir],
    ["local_rank", null],
    ["log_interval", c.logInterval],
    ["log_loss_scale_to_tensorboard", true],
    ["log_memory_to_tensorboard", false],
    ["log_num_zeros_in_grad", false],
    ["log_params_norm", false],
    ["log_progress", false],
    ["log_throughput", true],
    ["log_timers_to_tensorboard", false],
    ["log_validation_ppl_to_tensorboard", true],
    ["log_world_size_to_tensorboard", false],
    ["loss_scale", null],
    ["loss_scale_window", 1000],
    ["lr", float(c.lr.peak)],
    ["lr_decay_iters", c.lr.totalSteps],
    ["lr_decay_samples", null],
    ["lr_decay_style", lrDecayStyle(ctx)],
    ["lr_warmup_fraction", null],
    ["lr_warmup_init", float(0)],
    ["lr_warmup_iters", c.lr.warmupSteps],
    ["lr_warmup_samples", 0],
    ["lr_wsd_decay_iters", c.lr.decay === "wsd" ? c.lr.decaySteps : null],
    ["lr_wsd_decay_style", c.lr.decay === "wsd" ? "linear" : "exponential"],
    ["make_vocab_size_divisible_by", 128],
    ["manual_gc", false],
    ["masked_softmax_fusion", true],
    ["max_position_embeddings", a.context],
    ["merge_file", tok.mergeFile],
    ["micro_batch_size", l.microBatch],
    ["min_loss_scale", float(1)],
    ["min_lr", float(c.lr.min)],
    ["mmap_bin_files", true],
    ["mock_data", false],
    ["moe_aux_loss_coeff", float(moe ? 0.01 : 0)],
    ["moe_ffn_hidden_size", moe ? moe.expertFfn : null],
    ["moe_grouped_gemm", moe !== undefined],
    ["moe_router_load_balancing_type", "aux_loss"],
    ["moe_router_topk", moe ? moe.topK : 2],
    [
      "moe_shared_expert_intermediate_size",
      moe && moe.shared > 0 ? moe.shared * moe.expertFfn : null,
    ],
    ["moe_token_dispatcher_type", moe ? "alltoall" : "allgather"],
    ["multi_latent_attention", a.mla !== undefined],
    ["nccl_communicator_config_path", null],
    ["no_load_optim", null],
    ["no_load_rng", null],
    ["no_persist_layer_norm", false],
    ["no_save_optim", null],
    ["no_save_rng", null],
    ["norm_epsilon", float(a.normEps ?? 1e-5)],
    ["normalization", a.norm === "rmsnorm" ? "RMSNorm" : "LayerNorm"],
    ["num_attention_heads", a.heads],
    ["num_dataset_builder_threads", 1],
    ["num_experts", moe ? moe.experts : null],
    ["num_layers", a.layers],
    ["num_layers_per_virtual_pipeline_stage", vpp && even ? a.layers / (l.pp * l.vpp) : null],
    ["num_virtual_stages_per_pipeline_rank", vpp && !even ? vpp : null],
    ["decoder_first_pipeline_num_layers", unevenPp ? stageLayers[0] ?? null : null],
    ["decoder_last_pipeline_num_layers", unevenPp ? stageLayers[l.pp - 1] ?? null : null],
    ["num_query_groups", a.mla ? 1 : a.kvHeads],
    ["num_workers", 2],
    ["optimizer", "adam"],
    ["overlap_grad_reduce", l.dp > 1],
    ["overlap_p2p_comm", vpp !== null],
    ["overlap_param_gather", l.dp > 1],
    ["override_opt_param_scheduler", false],
    ["params_dtype", bf16 ? "torch.bfloat16" : fp16 ? "torch.float16" : "torch.float32"],
    ["perform_initialization", true],
    ["pipeline_model_parallel_size", l.pp],
    ["pipeline_model_parallel_split_rank", null],
    [
      "position_embedding_type",
      rope ? "rope" : a.positional === "learned" ? "learned_absolute" : "none",
    ],
    ["pretrained_checkpoint", c.kind === "finetune" ? pretrainedDir(ctx) : null],
    ["profile", false],
    ["qk_layernorm", a.style === "olmo2"],
    ["rampup_batch_size", null],
    ["rank", 0],
    ["recompute_granularity", full ? "full" : "selective"],
    ["recompute_method", full ? "uniform" : null],
    ["recompute_num_layers", full ? 1 : null],
    ["reset_attention_mask", false],
    ["reset_position_ids", false],
    ["rotary_base", Math.round(a.ropeTheta ?? 10000)],
    ["rotary_interleaved", false],
    ["rotary_percent", float(1)],
    ["rotary_seq_len_interpolation_factor", null],
    ["sample_rate", float(1)],
    ["save", c.site.checkpointDir],
    ["save_interval", c.saveInterval],
    ["seed", c.seed],
    ["seq_length", c.seqLen],
    ["sequence_parallel", l.tp > 1],
    ["sgd_momentum", float(0.9)],
    ["skip_train", false],
    ["spec", null],
    ["split", "969,30,1"],
    ["squared_relu", false],
    ["start_weight_decay", float(o.weightDecay)],
    ["swiglu", a.mlp === "swiglu"],
    ["tensor_model_parallel_size", l.tp],
    ["tensorboard_dir", `${c.site.checkpointDir}/tensorboard`],
    ["tensorboard_log_interval", 1],
    ["tensorboard_queue_size", 1000],
    ["test_data_path", null],
    ["timing_log_level", 0],
    ["timing_log_option", "minmax"],
    ["tokenizer_model", tok.model],
    ["tokenizer_type", tok.type],
    ["tp_comm_overlap", false],
    ["train_data_path", null],
    ["train_iters", c.totalSteps],
    ["train_samples", null],
    ["transformer_impl", "transformer_engine"],
    ["transformer_pipeline_model_parallel_size", l.pp],
    ["untie_embeddings_and_output_weights", !a.tiedEmbeddings],
    ["use_checkpoint_args", false],
    ["use_checkpoint_opt_param_scheduler", false],
    ["use_cpu_initialization", null],
    ["use_dist_ckpt", true],
    ["use_distributed_optimizer", l.sharding !== "ddp"],
    ["use_flash_attn", false],
    ["use_legacy_models", false],
    ["use_one_sent_docs", false],
    ["use_ring_exchange_p2p", false],
    ["use_rotary_position_embeddings", rope],
    ["use_tp_pp_dp_mapping", false],
    ["valid_data_path", null],
    ["variable_seq_lengths", false],
    ["virtual_pipeline_model_parallel_size", vpp],
    ["vocab_extra_ids", 0],
    ["vocab_file", tok.vocabFile],
    ["vocab_size", null],
    ["wandb_exp_name", ""],
    ["wandb_project", ""],
    ["wandb_save_dir", ""],
    ["weight_decay", float(o.weightDecay)],
    ["weight_decay_incr_style", "constant"],
    ["world_size", c.gpus],
    ["yaml_cfg", null],
  ];
  return args;
}

/**
 * How the layers split over pipeline stages: evenly, interleaved with a fixed number of layers per
 * virtual stage, or (the engine's split gives the first stages one layer more) with the first and
 * last stage sized explicitly.
 */
function pipelineLayoutFlags(ctx: RunContext): string[] {
  const a = ctx.cfg.arch;
  const l = ctx.cfg.layout;
  const f: string[] = [];
  const layers = ctx.physics.candidate.memory.stages.map((st) => st.layers);
  if (a.layers % l.pp !== 0) {
    f.push(
      `--decoder-first-pipeline-num-layers ${layers[0]}`,
      `--decoder-last-pipeline-num-layers ${layers[l.pp - 1]}`,
    );
  }
  if (l.vpp > 1) {
    f.push(
      a.layers % (l.pp * l.vpp) === 0
        ? `--num-layers-per-virtual-pipeline-stage ${a.layers / (l.pp * l.vpp)}`
        : `--num-virtual-stages-per-pipeline-rank ${l.vpp}`,
    );
  }
  return f;
}

/** `pretrain_gpt.py` flags of the job, in the order Megatron's example scripts group them. */
function launchArgs(ctx: RunContext): string {
  const c = ctx.cfg;
  const a = c.arch;
  const l = c.layout;
  const o = c.optimizer;
  const tok = megatronTokenizer(ctx);
  const f: string[] = [
    `--tensor-model-parallel-size ${l.tp}`,
    `--pipeline-model-parallel-size ${l.pp}`,
  ];
  f.push(...pipelineLayoutFlags(ctx));
  if (l.ep > 1) f.push(`--expert-model-parallel-size ${l.ep}`);
  if (l.tp > 1) f.push("--sequence-parallel");
  f.push("--use-distributed-optimizer", "--overlap-grad-reduce", "--overlap-param-gather");
  f.push(
    `--num-layers ${a.layers}`,
    `--hidden-size ${a.hidden}`,
    `--ffn-hidden-size ${a.ffn}`,
    `--num-attention-heads ${a.heads}`,
  );
  if (a.kvHeads < a.heads) f.push("--group-query-attention", `--num-query-groups ${a.kvHeads}`);
  if (a.moe) {
    f.push(
      `--num-experts ${a.moe.experts}`,
      `--moe-router-topk ${a.moe.topK}`,
      `--moe-ffn-hidden-size ${a.moe.expertFfn}`,
      "--moe-grouped-gemm",
    );
  }
  f.push(`--seq-length ${c.seqLen}`, `--max-position-embeddings ${a.context}`);
  if (a.positional === "rope") {
    f.push("--position-embedding-type rope", `--rotary-base ${Math.round(a.ropeTheta ?? 10000)}`);
  }
  if (a.mlp === "swiglu") f.push("--swiglu");
  if (a.norm === "rmsnorm") f.push("--normalization RMSNorm");
  if (!a.tiedEmbeddings) f.push("--untie-embeddings-and-output-weights");
  if (!a.linearBias) f.push("--disable-bias-linear");
  if (l.recompute === "full") {
    f.push(
      "--recompute-granularity full",
      "--recompute-method uniform",
      "--recompute-num-layers 1",
    );
  }
  f.push(
    `--micro-batch-size ${l.microBatch}`,
    `--global-batch-size ${c.globalBatch}`,
    `--train-iters ${c.totalSteps}`,
    `--lr ${float(c.lr.peak)}`,
    `--min-lr ${float(c.lr.min)}`,
    `--lr-decay-style ${lrDecayStyle(ctx)}`,
    `--lr-warmup-iters ${c.lr.warmupSteps}`,
  );
  if (c.lr.decay === "wsd") {
    f.push("--lr-wsd-decay-style linear", `--lr-wsd-decay-iters ${c.lr.decaySteps}`);
  }
  f.push(
    `--weight-decay ${float(o.weightDecay)}`,
    `--adam-beta1 ${float(o.beta1)}`,
    `--adam-beta2 ${float(o.beta2)}`,
    `--adam-eps ${float(o.eps)}`,
    `--clip-grad ${float(o.clipGrad)}`,
  );
  if (c.precision === "bf16" || c.precision === "fp8") f.push("--bf16");
  if (c.precision === "fp8") f.push("--fp8-format hybrid");
  if (c.precision === "fp16") f.push("--fp16");
  f.push(`--data-path ${dataPath(ctx)}`, "--split 969,30,1", `--tokenizer-type ${tok.type}`);
  if (tok.model) f.push(`--tokenizer-model ${tok.model}`);
  if (tok.vocabFile) f.push(`--vocab-file ${tok.vocabFile}`, `--merge-file ${tok.mergeFile}`);
  f.push(
    `--log-interval ${c.logInterval}`,
    "--log-throughput",
    `--eval-interval ${c.evalInterval}`,
    `--eval-iters ${c.evalIters}`,
    `--save-interval ${c.saveInterval}`,
    `--save ${c.site.checkpointDir}`,
    `--load ${c.site.checkpointDir}`,
    "--ckpt-format torch_dist",
  );
  if (c.kind === "finetune") f.push(`--pretrained-checkpoint ${pretrainedDir(ctx)}`);
  if (timeoutMinutes(ctx) !== 10) f.push(`--distributed-timeout-minutes ${timeoutMinutes(ctx)}`);
  const exit = exitDurationMinutes(ctx);
  if (exit !== null) f.push(`--exit-duration-in-mins ${exit}`);
  f.push(`--tensorboard-dir ${c.site.checkpointDir}/tensorboard`, `--seed ${c.seed}`);
  return f.join(" ");
}

/** The torchrun command line in Megatron's example-script style. */
export function megatronLaunchCommand(ctx: RunContext, script: string, flags: string): string {
  const c = ctx.cfg;
  const addr = c.nodes > 1 ? ctx.host(0) : "localhost";
  return `torchrun --nproc_per_node ${c.gpusPerNode} --nnodes ${c.nodes} --node_rank 0 --master_addr ${addr} --master_port ${c.site.masterPort} ${script} ${flags}`;
}

/** The launch command and the torchrun warnings it prints (torch ≥ 2.4 glog-style copy). */
export function launchBeats(ctx: RunContext, cmd: string): Beat[] {
  const beats: Beat[] = [{ wait: 0, text: paint(ctx.screen.color, "bold", `$ ${cmd}`) }];
  for (const w of warningsFor(ctx, "launch")) {
    if (w.id === "torchrun-omp-legacy") continue;
    beats.push({ wait: 350, text: () => fillWarning(ctx, w).join("\n") });
  }
  return beats;
}

/** `load_checkpoint` finding no tracker file in `--load` (a fresh run). */
export function noCheckpointText(ctx: RunContext): string {
  return `WARNING: could not find the metadata file ${ctx.cfg.site.checkpointDir}/latest_checkpointed_iteration.txt \n    will not load any checkpoints and will start from random`;
}

/**
 * The first line(s) of a checkpoint load at `iteration`: the run's own torch_dist checkpoint, or
 * (a fine-tune with nothing saved yet) the converted pretrained release checkpoint.
 */
function loadStartText(ctx: RunContext, iteration: number): string {
  const c = ctx.cfg;
  if (c.kind === "finetune" && iteration === 0) {
    return `Checkpoint file not found in load directory ${c.site.checkpointDir} attempting to finetune with checkpoint in ${
      pretrainedDir(ctx)
    }\n loading release checkpoint from ${pretrainedDir(ctx)}`;
  }
  return ` loading distributed checkpoint from ${c.site.checkpointDir} at iteration ${iteration}`;
}

function loadDoneText(ctx: RunContext, iteration: number): string {
  const c = ctx.cfg;
  const dir = c.kind === "finetune" && iteration === 0 ? pretrainedDir(ctx) : c.site.checkpointDir;
  return ` checkpoint version 3.0\n  successfully loaded checkpoint from ${dir} [ t 0, p 0 ] at iteration ${iteration}`;
}

/** A CPython object address as `repr` shows it (`0x7f` + 10 hex digits), fixed per run. */
export function pyAddress(seed: number, salt: number): string {
  const hi = Math.floor((noise(seed, salt, 1) + 1) * 0x7fff) & 0xffff;
  const lo = Math.floor((noise(seed, salt, 2) + 1) * 0x7fffffff) >>> 0;
  return "0x7f" + hi.toString(16).padStart(4, "0").slice(0, 2) +
    lo.toString(16).padStart(8, "0").slice(0, 7) + "0";
}

interface StepK {
  ofTotal: string;
  gbsPart: string;
  tokensPerStep: number;
  flopsPerToken: number;
  gpus: number;
}

interface RunState {
  ctx: RunContext;
  k: StepK;
  /** `report_memory_flag`: the memory report follows the first log of each process. */
  memoryReported: boolean;
  /** When this process started (`_TRAIN_START_TIME`), epoch ms. */
  processStartMs: number;
  /** Start of a timed section whose length a later line prints. */
  markMs: number;
  setupStartMs: number;
  modelSetupMs: number;
  dataStartMs: number;
  /** `[after training is done]` was printed (before the final save). */
  doneMarked: boolean;
  /** The time-limit exit line was printed. */
  exited: boolean;
  /** When the time limit was found crossed (after the last iteration), epoch ms. */
  exitCheckMs: number;
}

/**
 * `--exit-duration-in-mins` reached: the line Megatron prints before it exits, after the save,
 * with the `train_time` it measured at the check (`checkMs`).
 */
export function exitLine(ctx: RunContext, processStartMs: number, checkMs: number): string {
  return datetimeLine(
    ctx,
    `exiting program after ${pyFloat((checkMs - processStartMs) / 60000)} minutes`,
  );
}

export class MegatronDialect implements Dialect {
  readonly name = "megatron";
  #s: RunState | null = null;

  #state(ctx: RunContext): RunState {
    let s = this.#s;
    if (!s || s.ctx !== ctx) {
      const c = ctx.cfg;
      s = {
        ctx,
        k: {
          ofTotal: "/" + padLeft(String(c.totalSteps), 8) + " | consumed samples: ",
          gbsPart: " | global batch size: " + padLeft(String(c.globalBatch), 5) + " |",
          tokensPerStep: c.globalBatch * c.seqLen,
          flopsPerToken: ctx.physics.candidate.perf.flopsPerToken,
          gpus: c.gpus,
        },
        memoryReported: false,
        processStartMs: ctx.totals.startMs,
        markMs: ctx.clock.now(),
        setupStartMs: ctx.clock.now(),
        modelSetupMs: 0,
        dataStartMs: ctx.clock.now(),
        doneMarked: false,
        exited: false,
        exitCheckMs: 0,
      };
      this.#s = s;
    }
    return s;
  }

  #line(wait: number, text: () => string): Beat {
    return { wait, text };
  }

  launch(ctx: RunContext): Beat[] {
    this.#state(ctx);
    return launchBeats(ctx, megatronLaunchCommand(ctx, "pretrain_gpt.py", launchArgs(ctx)));
  }

  distributed(ctx: RunContext): Beat[] {
    const s = this.#state(ctx);
    const c = ctx.cfg;
    const l = c.layout;
    const bf16 = c.precision === "bf16" || c.precision === "fp8";
    const dtype = bf16
      ? "torch.bfloat16"
      : c.precision === "fp16"
      ? "torch.float16"
      : "torch.float32";
    const head: string[] = [
      `using world size: ${c.gpus}, data-parallel size: ${l.dp}, context-parallel size: 1, hierarchical context-parallel sizes: None, tensor-model-parallel size: ${l.tp}, pipeline-model-parallel size: ${l.pp}`,
    ];
    if (l.vpp === 1) {
      head.push(
        "WARNING: Setting args.overlap_p2p_comm to False since non-interleaved schedule does not support overlapping p2p communication",
      );
    }
    if (bf16) head.push("accumulate and all-reduce gradients in fp32 for bfloat16 data type.");
    head.push(`using ${dtype} for parameters ...`);
    const v = paddedVocab(ctx);
    const tok = megatronTokenizer(ctx);
    const seq = c.seqLen;
    const attnBatch = (c.arch.heads / l.tp) * l.microBatch;
    const fusedOk = c.precision !== "fp32" && seq > 16 && seq <= 16384 && seq % 4 === 0 &&
      attnBatch % 4 === 0;
    const beats: Beat[] = [
      { wait: 900, text: head.join("\n") },
      { wait: 30, text: argumentsDump("arguments", megatronArgs(ctx)).join("\n") },
      { wait: 20, text: `setting number of micro-batches to constant ${microBatches(ctx)}` },
      { wait: 10, text: `> building ${tok.type} tokenizer ...` },
      {
        wait: 400,
        text: ` > padded vocab (size: ${v.orig}) with ${
          v.padded - v.orig
        } dummy tokens (new size: ${v.padded})`,
      },
      { wait: 10, text: "> initializing torch distributed ..." },
      {
        wait: 300,
        text:
          `> initialized tensor model parallel with size ${l.tp}\n> initialized pipeline model parallel with size ${l.pp}`,
      },
      { wait: 40, text: `> setting random seeds to ${c.seed} ...` },
      this.#line(20, () => {
        s.markMs = ctx.clock.now();
        return "> compiling dataset index builder ...";
      }),
      {
        wait: 40,
        text: [
          `make: Entering directory '${MEGATRON_DIR}/megatron/core/datasets'`,
          "make: Nothing to be done for 'default'.",
          `make: Leaving directory '${MEGATRON_DIR}/megatron/core/datasets'`,
        ].join("\n"),
      },
      this.#line(
        5,
        () =>
          `>>> done with dataset index builder. Compilation time: ${
            fixed((ctx.clock.now() - s.markMs) / 1000, 3)
          } seconds`,
      ),
    ];
    if (!fusedOk) {
      beats.push({
        wait: 5,
        text:
          "WARNING: constraints for invoking optimized fused softmax kernel are not met. We default back to unfused kernel invocations.",
      });
    }
    beats.push(this.#line(5, () => {
      s.markMs = ctx.clock.now();
      return "> compiling and loading fused kernels ...";
    }));
    // the barrier after the kernels is the first collective: NCCL sets up its communicators here
    beats.push(...ncclInitBeats(ctx));
    beats.push(
      this.#line(
        120,
        () =>
          `>>> done with compiling and loading fused kernels. Compilation time: ${
            fixed((ctx.clock.now() - s.markMs) / 1000, 3)
          } seconds`,
      ),
      this.#line(
        200,
        () =>
          `time to initialize megatron (seconds): ${
            fixed((ctx.clock.now() - s.processStartMs) / 1000, 3)
          }\n${datetimeLine(ctx, "after megatron is initialized")}`,
      ),
    );
    return beats;
  }

  model(ctx: RunContext): Beat[] {
    const s = this.#state(ctx);
    const c = ctx.cfg;
    const beats: Beat[] = [
      this.#line(50, () => {
        s.setupStartMs = ctx.clock.now();
        return "building GPT model ...";
      }),
    ];
    if (c.kind === "pretrain" && c.startStep === 0) return beats; // built during the init bar
    beats.push({ wait: ctx.physics.buildSeconds * 1000, text: parameterLines(ctx) });
    beats.push(...this.#optimizerSetup(ctx));
    beats.push({ wait: 150, text: loadStartText(ctx, c.kind === "finetune" ? 0 : c.startStep) });
    return beats;
  }

  /** DDP and optimizer set-up lines (`megatron.core` loggers at INFO). */
  #optimizerSetup(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const o = c.optimizer;
    const l = c.layout;
    const bf16 = c.precision === "bf16" || c.precision === "fp8";
    const fp16 = c.precision === "fp16";
    const dtype = bf16 ? "torch.bfloat16" : fp16 ? "torch.float16" : "torch.float32";
    const shard = Math.max(...ctx.physics.candidate.memory.stages.map((st) => st.params));
    // Megatron fills gradient buckets of 40M elements × DP (≥ 40M) before reducing
    const bucket = Math.max(40_000_000, 1_000_000 * l.dp);
    const buckets = Math.max(1, Math.ceil(shard / bucket));
    const distOpt = l.sharding !== "ddp";
    const tf = (b: boolean) => (b ? "True" : "False");
    return [
      {
        wait: 120,
        text:
          `INFO:megatron.core.distributed.distributed_data_parallel:Setting up DistributedDataParallel with config DistributedDataParallelConfig(grad_reduce_in_fp32=${
            tf(bf16)
          }, overlap_grad_reduce=${tf(l.dp > 1)}, use_distributed_optimizer=${
            tf(distOpt)
          }, check_for_nan_in_grad=True, bucket_size=${
            l.dp > 1 ? bucket : "None"
          }, average_in_collective=False)\nINFO:megatron.core.distributed.param_and_grad_buffer:Number of buckets for gradient all-reduce / reduce-scatter: ${buckets}`,
      },
      {
        wait: 80,
        text:
          `INFO:megatron.core.optimizer:Setting up optimizer with config OptimizerConfig(optimizer='adam', lr=${
            float(c.lr.peak)
          }, min_lr=${float(c.lr.min)}, decoupled_lr=None, decoupled_min_lr=None, weight_decay=${
            float(o.weightDecay)
          }, fp16=${tf(fp16)}, bf16=${
            tf(bf16)
          }, params_dtype=${dtype}, loss_scale=None, initial_loss_scale=4294967296, min_loss_scale=1.0, loss_scale_window=1000, hysteresis=2, adam_beta1=${
            float(o.beta1)
          }, adam_beta2=${float(o.beta2)}, adam_eps=${
            float(o.eps)
          }, sgd_momentum=0.9, use_distributed_optimizer=${tf(distOpt)}, overlap_grad_reduce=${
            tf(l.dp > 1)
          }, overlap_param_gather=${tf(l.dp > 1)}, clip_grad=${
            float(o.clipGrad)
          }, log_num_zeros_in_grad=False, barrier_with_L1_time=True, timers=<megatron.core.timers.Timers object at ${
            pyAddress(c.seed, 3)
          }>)\n> learning rate decay style: ${lrDecayStyle(ctx)}`,
      },
    ];
  }

  loadBar(ctx: RunContext, frac: number, elapsed: number): string {
    const c = ctx.cfg;
    if (frac >= 1) {
      if (c.kind === "pretrain" && c.startStep === 0) return parameterLines(ctx);
      return loadDoneText(ctx, c.kind === "finetune" ? 0 : c.startStep);
    }
    const what = c.kind === "pretrain" && c.startStep === 0
      ? "initializing model weights"
      : "loading checkpoint shards";
    return `${what} ... ${Math.round(frac * 100)}% (${fixed(elapsed, 0)}s)`;
  }

  loaded(ctx: RunContext, seconds: number): Beat[] {
    const s = this.#state(ctx);
    const c = ctx.cfg;
    const skew = rankSkewMs(ctx);
    const beats: Beat[] = [];
    let loadMs: number;
    if (c.kind === "pretrain" && c.startStep === 0) {
      beats.push(...this.#optimizerSetup(ctx));
      beats.push({ wait: 30, text: noCheckpointText(ctx) });
      loadMs = 0.4 + 0.05 * Math.log2(c.gpus + 1);
    } else {
      loadMs = seconds * 1000;
    }
    beats.push(
      { wait: 20, text: timersBlock([["load-checkpoint", loadMs - skew, loadMs]]) },
      this.#line(40, () => {
        s.modelSetupMs = ctx.clock.now() - s.setupStartMs;
        return datetimeLine(ctx, "after model, optimizer, and learning rate scheduler are built");
      }),
    );
    return beats;
  }

  data(ctx: RunContext): Beat[] {
    const s = this.#state(ctx);
    const skew = rankSkewMs(ctx);
    const beats: Beat[] = [
      this.#line(20, () => {
        s.dataStartMs = ctx.clock.now();
        return ["> building train, validation, and test datasets ...", ...datasetTargetLines(ctx)]
          .join("\n");
      }),
      { wait: 30, text: "> building train, validation, and test datasets for GPT ..." },
      { wait: ctx.physics.dataSeconds * 1000, text: "> finished creating GPT datasets ..." },
      this.#line(60, () => datetimeLine(ctx, "after dataloaders are built")),
      this.#line(10, () => {
        const dataMs = ctx.clock.now() - s.dataStartMs;
        return "done with setup ...\n" + timersBlock([
          ["model-and-optimizer-setup", s.modelSetupMs - skew * 40, s.modelSetupMs],
          ["train/valid/test-data-iterators-setup", dataMs - skew * 30, dataMs],
        ]);
      }),
    ];
    // a window's time limit falls in its last iteration: building the index takes the slack
    const untilTraining = [...beats, ...this.trainStart(ctx)].reduce((t, b) => t + b.wait, 0);
    beats[2]!.wait += exitSlackMs(ctx, s.processStartMs, untilTraining);
    return beats;
  }

  trainStart(ctx: RunContext): Beat[] {
    return [
      { wait: 10, text: "training ..." },
      this.#line(150, () => datetimeLine(ctx, "before the start of training step")),
    ];
  }

  /** training_log prints only when the iteration is a multiple of --log-interval. */
  logsAt(ctx: RunContext, step: number): boolean {
    return step % ctx.cfg.logInterval === 0;
  }

  stepLog(ctx: RunContext, w: LogWindow): string {
    const s = this.#state(ctx);
    const k = s.k;
    const r = w.last;
    const ms = w.meanStepMs;
    const tflops = (k.flopsPerToken * k.tokensPerStep) / (ms / 1000) / k.gpus / 1e12;
    const line = " [" + timestamp(ctx.clock.now(), ctx.tz) + "] iteration " +
      padLeft(String(r.step), 8) + k.ofTotal + padLeft(String(r.samples), 12) +
      " | elapsed time per iteration (ms): " + fixed(ms, 1) +
      " | throughput per GPU (TFLOP/s/GPU): " + fixed(tflops, 1) + " | learning rate: " +
      sciE(r.lr, 6) + k.gbsPart +
      // training_log averages the loss over the advanced (not skipped) iterations and prints
      // it only when positive: a window of skipped iterations has none; an overflowed
      // iteration returns no grad norm (None), so the field is left out
      (w.skipped < w.steps ? " lm loss: " + sciE(w.meanLoss, 6) + " |" : "") + " loss scale: " +
      fixed(r.lossScale, 1) + " |" +
      (r.skipped ? "" : " grad norm: " + fixed(r.gradNorm, 3) + " |") +
      " number of skipped iterations: " + padLeft(String(w.skipped), 3) +
      " | number of nan iterations:   0 |";
    if (s.memoryReported) return line;
    // after the first log of a process (the optimizer state exists by then): rank 0's estimate
    // and every shard's allocator numbers
    s.memoryReported = true;
    return line + "\n" + theoreticalMemoryLines(ctx).join("\n") + "\n" +
      memoryReportLines(ctx, r.step);
  }

  live(ctx: RunContext, s: LiveState): string[] {
    return tqdmBars(ctx, s);
  }

  evalStart(_ctx: RunContext): Beat[] {
    return []; // Megatron evaluates silently during training
  }

  evalBar(ctx: RunContext, frac: number, _elapsed: number): string {
    const iters = ctx.cfg.evalIters;
    return `Evaluating iter ${Math.min(iters, Math.floor(frac * iters) + 1)}/${iters}`;
  }

  evalDone(_ctx: RunContext, e: EvalRecord): Beat[] {
    return [{ wait: 0, text: validationFrame(`iteration ${e.step}`, e.loss) }];
  }

  checkpointDir(ctx: RunContext, step: number): string {
    return `${ctx.cfg.site.checkpointDir}/iter_${String(step).padStart(7, "0")}`;
  }

  checkpointStart(ctx: RunContext, _dir: string): Beat[] {
    const beats: Beat[] = [];
    const done = this.#finalMarker(ctx);
    if (done) beats.push(done);
    beats.push({
      wait: 0,
      text: `saving checkpoint at iteration ${
        padLeft(String(ctx.sim.step), 7)
      } to ${ctx.cfg.site.checkpointDir} in torch_dist format`,
    });
    return beats;
  }

  /** `[after training is done]` precedes the final save of a finished run. */
  #finalMarker(ctx: RunContext): Beat | null {
    const s = this.#state(ctx);
    if (ctx.totals.outcome !== "completed" && ctx.totals.outcome !== "early-stopped") return null;
    if (s.doneMarked) return null;
    s.doneMarked = true;
    return this.#line(0, () => datetimeLine(ctx, "after training is done"));
  }

  checkpointDone(ctx: RunContext, c: CheckpointRecord, _dir: string): Beat[] {
    const s = this.#state(ctx);
    const ms = c.durationMs;
    const beats: Beat[] = [
      {
        wait: 0,
        text: `  successfully saved checkpoint from iteration ${
          padLeft(String(c.step), 7)
        } to ${ctx.cfg.site.checkpointDir}\n${
          timersBlock([["save-checkpoint", ms - saveSkewMs(ctx, c.step), ms]])
        }`,
      },
    ];
    // the time limit saves, then exits
    if (ctx.totals.outcome === "window" && !s.exited) beats.push(this.#exitBeat(ctx));
    return beats;
  }

  #exitBeat(ctx: RunContext): Beat {
    const s = this.#state(ctx);
    s.exited = true;
    return this.#line(
      0,
      () => exitLine(ctx, s.processStartMs, s.exitCheckMs),
    );
  }

  event(ctx: RunContext, e: RunEvent): Beat[] {
    switch (e.kind) {
      case "fault":
        return faultBeats(ctx, e);
      case "restart": {
        const s = this.#state(ctx);
        const c = ctx.cfg;
        const beats: Beat[] = [
          ...restartBeats(ctx, e),
          this.#line(0, () => {
            // a new process: its own start time and its own first-log memory report
            s.processStartMs = ctx.clock.now();
            s.memoryReported = false;
            return "> initializing torch distributed ...";
          }),
          ...ncclInitBeats(ctx),
        ];
        const skew = rankSkewMs(ctx);
        const reload = ctx.physics.reloadSeconds * 1000;
        if (e.fromStep === 0 && c.kind === "pretrain") {
          beats.push({ wait: 300, text: noCheckpointText(ctx) });
        } else {
          beats.push(
            { wait: 300, text: loadStartText(ctx, e.fromStep) },
            {
              wait: reload,
              text: loadDoneText(ctx, e.fromStep) + "\n" +
                timersBlock([["load-checkpoint", reload - skew, reload]]),
            },
          );
        }
        beats.push(...this.trainStart(ctx));
        return beats;
      }
      default:
        // overflows show in the skipped count and the loss scale; spikes and stragglers in the
        // numbers only
        return [];
    }
  }

  jobFailed(ctx: RunContext): Beat[] {
    return childFailedBeats(ctx, "pretrain_gpt.py", -6);
  }

  oom(ctx: RunContext, o: OutOfMemory): Beat[] {
    const script = `${MEGATRON_DIR}/pretrain_gpt.py`;
    const training = `${MEGATRON_DIR}/megatron/training/training.py`;
    const schedules = `${MEGATRON_DIR}/megatron/core/pipeline_parallel/schedules.py`;
    const l = ctx.cfg.layout;
    const schedule = l.pp === 1
      ? ["forward_backward_no_pipelining", 482]
      : l.vpp > 1
      ? ["forward_backward_pipelining_with_interleaving", 1176]
      : ["forward_backward_pipelining_without_interleaving", 1496];
    const frames: [string, number, string, string][] = o.phase === "load"
      ? [
        [script, 263, "<module>", "pretrain("],
        [
          training,
          282,
          "pretrain",
          "model, optimizer, opt_param_scheduler = setup_model_and_optimizer(",
        ],
        [
          training,
          549,
          "setup_model_and_optimizer",
          "model = get_model(model_provider_func, model_type)",
        ],
        [training, 437, "get_model", "model_module.cuda(torch.cuda.current_device())"],
      ]
      : [
        [script, 263, "<module>", "pretrain("],
        [training, 349, "pretrain", "iteration, num_floating_point_operations_so_far = train("],
        [training, 1264, "train", "train_step(forward_step_func,"],
        [training, 686, "train_step", "losses_reduced = forward_backward_func("],
        [
          schedules,
          schedule[1] as number,
          schedule[0] as string,
          "input_tensor_grad = backward_step(",
        ],
        [
          schedules,
          366,
          "backward_step",
          "torch.autograd.backward(output_tensor[0], grad_tensors=output_tensor_grad[0])",
        ],
      ];
    return [...oomBeats(ctx, o, frames, "direct"), ...childFailedBeats(ctx, "pretrain_gpt.py", 1)];
  }

  warning(_ctx: RunContext, _w: WarningSpec, lines: string[]): string {
    return lines.join("\n");
  }

  windowEnd(ctx: RunContext): Beat[] {
    const s = this.#state(ctx);
    s.exitCheckMs = ctx.clock.now();
    // the time limit is checked after the save of that iteration: if this step was just saved,
    // exit now; otherwise the final save comes first and prints the exit line after it
    const saved = ctx.totals.lastCheckpoint === this.checkpointDir(ctx, ctx.sim.step);
    if (!saved || s.exited) return [];
    return [this.#exitBeat(ctx)];
  }

  trainEnd(ctx: RunContext): Beat[] {
    const beats: Beat[] = [];
    const done = this.#finalMarker(ctx);
    if (done) beats.push(done);
    // after training Megatron evaluates once more on the validation and the test split
    const step = ctx.sim.step;
    const evalIters = ctx.cfg.evalIters;
    for (const split of ["validation", "test"]) {
      const e = ctx.sim.evaluate();
      const per = e.durationMs / evalIters;
      for (let i = 1; i <= evalIters; i++) {
        beats.push({ wait: per, text: `Evaluating iter ${i}/${evalIters}` });
      }
      beats.push({ wait: 0, text: validationFrame(`iteration ${step} on ${split} set`, e.loss) });
    }
    return beats;
  }

  exportStart(ctx: RunContext, plan: ShardPlan): Beat[] {
    const c = ctx.cfg;
    const l = c.layout;
    const src = this.checkpointDir(ctx, ctx.sim.step);
    return [
      {
        wait: 0,
        text:
          `> converting ${src} (torch_dist, TP=${l.tp}, PP=${l.pp}) to Hugging Face ${c.model.hfClass}`,
      },
      {
        wait: ctx.physics.loadSeconds * 1000,
        text: `> loaded ${commas(paramCount(c.arch).total)} parameters (${
          exportDtype(ctx)
        }); writing ${plan.shards.length} shard${plan.shards.length > 1 ? "s" : ""} (${
          bytesDecimal(plan.totalSize)
        }) to ${c.site.exportDir}`,
      },
    ];
  }

  exportFile(_ctx: RunContext, name: string, bytes: number): string {
    return `  saved ${name} (${bytesDecimal(bytes)})`;
  }

  exportDone(ctx: RunContext, plan: ShardPlan): Beat[] {
    return [{
      wait: 0,
      text: `> conversion done: ${plan.shards.length} weight file${
        plan.shards.length > 1 ? "s" : ""
      }, ${bytesDecimal(plan.totalSize)} of tensors in ${ctx.cfg.site.exportDir}`,
    }];
  }

  summary(ctx: RunContext): string[] {
    return summaryTable(ctx);
  }
}

function exportDtype(ctx: RunContext): string {
  return ctx.cfg.precision === "fp32" ? "float32" : "bfloat16";
}
