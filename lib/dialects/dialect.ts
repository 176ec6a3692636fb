/**
 * A dialect formats a run the way one training framework prints it. It only formats: every
 * number it prints comes from the run context (hidden config, physics, simulator records), and
 * every pause it asks for is a duration the engine derived.
 */
import type { WarningSpec } from "../data.ts";
import type { ShardPlan } from "../engine/artifacts.ts";
import type { OutOfMemory, RunEvent } from "../engine/events.ts";
import type { CheckpointRecord, EvalRecord, StepRecord } from "../engine/run.ts";
import type { Beat, RunContext } from "../phases/context.ts";

/** Steps between two log lines, averaged the way frameworks average them. */
export interface LogWindow {
  steps: number;
  last: StepRecord;
  meanLoss: number;
  meanStepMs: number;
  skipped: number;
}

/** What the live region shows during training. */
export interface LiveState {
  step: number;
  /** Seconds since training started in this process. */
  elapsed: number;
  /** Steps per second, from recent steps. */
  rate: number;
  phase: "train" | "eval" | "checkpoint";
  /** Eval progress 0–1 during validation. */
  evalFrac: number;
}

export interface Dialect {
  readonly name: string;
  /** Every printed line is a machine record (JSONL): no cosmetic blank lines. */
  readonly structured?: boolean;
  launch(ctx: RunContext): Beat[];
  distributed(ctx: RunContext): Beat[];
  model(ctx: RunContext): Beat[];
  /** Bar shown while weights load (`frac` 0–1). */
  loadBar(ctx: RunContext, frac: number, elapsed: number): string;
  loaded(ctx: RunContext, seconds: number): Beat[];
  data(ctx: RunContext): Beat[];
  trainStart(ctx: RunContext): Beat[];
  /**
   * Optional: a record of every step (the JSONL stream); text dialects only print log
   * intervals. Returns "" for nothing.
   */
  stepRecord?(ctx: RunContext, r: StepRecord): string;
  /**
   * Optional: whether `step` closes a log window. The default logs every `logInterval` steps
   * and the last step of a session; frameworks differ (torchtitan also logs step 1, Megatron
   * and the HF Trainer only multiples of the interval).
   */
  logsAt?(ctx: RunContext, step: number, last: boolean): boolean;
  /** The periodic training log line ("" prints nothing). The hot path of instant mode. */
  stepLog(ctx: RunContext, w: LogWindow): string;
  live(ctx: RunContext, s: LiveState): string[];
  evalStart(ctx: RunContext): Beat[];
  /** Bar shown while validation runs. */
  evalBar(ctx: RunContext, frac: number, elapsed: number): string;
  evalDone(ctx: RunContext, e: EvalRecord): Beat[];
  /** Where the checkpoint of `step` goes, named the framework's way. */
  checkpointDir(ctx: RunContext, step: number): string;
  checkpointStart(ctx: RunContext, dir: string): Beat[];
  checkpointDone(ctx: RunContext, c: CheckpointRecord, dir: string): Beat[];
  /**
   * Something besides a step: fp16 overflow, loss spike, straggler, fault, restart. Most
   * frameworks print nothing for a spike or a straggler (the numbers show it); a restart
   * prints the relaunch and the checkpoint reload.
   */
  event(ctx: RunContext, e: RunEvent): Beat[];
  /** A fault with no restart left: the launcher gives up (torchrun's ChildFailedError). */
  jobFailed(ctx: RunContext): Beat[];
  /** The first step of a configuration that does not fit runs out of memory. */
  oom(ctx: RunContext, o: OutOfMemory): Beat[];
  /** Print a catalogued warning (placeholders already filled). */
  warning(ctx: RunContext, w: WarningSpec, lines: string[]): string;
  windowEnd(ctx: RunContext): Beat[];
  trainEnd(ctx: RunContext): Beat[];
  exportStart(ctx: RunContext, plan: ShardPlan): Beat[];
  exportFile(ctx: RunContext, name: string, bytes: number): string;
  exportDone(ctx: RunContext, plan: ShardPlan): Beat[];
  summary(ctx: RunContext): string[];
}
