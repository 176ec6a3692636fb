/**
 * What a phase gets: the screen, the clock, the run (hidden config, physics, simulator) and the
 * dialect that formats it. Phases never touch the Deno global.
 */
import type { Clock } from "../core/clock.ts";
import { Rng } from "../core/rng.ts";
import type { Dialect } from "../dialects/dialect.ts";
import { hostName } from "../engine/cluster.ts";
import { type ClusterRates, clusterRates } from "../engine/events.ts";
import type { CheckpointRecord, EvalRecord, Physics, RunSim, StepRecord } from "../engine/run.ts";
import type { HiddenConfig } from "../engine/types.ts";
import type { Screen } from "../term/screen.ts";
import type { LiveRegion } from "./live.ts";

/** Running totals a run keeps for its summary. */
export interface RunTotals {
  /** Simulated time the run started (epoch ms). */
  startMs: number;
  /** Time spent in training steps (ms). */
  trainMs: number;
  stepsRun: number;
  tokensRun: number;
  firstLoss: number | null;
  lastLoss: number | null;
  lastVal: number | null;
  lastPerplexity: number | null;
  /** Sum of tokens/s/GPU and MFU over steps (for averages). */
  tpsSum: number;
  mfuSum: number;
  checkpoints: number;
  lastCheckpoint: string | null;
  exportDir: string | null;
  /** Restarts after faults, and the completed steps they threw away. */
  restarts: number;
  lostSteps: number;
  /** How the run ended. */
  outcome: "completed" | "window" | "early-stopped" | "stopped" | "oom" | "failed" | "running";
}

/**
 * Keeps a run on disk as it goes (`llm-sim train`): progress, evaluations and checkpoints, and
 * whether someone asked the run to stop. The show has none.
 */
export interface Recorder {
  /** The run is about to start (after the dialect's first lines). */
  start(ctx: RunContext): void;
  /** After every optimizer step. */
  step(ctx: RunContext, r: StepRecord): void;
  eval(ctx: RunContext, e: EvalRecord): void;
  /** A checkpoint of the current step was written to `dir`. */
  checkpoint(ctx: RunContext, dir: string, rec: CheckpointRecord): void;
  /** Polled after every step: finish this one, save, and end the run as stopped. */
  stopRequested(): boolean;
  /** The run ended (`ctx.totals.outcome` says how). */
  end(ctx: RunContext): void;
}

export interface RunContext {
  screen: Screen;
  clock: Clock;
  cfg: HiddenConfig;
  physics: Physics;
  sim: RunSim;
  dialect: Dialect;
  /** 1-based index of this run in the show. */
  runIndex: number;
  /** Minutes east of UTC for printed local times. */
  tz: number;
  /** Presentation-independent random stream for the run's events (warnings, timing details). */
  events: Rng;
  totals: RunTotals;
  /** Fault and straggler rates of this cluster (tests raise them to exercise restarts). */
  rates: ClusterRates;
  /** The live region while training runs (null before). */
  live: LiveRegion | null;
  /** Command that replays this run (its seed and the user's flags). */
  replay: string;
  /** Host name of node `i`. */
  host(node: number): string;
  /** Keeps the run on disk (`llm-sim train`); null in the show. */
  recorder: Recorder | null;
}

export function createRunContext(opts: {
  screen: Screen;
  clock: Clock;
  cfg: HiddenConfig;
  physics: Physics;
  sim: RunSim;
  dialect: Dialect;
  runIndex: number;
  tz: number;
  replay: string;
  /** A flaky cluster (`--chaos`). */
  chaos?: boolean;
  recorder?: Recorder | null;
}): RunContext {
  const { cfg } = opts;
  return {
    ...opts,
    recorder: opts.recorder ?? null,
    events: new Rng(cfg.seed).fork("events"),
    rates: clusterRates(cfg, opts.chaos ?? false),
    live: null,
    totals: {
      startMs: opts.clock.now(),
      trainMs: 0,
      stepsRun: 0,
      tokensRun: 0,
      firstLoss: null,
      lastLoss: null,
      lastVal: null,
      lastPerplexity: null,
      tpsSum: 0,
      mfuSum: 0,
      checkpoints: 0,
      lastCheckpoint: null,
      exportDir: null,
      restarts: 0,
      lostSteps: 0,
      outcome: "running",
    },
    host: (node: number) => hostName(cfg.site.hostPrefix, node, cfg.nodes),
  };
}

/**
 * A line (or lines) to print after a pause. Text that carries a timestamp is a function, so
 * the time printed is the time it appears.
 */
export interface Beat {
  /** Simulated ms to wait before printing. */
  wait: number;
  text: string | (() => string);
}

/** Print text unless a dialect chose to stay silent (an empty string). */
export function say(ctx: RunContext, text: string): void {
  if (text.length > 0) ctx.screen.log(text);
}

/** Play beats: wait, then print. */
export async function play(ctx: RunContext, beats: readonly Beat[]): Promise<void> {
  for (const b of beats) {
    if (b.wait > 0) await ctx.clock.sleep(b.wait);
    const text = typeof b.text === "function" ? b.text() : b.text;
    say(ctx, text);
  }
}
