/**
 * `llm-sim plan` against published training runs: the engine must land within ±15 % of each
 * published MFU or throughput figure, and within ±15 % of the published per-GPU memory where
 * there is one. Sources are REALISM.md sections 2.3 and 2.4 (papers and repositories named).
 */
import assert from "node:assert/strict";
import { computePlan, parsePlanArgs, planArgs, planFigures, planJson } from "../lib/cli/plan.ts";
import { UsageError } from "../lib/cli/errors.ts";

interface Published {
  name: string;
  source: string;
  args: string[];
  tflopsPerGpu?: number;
  mfu?: number;
  /** Hardware TFLOP/s (recompute counted), as BLOOM reported it. */
  hfuTflopsPerGpu?: number;
  tokensPerSecondPerGpu?: number;
  reservedGiB?: number;
}

const GPT = (layers: number, hidden: number, heads: number, vocab: number, ctx: number) => [
  "--layers",
  String(layers),
  "--hidden",
  String(hidden),
  "--heads",
  String(heads),
  "--ffn",
  String(4 * hidden),
  "--vocab",
  String(vocab),
  "--context",
  String(ctx),
  "--mlp",
  "gelu",
];

export const PUBLISHED: Published[] = [
  {
    name: "Llama 3 405B on 16,384 H100 (TP 8, PP 16, DP 128, seq 8192, 16M tokens/step)",
    source: "Llama 3 paper, Table 4: 400 TFLOP/s/GPU, 41 % BF16 MFU (REALISM 2.3)",
    args: [
      "--model",
      "llama-3.1-405b",
      "--gpu",
      "h100-sxm",
      "--gpus",
      "16384",
      "--tp",
      "8",
      "--pp",
      "16",
      "--vpp",
      "4",
      "--seq",
      "8192",
      "--global-batch",
      "2048",
    ],
    tflopsPerGpu: 400,
    mfu: 0.41,
  },
  {
    name: "Llama 3 405B on 8,192 H100 (TP 8, PP 16, DP 64)",
    source: "Llama 3 paper, Table 4: 430 TFLOP/s/GPU, 43 % BF16 MFU (REALISM 2.3)",
    args: [
      "--model",
      "llama-3.1-405b",
      "--gpu",
      "h100-sxm",
      "--gpus",
      "8192",
      "--tp",
      "8",
      "--pp",
      "16",
      "--vpp",
      "4",
      "--seq",
      "8192",
      "--global-batch",
      "2048",
    ],
    tflopsPerGpu: 430,
    mfu: 0.43,
  },
  {
    name: "Megatron-LM GPT 177B on 2,304 H100 (TP 8, PP 6, DP 48, batch 1152, seq 4096)",
    source: "Megatron-LM README model table (weak scaling): 432.8 TFLOP/s/GPU, 44 % MFU",
    args: [
      ...GPT(96, 12288, 96, 131072, 4096),
      "--gpu",
      "h100-sxm",
      "--gpus",
      "2304",
      "--tp",
      "8",
      "--pp",
      "6",
      "--seq",
      "4096",
      "--global-batch",
      "1152",
    ],
    tflopsPerGpu: 432.8,
    mfu: 0.44,
  },
  {
    name: "Megatron-LM GPT 7.1B on 96 H100 (TP 2, DP 48, batch 192, seq 4096)",
    source: "Megatron-LM README model table (weak scaling): 465.9 TFLOP/s/GPU, 47 % MFU",
    args: [
      ...GPT(30, 4096, 32, 131072, 4096),
      "--gpu",
      "h100-sxm",
      "--gpus",
      "96",
      "--tp",
      "2",
      "--pp",
      "1",
      "--seq",
      "4096",
      "--global-batch",
      "192",
    ],
    tflopsPerGpu: 465.9,
    mfu: 0.47,
  },
  {
    name: "torchtitan Llama 3.1 8B on 8 H100 (96 GB, 500 W), FSDP, bf16 + torch.compile",
    source: "torchtitan benchmarks/llama3_h100_202412_torchtitan.md Table 1: 6,667 tokens/s/GPU, " +
      "77.0 GiB (REALISM 2.4)",
    args: [
      "--model",
      "llama-3.1-8b",
      "--gpu",
      "h100-96gb-500w",
      "--gpus",
      "8",
      "--framework",
      "torchtitan",
      "--tp",
      "1",
      "--pp",
      "1",
      "--micro-batch",
      "2",
      "--seq",
      "8192",
      "--global-batch",
      "16",
    ],
    tokensPerSecondPerGpu: 6667,
    reservedGiB: 77.0,
  },
  {
    name: "MegaScale GPT-3 175B on 12,288 GPUs (A100, TP 8, PP 8, batch 6144, seq 2048)",
    source: "Jiang et al. 2024 (MegaScale), abstract and Table 2: 55.2 % MFU (REALISM 2.3)",
    args: [
      ...GPT(96, 12288, 96, 51200, 2048),
      "--gpu",
      "a100-80gb",
      "--gpus",
      "12288",
      "--framework",
      "megascale",
      "--tp",
      "8",
      "--pp",
      "8",
      "--seq",
      "2048",
      "--global-batch",
      "6144",
    ],
    mfu: 0.552,
  },
  {
    name: "BLOOM-176B on 384 A100 80GB (TP 4, PP 12, DP 8, ZeRO-1, full recompute)",
    source: "bigscience tr11-176B-ml README/chronicles: ~150 TFLOPs (hardware, full recompute) " +
      "at GBS 2048 (REALISM 2.3)",
    args: [
      ...GPT(70, 14336, 112, 250880, 2048),
      "--tied",
      "--gpu",
      "a100-80gb",
      "--gpus",
      "384",
      "--framework",
      "deepspeed",
      "--tp",
      "4",
      "--pp",
      "12",
      "--micro-batch",
      "2",
      "--sharding",
      "zero1",
      "--recompute",
      "full",
      "--seq",
      "2048",
      "--global-batch",
      "2048",
    ],
    hfuTflopsPerGpu: 150,
  },
  {
    name: "nanoGPT GPT-2 124M on 8 A100 40GB (DDP, batch 12 × 40 accumulation, seq 1024)",
    source: "karpathy/nanoGPT README: reproduces GPT-2 124M in ~4 days on one 8×A100 40GB node; " +
      "600k iterations × 491,520 tokens / (4 × 86,400 s) / 8 GPUs ≈ 106,700 tokens/s/GPU",
    args: [
      "--model",
      "gpt2",
      "--gpu",
      "a100-40gb",
      "--gpus",
      "8",
      "--framework",
      "nanogpt",
      "--tp",
      "1",
      "--pp",
      "1",
      "--micro-batch",
      "12",
      "--seq",
      "1024",
      "--global-batch",
      "480",
    ],
    tokensPerSecondPerGpu: (600_000 * 491_520) / (4 * 86_400) / 8,
  },
];

function within(actual: number, published: number, tolerance = 0.15): boolean {
  return Math.abs(actual - published) <= tolerance * published;
}

for (const row of PUBLISHED) {
  Deno.test(`plan lands within ±15 % of ${row.name}`, () => {
    const r = computePlan(parsePlanArgs(row.args));
    assert.ok(r.candidate, r.reason ?? "no plan");
    const p = r.candidate.perf;
    const checks: [string, number, number | undefined][] = [
      ["TFLOP/s/GPU", p.tflopsPerGpu, row.tflopsPerGpu],
      ["MFU", p.mfu, row.mfu],
      ["hardware TFLOP/s/GPU", p.hfu * 312, row.hfuTflopsPerGpu],
      ["tokens/s/GPU", p.tokensPerSecondPerGpu, row.tokensPerSecondPerGpu],
      ["reserved GiB", r.candidate.memory.worst.reserved / 1024 ** 3, row.reservedGiB],
    ];
    let compared = 0;
    for (const [what, actual, published] of checks) {
      if (published === undefined) continue;
      compared++;
      assert.ok(
        within(actual, published),
        `${what}: plan ${actual.toFixed(3)} vs published ${published} (${row.source})`,
      );
    }
    assert.ok(compared > 0, "every row compares at least one published figure");
    if (row.reservedGiB !== undefined) assert.equal(r.fits, true, "the published run fits");
  });
}

Deno.test("plan --json round-trips: its args reproduce the same plan exactly", () => {
  for (const row of PUBLISHED) {
    const first = planJson(computePlan(parsePlanArgs(row.args)));
    const parsed = JSON.parse(first);
    assert.equal(typeof parsed.mfu, "number");
    assert.equal(typeof parsed.memory_gib.reserved, "number");
    assert.ok(Array.isArray(parsed.args));
    const again = planJson(computePlan(parsePlanArgs(parsed.args)));
    assert.equal(again, first, row.name);
  }
});

Deno.test("plan without a layout picks one that fits and reports training cost", () => {
  const r = computePlan(parsePlanArgs(["--model", "70b", "--gpus", "512", "--tokens", "2T"]));
  assert.equal(r.fits, true);
  const f = planFigures(r)!;
  assert.ok(f.steps > 0 && f.gpuHours > 0 && f.energyMWh > 0);
  // GPU-hours = GPUs × time; energy = GPUs × watts × time
  assert.ok(Math.abs(f.gpuHours - (512 * f.seconds) / 3600) < 1e-6 * f.gpuHours);
  assert.ok(Math.abs(f.energyMWh - (512 * f.gpuWatts * f.seconds) / 3.6e9) < 1e-9 * f.energyMWh);
  assert.deepEqual(planArgs(r).slice(0, 2), ["--model", "llama-3.1-70b"]);
});

Deno.test("plan refuses impossible layouts with the reason", () => {
  const cases: [string[], RegExp][] = [
    [
      ["--model", "falcon-7b", "--gpus", "8", "--tp", "2", "--pp", "1"],
      /TP 2 does not divide 71 attention heads/,
    ],
    [
      ["--model", "8b", "--gpus", "1000", "--tp", "8", "--pp", "16"],
      /world size 1000 is not divisible by TP×PP = 8×16 = 128/,
    ],
    [["--model", "8b", "--gpus", "64", "--tp", "16", "--pp", "1"], /TP 16 spans nodes/],
    [["--model", "8b", "--gpus", "64", "--tp", "1", "--pp", "64"], /PP 64 exceeds the 32 layers/],
    [
      ["--model", "8b", "--gpus", "64", "--tp", "1", "--pp", "1", "--global-batch", "100"],
      /global batch 100 is not divisible by micro-batch 1 × DP 64/,
    ],
    [["--model", "8b", "--gpu", "v100", "--precision", "bf16"], /no bf16 support/],
  ];
  for (const [args, re] of cases) {
    const r = computePlan(parsePlanArgs(args));
    assert.equal(r.candidate, null, args.join(" "));
    assert.match(r.reason ?? "", re);
  }
});

Deno.test("plan reports a layout that does not fit, with what it would need", () => {
  const r = computePlan(
    parsePlanArgs(["--model", "405b", "--gpus", "8", "--tp", "8", "--pp", "1"]),
  );
  assert.ok(r.candidate);
  assert.equal(r.fits, false);
  assert.ok(r.candidate.memory.worst.reserved > r.candidate.memory.capacity);
});

Deno.test("parsePlanArgs() rejects bad values naming the flag", () => {
  assert.throws(() => parsePlanArgs(["--model", "8b", "--tokens", "lots"]), UsageError);
  assert.throws(() => parsePlanArgs(["--layers", "32"]), /--layers, --hidden and --heads/);
  assert.throws(
    () => parsePlanArgs(["--model", "8b", "--framework", "jax"]),
    /--framework must be one of/,
  );
  assert.throws(
    () => parsePlanArgs(["--model", "8b", "--gpus", "12"]),
    /--gpus must be 1–8 or a multiple of 8/,
  );
  assert.throws(
    () => parsePlanArgs(["--model", "8b", "--global-batch", "8", "--batch-tokens", "4M"]),
    /not both/,
  );
});
