/**
 * Every style plays whole runs (fresh, resumed, fine-tune, flaky cluster, out of memory)
 * without a hole in its text: no undefined, NaN, Infinity or [object …], and no escape byte
 * on a colourless terminal.
 */
import assert from "node:assert/strict";
import { VirtualClock } from "../../lib/core/clock.ts";
import { runShow } from "../../lib/core/scheduler.ts";
import { dialectFor, STYLE_FRAMEWORK, STYLES } from "../../lib/dialects/mod.ts";
import type { ScenarioRequest } from "../../lib/engine/scenario.ts";
import { MemoryTerminal } from "../../lib/term/memory_terminal.ts";
import { Screen } from "../../lib/term/screen.ts";
import { findGpu, findModel } from "../../lib/cli/catalog.ts";
import { START } from "./_harness.ts";

async function show(seed: number, request: Omit<ScenarioRequest, "seed">, chaos = false) {
  const term = new MemoryTerminal({ columns: 120, color: false, live: false });
  const result = await runShow({
    seed,
    exitAfterRuns: 1,
    tz: 0,
    request,
    replayFlags: "",
    chaos,
    dialect: (s) => dialectFor(s.config.framework),
  }, { screen: new Screen(term), clock: new VirtualClock(START) });
  assert.deepEqual(result, { runs: 1, interrupted: false });
  return term.text;
}

function assertClean(text: string, what: string): void {
  for (const bad of ["undefined", "NaN", "[object ", "Infinity"]) {
    const at = text.indexOf(bad);
    assert.equal(at, -1, `${what}: "${bad}" in …${text.slice(Math.max(0, at - 80), at + 40)}…`);
  }
  assert.equal(text.includes("\x1b"), false, `${what}: an escape byte without colour`);
  assert.ok(text.split("\n").length > 20, `${what}: a whole run prints more than 20 lines`);
}

for (const style of STYLES) {
  const framework = STYLE_FRAMEWORK[style];
  Deno.test(`--style ${style}: fresh, resumed and flaky runs print no holes`, async () => {
    for (let seed = 1; seed <= 20; seed++) {
      assertClean(await show(seed, { framework }), `seed ${seed}`);
    }
    assertClean(await show(7, { framework, fresh: true }), "fresh");
    for (const seed of [8, 9, 10]) {
      assertClean(await show(seed, { framework }, true), `chaos ${seed}`);
    }
  });
}

Deno.test("a fixed configuration that cannot fit ends in an out-of-memory error in every style", async () => {
  for (const style of STYLES) {
    if (style === "nanogpt") continue; // nanoGPT trains GPT-2 shapes only
    const framework = STYLE_FRAMEWORK[style];
    const model = findModel("llama-3.1-70b")!.model;
    const text = await show(1, { framework, model, gpus: 8, gpu: findGpu("a100-80gb")! });
    assertClean(text, style);
    assert.match(text, /OutOfMemoryError: CUDA out of memory/, style);
  }
});
