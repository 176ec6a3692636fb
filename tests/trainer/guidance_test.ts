/** Start-up advice comes from the engine, and what it suggests is true when tried. */
import assert from "node:assert/strict";
import { guidance } from "../../lib/trainer/guidance.ts";
import { mergeConfig } from "../../lib/trainer/config.ts";
import { resolveDevice } from "../../lib/trainer/device.ts";
import { trainScenario } from "../../lib/trainer/session.ts";
import type { TrainConfig } from "../../lib/trainer/types.ts";
import type { Scenario } from "../../lib/engine/scenario.ts";

function run(over: Partial<TrainConfig>): Scenario {
  const c = mergeConfig(over);
  const { device, precision } = resolveDevice(c);
  const s = trainScenario(c, device, precision, { checkpointDir: "c", pid: 1 });
  if ("reason" in s) throw new Error(s.reason);
  return s;
}

/** The flags a hint suggests, applied to the config it was given for. */
function tryHint(over: Partial<TrainConfig>, hint: string): Scenario {
  const bs = /--batch-size (\d+)/.exec(hint), ga = /--grad-accum (\d+)/.exec(hint);
  assert.ok(bs && ga, hint);
  return run({ ...over, batchSize: Number(bs[1]), gradAccum: Number(ga[1]) });
}

Deno.test("guidance(): a micro-batch that does not fit gets one that does, at the same global batch", () => {
  const over = { model: "gpt2-medium", batchSize: 32, gradAccum: 1 };
  const s = run(over);
  assert.equal(s.fits, false);
  const [hint] = guidance(s, 4);
  assert.match(
    hint!,
    /^does not fit: [\d.]+ GiB of 23\.5 GiB per GPU; --batch-size \d+ --grad-accum \d+ keeps the batch of 32 and fits/,
  );
  const fixed = tryHint(over, hint!);
  assert.equal(fixed.fits, true);
  assert.equal(fixed.config.globalBatch, 32);
  const hopeless = run({ model: "llama-3.1-8b", batchSize: 1, gradAccum: 8 });
  assert.match(guidance(hopeless, 4)[0]!, /even one sample at a time/);
});

Deno.test("guidance(): idle GPU memory gets a larger micro-batch, and the promised speed-up holds", () => {
  const over = { batchSize: 1, gradAccum: 32 };
  const s = run(over);
  const hint = guidance(s, 4).find((h) => h.includes("memory in use"));
  assert.ok(hint, guidance(s, 4).join("; "));
  const faster = tryHint(over, hint);
  const promised = Number(/trains (\d+) % faster/.exec(hint)![1]);
  const gain = 100 * (s.candidate.perf.stepSeconds / faster.candidate.perf.stepSeconds - 1);
  assert.ok(Math.abs(gain - promised) <= 0.5, `${gain} vs ${promised}`);
  assert.deepEqual(guidance(run({}), 4), [], "the defaults need no advice");
});

Deno.test("guidance(): a starving data loader gets enough workers to keep up", () => {
  const s = run({ workers: 0 });
  const hint = guidance(s, 0).find((h) => h.includes("input pipeline"));
  assert.ok(hint);
  const workers = Number(/--workers (\d+)/.exec(hint)![1]);
  assert.deepEqual(guidance(run({ workers }), workers).filter((h) => h.includes("input")), []);
});
