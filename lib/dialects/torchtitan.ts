/**
 * torchtitan (pytorch/torchtitan, late 2025: `python -m torchtitan.train --job.config_file …`)
 * launched the way its run_train.sh does: torchrun with `--local-ranks-filter 0 --role rank
 * --tee 3`, so every line of the logging rank carries torchrun's `[rank0]:` prefix. The logger
 * is `[titan] %(asctime)s - %(name)s - %(levelname)s - %(message)s` (REALISM 1.2). Start-up,
 * step, validation, checkpoint and GC lines follow torchtitan's train.py, components/metrics.py,
 * components/checkpoint.py and tools/utils.py; every number comes from the run context.
 */
import { TOKENIZERS, type WarningSpec } from "../data.ts";
import { noise } from "../core/rng.ts";
import { paramCount } from "../engine/arch.ts";
import type { ShardPlan } from "../engine/artifacts.ts";
import type { OutOfMemory, RunEvent } from "../engine/events.ts";
import { GIB, outOfMemory, stageLayers, type StageMemory } from "../engine/memory.ts";
import type { CheckpointRecord, EvalRecord } from "../engine/run.ts";
import type { Beat, RunContext } from "../phases/context.ts";
import { fillWarning, pythonPaths, warningsFor } from "../phases/warnings.ts";
import { bytesDecimal, commas, fixed, pyFloat, sciLower, timestampMs } from "../render/format.ts";
import { paint, paint256 } from "../term/ansi.ts";
import type { Dialect, LiveState, LogWindow } from "./dialect.ts";
import { childFailedBeats, faultBeats, oomBeats, restartBeats } from "./failures.ts";
import { ncclInitBeats } from "./nccl.ts";
import { pyTimedelta } from "./hf.ts";
import { summaryTable } from "./torchrun.ts";

type Level = "INFO" | "WARNING" | "ERROR";

/** Python garbage collection interval of the trainer (JobConfig training.gc_freq default). */
const GC_FREQ = 50;

/** Checkpoint save and load lines, as components/checkpoint.py words them. */
const SAVE_START = "Saving the checkpoint (or staging if async is enabled).";
const SAVE_DONE = "Finished saving the checkpoint (or staging if async is enabled)in ";

const SPACES = "                ";

/** Right-align `s` in `w` columns (Python's default for numbers). */
function pad(s: string, w: number): string {
  return s.length >= w ? s : SPACES.slice(0, w - s.length) + s;
}

/** Python `{:,.{d}f}` for a non-negative number. */
function fixedCommas(x: number, d: number): string {
  const s = fixed(x, d);
  const dot = d > 0 ? s.length - d - 1 : s.length;
  if (dot <= 3) return s;
  let out = s.slice(0, dot % 3 || 3);
  for (let i = dot % 3 || 3; i < dot; i += 3) out += "," + s.slice(i, i + 3);
  return out + s.slice(dot);
}

/** Python's repr of a list of strings. */
function pyList(xs: readonly (string | number)[]): string {
  return "[" + xs.map((x) => (typeof x === "string" ? `'${x}'` : String(x))).join(", ") + "]";
}

/** A number as a Python int literal when it is whole, else as Python prints the float. */
function pyNum(x: number): string {
  return Number.isInteger(x) ? String(x) : pyFloat(x);
}

/**
 * torchtitan's `get_peak_flops` (tools/utils.py): a table keyed on the device name, A100
 * (312 TFLOP/s) for anything it does not know. The L40S entry is spelled in lower case and
 * never matches `NVIDIA L40S`, so that card falls back to A100 too.
 */
export function titanPeakFlops(deviceName: string): { flops: number; known: boolean } {
  if (deviceName.includes("A100")) return { flops: 312e12, known: true };
  if (deviceName.includes("H100")) {
    if (deviceName.includes("NVL")) return { flops: 835e12, known: true };
    if (deviceName.includes("PCIe")) return { flops: 756e12, known: true };
    return { flops: 989e12, known: true };
  }
  if (deviceName.includes("H200")) return { flops: 989e12, known: true };
  if (deviceName.includes("B200")) return { flops: 2.25e15, known: true };
  if (deviceName.includes("l40s")) return { flops: 362e12, known: true };
  return { flops: 312e12, known: false };
}

/** Hugging Face `eos_token_id` of each tokenizer (what torchtitan's model args pick up). */
const EOS_ID: Record<string, number> = {
  llama3: 128001,
  llama2: 2,
  mistral: 2,
  tekken: 2,
  qwen2: 151643,
  gemma: 1,
  olmo: 50279,
  olmo2: 100257,
  falcon: 11,
  deepseek: 100001,
  "deepseek-v3": 1,
  smollm: 0,
  gpt2: 50256,
};

interface TitanModel {
  /** Train spec name (`--model.name`). */
  name: string;
  flavor: string;
  /** The job's TOML file. */
  toml: string;
  /** `job.description` of the TOML. */
  description: string;
  /** Where the Hugging Face assets (tokenizer, config) were downloaded to. */
  hfAssets: string;
  /** Official flavor: its ffn multiplier pair from torchtitan's llama3 registry. */
  ffn?: { multipleOf: number; multiplier: number };
}

const LLAMA3_FLAVORS: Record<string, [string, string, number, number]> = {
  "llama-3.1-8b": ["8B", "llama3_8b", 1024, 1.3],
  "llama-3.1-70b": ["70B", "llama3_70b", 4096, 1.3],
  "llama-3.1-405b": ["405B", "llama3_405b", 4096, 1.2],
};

/** The model's Hugging Face repository name, as download_hf_assets.py names its folder. */
function hfRepoName(ctx: RunContext): string {
  return ctx.cfg.model.name.replaceAll(" ", "-");
}

/** The train spec and flavor a run uses: torchtitan's own where it has one, else the team's. */
export function titanModel(ctx: RunContext): TitanModel {
  const c = ctx.cfg;
  const hfAssets = `./assets/hf/${hfRepoName(ctx)}`;
  const official = LLAMA3_FLAVORS[c.model.id];
  if (official) {
    const [flavor, toml, multipleOf, multiplier] = official;
    return {
      name: "llama3",
      flavor,
      toml: `./torchtitan/models/llama3/train_configs/${toml}.toml`,
      description: `Llama 3 ${flavor} training`,
      hfAssets,
      ffn: { multipleOf, multiplier },
    };
  }
  if (c.arch.style === "deepseek_v3") {
    return {
      name: "deepseek_v3",
      flavor: "671B",
      toml: "./torchtitan/models/deepseek_v3/train_configs/deepseek_v3_671b.toml",
      description: "DeepSeek-V3 671B model training",
      hfAssets,
    };
  }
  // a team's own train spec: Llama 2 had one upstream, other Llama-shaped models reuse llama3
  const id = c.model.id;
  const name = id.startsWith("llama-2")
    ? "llama2"
    : c.model.modelType === "llama"
    ? "llama3"
    : c.model.modelType;
  const size = GPT2_FLAVORS[id] ?? sizeFlavor(id);
  const flavor = name === "llama3" && !id.startsWith("llama-3")
    ? id.replaceAll("-", "_")
    : size ?? id.replaceAll("-", "_");
  return {
    name,
    flavor,
    toml: `./train_configs/${c.site.project}.toml`,
    description: `${c.displayName} training`,
    hfAssets,
  };
}

const GPT2_FLAVORS: Record<string, string> = {
  gpt2: "124M",
  "gpt2-medium": "350M",
  "gpt2-large": "774M",
  "gpt2-xl": "1.5B",
};

/** "qwen2.5-7b" → "7B", "mixtral-8x7b" → "8x7B"; null when the id names no size. */
function sizeFlavor(id: string): string | null {
  const last = id.slice(id.lastIndexOf("-") + 1);
  return /^\d+(\.\d+)?(x\d+)?[bm]$/.test(last)
    ? last.slice(0, -1) + last.slice(-1).toUpperCase()
    : null;
}

/** multiple_of / ffn_dim_multiplier that make torchtitan's FeedForward width equal `ffn`. */
function ffnArgs(dim: number, ffn: number): { multipleOf: number; multiplier: string } {
  const base = Math.floor((2 * 4 * dim) / 3);
  const width = (mult: number | null, mo: number) => {
    const h = mult === null ? base : Math.floor(mult * base);
    return mo * Math.ceil(h / mo);
  };
  for (const mo of [1024, 512, 256, 128, 64, 32, 16, 8]) {
    if (ffn % mo !== 0) continue;
    if (width(null, mo) === ffn) return { multipleOf: mo, multiplier: "None" };
    for (let digits = 1; digits <= 3; digits++) {
      const p = 10 ** digits;
      const mult = Math.round((ffn / base) * p) / p;
      if (width(mult, mo) === ffn) return { multipleOf: mo, multiplier: pyFloat(mult) };
    }
  }
  return { multipleOf: 1, multiplier: pyFloat((ffn + 0.5) / base) };
}

/** The model args dataclass as `Building {name} {flavor} with {args}` prints it. */
function modelArgs(ctx: RunContext, m: TitanModel): string {
  const c = ctx.cfg;
  const a = c.arch;
  const eos = EOS_ID[c.model.tokenizer] ?? 0;
  const eps = pyFloat(a.normEps ?? 1e-5);
  const enforced = "_enforced='This field is used to enforce all fields have defaults.'";
  if (a.style === "deepseek_v3" && a.mla && a.moe) {
    const moe = a.moe;
    return `DeepSeekV3ModelArgs(${enforced}, max_batch_size=8, max_seq_len=${c.seqLen}, vocab_size=${a.vocab}, dim=${a.hidden}, inter_dim=${a.ffn}, moe_inter_dim=${moe.expertFfn}, n_layers=${a.layers}, n_dense_layers=${moe.denseLayers}, n_heads=${a.heads}, norm_eps=${eps}, moe_args=MoEArgs(num_experts=${moe.experts}, num_shared_experts=${moe.shared}, score_func='sigmoid', route_norm=True, route_scale=2.5, score_before_experts=False, top_k=${moe.topK}, use_grouped_mm=True, load_balance_coeff=0.001, _debug_force_load_balance=False), n_expert_groups=8, n_limited_groups=4, q_lora_rank=${a.mla.qLoraRank}, kv_lora_rank=${a.mla.kvLoraRank}, qk_nope_head_dim=${a.mla.qkNopeHeadDim}, qk_rope_head_dim=${a.mla.qkRopeHeadDim}, v_head_dim=${a.mla.vHeadDim}, attn_type='sdpa', attn_mask_type='causal', original_seq_len=4096, rope_theta=${
      pyFloat(a.ropeTheta ?? 10000)
    }, rope_factor=40, beta_fast=32, beta_slow=1, mscale=1.0)`;
  }
  const ffn = m.ffn
    ? { multipleOf: m.ffn.multipleOf, multiplier: pyFloat(m.ffn.multiplier) }
    : ffnArgs(a.hidden, a.moe ? a.moe.expertFfn : a.ffn);
  const kv = a.kvHeads === a.heads ? "None" : String(a.kvHeads);
  return `TransformerModelArgs(${enforced}, dim=${a.hidden}, n_layers=${a.layers}, n_heads=${a.heads}, n_kv_heads=${kv}, vocab_size=${a.vocab}, multiple_of=${ffn.multipleOf}, ffn_dim_multiplier=${ffn.multiplier}, norm_eps=${eps}, rope_theta=${
    pyNum(a.ropeTheta ?? 10000)
  }, rope_scaling_args=RoPEScalingArgs(scaling_factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0, original_max_position_embeddings=8192), max_seq_len=${c.seqLen}, depth_init=True, use_flex_attn=False, attn_mask_type='causal', eos_id=${eos})`;
}

/**
 * The rank whose output the terminal shows: rank 0, or with pipeline parallelism the first rank
 * of the last stage, where the loss is visible (components/metrics.py `_get_metrics_rank`).
 */
export function titanLogRank(ctx: RunContext): number {
  const l = ctx.cfg.layout;
  return l.pp > 1 ? (ctx.cfg.gpus / l.pp) * (l.pp - 1) : 0;
}

/** Memory of the logging rank's pipeline stage. */
function logStage(ctx: RunContext): StageMemory {
  const m = ctx.physics.candidate.memory;
  const l = ctx.cfg.layout;
  return m.stages[l.pp > 1 ? l.pp - 1 : 0] ?? m.worst;
}

/** Seconds a `gc.collect(1)` takes: grows with the module count (layers). */
function gcSeconds(ctx: RunContext, at: number): number {
  const u = (noise(ctx.cfg.seed, 0x6c, at) + 1) / 2;
  return 0.0012 * ctx.cfg.arch.layers * (0.6 + 0.8 * u);
}

interface StepConstants {
  ctx: RunContext;
  /** `[rank0]:[titan] ` */
  head: string;
  /** ` - root - INFO - ` */
  info: string;
  tokensPerGpuStep: number;
  flopsPerToken: number;
  peak: number;
  /** `71.43GiB(90.21%)` */
  mem: string;
  color: boolean;
  /**
   * After step 1 train.py sets the process groups' timeout to `comm.train_timeout_seconds`:
   * the timeout the NCCL watchdog then enforces (a flaky cluster's jobs set a short one).
   */
  sync: string;
}

export class TorchtitanDialect implements Dialect {
  readonly name = "torchtitan";
  #k: StepConstants | null = null;

  #prefix(ctx: RunContext): string {
    return `[rank${titanLogRank(ctx)}]:`;
  }

  #line(ctx: RunContext, msg: string, level: Level = "INFO", at = ctx.clock.now()): string {
    return `${this.#prefix(ctx)}[titan] ${timestampMs(at, ctx.tz)} - root - ${level} - ${msg}`;
  }

  #beat(wait: number, ctx: RunContext, msg: string, level: Level = "INFO"): Beat {
    return { wait, text: () => this.#line(ctx, msg, level) };
  }

  /** What every step line of a run repeats, computed once. */
  #constants(ctx: RunContext): StepConstants {
    let k = this.#k;
    if (k === null || k.ctx !== ctx) {
      const c = ctx.cfg;
      const st = logStage(ctx);
      const cap = c.gpu.capacityGiB * GIB;
      k = {
        ctx,
        head: this.#prefix(ctx) + "[titan] ",
        info: " - root - INFO - ",
        tokensPerGpuStep: (c.globalBatch * c.seqLen) / c.gpus,
        flopsPerToken: ctx.physics.candidate.perf.flopsPerToken,
        peak: titanPeakFlops(c.gpu.smiName).flops,
        mem: pad(fixed(st.reserved / GIB, 2), 5) + "GiB(" + fixed((100 * st.reserved) / cap, 2) +
          "%)",
        color: ctx.screen.color,
        sync: "Synchronizing and adjusting timeout for all ProcessGroups to " +
          pyTimedelta(ctx.rates.watchdogMs / 1000),
      };
      this.#k = k;
    }
    return k;
  }

  /** `CUDA memory usage for model: …` and friends: bytes as GiB and % of the device. */
  #gibPct(ctx: RunContext, bytes: number): string {
    const cap = ctx.cfg.gpu.capacityGiB * GIB;
    return `${fixed(bytes / GIB, 2)}GiB(${fixed((100 * bytes) / cap, 2)}%)`;
  }

  #command(ctx: RunContext): string {
    const c = ctx.cfg;
    const m = titanModel(ctx);
    const r = titanLogRank(ctx);
    const filter = `--local-ranks-filter ${r % c.gpusPerNode} --role rank --tee 3`;
    const entry = `-m torchtitan.train --job.config_file ${m.toml}`;
    if (c.nodes > 1) {
      return `NCCL_DEBUG=INFO PYTORCH_ALLOC_CONF="expandable_segments:True" torchrun --nnodes=${c.nodes} --nproc_per_node=${c.gpusPerNode} --max-restarts=3 --rdzv_id=${
        c.site.masterPort + c.seed % 1000
      } --rdzv_backend c10d --rdzv_endpoint="${
        ctx.host(0)
      }:${c.site.masterPort}" ${filter} ${entry}`;
    }
    return `PYTORCH_ALLOC_CONF="expandable_segments:True" torchrun --nproc_per_node=${c.gpusPerNode} --max-restarts=3 --rdzv_backend c10d --rdzv_endpoint="localhost:0" ${filter} ${entry}`;
  }

  /** NCCL's lines as the logging rank's tee shows them (only rank 0 prints them). */
  #nccl(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const wait = ctx.physics.ncclInitSeconds * 1000;
    if (c.gpus <= 1) return [];
    const prefix = this.#prefix(ctx);
    if (titanLogRank(ctx) !== 0) return [{ wait, text: "" }];
    if (c.nodes === 1) {
      // NCCL_DEBUG unset: only the version banner
      return [{ wait, text: `${prefix}NCCL version ${c.site.ncclVersion}` }];
    }
    return ncclInitBeats(ctx).map((b) => ({
      wait: b.wait,
      text: () => {
        const t = typeof b.text === "function" ? b.text() : b.text;
        return t.split("\n").map((l) => prefix + l).join("\n");
      },
    }));
  }

  /** Trainer start-up to the communicators: job, device mesh, GC, NCCL. */
  #job(ctx: RunContext): Beat[] {
    const l = ctx.cfg.layout;
    // parallel_dims.py: pp, dp_replicate, dp_shard, cp, tp; with expert parallelism the data
    // shard dimension is split into the part outside and the part inside the EP groups
    const dims: [number, string][] = l.ep > 1
      ? [[l.pp, "pp"], [l.dp / l.ep, "dp_shard_mod_ep"], [l.ep, "dp_shard_in_ep"], [l.tp, "tp"]]
      : [[l.pp, "pp"], [l.dp, "dp_shard"], [l.tp, "tp"]];
    const on = dims.filter(([d]) => d > 1);
    return [
      this.#beat(300, ctx, `Starting job: ${titanModel(ctx).description}`),
      this.#beat(
        180,
        ctx,
        `Building ${on.length}-D device mesh with ${pyList(on.map((x) => x[1]))}, ${
          pyList(on.map((x) => x[0]))
        }`,
      ),
      this.#beat(5, ctx, "[GC] Initial GC collection took 0.00 seconds"),
      ...this.#nccl(ctx),
    ];
  }

  /** Tokenizer, data, model build, parallelisms (train.py `Trainer.__init__`). */
  #build(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const a = c.arch;
    const l = c.layout;
    const p = ctx.physics;
    const m = titanModel(ctx);
    const n = paramCount(a);
    const col = ctx.screen.color;
    const ds = c.dataset;
    const path = ds.name.includes("/") ? ds.name : `/data/${ds.id}`;
    const beats: Beat[] = [
      this.#beat(120, ctx, "Loading tokenizer from tokenizer.json"),
      this.#beat(5, ctx, `Preparing ${ds.id.replaceAll("-", "_")} dataset from ${path}`),
      this.#beat(
        p.dataSeconds * 1000,
        ctx,
        `Building ${m.name} ${m.flavor} with ${modelArgs(ctx, m)}`,
      ),
    ];
    if (c.precision === "fp8") {
      beats.push(this.#beat(20, ctx, "Float8 training active with recipe tensorwise"));
    }
    beats.push(
      this.#beat(
        10,
        ctx,
        `CUDA capacity: ${c.gpu.smiName} with ${fixed(c.gpu.capacityGiB, 2)}GiB memory`,
      ),
    );
    if (a.moe) {
      const sparse = n.experts;
      beats.push(
        this.#beat(
          40,
          ctx,
          `Total parameter count: dense ${commas(n.total - sparse)}, sparse ${
            commas(sparse)
          }, active ${commas(n.active)}`,
        ),
      );
    }
    beats.push(
      this.#beat(
        50,
        ctx,
        paint(col, "blue", `Model ${m.name} ${m.flavor} `) +
          paint(col, "red", `size: ${commas(n.total)} total parameters`),
      ),
    );
    const build = p.buildSeconds * 1000;
    const chunk: Beat[] = [];
    if (l.tp > 1) chunk.push(this.#beat(build / 4, ctx, "Applied Tensor Parallelism to the model"));
    chunk.push(
      this.#beat(
        build / 4,
        ctx,
        `Applied ${l.recompute} activation checkpointing to the model`,
      ),
      this.#beat(build / 8, ctx, "Compiling each TransformerBlock with torch.compile"),
    );
    if (l.dp > 1) chunk.push(this.#beat(build / 4, ctx, "Applied FSDP to the model"));
    if (l.pp > 1) {
      // the logging rank builds its stage(s), then each chunk is parallelized
      const stages = l.pp * l.vpp;
      const per = stageLayers(a.layers, stages);
      const rank = Math.floor(titanLogRank(ctx) / (c.gpus / l.pp));
      let first = 0;
      const starts = per.map((k) => (first += k) - k);
      for (let v = 0; v < l.vpp; v++) {
        const s = rank + v * l.pp;
        const names: string[] = [];
        if (s === 0) names.push("tok_embeddings");
        for (let i = 0; i < (per[s] ?? 0); i++) names.push(`layers.${(starts[s] ?? 0) + i}`);
        if (s === stages - 1) names.push("norm", "output");
        beats.push(
          this.#beat(
            30,
            ctx,
            `PP rank ${rank} is building stage_idx ${s} with modules ${pyList(names)}`,
          ),
        );
      }
      for (let v = 0; v < l.vpp; v++) beats.push(...chunk);
      const micro = c.globalBatch / (l.dp * l.microBatch);
      beats.push(
        this.#beat(
          20,
          ctx,
          `Using pipeline schedule ${
            l.vpp > 1 ? "Interleaved1F1B" : "1F1B"
          } with ${micro} microbatches and ${stages} stages.`,
        ),
      );
    } else {
      beats.push(...chunk);
    }
    return beats;
  }

  /** After the weights exist: peak FLOPS, memory, checkpointer, precision, batch sizes. */
  #peak(ctx: RunContext): string {
    const c = ctx.cfg;
    const peak = titanPeakFlops(c.gpu.smiName);
    const line = this.#line(ctx, `Peak FLOPS used for computing MFU: ${sciLower(peak.flops, 3)}`);
    if (peak.known) return line;
    return this.#line(
      ctx,
      `Peak flops undefined for: ${c.gpu.smiName}, fallback to A100`,
      "WARNING",
    ) + "\n" + line;
  }

  #ready(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const l = c.layout;
    const m = titanModel(ctx);
    const beats: Beat[] = [
      this.#beat(
        5,
        ctx,
        `CUDA memory usage for model: ${this.#gibPct(ctx, logStage(ctx).weights)}`,
      ),
      this.#beat(
        5,
        ctx,
        `model.safetensors.index.json not found at hf_assets_path: ${m.hfAssets}/model.safetensors.index.json.                     Defaulting to saving a single safetensors file if checkpoint is saved in HF format`,
        "WARNING",
      ),
      this.#beat(
        5,
        ctx,
        `Checkpointing active. Checkpoints will be loaded from and saved to ${c.site.checkpointDir}/checkpoint`,
      ),
    ];
    if (l.dp > 1) {
      beats.push(this.#beat(1, ctx, "Mixed precision training is handled by fully_shard"));
    } else if (l.tp > 1 || l.pp > 1) {
      beats.push(
        this.#beat(
          1,
          ctx,
          "Mixed precision training with TP or PP is only supported when FSDP/HSDP/CP is enabled.",
          "WARNING",
        ),
        this.#beat(1, ctx, "Mixed precision training is disabled"),
      );
    } else beats.push(this.#beat(1, ctx, "Mixed precision training is handled by AMP"));
    return beats;
  }

  #initialized(ctx: RunContext): Beat {
    const c = ctx.cfg;
    const l = c.layout;
    const local = l.pp > 1 ? c.globalBatch / l.dp : l.microBatch;
    const accum = c.globalBatch / (local * l.dp);
    return this.#beat(
      2,
      ctx,
      `Trainer is initialized with local batch size ${local}, global batch size ${c.globalBatch}, gradient accumulation steps ${accum}, sequence length ${c.seqLen}, total steps ${c.totalSteps} (warmup ${c.lr.warmupSteps})`,
    );
  }

  /** `CheckpointManager.load`: the reload itself takes `seconds`. */
  #load(ctx: RunContext, step: number, seconds: number): Beat[] {
    return [
      this.#beat(1, ctx, `Loading the checkpoint at step ${step}.`),
      {
        wait: seconds * 1000,
        text: () =>
          this.#line(
            ctx,
            `[GC] GC collection for checkpoint loading. took ${
              fixed(gcSeconds(ctx, -step), 2)
            } seconds`,
          ) + "\n" +
          this.#line(ctx, `Finished loading the checkpoint in ${fixed(seconds, 2)} seconds.`),
      },
    ];
  }

  /** The weights do not fit: the process dies in `model.to_empty`, before the checkpointer. */
  #diesLoading(ctx: RunContext): boolean {
    const mem = ctx.physics.candidate.memory;
    return !mem.fits && outOfMemory(mem, ctx.cfg.gpu.capacityGiB).phase === "load";
  }

  launch(ctx: RunContext): Beat[] {
    const beats: Beat[] = [{
      wait: 0,
      text: paint(ctx.screen.color, "bold", `$ ${this.#command(ctx)}`),
    }];
    for (const w of warningsFor(ctx, "launch")) {
      if (w.id === "torchrun-omp-legacy") continue; // torch ≥ 2.4 prints the glog-style copy
      beats.push({ wait: 350, text: () => fillWarning(ctx, w).join("\n") });
    }
    return beats;
  }

  distributed(ctx: RunContext): Beat[] {
    return this.#job(ctx);
  }

  model(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const beats = this.#build(ctx);
    if (c.startStep > 0 && !this.#diesLoading(ctx)) {
      // resuming: the weights are initialized quickly, then the checkpoint load is the long part
      beats.push(
        { wait: 400, text: () => this.#peak(ctx) },
        ...this.#ready(ctx),
        this.#initialized(ctx),
        this.#beat(1, ctx, `Loading the checkpoint at step ${c.startStep}.`),
      );
    }
    return beats;
  }

  loadBar(ctx: RunContext, frac: number, elapsed: number): string {
    if (frac < 1) return ""; // torchtitan draws no bar
    if (ctx.cfg.startStep > 0) {
      return this.#line(
        ctx,
        `[GC] GC collection for checkpoint loading. took ${
          fixed(gcSeconds(ctx, -ctx.cfg.startStep), 2)
        } seconds`,
      ) + "\n" +
        this.#line(ctx, `Finished loading the checkpoint in ${fixed(elapsed, 2)} seconds.`);
    }
    return this.#peak(ctx);
  }

  loaded(ctx: RunContext, _seconds: number): Beat[] {
    return ctx.cfg.startStep > 0 ? [] : this.#ready(ctx);
  }

  data(ctx: RunContext): Beat[] {
    return ctx.cfg.startStep > 0 ? [] : [this.#initialized(ctx)];
  }

  trainStart(ctx: RunContext): Beat[] {
    return [this.#beat(1, ctx, `Training starts at step ${ctx.cfg.startStep + 1}`)];
  }

  /** The metrics processor logs step 1 and every log_freq steps. */
  logsAt(ctx: RunContext, step: number): boolean {
    return step === 1 || step % ctx.cfg.logInterval === 0;
  }

  stepLog(ctx: RunContext, w: LogWindow): string {
    const k = this.#constants(ctx);
    const r = w.last;
    const ms = w.meanStepMs;
    const tps = (k.tokensPerGpuStep * 1000) / ms;
    const tflops = (k.flopsPerToken * tps) / 1e12;
    const mfu = (100 * k.flopsPerToken * tps) / k.peak;
    const step = r.step;
    const now = ctx.clock.now();
    const tz = ctx.tz;
    const stepS = step < 10 ? " " + step : "" + step;
    const loss = pad(fixed(r.loss, 5), 8);
    const gn = pad(fixed(r.gradNorm, 4), 7);
    const tpsS = commas(tps);
    const tfS = fixedCommas(tflops, 2);
    const mfuS = fixed(mfu, 2) + "%";
    const body = k.color
      ? paint(true, "red", "step: " + stepS + "  ") + paint(true, "green", "loss: " + loss + "  ") +
        paint256(true, 130, "grad_norm: " + gn + "  ") +
        paint256(true, 86, "memory: " + k.mem + "  ") + paint(true, "blue", "tps: " + tpsS + "  ") +
        paint(true, "cyan", "tflops: " + tfS + "  ") + paint(true, "magenta", "mfu: " + mfuS)
      : "step: " + stepS + "  loss: " + loss + "  grad_norm: " + gn + "  memory: " + k.mem +
        "  tps: " + tpsS + "  tflops: " + tfS + "  mfu: " + mfuS;
    let out = "";
    const first = step - w.steps + 1;
    // GC at the start of every gc_freq-th step; the step-1 timeout change after step 1
    let g = Math.ceil(first / GC_FREQ) * GC_FREQ;
    // train.py shortens the process-group timeout right after step 1 (and logs step 1 itself)
    const sync = first <= 1 && step >= 1;
    if (sync && step > 1) {
      out += k.head + timestampMs(now - (w.steps - 1) * ms, tz) + k.info + k.sync + "\n";
    }
    for (; g <= step; g += GC_FREQ) {
      if (g <= 1) continue;
      out += k.head + timestampMs(now - (step - g + 1) * ms, tz) + k.info +
        "[GC] Performing periodic GC collection took " + fixed(gcSeconds(ctx, g), 2) + " seconds\n";
    }
    out += k.head + timestampMs(now, tz) + k.info + body;
    return sync && step === 1 ? out + "\n" + k.head + timestampMs(now, tz) + k.info + k.sync : out;
  }

  live(_ctx: RunContext, _s: LiveState): string[] {
    return []; // torchtitan prints no progress bar
  }

  evalStart(_ctx: RunContext): Beat[] {
    return [];
  }

  evalBar(_ctx: RunContext, _frac: number, _elapsed: number): string {
    return "";
  }

  evalDone(ctx: RunContext, e: EvalRecord): Beat[] {
    const k = this.#constants(ctx);
    const c = ctx.cfg;
    const tps = (c.evalIters * c.globalBatch * c.seqLen) / c.gpus / (e.durationMs / 1000);
    const stepS = e.step < 10 ? " " + e.step : "" + e.step;
    const col = ctx.screen.color;
    const msg = paint(col, "yellow", `validate step: ${stepS}  `) +
      paint(col, "green", `loss: ${pad(fixed(e.loss, 4), 7)}  `) +
      paint256(col, 86, `memory: ${k.mem}  `) + paint(col, "blue", `tps: ${commas(tps)}`);
    return [this.#beat(0, ctx, msg)];
  }

  checkpointDir(ctx: RunContext, step: number): string {
    return `${ctx.cfg.site.checkpointDir}/checkpoint/step-${step}`;
  }

  checkpointStart(ctx: RunContext, _dir: string): Beat[] {
    const beats = [this.#beat(0, ctx, SAVE_START)];
    const step = ctx.sim.step;
    if (step >= ctx.cfg.totalSteps) {
      beats.push(this.#beat(1, ctx, `Saving a full checkpoint at last step, step ${step}.`));
    }
    return beats;
  }

  checkpointDone(ctx: RunContext, c: CheckpointRecord, _dir: string): Beat[] {
    return [
      this.#beat(
        0,
        ctx,
        `[GC] GC collection invoked by checkpointer. took ${
          fixed(gcSeconds(ctx, c.step), 2)
        } seconds`,
      ),
      this.#beat(1, ctx, `${SAVE_DONE}${fixed(c.durationMs / 1000, 2)} seconds.`),
    ];
  }

  event(ctx: RunContext, e: RunEvent): Beat[] {
    switch (e.kind) {
      case "fault":
        return faultBeats(ctx, e);
      case "restart": {
        // the new worker group runs the whole start-up again and reloads the last checkpoint
        const p = ctx.physics;
        const beats: Beat[] = [
          ...restartBeats(ctx, e),
          ...this.#job(ctx),
          ...this.#build(ctx),
          { wait: 400, text: () => this.#peak(ctx) },
          ...this.#ready(ctx),
          this.#initialized(ctx),
        ];
        if (e.fromStep > 0) beats.push(...this.#load(ctx, e.fromStep, p.reloadSeconds));
        beats.push(this.#beat(1, ctx, `Training starts at step ${e.fromStep + 1}`));
        return beats;
      }
      default:
        return []; // spikes and slow nodes show in the numbers; torchtitan logs nothing else
    }
  }

  jobFailed(ctx: RunContext): Beat[] {
    return childFailedBeats(ctx, "torchtitan.train", -6);
  }

  oom(ctx: RunContext, o: OutOfMemory): Beat[] {
    const train = `/home/${ctx.cfg.site.user}/torchtitan/torchtitan/train.py`;
    const record = `${
      pythonPaths(ctx).site
    }/torch/distributed/elastic/multiprocessing/errors/__init__.py`;
    const wrapper: [string, number, string, string] = [
      record,
      357,
      "wrapper",
      "return f(*args, **kwargs)",
    ];
    const frames: [string, number, string, string][] = o.phase === "load"
      ? [
        [train, 752, "<module>", "trainer = Trainer(config)"],
        wrapper,
        [train, 262, "__init__", "model.to_empty(device=init_device)"],
      ]
      : [
        [train, 760, "<module>", "trainer.train()"],
        wrapper,
        [train, 669, "train", "self.train_step(data_iterator)"],
        [train, 568, "train_step", "loss = self.forward_backward_step(input_dict, labels)"],
        [train, 544, "forward_backward_step", "loss.backward()"],
      ];
    return [...oomBeats(ctx, o, frames), ...childFailedBeats(ctx, "torchtitan.train", 1)];
  }

  warning(ctx: RunContext, w: WarningSpec, lines: string[]): string {
    if (w.when === "end") return ""; // train.py destroys the process group before it exits
    const prefix = this.#prefix(ctx);
    const model =
      `/home/${ctx.cfg.site.user}/torchtitan/torchtitan/models/llama3/model/model.py:418`;
    return lines.map((l) => {
      let s = l;
      if (w.id === "dynamo-cache-limit") {
        const open = s.indexOf("function: 'forward' (");
        if (open >= 0) s = s.slice(0, open) + `function: 'forward' (${model})`;
        s = s.replace("layer_idx", "layer_id");
      }
      return s.startsWith("[rank") ? s : prefix + s;
    }).join("\n");
  }

  windowEnd(_ctx: RunContext): Beat[] {
    return [];
  }

  trainEnd(ctx: RunContext): Beat[] {
    return [
      this.#beat(0, ctx, "Sleeping 2 seconds for other ranks to complete"),
      this.#beat(2000, ctx, "Training completed"),
      this.#beat(200, ctx, "Process group destroyed"),
    ];
  }

  exportStart(ctx: RunContext, _plan: ShardPlan): Beat[] {
    const c = ctx.cfg;
    const m = titanModel(ctx);
    const dtype = c.precision === "fp32" ? "float32" : "bfloat16";
    return [{
      wait: 400,
      text: paint(
        ctx.screen.color,
        "bold",
        `$ python ./scripts/checkpoint_conversion/convert_to_hf.py ${
          this.checkpointDir(ctx, ctx.sim.step)
        } ${c.site.exportDir} --hf_assets_path ${m.hfAssets} --model_name ${m.name} --model_flavor ${m.flavor} --export_dtype ${dtype}`,
      ),
    }];
  }

  exportFile(ctx: RunContext, name: string, bytes: number): string {
    const line = `  ${name.padEnd(38)} ${bytesDecimal(bytes).padStart(10)}`;
    if (name !== "config.json") return line;
    // the converter writes tensors only: the config and tokenizer come from the HF assets
    const m = titanModel(ctx);
    const tok = TOKENIZERS.find((t) => t.id === ctx.cfg.model.tokenizer) ?? TOKENIZERS[0]!;
    const files = ["config.json", "generation_config.json", ...tok.files.map((f) => f.name)];
    return paint(
      ctx.screen.color,
      "bold",
      `$ cp ${m.hfAssets}/{${files.join(",")}} ${ctx.cfg.site.exportDir}/`,
    ) + "\n" + line;
  }

  exportDone(_ctx: RunContext, _plan: ShardPlan): Beat[] {
    return [];
  }

  summary(ctx: RunContext): string[] {
    return summaryTable(ctx);
  }
}
