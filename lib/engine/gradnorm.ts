/**
 * Gradient-norm trend (REALISM 3.4): large at initialization, falling ~10× within the first
 * hundreds of steps to a size-dependent steady value (0.1–0.3 for large models), drifting up
 * slowly as the learning rate decays. Printed norms are pre-clip totals.
 */
import type { Rng } from "../core/rng.ts";
import type { RunKind } from "./types.ts";

export interface GradNormModel {
  initial: number;
  steady: number;
  /** Steps for the initial excess to fall by e. */
  tau: number;
  /** Relative rise at the end of the learning-rate decay. */
  lateRise: number;
  /** Log-normal per-step spread. */
  spread: number;
}

export function buildGradNormModel(kind: RunKind, params: number, rng: Rng): GradNormModel {
  if (kind === "finetune") {
    return {
      initial: rng.uniform(1.2, 4),
      steady: rng.uniform(0.3, 1.1),
      tau: rng.uniform(15, 60),
      lateRise: rng.uniform(0.05, 0.2),
      spread: 0.12,
    };
  }
  const steady = params >= 50e9
    ? rng.uniform(0.12, 0.25)
    : params >= 5e9
    ? rng.uniform(0.18, 0.35)
    : params >= 5e8
    ? rng.uniform(0.3, 0.6)
    : rng.uniform(0.4, 1.0);
  return {
    initial: params < 5e8 ? rng.uniform(8, 20) : rng.uniform(5, 25),
    steady,
    tau: rng.uniform(40, 150),
    lateRise: rng.uniform(0.2, 0.6),
    spread: 0.08,
  };
}

/** Expected grad norm after `step` updates; `lrFrac` = (lr − min)/(peak − min). */
export function expectedGradNorm(m: GradNormModel, step: number, lrFrac: number): number {
  return m.steady * (1 + m.lateRise * (1 - lrFrac)) +
    (m.initial - m.steady) * Math.exp(-step / m.tau);
}
