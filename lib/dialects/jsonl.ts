/**
 * `--format jsonl`: the same run as a stream of JSON objects, one per line (schema in the
 * README): run_start with the full hidden configuration and what the engine derived, a step
 * event for every optimizer step, GPU telemetry at a 10 s scrape interval, eval, checkpoint,
 * warning and lived-in events, export, run_end. Field names are stable and numbers are numbers.
 * The waits are the engine's durations, so a real-time stream paces like the text.
 */
import { TOKENIZERS, type WarningSpec } from "../data.ts";
import type { ShardPlan } from "../engine/artifacts.ts";
import type { OutOfMemory, RunEvent } from "../engine/events.ts";
import { GIB } from "../engine/memory.ts";
import type { CheckpointRecord, EvalRecord, Physics, StepRecord } from "../engine/run.ts";
import type { HiddenConfig } from "../engine/types.ts";
import type { Beat, RunContext } from "../phases/context.ts";
import { isoUtc } from "../render/format.ts";
import type { Dialect, LiveState, LogWindow } from "./dialect.ts";

/** GPU telemetry scrape interval (dcgm-exporter's default is 30 s; dashboards often use 10 s). */
const SCRAPE_MS = 10_000;

/** GPUs reported one by one up to this count; per node beyond it. */
const PER_GPU_LIMIT = 64;

function line(o: Record<string, unknown>): string {
  return JSON.stringify(o);
}

/** The hidden configuration as run_start and meta.json record it. */
export function configRecord(c: HiddenConfig, p: Physics): Record<string, unknown> {
  const a = c.arch;
  const tok = TOKENIZERS.find((t) => t.id === c.model.tokenizer);
  return {
    kind: c.kind,
    framework: c.framework,
    model: {
      id: c.model.id,
      name: c.model.name,
      display_name: c.displayName,
      family: c.model.family,
      params: p.params.total,
      active_params: p.params.active,
      layers: a.layers,
      hidden: a.hidden,
      heads: a.heads,
      kv_heads: a.kvHeads,
      head_dim: a.headDim,
      ffn: a.ffn,
      vocab: a.vocab,
      context: a.context,
      experts: a.moe?.experts ?? null,
      experts_per_token: a.moe?.topK ?? null,
    },
    tokenizer: tok ? { id: tok.id, name: tok.name, vocab: tok.vocab } : null,
    gpu: { id: c.gpu.id, name: c.gpu.smiName, memory_gb: c.gpu.memoryGB },
    gpus: c.gpus,
    nodes: c.nodes,
    gpus_per_node: c.gpusPerNode,
    layout: {
      tp: c.layout.tp,
      pp: c.layout.pp,
      dp: c.layout.dp,
      ep: c.layout.ep,
      vpp: c.layout.vpp,
      sharding: c.layout.sharding,
      recompute: c.layout.recompute,
    },
    precision: c.precision,
    seq_len: c.seqLen,
    global_batch: c.globalBatch,
    micro_batch: c.layout.microBatch,
    grad_accumulation: c.globalBatch / (c.layout.dp * c.layout.microBatch),
    dataset: { id: c.dataset.id, name: c.dataset.name, tokens: c.dataset.tokens },
    samples_per_epoch: c.samplesPerEpoch,
    epochs: c.epochs,
    total_steps: c.totalSteps,
    start_step: c.startStep,
    end_step: c.endStep,
    lr: {
      peak: c.lr.peak,
      min: c.lr.min,
      warmup_steps: c.lr.warmupSteps,
      decay: c.lr.decay,
      decay_steps: c.lr.decaySteps,
    },
    optimizer: {
      name: c.optimizer.name,
      beta1: c.optimizer.beta1,
      beta2: c.optimizer.beta2,
      eps: c.optimizer.eps,
      weight_decay: c.optimizer.weightDecay,
      clip_grad: c.optimizer.clipGrad,
    },
    log_interval: c.logInterval,
    eval_interval: c.evalInterval,
    eval_iters: c.evalIters,
    save_interval: c.saveInterval,
    checkpoint_dir: c.site.checkpointDir,
  };
}

/** What the engine computed from it. */
export function derivedRecord(c: HiddenConfig, p: Physics): Record<string, unknown> {
  const perf = p.candidate.perf;
  const mem = p.candidate.memory;
  return {
    flops_per_token: perf.flopsPerToken,
    tokens_per_step: perf.tokensPerStep,
    step_time_s: perf.stepSeconds,
    tokens_per_s: perf.tokensPerSecond,
    tokens_per_s_per_gpu: perf.tokensPerSecondPerGpu,
    tflops_per_gpu: perf.tflopsPerGpu,
    mfu: perf.mfu,
    pipeline_bubble: perf.bubble,
    memory_gib: {
      weights: gib(mem.worst.weights),
      grads: gib(mem.worst.grads),
      optimizer: gib(mem.worst.optimizer),
      activations: gib(mem.worst.activations + mem.worst.logits),
      reserved: gib(mem.worst.reserved),
      capacity: c.gpu.capacityGiB,
      fits: mem.fits,
    },
    checkpoint_bytes: p.checkpoint.total,
    allreduce_busbw_gbps: p.busBandwidthGBps,
  };
}

/** A number as JSON.stringify writes it (non-finite numbers become null). */
function num(x: number): string {
  return Number.isFinite(x) ? String(x) : "null";
}

function gib(bytes: number): number {
  return Math.round((bytes / GIB) * 1000) / 1000;
}

export class JsonlDialect implements Dialect {
  readonly name = "jsonl";
  /** Every line is a record: phases print no cosmetic blank lines. */
  readonly structured = true;
  #nextScrape = -Infinity;
  #files: { name: string; bytes: number }[] = [];

  #t(ctx: RunContext): string {
    return isoUtc(ctx.clock.now());
  }

  launch(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const p = ctx.physics;
    return [{
      wait: 0,
      text: () =>
        line({
          event: "run_start",
          time: this.#t(ctx),
          run: ctx.runIndex,
          seed: c.seed,
          replay: ctx.replay,
          config: configRecord(c, p),
          derived: derivedRecord(c, p),
        }),
    }];
  }

  distributed(ctx: RunContext): Beat[] {
    return [{ wait: ctx.physics.ncclInitSeconds * 1000, text: "" }];
  }

  model(ctx: RunContext): Beat[] {
    return [{ wait: ctx.physics.buildSeconds * 1000, text: "" }];
  }

  loadBar(): string {
    return "";
  }

  loaded(ctx: RunContext, seconds: number): Beat[] {
    return [{
      wait: 0,
      text: () =>
        line({
          event: "load",
          time: this.#t(ctx),
          source: ctx.cfg.kind === "finetune"
            ? "pretrained"
            : ctx.cfg.startStep > 0
            ? "checkpoint"
            : "init",
          step: ctx.cfg.startStep,
          bytes: ctx.physics.loadBytes,
          duration_s: seconds,
        }),
    }];
  }

  data(ctx: RunContext): Beat[] {
    return [{ wait: ctx.physics.dataSeconds * 1000, text: "" }];
  }

  trainStart(): Beat[] {
    return [];
  }

  stepRecord(ctx: RunContext, r: StepRecord): string {
    const now = ctx.clock.now();
    // written by a template, in JSON.stringify's field order and number format, because this
    // is the line of every step (a JSON test parses it back)
    const s = `{"event":"step","time":"${isoUtc(now)}","step":${r.step},"epoch":${
      num(r.epochFloat)
    },"samples":${r.samples},"tokens":${r.tokens},"loss":${num(r.loss)},"lr":${
      num(r.lr)
    },"grad_norm":${num(r.gradNorm)},"step_time_s":${num(r.stepMs / 1000)},"tokens_per_s":${
      num(r.tokensPerSecond)
    },"tokens_per_s_per_gpu":${num(r.tokensPerSecondPerGpu)},"tflops_per_gpu":${
      num(r.tflopsPerGpu)
    },"mfu":${num(r.mfu)},"loss_scale":${num(r.lossScale)},"skipped":${r.skipped}}`;
    if (now < this.#nextScrape || ctx.cfg.gpu.vendor !== "nvidia") return s; // no GPUs on CPU
    this.#nextScrape = now + SCRAPE_MS;
    return s + "\n" + this.#telemetry(ctx, now, r.step);
  }

  /**
   * One telemetry sample per GPU (up to 64 GPUs) or per node (beyond). The fields are integers
   * and the host names plain, so the objects are written by a template (JSON.stringify would
   * cost several times as much, and a 2,048-node job reports 2,048 of them every scrape).
   */
  #telemetry(ctx: RunContext, now: number, step: number): string {
    const c = ctx.cfg;
    const head = `{"event":"`;
    const t = `","time":"${isoUtc(now)}","step":${step},"host":"`;
    let out = "";
    if (c.gpus <= PER_GPU_LIMIT) {
      for (let g = 0; g < c.gpus; g++) {
        const x = ctx.sim.telemetry.sample(g, now);
        out += (g === 0 ? "" : "\n") + head + "gpu" + t + ctx.host(x.node) +
          `","gpu":${x.localRank},"rank":${x.rank},"util":${x.util},"mem_used_mib":${x.memUsedMiB},"mem_total_mib":${x.memTotalMiB},"temp_c":${x.tempC},"power_w":${x.powerW}}`;
      }
      return out;
    }
    const per = c.gpusPerNode;
    for (let n = 0; n < c.nodes; n++) {
      const x = ctx.sim.telemetry.node(n, now);
      out += (n === 0 ? "" : "\n") + head + "node" + t + ctx.host(n) +
        `","gpus":${per},"util_avg":${Math.round(x.utilAvg)},"mem_used_mib_avg":${
          Math.round(x.memUsedMiBAvg)
        },"temp_c_max":${x.tempMaxC},"power_w":${x.powerW}}`;
    }
    return out;
  }

  stepLog(_ctx: RunContext, _w: LogWindow): string {
    return "";
  }

  live(_ctx: RunContext, _s: LiveState): string[] {
    return [];
  }

  evalStart(): Beat[] {
    return [];
  }

  evalBar(): string {
    return "";
  }

  evalDone(ctx: RunContext, e: EvalRecord): Beat[] {
    return [{
      wait: 0,
      text: () =>
        line({
          event: "eval",
          time: this.#t(ctx),
          step: e.step,
          loss: e.loss,
          perplexity: e.perplexity,
          best: e.best,
          improved: e.improved,
          bad_evals: e.badEvals,
          duration_s: e.durationMs / 1000,
        }),
    }];
  }

  checkpointDir(ctx: RunContext, step: number): string {
    return `${ctx.cfg.site.checkpointDir}/step-${step}`;
  }

  checkpointStart(): Beat[] {
    return [];
  }

  checkpointDone(ctx: RunContext, c: CheckpointRecord, dir: string): Beat[] {
    return [{
      wait: 0,
      text: () =>
        line({
          event: "checkpoint",
          time: this.#t(ctx),
          step: c.step,
          path: dir,
          bytes: c.size.total,
          model_bytes: c.size.modelBytes,
          optimizer_bytes: c.size.optimizerBytes,
          duration_s: c.durationMs / 1000,
        }),
    }];
  }

  event(ctx: RunContext, e: RunEvent): Beat[] {
    const time = () => this.#t(ctx);
    switch (e.kind) {
      case "overflow":
        return [{
          wait: 0,
          text: () =>
            line({
              event: "overflow",
              time: time(),
              step: e.step,
              attempted_loss_scale: e.attempted,
              loss_scale: e.reduced,
            }),
        }];
      case "spike":
        return [{
          wait: 0,
          text: () =>
            line({
              event: "loss_spike",
              time: time(),
              step: e.step,
              loss: e.loss,
              grad_norm: e.gradNorm,
            }),
        }];
      case "straggler":
        return [{
          wait: 0,
          text: () =>
            line({
              event: e.on ? "straggler_start" : "straggler_end",
              time: time(),
              step: e.step,
              host: ctx.host(e.node),
              slowdown: e.slowdown,
            }),
        }];
      case "fault":
        return [{
          wait: 0,
          text: () =>
            line({
              event: "fault",
              time: time(),
              step: e.step,
              type: "nccl_timeout",
              rank: e.rank,
              host: ctx.host(e.node),
              timeout_s: e.timeoutMs / 1000,
            }),
        }];
      case "restart":
        return [{
          wait: (ctx.physics.ncclInitSeconds + ctx.physics.reloadSeconds) * 1000 + 15_000,
          text: () =>
            line({
              event: "restart",
              time: time(),
              attempt: e.attempt,
              from_step: e.fromStep,
              lost_steps: e.lostSteps,
            }),
        }];
    }
  }

  jobFailed(ctx: RunContext): Beat[] {
    return [{
      wait: 0,
      text: () => line({ event: "job_failed", time: this.#t(ctx), reason: "max_restarts" }),
    }];
  }

  oom(ctx: RunContext, o: OutOfMemory): Beat[] {
    return [{
      wait: 0,
      text: () =>
        line({
          event: "oom",
          time: this.#t(ctx),
          phase: o.phase,
          tried_gib: o.tryGiB,
          total_gib: o.totalGiB,
          free_gib: o.freeGiB,
          in_use_gib: o.inUseGiB,
          allocated_gib: o.allocatedGiB,
          reserved_unallocated_gib: o.reservedFreeGiB,
        }),
    }];
  }

  warning(ctx: RunContext, w: WarningSpec, lines: string[]): string {
    return line({ event: "warning", time: this.#t(ctx), id: w.id, text: lines.join("\n") });
  }

  windowEnd(): Beat[] {
    return [];
  }

  trainEnd(): Beat[] {
    return [];
  }

  exportStart(_ctx: RunContext, _plan: ShardPlan): Beat[] {
    this.#files = [];
    return [];
  }

  exportFile(_ctx: RunContext, name: string, bytes: number): string {
    this.#files.push({ name, bytes });
    return "";
  }

  exportDone(ctx: RunContext, plan: ShardPlan): Beat[] {
    return [{
      wait: 0,
      text: () =>
        line({
          event: "export",
          time: this.#t(ctx),
          dir: ctx.cfg.site.exportDir,
          total_size: plan.totalSize,
          shards: plan.shards.length,
          files: this.#files,
        }),
    }];
  }

  summary(ctx: RunContext): string[] {
    const c = ctx.cfg;
    const t = ctx.totals;
    const wall = (ctx.clock.now() - t.startMs) / 1000;
    return [line({
      event: "run_end",
      time: this.#t(ctx),
      run: ctx.runIndex,
      seed: c.seed,
      outcome: t.outcome,
      start_step: c.startStep,
      end_step: ctx.sim.step,
      steps_run: t.stepsRun,
      tokens_run: t.tokensRun,
      first_loss: t.firstLoss,
      final_loss: t.lastLoss,
      val_loss: t.lastVal,
      perplexity: t.lastPerplexity,
      restarts: t.restarts,
      lost_steps: t.lostSteps,
      wall_s: wall,
      train_s: t.trainMs / 1000,
      gpu_hours: (c.gpus * wall) / 3600,
      saved_to: t.exportDir ?? t.lastCheckpoint,
    })];
  }
}
