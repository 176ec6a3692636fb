/**
 * Loss curves (REALISM 3.1–3.2, 3.7). Pretraining: the first loss is ≈ ln(V); the curve falls
 * fast, then follows the Chinchilla law L(N, D) = E + A/N^α + B/D^β in the tokens seen, scaled
 * for the tokenizer, plus a small extra that the final learning-rate decay removes. Fine-tuning:
 * starts from the pretrained model's loss on the new data, drops within the first epoch, steps
 * down at each new epoch (memorization) while validation loss turns up (over-fitting).
 */
import type { RunKind } from "./types.ts";
import type { Rng } from "../core/rng.ts";

/** Hoffmann et al. 2022, approach 3 (REALISM 3.1). */
export const CHINCHILLA = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };

export interface LossModel {
  kind: RunKind;
  /** Loss before the first update. */
  l0: number;
  /** Tokenizer scale: per-token loss grows with vocabulary (sqrt(ln V / ln 32000)). */
  vocabScale: number;
  /** fv·(E + A/N^α): what infinite data would leave. */
  modelTerm: number;
  /** D0 (tokens) so that the data term starts the curve at l0. */
  d0: number;
  /** Extra loss while the learning rate is at its peak; the final decay removes it. */
  anneal: number;
  tokensPerStep: number;
  warmupSteps: number;
  /**
   * Pretraining's first steps are limited by updates, not tokens (REALISM 3.2 recipe):
   * l0 → modelTerm as (1 + s/τ)^−p in effective steps; the Chinchilla law takes over once it
   * is the higher of the two.
   */
  earlyTau: number;
  earlyPower: number;
  /** Fine-tuning: train-loss plateau within an epoch, time constant (steps), epoch size. */
  fit: number;
  tau: number;
  stepsPerEpoch: number;
  /** Drop of the train loss at each new epoch (seen examples), nats. */
  memorize: number;
  /** Pretraining on repeated data: tokens in one epoch (0: a single pass over a large corpus). */
  uniqueTokens: number;
  /** Validation: relative gap above train (pretraining), over-fit growth (fine-tuning). */
  valGap: number;
  overfit: number;
  /** Standard deviation of the per-step loss noise (falls with batch size). */
  noise: number;
  /** The loss never goes below this. */
  floor: number;
}

export interface LossInputs {
  kind: RunKind;
  /** Epochs over the same data (pretraining on a small corpus repeats it). */
  epochs?: number;
  vocab: number;
  /** Parameters touched per token. */
  params: number;
  tokensPerStep: number;
  warmupSteps: number;
  stepsPerEpoch: number;
}

/** Chinchilla loss for N parameters trained on D tokens, in nats per token of a 32K vocab. */
export function chinchillaLoss(n: number, d: number): number {
  const c = CHINCHILLA;
  return c.E + c.A / n ** c.alpha + c.B / d ** c.beta;
}

export function buildLossModel(inp: LossInputs, rng: Rng): LossModel {
  const c = CHINCHILLA;
  const vocabScale = Math.sqrt(Math.log(inp.vocab) / Math.log(32000));
  const modelTerm = vocabScale * (c.E + c.A / inp.params ** c.alpha);
  const noise = Math.min(0.08, Math.max(0.004, 0.015 * Math.sqrt(2 ** 20 / inp.tokensPerStep)));
  if (inp.kind === "pretrain") {
    const l0 = Math.log(inp.vocab) + rng.uniform(-0.15, 0.4);
    const anneal = vocabScale * rng.uniform(0.04, 0.1);
    const dataStart = (l0 - anneal) / vocabScale - c.E - c.A / inp.params ** c.alpha;
    const d0 = (c.B / dataStart) ** (1 / c.beta);
    return {
      kind: "pretrain",
      l0,
      vocabScale,
      modelTerm,
      d0,
      anneal,
      tokensPerStep: inp.tokensPerStep,
      warmupSteps: inp.warmupSteps,
      earlyTau: Math.max(20, inp.warmupSteps / 10),
      earlyPower: rng.uniform(0.65, 0.85),
      fit: 0,
      tau: 0,
      stepsPerEpoch: inp.stepsPerEpoch,
      memorize: 0,
      valGap: rng.uniform(0.01, 0.035),
      overfit: (inp.epochs ?? 1) > 1 ? rng.uniform(0.02, 0.06) : 0,
      uniqueTokens: (inp.epochs ?? 1) > 1 ? inp.stepsPerEpoch * inp.tokensPerStep : 0,
      noise,
      floor: vocabScale * c.E * 0.9,
    };
  }
  // The pretrained model met 2–15T tokens. Supervised data is scored on responses only, which
  // are more predictable than web text: SFT losses start at 0.6–0.85 of the pretraining loss
  // and lose 20–40 % within the first epoch (e.g. 7B models on Alpaca: ≈1.5 → ≈1.05).
  const pretrained = modelTerm + vocabScale * c.B / rng.logUniform(2e12, 15e12) ** c.beta;
  const l0 = pretrained * rng.uniform(0.6, 0.85);
  const fit = Math.max(0.45, l0 * rng.uniform(0.6, 0.8));
  return {
    kind: "finetune",
    l0,
    vocabScale,
    modelTerm,
    d0: 0,
    anneal: 0,
    tokensPerStep: inp.tokensPerStep,
    warmupSteps: inp.warmupSteps,
    earlyTau: 0,
    earlyPower: 0,
    fit,
    tau: Math.max(3, inp.stepsPerEpoch * rng.uniform(0.08, 0.2)),
    stepsPerEpoch: inp.stepsPerEpoch,
    memorize: fit * rng.uniform(0.08, 0.2),
    valGap: rng.uniform(0.015, 0.04),
    overfit: rng.uniform(0.02, 0.07),
    uniqueTokens: 0,
    noise: Math.max(noise, 0.02),
    floor: 0.3,
  };
}

/** Optimizer steps' worth of learning after `step` steps: warmup counts as √(lr/peak). */
export function effectiveSteps(step: number, warmup: number): number {
  if (warmup <= 0) return step;
  if (step >= warmup) return step - warmup / 3;
  return (2 / 3) * step ** 1.5 / Math.sqrt(warmup);
}

/**
 * Repeated tokens are worth less (Muennighoff et al. 2023): U unique tokens seen D times
 * count as U + U·R*·(1 − e^(−R/R*)) with R = D/U − 1 repetitions and R* ≈ 15.
 */
export function effectiveData(tokens: number, unique: number): number {
  if (unique <= 0 || tokens <= unique) return tokens;
  const r = tokens / unique - 1;
  return unique + unique * 15 * (1 - Math.exp(-r / 15));
}

/** Completed epochs plus a quick ramp at the start of each new epoch (0 in the first). */
function epochsSeen(m: LossModel, step: number): number {
  const e = step / m.stepsPerEpoch;
  const whole = Math.floor(e);
  const ramp = Math.min(1, (e - whole) / 0.03);
  return whole === 0 ? 0 : whole - 1 + ramp;
}

/**
 * Expected train loss after `step` updates. `lrFrac` is (lr − min)/(peak − min) at that step
 * (1 during warmup): how much of the anneal extra is still there.
 */
export function expectedTrainLoss(m: LossModel, step: number, lrFrac: number): number {
  let l: number;
  if (m.kind === "pretrain") {
    const steps = effectiveSteps(step, m.warmupSteps);
    const d = effectiveData(m.tokensPerStep * steps, m.uniqueTokens);
    const law = m.modelTerm + m.vocabScale * CHINCHILLA.B / (d + m.d0) ** CHINCHILLA.beta +
      m.anneal * (step <= m.warmupSteps ? 1 : lrFrac);
    const early = m.modelTerm + (m.l0 - m.modelTerm) * (1 + step / m.earlyTau) ** -m.earlyPower;
    l = Math.max(law, early);
  } else {
    const warm = effectiveSteps(step, m.warmupSteps);
    l = m.fit + (m.l0 - m.fit) * Math.exp(-warm / m.tau) - m.memorize * epochsSeen(m, step);
  }
  return Math.max(m.floor, l);
}

/** Expected validation loss after `step` updates; never below the expected train loss. */
export function expectedValLoss(m: LossModel, step: number, lrFrac: number): number {
  const train = expectedTrainLoss(m, step, lrFrac);
  if (m.kind === "pretrain") {
    // repeated epochs over a small corpus: the held-out loss drifts up as the model memorizes
    const repeats = m.uniqueTokens > 0
      ? Math.max(0, (step * m.tokensPerStep) / m.uniqueTokens - 1)
      : 0;
    return train * (1 + m.valGap) + m.overfit * repeats ** 1.5;
  }
  const warm = effectiveSteps(step, m.warmupSteps);
  const fitVal = m.fit * (1 + m.valGap) + 0.02;
  const e = step / m.stepsPerEpoch;
  const val = fitVal + (m.l0 * (1 + m.valGap) - fitVal) * Math.exp(-warm / m.tau) +
    m.overfit * Math.max(0, e - 1) ** 1.5;
  return Math.max(val, train * (1 + m.valGap));
}
