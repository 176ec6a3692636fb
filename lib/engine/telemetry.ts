/**
 * Per-GPU telemetry (REALISM 1.11, 2.1, 2.6): utilization, memory, temperature and power. Each
 * GPU keeps its own fixed offsets (silicon, slot, rack airflow); power follows the work the GPU
 * does; temperature follows power with a thermal lag. Everything is a function of the seed, the
 * rank and the thermal state, so any renderer can sample any GPU at any time without drawing
 * from the engine's random streams.
 */
import type { GpuSpec } from "../data.ts";
import { noise, smoothNoise } from "../core/rng.ts";
import { MIB } from "./memory.ts";

/** What the GPUs are doing; "hang" is a collective that never completes (spinning kernels). */
export type Activity = "compute" | "eval" | "checkpoint" | "hang" | "idle";

export interface GpuSample {
  rank: number;
  node: number;
  localRank: number;
  util: number;
  memUsedMiB: number;
  memTotalMiB: number;
  tempC: number;
  powerW: number;
  powerCapW: number;
}

export interface NodeSample {
  node: number;
  utilAvg: number;
  memUsedMiBAvg: number;
  tempMaxC: number;
  powerW: number;
}

export interface TelemetryState {
  /** Thermal load 0–1 (exponential moving average of the power fraction). */
  heat: number;
  activity: Activity;
  mfu: number;
}

/** Seconds for the temperature to close 63 % of the gap to its new level. */
const THERMAL_TAU_S = 90;

/**
 * Fraction of TDP a GPU draws doing `activity` at this MFU: busy training draws 60–97 % of TDP,
 * more the harder the tensor cores work (H100 at ~40 % MFU: ≈ 600 W of 700 W, REALISM 2.6).
 */
export function powerFraction(activity: Activity, mfu: number, gpu: GpuSpec): number {
  const idle = gpu.idleW / gpu.tdpW;
  switch (activity) {
    case "compute":
      return Math.min(0.97, 0.6 + 0.65 * mfu);
    case "eval":
      return Math.min(0.9, 0.5 + 0.5 * mfu);
    case "checkpoint":
      return idle * 1.4;
    case "hang":
      return Math.max(idle * 2, 0.3);
    case "idle":
      return idle;
  }
}

/** GPU-Util for an activity, with a GPU's wobble in [-1, 1]. */
function utilization(activity: Activity, wobble: number): number {
  switch (activity) {
    case "compute":
      return 100 - Math.abs(wobble) * 4;
    case "eval":
      return 95 - Math.abs(wobble) * 8;
    case "checkpoint":
      return Math.abs(wobble) * 12;
    case "hang":
      return 100; // NCCL kernels spin, waiting for a peer that never comes
    case "idle":
      return 0;
  }
}

export class Telemetry {
  readonly #gpu: GpuSpec;
  readonly #seed: number;
  readonly #gpusPerNode: number;
  readonly #stageOf: (rank: number) => number;
  readonly #stageMiB: readonly number[];
  #s: TelemetryState;
  /** Per-GPU constants (power offset, ambient, memory jitter), computed on first use. */
  #fixed: Float64Array | null = null;

  constructor(opts: {
    gpu: GpuSpec;
    seed: number;
    gpusPerNode: number;
    /** nvidia-smi memory in use per pipeline stage, bytes. */
    stageUsedBytes: readonly number[];
    stageOf: (rank: number) => number;
    state?: TelemetryState;
  }) {
    this.#gpu = opts.gpu;
    this.#seed = opts.seed;
    this.#gpusPerNode = opts.gpusPerNode;
    this.#stageOf = opts.stageOf;
    this.#stageMiB = opts.stageUsedBytes.map((b) => b / MIB);
    this.#s = opts.state ?? { heat: 0.35, activity: "idle", mfu: 0 };
  }

  get state(): TelemetryState {
    return { ...this.#s };
  }

  #powerFraction(activity: Activity, mfu: number): number {
    return powerFraction(activity, mfu, this.#gpu);
  }

  /** Let `ms` of simulated time pass doing `activity`. */
  advance(ms: number, activity: Activity, mfu: number): void {
    const target = this.#powerFraction(activity, mfu);
    const k = 1 - Math.exp(-ms / 1000 / THERMAL_TAU_S);
    const s = this.#s; // updated in place: this runs once per simulated step
    s.heat += (target - s.heat) * k;
    s.activity = activity;
    s.mfu = mfu;
  }

  /** [power offset, ambient °C, memory jitter MiB] of a GPU: its silicon, slot and rack. */
  #constants(rank: number): number {
    if (this.#fixed === null || rank * 3 >= this.#fixed.length) {
      const old = this.#fixed;
      const grown = new Float64Array(Math.max(24, (rank + 1) * 3 * 2)).fill(NaN);
      if (old) grown.set(old);
      this.#fixed = grown;
    }
    const f = this.#fixed;
    const i = rank * 3;
    if (Number.isNaN(f[i] as number)) {
      const seed = this.#seed;
      const node = Math.floor(rank / this.#gpusPerNode);
      f[i] = 1 + 0.04 * noise(seed, rank, 2);
      f[i + 1] = 27 + 3 * noise(seed, node, 4) + 2.5 * noise(seed, rank, 1);
      f[i + 2] = 180 * noise(seed, rank, 3);
    }
    return i;
  }

  /** One GPU's telemetry at a time. */
  sample(rank: number, tMs: number): GpuSample {
    const x = this.#read(rank, tMs);
    return { ...x };
  }

  /** A node's GPUs summed up (mean utilization and memory, hottest GPU, total power). */
  node(node: number, tMs: number): NodeSample {
    // the per-GPU arithmetic of #read, with what is shared by the node's GPUs hoisted out
    // (a 2,048-node JSONL stream reads 16,384 GPUs every scrape)
    const per = this.#gpusPerNode;
    const g = this.#gpu;
    const seed = this.#seed;
    const st = this.#s;
    const activity = st.activity;
    const t = tMs / 1000;
    const frac = this.#powerFraction(activity, st.mfu);
    const heatTemp = 28 + 50 * st.heat - 27;
    const noMemory = activity === "idle" && st.heat < 0.2;
    const maxMiB = g.smiMiB - 1;
    const minW = g.idleW * 0.9;
    // smoothNoise(seed, x, channel) with the lattice cell of x worked out once
    const x3 = t / 3, i3 = Math.floor(x3), f3 = x3 - i3, w3 = f3 * f3 * (3 - 2 * f3);
    const x20 = t / 20, i20 = Math.floor(x20), f20 = x20 - i20, w20 = f20 * f20 * (3 - 2 * f20);
    let util = 0, mem = 0, temp = -Infinity, power = 0;
    for (let rank = node * per, end = rank + per; rank < end; rank++) {
      const k = this.#constants(rank);
      const fixed = this.#fixed as Float64Array;
      const wobble = noise(seed, i3, rank) * (1 - w3) + noise(seed, i3 + 1, rank) * w3;
      util += Math.round(utilization(activity, wobble));
      power += Math.round(
        Math.min(
          g.tdpW,
          Math.max(minW, g.tdpW * frac * (fixed[k] as number) + 0.02 * g.tdpW * wobble),
        ),
      );
      const tempC = Math.round(
        (fixed[k + 1] as number) + heatTemp +
          0.8 *
            (noise(seed, i20, rank + 7919) * (1 - w20) + noise(seed, i20 + 1, rank + 7919) * w20),
      );
      if (tempC > temp) temp = tempC;
      mem += noMemory ? 0 : Math.round(
        Math.min((this.#stageMiB[this.#stageOf(rank)] ?? 0) + (fixed[k + 2] as number), maxMiB),
      );
    }
    return { node, utilAvg: util / per, memUsedMiBAvg: mem / per, tempMaxC: temp, powerW: power };
  }

  /** Computes into one reused object (a 2,048-node job reads 16,384 GPUs a scrape). */
  #read(rank: number, tMs: number): GpuSample {
    const g = this.#gpu;
    const seed = this.#seed;
    const k = this.#constants(rank);
    const fixed = this.#fixed as Float64Array;
    const t = tMs / 1000;
    const st = this.#s;
    const activity = st.activity;
    const wobble = smoothNoise(seed, t / 3, rank);
    const util = utilization(activity, wobble);
    const frac = this.#powerFraction(activity, st.mfu);
    const powerW = Math.min(
      g.tdpW,
      Math.max(g.idleW * 0.9, g.tdpW * frac * (fixed[k] as number) + 0.02 * g.tdpW * wobble),
    );
    const loadTemp = 28 + 50 * st.heat; // ≈ 33 °C idle, ≈ 70 °C at ~85 % of TDP (air-cooled SXM)
    const tempC = (fixed[k + 1] as number) + (loadTemp - 27) +
      0.8 * smoothNoise(seed, t / 20, rank + 7919);
    const used = activity === "idle" && st.heat < 0.2
      ? 0
      : (this.#stageMiB[this.#stageOf(rank)] ?? 0) + (fixed[k + 2] as number);
    const x = this.#scratch;
    x.rank = rank;
    x.node = Math.floor(rank / this.#gpusPerNode);
    x.localRank = rank % this.#gpusPerNode;
    x.util = Math.round(util);
    x.memUsedMiB = Math.round(Math.min(used, g.smiMiB - 1));
    x.memTotalMiB = g.smiMiB;
    x.tempC = Math.round(tempC);
    x.powerW = Math.round(powerW);
    x.powerCapW = g.tdpW;
    return x;
  }

  readonly #scratch: GpuSample = {
    rank: 0,
    node: 0,
    localRank: 0,
    util: 0,
    memUsedMiB: 0,
    memTotalMiB: 0,
    tempC: 0,
    powerW: 0,
    powerCapW: 0,
  };
}
