/**
 * The default dialect: a research team's own PyTorch trainer (FSDP/TP) launched with torchrun,
 * logging through Python `logging` in the Hydra layout `[asctime][logger][LEVEL] - message`.
 * Launcher and NCCL lines follow REALISM 1.7–1.8; bars follow tqdm (1.4).
 */
import { TOKENIZERS, type WarningSpec } from "../data.ts";
import { paramCount, trainingFlopsPerToken } from "../engine/arch.ts";
import { type ShardPlan, shardPlan } from "../engine/artifacts.ts";
import { GIB } from "../engine/memory.ts";
import type { CheckpointRecord, EvalRecord } from "../engine/run.ts";
import type { Beat, RunContext } from "../phases/context.ts";
import { fillWarning, warningsFor } from "../phases/warnings.ts";
import { tqdmLine } from "../render/bar.ts";
import {
  bytesBinary,
  bytesDecimal,
  commas,
  compactCount,
  fixed,
  humanDuration,
  sciLower,
  timestampMs,
} from "../render/format.ts";
import { keyValueTable } from "../render/table.ts";
import { paint } from "../term/ansi.ts";
import type { Dialect, LiveState, LogWindow } from "./dialect.ts";
import { ncclInitBeats } from "./nccl.ts";
import { childFailedBeats, faultBeats, oomBeats, restartBeats } from "./failures.ts";
import type { OutOfMemory, RunEvent } from "../engine/events.ts";

export type Level = "INFO" | "WARNING" | "ERROR";

function sharding(ctx: RunContext): string {
  switch (ctx.cfg.layout.sharding) {
    case "zero3":
      return "FSDP full-shard";
    case "zero2":
      return "ZeRO-2";
    case "zero1":
      return "distributed optimizer";
    case "ddp":
      return "DDP";
  }
}

export function gradAccumulation(ctx: RunContext): number {
  const l = ctx.cfg.layout;
  return ctx.cfg.globalBatch / (l.dp * l.microBatch);
}

/** Tokenizer of the run's model. */
export function tokenizerOf(ctx: RunContext) {
  return TOKENIZERS.find((t) => t.id === ctx.cfg.model.tokenizer) ?? TOKENIZERS[0]!;
}

/** Epoch and step bars shared by the dialects that draw tqdm bars. */
export function tqdmBars(ctx: RunContext, s: LiveState, desc = "Epoch"): string[] {
  const c = ctx.cfg;
  const w = ctx.screen.columns;
  const spe = ctx.physics.stepsPerEpoch;
  if (c.kind === "pretrain") {
    return [
      tqdmLine({
        desc: `step`,
        n: s.step,
        total: c.totalSteps,
        elapsed: s.elapsed,
        rate: s.rate,
        commas: true,
      }, w),
    ];
  }
  // the last step of an epoch still belongs to it (tqdm shows 100 % before the next bar)
  const epoch = Math.max(1, Math.min(c.epochs, Math.ceil(s.step / spe)));
  const inEpoch = s.step - (epoch - 1) * spe;
  return [
    tqdmLine({
      desc: `${desc} ${epoch}/${c.epochs}`,
      n: inEpoch,
      total: spe,
      elapsed: s.elapsed,
      rate: s.rate,
    }, w),
    tqdmLine(
      { desc: "Total", n: s.step, total: c.totalSteps, elapsed: s.elapsed, rate: s.rate },
      w,
    ),
  ];
}

interface StepConstants {
  tokensPerStep: number;
  flopsPerToken: number;
  gpus: number;
  peak: number;
  ofTotal: string;
  mem: string;
}

let stepCtx: RunContext | null = null;
let stepK: StepConstants | null = null;

/** What every step line of a run repeats, computed once (instant mode formats 100k+ lines/s). */
function stepConstants(ctx: RunContext): StepConstants {
  let k = stepCtx === ctx ? stepK : null;
  if (!k) {
    const c = ctx.cfg;
    k = {
      tokensPerStep: c.globalBatch * c.seqLen,
      flopsPerToken: ctx.physics.candidate.perf.flopsPerToken,
      gpus: c.gpus,
      peak: c.gpu.peakTflops.bf16 ?? c.gpu.peakTflops.fp16,
      ofTotal: "/" + c.totalSteps,
      mem: fixed(ctx.physics.candidate.memory.worst.reserved / GIB, 1),
    };
    stepCtx = ctx;
    stepK = k;
  }
  return k;
}

/** The training script a custom trainer launches. */
function scriptName(ctx: RunContext): string {
  return ctx.cfg.kind === "finetune" ? "finetune.py" : "pretrain.py";
}

export class TorchrunDialect implements Dialect {
  readonly name: string = "torchrun";

  protected logLine(ctx: RunContext, logger: string, level: Level, msg: string): string {
    const col = ctx.screen.color;
    const ts = timestampMs(ctx.clock.now(), ctx.tz);
    if (!col) return "[" + ts + "][" + logger + "][" + level + "] - " + msg;
    const lv = level === "INFO"
      ? paint(col, "green", level)
      : paint(col, level === "WARNING" ? "yellow" : ["bold", "red"], level);
    return `[${paint(col, "dim", ts)}][${paint(col, "cyan", logger)}][${lv}] - ${msg}`;
  }

  protected beat(
    wait: number,
    ctx: RunContext,
    logger: string,
    msg: string,
    level: Level = "INFO",
  ): Beat {
    return { wait, text: () => this.logLine(ctx, logger, level, msg) };
  }

  /** What the memory line is about. */
  protected memoryLabel(_ctx: RunContext): string {
    return "Memory/GPU (worst stage)";
  }

  launch(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const script = scriptName(ctx);
    const cfgFile = `configs/${c.site.project}.yaml`;
    const cmd = c.nodes > 1
      ? `torchrun --nnodes=${c.nodes} --nproc-per-node=${c.gpusPerNode} --max-restarts=3 --rdzv-backend=c10d --rdzv-endpoint=${
        ctx.host(0)
      }:${c.site.masterPort} ${script} --config ${cfgFile}`
      : `torchrun --standalone --nproc-per-node=${c.gpusPerNode} ${script} --config ${cfgFile}`;
    const beats: Beat[] = [{ wait: 0, text: paint(ctx.screen.color, "bold", `$ ${cmd}`) }];
    for (const w of warningsFor(ctx, "launch")) {
      if (w.id === "torchrun-omp-legacy") continue; // torch ≥ 2.4 prints the glog-style copy
      beats.push({ wait: 350, text: () => fillWarning(ctx, w).join("\n") });
    }
    return beats;
  }

  distributed(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const p = ctx.physics;
    const l = c.layout;
    const beats: Beat[] = [
      this.beat(
        600,
        ctx,
        "dist",
        `Initializing process group: backend=nccl world_size=${c.gpus} nodes=${c.nodes} (${c.gpusPerNode} GPU${
          c.gpusPerNode > 1 ? "s" : ""
        } each)`,
      ),
    ];
    beats.push(...ncclInitBeats(ctx));
    const shown = Math.min(c.gpus, 8);
    for (let r = 0; r < shown; r++) {
      const node = Math.floor(r / c.gpusPerNode);
      beats.push(
        this.beat(
          40,
          ctx,
          "dist",
          `rank ${r}/${c.gpus} on ${ctx.host(node)} cuda:${r % c.gpusPerNode} (${c.gpu.smiName})`,
        ),
      );
    }
    if (c.gpus > shown) {
      beats.push(this.beat(0, ctx, "dist", `... and ${commas(c.gpus - shown)} more ranks`));
    }
    beats.push(
      this.beat(
        200,
        ctx,
        "dist",
        `Parallelism: TP=${l.tp} PP=${l.pp}${l.vpp > 1 ? ` (VPP=${l.vpp})` : ""} DP=${l.dp}${
          l.ep > 1 ? ` EP=${l.ep}` : ""
        } · ${sharding(ctx)} · ${l.recompute} activation checkpointing`,
      ),
    );
    if (c.gpus > 1) {
      const ms = p.allReduceCheckSeconds * 1000;
      const link = c.nodes > 1
        ? `NVLink + ${c.gpu.nic.perNode}x ${c.gpu.nic.kind} ${c.gpu.nic.gbps} Gb/s per node`
        : c.gpu.nvlinkGBps > 0
        ? "NVLink"
        : "PCIe";
      beats.push(
        this.beat(
          ms + 300,
          ctx,
          "dist",
          `NCCL all_reduce check: 1.00 GiB in ${fixed(ms, 2)} ms, busbw ${
            fixed(p.busBandwidthGBps, 1)
          } GB/s (${link})`,
        ),
      );
    }
    return beats;
  }

  model(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const a = c.arch;
    const n = paramCount(a);
    const m = ctx.physics.candidate.memory.worst;
    const heads = a.kvHeads === a.heads ? `${a.heads} heads` : `${a.heads} heads (${a.kvHeads} KV)`;
    const moe = a.moe ? `, ${a.moe.experts} experts top-${a.moe.topK}` : "";
    const beats: Beat[] = [
      this.beat(
        ctx.physics.buildSeconds * 1000,
        ctx,
        "model",
        `Building ${c.displayName}: ${a.layers} layers, hidden ${a.hidden}, ${heads}, FFN ${a.ffn}${moe}, vocab ${a.vocab}, context ${a.context}`,
      ),
      this.beat(
        0,
        ctx,
        "model",
        `Parameters: ${commas(n.total)} (${compactCount(n.total)})${
          a.moe ? `, active per token ${compactCount(n.active)}` : ""
        } · FLOPs/token ${sciLower(trainingFlopsPerToken(a, c.seqLen), 2)} at seq ${c.seqLen}`,
      ),
      this.beat(
        150,
        ctx,
        "model",
        `${this.memoryLabel(ctx)}: weights ${bytesBinary(m.weights)} · grads ${
          bytesBinary(m.grads)
        } · optimizer ${bytesBinary(m.optimizer)} · activations ${
          bytesBinary(m.activations + m.logits)
        } · reserved ${bytesBinary(m.reserved)} / ${fixed(c.gpu.capacityGiB, 2)} GiB`,
      ),
    ];
    return beats;
  }

  loadBar(ctx: RunContext, frac: number, elapsed: number): string {
    const c = ctx.cfg;
    const p = ctx.physics;
    if (c.kind === "finetune") {
      const shards = shardPlan(c.arch, 2).shards.length;
      const n = Math.min(shards, Math.floor(frac * shards + 1e-9));
      return tqdmLine({
        desc: "Loading checkpoint shards",
        n,
        total: shards,
        elapsed,
        rate: shards / p.loadSeconds,
      }, ctx.screen.columns);
    }
    const label = c.startStep > 0 ? "Loading checkpoint" : "Initializing weights";
    return tqdmLine({
      desc: label,
      n: Math.round(frac * 100),
      total: 100,
      elapsed,
      rate: 100 / p.loadSeconds,
      unit: "%",
    }, ctx.screen.columns);
  }

  loaded(ctx: RunContext, seconds: number): Beat[] {
    const c = ctx.cfg;
    const p = ctx.physics;
    const msg = c.kind === "finetune"
      ? `Loaded pretrained weights ${c.model.name} (${bytesDecimal(p.loadBytes)}) in ${
        fixed(seconds, 1)
      }s`
      : c.startStep > 0
      ? `Resumed from ${c.site.checkpointDir}/step-${c.startStep} (${
        bytesDecimal(p.loadBytes)
      }) in ${fixed(seconds, 1)}s`
      : `Initialized weights from scratch (normal std=0.02) in ${fixed(seconds, 1)}s`;
    return [this.beat(0, ctx, "model", msg)];
  }

  data(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const t = tokenizerOf(ctx);
    const tokensPerStep = c.globalBatch * c.seqLen;
    const beats: Beat[] = [
      this.beat(
        300,
        ctx,
        "data",
        `Tokenizer: ${t.name}, vocab ${commas(t.vocab)}${
          t.bos ? `, bos ${t.bos}` : ""
        }, eos ${t.eos}`,
      ),
      this.beat(
        ctx.physics.dataSeconds * 1000,
        ctx,
        "data",
        `Dataset: ${c.dataset.name} (${compactCount(c.dataset.tokens)} tokens) · ${
          commas(c.samplesPerEpoch)
        } sequences of ${c.seqLen} per epoch`,
      ),
      this.beat(
        100,
        ctx,
        "data",
        `Batch: global ${c.globalBatch} seq (${
          commas(tokensPerStep)
        } tokens/step) = micro ${c.layout.microBatch} × DP ${c.layout.dp} × grad accumulation ${
          gradAccumulation(ctx)
        }`,
      ),
      this.beat(
        50,
        ctx,
        "optim",
        `AdamW(β=(${c.optimizer.beta1}, ${c.optimizer.beta2}), eps=${c.optimizer.eps}, wd=${c.optimizer.weightDecay}) · lr ${
          sciLower(c.lr.peak, 1)
        } → ${sciLower(c.lr.min, 1)} ${c.lr.decay}, warmup ${
          commas(c.lr.warmupSteps)
        } steps · clip ${fixed(c.optimizer.clipGrad, 1)} · ${c.precision}`,
      ),
    ];
    return beats;
  }

  trainStart(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const msg = c.startStep > 0
      ? `Resuming training at step ${commas(c.startStep)}/${commas(c.totalSteps)} (${
        compactCount(c.startStep * c.globalBatch * c.seqLen)
      } tokens seen)`
      : `Starting training: ${commas(c.totalSteps)} steps${
        c.kind === "finetune" ? `, ${c.epochs} epoch${c.epochs > 1 ? "s" : ""}` : ""
      }, log every ${c.logInterval}, eval every ${c.evalInterval}, save every ${c.saveInterval}`;
    return [this.beat(200, ctx, "train", msg)];
  }

  stepLog(ctx: RunContext, w: LogWindow): string {
    const k = stepConstants(ctx);
    const c = ctx.cfg;
    const r = w.last;
    const ms = w.meanStepMs;
    const tps = k.tokensPerStep / (ms / 1000);
    const tflops = (k.flopsPerToken * tps) / k.gpus / 1e12;
    const epoch = c.kind === "finetune" || c.epochs > 1 ? " | epoch " + fixed(r.epochFloat, 2) : "";
    const scale = c.precision === "fp16" ? " | loss_scale " + r.lossScale : "";
    const skip = w.skipped > 0 ? " | skipped " + w.skipped : "";
    const msg = "step " + r.step + k.ofTotal + epoch + " | loss " + fixed(w.meanLoss, 4) +
      " | lr " + sciLower(r.lr, 4) + " | grad_norm " + fixed(r.gradNorm, 3) + " | " +
      (tps >= 1e6 ? fixed(tps / 1e6, 2) + "M" : fixed(tps / 1e3, 1) + "k") + " tok/s | " +
      fixed(tflops, 1) + " TFLOP/s/GPU | MFU " + fixed((100 * tflops) / k.peak, 1) + "% | mem " +
      k.mem + " GiB | " + fixed(ms / 1000, 2) + " s/it" + scale + skip;
    return this.logLine(ctx, "train", "INFO", msg);
  }

  live(ctx: RunContext, s: LiveState): string[] {
    return tqdmBars(ctx, s);
  }

  evalStart(ctx: RunContext): Beat[] {
    return [
      this.beat(
        0,
        ctx,
        "eval",
        `Running validation at step ${ctx.sim.step} (${ctx.cfg.evalIters} batches)`,
      ),
    ];
  }

  evalBar(ctx: RunContext, frac: number, elapsed: number): string {
    const iters = ctx.cfg.evalIters;
    return tqdmLine({
      desc: "Validation",
      n: Math.floor(frac * iters),
      total: iters,
      elapsed,
      rate: iters / ctx.physics.evalSeconds,
    }, ctx.screen.columns);
  }

  evalDone(ctx: RunContext, e: EvalRecord): Beat[] {
    const c = ctx.cfg;
    const patience = c.kind === "finetune"
      ? e.improved ? " (new best)" : ` (no improvement ${e.badEvals}/${c.patience})`
      : "";
    return [
      this.beat(
        0,
        ctx,
        "eval",
        `step ${e.step} | val_loss ${fixed(e.loss, 4)} | val_ppl ${fixed(e.perplexity, 2)} | best ${
          fixed(e.best, 4)
        }${patience} | ${fixed(e.durationMs / 1000, 1)}s`,
      ),
    ];
  }

  checkpointDir(ctx: RunContext, step: number): string {
    return `${ctx.cfg.site.checkpointDir}/step-${step}`;
  }

  checkpointStart(ctx: RunContext, dir: string): Beat[] {
    const size = ctx.physics.checkpoint;
    return [
      this.beat(
        0,
        ctx,
        "ckpt",
        `Saving checkpoint to ${dir} (${bytesDecimal(size.total)}: weights ${
          bytesDecimal(size.modelBytes)
        } + optimizer ${bytesDecimal(size.optimizerBytes)}, ${ctx.cfg.gpus} shard${
          ctx.cfg.gpus > 1 ? "s" : ""
        })`,
      ),
    ];
  }

  checkpointDone(ctx: RunContext, c: CheckpointRecord, dir: string): Beat[] {
    const secs = c.durationMs / 1000;
    const cfg = ctx.cfg;
    // Weights as safetensors shards (the export's split), optimizer state one DCP file per rank.
    const shards = shardPlan(cfg.arch, cfg.precision === "fp32" ? 4 : 2).shards.length;
    const weights = shards === 1
      ? "model.safetensors"
      : `model-0000{1..${shards}}-of-${String(shards).padStart(5, "0")}.safetensors`;
    const name = dir.split("/").pop();
    const last = cfg.gpus - 1;
    const optim = last === 0 ? "optim/__0_0.distcp" : `optim/__{0..${last}}_0.distcp`;
    const rng = last === 0 ? "rng_state.pth" : `rng_state_{0..${last}}.pth`;
    return [
      this.beat(
        0,
        ctx,
        "ckpt",
        `Saved ${name} in ${fixed(secs, 1)}s (${
          fixed(c.size.total / 1e9 / secs, 1)
        } GB/s): ${weights} (${bytesDecimal(c.size.modelBytes)}), ${optim} (${
          bytesDecimal(c.size.optimizerBytes)
        }), trainer_state.json, ${rng}`,
      ),
    ];
  }

  event(ctx: RunContext, e: RunEvent): Beat[] {
    switch (e.kind) {
      case "fault":
        return faultBeats(ctx, e);
      case "restart":
        return [
          ...restartBeats(ctx, e),
          ...ncclInitBeats(ctx),
          this.beat(
            ctx.physics.reloadSeconds * 1000,
            ctx,
            "ckpt",
            `Resumed from ${this.checkpointDir(ctx, e.fromStep)} after restart ${e.attempt}: ${
              commas(e.lostSteps)
            } steps since that checkpoint will run again`,
            "WARNING",
          ),
        ];
      default:
        return []; // overflows show in the step line (loss_scale, skipped); spikes in the numbers
    }
  }

  jobFailed(ctx: RunContext): Beat[] {
    return childFailedBeats(ctx, scriptName(ctx), -6);
  }

  oom(ctx: RunContext, o: OutOfMemory): Beat[] {
    const script = `/workspace/${scriptName(ctx)}`;
    return [
      ...oomBeats(
        ctx,
        o,
        o.phase === "load"
          ? [
            [script, 412, "<module>", "main(cfg)"],
            [script, 318, "main", "model = build_model(cfg).to(device)"],
          ]
          : [
            [script, 412, "<module>", "main(cfg)"],
            [script, 367, "main", "loss = train_step(model, batch, optimizer, scaler)"],
            [script, 201, "train_step", "loss.backward()"],
          ],
      ),
      ...childFailedBeats(ctx, scriptName(ctx), 1),
    ];
  }

  warning(_ctx: RunContext, _w: WarningSpec, lines: string[]): string {
    return lines.join("\n");
  }

  windowEnd(ctx: RunContext): Beat[] {
    const at = `step ${commas(ctx.sim.step)}/${commas(ctx.cfg.totalSteps)}`;
    return [
      this.beat(
        0,
        ctx,
        "train",
        ctx.totals.outcome === "stopped"
          ? `Stop requested: stopping at ${at} after saving a checkpoint`
          : `Job time limit reached: stopping at ${at}; the next allocation resumes from the last checkpoint`,
        "WARNING",
      ),
    ];
  }

  trainEnd(ctx: RunContext): Beat[] {
    const t = ctx.totals;
    return [
      this.beat(
        0,
        ctx,
        "train",
        `Training finished: ${commas(t.stepsRun)} steps in ${humanDuration(t.trainMs / 1000)}`,
      ),
    ];
  }

  exportStart(ctx: RunContext, plan: ShardPlan): Beat[] {
    const c = ctx.cfg;
    const beats: Beat[] = [
      this.beat(
        0,
        ctx,
        "export",
        `Exporting ${c.displayName} to Hugging Face format at ${c.site.exportDir} (${
          c.precision === "fp32" ? "float32" : "bfloat16"
        }, ${bytesDecimal(plan.totalSize)})`,
      ),
    ];
    if (plan.shards.length > 1) {
      beats.push({
        wait: 100,
        text:
          `The model is bigger than the maximum size per checkpoint (5GB) and is going to be split in ${plan.shards.length} checkpoint shards. You can find where each parameters has been saved in the index located at ${c.site.exportDir}/model.safetensors.index.json.`,
      });
    }
    return beats;
  }

  exportFile(_ctx: RunContext, name: string, bytes: number): string {
    return `  ${name.padEnd(38)} ${bytesDecimal(bytes).padStart(10)}`;
  }

  exportDone(ctx: RunContext, plan: ShardPlan): Beat[] {
    return [
      this.beat(
        0,
        ctx,
        "export",
        `Export complete: ${plan.shards.length} weight file${plan.shards.length > 1 ? "s" : ""}, ${
          bytesDecimal(plan.totalSize)
        } of tensors`,
      ),
    ];
  }

  summary(ctx: RunContext): string[] {
    return summaryTable(ctx);
  }
}

/** The end-of-run table every dialect can show after its own closing lines. */
export function summaryTable(ctx: RunContext): string[] {
  const c = ctx.cfg;
  const t = ctx.totals;
  const wall = (ctx.clock.now() - t.startMs) / 1000;
  const gpuHours = (c.gpus * wall) / 3600;
  const steps = t.stepsRun;
  const avgTps = steps > 0 ? t.tpsSum / steps : 0;
  const avgMfu = steps > 0 ? (100 * t.mfuSum) / steps : 0;
  const title = t.outcome === "window"
    ? `Session ended (job time limit): ${c.displayName}`
    : t.outcome === "oom"
    ? `Run failed (CUDA out of memory): ${c.displayName}`
    : t.outcome === "failed"
    ? `Run failed (NCCL timeout, no restarts left): ${c.displayName}`
    : t.outcome === "early-stopped"
    ? `Run stopped early: ${c.displayName}`
    : t.outcome === "stopped"
    ? `Run stopped: ${c.displayName}`
    : `Run complete: ${c.displayName}`;
  const loss = t.lastLoss === null
    ? "n/a"
    : `${t.firstLoss?.toFixed(4)} → ${fixed(t.lastLoss, 4)}${
      t.lastVal !== null ? ` (val ${fixed(t.lastVal, 4)}, ppl ${t.lastPerplexity?.toFixed(2)})` : ""
    }`;
  const trained = steps > 0;
  const rows = [
    {
      key: "Wall time",
      value: `${humanDuration(wall)} (training ${humanDuration(t.trainMs / 1000)})`,
    },
    {
      key: "Steps",
      value: c.kind === "pretrain"
        ? `${commas(c.startStep)} → ${commas(ctx.sim.step)} of ${commas(c.totalSteps)}`
        : `${commas(steps)} (${c.epochs} epoch${c.epochs > 1 ? "s" : ""})`,
    },
    ...(trained
      ? [
        { key: "Tokens", value: `${compactCount(t.tokensRun)} this session` },
        { key: "Loss", value: loss },
        { key: "Throughput", value: `${commas(avgTps)} tok/s/GPU · MFU ${fixed(avgMfu, 1)}%` },
      ]
      : []),
    {
      key: "GPU-hours",
      value: `${gpuHours.toFixed(gpuHours < 10 ? 2 : 1)} (${c.gpus} × ${c.gpu.name})`,
    },
    { key: "Saved to", value: t.exportDir ?? t.lastCheckpoint ?? "(nothing saved)" },
    { key: "Seed", value: String(c.seed) },
  ];
  // the replay command goes below the box, whole, so it can be copied at any width
  const table = keyValueTable(title, rows, ctx.screen.columns);
  return ctx.replay === "" ? table : [...table, `replay: ${ctx.replay}`];
}
