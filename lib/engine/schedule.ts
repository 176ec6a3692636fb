/** Learning-rate schedules (REALISM 3.5): linear warmup, then cosine, linear or WSD decay. */
import type { LrSchedule } from "./types.ts";

/** Learning rate in effect at iteration `step` (1-based, as Megatron prints it). */
export function learningRate(s: LrSchedule, step: number): number {
  const ext = s.extendedAt;
  if (ext) {
    if (step <= ext.step) return learningRate(ext.before, step);
    if (step >= s.totalSteps) return s.min;
    const progress = (step - ext.step) / Math.max(1, s.totalSteps - ext.step);
    if (s.decay === "linear" || s.decay === "wsd") return ext.lr - (ext.lr - s.min) * progress;
    return s.min + (ext.lr - s.min) * 0.5 * (1 + Math.cos(Math.PI * progress));
  }
  if (s.warmupSteps > 0 && step <= s.warmupSteps) return s.peak * (step / s.warmupSteps);
  if (step >= s.totalSteps) return s.min;
  if (s.decay === "wsd") {
    const start = s.totalSteps - s.decaySteps;
    if (step <= start) return s.peak;
    return s.peak - ((s.peak - s.min) * (step - start)) / s.decaySteps;
  }
  const progress = (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps);
  if (s.decay === "linear") return s.peak - (s.peak - s.min) * progress;
  return s.min + (s.peak - s.min) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/**
 * Peak learning rate by model size, interpolated in log-space over GPT-3 Table 2.1
 * (125M 6e-4 … 175B 0.6e-4), the values Llama and BLOOM also sit near.
 */
export function peakLrForSize(params: number): number {
  const table: [number, number][] = [
    [125e6, 6e-4],
    [350e6, 3e-4],
    [760e6, 2.5e-4],
    [1.3e9, 2e-4],
    [2.7e9, 1.6e-4],
    [6.7e9, 1.2e-4],
    [13e9, 1e-4],
    [175e9, 0.6e-4],
  ];
  if (params <= table[0]![0]) return table[0]![1];
  for (let i = 1; i < table.length; i++) {
    const [n1, l1] = table[i]!;
    const [n0, l0] = table[i - 1]!;
    if (params <= n1) {
      const f = Math.log(params / n0) / Math.log(n1 / n0);
      return Math.exp(Math.log(l0) + f * (Math.log(l1) - Math.log(l0)));
    }
  }
  return table[table.length - 1]![1];
}

/**
 * The schedule of a run resumed at `step` to train on until `totalSteps`: the rate decays on
 * from its value at `step` (no jump back to the peak, no warm-up again).
 */
export function extendSchedule(s: LrSchedule, step: number, totalSteps: number): LrSchedule {
  return { ...s, totalSteps, extendedAt: { step, lr: learningRate(s, step), before: s } };
}
