/**
 * The Megatron-LM dialect: a golden excerpt of one run, and the iteration line parsed back with a
 * regex written from REALISM 1.1.2 (not from the dialect), compared with the engine's numbers.
 */
import assert from "node:assert/strict";
import { GPUS } from "../../lib/data.ts";
import { MegatronDialect } from "../../lib/dialects/megatron.ts";
import { trainingFlopsPerToken } from "../../lib/engine/arch.ts";
import { assertGolden } from "../_golden.ts";
import { near, play, type Played } from "./_harness.ts";

const A100 = GPUS.find((g) => g.id === "a100-80gb")!;
const make = () => new MegatronDialect();

/**
 * What a reader checks in a run: the launch and the start of the arguments dump, the set-up from
 * the end of the dump to the first iterations and the memory report, the first validation and
 * checkpoint, and the end of the run.
 */
function excerpt(text: string): string {
  const lines = text.replace(/\n$/, "").split("\n");
  const keep = new Set<number>();
  const span = (from: number, to: number) => {
    for (let i = Math.max(0, from); i <= Math.min(lines.length - 1, to); i++) keep.add(i);
  };
  const find = (re: RegExp, from = 0) => lines.findIndex((l, i) => i >= from && re.test(l));
  span(0, 40);
  const setup = find(/^-+ end of arguments -+$/);
  const first = find(/\] iteration /);
  span(setup - 3, setup + 20);
  span(find(/^\[after megatron is initialized\]/) - 2, first + 16);
  const validation = find(/^ validation loss at iteration/, first);
  if (validation >= 0) span(validation - 3, validation + 3);
  const save = find(/^saving checkpoint at iteration/, first);
  if (save >= 0) span(save - 2, save + 5);
  span(lines.length - 25, lines.length - 1);
  const out: string[] = [];
  let last = -1;
  for (const i of [...keep].sort((a, b) => a - b)) {
    if (i !== last + 1) out.push(`[... ${i - last - 1} lines ...]`);
    out.push(lines[i]!);
    last = i;
  }
  return out.join("\n") + "\n";
}

/** `{:.NE}` text equals `actual` to its printed digits (relative to its own decade). */
function nearSci(text: string, actual: number, digits: number): boolean {
  const exp = Number(text.slice(text.indexOf("E") + 1));
  return near(Number(text) / 10 ** exp, actual / 10 ** exp, digits);
}

// REALISM 1.1.2: " [YYYY-MM-DD HH:MM:SS] iteration {:8d}/{:8d} | consumed samples: {:12d} |
// elapsed time per iteration (ms): {:.1f} | throughput per GPU (TFLOP/s/GPU): {:.1f} |
// learning rate: {:.6E} | global batch size: {:5d} | lm loss: {:.6E} | loss scale: {:.1f} |
// grad norm: {:.3f} | number of skipped iterations: {:3d} | number of nan iterations: {:3d} |"
const ITERATION = new RegExp(
  "^ \\[(\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2})\\] iteration ([ \\d]{8})/([ \\d]{8}) \\| " +
    "consumed samples: ([ \\d]{12}) \\| elapsed time per iteration \\(ms\\): (\\d+\\.\\d) \\| " +
    "throughput per GPU \\(TFLOP/s/GPU\\): (\\d+\\.\\d) \\| learning rate: (\\d\\.\\d{6}E[+-]\\d{2}) \\| " +
    "global batch size: ([ \\d]{5}) \\| lm loss: (\\d\\.\\d{6}E[+-]\\d{2}) \\| loss scale: (\\d+\\.\\d) \\| " +
    "grad norm: (\\d+\\.\\d{3}) \\| number of skipped iterations: ([ \\d]{3}) \\| " +
    "number of nan iterations: ([ \\d]{3}) \\|$",
);
// REALISM 1.1.2: report_memory, raw float MiB, from each data-parallel rank 0
const MEMORY =
  /^\[Rank (\d+)\] \(after (\d+) iterations\) memory \(MB\) \| allocated: (\d+(?:\.\d+)?) \| max allocated: (\d+(?:\.\d+)?) \| reserved: (\d+(?:\.\d+)?) \| max reserved: (\d+(?:\.\d+)?)$/;
// REALISM 1.1.3
const VALIDATION =
  /^ validation loss at iteration (\d+)(?: on (?:validation|test) set)? \| lm loss value: (\d\.\d{6}E[+-]\d{2}) \| lm loss PPL: (\d\.\d{6}E[+-]\d{2}) \| $/;

function checkIterationLines(p: Played): void {
  const c = p.cfg;
  const lines = p.text.split("\n");
  const iterationLines = lines.filter((l) => l.includes("] iteration "));
  assert.equal(iterationLines.length, p.windows.length, "one iteration line per log window");
  const flopsPerToken = trainingFlopsPerToken(c.arch, c.seqLen);
  let previous = "";
  iterationLines.forEach((line, i) => {
    const m = ITERATION.exec(line);
    assert.ok(m, `iteration line does not parse: ${JSON.stringify(line)}`);
    const w = p.windows[i]!;
    const r = w.last;
    assert.ok(m[1]! >= previous, "timestamps never go back");
    previous = m[1]!;
    assert.equal(Number(m[2]), r.step);
    assert.equal(Number(m[3]), c.totalSteps);
    assert.equal(Number(m[4]), r.samples);
    assert.ok(near(Number(m[5]), w.meanStepMs, 1), `ms ${m[5]} vs ${w.meanStepMs}`);
    const tflops = (flopsPerToken * c.globalBatch * c.seqLen) / (w.meanStepMs / 1000) / c.gpus /
      1e12;
    assert.ok(near(Number(m[6]), tflops, 1), `TFLOP/s ${m[6]} vs ${tflops}`);
    assert.ok(nearSci(m[7]!, r.lr, 6), `lr ${m[7]} vs ${r.lr}`);
    assert.equal(Number(m[8]), c.globalBatch);
    assert.ok(nearSci(m[9]!, w.meanLoss, 6), `loss ${m[9]} vs ${w.meanLoss}`);
    assert.equal(Number(m[10]), r.lossScale);
    assert.ok(near(Number(m[11]), r.gradNorm, 3), `grad norm ${m[11]} vs ${r.gradNorm}`);
    assert.equal(Number(m[12]), w.skipped);
    assert.equal(Number(m[13]), 0);
  });
  // the memory report: once per process, one line per (tensor, pipeline) shard
  const memory = lines.map((l) => MEMORY.exec(l)).filter((m) => m !== null);
  const shards = c.layout.tp * c.layout.pp;
  assert.ok(memory.length >= shards && memory.length % shards === 0, "memory report per shard");
  for (const m of memory) {
    const [alloc, maxAlloc, reserved] = [Number(m[3]), Number(m[4]), Number(m[5])];
    assert.ok(alloc <= maxAlloc && maxAlloc <= reserved, "allocated ≤ max allocated ≤ reserved");
    assert.ok(reserved < c.gpu.capacityGiB * 1024, "fits the GPU");
  }
  // validation frames: dashes one longer than the line
  lines.forEach((l, i) => {
    if (!l.startsWith(" validation loss at")) return;
    const m = VALIDATION.exec(l);
    assert.ok(m, `validation line does not parse: ${JSON.stringify(l)}`);
    assert.equal(lines[i - 1], "-".repeat(l.length + 1));
    assert.equal(lines[i + 1], "-".repeat(l.length + 1));
    assert.ok(nearSci(m[3]!, Math.exp(Math.min(20, Number(m[2]))), 5));
  });
}

Deno.test("MegatronDialect prints a run the way Megatron-LM does (golden excerpt)", async () => {
  const p = await play(make, { framework: "megatron" }, 8, { wrap: false });
  await assertGolden("dialect-megatron.txt", excerpt(p.text));
});

Deno.test("MegatronDialect iteration lines parse back to the engine's numbers", async () => {
  for (const seed of [1, 2, 8, 12]) {
    checkIterationLines(await play(make, { framework: "megatron" }, seed, { wrap: false }));
  }
});

Deno.test("MegatronDialect fp16 runs show the loss scale walking down and skipped iterations", async () => {
  const p = await play(
    make,
    { framework: "megatron", precision: "fp16", gpu: A100, kind: "pretrain", fresh: true },
    3,
    { wrap: false },
  );
  checkIterationLines(p);
  assert.ok(p.windows.some((w) => w.skipped > 0), "some iterations are skipped");
  assert.ok(p.windows[0]!.last.lossScale < 2 ** 32, "the scale starts walking down from 2^32");
  assert.match(p.text, /^ {2}initial_loss_scale \.+ 4294967296$/m);
  assert.match(p.text, /^ {2}fp16 \.+ True$/m);
});

Deno.test("MegatronDialect arguments dump is sorted and dot-padded to 48 like _print_args", async () => {
  const p = await play(make, { framework: "megatron" }, 2, { wrap: false });
  const lines = p.text.split("\n");
  const start = lines.indexOf("------------------------ arguments ------------------------");
  const end = lines.indexOf("-------------------- end of arguments ---------------------");
  assert.ok(start >= 0 && end > start + 80, "a dump of 80+ arguments");
  const args = lines.slice(start + 1, end);
  const sorted = [...args].sort((a, b) => {
    const x = a.toLowerCase(), y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
  assert.deepEqual(args, sorted);
  for (const a of args) {
    const m = /^ {2}(\w+) (\.*) (.*)$/.exec(a);
    assert.ok(m, a);
    assert.equal(m[1]!.length + m[2]!.length, Math.max(48, m[1]!.length));
  }
  const c = p.cfg;
  const value = (name: string) => args.find((a) => a.startsWith(`  ${name} .`))?.split(" ").pop();
  assert.equal(value("num_layers"), String(c.arch.layers));
  assert.equal(value("hidden_size"), String(c.arch.hidden));
  assert.equal(value("tensor_model_parallel_size"), String(c.layout.tp));
  assert.equal(value("pipeline_model_parallel_size"), String(c.layout.pp));
  assert.equal(value("data_parallel_size"), String(c.layout.dp));
  assert.equal(value("global_batch_size"), String(c.globalBatch));
  assert.equal(value("world_size"), String(c.gpus));
  assert.match(p.text, /^ > padded vocab \(size: \d+\) with \d+ dummy tokens \(new size: \d+\)$/m);
  const padded = /new size: (\d+)\)/.exec(p.text)!;
  assert.equal(Number(padded[1]) % (128 * c.layout.tp), 0, "vocab padded to 128 × TP");
  const shards = p.text.match(
    /^ > number of parameters on \(tensor, pipeline\) model parallel rank \(\d+, \d+\): \d+$/gm,
  );
  assert.equal(shards?.length, c.layout.tp * c.layout.pp, "one parameter line per shard");
});
