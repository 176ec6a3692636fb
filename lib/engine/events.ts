/**
 * Things that happen to a run besides steps (REALISM 3.3, 3.9): overflows and spikes come from
 * the training dynamics (RunSim); stragglers and hardware faults come from the cluster, at rates
 * that grow with its size; an infeasible configuration ends in an out-of-memory error.
 */
import type { HiddenConfig } from "./types.ts";

export type RunEvent =
  /** fp16: the scaled gradients overflowed; the step is skipped and the scale halved. */
  | { kind: "overflow"; step: number; attempted: number; reduced: number }
  /** A loss spike begins (the numbers show it; frameworks print nothing special). */
  | { kind: "spike"; step: number; loss: number; gradNorm: number }
  /** A node turns slow (bad GPU, throttling, a flaky link) or recovers. */
  | { kind: "straggler"; step: number; node: number; slowdown: number; on: boolean }
  /** A rank hangs in a collective; the NCCL watchdog takes the job down after the timeout. */
  | { kind: "fault"; step: number; rank: number; node: number; timeoutMs: number; seqNum: number }
  /** The job restarts from its last checkpoint; the steps since then run again. */
  | { kind: "restart"; fromStep: number; lostSteps: number; attempt: number };

export interface ClusterRates {
  /** Unexpected interruptions per hour of the whole job. */
  faultsPerHour: number;
  /** Nodes turning slow per hour. */
  stragglersPerHour: number;
  /** Collective timeout of the process group, ms. */
  watchdogMs: number;
}

/**
 * Llama 3 405B saw 419 unexpected interruptions in 54 days on 16,384 H100s: ≈1.97e-5 per
 * GPU-hour (≈1 per 3 h at that size). BLOOM-176B on 48 nodes had a node silently slow the job
 * about weekly: ≈1.2e-4 per node-hour.
 */
export const FAULTS_PER_GPU_HOUR = 419 / (54 * 24) / 16384;
export const STRAGGLERS_PER_NODE_HOUR = 1 / (7 * 24 * 48);

/**
 * The cluster's rates. `chaos` (`--chaos`) is for demos: a flaky cluster where a fault comes
 * every few minutes whatever the size, a node turns slow about as often, and the process
 * group's timeout is 60 s (as jobs that fail fast configure it).
 */
export function clusterRates(cfg: HiddenConfig, chaos = false): ClusterRates {
  if (chaos) {
    return {
      faultsPerHour: cfg.gpus > 1 ? 12 : 0,
      stragglersPerHour: cfg.nodes > 1 ? 10 : 0,
      watchdogMs: 60_000,
    };
  }
  return {
    faultsPerHour: cfg.gpus > 1 ? FAULTS_PER_GPU_HOUR * cfg.gpus : 0,
    stragglersPerHour: cfg.nodes > 1 ? STRAGGLERS_PER_NODE_HOUR * cfg.nodes : 0,
    // torch's default process-group timeout is 10 min; HF Trainer sets ddp_timeout=1800 s
    watchdogMs: cfg.framework === "hf" ? 1_800_000 : 600_000,
  };
}

/** What the allocator reports when a configuration does not fit (PyTorch ≥ 2.4 wording). */
export interface OutOfMemory {
  /** Where it fails: loading the weights, or in the first training step. */
  phase: "load" | "step";
  /** Fraction of the weights loaded when loading fails (1 when it fails in the step). */
  loaded: number;
  /** GiB the failing allocation asked for. */
  tryGiB: number;
  totalGiB: number;
  freeGiB: number;
  /** In use by this process, including the CUDA context. */
  inUseGiB: number;
  allocatedGiB: number;
  /** Reserved by the caching allocator but not allocated. */
  reservedFreeGiB: number;
}
