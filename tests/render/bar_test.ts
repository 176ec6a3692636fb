import assert from "node:assert/strict";
import fc from "fast-check";
import { asciiBar, blockBar, formatRate, type MeterState, tqdmLine } from "../../lib/render/bar.ts";

const EPOCH: MeterState = { desc: "Epoch 1/3", n: 40, total: 1095, elapsed: 3, rate: 10.84 };

Deno.test("blockBar() is always exactly `width` cells", () => {
  fc.assert(
    fc.property(fc.double({ min: -1, max: 2, noNaN: true }), fc.nat({ max: 200 }), (f, w) => {
      assert.equal(blockBar(f, w).length, w);
    }),
  );
});

Deno.test("blockBar() fills with full blocks and one eighth block", () => {
  assert.equal(blockBar(0, 10), " ".repeat(10));
  assert.equal(blockBar(1, 10), "█".repeat(10));
  assert.equal(blockBar(0.5, 10), "█████     ");
  assert.equal(blockBar(0.05, 10), "▌         ");
  assert.equal(blockBar(1 / 80, 10), "▏         ");
  assert.equal(blockBar(0.99, 10), "█████████▉");
  assert.equal(blockBar(0.3, 0), "");
});

Deno.test("blockBar() shows every eighth of a cell", () => {
  const eighths = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"];
  for (let k = 0; k <= 8; k++) assert.equal(blockBar(k / 8, 1), eighths[k], `${k}/8`);
});

Deno.test("blockBar() clamps the fraction to [0, 1]", () => {
  assert.equal(blockBar(-1, 4), "    ");
  assert.equal(blockBar(2, 4), "████");
});

Deno.test("formatRate() prints it/s, and s/it below one iteration a second", () => {
  assert.equal(formatRate(10.84), "10.84it/s");
  assert.equal(formatRate(123.456), "123.46it/s");
  assert.equal(formatRate(1), " 1.00it/s");
  assert.equal(formatRate(0.25), " 4.00s/it");
  assert.equal(formatRate(0.5), " 2.00s/it");
  assert.equal(formatRate(0.05), "20.00s/it");
  assert.equal(formatRate(0.5, "it", true), " 0.50it/s");
  assert.equal(formatRate(3, "tok"), " 3.00tok/s");
  assert.equal(formatRate(0.5, "step"), " 2.00s/step");
});

Deno.test("formatRate() prints ? for an unknown rate", () => {
  assert.equal(formatRate(0), "?it/s");
  assert.equal(formatRate(NaN), "?it/s");
  assert.equal(formatRate(-1, "step"), "?step/s");
});

Deno.test("tqdmLine() prints tqdm's default meter at 80 columns", () => {
  assert.equal(
    tqdmLine(EPOCH, 80),
    "Epoch 1/3:   4%|█                             | 40/1095 [00:03<01:37, 10.84it/s]",
  );
});

Deno.test("tqdmLine() lets the bar take the width left over", () => {
  assert.equal(
    tqdmLine(EPOCH, 63),
    "Epoch 1/3:   4%|▍            | 40/1095 [00:03<01:37, 10.84it/s]",
  );
  assert.equal(
    tqdmLine(EPOCH, 120),
    `Epoch 1/3:   4%|██▌${" ".repeat(67)}| 40/1095 [00:03<01:37, 10.84it/s]`,
  );
});

Deno.test("tqdmLine() caps the bar at 100 cells", () => {
  const line = tqdmLine(EPOCH, 300);
  assert.equal(
    line.length,
    "Epoch 1/3:   4%|".length + 100 + "| 40/1095 [00:03<01:37, 10.84it/s]".length,
  );
});

Deno.test("tqdmLine() switches to s/it below one iteration a second", () => {
  assert.equal(
    tqdmLine({ desc: "", n: 3, total: 10, elapsed: 125, rate: 0.25 }, 80),
    " 30%|█████████████▏                              | 3/10 [02:05<00:28,  4.00s/it]",
  );
});

Deno.test("tqdmLine() prints ? for an unknown rate, postfix and grouped counts", () => {
  assert.equal(
    tqdmLine(
      {
        desc: "x",
        n: 1234,
        total: 100000,
        elapsed: 5,
        rate: 0,
        commas: true,
        postfix: "loss=2.31",
      },
      100,
    ),
    "x:   1%|▌                                                | 1,234/100,000 [00:05<?, ?it/s, loss=2.31]",
  );
});

Deno.test("tqdmLine() keeps it/s for Lightning-style bars", () => {
  assert.equal(
    tqdmLine(
      {
        desc: "Training",
        n: 50,
        total: 100,
        elapsed: 5,
        rate: 0.5,
        rateNoInverse: true,
        unit: "step",
      },
      100,
    ),
    "Training:  50%|█████████████████████████                         | 50/100 [00:05<01:40,  0.50step/s]",
  );
});

Deno.test("tqdmLine() cuts the text when the bar does not fit", () => {
  assert.equal(tqdmLine(EPOCH, 40), "Epoch 1/3:   4%|| 40/1095 [00:03<01:37, ");
  assert.equal(tqdmLine(EPOCH, 20), "Epoch 1/3:   4%|| 40");
});

Deno.test("tqdmLine() is never wider than the width", () => {
  const meter = fc.record({
    desc: fc.string({ maxLength: 40 }),
    n: fc.nat({ max: 1e7 }),
    total: fc.nat({ max: 1e7 }),
    elapsed: fc.double({ min: 0, max: 1e6, noNaN: true }),
    rate: fc.double({ min: 0, max: 1e5, noNaN: true }),
    postfix: fc.string({ maxLength: 60 }),
    commas: fc.boolean(),
    rateNoInverse: fc.boolean(),
  });
  fc.assert(
    fc.property(meter, fc.integer({ min: 20, max: 400 }), (m, width) => {
      const line = tqdmLine({ ...m, n: Math.min(m.n, m.total) }, width);
      assert.ok(line.length <= width, `${line.length} > ${width}: ${line}`);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("asciiBar() fills a bracketed bar", () => {
  assert.equal(asciiBar(0, 10), "[          ]");
  assert.equal(asciiBar(0.5, 10), "[====>     ]");
  assert.equal(asciiBar(1, 10), "[=========>]");
});
