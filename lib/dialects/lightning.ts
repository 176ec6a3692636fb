/**
 * PyTorch Lightning dialect (REALISM 1.6): a LightningModule wrapping a Hugging Face causal LM,
 * configured with Hydra in the layout of the lightning-hydra-template (`src/train.py`, ranked
 * loggers `[asctime][name][LEVEL] - [rank: 0] …`) and launched with torchrun. Lightning's own
 * lines are plain rank-zero messages: device availability, distributed registration, the model
 * summary table, the `Epoch {e}:` tqdm bar (always it/s, `v_num` and `prog_bar` metrics in the
 * postfix, counting batches), `Validation DataLoader 0:` bars, ModelCheckpoint and
 * EarlyStopping messages and the fit loop's stop message. A metrics callback logs one line per
 * `log_every_n_steps` (loss, lr, grad norm) so the run can be parsed.
 */
import type { WarningSpec } from "../data.ts";
import { hash32 } from "../core/rng.ts";
import { paramCount, tensors } from "../engine/arch.ts";
import { type ShardPlan, shardPlan } from "../engine/artifacts.ts";
import type { OutOfMemory, RunEvent } from "../engine/events.ts";
import type { CheckpointRecord, EvalRecord } from "../engine/run.ts";
import type { Beat, RunContext } from "../phases/context.ts";
import { fillWarning, pythonPaths, warningsFor } from "../phases/warnings.ts";
import { type MeterState, tqdmLine } from "../render/bar.ts";
import { bytesDecimal, commas, fixed, pyFloat, timestampMs } from "../render/format.ts";
import { paint } from "../term/ansi.ts";
import type { Dialect, LiveState, LogWindow } from "./dialect.ts";
import { childFailedBeats, faultBeats, oomBeats, restartBeats } from "./failures.ts";
import {
  CONFIG_FILES,
  dataArg,
  evalShape,
  gradNormRepr,
  hubLoadBar,
  interleave,
  meter,
  modelPath,
  pyTimedelta,
  savedFileMessage,
} from "./hf.ts";
import { nvidiaSmiBeats } from "./smi.ts";
import { gradAccumulation, summaryTable } from "./torchrun.ts";

/** Lightning's `get_human_readable_count`: 8030261248 → "8.0 B", 0 → "0  ". */
export function humanCount(n: number): string {
  const labels = [" ", "K", "M", "B", "T"];
  const digits = n > 0 ? Math.floor(Math.log10(n)) + 1 : 1;
  const groups = Math.min(Math.ceil(digits / 3), labels.length);
  const x = n * 10 ** (-3 * (groups - 1));
  const i = groups - 1;
  if (i < 1 || x >= 100) return `${commas(Math.floor(x))} ${labels[i]}`;
  return `${fixed(x, 1)} ${labels[i]}`;
}

/** `max_time` as Lightning reads it: `DD:HH:MM:SS`. */
function maxTime(seconds: number): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return `${two(d)}:${two(h)}:${two(m)}:${two(seconds % 60)}`;
}

/** Python `f"{x:,.3f}"`. */
function commaFixed3(x: number): string {
  const s = fixed(x, 3);
  const dot = s.indexOf(".");
  return commas(Number(s.slice(0, dot))) + s.slice(dot);
}

/** Drop trailing zeros (and a bare point) of a decimal string, as `'%g'` does. */
function stripZeros(s: string): string {
  if (!s.includes(".")) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}

/** tqdm's `format_num` for postfix values: `'{:.3g}'` (exponent `+0`/`-0` squeezed) unless repr is shorter. */
export function tqdmNum(x: number): string {
  let g = "0";
  if (x !== 0) {
    const ax = Math.abs(x);
    let e = Math.floor(Math.log10(ax));
    if (Number(fixed(ax / 10 ** e, 2)) >= 10) e++;
    if (e < -4 || e >= 3) {
      const a = Math.abs(e);
      g = stripZeros(fixed(x / 10 ** e, 2)) + "e" + (e < 0 ? "-" : "+") + (a < 10 ? "0" : "") + a;
    } else g = stripZeros(fixed(x, 2 - e));
  }
  g = g.replaceAll("+0", "+").replaceAll("-0", "-");
  const repr = pyFloat(x);
  return g.length < repr.length ? g : repr;
}

/** Modules under the LightningModule (`model.modules()` minus the root). */
function moduleCount(ctx: RunContext): number {
  const a = ctx.cfg.arch;
  const paths = new Set<string>();
  for (const t of tensors(a)) {
    const parts = t.name.split(".");
    for (let i = 1; i < parts.length; i++) paths.add(parts.slice(0, i).join("."));
  }
  let n = paths.size + 1; // the Hugging Face model itself
  if (a.tiedEmbeddings) n += 1; // lm_head: a Linear whose weight is the embedding's
  n += a.style === "gpt2" ? 4 * a.layers + 1 : 2 * a.layers + 1; // activations, dropout, rotary
  return n + 1; // loss_fn
}

interface StepConstants {
  spe: number;
  ga: number;
  bf16: boolean;
  ofTotal: string;
  tokensPerStepPerGpu: number;
  finetune: boolean;
}

let stepCtx: RunContext | null = null;
let stepK: StepConstants | null = null;

function stepConstants(ctx: RunContext): StepConstants {
  let k = stepCtx === ctx ? stepK : null;
  if (!k) {
    const c = ctx.cfg;
    k = {
      spe: ctx.physics.stepsPerEpoch,
      ga: gradAccumulation(ctx),
      bf16: c.precision === "bf16" || c.precision === "fp8",
      ofTotal: "/" + c.totalSteps,
      tokensPerStepPerGpu: (c.globalBatch * c.seqLen) / c.gpus,
      finetune: c.kind === "finetune",
    };
    stepCtx = ctx;
    stepK = k;
  }
  return k;
}

/** `Trainer(max_time=…)` of a window: the limit, and the wait that lands it mid-step. */
interface TimeLimit {
  ctx: RunContext;
  seconds: number;
  /** Ms between the Timer's start and the first batch (the dataloader's workers start). */
  slackMs: number;
}

export class LightningDialect implements Dialect {
  readonly name = "lightning";
  /** Clock when `fit` began its first epoch in this process. */
  #fitStart = 0;
  #limit: TimeLimit | null = null;
  /** When the Timer callback last checked the time (after the window's last batch). */
  #timerCheck = 0;
  /** Clock when the current epoch's bar was reset. */
  #epochStart = 0;
  /** Epochs whose final bar is in the log. */
  #epochsShown = 0;
  /** Step at which the current bar's timing began (an epoch start, or a resume). */
  #epochStartStep = 0;
  #lastLoss = NaN;
  #lastVal: number | null = null;
  /** ModelCheckpoint(monitor="val_loss", save_top_k=1): the best file and its score. */
  #best: { path: string; score: number } | null = null;
  /** The bar's epoch on the terminal, and when it was reset. */
  #liveEpoch = -1;
  #liveEpochStart = 0;

  #version(ctx: RunContext): number {
    return hash32(ctx.cfg.seed, "lightning-version") % 13;
  }

  #precision(ctx: RunContext): string {
    switch (ctx.cfg.precision) {
      case "fp16":
        return "16-mixed";
      case "fp32":
        return "32-true";
      default:
        return "bf16-true";
    }
  }

  /** Hydra's job logging with the template's RankedLogger: `[asctime][name][LEVEL] - [rank: 0] …`. */
  #log(ctx: RunContext, logger: string, msg: string, level = "INFO"): string {
    const ts = timestampMs(ctx.clock.now(), ctx.tz);
    const col = ctx.screen.color;
    if (!col) return "[" + ts + "][" + logger + "][" + level + "] - [rank: 0] " + msg;
    return `[${paint(col, "dim", ts)}][${paint(col, "cyan", logger)}][${
      paint(col, level === "INFO" ? "green" : "yellow", level)
    }] - [rank: 0] ${msg}`;
  }

  #b(wait: number, text: () => string): Beat {
    return { wait, text };
  }

  #root(ctx: RunContext): string {
    return ctx.cfg.site.checkpointDir;
  }

  #ckptDir(ctx: RunContext): string {
    return `${this.#root(ctx)}/lightning_logs/version_${this.#version(ctx)}/checkpoints`;
  }

  #epochOf(ctx: RunContext, step: number): number {
    const c = ctx.cfg;
    if (c.kind !== "finetune") return 0;
    return Math.min(c.epochs - 1, Math.floor(Math.max(0, step - 1) / ctx.physics.stepsPerEpoch));
  }

  #datamodule(ctx: RunContext): [string, string] {
    return ctx.cfg.kind === "finetune"
      ? ["src.data.sft_datamodule", "SFTDataModule"]
      : ["src.data.pretrain_datamodule", "PretrainDataModule"];
  }

  #strategy(ctx: RunContext): string {
    return ctx.cfg.layout.sharding === "zero3" ? "fsdp" : "ddp";
  }

  // ----- launch ----------------------------------------------------------------------------

  /**
   * The Timer callback checks `time_elapsed >= max_time` after every training batch, the
   * elapsed time counted from `on_train_start` (validation and saves included): a window that
   * ends at its last step has a limit that step crosses. The engine forecasts the steps,
   * validations and saves; the limit is the whole second after the middle of the last step,
   * and the dataloader start takes the fraction of a second that puts it there.
   */
  #timeLimit(ctx: RunContext): TimeLimit | null {
    const c = ctx.cfg;
    if (c.kind === "finetune" || c.endStep >= c.totalSteps) return null;
    if (this.#limit?.ctx === ctx) return this.#limit;
    let elapsed = 0, before = 0, pending = 0;
    for (const f of ctx.sim.forecast()) {
      before = elapsed;
      elapsed += pending + f.stepMs; // checked at the end of the batch, before its eval/save
      pending = f.evalMs + f.saveMs;
    }
    const mid = (before + elapsed) / 2;
    const seconds = Math.max(1, Math.ceil(mid / 1000));
    this.#limit = { ctx, seconds, slackMs: Math.max(0, seconds * 1000 - mid) };
    return this.#limit;
  }

  /** The Hydra overrides on the command line, grouped as they are typed. */
  #overrides(ctx: RunContext): string[] {
    const c = ctx.cfg;
    const ga = gradAccumulation(ctx);
    const data = dataArg(ctx);
    return [
      `experiment=${c.kind === "finetune" ? "sft" : "pretrain"}_${c.model.id}`,
      `model.pretrained_model_name_or_path=${modelPath(ctx)}`,
      `data.${data.flag === "dataset_name" ? "dataset" : "train_file"}=${data.value}`,
      `data.max_seq_len=${c.seqLen} data.batch_size=${c.layout.microBatch}`,
      `trainer=${
        this.#strategy(ctx)
      } trainer.devices=${c.gpusPerNode} trainer.num_nodes=${c.nodes}`,
      `trainer.precision=${this.#precision(ctx)} trainer.accumulate_grad_batches=${ga}`,
      c.kind === "finetune"
        ? `trainer.max_epochs=${c.epochs}`
        : `trainer.max_steps=${c.totalSteps}${
          this.#timeLimit(ctx) ? ` +trainer.max_time=${maxTime(this.#timeLimit(ctx)!.seconds)}` : ""
        }`,
      `trainer.val_check_interval=${
        c.evalInterval * ga
      } trainer.log_every_n_steps=${c.logInterval}`,
      `trainer.gradient_clip_val=${pyFloat(c.optimizer.clipGrad)}`,
      `model.optimizer.lr=${pyFloat(c.lr.peak)} model.optimizer.weight_decay=${
        pyFloat(c.optimizer.weightDecay)
      } model.optimizer.betas=[${pyFloat(c.optimizer.beta1)},${pyFloat(c.optimizer.beta2)}]`,
      `model.scheduler.warmup_steps=${c.lr.warmupSteps}`,
      `callbacks.model_checkpoint.every_n_train_steps=${c.saveInterval}`,
      ...(c.kind === "finetune" ? [`callbacks.early_stopping.patience=${c.patience}`] : []),
      ...(c.startStep > 0 ? ["ckpt_path=last"] : []),
      `paths.output_dir=${this.#root(ctx)}`,
    ];
  }

  launch(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const beats: Beat[] = c.nodes === 1 ? nvidiaSmiBeats(ctx) : [];
    const runner = c.nodes > 1
      ? `torchrun --nnodes=${c.nodes} --nproc_per_node=${c.gpusPerNode} --rdzv_backend=c10d --rdzv_endpoint=${
        ctx.host(0)
      }:${c.site.masterPort} src/train.py`
      : `torchrun --nproc_per_node=${c.gpusPerNode} src/train.py`;
    const args = this.#overrides(ctx);
    const cmd = [
      `$ ${runner} \\`,
      ...args.map((a, i) => `    ${a}${i < args.length - 1 ? " \\" : ""}`),
    ]
      .join("\n");
    beats.push({ wait: beats.length > 0 ? 800 : 0, text: paint(ctx.screen.color, "bold", cmd) });
    for (const w of warningsFor(ctx, "launch")) {
      if (w.id === "torchrun-omp-legacy") continue;
      beats.push({ wait: 350, text: () => fillWarning(ctx, w).join("\n") });
    }
    return beats;
  }

  distributed(ctx: RunContext): Beat[] {
    return [
      this.#b(
        900,
        () =>
          this.#log(
            ctx,
            "__main__",
            `Instantiating datamodule <${this.#datamodule(ctx).join(".")}>`,
          ),
      ),
      this.#b(
        120,
        () =>
          this.#log(
            ctx,
            "__main__",
            "Instantiating model <src.models.causal_lm_module.CausalLMModule>",
          ),
      ),
    ];
  }

  model(ctx: RunContext): Beat[] {
    // the module builds the Hugging Face model; transformers logs nothing at its default level
    return [{ wait: ctx.physics.buildSeconds * 1000, text: "" }];
  }

  loadBar(ctx: RunContext, frac: number, elapsed: number): string {
    return hubLoadBar(ctx, frac, elapsed);
  }

  loaded(ctx: RunContext, _seconds: number): Beat[] {
    const c = ctx.cfg;
    const inst = "src.utils.instantiators";
    const callbacks = [
      "lightning.pytorch.callbacks.ModelCheckpoint",
      ...(c.kind === "finetune" ? ["lightning.pytorch.callbacks.EarlyStopping"] : []),
      "lightning.pytorch.callbacks.LearningRateMonitor",
      "src.callbacks.metrics.MetricsLogger",
    ];
    const beats: Beat[] = [
      this.#b(150, () => this.#log(ctx, "__main__", "Instantiating callbacks...")),
      ...callbacks.map((cb) =>
        this.#b(10, () => this.#log(ctx, inst, `Instantiating callback <${cb}>`))
      ),
      this.#b(10, () => this.#log(ctx, "__main__", "Instantiating loggers...")),
      this.#b(
        10,
        () =>
          this.#log(
            ctx,
            inst,
            "Instantiating logger <lightning.pytorch.loggers.tensorboard.TensorBoardLogger>",
          ),
      ),
      this.#b(
        10,
        () =>
          this.#log(ctx, "__main__", "Instantiating trainer <lightning.pytorch.trainer.Trainer>"),
      ),
    ];
    if (c.precision === "fp16") {
      beats.push({ wait: 40, text: "Using 16bit Automatic Mixed Precision (AMP)" });
    }
    beats.push(
      { wait: 40, text: "GPU available: True (cuda), used: True" },
      { wait: 0, text: "TPU available: False, using: 0 TPU cores" },
      { wait: 0, text: "HPU available: False, using: 0 HPUs" },
      this.#b(30, () => this.#log(ctx, "__main__", "Logging hyperparameters!")),
      this.#b(20, () => this.#log(ctx, "__main__", "Starting training!")),
    );
    return beats;
  }

  /** `trainer.fit` sets up the process group (each rank prints its own line), then the data. */
  #fitSetup(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const beats: Beat[] = [];
    const local = c.gpusPerNode;
    if (c.gpus > 1) {
      // this node's processes; the other nodes print theirs to their own logs
      const order = interleave(c.seed, local, "lightning-init");
      order.forEach((r, i) =>
        beats.push({
          wait: i === 0 ? ctx.physics.ncclInitSeconds * 1000 : 12,
          text: `Initializing distributed: GLOBAL_RANK: ${r}, MEMBER: ${r + 1}/${c.gpus}`,
        })
      );
      const rule = "-".repeat(100);
      beats.push({
        wait: 200,
        text:
          `${rule}\ndistributed_backend=nccl\nAll distributed processes registered. Starting with ${c.gpus} processes\n${rule}\n`,
      });
    }
    if (Number(c.gpu.computeCapability) >= 8) {
      beats.push({
        wait: 30,
        text:
          `You are using a CUDA device ('${c.gpu.smiName}') that has Tensor Cores. To properly utilize them, you should set \`torch.set_float32_matmul_precision('medium' | 'high')\` which will trade-off precision for performance. For more details, read https://pytorch.org/docs/stable/generated/torch.set_float32_matmul_precision.html#torch.set_float32_matmul_precision`,
      });
    }
    const devices = Array.from({ length: local }, (_, i) => i).join(",");
    for (const [i, r] of interleave(c.seed, local, "lightning-local").entries()) {
      beats.push({
        wait: i === 0 ? 60 : 8,
        text: `LOCAL_RANK: ${r} - CUDA_VISIBLE_DEVICES: [${devices}]`,
      });
    }
    return beats;
  }

  data(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const val = evalShape(ctx).examples;
    return [
      ...this.#fitSetup(ctx),
      this.#b(
        ctx.physics.dataSeconds * 1000,
        () =>
          this.#log(
            ctx,
            this.#datamodule(ctx)[0],
            `${dataArg(ctx).value}: ${commas(c.samplesPerEpoch)} train / ${
              commas(val)
            } val sequences of ${c.seqLen} tokens (packed)`,
          ),
      ),
    ];
  }

  // ----- training --------------------------------------------------------------------------

  /** The ModelSummary callback's table (Lightning 2.4 layout, with the Mode column). */
  #summaryTable(ctx: RunContext): string {
    const c = ctx.cfg;
    const total = paramCount(c.arch).total;
    const cols: [string, string[]][] = [
      [" ", ["0", "1"]],
      ["Name", ["model", "loss_fn"]],
      ["Type", [c.model.hfClass, "CrossEntropyLoss"]],
      ["Params", [humanCount(total), humanCount(0)]],
      ["Mode", ["train", "train"]],
    ];
    const widths = cols.map(([h, v]) => Math.max(h.length, ...v.map((x) => x.length)));
    const totalWidth = widths.reduce((a, b) => a + b, 0) + 3 * (1 + cols.length);
    const row = (i: number | null) =>
      cols.map(([h, v], k) => (i === null ? h : v[i] as string).padEnd(widths[k] as number))
        .join(" | ");
    const pad = (s: string) => s.padEnd(10);
    return [
      "",
      row(null),
      "-".repeat(totalWidth),
      row(0),
      row(1),
      "-".repeat(totalWidth),
      pad(humanCount(total)) + "Trainable params",
      pad(humanCount(0)) + "Non-trainable params",
      pad(humanCount(total)) + "Total params",
      pad(commaFixed3(total * 4 * 1e-6)) + "Total estimated model params size (MB)",
      pad(String(moduleCount(ctx))) + "Modules in train mode",
      pad("0") + "Modules in eval mode",
    ].join("\n");
  }

  #lastCkpt(ctx: RunContext): string {
    return `${this.#ckptDir(ctx)}/last.ckpt`;
  }

  /** Summary, restore, sanity check: what `fit` prints before the first batch. */
  #fitStartBeats(ctx: RunContext, fromStep: number, wait: number): Beat[] {
    const c = ctx.cfg;
    const ckpt = this.#lastCkpt(ctx);
    const beats: Beat[] = [];
    if (fromStep > 0) {
      beats.push({ wait, text: `Restoring states from the checkpoint path at ${ckpt}` });
    }
    beats.push(this.#b(fromStep > 0 ? 100 : wait, () => this.#summaryTable(ctx)));
    if (fromStep > 0) {
      beats.push({
        wait: ctx.physics.reloadSeconds * 1000,
        text: `Restored all states from the checkpoint at ${ckpt}`,
      });
    }
    const sanity = Math.min(2, c.evalIters);
    const secs = (ctx.physics.evalSeconds * sanity) / c.evalIters;
    beats.push({
      wait: secs * 1000,
      text: () => {
        const now = ctx.clock.now();
        this.#fitStart = now;
        this.#epochStart = now;
        this.#epochsShown = Math.floor(fromStep / ctx.physics.stepsPerEpoch);
        this.#epochStartStep = fromStep;
        this.#liveEpoch = -1;
        if (ctx.screen.live) return ""; // leave=False: gone from the terminal
        return meter(ctx, {
          desc: "Sanity Checking DataLoader 0",
          n: sanity,
          total: sanity,
          elapsed: secs,
          rate: sanity / secs,
          rateNoInverse: true,
        });
      },
    });
    return beats;
  }

  trainStart(ctx: RunContext): Beat[] {
    this.#lastVal = null;
    const beats = this.#fitStartBeats(ctx, ctx.cfg.startStep, 300);
    // the Timer starts before the training dataloader's workers do
    const slack = this.#timeLimit(ctx)?.slackMs ?? 0;
    return slack > 0 ? [...beats, { wait: slack, text: "" }] : beats;
  }

  #postfix(ctx: RunContext): string {
    let p = "v_num=" + this.#version(ctx);
    if (this.#lastLoss === this.#lastLoss) p += ", train_loss=" + tqdmNum(this.#lastLoss);
    if (this.#lastVal !== null) p += ", val_loss=" + tqdmNum(this.#lastVal);
    return p;
  }

  /**
   * The epoch bar's frame at `step` as a log file keeps it (the last frame of each epoch, or of
   * a run that stops mid-epoch); the rate covers the batches this process ran.
   */
  #epochBar(ctx: RunContext, step: number, elapsed: number): string {
    const k = stepConstants(ctx);
    const epoch = k.finetune ? Math.max(0, Math.ceil(step / k.spe) - 1) : 0;
    const total = k.spe * k.ga;
    const n = Math.min(total, (step - epoch * k.spe) * k.ga);
    const ran = (step - this.#epochStartStep) * k.ga;
    return meter(ctx, {
      desc: `Epoch ${epoch}`,
      n,
      total,
      elapsed,
      rate: elapsed > 0 ? ran / elapsed : 0,
      postfix: this.#postfix(ctx),
      rateNoInverse: true,
    });
  }

  stepLog(ctx: RunContext, w: LogWindow): string {
    const k = stepConstants(ctx);
    const r = w.last;
    const now = ctx.clock.now();
    this.#timerCheck = now; // the Timer checks after every batch; this one may be the last
    this.#lastLoss = r.loss;
    let before = "";
    let after = "";
    if (k.finetune) {
      // epochs that ended in this window: a log file keeps each bar's last (100 %) frame; the
      // bar callback runs after the metrics callback on the epoch's last batch
      const done = Math.floor(r.step / k.spe);
      while (this.#epochsShown < done && !ctx.screen.live) {
        const boundary = (this.#epochsShown + 1) * k.spe;
        const at = now - (r.step - boundary) * w.meanStepMs;
        const bar = this.#epochBar(ctx, boundary, (at - this.#epochStart) / 1000);
        if (boundary === r.step) after = "\n" + bar;
        else before += bar + "\n";
        this.#epochStart = at;
        this.#epochStartStep = boundary;
        this.#epochsShown++;
      }
      if (ctx.screen.live) this.#epochsShown = done;
    }
    const tps = k.tokensPerStepPerGpu / (w.meanStepMs / 1000);
    return before +
      this.#log(
        ctx,
        "src.callbacks.metrics",
        "epoch " + fixed(r.epochFloat, 2) + " | step " + r.step + k.ofTotal + " | loss " +
          fixed(w.meanLoss, 4) + " | lr " + pyFloat(r.lr) + " | grad_norm " +
          gradNormRepr(r.gradNorm, k.bf16, r.skipped) + " | " + commas(tps) + " tok/s/gpu",
      ) + after;
  }

  live(ctx: RunContext, s: LiveState): string[] {
    const k = stepConstants(ctx);
    const c = ctx.cfg;
    const epoch = k.finetune
      ? Math.min(
        c.epochs - 1,
        s.step > 0 && s.step % k.spe === 0 ? s.step / k.spe - 1 : Math.floor(s.step / k.spe),
      )
      : 0;
    const now = ctx.clock.now();
    if (epoch !== this.#liveEpoch) {
      this.#liveEpoch = epoch;
      this.#liveEpochStart = now;
    }
    const total = k.spe * k.ga;
    const n = Math.min(total, (s.step - epoch * k.spe) * k.ga);
    return [
      tqdmLine({
        desc: `Epoch ${epoch}`,
        n,
        total,
        elapsed: (now - this.#liveEpochStart) / 1000,
        rate: s.rate * k.ga,
        postfix: this.#postfix(ctx),
        rateNoInverse: true,
      }, ctx.screen.columns),
    ];
  }

  evalStart(_ctx: RunContext): Beat[] {
    return [];
  }

  #valMeter(ctx: RunContext, n: number, elapsed: number): MeterState {
    const iters = ctx.cfg.evalIters;
    return {
      desc: "Validation DataLoader 0",
      n,
      total: iters,
      elapsed,
      // this validation's own pace (its duration varies a little from one to the next)
      rate: n > 0 && elapsed > 0 ? n / elapsed : iters / ctx.physics.evalSeconds,
      rateNoInverse: true,
    };
  }

  evalBar(ctx: RunContext, frac: number, elapsed: number): string {
    return tqdmLine(
      this.#valMeter(ctx, Math.floor(frac * ctx.cfg.evalIters), elapsed),
      ctx.screen.columns,
    );
  }

  evalDone(ctx: RunContext, e: EvalRecord): Beat[] {
    const c = ctx.cfg;
    const beats: Beat[] = [];
    if (!ctx.screen.live) {
      beats.push({
        wait: 0,
        text: meter(ctx, this.#valMeter(ctx, c.evalIters, e.durationMs / 1000)),
      });
    }
    this.#lastVal = e.loss;
    if (c.kind === "finetune" && c.patience > 0) {
      // EarlyStopping(verbose=True, log_rank_zero_only=True)
      const rank = c.gpus > 1 ? "[rank: 0] " : "";
      let msg: string | null = null;
      if (e.improved) {
        msg = this.#esBest === null
          ? `Metric val_loss improved. New best score: ${fixed(e.loss, 3)}`
          : `Metric val_loss improved by ${
            fixed(this.#esBest - e.loss, 3)
          } >= min_delta = 0.0. New best score: ${fixed(e.loss, 3)}`;
        this.#esBest = e.loss;
      } else if (e.badEvals >= c.patience) {
        msg =
          `Monitored metric val_loss did not improve in the last ${e.badEvals} records. Best score: ${
            fixed(e.best, 3)
          }. Signaling Trainer to stop.`;
      }
      if (msg) beats.push({ wait: 0, text: rank + msg });
    }
    return beats;
  }

  #esBest: number | null = null;

  checkpointDir(ctx: RunContext, step: number): string {
    return `${this.#ckptDir(ctx)}/epoch=${this.#epochOf(ctx, step)}-step=${step}.ckpt`;
  }

  checkpointStart(ctx: RunContext, path: string): Beat[] {
    const v = this.#lastVal;
    if (v === null) return []; // nothing monitored yet: only last.ckpt is written
    const step = ctx.sim.step;
    const epoch = this.#epochOf(ctx, step);
    const head = `Epoch ${epoch}, global step ${step}: 'val_loss'`;
    if (this.#best === null || v < this.#best.score) {
      this.#best = { path, score: v };
      return [{
        wait: 0,
        text: `${head} reached ${fixed(v, 5)} (best ${
          fixed(v, 5)
        }), saving model to '${path}' as top 1`,
      }];
    }
    return [{ wait: 0, text: `${head} was not in top 1` }];
  }

  checkpointDone(_ctx: RunContext, _c: CheckpointRecord, _dir: string): Beat[] {
    return []; // Trainer.save_checkpoint writes silently
  }

  event(ctx: RunContext, e: RunEvent): Beat[] {
    switch (e.kind) {
      case "fault":
        return faultBeats(ctx, e);
      case "restart":
        return [
          ...restartBeats(ctx, e),
          ...this.distributed(ctx),
          ...this.model(ctx),
          {
            wait: ctx.physics.loadSeconds * 1000,
            text: () => this.loadBar(ctx, 1, ctx.physics.loadSeconds),
          },
          ...this.loaded(ctx, ctx.physics.loadSeconds),
          ...this.data(ctx),
          ...this.#fitStartBeats(ctx, e.fromStep, 300),
        ];
      default:
        return []; // the GradScaler skips overflowed steps silently; spikes show in the numbers
    }
  }

  jobFailed(ctx: RunContext): Beat[] {
    return childFailedBeats(ctx, "src/train.py", -6);
  }

  oom(ctx: RunContext, o: OutOfMemory): Beat[] {
    const { site } = pythonPaths(ctx);
    const pl = `${site}/lightning/pytorch`;
    const strategy = this.#strategy(ctx);
    // Hydra reports the task's exception with a traceback cut at the task function
    const head: [string, number, string, string][] = [
      ["/workspace/src/train.py", 118, "main", "metric_dict, _ = train(cfg)"],
      [
        "/workspace/src/utils/utils.py",
        68,
        "wrap",
        "metric_dict, object_dict = task_func(cfg=cfg)",
      ],
      [
        "/workspace/src/train.py",
        74,
        "train",
        'trainer.fit(model=model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))',
      ],
      [`${pl}/trainer/trainer.py`, 538, "fit", "call._call_and_handle_interrupt("],
      [
        `${pl}/trainer/call.py`,
        46,
        "_call_and_handle_interrupt",
        "return trainer.strategy.launcher.launch(trainer_fn, *args, trainer=trainer, **kwargs)",
      ],
      [
        `${pl}/strategies/launchers/subprocess_script.py`,
        105,
        "launch",
        "return function(*args, **kwargs)",
      ],
      [`${pl}/trainer/trainer.py`, 574, "_fit_impl", "self._run(model, ckpt_path=ckpt_path)"],
    ];
    const frames: [string, number, string, string][] = o.phase === "load"
      ? [
        ...head,
        [`${pl}/trainer/trainer.py`, 938, "_run", "self.strategy.setup(self)"],
        [`${pl}/strategies/${strategy}.py`, 171, "setup", "self.model_to_device()"],
        [
          `${pl}/strategies/${strategy}.py`,
          298,
          "model_to_device",
          "self.model.to(self.root_device)",
        ],
        [
          `${site}/lightning/fabric/utilities/device_dtype_mixin.py`,
          55,
          "to",
          "return super().to(*args, **kwargs)",
        ],
      ]
      : [
        ...head,
        [`${pl}/trainer/trainer.py`, 981, "_run", "results = self._run_stage()"],
        [`${pl}/trainer/trainer.py`, 1025, "_run_stage", "self.fit_loop.run()"],
        [`${pl}/loops/fit_loop.py`, 205, "run", "self.advance()"],
        [`${pl}/loops/fit_loop.py`, 363, "advance", "self.epoch_loop.run(self._data_fetcher)"],
        [`${pl}/loops/training_epoch_loop.py`, 140, "run", "self.advance(data_fetcher)"],
        [
          `${pl}/loops/training_epoch_loop.py`,
          250,
          "advance",
          "batch_output = self.automatic_optimization.run(trainer.optimizers[0], batch_idx, kwargs)",
        ],
        [`${pl}/loops/optimization/automatic.py`, 183, "run", "closure()"],
        [
          `${pl}/loops/optimization/automatic.py`,
          144,
          "__call__",
          "self._result = self.closure(*args, **kwargs)",
        ],
        [
          `${site}/torch/utils/_contextlib.py`,
          116,
          "decorate_context",
          "return func(*args, **kwargs)",
        ],
        [
          `${pl}/loops/optimization/automatic.py`,
          138,
          "closure",
          "self._backward_fn(step_output.closure_loss)",
        ],
        [
          `${pl}/loops/optimization/automatic.py`,
          239,
          "backward_fn",
          'call._call_strategy_hook(self.trainer, "backward", loss, optimizer)',
        ],
        [`${pl}/trainer/call.py`, 319, "_call_strategy_hook", "output = fn(*args, **kwargs)"],
        [
          `${pl}/strategies/strategy.py`,
          212,
          "backward",
          "self.precision_plugin.backward(closure_loss, self.lightning_module, optimizer, *args, **kwargs)",
        ],
        [
          `${pl}/plugins/precision/precision.py`,
          72,
          "backward",
          "model.backward(tensor, *args, **kwargs)",
        ],
        [`${pl}/core/module.py`, 1101, "backward", "loss.backward(*args, **kwargs)"],
      ];
    // weights that cannot fit fail when the strategy moves the module to the GPU, in fit
    const before = o.phase === "load" ? [...this.loaded(ctx, 0), ...this.#fitSetup(ctx)] : [];
    const overrides = this.#overrides(ctx).flatMap((a) => a.split(" ")).map((a) => `'${a}'`);
    return [
      ...before,
      { wait: 0, text: `[rank0]: Error executing job with overrides: [${overrides.join(", ")}]` },
      ...oomBeats(ctx, o, frames),
      {
        wait: 0,
        text:
          "[rank0]: \n[rank0]: Set the environment variable HYDRA_FULL_ERROR=1 for a complete stack trace.",
      },
      ...childFailedBeats(ctx, "src/train.py", 1),
    ];
  }

  warning(_ctx: RunContext, w: WarningSpec, lines: string[]): string {
    // Lightning ≥ 2.4 builds torch.amp.GradScaler("cuda"): no deprecation warning
    if (w.id === "gradscaler-deprecated" || w.id === "hf-adamw-deprecated") return "";
    return lines.join("\n");
  }

  /** The bar where it stands now (a log keeps the last frame written). */
  #currentBar(ctx: RunContext): string {
    return this.#epochBar(ctx, ctx.sim.step, (ctx.clock.now() - this.#epochStart) / 1000);
  }

  windowEnd(ctx: RunContext): Beat[] {
    const beats: Beat[] = [];
    if (!ctx.screen.live) beats.push({ wait: 0, text: () => this.#currentBar(ctx) });
    return [...beats, {
      wait: 0,
      text: () =>
        `Time limit reached. Elapsed time is ${
          pyTimedelta((this.#timerCheck - this.#fitStart) / 1000)
        }. Signaling Trainer to stop.`,
    }];
  }

  trainEnd(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const k = stepConstants(ctx);
    const beats: Beat[] = [];
    const step = ctx.sim.step;
    if (!ctx.screen.live && k.finetune && step % k.spe !== 0) {
      // stopped early: the epoch's bar stays where it was
      beats.push({ wait: 0, text: () => this.#currentBar(ctx) });
    }
    if (ctx.totals.outcome === "completed") {
      beats.push({
        wait: 0,
        text: c.kind === "finetune"
          ? `\`Trainer.fit\` stopped: \`max_epochs=${c.epochs}\` reached.`
          : `\`Trainer.fit\` stopped: \`max_steps=${c.totalSteps}\` reached.`,
      });
    }
    return beats;
  }

  // ----- export ----------------------------------------------------------------------------

  exportStart(ctx: RunContext, plan: ShardPlan): Beat[] {
    const from = this.#best?.path ?? this.#lastCkpt(ctx);
    const dir = ctx.cfg.site.exportDir;
    return [
      this.#b(
        400,
        () =>
          this.#log(
            ctx,
            "src.utils.export",
            `Converting ${from} to Hugging Face format in ${dir}`,
          ),
      ),
      // save_pretrained writes the configuration before the weights
      ...CONFIG_FILES.map((name) => ({
        wait: 10,
        text: savedFileMessage(name, dir, plan.shards.length)![2],
      })),
    ];
  }

  exportFile(ctx: RunContext, name: string, bytes: number): string {
    const c = ctx.cfg;
    const dir = c.site.exportDir;
    if (CONFIG_FILES.includes(name)) return ""; // logged before the weights
    const shards = shardPlan(c.arch, c.precision === "fp32" ? 4 : 2).shards.length;
    const m = savedFileMessage(name, dir, shards);
    // the export util turns transformers' logging up to INFO: its records print bare
    if (m) return m[2];
    return this.#log(ctx, "src.utils.export", `wrote ${dir}/${name} (${bytesDecimal(bytes)})`);
  }

  exportDone(_ctx: RunContext, _plan: ShardPlan): Beat[] {
    return [];
  }

  summary(ctx: RunContext): string[] {
    const o = ctx.totals.outcome;
    const lines: string[] = [];
    if (o !== "oom" && o !== "failed") {
      if (this.#best) {
        lines.push(this.#log(ctx, "__main__", `Best ckpt path: ${this.#best.path}`));
      }
      lines.push(this.#log(ctx, "src.utils.utils", `Output dir: ${this.#root(ctx)}`));
    }
    return [...lines, ...summaryTable(ctx)];
  }
}
