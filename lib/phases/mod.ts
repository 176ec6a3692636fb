/** The phases of a run, in order. Validation and checkpoints run inside training. */
import { exportPhase } from "./export.ts";
import { initPhase } from "./init.ts";
import type { Phase } from "./phase.ts";
import { summaryPhase } from "./summary.ts";
import { trainingPhase } from "./training.ts";
import { transitionPhase } from "./transition.ts";

export const PHASES: readonly Phase[] = [
  initPhase,
  trainingPhase,
  exportPhase,
  summaryPhase,
  transitionPhase,
];

export type { Phase };
