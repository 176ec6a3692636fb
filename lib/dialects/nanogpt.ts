/**
 * nanoGPT (karpathy/nanoGPT train.py, REALISM 1.3): bare `print` lines, no timestamps. Every
 * rank runs configurator.py and the model set-up, so on a node of 8 GPUs the config file, the
 * token count, the parameter counts and the compile notice come out once per local rank; only
 * rank 0 prints evals, checkpoints and the `iter` lines. MFU is nanoGPT's own estimate (PaLM
 * FLOPs of its non-embedding parameters against an A100's 312 TFLOP/s, whatever the GPU) as a
 * 0.9/0.1 running average that reads -100.00% until the process has run 5 iterations.
 */
import type { Architecture, WarningSpec } from "../data.ts";
import { noise } from "../core/rng.ts";
import { tensors } from "../engine/arch.ts";
import type { ShardPlan } from "../engine/artifacts.ts";
import type { OutOfMemory, RunEvent } from "../engine/events.ts";
import { expectedTrainLoss, expectedValLoss } from "../engine/loss.ts";
import type { CheckpointRecord, EvalRecord } from "../engine/run.ts";
import { learningRate } from "../engine/schedule.ts";
import type { Beat, RunContext } from "../phases/context.ts";
import { fillWarning, warningsFor } from "../phases/warnings.ts";
import { bytesDecimal, commas, fixed } from "../render/format.ts";
import { paint } from "../term/ansi.ts";
import type { Dialect, LiveState, LogWindow } from "./dialect.ts";
import { childFailedBeats, faultBeats, oomBeats, restartBeats } from "./failures.ts";
import { nodeIp } from "./nccl.ts";
import { nvidiaSmiBeats } from "./smi.ts";
import { summaryTable } from "./torchrun.ts";

/** GPT-2's 50257 tokens rounded up to a multiple of 64 (train.py's default vocab_size). */
export const NANOGPT_VOCAB = 50304;

/** The A100 bf16 peak `estimate_mfu` divides by. */
export const NANOGPT_PEAK = 312e12;

export interface NanoParams {
  /** `get_num_params()`: every parameter but the position embeddings. */
  nonEmbedding: number;
  decayed: { tensors: number; params: number };
  nodecayed: { tensors: number; params: number };
}

/**
 * nanoGPT's parameters for an architecture, from the engine's tensor list: bias=False (the
 * train.py default, so Linear and LayerNorm biases do not exist), the token embedding padded to
 * 50304 rows and tied to the LM head; 2-D tensors decay, 1-D ones do not.
 */
export function nanoParams(a: Architecture): NanoParams {
  const out: NanoParams = {
    nonEmbedding: 0,
    decayed: { tensors: 0, params: 0 },
    nodecayed: { tensors: 0, params: 0 },
  };
  for (const t of tensors(a)) {
    if (t.shape.length === 1 && t.name.endsWith(".bias")) continue;
    const numel = t.kind === "embed" && a.vocab === 50257
      ? NANOGPT_VOCAB * (t.shape[1] ?? a.hidden)
      : t.numel;
    const group = t.shape.length >= 2 ? out.decayed : out.nodecayed;
    group.tensors++;
    group.params += numel;
    if (t.kind !== "pos") out.nonEmbedding += numel;
  }
  return out;
}

/** `estimate_mfu`'s FLOPs per token: 6N + 12·L·H·Q·T. */
export function nanoFlopsPerToken(a: Architecture, seqLen: number): number {
  const q = a.hidden / a.heads;
  return 6 * nanoParams(a).nonEmbedding + 12 * a.layers * a.heads * q * seqLen;
}

/** (lr − min)/(peak − min) at a step, 1 during warmup (what the loss curve anneals with). */
function lrFraction(ctx: RunContext, step: number): number {
  const c = ctx.cfg;
  return step <= c.lr.warmupSteps ? 1 : ctx.sim.lrFraction(learningRate(c.lr, step));
}

/** Python source for a number the way people type it in a config: 6e-4, 1e-1. */
function pyConfigNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toExponential();
}

const GPT2_CONFIGS: Record<string, string> = {
  gpt2: "config/train_gpt2.py",
  "gpt2-medium": "config/train_gpt2_medium.py",
  "gpt2-large": "config/train_gpt2_large.py",
  "gpt2-xl": "config/train_gpt2_xl.py",
};

const GPT2_SIZES: Record<string, string> = {
  gpt2: "124M",
  "gpt2-medium": "350M",
  "gpt2-large": "774M",
  "gpt2-xl": "1.5B",
};

interface RunState {
  ctx: RunContext;
  /** Iterations this process has run (`local_iter_num` after the last one). */
  local: number;
  /** `running_mfu`, −1 until the process has run 5 iterations. */
  running: number;
  /**
   * Clock and engine step when this process's current iteration began its top of loop: train.py
   * takes `dt` from the end of the previous iteration, so an iteration that starts with an
   * evaluation and a save (or the process's first) counts them in its `time`.
   */
  topMs: number;
  topStep: number;
  /** FLOPs one GPU does per iteration in estimate_mfu's count, ÷ 312e12. */
  mfuPerSecond: number;
}

export class NanoGptDialect implements Dialect {
  readonly name = "nanogpt";
  #s: RunState | null = null;

  #state(ctx: RunContext): RunState {
    let s = this.#s;
    if (s === null || s.ctx !== ctx) {
      const c = ctx.cfg;
      const perGpuTokens = (c.globalBatch * c.seqLen) / c.gpus;
      s = {
        ctx,
        local: 0,
        running: -1,
        topMs: ctx.clock.now(),
        topStep: -1,
        mfuPerSecond: (nanoFlopsPerToken(c.arch, c.seqLen) * perGpuTokens) / NANOGPT_PEAK,
      };
      this.#s = s;
    }
    return s;
  }

  /** Processes printing to this terminal: node 0's local ranks. */
  #copies(ctx: RunContext): number {
    return ctx.cfg.gpus > 1 ? ctx.cfg.gpusPerNode : 1;
  }

  /** The same print from every local rank. */
  #each(ctx: RunContext, text: string): string {
    const n = this.#copies(ctx);
    let out = text;
    for (let i = 1; i < n; i++) out += "\n" + text;
    return out;
  }

  #configFile(ctx: RunContext): string {
    const c = ctx.cfg;
    return GPT2_CONFIGS[c.model.id] ?? `config/train_${c.model.id.replaceAll("-", "_")}.py`;
  }

  #workdir(ctx: RunContext): string {
    return `/home/${ctx.cfg.site.user}/nanoGPT`;
  }

  #command(ctx: RunContext): string {
    const c = ctx.cfg;
    const args = `train.py ${this.#configFile(ctx)}${c.startStep > 0 ? " --init_from=resume" : ""}`;
    if (c.gpus === 1) return `python ${args}`;
    if (c.nodes === 1) {
      return `torchrun --standalone --nproc_per_node=${c.gpusPerNode} --max-restarts=3 ${args}`;
    }
    return `torchrun --nproc_per_node=${c.gpusPerNode} --nnodes=${c.nodes} --node_rank=0 --master_addr=${
      nodeIp(ctx, 0)
    } --master_port=${c.site.masterPort} --max-restarts=3 ${args}`;
  }

  /** The config file as configurator.py prints it (`print(f.read())`: a blank line follows). */
  #config(ctx: RunContext): string[] {
    const c = ctx.cfg;
    const a = c.arch;
    const l = c.layout;
    const perGpu = c.globalBatch / (l.microBatch * c.gpus);
    const tokens = c.globalBatch * c.seqLen;
    const size = GPT2_SIZES[c.model.id] ?? `${Math.round(nanoParams(a).nonEmbedding / 1e6)}M`;
    const dataset = c.dataset.id === "openwebtext" ? null : c.dataset.id.replaceAll("-", "_");
    const lines = [
      `# config for training ${c.model.name} (${size}) on ${c.nodes} node${
        c.nodes > 1 ? "s" : ""
      } of ${c.gpusPerNode}X ${c.gpu.name}`,
      "# launch as the following (e.g. in a screen session):",
      `# $ ${this.#command(ctx).replace(" --init_from=resume", "")}`,
      "",
      `out_dir = '${c.site.checkpointDir}'`,
      "wandb_log = False",
      `wandb_project = '${c.site.project}'`,
      `wandb_run_name='${c.model.id}-${size}'`,
      "",
    ];
    if (dataset) lines.push(`dataset = '${dataset}'`, "");
    if (c.model.id !== "gpt2") {
      lines.push(
        "# model",
        `n_layer = ${a.layers}`,
        `n_head = ${a.heads}`,
        `n_embd = ${a.hidden}`,
        "",
      );
    }
    lines.push(
      `# these make the total batch size be ~${fixed(tokens / 1e6, 1)}M`,
      `# ${l.microBatch} batch size * ${c.seqLen} block size * ${perGpu} gradaccum * ${c.gpus} GPUs = ${
        commas(tokens)
      }`,
      `batch_size = ${l.microBatch}`,
      `block_size = ${c.seqLen}`,
      `gradient_accumulation_steps = ${c.gpus > 1 ? `${perGpu} * ${c.gpus}` : perGpu}`,
      "",
      `# this makes total number of tokens be ${fixed((tokens * c.totalSteps) / 1e9, 0)}B`,
      `max_iters = ${c.totalSteps}`,
      `lr_decay_iters = ${c.lr.totalSteps}`,
      `learning_rate = ${pyConfigNumber(c.lr.peak)}`,
      `min_lr = ${pyConfigNumber(c.lr.min)}`,
      `warmup_iters = ${c.lr.warmupSteps}`,
      "",
      "# eval stuff",
      `eval_interval = ${c.evalInterval}`,
      `eval_iters = ${c.evalIters}`,
      `log_interval = ${c.logInterval}`,
      "",
      "# weight decay",
      `weight_decay = ${pyConfigNumber(c.optimizer.weightDecay)}`,
    );
    if (c.precision === "fp16") lines.push("dtype = 'float16'");
    if (c.precision === "fp32") lines.push("dtype = 'float32'");
    return [`Overriding config with ${this.#configFile(ctx)}:`, ...lines, ""];
  }

  /** configurator.py and the token count, on every local rank. */
  #setup(ctx: RunContext, resume: boolean): Beat[] {
    const c = ctx.cfg;
    const block = this.#config(ctx);
    if (resume) block.push("Overriding: init_from = resume");
    const beats: Beat[] = [];
    for (let r = 0; r < this.#copies(ctx); r++) beats.push({ wait: 30, text: block.join("\n") });
    beats.push({
      wait: 60,
      text: this.#each(ctx, `tokens per iteration will be: ${commas(c.globalBatch * c.seqLen)}`),
    });
    return beats;
  }

  /** Model construction up to `GPT(gptconf)` printing its size. */
  #init(ctx: RunContext, resume: boolean): Beat[] {
    if (resume) {
      return [{
        wait: 200,
        text: this.#each(ctx, `Resuming training from ${ctx.cfg.site.checkpointDir}`),
      }];
    }
    const beats: Beat[] = [
      { wait: 200, text: this.#each(ctx, "Initializing a new model from scratch") },
    ];
    if (ctx.cfg.arch.vocab === 50257) {
      beats.push({
        wait: 5,
        text: this.#each(
          ctx,
          "defaulting to vocab_size of GPT-2 to 50304 (50257 rounded up for efficiency)",
        ),
      });
    }
    return beats;
  }

  #numParams(ctx: RunContext): string {
    return this.#each(
      ctx,
      `number of parameters: ${fixed(nanoParams(ctx.cfg.arch).nonEmbedding / 1e6, 2)}M`,
    );
  }

  /** GradScaler, optimizer groups, compile (train.py after `model.to(device)`). */
  #optimizer(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const p = nanoParams(c.arch);
    const beats: Beat[] = [];
    const [major, minor] = c.site.torchVersion.split(".").map(Number);
    const newTorch = (major ?? 0) > 2 || ((major ?? 0) === 2 && (minor ?? 0) >= 4);
    // fp16 runs get the catalogued copy of this warning at start-up
    if (newTorch && c.precision !== "fp16") {
      beats.push({
        wait: 20,
        text: this.#each(
          ctx,
          "train.py:196: FutureWarning: `torch.cuda.amp.GradScaler(args...)` is deprecated. Please use `torch.amp.GradScaler('cuda', args...)` instead.\n  scaler = torch.cuda.amp.GradScaler(enabled=(dtype == 'float16'))",
        ),
      });
    }
    beats.push(
      {
        wait: 30,
        text: this.#each(
          ctx,
          `num decayed parameter tensors: ${p.decayed.tensors}, with ${
            commas(p.decayed.params)
          } parameters`,
        ),
      },
      {
        wait: 1,
        text: this.#each(
          ctx,
          `num non-decayed parameter tensors: ${p.nodecayed.tensors}, with ${
            commas(p.nodecayed.params)
          } parameters`,
        ),
      },
      { wait: 40, text: this.#each(ctx, "using fused AdamW: True") },
      { wait: 5, text: this.#each(ctx, "compiling the model... (takes a ~minute)") },
    );
    return beats;
  }

  /** DDP wraps the model: NCCL communicators come up (nanoGPT prints nothing). */
  #ddp(ctx: RunContext): Beat[] {
    return ctx.cfg.gpus > 1 ? [{ wait: ctx.physics.ncclInitSeconds * 1000, text: "" }] : [];
  }

  /**
   * The loop evaluates whenever iter_num is a multiple of eval_interval, so a process starting
   * at such a step evaluates first (step 0 of a fresh run); always_save_checkpoint then saves
   * again after a resume. The losses are the engine's expected values at that step.
   */
  #startEval(ctx: RunContext, step: number): Beat[] {
    const c = ctx.cfg;
    const p = ctx.physics;
    if (step % c.evalInterval !== 0) return [];
    // an untrained model scores the same on both splits, up to the eval batches' sampling
    const val = step === 0
      ? this.#evalTrain(ctx, 0, 2)
      : expectedValLoss(p.loss, step, lrFraction(ctx, step));
    const beats: Beat[] = [{
      wait: p.evalSeconds * 1000,
      text: `step ${step}: train loss ${fixed(this.#evalTrain(ctx, step), 4)}, val loss ${
        fixed(val, 4)
      }`,
    }];
    if (step > 0) {
      beats.push(
        { wait: 0, text: `saving checkpoint to ${c.site.checkpointDir}` },
        { wait: p.checkpointSeconds * 1000, text: "" },
      );
    }
    return beats;
  }

  /**
   * estimate_loss's train split: the mean over eval_iters batches of the current model, i.e.
   * the engine's expected train loss at this step with the sampling error of that many batches.
   */
  #evalTrain(ctx: RunContext, step: number, draw = 1): number {
    const c = ctx.cfg;
    const m = ctx.physics.loss;
    return expectedTrainLoss(m, step, lrFraction(ctx, step)) +
      (m.noise / Math.sqrt(c.evalIters)) * noise(c.seed, 0x5e + draw, step);
  }

  launch(ctx: RunContext): Beat[] {
    const beats: Beat[] = [
      ...nvidiaSmiBeats(ctx),
      { wait: 1200, text: paint(ctx.screen.color, "bold", `$ ${this.#command(ctx)}`) },
    ];
    if (ctx.cfg.gpus > 1) {
      for (const w of warningsFor(ctx, "launch")) {
        if (w.id === "torchrun-omp-legacy") continue; // torch ≥ 2.4 prints the glog-style copy
        beats.push({ wait: 350, text: () => fillWarning(ctx, w).join("\n") });
      }
    }
    return beats;
  }

  distributed(ctx: RunContext): Beat[] {
    return this.#setup(ctx, ctx.cfg.startStep > 0);
  }

  model(ctx: RunContext): Beat[] {
    return this.#init(ctx, ctx.cfg.startStep > 0);
  }

  loadBar(ctx: RunContext, frac: number, _elapsed: number): string {
    return frac < 1 ? "" : this.#numParams(ctx); // nanoGPT draws no bar
  }

  loaded(ctx: RunContext, _seconds: number): Beat[] {
    return this.#optimizer(ctx);
  }

  data(ctx: RunContext): Beat[] {
    return this.#ddp(ctx);
  }

  trainStart(ctx: RunContext): Beat[] {
    this.#top(ctx); // t0 = time.time() just before the loop, whose first top may evaluate
    return this.#startEval(ctx, ctx.cfg.startStep);
  }

  /** The loop's top: `dt` of the next iteration runs from here. */
  #top(ctx: RunContext, step = ctx.sim.step): void {
    const s = this.#state(ctx);
    s.topMs = ctx.clock.now();
    s.topStep = step;
  }

  /**
   * Engine step k is iteration iter_num = k − 1 (0-based; the eval at the top of iteration k
   * sees k updates, so "step 100: …" comes before "iter 100: …"). train.py logs when
   * `iter_num % log_interval == 0` (iteration 0 always), and nothing else, not even the last.
   */
  logsAt(ctx: RunContext, step: number): boolean {
    return (step - 1) % ctx.cfg.logInterval === 0;
  }

  stepLog(ctx: RunContext, w: LogWindow): string {
    const s = this.#state(ctx);
    const r = w.last;
    s.local += w.steps;
    // this one iteration's dt: its step, plus the eval and the save at its top if it had them
    const dt = s.topStep === r.step - 1 ? ctx.clock.now() - s.topMs : r.stepMs;
    if (s.local - 1 >= 5) {
      const mfu = (s.mfuPerSecond * 1000) / dt;
      s.running = s.running === -1 ? mfu : 0.9 * s.running + 0.1 * mfu;
    }
    return "iter " + (r.step - 1) + ": loss " + fixed(r.loss, 4) + ", time " + fixed(dt, 2) +
      "ms, mfu " + fixed(s.running * 100, 2) + "%";
  }

  live(_ctx: RunContext, _s: LiveState): string[] {
    return []; // nanoGPT prints no progress bar
  }

  evalStart(ctx: RunContext): Beat[] {
    this.#top(ctx); // the evaluation opens the next iteration
    return [];
  }

  evalBar(_ctx: RunContext, _frac: number, _elapsed: number): string {
    return "";
  }

  evalDone(ctx: RunContext, e: EvalRecord): Beat[] {
    return [{
      wait: 0,
      text: `step ${e.step}: train loss ${fixed(this.#evalTrain(ctx, e.step), 4)}, val loss ${
        fixed(e.loss, 4)
      }`,
    }];
  }

  checkpointDir(ctx: RunContext, _step: number): string {
    return ctx.cfg.site.checkpointDir; // ckpt.pt, overwritten in place
  }

  checkpointStart(_ctx: RunContext, dir: string): Beat[] {
    return [{ wait: 0, text: `saving checkpoint to ${dir}` }];
  }

  checkpointDone(_ctx: RunContext, _c: CheckpointRecord, _dir: string): Beat[] {
    return [];
  }

  event(ctx: RunContext, e: RunEvent): Beat[] {
    switch (e.kind) {
      case "fault":
        return faultBeats(ctx, e);
      case "restart": {
        // a new process: set-up printed again, the running MFU starts over
        const s = this.#state(ctx);
        s.local = 0;
        s.running = -1;
        const resume = e.fromStep > 0;
        return [
          ...restartBeats(ctx, e),
          ...this.#setup(ctx, resume || ctx.cfg.startStep > 0),
          ...this.#init(ctx, resume),
          {
            wait: (resume ? ctx.physics.reloadSeconds : ctx.physics.loadSeconds) * 1000,
            text: this.#numParams(ctx),
          },
          ...this.#optimizer(ctx),
          ...this.#ddp(ctx),
          // the new process's t0 (the engine goes back to the checkpoint once these are out)
          { wait: 0, text: () => (this.#top(ctx, e.fromStep), "") },
          ...this.#startEval(ctx, e.fromStep),
        ];
      }
      default:
        return []; // nanoGPT prints nothing for skipped fp16 steps, spikes or slow nodes
    }
  }

  jobFailed(ctx: RunContext): Beat[] {
    return childFailedBeats(ctx, "train.py", -6);
  }

  oom(ctx: RunContext, o: OutOfMemory): Beat[] {
    const train = `${this.#workdir(ctx)}/train.py`;
    const beats = oomBeats(
      ctx,
      o,
      o.phase === "load"
        ? [[train, 193, "<module>", "model.to(device)"]]
        : [[train, 306, "<module>", "scaler.scale(loss).backward()"]],
    );
    if (ctx.cfg.gpus > 1) return [...beats, ...childFailedBeats(ctx, "train.py", 1)];
    // `python train.py`: a plain traceback, no torchrun around it
    return beats.map((b) => {
      const t = typeof b.text === "function" ? b.text() : b.text;
      return {
        wait: b.wait,
        text: t.split("\n").map((l) => l.slice(l.indexOf(" ") + 1)).join("\n"),
      };
    });
  }

  warning(ctx: RunContext, w: WarningSpec, lines: string[]): string {
    if (w.when === "end") return ""; // train.py calls destroy_process_group()
    if (w.id !== "dynamo-cache-limit") return lines.join("\n");
    const model = `${this.#workdir(ctx)}/model.py:170`;
    return lines.map((l) => {
      const open = l.indexOf("function: 'forward' (");
      if (open >= 0) return l.slice(0, open) + `function: 'forward' (${model})`;
      return l.replace("L['self'].layer_idx == 0", "L['self'].training == True");
    }).join("\n");
  }

  windowEnd(_ctx: RunContext): Beat[] {
    return [];
  }

  trainEnd(_ctx: RunContext): Beat[] {
    return [];
  }

  exportStart(ctx: RunContext, _plan: ShardPlan): Beat[] {
    const c = ctx.cfg;
    return [{
      wait: 400,
      text: paint(
        ctx.screen.color,
        "bold",
        `$ python export_hf.py --ckpt ${c.site.checkpointDir}/ckpt.pt --out ${c.site.exportDir}`,
      ),
    }];
  }

  exportFile(_ctx: RunContext, name: string, bytes: number): string {
    return `  ${name.padEnd(38)} ${bytesDecimal(bytes).padStart(10)}`;
  }

  exportDone(_ctx: RunContext, _plan: ShardPlan): Beat[] {
    return [];
  }

  summary(ctx: RunContext): string[] {
    return summaryTable(ctx);
  }
}
