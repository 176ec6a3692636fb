/** Learning-rate schedules and the size → peak LR table (REALISM 0.1, 3.5). */
import assert from "node:assert/strict";
import { extendSchedule, learningRate, peakLrForSize } from "../../lib/engine/schedule.ts";
import type { LrSchedule } from "../../lib/engine/types.ts";

/** Megatron's `{:.6E}` (Python pads the exponent to two digits). */
function formatE(x: number): string {
  return x.toExponential(6).toUpperCase().replace(/E([+-])(\d)$/, "E$10$2");
}

const megatron: LrSchedule = {
  peak: 1.5e-4,
  min: 1.5e-5,
  warmupSteps: 500,
  totalSteps: 250_000,
  decay: "cosine",
  decaySteps: 0,
};

Deno.test("learningRate() warms up linearly from 0 to the peak", () => {
  assert.equal(learningRate(megatron, 0), 0);
  for (const step of [1, 2, 100, 250, 499, 500]) {
    const expected = (1.5e-4 * step) / 500;
    assert.ok(Math.abs(learningRate(megatron, step) - expected) <= 1e-18, `step ${step}`);
  }
  assert.equal(learningRate(megatron, 500), 1.5e-4);
  // equal increments: linear
  const d1 = learningRate(megatron, 101) - learningRate(megatron, 100);
  const d2 = learningRate(megatron, 401) - learningRate(megatron, 400);
  assert.ok(Math.abs(d1 - d2) <= 1e-18);
});

Deno.test("learningRate() cosine starts at the peak, halves midway and ends at the minimum", () => {
  const s = megatron;
  assert.equal(learningRate(s, s.warmupSteps), s.peak);
  const mid = s.warmupSteps + (s.totalSteps - s.warmupSteps) / 2;
  assert.ok(Math.abs(learningRate(s, mid) - (s.peak + s.min) / 2) <= 1e-15);
  assert.equal(learningRate(s, s.totalSteps), s.min);
  assert.equal(learningRate(s, s.totalSteps + 10_000), s.min);
  let prev = Infinity;
  for (let step = s.warmupSteps; step <= s.totalSteps; step += 997) {
    const lr = learningRate(s, step);
    assert.ok(lr <= prev, `non-increasing at ${step}`);
    assert.ok(lr >= s.min && lr <= s.peak);
    prev = lr;
  }
});

Deno.test("learningRate() reproduces the Megatron line of REALISM 0.1 (1.499987E-04 at 1000)", () => {
  const lr = learningRate(megatron, 1000);
  assert.equal(formatE(lr), "1.499987E-04");
  assert.ok(Math.abs(lr - 1.499987e-4) <= 1e-10, `${lr}`);
});

Deno.test("learningRate() linear decay falls in equal steps to the minimum", () => {
  const s: LrSchedule = { ...megatron, decay: "linear", warmupSteps: 100, totalSteps: 1100 };
  assert.equal(learningRate(s, 100), s.peak);
  assert.ok(Math.abs(learningRate(s, 600) - (s.peak + s.min) / 2) <= 1e-18);
  assert.equal(learningRate(s, 1100), s.min);
  const d1 = learningRate(s, 200) - learningRate(s, 201);
  const d2 = learningRate(s, 900) - learningRate(s, 901);
  assert.ok(d1 > 0 && Math.abs(d1 - d2) <= 1e-18);
});

Deno.test("learningRate() WSD holds the peak, then decays only in the last decaySteps", () => {
  const s: LrSchedule = {
    peak: 3e-4,
    min: 3e-5,
    warmupSteps: 200,
    totalSteps: 10_000,
    decay: "wsd",
    decaySteps: 1_500,
  };
  assert.equal(learningRate(s, 100), 1.5e-4);
  for (const step of [200, 201, 5_000, 8_499, 8_500]) {
    assert.equal(learningRate(s, step), s.peak, `flat at ${step}`);
  }
  let prev = s.peak;
  for (let step = 8_501; step <= 10_000; step += 7) {
    const lr = learningRate(s, step);
    assert.ok(lr < prev, `decaying at ${step}`);
    prev = lr;
  }
  assert.ok(Math.abs(learningRate(s, 9_250) - (s.peak + s.min) / 2) <= 1e-18);
  assert.equal(learningRate(s, 10_000), s.min);
});

Deno.test("peakLrForSize() hits the GPT-3 Table 2.1 points", () => {
  const table: [number, number][] = [
    [125e6, 6e-4],
    [350e6, 3e-4],
    [760e6, 2.5e-4],
    [1.3e9, 2e-4],
    [2.7e9, 1.6e-4],
    [6.7e9, 1.2e-4],
    [13e9, 1e-4],
    [175e9, 0.6e-4],
  ];
  for (const [n, lr] of table) {
    assert.ok(Math.abs(peakLrForSize(n) - lr) <= lr * 1e-12, `${n}: ${peakLrForSize(n)}`);
  }
  assert.equal(peakLrForSize(10e6), 6e-4, "clamped below 125M");
  assert.equal(peakLrForSize(1e12), 0.6e-4, "clamped above 175B");
});

Deno.test("peakLrForSize() decreases monotonically with size", () => {
  let prev = Infinity;
  for (let e = 7; e <= 12.5; e += 0.01) {
    const lr = peakLrForSize(10 ** e);
    const inTable = 10 ** e > 125e6 && 10 ** e < 175e9;
    if (inTable) assert.ok(lr < prev, `strictly decreasing at 1e${e.toFixed(2)}: ${lr} ≥ ${prev}`);
    else assert.ok(lr <= prev, `non-increasing at 1e${e.toFixed(2)}`);
    prev = lr;
  }
  // between two table points, log-linear: 1e9 lies between 760M (2.5e-4) and 1.3B (2e-4)
  const lr = peakLrForSize(1e9);
  assert.ok(lr < 2.5e-4 && lr > 2e-4, `${lr}`);
});

Deno.test("learningRate() after an extension decays on from where it stood, without a jump", () => {
  for (const decay of ["cosine", "linear", "wsd"] as const) {
    const planned = {
      ...megatron,
      totalSteps: 1_000,
      decay,
      decaySteps: decay === "wsd" ? 200 : 0,
    };
    const at = 700;
    const lr = learningRate(planned, at);
    const extended = {
      ...planned,
      totalSteps: 2_000,
      extendedAt: { step: at, lr, before: planned },
    };
    for (let step = 1; step <= at; step++) {
      assert.equal(learningRate(extended, step), learningRate(planned, step), `${decay} ${step}`);
    }
    const next = learningRate(extended, at + 1);
    assert.ok(next <= lr && lr - next < (lr - planned.min) / 500, `${decay}: no jump at ${at}`);
    let prev = lr;
    for (let step = at + 1; step <= 2_000; step++) {
      const v = learningRate(extended, step);
      assert.ok(v <= prev + 1e-18, `${decay}: never rises (${step})`);
      prev = v;
    }
    assert.equal(learningRate(extended, 2_000), planned.min);
  }
});

Deno.test("extendSchedule() chains: a second extension keeps the first one's rates up to it", () => {
  const planned = { ...megatron, totalSteps: 1_000 };
  const once = extendSchedule(planned, 700, 1_500);
  const twice = extendSchedule(once, 1_400, 2_500);
  for (let step = 1; step <= 1_400; step += 7) {
    assert.equal(learningRate(twice, step), learningRate(once, step), `step ${step}`);
  }
  assert.ok(learningRate(twice, 1_401) < learningRate(twice, 1_400));
  assert.equal(learningRate(twice, 2_500), planned.min);
  // extending a finished run, which stood at its minimum, stays at the minimum
  const done = extendSchedule(planned, 1_000, 1_500);
  assert.equal(learningRate(done, 1_200), planned.min);
});
