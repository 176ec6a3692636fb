/** A new run's first state.json. Pure. */
import type { RunState } from "./types.ts";

/** The state.json of a run just created (or queued again: a resume starts from its own). */
export function queuedState(id: string, nowMs: number): RunState {
  const now = new Date(nowMs).toISOString();
  return {
    schema: 1,
    id,
    status: "queued",
    pid: null,
    reason: null,
    queuedAt: now,
    startedAt: null,
    updatedAt: now,
    endedAt: null,
    step: 0,
    totalSteps: 0,
    epoch: 0,
    epochs: 0,
    samples: 0,
    tokens: 0,
    loss: null,
    valLoss: null,
    valStep: null,
    lr: null,
    tokensPerSecond: null,
    elapsedS: 0,
    etaAt: null,
    remainingS: null,
    lastCheckpoint: null,
    resumes: 0,
    gpu: null,
  };
}
