/**
 * The show, byte for byte: three seeds (a fine-tune, a fresh pretraining start, a resumed
 * window) at 80 and 132 columns, instant, colour off, through the same scheduler and dialect
 * choice main.ts uses.
 */
import assert from "node:assert/strict";
import { VirtualClock } from "../lib/core/clock.ts";
import { runShow } from "../lib/core/scheduler.ts";
import { dialectFor } from "../lib/dialects/mod.ts";
import { stripAnsi } from "../lib/term/ansi.ts";
import { MemoryTerminal } from "../lib/term/memory_terminal.ts";
import { Screen } from "../lib/term/screen.ts";
import { assertGolden, GOLDEN_SEEDS, GOLDEN_START, GOLDEN_WIDTHS } from "./_golden.ts";

/** One run of the show for a seed at a width, as text. */
export async function showText(seed: number, columns: number): Promise<string> {
  const term = new MemoryTerminal({ columns, color: false, live: false });
  const result = await runShow({
    seed,
    exitAfterRuns: 1,
    tz: 0,
    request: {},
    replayFlags: "",
    dialect: (s) => dialectFor(s.config.framework),
  }, { screen: new Screen(term), clock: new VirtualClock(Date.parse(GOLDEN_START)) });
  assert.deepEqual(result, { runs: 1, interrupted: false });
  return term.text;
}

for (const seed of GOLDEN_SEEDS) {
  for (const columns of GOLDEN_WIDTHS) {
    Deno.test(`runShow() plays seed ${seed} at ${columns} columns byte for byte`, async () => {
      const text = await showText(seed, columns);
      assert.equal(text.includes("\x1b"), false, "colour off means no escape bytes");
      for (const line of text.split("\n")) {
        assert.ok(stripAnsi(line).length <= columns, `wider than ${columns}: ${line}`);
      }
      await assertGolden(`show-seed${seed}-w${columns}.txt`, text);
    });
  }
}

Deno.test("runShow() is deterministic: the same seed plays the same text twice", async () => {
  assert.equal(
    await showText(GOLDEN_SEEDS[0] as number, 80),
    await showText(GOLDEN_SEEDS[0] as number, 80),
  );
});
