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
  opts: { columns?: number; wrap?: boolean } = {},
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
