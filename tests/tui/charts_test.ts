import assert from "node:assert/strict";
import fc from "fast-check";
import { heat, ScreenBuffer, STYLE } from "../../lib/tui/buffer.ts";
import {
  compactNumber,
  heatmap,
  lineChart,
  type LineChartOptions,
  progressBar,
  type Series,
  sparkline,
} from "../../lib/tui/charts.ts";

const LOSS = [10.8, 8.1, 6.2, 4.9, 4.1, 3.6, 3.3, 3.1, 3.0, 2.9, 2.85, 2.8];

function chart(w: number, h: number, series: Series[], opts: LineChartOptions = {}): string[] {
  const b = new ScreenBuffer(w, h);
  lineChart(b, 0, 0, w, h, series, opts);
  return b.lines();
}

Deno.test("lineChart() draws a falling loss curve in braille with y ticks and an x axis", () => {
  const b = new ScreenBuffer(20, 6);
  lineChart(b, 0, 0, 20, 6, [{ values: LOSS, style: STYLE.cyan }]);
  assert.deepEqual(b.lines(), [
    "10.8┤⢳⡀",
    " 8.1┤ ⠳⡄",
    " 5.5┤  ⠙⢦⣀",
    " 2.8┤    ⠈⠓⠲⠤⠤⢤⣀⣀⣀⣀⣀",
    "    └───────────────",
    "     0            11",
  ]);
  assert.equal(b.styleAt(5, 0), STYLE.cyan);
  assert.equal(b.styleAt(4, 0), STYLE.dim);
  assert.equal(b.styleAt(0, 0), STYLE.dim);
  assert.equal(b.styleAt(6, 1), STYLE.cyan);
});

Deno.test("lineChart() overlays series: union of dots, the later series' style on top", () => {
  const b = new ScreenBuffer(14, 6);
  const up: Series = { values: [0, 1, 2, 3], style: STYLE.red };
  const down: Series = { values: [3, 2, 1, 0], style: STYLE.green };
  lineChart(b, 0, 0, 14, 6, [up, down], {
    yLabel: "loss (train/val)",
    xLabel: "step",
    xRange: [0, 3000],
  });
  assert.deepEqual(b.lines(), [
    "loss (train/v…",
    "3.0┤⠙⠲⣄⡀  ⢀⣠⠖⠋",
    "1.5┤   ⣉⡷⢾⣉",
    "0.0┤⣠⠴⠋⠁  ⠈⠙⠦⣄",
    "   └──────────",
    "    0  step 3k",
  ]);
  assert.equal(b.styleAt(4, 1), STYLE.green); // only the falling series
  assert.equal(b.styleAt(4, 3), STYLE.red); // only the rising series
  assert.equal(b.styleAt(8, 2), STYLE.green); // both: the later one
  // the shared cell holds the dots of both
  const only = new ScreenBuffer(14, 6);
  lineChart(only, 0, 0, 14, 6, [up], { yLabel: "x" });
  const bits = (ch: string) => ch.charCodeAt(0) - 0x2800;
  assert.ok((bits(b.charAt(8, 2)) & bits(only.charAt(8, 2))) === bits(only.charAt(8, 2)));
  assert.notEqual(b.charAt(8, 2), only.charAt(8, 2));
});

Deno.test("lineChart() handles empty series, one point and constant values", () => {
  const axes = ["1.0┤", "0.5┤", "0.0┤", "   └────────", ""];
  assert.deepEqual(chart(12, 5, []), axes);
  assert.deepEqual(chart(12, 5, [{ values: [], style: 0 }]), axes);
  assert.deepEqual(chart(12, 5, [{ values: [5], style: 0 }]), [
    "5.5┤",
    "5.0┤⠄",
    "4.5┤",
    "   └────────",
    "    0",
  ]);
  assert.deepEqual(chart(12, 5, [{ values: [2, 2, 2, 2], style: 0 }]), [
    "2.2┤",
    "2.0┤⠤⠤⠤⠤⠤⠤⠤⠤",
    "1.8┤",
    "   └────────",
    "    0      3",
  ]);
});

Deno.test("lineChart() skips NaN and ±Infinity, joining the points around them", () => {
  const values = [1, 2, NaN, 4, Infinity, 5, -Infinity, 6];
  assert.deepEqual(chart(12, 5, [{ values, style: 0 }]), [
    "6.0┤    ⣀⡤⠖⠋",
    "3.5┤ ⢀⡴⠋⠁",
    "1.0┤⡴⠋",
    "   └────────",
    "    0      7",
  ]);
  // a sparse series padded with NaN shares the x axis of a dense one
  const sparse = chart(12, 5, [{ values: [1, NaN, NaN, NaN, NaN, NaN, NaN, 6], style: 0 }]);
  assert.deepEqual(sparse, chart(12, 5, [{ values: [1, 6], style: 0 }]).with(4, "    0      7"));
});

Deno.test("lineChart() with logY spaces decades evenly and labels them in the values' units", () => {
  assert.deepEqual(chart(14, 6, [{ values: [1, 10, 100, 1000], style: 0 }], { logY: true }), [
    " 1k┤       ⢀⡴⠋",
    "100┤     ⣠⠞⠉",
    " 10┤  ⣀⡴⠋⠁",
    "  1┤⣠⠞⠁",
    "   └──────────",
    "    0        3",
  ]);
});

Deno.test("lineChart() clips values outside yMin…yMax to the plot", () => {
  assert.deepEqual(
    chart(10, 5, [{ values: [0, 100, -100, 50], style: 0 }], { yMin: 0, yMax: 10 }),
    [
      "10┤⡇  ⡇  ⡇",
      " 5┤⡇  ⡇  ⡇",
      " 0┤⡇  ⣇  ⡇",
      "  └───────",
      "   0     3",
    ],
  );
});

Deno.test("lineChart() keeps the x label clear of the first and last x values", () => {
  const row = (w: number) =>
    chart(w, 5, [{ values: [1, 2], style: 0 }], { xRange: [0, 12345], xLabel: "tokens" }).at(-1);
  assert.equal(row(20), "    0   tokens 12.3k");
  assert.equal(row(16), "    0      12.3k"); // no room for it
  assert.equal(row(8), "    0"); // nor for the last value
});

Deno.test("lineChart() draws nothing in too small a rectangle", () => {
  assert.deepEqual(chart(10, 2, [{ values: LOSS, style: 0 }]), ["", ""]);
  assert.deepEqual(chart(2, 6, [{ values: LOSS, style: 0 }]), ["", "", "", "", "", ""]);
  assert.deepEqual(chart(10, 3, [{ values: LOSS, style: 0 }], { yLabel: "y" }), ["", "", ""]);
});

const number = fc.oneof(
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.constantFrom(NaN, Infinity, -Infinity, 0, 1e300, -1e300, 1e-300),
);

Deno.test("lineChart() never writes outside its rectangle", () => {
  const arb = fc.record({
    x: fc.integer({ min: -3, max: 12 }),
    y: fc.integer({ min: -2, max: 8 }),
    w: fc.integer({ min: 0, max: 24 }),
    h: fc.integer({ min: 0, max: 10 }),
    series: fc.array(
      fc.record({
        values: fc.array(number, { maxLength: 60 }),
        style: fc.constantFrom(STYLE.red, STYLE.green),
      }),
      { maxLength: 3 },
    ),
    yMin: fc.option(number, { nil: undefined }),
    yMax: fc.option(number, { nil: undefined }),
    logY: fc.boolean(),
    labels: fc.boolean(),
    xRange: fc.option(fc.tuple(number, number), { nil: undefined }),
  });
  fc.assert(
    fc.property(arb, (a) => {
      const b = new ScreenBuffer(30, 14);
      const opts: LineChartOptions = { logY: a.logY };
      if (a.yMin !== undefined) opts.yMin = a.yMin;
      if (a.yMax !== undefined) opts.yMax = a.yMax;
      if (a.labels) Object.assign(opts, { yLabel: "loss per token", xLabel: "step" });
      if (a.xRange) opts.xRange = a.xRange;
      lineChart(b, a.x, a.y, a.w, a.h, a.series, opts);
      let inside = 0;
      for (let row = 0; row < b.height; row++) {
        for (let col = 0; col < b.width; col++) {
          const within = col >= a.x && col < a.x + a.w && row >= a.y && row < a.y + a.h;
          if (within) {
            if (b.charAt(col, row) !== " ") inside++;
            continue;
          }
          assert.deepEqual(b.cell(col, row), { ch: " ", style: 0 }, `(${col},${row})`);
        }
      }
      // a chart that fits on the buffer draws at least its axis
      const fits = a.x >= 0 && a.y >= 0 && a.x + a.w <= 30 && a.y + a.h <= 14;
      if (fits && a.w >= 3 && a.h - (a.labels ? 1 : 0) >= 3) assert.ok(inside > 0);
    }),
    { numRuns: 400 },
  );
});

Deno.test("compactNumber() formats axis labels in a few columns", () => {
  const cases: [number, string][] = [
    [10.8, "10.8"],
    [7.2, "7.2"],
    [3.6, "3.6"],
    [0, "0"],
    [-3.6, "-3.6"],
    [0.036, "0.036"],
    [1.5e-5, "1.5e-5"],
    [1e-10, "1e-10"],
    [999.4, "999"],
    [999.6, "1k"],
    [12345, "12.3k"],
    [4e6, "4M"],
    [2.5e9, "2.5G"],
  ];
  for (const [v, s] of cases) assert.equal(compactNumber(v), s, String(v));
});

Deno.test("sparkline() resamples to the width by averaging buckets", () => {
  assert.equal(sparkline(LOSS, 12), "█▆▄▃▂▂▁▁▁▁▁▁");
  assert.equal(sparkline(LOSS, 6), "█▄▂▁▁▁");
  assert.equal(sparkline([0, 0, 10, 10], 2), "▁█");
  assert.equal(sparkline([0, 10, 0, 10], 2), "▁▁"); // equal means
  assert.equal(sparkline([0, 7], 4), "▁▁██");
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8), "▁▂▃▄▅▆▇█");
});

Deno.test("sparkline() handles empty input, NaN buckets and constant values", () => {
  assert.equal(sparkline([], 10), "");
  assert.equal(sparkline([1, 2], 0), "");
  assert.equal(sparkline([3, 3, 3], 3), "▁▁▁");
  assert.equal(sparkline([1, NaN, 3], 3), "▁ █");
  assert.equal(sparkline([1, NaN, Infinity, 3], 2), "▁█");
  assert.equal(sparkline([NaN], 2), "  ");
});

Deno.test("sparkline() is always `width` columns for non-empty input", () => {
  fc.assert(
    fc.property(
      fc.array(number, { minLength: 1, maxLength: 300 }),
      fc.nat({ max: 120 }),
      (v, w) => {
        const s = sparkline(v, w);
        assert.equal([...s].length, w);
        assert.match(s, /^[▁▂▃▄▅▆▇█ ]*$/u);
      },
    ),
  );
});

Deno.test("heatmap() colours each cell by value with its label and value inside", () => {
  const b = new ScreenBuffer(30, 3);
  const rows = heatmap(
    b,
    0,
    0,
    [
      { label: "0", value: 0.1 },
      { label: "1", value: 0.5, text: "71°C" },
      { label: "12", value: 1 },
      { label: "x", value: NaN },
      { label: "long-label", value: 0.3 },
    ],
    3,
    10,
  );
  assert.equal(rows, 2);
  assert.deepEqual(b.lines(), [
    " 0   10%   1  71°C   12 100%",
    " x     ?        30%",
    "",
  ]);
  assert.equal(b.styleAt(0, 0), STYLE.white | heat(0.1));
  assert.equal(b.styleAt(8, 0), STYLE.white | heat(0.1));
  assert.equal(b.styleAt(9, 0), 0); // the gap
  assert.equal(b.styleAt(10, 0), STYLE.white | heat(0.5));
  assert.equal(b.styleAt(28, 0), STYLE.white | heat(1));
  assert.equal(b.styleAt(0, 1), STYLE.dim);
  assert.notEqual(heat(0.1), heat(0.5));
  assert.notEqual(heat(0.5), heat(1));
});

Deno.test("heatmap() falls back to the value, the label, then a level glyph in narrow cells", () => {
  const b = new ScreenBuffer(16, 1);
  heatmap(
    b,
    0,
    0,
    [
      { label: "0", value: 0.1 },
      { label: "12", value: 1 },
      { label: "3", value: 0.99, text: "toolong" },
      { label: "gpu7", value: 0.6, text: "toolong" },
    ],
    4,
    4,
  );
  assert.deepEqual(b.lines(), ["10% 12  3   ▅"]);
  const tight = new ScreenBuffer(4, 1);
  heatmap(tight, 0, 0, [{ label: "a", value: 0.2 }, { label: "b", value: 0.9 }], 2, 2);
  assert.deepEqual(tight.lines(), ["a b"]);
  assert.equal(tight.styleAt(1, 0), STYLE.white | heat(0.2)); // no gap at width 2
  assert.equal(heatmap(tight, 0, 0, [], 2, 2), 0);
});

Deno.test("progressBar() fills with eighth blocks", () => {
  assert.equal(progressBar(10, 0.55), "█████▌    ");
  assert.equal(progressBar(4, 1 / 32), "▏   ");
  assert.equal(progressBar(4, 2), "████");
  assert.equal(progressBar(4, NaN), "    ");
  assert.equal(progressBar(0, 0.5), "");
  fc.assert(
    fc.property(fc.double({ noNaN: false }), fc.nat({ max: 50 }), (f, w) => {
      assert.equal(progressBar(w, f).length, w);
    }),
  );
});

Deno.test("lineChart() draws a marker series as its character at each point, over the lines", () => {
  const val = LOSS.map((v, i) => (i % 4 === 3 ? v + 0.2 : NaN));
  const rows = chart(16, 6, [{ values: LOSS, style: 0 }, { values: val, style: 0, marker: "◆" }]);
  const marks = rows.flatMap((r, y) => [...r].flatMap((c, x) => (c === "◆" ? [[x, y]] : [])));
  assert.equal(marks.length, 3, rows.join("\n"));
  // each at its point's column, in order, falling with the loss
  for (let i = 1; i < marks.length; i++) {
    assert.ok(marks[i]![0]! > marks[i - 1]![0]!);
    assert.ok(marks[i]![1]! >= marks[i - 1]![1]!);
  }
});
