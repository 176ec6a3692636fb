/**
 * The show, byte for byte: three seeds (a fine-tune, a fresh pretraining start, a resumed
 * window) at 80 and 132 columns, instant, colour off, through the same scheduler and dialect
 * choice main.ts uses.
 */
import assert from "node:assert/strict";
import { stripAnsi } from "../lib/term/ansi.ts";
import { assertGolden, GOLDEN_SEEDS, GOLDEN_WIDTHS } from "./_golden.ts";
import { expectedShow } from "./_show.ts";

for (const seed of GOLDEN_SEEDS) {
  for (const columns of GOLDEN_WIDTHS) {
    Deno.test(`runShow() plays seed ${seed} at ${columns} columns byte for byte`, async () => {
      const text = await expectedShow(seed, columns);
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
    await expectedShow(GOLDEN_SEEDS[0] as number, 80),
    await expectedShow(GOLDEN_SEEDS[0] as number, 80),
  );
});
