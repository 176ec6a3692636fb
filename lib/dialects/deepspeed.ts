/**
 * DeepSpeed (REALISM 1.5) launched with torchrun: DeepSpeed's logger (`[asctime] [LEVEL]
 * [file:line:func] msg`, `[Rank 0] ` for `log_dist`) through accelerator detection, distributed
 * init, engine set-up (ZeRO stage from the engine's sharding, see_memory_usage snapshots from the
 * engine's per-GPU memory), the engine configuration dump and the user's JSON; then every
 * `steps_per_print` the progress and throughput-timer lines plus the training script's own loss
 * line. With tensor or pipeline parallelism the script is Megatron-DeepSpeed, whose iteration line
 * is the older BLOOM-era variant (seconds per iteration, consumed tokens, samples/s, hardware
 * TFLOPs, no timestamp). Checkpoints are `global_step{N}` tags with ZeRO optimizer shards per
 * data-parallel rank; the export runs `zero_to_fp32.py`.
 */
import type { WarningSpec } from "../data.ts";
import { largestLayerParams, paramCount, tensors } from "../engine/arch.ts";
import { type ShardPlan, shardPlan } from "../engine/artifacts.ts";
import type { OutOfMemory, RunEvent } from "../engine/events.ts";
import { GIB } from "../engine/memory.ts";
import type { CheckpointRecord, EvalRecord } from "../engine/run.ts";
import type { Beat, RunContext } from "../phases/context.ts";
import { pythonPaths } from "../phases/warnings.ts";
import {
  bytesDecimal,
  commas,
  ctime,
  fixed,
  humanDuration,
  pyFloat,
  sciE,
  sciLower,
  timestampMs,
} from "../render/format.ts";
import { noise } from "../core/rng.ts";
import type { Dialect, LiveState, LogWindow } from "./dialect.ts";
import { childFailedBeats, faultBeats, oomBeats, restartBeats } from "./failures.ts";
import { meter } from "./hf.ts";
import { ncclInitBeats } from "./nccl.ts";
import {
  argumentsDump,
  type ArgValue,
  datasetTargetLines,
  datetimeLine,
  exitDurationMinutes,
  exitLine,
  exitSlackMs,
  launchBeats,
  MEGATRON_DIR,
  megatronLaunchCommand,
  megatronTokenizer,
  microBatches,
  modelDirName,
  noCheckpointText,
  paddedVocab,
  padLeft,
  parameterLines,
  pyAddress,
  siteRoot,
  validationFrame,
} from "./megatron.ts";
import { summaryTable, tqdmBars } from "./torchrun.ts";

/**
 * Source lines of the DeepSpeed release a run uses (they move between releases). 0.15.4 lines
 * and the 0.16.9 logging/config/see_memory_usage/stage3 lines are taken from real logs; the
 * others are carried over from the nearest release seen.
 */
interface DsRelease {
  version: string;
  logDist: number;
  accelerator: number;
  configInit: number;
  configHeader: number;
  configLine: number;
  userConfig: number;
}

const DS_0_15: DsRelease = {
  version: "0.15.4",
  logDist: 128,
  accelerator: 203,
  configInit: 733,
  configHeader: 999,
  configLine: 1003,
  userConfig: 989,
};

const DS_0_16: DsRelease = {
  version: "0.16.9",
  logDist: 107,
  accelerator: 219,
  configInit: 735,
  configHeader: 1003,
  configLine: 1007,
  userConfig: 993,
};

/** The DeepSpeed release installed next to the run's torch (0.15 for torch 2.4–2.5). */
function release(ctx: RunContext): DsRelease {
  const [major, minor] = ctx.cfg.site.torchVersion.split(".").map(Number);
  return (major ?? 2) > 2 || (minor ?? 0) >= 6 ? DS_0_16 : DS_0_15;
}

/** `ThroughputTimer(start_step=2)`: global steps of a process the timer does not time. */
const TIMER_START_STEP = 2;

/** ZeRO stage of the engine's sharding (DDP runs as stage 0). */
export function zeroStage(ctx: RunContext): number {
  switch (ctx.cfg.layout.sharding) {
    case "zero1":
      return 1;
    case "zero2":
      return 2;
    case "zero3":
      return 3;
    case "ddp":
      return 0;
  }
}

/** Megatron-DeepSpeed (model parallelism) rather than a plain DeepSpeed training script. */
function isMds(ctx: RunContext): boolean {
  return ctx.cfg.layout.tp > 1 || ctx.cfg.layout.pp > 1;
}

function gradAccumulation(ctx: RunContext): number {
  return microBatches(ctx);
}

const tf = (b: boolean) => (b ? "True" : "False");

/** Python's `round(x, 2)` as printed. */
function round2(x: number): string {
  return pyFloat(Math.round(x * 100) / 100);
}

/** A float value in the user's JSON (Python keeps int and float apart). */
class PyF {
  constructor(readonly x: number) {}
}
type Json = number | PyF | string | boolean | null | Json[] | { [k: string]: Json };

/** DeepSpeed's `ScientificNotationEncoder`: numbers above 1e3 as `%e`, lists inline, `", "` ends. */
function dsJson(o: Json, level = 0): string {
  const prefixClose = " ".repeat(level * 4);
  const prefix = " ".repeat((level + 1) * 4);
  if (typeof o === "boolean") return o ? "true" : "false";
  if (o === null) return "null";
  if (typeof o === "string") return JSON.stringify(o);
  if (o instanceof PyF || typeof o === "number") {
    const x = o instanceof PyF ? o.x : o;
    if (x > 1e3) return x === Infinity ? "inf" : sciLower(x, 6);
    return o instanceof PyF ? pyFloat(x) : String(x);
  }
  if (Array.isArray(o)) return "[" + o.map((v) => dsJson(v, level + 1)).join(", ") + "]";
  const items = Object.entries(o).map(([k, v]) => `\n${prefix}"${k}": ${dsJson(v, level + 1)}`);
  return "{" + items.join(", ") + `\n${prefixClose}}`;
}

/** Python `repr` of a config value (dicts and lists in the engine configuration dump). */
function pyRepr(o: Json): string {
  if (typeof o === "boolean") return o ? "True" : "False";
  if (o === null) return "None";
  if (typeof o === "string") return `'${o}'`;
  if (o instanceof PyF) return pyFloat(o.x);
  if (typeof o === "number") return String(o);
  if (Array.isArray(o)) return "[" + o.map(pyRepr).join(", ") + "]";
  return "{" + Object.entries(o).map(([k, v]) => `'${k}': ${pyRepr(v)}`).join(", ") + "}";
}

/** LR scheduler of the DeepSpeed config for the run's schedule (WSD is the script's own). */
function scheduler(ctx: RunContext): { name: string | null; params: { [k: string]: Json } | null } {
  const s = ctx.cfg.lr;
  if (s.decay === "cosine") {
    return {
      name: "WarmupCosineLR",
      params: {
        total_num_steps: s.totalSteps,
        warmup_min_ratio: new PyF(0),
        warmup_num_steps: s.warmupSteps,
        cos_min_ratio: new PyF(s.peak > 0 ? s.min / s.peak : 0),
      },
    };
  }
  if (s.decay === "linear") {
    return {
      name: "WarmupDecayLR",
      params: {
        total_num_steps: s.totalSteps,
        warmup_min_lr: new PyF(0),
        warmup_max_lr: new PyF(s.peak),
        warmup_num_steps: s.warmupSteps,
      },
    };
  }
  return { name: null, params: null };
}

/** The user's DeepSpeed JSON config (what `json = {…}` echoes back). */
function userConfig(ctx: RunContext): { [k: string]: Json } {
  const c = ctx.cfg;
  const o = c.optimizer;
  const l = c.layout;
  const stage = zeroStage(ctx);
  const sched = scheduler(ctx);
  const cfg: { [k: string]: Json } = {
    train_batch_size: c.globalBatch,
    train_micro_batch_size_per_gpu: l.microBatch,
    gradient_accumulation_steps: gradAccumulation(ctx),
    steps_per_print: c.logInterval,
    gradient_clipping: new PyF(o.clipGrad),
  };
  if (!isMds(ctx)) {
    cfg["optimizer"] = {
      type: "AdamW",
      params: {
        lr: new PyF(c.lr.peak),
        betas: [new PyF(o.beta1), new PyF(o.beta2)],
        eps: new PyF(o.eps),
        weight_decay: new PyF(o.weightDecay),
      },
    };
    if (sched.name && sched.params) cfg["scheduler"] = { type: sched.name, params: sched.params };
  }
  if (c.precision === "fp16") {
    cfg["fp16"] = {
      enabled: true,
      loss_scale: 0,
      initial_scale_power: 16,
      loss_scale_window: 1000,
      hysteresis: 2,
      min_loss_scale: 1,
    };
  } else if (c.precision !== "fp32") {
    cfg["bf16"] = { enabled: true };
  }
  const zero: { [k: string]: Json } = { stage };
  if (stage > 0) {
    zero["overlap_comm"] = true;
    zero["contiguous_gradients"] = true;
    zero["reduce_bucket_size"] = new PyF(5e8);
    if (stage < 3) zero["allgather_bucket_size"] = new PyF(5e8);
    else {
      zero["stage3_prefetch_bucket_size"] = new PyF(5e7);
      zero["stage3_param_persistence_threshold"] = new PyF(1e5);
    }
  }
  cfg["zero_optimization"] = zero;
  cfg["wall_clock_breakdown"] = false;
  return cfg;
}

/** Parameters ZeRO-3 keeps whole on every rank (numel below the persistence threshold). */
function persistentParams(ctx: RunContext): { count: number; numel: number } {
  let count = 0;
  let numel = 0;
  for (const t of tensors(ctx.cfg.arch)) {
    if (t.numel < 100_000) {
      count++;
      numel += t.numel;
    }
  }
  return { count, numel };
}

/** Host memory of a node (GiB the kernel reports) and what the job uses of it. */
function hostMemory(ctx: RunContext): { usedGB: number; percent: number } {
  const g = ctx.cfg.gpu;
  const totalGiB = g.arch === "Hopper" || g.arch === "Blackwell" ? 2015.6 : 1007.7;
  // the OS and page cache, one Python process per GPU, and the pinned staging buffers of the
  // checkpoint loader (a share of this node's part of the weights)
  const perProcess = 4.2 + ctx.physics.loadBytes / ctx.cfg.gpus / GIB * 0.5;
  const used = 21.3 + ctx.cfg.gpusPerNode * perProcess;
  return {
    usedGB: Math.round(used * 100) / 100,
    percent: Math.round((1000 * used) / totalGiB) / 10,
  };
}

interface StepK {
  /** `] [INFO] [logging.py:N:log_dist] [Rank 0] step=` */
  stepHead: string;
  timerHead: string;
  moms: string;
  ga: number;
  gbs: number;
  seqLen: number;
  ofTotal: string;
  tokensPerStep: number;
  flopsPerToken: number;
  hwFactor: number;
  gpus: number;
  memAllocated: string;
  maxMemAllocated: string;
  fp16: boolean;
  mds: boolean;
  mdsOfTotal: string;
  mdsGbs: string;
}

interface RunState {
  ctx: RunContext;
  k: StepK;
  rel: DsRelease;
  /** Engine `skipped_steps` (restored with the checkpoint). */
  skipped: number;
  /** Skipped count at each saved step (what a reload restores). */
  skippedAt: Map<number, number>;
  /** First step of this process (the throughput timer counts from here). */
  processStep: number;
  processStartMs: number;
  /** Throughput timer totals of this process. */
  timerMs: number;
  timerSteps: number;
  markMs: number;
  doneMarked: boolean;
  exited: boolean;
  /** When the time limit was found crossed (after the last iteration), epoch ms. */
  exitCheckMs: number;
  /** When zero_to_fp32.py began writing its shards, epoch ms. */
  exportStartMs: number;
}

export class DeepSpeedDialect implements Dialect {
  readonly name = "deepspeed";
  #s: RunState | null = null;

  #state(ctx: RunContext): RunState {
    let s = this.#s;
    if (!s || s.ctx !== ctx) {
      const c = ctx.cfg;
      const rel = release(ctx);
      const st = ctx.physics.candidate.memory.stages[0]!;
      const settled = st.weights + st.grads + st.optimizer + st.workspace;
      const mds = isMds(ctx);
      s = {
        ctx,
        rel,
        k: {
          stepHead: "] [INFO] [logging.py:" + rel.logDist + ":log_dist] [Rank 0] step=",
          timerHead: "] [INFO] [timer.py:260:stop] epoch=0/micro_step=",
          moms: "], mom=[(" + pyFloat(c.optimizer.beta1) + ", " + pyFloat(c.optimizer.beta2) +
            "), (" + pyFloat(c.optimizer.beta1) + ", " + pyFloat(c.optimizer.beta2) + ")]",
          ga: gradAccumulation(ctx),
          gbs: c.globalBatch,
          seqLen: c.seqLen,
          ofTotal: "/" + c.totalSteps,
          tokensPerStep: c.globalBatch * c.seqLen,
          flopsPerToken: ctx.physics.candidate.perf.flopsPerToken,
          hwFactor: c.layout.recompute === "full" ? 4 / 3 : 1,
          gpus: c.gpus,
          memAllocated: round2(settled / GIB),
          maxMemAllocated: round2(st.allocated / GIB),
          fp16: c.precision === "fp16",
          mds,
          mdsOfTotal: "/" + padLeft(String(c.totalSteps), 8) + " | consumed samples: ",
          mdsGbs: " | global batch size: " + padLeft(String(c.globalBatch), 5) + " | lm loss: ",
        },
        skipped: priorSkipped(ctx),
        skippedAt: new Map(),
        processStep: c.startStep,
        processStartMs: ctx.totals.startMs,
        timerMs: 0,
        timerSteps: 0,
        markMs: ctx.clock.now(),
        doneMarked: false,
        exited: false,
        exitCheckMs: 0,
        exportStartMs: 0,
      };
      s.skippedAt.set(c.startStep, s.skipped);
      this.#s = s;
    }
    return s;
  }

  /** DeepSpeed's logger line: `[asctime] [INFO] [file:line:func] msg`. */
  #log(ctx: RunContext, where: string, msg: string, level = "INFO"): string {
    return "[" + timestampMs(ctx.clock.now(), ctx.tz) + "] [" + level + "] [" + where + "] " + msg;
  }

  /** `log_dist(msg, ranks=[0])`. */
  #dist(ctx: RunContext, msg: string): string {
    return this.#log(ctx, `logging.py:${this.#state(ctx).rel.logDist}:log_dist`, "[Rank 0] " + msg);
  }

  #beat(wait: number, text: () => string): Beat {
    return { wait, text };
  }

  launch(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const s = this.#state(ctx);
    const l = c.layout;
    let cmd: string;
    if (isMds(ctx)) {
      const a = c.arch;
      const tok = megatronTokenizer(ctx);
      const flags = [
        `--tensor-model-parallel-size ${l.tp}`,
        `--pipeline-model-parallel-size ${l.pp}`,
        `--num-layers ${a.layers}`,
        `--hidden-size ${a.hidden}`,
        `--ffn-hidden-size ${a.ffn}`,
        `--num-attention-heads ${a.heads}`,
        ...(a.kvHeads < a.heads ? [`--num-key-value-heads ${a.kvHeads}`] : []),
        `--seq-length ${c.seqLen}`,
        `--max-position-embeddings ${a.context}`,
        `--micro-batch-size ${l.microBatch}`,
        `--global-batch-size ${c.globalBatch}`,
        `--train-iters ${c.totalSteps}`,
        `--lr ${pyFloat(c.lr.peak)}`,
        `--min-lr ${pyFloat(c.lr.min)}`,
        `--lr-decay-style ${c.lr.decay === "linear" ? "linear" : "cosine"}`,
        `--lr-warmup-iters ${c.lr.warmupSteps}`,
        `--weight-decay ${pyFloat(c.optimizer.weightDecay)}`,
        `--adam-beta1 ${pyFloat(c.optimizer.beta1)}`,
        `--adam-beta2 ${pyFloat(c.optimizer.beta2)}`,
        `--clip-grad ${pyFloat(c.optimizer.clipGrad)}`,
        c.precision === "fp16" ? "--fp16" : "--bf16",
        ...(l.recompute === "full" ? ["--checkpoint-activations"] : []),
        `--log-interval ${c.logInterval}`,
        `--eval-interval ${c.evalInterval}`,
        `--eval-iters ${c.evalIters}`,
        `--save-interval ${c.saveInterval}`,
        `--save ${c.site.checkpointDir}`,
        `--load ${c.site.checkpointDir}`,
        `--data-path ${siteRoot(ctx)}/data/${c.dataset.id}/${c.dataset.id}_text_document`,
        `--tokenizer-type ${tok.type}`,
        ...(tok.model ? [`--tokenizer-model ${tok.model}`] : []),
        "--deepspeed",
        "--deepspeed_config ds_config.json",
        `--zero-stage ${zeroStage(ctx)}`,
        ...(exitDurationMinutes(ctx) !== null
          ? [`--exit-duration-in-mins ${exitDurationMinutes(ctx)}`]
          : []),
        `--seed ${c.seed}`,
      ].join(" ");
      cmd = megatronLaunchCommand(ctx, "pretrain_gpt.py", flags);
    } else {
      const rdzv = c.nodes > 1
        ? `--nnodes=${c.nodes} --nproc-per-node=${c.gpusPerNode} --max-restarts=3 --rdzv-backend=c10d --rdzv-endpoint=${
          ctx.host(0)
        }:${c.site.masterPort}`
        : `--standalone --nproc-per-node=${c.gpusPerNode}`;
      cmd = `torchrun ${rdzv} ${scriptOf(ctx)} --deepspeed --deepspeed_config configs/ds_zero${
        zeroStage(ctx)
      }_${c.site.project}.json`;
    }
    const beats = launchBeats(ctx, cmd);
    // every process imports deepspeed, which picks its accelerator
    const n = Math.min(c.gpusPerNode, 8);
    for (let i = 0; i < n; i++) {
      beats.push(this.#beat(
        i === 0 ? 2200 : 15,
        () =>
          this.#log(
            ctx,
            `real_accelerator.py:${s.rel.accelerator}:get_accelerator`,
            "Setting ds_accelerator to cuda (auto detect)",
          ),
      ));
    }
    return beats;
  }

  distributed(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const l = c.layout;
    const s = this.#state(ctx);
    const beats: Beat[] = [];
    if (isMds(ctx)) {
      beats.push({
        wait: 600,
        text:
          `using world size: ${c.gpus}, data-parallel-size: ${l.dp}, tensor-model-parallel size: ${l.tp}, pipeline-model-parallel size: ${l.pp} \n` +
          `using ${
            c.precision === "fp16" ? "torch.float16" : "torch.bfloat16"
          } for parameters ...\n` +
          argumentsDump("arguments", mdsArgs(ctx)).join("\n") +
          `\nsetting number of micro-batches to constant ${microBatches(ctx)}\n> building ${
            megatronTokenizer(ctx).type
          } tokenizer ...\n > padded vocab (size: ${paddedVocab(ctx).orig}) with ${
            paddedVocab(ctx).padded - paddedVocab(ctx).orig
          } dummy tokens (new size: ${
            paddedVocab(ctx).padded
          })\n> initializing torch distributed ...`,
      });
    }
    const n = Math.min(c.gpusPerNode, 8);
    for (let i = 0; i < n; i++) {
      beats.push(this.#beat(
        i === 0 ? 400 : 30,
        () => this.#log(ctx, "comm.py:652:init_distributed", "cdb=None"),
      ));
      if (i === 0) {
        beats.push(this.#beat(
          0,
          () =>
            this.#log(
              ctx,
              "comm.py:683:init_distributed",
              "Initializing TorchBackend in DeepSpeed with backend nccl",
            ),
        ));
      }
    }
    if (isMds(ctx)) {
      beats.push(
        {
          wait: 300,
          text:
            `> initialized tensor model parallel with size ${l.tp}\n> initialized pipeline model parallel with size ${l.pp}\n> setting random seeds to ${c.seed} ...`,
        },
        this.#beat(20, () => {
          s.markMs = ctx.clock.now();
          return "> compiling dataset index builder ...";
        }),
        this.#beat(
          60,
          () =>
            `>>> done with dataset index builder. Compilation time: ${
              fixed((ctx.clock.now() - s.markMs) / 1000, 3)
            } seconds\n> compiling and loading fused kernels ...`,
        ),
      );
      beats.push(...ncclInitBeats(ctx));
      beats.push(this.#beat(
        120,
        () =>
          `>>> done with compiling and loading fused kernels. Compilation time: ${
            fixed((ctx.clock.now() - s.markMs) / 1000, 3)
          } seconds\ntime to initialize megatron (seconds): ${
            fixed((ctx.clock.now() - s.processStartMs) / 1000, 3)
          }\n${datetimeLine(ctx, "after megatron is initialized")}`,
      ));
    } else {
      beats.push(...ncclInitBeats(ctx));
    }
    return beats;
  }

  model(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const beats: Beat[] = [];
    if (isMds(ctx)) {
      beats.push({ wait: 50, text: "building GPT model ..." });
      if (c.startStep > 0 || c.kind === "finetune") {
        beats.push({ wait: ctx.physics.buildSeconds * 1000, text: parameterLines(ctx) });
        beats.push(...this.#engineInit(ctx));
        beats.push(...this.#loadStart(ctx, this.#resumeStep(ctx)));
      }
      return beats;
    }
    beats.push({
      wait: 50,
      text: c.kind === "finetune"
        ? `Loading pretrained weights of ${c.model.name} from ${siteRoot(ctx)}/hf/${
          modelDirName(ctx)
        }`
        : `Building ${c.displayName}: ${c.arch.layers} layers, hidden ${c.arch.hidden}, ${c.arch.heads} heads, vocab ${c.arch.vocab}`,
    });
    if (c.startStep > 0) {
      beats.push(...this.#engineInit(ctx));
      beats.push(...this.#loadStart(ctx, c.startStep));
    }
    return beats;
  }

  /** Step a relaunch reloads: the run's own checkpoint, else (fine-tune) the pretrained weights. */
  #resumeStep(ctx: RunContext): number {
    return ctx.cfg.kind === "finetune" ? 0 : ctx.cfg.startStep;
  }

  /** `deepspeed.initialize`: steps 3–12 of REALISM 1.5. */
  #engineInit(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const s = this.#state(ctx);
    const rel = s.rel;
    const l = c.layout;
    const stage = zeroStage(ctx);
    const fp16 = c.precision === "fp16";
    const dtype = fp16
      ? "torch.float16"
      : c.precision === "fp32"
      ? "torch.float32"
      : "torch.bfloat16";
    const st = ctx.physics.candidate.memory.stages[0]!;
    const ratio = st.reserved / st.allocated;
    const host = hostMemory(ctx);
    const log = (where: string, msg: string) => () => this.#log(ctx, where, msg);
    const dist = (msg: string) => () => this.#dist(ctx, msg);
    const mem = (label: string, ma: number, maxMa: number): Beat[] => {
      const ca = ma * ratio;
      const maxCa = Math.max(ca, maxMa * ratio);
      return [
        { wait: 240, text: log("utils.py:781:see_memory_usage", label) },
        {
          wait: 1,
          text: log(
            "utils.py:782:see_memory_usage",
            `MA ${round2(ma / GIB)} GB         Max_MA ${round2(maxMa / GIB)} GB         CA ${
              round2(ca / GIB)
            } GB         Max_CA ${Math.round(maxCa / GIB)} GB `,
          ),
        },
        {
          wait: 0,
          text: log(
            "utils.py:789:see_memory_usage",
            `CPU Virtual Memory:  used = ${pyFloat(host.usedGB)} GB, percent = ${
              pyFloat(host.percent)
            }%`,
          ),
        },
      ];
    };
    const sched = scheduler(ctx);
    const beats: Beat[] = [
      {
        wait: 300,
        text: dist(`DeepSpeed info: version=${rel.version}, git-hash=unknown, git-branch=unknown`),
      },
      {
        wait: 0,
        text: log(
          `config.py:${rel.configInit}:__init__`,
          `Config mesh_device None world_size = ${l.dp}`,
        ),
      },
      { wait: 600, text: dist("DeepSpeed Flops Profiler Enabled: False") },
    ];
    if (isMds(ctx)) {
      beats.push(
        { wait: 2, text: dist("Using client Optimizer as basic optimizer") },
        { wait: 0, text: dist("Removing param_group that has no 'params' in the basic Optimizer") },
        { wait: 9, text: dist("DeepSpeed Basic Optimizer = FusedAdam") },
      );
    } else {
      beats.push(
        { wait: 2, text: dist("Using DeepSpeed Optimizer param name adamw as basic optimizer") },
        { wait: 0, text: dist("Removing param_group that has no 'params' in the basic Optimizer") },
        { wait: 9, text: dist("DeepSpeed Basic Optimizer = FusedAdam") },
      );
    }
    const master = c.precision === "fp32" ? 0 : st.optimizer / 3;
    let finalOptimizer: string;
    if (stage === 0) {
      finalOptimizer = fp16 ? "FP16_Optimizer" : "BF16_Optimizer";
      beats.push({
        wait: 0,
        text: dist(
          fp16 ? "Creating fp16 optimizer with dynamic loss scale" : "Creating BF16 optimizer",
        ),
      });
      beats.push(...mem("begin bf16_optimizer", st.weights, st.weights));
      beats.push(
        ...mem("end bf16_optimizer", st.weights + st.optimizer, st.weights + st.optimizer + master),
      );
    } else if (stage < 3) {
      finalOptimizer = "DeepSpeedZeroOptimizer";
      beats.push(
        {
          wait: 0,
          text: log(
            "utils.py:59:is_zero_supported_optimizer",
            "Checking ZeRO support for optimizer=FusedAdam type=<class 'deepspeed.ops.adam.fused_adam.FusedAdam'>",
          ),
        },
        { wait: 0, text: dist(`Creating ${dtype} ZeRO stage ${stage} optimizer`) },
        { wait: 0, text: log("stage_1_and_2.py:149:__init__", "Reduce bucket size 500000000") },
        { wait: 0, text: log("stage_1_and_2.py:150:__init__", "Allgather bucket size 500000000") },
        { wait: 0, text: log("stage_1_and_2.py:151:__init__", "CPU Offload: False") },
        {
          wait: 0,
          text: log("stage_1_and_2.py:152:__init__", "Round robin gradient partitioning: False"),
        },
      );
      const before = st.weights + master;
      beats.push(...mem("Before initializing optimizer states", before, before));
      const after = st.weights + st.optimizer;
      beats.push(...mem("After initializing optimizer states", after, after + master));
      beats.push({
        wait: 0,
        text: log("stage_1_and_2.py:544:__init__", "optimizer state initialized"),
      });
      beats.push(...mem("After initializing ZeRO optimizer", after, after + master));
    } else {
      finalOptimizer = "DeepSpeedZeroOptimizer_Stage3";
      const gather = (largestLayerParams(c.arch) * 2) / l.tp;
      const pers = persistentParams(ctx);
      beats.push(
        {
          wait: 0,
          text: log(
            "utils.py:59:is_zero_supported_optimizer",
            "Checking ZeRO support for optimizer=FusedAdam type=<class 'deepspeed.ops.adam.fused_adam.FusedAdam'>",
          ),
        },
        {
          wait: 0,
          text: dist(
            "Creating fp16 ZeRO stage 3 optimizer, MiCS is enabled False, Hierarchical params gather False",
          ),
        },
        { wait: 0, text: dist(`Creating ${dtype} ZeRO stage 3 optimizer`) },
      );
      const w = st.weights;
      beats.push(...mem("Stage 3 initialize beginning", w, w + gather));
      beats.push(
        { wait: 1, text: log("stage3.py:170:__init__", "Reduce bucket size 500000000") },
        { wait: 1, text: log("stage3.py:171:__init__", "Prefetch bucket size 50000000") },
      );
      beats.push(...mem("DeepSpeedZeRoOffload initialize [begin]", w, w));
      beats.push({
        wait: 30,
        text:
          `Parameter Offload: Total persistent parameters: ${pers.numel} in ${pers.count} params`,
      });
      beats.push(...mem("DeepSpeedZeRoOffload initialize [end]", w, w));
      beats.push(...mem("Before creating fp16 partitions", w, w));
      beats.push(...mem("After creating fp16 partitions: 2", w, w));
      beats.push(...mem("Before creating fp32 partitions", w, w));
      beats.push(...mem("After creating fp32 partitions", w + master, w + 2 * master));
      beats.push(...mem("Before initializing optimizer states", w + master, w + master));
      const after = w + st.optimizer;
      beats.push(...mem("After initializing optimizer states", after, after + master));
      beats.push({
        wait: 0,
        text: log("stage3.py:534:_setup_for_real_optimizer", "optimizer state initialized"),
      });
      beats.push(
        ...mem("After initializing ZeRO optimizer", after + st.grads, after + st.grads + gather),
      );
    }
    const lr0 = "0.0";
    const schedulerLine = isMds(ctx)
      ? [
        dist("DeepSpeed using client LR scheduler"),
        dist(
          `DeepSpeed LR Scheduler = <megatron.learning_rates.AnnealingLR object at ${
            pyAddress(c.seed, 7)
          }>`,
        ),
      ]
      : sched.name
      ? [
        dist(`DeepSpeed using configured LR scheduler = ${sched.name}`),
        dist(
          `DeepSpeed LR Scheduler = <deepspeed.runtime.lr_schedules.${sched.name} object at ${
            pyAddress(c.seed, 7)
          }>`,
        ),
      ]
      : [
        dist("DeepSpeed using client LR scheduler"),
        dist(
          `DeepSpeed LR Scheduler = <torch.optim.lr_scheduler.LambdaLR object at ${
            pyAddress(c.seed, 7)
          }>`,
        ),
      ];
    beats.push(
      { wait: 1, text: dist(`DeepSpeed Final Optimizer = ${finalOptimizer}`) },
      ...schedulerLine.map((text) => ({ wait: 0, text })),
      {
        wait: 1,
        text: dist(
          `step=0, skipped=0, lr=[${lr0}, ${lr0}], mom=[(${pyFloat(c.optimizer.beta1)}, ${
            pyFloat(c.optimizer.beta2)
          }), (${pyFloat(c.optimizer.beta1)}, ${pyFloat(c.optimizer.beta2)})]`,
        ),
      },
      { wait: 1, text: () => this.#configDump(ctx) },
    );
    return beats;
  }

  /** `DeepSpeedConfig.print`: every field, name dot-padded to 29; then the user's JSON. */
  #configDump(ctx: RunContext): string {
    const s = this.#state(ctx);
    const rel = s.rel;
    const c = ctx.cfg;
    const stage = zeroStage(ctx);
    const fp16 = c.precision === "fp16";
    const bf16 = c.precision === "bf16" || c.precision === "fp8";
    const v16 = rel === DS_0_16;
    const sched = scheduler(ctx);
    const user = userConfig(ctx);
    const o = c.optimizer;
    const head = "[" + timestampMs(ctx.clock.now(), ctx.tz) + "] [INFO] [";
    const line = head + `config.py:${rel.configLine}:print]   `;
    const block = (fields: [string, Json][]) =>
      "{" + fields.map(([k, v]) => `\n    "${k}": ${dsJson(v, 1)}`).join(", ") + "\n}";
    const fields: [string, string][] = [
      [
        "activation_checkpointing_config",
        block([
          ["partition_activations", false],
          ["contiguous_memory_optimization", false],
          ["cpu_checkpointing", false],
          ["number_checkpoints", null],
          ["synchronize_checkpoint_boundary", false],
          ["profile", false],
        ]),
      ],
      [
        "aio_config",
        `{'block_size': 1048576, 'queue_depth': 8, '${
          v16 ? "intra_op_parallelism" : "thread_count"
        }': 1, 'single_submit': False, 'overlap_events': True, 'use_gds': False}`,
      ],
      ["amp_enabled", "False"],
      ["amp_params", "False"],
      [
        "autotuning_config",
        block([
          ["enabled", false],
          ["start_step", null],
          ["end_step", null],
          ["metric_path", null],
          ["arg_mappings", null],
          ["metric", "throughput"],
          ["model_info", null],
          ["results_dir", "autotuning_results"],
          ["exps_dir", "autotuning_exps"],
          ["overwrite", true],
          ["fast", true],
          ["start_profile_step", 3],
          ["end_profile_step", 5],
          ["tuner_type", "gridsearch"],
          ["tuner_early_stopping", 5],
          ["tuner_num_trials", 50],
          ["model_info_path", null],
          ["mp_size", 1],
          ["max_train_batch_size", null],
          ["min_train_batch_size", 1],
          ["max_train_micro_batch_size_per_gpu", 1024],
          ["min_train_micro_batch_size_per_gpu", 1],
          ["num_tuning_micro_batch_sizes", 3],
        ]),
      ],
      ["bfloat16_enabled", tf(bf16)],
      ["bfloat16_immediate_grad_update", tf(v16)],
      ["checkpoint_parallel_write_pipeline", "False"],
      ["checkpoint_tag_validation_enabled", "True"],
      ["checkpoint_tag_validation_fail", "False"],
      [
        "comms_config",
        `<deepspeed.comm.config.DeepSpeedCommsConfig object at ${pyAddress(c.seed, 9)}>`,
      ],
      ["communication_data_type", "None"],
      ...(v16
        ? [[
          "compile_config",
          "deepcompile=False free_activation=False offload_activation=False offload_opt_states=False double_buffer=True symmetric_memory=False debug_log=False offload_parameters=False sync_before_reduce=False sync_after_reduce=False sync_before_allgather=False sync_after_allgather=False",
        ] as [string, string]]
        : []),
      [
        "compression_config",
        "{'weight_quantization': {'shared_parameters': {'enabled': False, 'quantizer_kernel': False, 'schedule_offset': 0, 'quantize_groups': 1, 'quantize_verbose': False, 'quantization_type': 'symmetric', 'quantize_weight_in_forward': False, 'rounding': 'nearest', 'fp16_mixed_quantize': False, 'quantize_change_ratio': 0.001}, 'different_groups': {}}, 'activation_quantization': {'shared_parameters': {'enabled': False, 'quantization_type': 'symmetric', 'range_calibration': 'dynamic', 'schedule_offset': 1000}, 'different_groups': {}}, 'sparse_pruning': {'shared_parameters': {'enabled': False, 'method': 'l1', 'schedule_offset': 1000}, 'different_groups': {}}, 'row_pruning': {'shared_parameters': {'enabled': False, 'method': 'l1', 'schedule_offset': 1000}, 'different_groups': {}}, 'head_pruning': {'shared_parameters': {'enabled': False, 'method': 'topk', 'schedule_offset': 1000}, 'different_groups': {}}, 'channel_pruning': {'shared_parameters': {'enabled': False, 'method': 'l1', 'schedule_offset': 1000}, 'different_groups': {}}, 'layer_reduction': {'enabled': False}}",
      ],
      ["curriculum_enabled_legacy", "False"],
      ["curriculum_params_legacy", "False"],
      [
        "data_efficiency_config",
        v16
          ? "{'enabled': False, 'seed': 1234, 'data_sampling': {'enabled': False, 'num_epochs': 1000, 'num_workers': 0, 'pin_memory': False, 'curriculum_learning': {'enabled': False}, 'dynamic_batching': {'enabled': False, 'lr_scaling_method': 'linear', 'min_batch_size': 1, 'max_batch_size': None, 'sequence_picking_order': 'dataloader', 'verbose': False}}, 'data_routing': {'enabled': False, 'random_ltd': {'enabled': False, 'layer_token_lr_schedule': {'enabled': False}}}}"
          : "{'enabled': False, 'seed': 1234, 'data_sampling': {'enabled': False, 'num_epochs': 1000, 'num_workers': 0, 'curriculum_learning': {'enabled': False}}, 'data_routing': {'enabled': False, 'random_ltd': {'enabled': False, 'layer_token_lr_schedule': {'enabled': False}}}}",
      ],
      ["data_efficiency_enabled", "False"],
      ["dataloader_drop_last", "False"],
      ["disable_allgather", "False"],
      ["dump_state", "False"],
      [
        "dynamic_loss_scale_args",
        fp16
          ? "{'init_scale': 65536, 'scale_window': 1000, 'delayed_shift': 2, 'consecutive_hysteresis': False, 'min_scale': 1}"
          : "None",
      ],
      ["eigenvalue_enabled", "False"],
      ["eigenvalue_gas_boundary_resolution", "1"],
      ["eigenvalue_layer_name", "bert.encoder.layer"],
      ["eigenvalue_layer_num", "0"],
      ["eigenvalue_max_iter", "100"],
      ["eigenvalue_stability", "1e-06"],
      ["eigenvalue_tol", "0.01"],
      ["eigenvalue_verbose", "False"],
      ["elasticity_enabled", "False"],
      [
        "flops_profiler_config",
        block([
          ["enabled", false],
          ["recompute_fwd_factor", new PyF(0)],
          ["profile_step", 1],
          ["module_depth", -1],
          ["top_modules", 1],
          ["detailed", true],
          ["output_file", null],
        ]),
      ],
      ["fp16_auto_cast", fp16 ? "False" : "None"],
      ["fp16_enabled", tf(fp16)],
      ["fp16_master_weights_and_gradients", "False"],
      ["global_rank", "0"],
      ["grad_accum_dtype", "None"],
      ["gradient_accumulation_steps", String(gradAccumulation(ctx))],
      ["gradient_clipping", pyFloat(o.clipGrad)],
      ["gradient_predivide_factor", "1.0"],
      ["graph_harvesting", "False"],
      [
        "hybrid_engine",
        "enabled=False max_out_tokens=512 inference_tp_size=1 release_inference_cache=False pin_parameters=True tp_gather_partition_size=8",
      ],
      ["initial_dynamic_scale", fp16 ? "65536" : "1"],
      ["load_universal_checkpoint", "False"],
      ["loss_scale", fp16 ? "0" : "1.0"],
      ["memory_breakdown", "False"],
      ["mics_hierarchial_params_gather", "False"],
      ["mics_shard_size", "-1"],
      [
        "monitor_config",
        "tensorboard=TensorBoardConfig(enabled=False, output_path='', job_name='DeepSpeedJobName') comet=CometConfig(enabled=False, samples_log_interval=100, project=None, workspace=None, api_key=None, experiment_name=None, experiment_key=None, online=None, mode=None) wandb=WandbConfig(enabled=False, group=None, team=None, project='deepspeed') csv_monitor=CSVConfig(enabled=False, output_path='', job_name='DeepSpeedJobName')",
      ],
      [
        "nebula_config",
        block([
          ["enabled", false],
          ["persistent_storage_path", null],
          ["persistent_time_interval", 100],
          ["num_of_version_in_retention", 2],
          ["enable_nebula_load", true],
          ["load_path", null],
        ]),
      ],
      ["optimizer_legacy_fusion", "False"],
      ["optimizer_name", isMds(ctx) ? "None" : "adamw"],
      [
        "optimizer_params",
        isMds(ctx) ? "None" : pyRepr({
          lr: new PyF(c.lr.peak),
          betas: [new PyF(o.beta1), new PyF(o.beta2)],
          eps: new PyF(o.eps),
          weight_decay: new PyF(o.weightDecay),
        }),
      ],
      [
        "pipeline",
        "{'stages': 'auto', 'partition': 'best', 'seed_layers': False, 'activation_checkpoint_interval': 0, 'pipe_partitioned': True, 'grad_partitioned': True}",
      ],
      ["pld_enabled", "False"],
      ["pld_params", "False"],
      ["prescale_gradients", "False"],
      ["scheduler_name", !isMds(ctx) && sched.name ? sched.name : "None"],
      ["scheduler_params", !isMds(ctx) && sched.params ? pyRepr(sched.params) : "None"],
      ["seq_parallel_communication_data_type", "torch.float32"],
      ["sparse_attention", "None"],
      ["sparse_gradients_enabled", "False"],
      ["steps_per_print", String(c.logInterval)],
      ...(v16
        ? [[
          "tensor_parallel_config",
          "dtype=torch.float16 autotp_size=0 tp_overlap_comm=False tensor_parallel=TPConfig(tp_size=1, tp_grain_size=1, mpu=None, tp_group=None) injection_policy_tuple=None keep_module_on_host=False replace_with_kernel_inject=False",
        ] as [string, string]]
        : []),
      ["timers_config", "enabled=True synchronized=True"],
      ["train_batch_size", String(c.globalBatch)],
      ["train_micro_batch_size_per_gpu", String(c.layout.microBatch)],
      ["use_data_before_expert_parallel_", "False"],
      ["use_node_local_storage", "False"],
      ["wall_clock_breakdown", "False"],
      ["weight_quantization_config", "None"],
      ["world_size", String(c.layout.dp)],
      ["zero_allow_untested_optimizer", tf(isMds(ctx))],
      [
        "zero_config",
        `stage=${stage} contiguous_gradients=True reduce_scatter=True reduce_bucket_size=500000000 use_multi_rank_bucket_allreduce=True allgather_partitions=True allgather_bucket_size=500000000 overlap_comm=${
          tf(stage > 0)
        } load_from_fp32_weights=True elastic_checkpoint=False offload_param=None offload_optimizer=None sub_group_size=1000000000 cpu_offload_param=None cpu_offload_use_pin_memory=None cpu_offload=None prefetch_bucket_size=50000000 param_persistence_threshold=100000 model_persistence_threshold=9223372036854775807 max_live_parameters=1000000000 max_reuse_distance=1000000000 gather_16bit_weights_on_model_save=False use_all_reduce_for_fetch_params=False stage3_gather_fp16_weights_on_model_save=False ignore_unused_parameters=True legacy_stage1=False round_robin_gradients=False zero_hpz_partition_size=1 zero_quantized_weights=False zero_quantized_nontrainable_weights=False zero_quantized_gradients=False mics_shard_size=-1 mics_hierarchical_params_gather=False memory_efficient_linear=True pipeline_loading_checkpoint=False override_module_apply=True`,
      ],
      ["zero_enabled", tf(stage > 0)],
      ["zero_force_ds_cpu_optimizer", "True"],
      ["zero_optimization_stage", String(stage)],
    ];
    const out = [head + `config.py:${rel.configHeader}:print] DeepSpeedEngine configuration:`];
    for (const [name, value] of fields) {
      out.push(line + name + " " + ".".repeat(Math.max(0, 29 - name.length)) + " " + value);
    }
    out.push(head + `config.py:${rel.userConfig}:print_user_config]   json = ` + dsJson(user));
    return out.join("\n");
  }

  /** The first lines of loading checkpoint `step` (DeepSpeed reads the model states first). */
  #loadStart(ctx: RunContext, step: number): Beat[] {
    const c = ctx.cfg;
    if (c.kind === "finetune" && step === 0) {
      return isMds(ctx)
        ? [{
          wait: 20,
          text:
            `Checkpoint file not found in load directory ${c.site.checkpointDir} attempting to finetune with checkpoint in ${
              siteRoot(ctx)
            }/${modelDirName(ctx)}-mds`,
        }]
        : [];
    }
    const file = `${this.checkpointDir(ctx, step)}/${this.#modelFile(ctx, 0)}`;
    return [{
      wait: 20,
      text: () =>
        this.#log(
          ctx,
          "torch_checkpoint_engine.py:27:load",
          `[Torch] Loading checkpoint from ${file}...`,
        ),
    }];
  }

  /** The rest of the load: the model states, this rank's ZeRO shard, the partition count. */
  #loadDone(ctx: RunContext, step: number): string {
    const c = ctx.cfg;
    if (c.kind === "finetune" && step === 0) {
      return isMds(ctx)
        ? `  successfully loaded checkpoint from ${siteRoot(ctx)}/${
          modelDirName(ctx)
        }-mds at iteration 0`
        : `Loaded ${c.model.name} (${bytesDecimal(ctx.physics.loadBytes)}) into ${
          zeroStage(ctx) === 3 ? "ZeRO-3 partitions" : "the model"
        }`;
    }
    const dir = this.checkpointDir(ctx, step);
    const model = `${dir}/${this.#modelFile(ctx, 0)}`;
    const optim = `${dir}/${this.#optimFile(ctx, 0, 0)}`;
    const lines = [
      this.#log(
        ctx,
        "torch_checkpoint_engine.py:29:load",
        `[Torch] Loaded checkpoint from ${model}.`,
      ),
      this.#log(
        ctx,
        "torch_checkpoint_engine.py:27:load",
        `[Torch] Loading checkpoint from ${optim}...`,
      ),
      this.#log(
        ctx,
        "torch_checkpoint_engine.py:29:load",
        `[Torch] Loaded checkpoint from ${optim}.`,
      ),
    ];
    if (zeroStage(ctx) > 0) {
      lines.push(`loading ${c.layout.dp} zero partition checkpoints for rank 0`);
    }
    if (isMds(ctx)) {
      lines.push(
        `  successfully loaded checkpoint from ${c.site.checkpointDir} at iteration ${step}`,
      );
    }
    return lines.join("\n");
  }

  /** Model-state file of a model-parallel rank (ZeRO-3 partitions the weights per DP rank too). */
  #modelFile(ctx: RunContext, dp: number, mp = 0): string {
    const m = String(mp).padStart(2, "0");
    return zeroStage(ctx) === 3
      ? `zero_pp_rank_${dp}_mp_rank_${m}_model_states.pt`
      : `mp_rank_${m}_model_states.pt`;
  }

  #optimFile(ctx: RunContext, dp: number, mp: number): string {
    const prefix = ctx.cfg.precision === "fp16" || ctx.cfg.precision === "fp32" ? "" : "bf16_";
    return `${prefix}zero_pp_rank_${dp}_mp_rank_${String(mp).padStart(2, "0")}_optim_states.pt`;
  }

  loadBar(ctx: RunContext, frac: number, elapsed: number): string {
    const c = ctx.cfg;
    const fresh = c.startStep === 0;
    if (frac >= 1) {
      if (isMds(ctx)) {
        if (fresh && c.kind === "pretrain") return parameterLines(ctx);
        return this.#loadDone(ctx, this.#resumeStep(ctx));
      }
      if (fresh) {
        if (c.kind === "finetune") return this.#loadDone(ctx, 0);
        const n = paramCount(c.arch);
        return zeroStage(ctx) === 3
          ? this.#log(
            ctx,
            "partition_parameters.py:348:__exit__",
            `finished initializing model - num_params = ${tensors(c.arch).length}, num_elems = ${
              fixed(n.total / 1e9, 2)
            }B`,
          )
          : `Model initialized: ${commas(n.total)} parameters (${fixed(n.total / 1e9, 2)}B)`;
      }
      return this.#loadDone(ctx, c.startStep);
    }
    return `${fresh && c.kind === "pretrain" ? "initializing weights" : "loading checkpoint"}: ${
      Math.round(frac * 100)
    }% (${fixed(elapsed, 0)}s)`;
  }

  loaded(ctx: RunContext, seconds: number): Beat[] {
    const c = ctx.cfg;
    const beats: Beat[] = [];
    const fresh = c.startStep === 0;
    if (isMds(ctx)) {
      if (fresh && c.kind === "pretrain") {
        beats.push(...this.#engineInit(ctx));
        beats.push({ wait: 30, text: noCheckpointText(ctx) });
      }
      beats.push(
        {
          wait: 10,
          text: `time (ms) | load-checkpoint: ${
            fixed(fresh && c.kind === "pretrain" ? 0.21 : seconds * 1000, 2)
          }`,
        },
        this.#beat(
          40,
          () => datetimeLine(ctx, "after model, optimizer, and learning rate scheduler are built"),
        ),
      );
      return beats;
    }
    if (fresh) beats.push(...this.#engineInit(ctx));
    else {
      beats.push({
        wait: 10,
        text: `Resumed from ${this.checkpointDir(ctx, c.startStep)} in ${
          fixed(seconds, 1)
        }s (global step ${c.startStep}, ${commas(c.startStep * c.globalBatch)} samples seen)`,
      });
    }
    return beats;
  }

  data(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    if (isMds(ctx)) {
      const beats: Beat[] = [
        {
          wait: 20,
          text: ["> building train, validation, and test datasets ...", ...datasetTargetLines(ctx)]
            .join("\n"),
        },
        { wait: 30, text: "> building train, validation, and test datasets for GPT ..." },
        { wait: ctx.physics.dataSeconds * 1000, text: "> finished creating GPT datasets ..." },
        this.#beat(60, () => datetimeLine(ctx, "after dataloaders are built")),
        { wait: 10, text: "done with setup ..." },
      ];
      // a window's time limit falls in its last iteration: building the index takes the slack
      const untilTraining = [...beats, ...this.trainStart(ctx)].reduce((t, b) => t + b.wait, 0);
      beats[2]!.wait += exitSlackMs(ctx, this.#state(ctx).processStartMs, untilTraining);
      return beats;
    }
    const tok = megatronTokenizer(ctx);
    return [
      {
        wait: ctx.physics.dataSeconds * 1000,
        text: `Loaded ${c.dataset.name}: ${
          commas(c.samplesPerEpoch)
        } sequences of ${c.seqLen} tokens (${
          tok.type === "GPT2BPETokenizer" ? "gpt2" : c.model.name
        } tokenizer)`,
      },
      {
        wait: 50,
        text:
          `Global batch ${c.globalBatch} = ${c.layout.microBatch} per GPU x ${c.layout.dp} GPUs x ${
            gradAccumulation(ctx)
          } gradient accumulation steps`,
      },
    ];
  }

  trainStart(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    if (isMds(ctx)) {
      return [
        { wait: 10, text: "training ..." },
        this.#beat(150, () => datetimeLine(ctx, "before the start of training step")),
      ];
    }
    return [{
      wait: 100,
      text: c.startStep > 0
        ? `Resuming training from step ${c.startStep} of ${c.totalSteps}`
        : `Starting training: ${c.totalSteps} steps, eval every ${c.evalInterval}, save every ${c.saveInterval}`,
    }];
  }

  stepLog(ctx: RunContext, w: LogWindow): string {
    const s = this.#state(ctx);
    const k = s.k;
    const r = w.last;
    const ms = w.meanStepMs;
    s.skipped += w.skipped;
    const local = r.step - s.processStep;
    // DeepSpeed's ThroughputTimer starts timing at its third global step (start_step=2): the
    // first two steps of a process (compilation, allocator warm-up) stay out of the average, and
    // it reports nothing before then
    const timed = Math.min(w.steps, Math.max(0, local - TIMER_START_STEP));
    s.timerMs += timed === w.steps ? ms * w.steps : r.stepMs * timed;
    s.timerSteps += timed;
    const ts = "[" + timestampMs(ctx.clock.now(), ctx.tz);
    const lr = pyFloat(r.lr);
    let out = ts + k.stepHead + r.step + ", skipped=" + s.skipped + ", lr=[" + lr + ", " + lr +
      k.moms + "\n";
    if (local > TIMER_START_STEP) {
      const running = (s.timerSteps * k.gbs) / (s.timerMs / 1000);
      const current = k.gbs / (r.stepMs / 1000);
      out += ts + k.timerHead + local * k.ga + "/global_step=" + local +
        ", RunningAvgSamplesPerSec=" + pyFloat(running) + ", CurrSamplesPerSec=" +
        pyFloat(current) + ", MemAllocated=" + k.memAllocated + "GB, MaxMemAllocated=" +
        k.maxMemAllocated + "GB\n";
    }
    if (k.mds) {
      const tflops = (k.flopsPerToken * k.tokensPerStep * k.hwFactor) / (ms / 1000) / k.gpus /
        1e12;
      out += " iteration " + padLeft(String(r.step), 8) + k.mdsOfTotal +
        padLeft(String(r.samples), 12) + " | consumed tokens: " +
        padLeft(String(r.samples * k.seqLen), 12) + " | elapsed time per iteration (s): " +
        fixed(ms / 1000, 2) + " | learning rate: " + sciE(r.lr, 3) + k.mdsGbs +
        sciE(w.meanLoss, 6) + " |" +
        (k.fp16 ? " loss scale: " + fixed(r.lossScale, 1) + " |" : "") +
        " grad norm: " + fixed(r.gradNorm, 3) + " | number of skipped iterations: " +
        padLeft(String(w.skipped), 3) + " | number of nan iterations:   0 | samples per second: " +
        fixed(k.gbs / (ms / 1000), 3) + " | TFLOPs: " + fixed(tflops, 2) + " |";
    } else {
      out += "step " + r.step + k.ofTotal + " | loss " + fixed(w.meanLoss, 4) + " | grad_norm " +
        fixed(r.gradNorm, 4) + " | lr " + sciLower(r.lr, 3) +
        (k.fp16 ? " | loss_scale " + r.lossScale : "") + " | " + fixed(ms, 1) + " ms/step | " +
        commas(k.tokensPerStep / (ms / 1000)) + " tokens/s";
    }
    return out;
  }

  live(ctx: RunContext, s: LiveState): string[] {
    return tqdmBars(ctx, s);
  }

  evalStart(_ctx: RunContext): Beat[] {
    return [];
  }

  evalBar(ctx: RunContext, frac: number, _elapsed: number): string {
    const iters = ctx.cfg.evalIters;
    return `eval ${Math.min(iters, Math.floor(frac * iters) + 1)}/${iters}`;
  }

  evalDone(ctx: RunContext, e: EvalRecord): Beat[] {
    if (isMds(ctx)) return [{ wait: 0, text: validationFrame(`iteration ${e.step}`, e.loss) }];
    return [{
      wait: 0,
      text: `eval step ${e.step} | loss ${fixed(e.loss, 4)} | ppl ${fixed(e.perplexity, 2)}`,
    }];
  }

  checkpointDir(ctx: RunContext, step: number): string {
    return `${ctx.cfg.site.checkpointDir}/global_step${step}`;
  }

  checkpointStart(ctx: RunContext, _dir: string): Beat[] {
    const beats: Beat[] = [];
    if (isMds(ctx)) {
      const done = this.#finalMarker(ctx);
      if (done) beats.push(done);
      beats.push({
        wait: 0,
        text: `saving checkpoint at iteration ${
          padLeft(String(ctx.sim.step), 7)
        } to ${ctx.cfg.site.checkpointDir}`,
      });
    }
    const tag = `global_step${ctx.sim.step}`;
    beats.push({
      wait: 2,
      text: () => this.#dist(ctx, `[Torch] Checkpoint ${tag} is about to be saved!`),
    });
    return beats;
  }

  #finalMarker(ctx: RunContext): Beat | null {
    const s = this.#state(ctx);
    if (ctx.totals.outcome !== "completed" && ctx.totals.outcome !== "early-stopped") return null;
    if (s.doneMarked) return null;
    s.doneMarked = true;
    return this.#beat(0, () => datetimeLine(ctx, "after training is done"));
  }

  checkpointDone(ctx: RunContext, rec: CheckpointRecord, dir: string): Beat[] {
    const s = this.#state(ctx);
    const c = ctx.cfg;
    const l = c.layout;
    s.skippedAt.set(rec.step, s.skipped);
    const tag = `global_step${rec.step}`;
    const zero = zeroStage(ctx) > 0;
    const kind = c.precision === "fp16" || c.precision === "fp32" ? "zero" : "bf16_zero";
    // this node's processes: global ranks 0..7, Megatron order (tp fastest, then dp, then pp)
    const local = Math.min(c.gpusPerNode, c.gpus);
    const ranks = Array.from({ length: local }, (_, r) => r).sort((a, b) =>
      noise(c.seed, a, rec.step) - noise(c.seed, b, rec.step)
    );
    const beats: Beat[] = [];
    const stage3 = zeroStage(ctx) === 3;
    const save = (file: string) =>
      this.#log(ctx, "torch_checkpoint_engine.py:21:save", `[Torch] Saving ${file}...`) + "\n" +
      this.#log(ctx, "torch_checkpoint_engine.py:23:save", `[Torch] Saved ${file}.`);
    if (!stage3) {
      // data-parallel rank 0 of each model-parallel rank writes the (whole) module states
      const model = `${dir}/${this.#modelFile(ctx, 0)}`;
      beats.push({ wait: 0, text: () => this.#dist(ctx, `Saving model checkpoint: ${model}`) });
      beats.push({ wait: 0, text: () => save(model) });
    } else {
      beats.push({
        wait: 0,
        text: () => this.#dist(ctx, `Saving model checkpoint: ${dir}/${this.#modelFile(ctx, 0)}`),
      });
    }
    if (zero) {
      for (const r of ranks) {
        const tp = r % l.tp;
        const dp = Math.floor(r / l.tp) % l.dp;
        const pp = Math.floor(r / (l.tp * l.dp));
        const mp = pp * l.tp + tp;
        const file = `${dir}/${this.#optimFile(ctx, dp, mp)}`;
        // ZeRO-3 partitions the module too: every rank writes its own model-state shard
        const own = stage3 ? `${dir}/${this.#modelFile(ctx, dp, mp)}` : null;
        beats.push({
          wait: 3,
          text: () =>
            (own ? save(own) + "\n" : "") + save(file) + "\n" +
            this.#log(
              ctx,
              "engine.py:3536:_save_zero_checkpoint",
              `${kind} checkpoint saved ${file}`,
            ),
        });
      }
    }
    for (let i = 0; i < local; i++) {
      beats.push({
        wait: 0,
        text: () =>
          this.#log(
            ctx,
            "torch_checkpoint_engine.py:33:commit",
            `[Torch] Checkpoint ${tag} is ready now!`,
          ),
      });
    }
    if (isMds(ctx)) {
      beats.push({
        wait: 0,
        text: `  successfully saved checkpoint at iteration ${
          padLeft(String(rec.step), 7)
        } to ${c.site.checkpointDir}\ntime (ms) | save-checkpoint: ${fixed(rec.durationMs, 2)}`,
      });
      if (ctx.totals.outcome === "window" && !s.exited) beats.push(this.#exitBeat(ctx));
    }
    return beats;
  }

  #exitBeat(ctx: RunContext): Beat {
    const s = this.#state(ctx);
    s.exited = true;
    return this.#beat(
      0,
      () => exitLine(ctx, s.processStartMs, s.exitCheckMs),
    );
  }

  event(ctx: RunContext, e: RunEvent): Beat[] {
    switch (e.kind) {
      case "fault":
        return faultBeats(ctx, e);
      case "overflow":
        return [{
          wait: 0,
          text: () =>
            this.#log(
              ctx,
              "loss_scaler.py:183:update_scale",
              overflowMessage(e),
            ),
        }];
      case "restart":
        return this.#restart(ctx, e);
      default:
        return [];
    }
  }

  #restart(ctx: RunContext, e: Extract<RunEvent, { kind: "restart" }>): Beat[] {
    const s = this.#state(ctx);
    const c = ctx.cfg;
    const fromStep = e.fromStep;
    const beats: Beat[] = [
      ...restartBeats(ctx, e),
      this.#beat(0, () => {
        // a new process: its throughput timer and skipped count start again from the checkpoint
        s.processStep = fromStep;
        s.processStartMs = ctx.clock.now();
        s.timerMs = 0;
        s.timerSteps = 0;
        s.skipped = s.skippedAt.get(fromStep) ?? priorSkipped(ctx);
        return this.#log(
          ctx,
          `real_accelerator.py:${s.rel.accelerator}:get_accelerator`,
          "Setting ds_accelerator to cuda (auto detect)",
        );
      }),
      this.#beat(400, () => this.#log(ctx, "comm.py:652:init_distributed", "cdb=None")),
      this.#beat(
        0,
        () =>
          this.#log(
            ctx,
            "comm.py:683:init_distributed",
            "Initializing TorchBackend in DeepSpeed with backend nccl",
          ),
      ),
      ...ncclInitBeats(ctx),
      ...this.#engineInit(ctx),
    ];
    const reload = ctx.physics.reloadSeconds * 1000;
    if (fromStep === 0 && c.kind === "pretrain") {
      if (isMds(ctx)) beats.push({ wait: 30, text: noCheckpointText(ctx) });
    } else {
      beats.push(...this.#loadStart(ctx, fromStep));
      beats.push({ wait: reload, text: () => this.#loadDone(ctx, fromStep) });
    }
    beats.push(
      ...(isMds(ctx) ? this.trainStart(ctx) : [{
        wait: 50,
        text: fromStep > 0
          ? `Resuming training from step ${fromStep} of ${c.totalSteps}`
          : `Starting training: ${c.totalSteps} steps, eval every ${c.evalInterval}, save every ${c.saveInterval}`,
      }]),
    );
    return beats;
  }

  jobFailed(ctx: RunContext): Beat[] {
    return childFailedBeats(ctx, scriptOf(ctx), -6);
  }

  oom(ctx: RunContext, o: OutOfMemory): Beat[] {
    const { site } = pythonPaths(ctx);
    const ds = `${site}/deepspeed`;
    const stage = zeroStage(ctx);
    const optimizerFile = stage === 3
      ? [`${ds}/runtime/zero/stage3.py`, 2213, "backward"] as const
      : [`${ds}/runtime/zero/stage_1_and_2.py`, 2072, "backward"] as const;
    const mds = isMds(ctx);
    const script = mds ? `${MEGATRON_DIR}/pretrain_gpt.py` : `/workspace/${scriptOf(ctx)}`;
    const training = `${MEGATRON_DIR}/megatron/training.py`;
    const top: [string, number, string, string][] = mds
      ? [
        [script, 246, "<module>", "pretrain(train_valid_test_datasets_provider,"],
        [training, 227, "pretrain", "iteration = train(forward_step_func,"],
        [training, 1211, "train", "train_step(forward_step_func,"],
      ]
      : [[script, 388, "<module>", "main(args)"]];
    const frames: [string, number, string, string][] = o.phase === "load"
      ? mds
        ? [
          ...top.slice(0, 1),
          [
            training,
            160,
            "pretrain",
            "model, optimizer, lr_scheduler = setup_model_and_optimizer(",
          ],
          [training, 398, "setup_model_and_optimizer", "model = get_model(model_provider_func)"],
          [training, 291, "get_model", "model_module.cuda(torch.cuda.current_device())"],
        ]
        : [...top, [script, 301, "main", "model = build_model(args).to(device)"]]
      : [
        ...top,
        mds
          ? [training, 764, "train_step", "model[0].backward(loss)"]
          : [script, 342, "main", "engine.backward(loss)"],
        [`${ds}/utils/nvtx.py`, 18, "wrapped_fn", "ret_val = func(*args, **kwargs)"],
        [
          `${ds}/runtime/engine.py`,
          2048,
          "backward",
          "self.optimizer.backward(loss, retain_graph=retain_graph)",
        ],
        [
          optimizerFile[0],
          optimizerFile[1],
          optimizerFile[2],
          "self.loss_scaler.backward(loss.float(), retain_graph=retain_graph)",
        ],
        [
          `${ds}/runtime/fp16/loss_scaler.py`,
          63,
          "backward",
          "scaled_loss.backward(retain_graph=retain_graph)",
        ],
      ];
    return [...oomBeats(ctx, o, frames), ...childFailedBeats(ctx, scriptOf(ctx), 1)];
  }

  warning(_ctx: RunContext, _w: WarningSpec, lines: string[]): string {
    return lines.join("\n");
  }

  windowEnd(ctx: RunContext): Beat[] {
    const s = this.#state(ctx);
    s.exitCheckMs = ctx.clock.now();
    if (isMds(ctx)) {
      const saved = ctx.totals.lastCheckpoint === this.checkpointDir(ctx, ctx.sim.step);
      if (!saved || s.exited) return [];
      return [this.#exitBeat(ctx)];
    }
    return [{
      wait: 0,
      text:
        `Job time limit reached at step ${ctx.sim.step}/${ctx.cfg.totalSteps}: saving a checkpoint and exiting`,
    }];
  }

  trainEnd(ctx: RunContext): Beat[] {
    const t = ctx.totals;
    if (!isMds(ctx)) {
      return [{
        wait: 0,
        text: `Training complete: ${t.stepsRun} steps in ${humanDuration(t.trainMs / 1000)}`,
      }];
    }
    const beats: Beat[] = [];
    const done = this.#finalMarker(ctx);
    if (done) beats.push(done);
    const step = ctx.sim.step;
    for (const split of ["validation", "test"]) {
      const e = ctx.sim.evaluate();
      beats.push({
        wait: e.durationMs,
        text: validationFrame(`iteration ${step} on ${split} set`, e.loss),
      });
    }
    return beats;
  }

  /** A ZeRO checkpoint exports through the `zero_to_fp32.py` DeepSpeed saves next to it. */
  #zeroToFp32(ctx: RunContext): boolean {
    return !isMds(ctx) && zeroStage(ctx) > 0;
  }

  exportStart(ctx: RunContext, plan: ShardPlan): Beat[] {
    const c = ctx.cfg;
    const s = this.#state(ctx);
    const n = paramCount(c.arch);
    const tag = `global_step${ctx.sim.step}`;
    const stage = zeroStage(ctx);
    if (!this.#zeroToFp32(ctx)) {
      return [{
        wait: ctx.physics.loadSeconds * 1000,
        text: `Converting ${c.site.checkpointDir}/${tag} to Hugging Face ${c.model.hfClass} (${
          bytesDecimal(plan.totalSize)
        }) in ${c.site.exportDir}`,
      }];
    }
    // the script consolidates the fp32 master weights and writes them, as they are, in
    // safetensors shards of at most 5 GB (huggingface_hub's split) into the directory it is
    // given: no model class, no config, no tokenizer
    return [
      {
        wait: 0,
        text:
          `$ cd ${c.site.checkpointDir} && python zero_to_fp32.py . ${c.site.exportDir} --safe_serialization`,
      },
      {
        wait: 1800,
        text: () =>
          this.#log(
            ctx,
            `real_accelerator.py:${s.rel.accelerator}:get_accelerator`,
            "Setting ds_accelerator to cuda (auto detect)",
          ),
      },
      {
        wait: 200,
        text:
          `Processing zero checkpoint './${tag}'\nDetected checkpoint of type zero stage ${stage}, world_size: ${c.layout.dp}\nParsing checkpoint created by deepspeed==${s.rel.version}`,
      },
      {
        wait: ctx.physics.loadSeconds * 1000,
        text: () => {
          s.exportStartMs = ctx.clock.now();
          return `Reconstructed ${stage === 3 ? "Trainable " : ""}fp32 state dict with ${
            tensors(c.arch).length
          } params ${n.total} elements`;
        },
      },
    ];
  }

  exportFile(ctx: RunContext, name: string, bytes: number): string {
    // zero_to_fp32.py prints only its progress bar; its files are listed when it is done
    return this.#zeroToFp32(ctx) ? "" : `  ${name} (${bytesDecimal(bytes)})`;
  }

  exportDone(ctx: RunContext, plan: ShardPlan): Beat[] {
    const c = ctx.cfg;
    if (!this.#zeroToFp32(ctx)) {
      return [{
        wait: 0,
        text: `Saved ${plan.shards.length} weight file${plan.shards.length > 1 ? "s" : ""} (${
          bytesDecimal(plan.totalSize)
        }) to ${c.site.exportDir}`,
      }];
    }
    const s = this.#state(ctx);
    const fp32 = shardPlan(c.arch, 4);
    // each shard at one node's safetensors write rate, the index after them
    const written: number[] = [];
    let t = s.exportStartMs;
    for (const sh of fp32.shards) {
      t += (sh.bytes / EXPORT_WRITE_BPS) * 1000 + 80;
      written.push(t);
    }
    const seconds = (t - s.exportStartMs) / 1000;
    const files = fp32.shards.map((sh, i) => ({ name: sh.name, bytes: sh.bytes, at: written[i]! }));
    if (fp32.index) files.push({ ...fp32.index, at: t + 60 });
    const n = fp32.shards.length;
    return [
      {
        wait: Math.max(0, t - ctx.clock.now()),
        text: () =>
          meter(ctx, {
            desc: "Saving checkpoint shards",
            n,
            total: n,
            elapsed: seconds,
            rate: n / seconds,
          }),
      },
      { wait: 600, text: `$ ls -l ${c.site.exportDir}` },
      { wait: 20, text: lsLong(files, c.site.user, ctx.tz) },
    ];
  }

  summary(ctx: RunContext): string[] {
    return summaryTable(ctx);
  }
}

/** The training script a plain DeepSpeed job runs. */
function scriptOf(ctx: RunContext): string {
  if (isMds(ctx)) return "pretrain_gpt.py";
  return ctx.cfg.kind === "finetune" ? "finetune.py" : "train.py";
}

/**
 * Skipped (overflowed) steps before this session: an fp16 run walks its loss scale down from
 * 2^16 to the ceiling its gradients tolerate (one more overflow for the hysteresis), then
 * skips twice per scale window as the scale grows back past it (hysteresis 2: the first
 * overflow keeps the scale, the second halves it), as the engine's dynamic loss scaling does.
 */
function priorSkipped(ctx: RunContext): number {
  const c = ctx.cfg;
  if (c.precision !== "fp16" || c.startStep === 0) return 0;
  const ceiling = ctx.sim.state().scaleCeiling;
  const walk = Math.max(0, Math.round(16 - Math.log2(ceiling)));
  const burst = walk > 0 ? walk + 1 : 0;
  return burst + 2 * Math.floor(Math.max(0, c.startStep - burst) / 1002);
}

/**
 * The loss scaler's overflow line (runtime/fp16/loss_scaler.py `update_scale`): with
 * hysteresis left the scale stays and the hysteresis drops.
 */
export function overflowMessage(e: Extract<RunEvent, { kind: "overflow" }>): string {
  const head = "[deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: " +
    Math.round(e.attempted);
  return e.reduced === e.attempted && e.attempted > 1
    ? `${head}, but hysteresis is 2. Reducing hysteresis to 1`
    : `${head}, reducing to ${Math.round(e.reduced)}`;
}

/** Megatron-DeepSpeed's arguments (the BLOOM-era names), all from the config. */
function mdsArgs(ctx: RunContext): [string, ArgValue][] {
  const c = ctx.cfg;
  const a = c.arch;
  const l = c.layout;
  const o = c.optimizer;
  const tok = megatronTokenizer(ctx);
  const fp16 = c.precision === "fp16";
  const f = (x: number) => pyFloat(x);
  return [
    ["adam_beta1", f(o.beta1)],
    ["adam_beta2", f(o.beta2)],
    ["adam_eps", f(o.eps)],
    ["bf16", !fp16],
    ["checkpoint_activations", l.recompute === "full"],
    ["clip_grad", f(o.clipGrad)],
    ["consumed_train_samples", 0],
    ["consumed_train_tokens", 0],
    ["data_parallel_size", l.dp],
    ["data_path", [`${siteRoot(ctx)}/data/${c.dataset.id}/${c.dataset.id}_text_document`]],
    ["deepspeed", true],
    ["deepspeed_config", "ds_config.json"],
    ["eval_interval", c.evalInterval],
    ["eval_iters", c.evalIters],
    ["exit_duration_in_mins", exitDurationMinutes(ctx)],
    ["ffn_hidden_size", a.ffn],
    ["fp16", fp16],
    ["global_batch_size", c.globalBatch],
    ["hidden_size", a.hidden],
    ["init_method_std", f(0.02)],
    ["initial_loss_scale", 4294967296],
    ["kv_channels", a.headDim],
    ["load", c.site.checkpointDir],
    ["log_interval", c.logInterval],
    ["loss_scale_window", 1000],
    ["lr", f(c.lr.peak)],
    ["lr_decay_iters", c.lr.totalSteps],
    ["lr_decay_style", c.lr.decay === "linear" ? "linear" : "cosine"],
    ["lr_warmup_iters", c.lr.warmupSteps],
    ["make_vocab_size_divisible_by", 128],
    ["max_position_embeddings", a.context],
    ["micro_batch_size", l.microBatch],
    ["min_lr", f(c.lr.min)],
    ["num_attention_heads", a.heads],
    ["num_key_value_heads", a.kvHeads],
    ["num_layers", a.layers],
    ["params_dtype", fp16 ? "torch.float16" : "torch.bfloat16"],
    ["pipeline_model_parallel_size", l.pp],
    ["rank", 0],
    ["save", c.site.checkpointDir],
    ["save_interval", c.saveInterval],
    ["seed", c.seed],
    ["seq_length", c.seqLen],
    ["split", "969,30,1"],
    ["tensor_model_parallel_size", l.tp],
    ["tokenizer_model", tok.model],
    ["tokenizer_type", tok.type],
    ["train_iters", c.totalSteps],
    ["weight_decay", f(o.weightDecay)],
    ["world_size", c.gpus],
    ["zero_stage", zeroStage(ctx)],
  ];
}

/** Bytes per second one node writes safetensors at (as the export phase writes them). */
const EXPORT_WRITE_BPS = 1.6e9;

/** `ls -l` of freshly written files: 1K-block total, sizes right-aligned, C-locale order. */
function lsLong(files: { name: string; bytes: number; at: number }[], user: string, tz: number) {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const width = Math.max(...sorted.map((f) => String(f.bytes).length));
  const blocks = sorted.reduce((k, f) => k + Math.ceil(f.bytes / 4096) * 4, 0);
  return [
    `total ${blocks}`,
    ...sorted.map((f) =>
      `-rw-r--r-- 1 ${user} ${user} ${String(f.bytes).padStart(width)} ${
        ctime(f.at, tz).slice(4, 16)
      } ${f.name}`
    ),
  ].join("\n");
}
