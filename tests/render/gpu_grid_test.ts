import assert from "node:assert/strict";
import fc from "fast-check";
import type { GpuSample } from "../../lib/engine/telemetry.ts";
import { type GridInput, renderGpuGrid } from "../../lib/render/gpu_grid.ts";
import { stripAnsi } from "../../lib/term/ansi.ts";

/** Temperatures from 40 to 84 °C spread over the ranks; everything else fixed. */
function sample(rank: number): GpuSample {
  return {
    rank,
    node: Math.floor(rank / 8),
    localRank: rank % 8,
    util: 97,
    memUsedMiB: 61234,
    memTotalMiB: 81559,
    tempC: 40 + ((rank * 7) % 45),
    powerW: 650,
    powerCapW: 700,
  };
}

function grid(gpus: number, width: number, over: Partial<GridInput> = {}): string[] {
  const nodes = Math.ceil(gpus / 8);
  const digits = Math.max(3, String(nodes - 1).length);
  return renderGpuGrid({
    gpus,
    gpusPerNode: 8,
    gpuName: "H100 SXM",
    host: (n) => `gpu-node-${String(n).padStart(digits, "0")}`,
    sample,
    width,
    color: false,
    maxRows: 8,
    ...over,
  });
}

Deno.test("renderGpuGrid() gives one line per GPU up to 8 GPUs", () => {
  assert.deepEqual(grid(2, 132), [
    "GPU0  H100 SXM   97%   650W / 700W  40°C   59.8 / 79.6 GiB",
    "GPU1  H100 SXM   97%   650W / 700W  47°C   59.8 / 79.6 GiB",
  ]);
  const eight = grid(8, 132);
  assert.equal(eight.length, 8);
  eight.forEach((line, i) => assert.ok(line.startsWith(`GPU${i} `), line));
});

Deno.test("renderGpuGrid() cuts per-GPU lines to the width", () => {
  assert.deepEqual(grid(2, 30), [
    "GPU0  H100 SXM   97%   650W / ",
    "GPU1  H100 SXM   97%   650W / ",
  ]);
});

Deno.test("renderGpuGrid() shows 64 GPUs as per-node cells with host names", () => {
  assert.deepEqual(grid(64, 132), [
    "GPUs 64× H100 SXM  util 97%  power 41.6 kW (650 W/GPU)  temp 62°C avg 84°C max  mem 59.8/79.6 GiB",
    "gpu-node-000 ▂▃▄▅▆▇█▃  82°C  gpu-node-001 ▄▅▆▇█▂▃▄  79°C  gpu-node-002 ▅▆▇█▃▄▅▆  83°C  gpu-node-003 ▇█▂▃▄▅▆▇  80°C",
    "gpu-node-004 █▃▄▅▆▇█▂  84°C  gpu-node-005 ▃▄▅▆▇▂▃▄  78°C  gpu-node-006 ▅▆▇█▃▄▅▆  82°C  gpu-node-007 ▇█▂▃▄▅▆▇  79°C",
  ]);
});

Deno.test("renderGpuGrid() colours per-node cells by temperature band", () => {
  const lines = grid(64, 132, { color: true });
  assert.deepEqual(lines.map(stripAnsi), grid(64, 132));
  const first = lines[1] ?? "";
  assert.ok(first.startsWith("gpu-node-000 \x1b[32m▂▃▄▅▆\x1b[0m\x1b[33m▇\x1b[0m\x1b[31m█\x1b[0m"));
});

Deno.test("renderGpuGrid() shows 1024 GPUs as one glyph per node with Slurm labels", () => {
  const lines = grid(1024, 19 + 64);
  assert.equal(lines.length, 3);
  assert.ok(lines[0]!.startsWith("GPUs 1024× H100 SXM  util 97%  power 665.6 kW"), lines[0]);
  assert.equal(lines[0]!.length, 19 + 64); // the header is cut to the width
  assert.ok(grid(1024, 132)[0]!.endsWith("mem 59.8/79.6 GiB (sampled)"));
  assert.ok(lines[1]!.startsWith("gpu-node-[000-063] "), lines[1]);
  assert.ok(lines[2]!.startsWith("gpu-node-[064-127] "), lines[2]);
  for (const line of lines.slice(1)) assert.equal(line.length, 19 + 64);
  // the first GPU of each node stands for the node
  assert.equal(lines[1]!.slice(19, 23), "▂▄▅▇");
});

Deno.test("renderGpuGrid() shows 16384 GPUs as a summary naming the hottest nodes", () => {
  assert.deepEqual(grid(16384, 132), [
    "GPUs 16384× H100 SXM  util 97%  power 10.65 MW (650 W/GPU)  temp 62°C avg 84°C max  mem 59.8/79.6 GiB (sampled)",
    "2048 nodes  temp p5 42°C  p50 62°C  p95 82°C  hottest: gpu-node-0004 84°C, gpu-node-0049 84°C, gpu-node-0094 84°C",
  ]);
});

Deno.test("renderGpuGrid() keeps every line within the width for 8 and 16384 GPUs", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(1, 3, 8, 16, 64, 1024, 16384),
      fc.integer({ min: 20, max: 400 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 8 }),
      (gpus, width, color, maxRows) => {
        for (const line of grid(gpus, width, { color, maxRows })) {
          assert.ok(stripAnsi(line).length <= width, `${gpus} GPUs at ${width}: ${line}`);
        }
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("renderGpuGrid() writes no escape bytes with colour off", () => {
  for (const gpus of [8, 64, 1024, 16384]) {
    for (const width of [40, 83, 132, 400]) {
      for (const line of grid(gpus, width)) assert.ok(!line.includes("\x1b"), line);
    }
  }
});

Deno.test("renderGpuGrid() uses colour escapes with colour on", () => {
  assert.ok(grid(64, 132, { color: true }).some((l) => l.includes("\x1b")));
  assert.ok(grid(1024, 83, { color: true }).some((l) => l.includes("\x1b")));
});
