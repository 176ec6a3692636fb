/** The show's text for a seed at a width, as the golden tests make it (instant, colour off). */
import { VirtualClock } from "../lib/core/clock.ts";
import { runShow } from "../lib/core/scheduler.ts";
import { dialectFor } from "../lib/dialects/mod.ts";
import { MemoryTerminal } from "../lib/term/memory_terminal.ts";
import { Screen } from "../lib/term/screen.ts";
import { GOLDEN_START } from "./_golden.ts";

/** One run of the show for `seed` at `columns`, started at GOLDEN_START, UTC. */
export async function expectedShow(seed: number, columns: number): Promise<string> {
  const term = new MemoryTerminal({ columns, color: false, live: false });
  const result = await runShow({
    seed,
    exitAfterRuns: 1,
    tz: 0,
    request: {},
    replayFlags: "",
    dialect: (s) => dialectFor(s.config.framework),
  }, { screen: new Screen(term), clock: new VirtualClock(Date.parse(GOLDEN_START)) });
  if (result.runs !== 1 || result.interrupted) {
    throw new Error(`seed ${seed}: ${JSON.stringify(result)}`);
  }
  return term.text;
}
