/**
 * Plays one run of the show with a given dialect (instant, virtual clock, colour off) and
 * records every log window the dialect formatted, so parser tests can compare the numbers a
 * regex recovers from the text with the engine's.
 */
import { VirtualClock } from "../../lib/core/clock.ts";
import { runShow } from "../../lib/core/scheduler.ts";
import type { Dialect, LogWindow } from "../../lib/dialects/dialect.ts";
import type { ScenarioRequest } from "../../lib/engine/scenario.ts";
import type { HiddenConfig } from "../../lib/engine/types.ts";
import { MemoryTerminal } from "../../lib/term/memory_terminal.ts";
import { Screen } from "../../lib/term/screen.ts";

export interface Played {
  text: string;
  /** Log windows in the order their lines were printed. */
  windows: LogWindow[];
  /** The step lines the dialect returned, one per window. */
  stepLines: string[];
  cfg: HiddenConfig;
}

export const START = Date.parse("2026-11-26T09:00:00Z");

export async function play(
  make: () => Dialect,
  request: Omit<ScenarioRequest, "seed">,
  seed: number,
  opts: { columns?: number; wrap?: boolean; chaos?: boolean } = {},
): Promise<Played> {
  const term = new MemoryTerminal({ columns: opts.columns ?? 400, color: false, live: false });
  const windows: LogWindow[] = [];
  const stepLines: string[] = [];
  let cfg: HiddenConfig | null = null;
  await runShow({
    seed,
    exitAfterRuns: 1,
    tz: 0,
    request,
    replayFlags: "",
    chaos: opts.chaos ?? false,
    dialect: () => {
      const d = make();
      const stepLog = d.stepLog.bind(d);
      d.stepLog = (ctx, w) => {
        cfg = ctx.cfg;
        windows.push(w);
        const line = stepLog(ctx, w);
        stepLines.push(line);
        return line;
      };
      return d;
    },
  }, {
    screen: new Screen(term, { wrap: opts.wrap ?? false }),
    clock: new VirtualClock(START),
  });
  if (!cfg) throw new Error(`seed ${seed} printed no step line`);
  return { text: term.text, windows, stepLines, cfg };
}

/** Relative closeness for numbers parsed back from text printed with `digits` decimals. */
export function near(parsed: number, actual: number, digits: number): boolean {
  return Math.abs(parsed - actual) <= 0.5 * 10 ** -digits + 1e-12 * Math.abs(actual);
}

/** Clock times a dialect instance sees: each step's end, and when chosen methods ran. */
export interface StepClock {
  /** [step, clock at the end of the step, the step's ms], every step in order. */
  steps: [number, number, number][];
  /** Clock when the run started (the job's launch). */
  startMs: number;
  /** Clock when the window ended (after the last step's validation and save). */
  windowEndMs: number;
}

/**
 * Record the clock at every step (through the optional per-step hook, which prints nothing
 * here), at launch and at the end of a window.
 */
export function watchClock<D extends Dialect>(d: D, into: StepClock): D {
  d.stepRecord = (ctx, r) => {
    into.steps.push([r.step, ctx.clock.now(), r.stepMs]);
    return "";
  };
  const launch = d.launch.bind(d);
  d.launch = (ctx) => {
    into.startMs = ctx.totals.startMs;
    return launch(ctx);
  };
  const windowEnd = d.windowEnd.bind(d);
  d.windowEnd = (ctx) => {
    into.windowEndMs = ctx.clock.now();
    return windowEnd(ctx);
  };
  return d;
}
