/**
 * One simulated run, step by step. `RunSim` owns the engine's random streams and the few
 * numbers that carry from step to step (correlated noise, loss scale, thermal state), all
 * serializable so a resumed run continues the same curve and the same random stream.
 */
import { Rng } from "../core/rng.ts";
import { type ParamCount, paramCount } from "./arch.ts";
import { type CheckpointSize, checkpointSize } from "./artifacts.ts";
import {
  allReduceBusBandwidth,
  allReduceSeconds,
  storageReadGBps,
  storageWriteGBps,
} from "./cluster.ts";
import { buildGradNormModel, expectedGradNorm, type GradNormModel } from "./gradnorm.ts";
import type { Candidate } from "./layout.ts";
import { buildLossModel, expectedTrainLoss, expectedValLoss, type LossModel } from "./loss.ts";
import { learningRate } from "./schedule.ts";
import { type Activity, Telemetry, type TelemetryState } from "./telemetry.ts";
import type { HiddenConfig } from "./types.ts";

export interface StepRecord {
  /** Iteration just completed (1-based). */
  step: number;
  /** Current epoch, 1-based. */
  epoch: number;
  /** Fractional epochs completed (HF's `epoch` field). */
  epochFloat: number;
  samples: number;
  tokens: number;
  loss: number;
  lr: number;
  gradNorm: number;
  stepMs: number;
  tokensPerSecond: number;
  tokensPerSecondPerGpu: number;
  tflopsPerGpu: number;
  mfu: number;
  lossScale: number;
  /** fp16 overflow: the update was skipped. */
  skipped: boolean;
  /**
   * The overflow's scales (fp16), when the step was skipped. `hysteresis` is the scaler's
   * hysteresis before this overflow: above 1 the overflow only uses it up (Megatron and
   * DeepSpeed, `--hysteresis 2`) and the scale stays (`reduced` equals `attempted`).
   */
  overflow: { attempted: number; reduced: number; hysteresis: number } | null;
  /** A loss spike is under way (REALISM 3.3). */
  spike: boolean;
}

/** A loss spike in progress (REALISM 3.3): grad norm ramps, loss jumps, then decays. */
export interface SpikeState {
  /** Steps since the spike began. */
  age: number;
  /** Steps of the grad-norm ramp before the loss peaks. */
  ramp: number;
  /** Grad norm at the peak, as a multiple of its trend. */
  peakGrad: number;
  /** Loss added at the peak (nats). */
  jump: number;
  /** Steps for the loss excess to halve after the peak. */
  halfLife: number;
}

export interface EvalRecord {
  step: number;
  loss: number;
  perplexity: number;
  /** Best validation loss so far (this one included). */
  best: number;
  improved: boolean;
  /** Evaluations in a row without improvement. */
  badEvals: number;
  durationMs: number;
}

export interface CheckpointRecord {
  step: number;
  size: CheckpointSize;
  durationMs: number;
}

/** One step of a forecast: its time, and the validation and save that follow it (0 if none). */
export interface ForecastStep {
  step: number;
  stepMs: number;
  evalMs: number;
  saveMs: number;
}

export interface RunState {
  step: number;
  samples: number;
  /** Steps since this process started (the first ones are slow). */
  processSteps: number;
  lossNoise: number;
  gradNoise: number;
  timeNoise: number;
  lossScale: number;
  goodSteps: number;
  /**
   * Overflows the loss scaler still absorbs before it lowers the scale (Megatron and
   * DeepSpeed hysteresis; reset when the scale grows). A state saved without it loads with
   * the scaler's default.
   */
  hysteresis?: number;
  /** Overflowed steps whose scheduler step was skipped too (Megatron, DeepSpeed). */
  lrHeld: number;
  /**
   * Skipped (overflowed) steps so far, every framework: no update was applied, so the loss
   * and grad-norm curves follow `step - skippedSteps` updates. A state saved without it
   * loads as 0.
   */
  skippedSteps?: number;
  /** Highest loss scale this run's gradients tolerate (fp16). */
  scaleCeiling: number;
  bestVal: number | null;
  badEvals: number;
  spike: SpikeState | null;
  /** The last step followed an eval or a save: the next one refills caches and is slower. */
  afterPause: boolean;
  rng: ReturnType<Rng["state"]>;
  valRng: ReturnType<Rng["state"]>;
  /**
   * Durations of validations and saves (a few % from one to the next). A state saved without
   * it starts the stream afresh.
   */
  ioRng?: ReturnType<Rng["state"]>;
  telemetry: TelemetryState;
}

/** Everything derived once from the hidden config. */
export interface Physics {
  params: ParamCount;
  candidate: Candidate;
  loss: LossModel;
  grad: GradNormModel;
  checkpoint: CheckpointSize;
  /** Seconds one validation pass takes. */
  evalSeconds: number;
  /** Seconds to write one checkpoint. */
  checkpointSeconds: number;
  /** Seconds to load the starting weights (pretrained model or resumed checkpoint). */
  loadSeconds: number;
  loadBytes: number;
  stepsPerEpoch: number;
  /** Seconds for NCCL communicator set-up across the job. */
  ncclInitSeconds: number;
  /** Seconds of a 1 GiB all-reduce over the world (the start-up bandwidth check). */
  allReduceCheckSeconds: number;
  /** Bus bandwidth the start-up check measures, GB/s. */
  busBandwidthGBps: number;
  /** Seconds to build the model (meta init, sharding wrappers). */
  buildSeconds: number;
  /** Seconds to open the data set and build its index. */
  dataSeconds: number;
  /** Loss spikes per step (REALISM 3.3: ~1 per 5–20k steps at ≥100B, none for small models). */
  spikeRate: number;
  /** Seconds to read a full training checkpoint back after a restart. */
  reloadSeconds: number;
}

/** How a framework scales fp16 losses, and whether an overflowed step also holds the LR. */
export interface LossScaler {
  initial: number;
  /** Good steps before the scale doubles. */
  window: number;
  /** Overflows in a row before the scale halves (1: every overflow halves it). */
  hysteresis: number;
  /** The LR scheduler steps only with the optimizer (Megatron, DeepSpeed). */
  holdsLr: boolean;
}

/**
 * Megatron starts at 2^32 (`--initial-loss-scale`), DeepSpeed at 2^16 (`initial_scale_power`
 * 16); both grow after 1000 clean steps, keep the scale on the first overflow after a growth
 * (hysteresis 2), and skip the scheduler step with the update. torch's GradScaler (everyone
 * else) starts at 2^16, halves on every overflow, grows after 2000, and the scheduler keeps
 * stepping.
 */
export function lossScaler(framework: HiddenConfig["framework"]): LossScaler {
  switch (framework) {
    case "megatron":
    case "megascale":
      return { initial: 2 ** 32, window: 1000, hysteresis: 2, holdsLr: true };
    case "deepspeed":
      return { initial: 2 ** 16, window: 1000, hysteresis: 2, holdsLr: true };
    default:
      return { initial: 2 ** 16, window: 2000, hysteresis: 1, holdsLr: false };
  }
}

/** Loss spikes per step for a model size (REALISM 3.3: larger models spike more). */
export function spikeRate(params: number, kind: HiddenConfig["kind"], rng: Rng): number {
  if (kind === "finetune") return 0;
  if (params >= 1e11) return 1 / rng.uniform(5_000, 20_000);
  if (params >= 3e10) return 1 / rng.uniform(50_000, 150_000);
  return 0;
}

export function derivePhysics(cfg: HiddenConfig, candidate: Candidate): Physics {
  const root = new Rng(cfg.seed);
  const params = paramCount(cfg.arch);
  const stepsPerEpoch = Math.max(1, Math.round(cfg.samplesPerEpoch / cfg.globalBatch));
  const loss = buildLossModel({
    kind: cfg.kind,
    epochs: cfg.epochs,
    vocab: cfg.arch.vocab,
    params: params.active,
    tokensPerStep: cfg.globalBatch * cfg.seqLen,
    warmupSteps: cfg.lr.warmupSteps,
    stepsPerEpoch,
  }, root.fork("loss-model"));
  const grad = buildGradNormModel(cfg.kind, params.active, root.fork("grad-model"));
  const weightBytes = cfg.precision === "fp32" ? 4 : 2;
  const checkpoint = checkpointSize(params.total, weightBytes, cfg.gpus);
  const perf = candidate.perf;
  // Validation runs forward only over evalIters global batches (a third of a training step each).
  const evalSeconds = cfg.kind === "finetune"
    ? (cfg.evalIters * cfg.layout.dp * cfg.layout.microBatch * 2 * cfg.seqLen *
          perf.flopsPerToken / 3) / (perf.tflopsPerGpu * 1e12 * cfg.gpus) + 0.5
    : cfg.evalIters * (perf.computeSeconds / 3) + 0.5;
  const checkpointSeconds = checkpoint.total / (storageWriteGBps(cfg.nodes) * 1e9) + 1.5;
  const loadBytes = cfg.startStep > 0 ? checkpoint.total : checkpoint.modelBytes;
  const loadSeconds = cfg.kind === "pretrain" && cfg.startStep === 0
    ? 2 + params.total / 2e9 // fresh init: allocate and initialize
    : loadBytes / (storageReadGBps(cfg.nodes) * 1e9) + 2;
  return {
    params,
    candidate,
    loss,
    grad,
    checkpoint,
    evalSeconds,
    checkpointSeconds,
    loadSeconds,
    loadBytes,
    stepsPerEpoch,
    ncclInitSeconds: 1.2 + 0.004 * cfg.gpus ** 0.8,
    allReduceCheckSeconds: allReduceSeconds(cfg.gpu, cfg.gpus, 2 ** 30),
    busBandwidthGBps: allReduceBusBandwidth(cfg.gpu, cfg.gpus),
    buildSeconds: 0.8 + params.total / 4e10,
    dataSeconds: 1.5 + Math.log10(Math.max(10, cfg.dataset.tokens)) / 4,
    spikeRate: spikeRate(params.total, cfg.kind, root.fork("spike-rate")),
    reloadSeconds: checkpoint.total / (storageReadGBps(cfg.nodes) * 1e9) + 2,
  };
}

export class RunSim {
  readonly cfg: HiddenConfig;
  readonly physics: Physics;
  readonly telemetry: Telemetry;
  #s: RunState;
  #rng: Rng;
  #valRng: Rng;
  #ioRng: Rng;
  /** Warm-up slowness of this process: its own stream, so a restart never shifts the losses. */
  readonly #warm: Rng;
  readonly #tokensPerStep: number;
  readonly #noiseRho = 0.9;
  /** Step-time factor from the cluster (a straggler node: 1.03–1.10); set by the show. */
  slowdown = 1;

  constructor(cfg: HiddenConfig, physics: Physics, state?: RunState) {
    this.cfg = cfg;
    this.physics = physics;
    this.#tokensPerStep = cfg.globalBatch * cfg.seqLen;
    const root = new Rng(cfg.seed);
    if (state) {
      this.#s = this.#loaded(state);
      this.#rng = Rng.fromState(state.rng);
      this.#valRng = Rng.fromState(state.valRng);
      this.#ioRng = state.ioRng ? Rng.fromState(state.ioRng) : root.fork("io");
    } else {
      const scale = root.fork("loss-scale");
      this.#rng = root.fork("steps");
      this.#valRng = root.fork("val");
      this.#ioRng = root.fork("io");
      this.#s = {
        step: cfg.startStep,
        samples: cfg.startStep * cfg.globalBatch,
        processSteps: 0,
        lossNoise: 0,
        gradNoise: 0,
        timeNoise: 0,
        lossScale: cfg.precision === "fp16" ? lossScaler(cfg.framework).initial : 1,
        goodSteps: 0,
        hysteresis: lossScaler(cfg.framework).hysteresis,
        lrHeld: 0,
        skippedSteps: 0,
        scaleCeiling: 2 ** scale.int(15, 19),
        bestVal: null,
        badEvals: 0,
        spike: null,
        afterPause: false,
        rng: this.#rng.state(),
        valRng: this.#valRng.state(),
        ioRng: this.#ioRng.state(),
        telemetry: { heat: 0.12, activity: "idle", mfu: 0 },
      };
      if (cfg.precision === "fp16" && cfg.startStep > 0) {
        this.#s.lossScale = this.#s.scaleCeiling; // a resumed run restores its settled scale
      }
    }
    this.#warm = root.fork(`warmup@${this.#s.step}`);
    const l = cfg.layout;
    this.telemetry = new Telemetry({
      gpu: cfg.gpu,
      seed: cfg.seed,
      gpusPerNode: cfg.gpusPerNode,
      stageUsedBytes: physics.candidate.memory.stages.map((s) => s.smiUsed),
      stageOf: (rank) => Math.floor(rank / (l.tp * l.dp)) % l.pp,
      state: this.#s.telemetry,
    });
  }

  get step(): number {
    return this.#s.step;
  }

  get samples(): number {
    return this.#s.samples;
  }

  get done(): boolean {
    return this.#s.step >= this.cfg.endStep;
  }

  /**
   * Go back to a saved state (a restart from the last checkpoint after a fault): the same
   * steps follow again, with the same data and losses. The process restarts, so its first
   * steps are slow again.
   */
  restore(state: RunState): void {
    this.#s = this.#loaded(state);
    this.#rng = Rng.fromState(state.rng);
    this.#valRng = Rng.fromState(state.valRng);
    this.#ioRng = state.ioRng ? Rng.fromState(state.ioRng) : new Rng(this.cfg.seed).fork("io");
  }

  /** A saved state as this process starts from it (fields older saves lack get defaults). */
  #loaded(state: RunState): RunState {
    return {
      ...structuredClone(state),
      processSteps: 0,
      hysteresis: state.hysteresis ?? lossScaler(this.cfg.framework).hysteresis,
      skippedSteps: state.skippedSteps ?? 0,
    };
  }

  /** Updates applied so far: steps minus skipped (overflowed) steps. */
  get appliedSteps(): number {
    return this.#s.step - (this.#s.skippedSteps ?? 0);
  }

  /** Serializable state (resume restores it exactly). */
  state(): RunState {
    return {
      ...this.#s,
      spike: this.#s.spike ? { ...this.#s.spike } : null,
      rng: this.#rng.state(),
      valRng: this.#valRng.state(),
      ioRng: this.#ioRng.state(),
      telemetry: this.telemetry.state,
    };
  }

  lrFraction(lr: number): number {
    const s = this.cfg.lr;
    return s.peak > s.min ? (lr - s.min) / (s.peak - s.min) : 1;
  }

  /**
   * The rest of the session as it will run, on a copy with the same random streams: each
   * step's time, and the validation and the save the training loop runs after it at the
   * configured intervals. Frameworks with a time limit derive it from this (the job ends on
   * the step that crosses it). The cluster's stragglers and faults are not foreseen.
   */
  forecast(): ForecastStep[] {
    const twin = new RunSim(this.cfg, this.physics, this.state());
    twin.#s.processSteps = this.#s.processSteps;
    twin.slowdown = this.slowdown;
    const out: ForecastStep[] = [];
    while (!twin.done) {
      const r = twin.next();
      const evalMs = r.step % this.cfg.evalInterval === 0 ? twin.evaluate().durationMs : 0;
      const saveMs = r.step % this.cfg.saveInterval === 0 ? twin.checkpoint().durationMs : 0;
      out.push({ step: r.step, stepMs: r.stepMs, evalMs, saveMs });
    }
    return out;
  }

  /** Run one optimizer step. */
  next(): StepRecord {
    const cfg = this.cfg;
    const s = this.#s;
    const rng = this.#rng;
    const step = ++s.step;
    s.processSteps++;
    s.samples += cfg.globalBatch;
    let lr = learningRate(cfg.lr, step - s.lrHeld);
    const lrFrac = step <= cfg.lr.warmupSteps ? 1 : this.lrFraction(lr);
    const rho = this.#noiseRho;
    const keep = Math.sqrt(1 - rho * rho);
    s.lossNoise = rho * s.lossNoise + keep * rng.normal();
    s.gradNoise = 0.7 * s.gradNoise + 0.71 * rng.normal();
    s.timeNoise = 0.8 * s.timeNoise + 0.6 * rng.normal();
    // The forward pass sees the weights of the updates applied so far: an overflowed (skipped)
    // step applies none, so the curves stand still while the loss scale walks down.
    const pos = step - (s.skippedSteps ?? 0);
    const m = this.physics.loss;
    let loss = expectedTrainLoss(m, pos, lrFrac) +
      m.noise * (0.75 * s.lossNoise + 0.66 * rng.normal());
    // Early in a fresh run the loss bumps up now and then while the LR warms up (REALISM 3.2).
    if (cfg.kind === "pretrain" && pos <= 15 && pos >= 3 && rng.chance(0.12)) {
      loss += rng.uniform(0.3, 1.5);
    }
    // Loss spikes (REALISM 3.3): the grad norm grows for a few steps, the loss jumps, then
    // both decay; the same batches replayed after a restart spike again.
    let gradMult = 1;
    const rate = this.physics.spikeRate;
    if (s.spike === null && rate > 0 && step > cfg.lr.warmupSteps && rng.chance(rate)) {
      s.spike = {
        age: 0,
        ramp: rng.int(3, 6),
        peakGrad: rng.logUniform(100, 1000),
        jump: rng.uniform(0.3, 3),
        halfLife: rng.uniform(3, 10),
      };
    }
    const spike = s.spike;
    if (spike) {
      spike.age++;
      const k = spike.age;
      if (k <= spike.ramp) {
        gradMult = spike.peakGrad ** (k / spike.ramp);
        loss += spike.jump * (k / spike.ramp) ** 3;
      } else {
        const decay = 0.5 ** ((k - spike.ramp) / spike.halfLife);
        gradMult = 1 + (spike.peakGrad - 1) * decay ** 2;
        loss += spike.jump * decay;
        if (spike.jump * decay < 0.02) s.spike = null; // recovered: back within the noise
      }
    }
    loss = Math.max(m.floor, loss);
    const gradNorm = expectedGradNorm(this.physics.grad, pos, lrFrac) *
      Math.exp(this.physics.grad.spread * s.gradNoise) * gradMult;

    // Step time: steady state with ±1–2 % correlated jitter; the first steps of a process
    // include compilation, allocator and NCCL warm-up; the step after an eval or a save
    // refills the data pipeline and caches; a straggler node slows every step.
    let stepMs = this.physics.candidate.perf.stepSeconds * 1000 * (1 + 0.012 * s.timeNoise) *
      this.slowdown;
    if (s.processSteps === 1) stepMs *= this.#warm.uniform(3, 8);
    else if (s.processSteps === 2) stepMs *= this.#warm.uniform(1.2, 1.6);
    if (s.afterPause) {
      stepMs *= rng.uniform(1.15, 1.6);
      s.afterPause = false;
    }

    // fp16 dynamic loss scale: overflow above the ceiling (or in a spike) skips the update
    // and halves the scale, unless the scaler's hysteresis absorbs it (Megatron, DeepSpeed:
    // the first overflow after a growth keeps the scale); a window of good steps doubles it
    // and restores the hysteresis.
    let skipped = false;
    let overflow: StepRecord["overflow"] = null;
    if (cfg.precision === "fp16") {
      const scaler = lossScaler(cfg.framework);
      if (s.lossScale > s.scaleCeiling || gradMult > 30 || rng.chance(2e-4)) {
        skipped = true;
        s.skippedSteps = (s.skippedSteps ?? 0) + 1;
        const attempted = s.lossScale;
        const hysteresis = s.hysteresis ?? scaler.hysteresis;
        if (hysteresis > 1) s.hysteresis = hysteresis - 1;
        else s.lossScale = Math.max(1, s.lossScale / 2);
        overflow = { attempted, reduced: s.lossScale, hysteresis };
        s.goodSteps = 0;
        if (scaler.holdsLr) lr = learningRate(cfg.lr, step - ++s.lrHeld);
      } else if (++s.goodSteps >= scaler.window) {
        s.lossScale *= 2;
        s.goodSteps = 0;
        s.hysteresis = scaler.hysteresis;
      }
    }

    const tokensPerSecond = this.#tokensPerStep / (stepMs / 1000);
    const tokensPerSecondPerGpu = tokensPerSecond / cfg.gpus;
    const perf = this.physics.candidate.perf;
    const tflopsPerGpu = (perf.flopsPerToken * tokensPerSecondPerGpu) / 1e12;
    const mfu = perf.mfu * (perf.tflopsPerGpu > 0 ? tflopsPerGpu / perf.tflopsPerGpu : 0);
    this.telemetry.advance(stepMs, "compute", mfu);
    const epochFloat = s.samples / cfg.samplesPerEpoch;
    return {
      step,
      epoch: Math.min(cfg.epochs, Math.floor((s.samples - 1) / cfg.samplesPerEpoch) + 1),
      epochFloat,
      samples: s.samples,
      tokens: s.samples * cfg.seqLen,
      loss,
      lr,
      gradNorm,
      stepMs,
      tokensPerSecond,
      tokensPerSecondPerGpu,
      tflopsPerGpu,
      mfu,
      lossScale: s.lossScale,
      skipped,
      overflow,
      spike: spike !== null,
    };
  }

  /** Validation at the current step; tracks the best loss for early stopping. */
  evaluate(): EvalRecord {
    const s = this.#s;
    const lr = learningRate(this.cfg.lr, Math.max(1, s.step - s.lrHeld));
    const lrFrac = s.step <= this.cfg.lr.warmupSteps ? 1 : this.lrFraction(lr);
    const expected = expectedValLoss(this.physics.loss, this.appliedSteps, lrFrac);
    const loss = expected + Math.abs(this.physics.loss.noise * 0.3 * this.#valRng.normal());
    const improved = s.bestVal === null || loss < s.bestVal;
    if (improved) {
      s.bestVal = loss;
      s.badEvals = 0;
    } else s.badEvals++;
    // the same batches every time, but the data loader, the allocator and the collectives
    // jitter by a few percent
    const durationMs = this.physics.evalSeconds * 1000 * this.#jitter(0.025);
    s.afterPause = true;
    this.telemetry.advance(durationMs, "eval", this.physics.candidate.perf.mfu);
    return {
      step: s.step,
      loss,
      perplexity: Math.exp(Math.min(20, loss)),
      best: s.bestVal as number,
      improved,
      badEvals: s.badEvals,
      durationMs,
    };
  }

  /** A checkpoint save at the current step. */
  checkpoint(): CheckpointRecord {
    // shared storage: the bandwidth a save gets varies from one save to the next
    const durationMs = this.physics.checkpointSeconds * 1000 * this.#jitter(0.04);
    this.#s.afterPause = true;
    this.telemetry.advance(durationMs, "checkpoint", 0);
    return { step: this.#s.step, size: this.physics.checkpoint, durationMs };
  }

  /** A factor near 1 with relative spread `sd` (log-normal, within ±3 sd). */
  #jitter(sd: number): number {
    return Math.exp(sd * Math.max(-3, Math.min(3, this.#ioRng.normal())));
  }

  /** A collective hangs for `ms` (one rank stopped answering). */
  hang(ms: number): void {
    this.telemetry.advance(ms, "hang", 0);
  }

  /** Let time pass outside the training loop (loading, export). */
  idle(ms: number, activity: Activity = "idle"): void {
    this.telemetry.advance(ms, activity, 0);
  }
}
