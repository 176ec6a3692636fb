/**
 * The show: runs after runs, each through the phases in order, until an exit condition. Every
 * pause goes through the clock, which throws `Interrupted` once the show is aborted (Ctrl-C,
 * `--exit-after-time`, a closed pipe), so the show stops cleanly wherever it is.
 */
import type { Dialect } from "../dialects/dialect.ts";
import { derivePhysics, RunSim } from "../engine/run.ts";
import {
  buildScenario,
  type Infeasible,
  isInfeasible,
  type Scenario,
  type ScenarioRequest,
} from "../engine/scenario.ts";
import { createRunContext } from "../phases/context.ts";
import { PHASES } from "../phases/mod.ts";
import type { Screen } from "../term/screen.ts";
import { type Clock, Interrupted } from "./clock.ts";
import { hash32 } from "./rng.ts";

export interface ShowOptions {
  seed: number;
  /** Stop after this many runs (null: forever). */
  exitAfterRuns: number | null;
  /** Minutes east of UTC for printed local times. */
  tz: number;
  /** What the user fixed (model, GPU, count, precision …). */
  request: Omit<ScenarioRequest, "seed">;
  /** Flags to repeat in each run's replay command (besides the seed). */
  replayFlags: string;
  dialect: (scenario: Scenario) => Dialect;
  /** A flaky cluster: faults and stragglers every few minutes (`--chaos`). */
  chaos?: boolean;
}

export interface ShowResult {
  runs: number;
  interrupted: boolean;
}

/** Seed of the run after the one with seed `seed`. */
export function nextSeed(seed: number): number {
  return hash32(seed, "next-run");
}

/**
 * The scenario for a seed. When the user left something open and the draw cannot run
 * (say a random 405B model on a fixed 8 GPUs), draw again from the next seed; when the user
 * fixed everything that failed, report it.
 */
export function scenarioFor(
  seed: number,
  request: Omit<ScenarioRequest, "seed">,
): { scenario: Scenario; seed: number } | Infeasible {
  let s = seed;
  let first: Infeasible | null = null;
  for (let attempt = 0; attempt < 50; attempt++) {
    const sc = buildScenario({ ...request, seed: s });
    if (!isInfeasible(sc)) return { scenario: sc, seed: s };
    first ??= sc;
    s = nextSeed(s);
  }
  return first as Infeasible;
}

export async function runShow(
  opts: ShowOptions,
  io: { screen: Screen; clock: Clock },
): Promise<ShowResult> {
  let seed = opts.seed >>> 0;
  let runs = 0;
  try {
    for (;;) {
      const found = scenarioFor(seed, opts.request);
      if ("reason" in found) throw new InfeasibleError(found, runs);
      const { scenario } = found;
      seed = found.seed;
      const cfg = scenario.config;
      const physics = derivePhysics(cfg, scenario.candidate);
      const ctx = createRunContext({
        screen: io.screen,
        clock: io.clock,
        cfg,
        physics,
        sim: new RunSim(cfg, physics),
        dialect: opts.dialect(scenario),
        runIndex: runs + 1,
        tz: opts.tz,
        replay: `llm-sim --seed ${cfg.seed}${opts.replayFlags} --exit-after-runs 1`,
        chaos: opts.chaos ?? false,
      });
      const last = opts.exitAfterRuns !== null && runs + 1 >= opts.exitAfterRuns;
      for (const phase of PHASES) {
        if (last && phase.name === "transition") break;
        await phase.run(ctx);
      }
      runs++;
      if (last) return { runs, interrupted: false };
      seed = nextSeed(seed);
    }
  } catch (e) {
    if (e instanceof Interrupted) return { runs, interrupted: true };
    throw e;
  }
}

/** The user's fixed choices cannot run. */
export class InfeasibleError extends Error {
  readonly infeasible: Infeasible;
  /** Runs played before this one could not be made (0: the show refused before playing). */
  readonly afterRuns: number;
  constructor(inf: Infeasible, afterRuns = 0) {
    super(inf.reason);
    this.name = "InfeasibleError";
    this.infeasible = inf;
    this.afterRuns = afterRuns;
  }
}
