/**
 * The Megatron-LM dialect: a golden excerpt of one run, and the iteration line parsed back with a
 * regex written from REALISM 1.1.2 (not from the dialect), compared with the engine's numbers.
 */
import assert from "node:assert/strict";
import { GPUS } from "../../lib/data.ts";
import { MegatronDialect } from "../../lib/dialects/megatron.ts";
import { trainingFlopsPerToken } from "../../lib/engine/arch.ts";
import { assertGolden } from "../_golden.ts";
import { near, play, type Played, type StepClock, watchClock } from "./_harness.ts";

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
// training_log (core_v0.9.0) averages the loss over the iterations that advanced and prints it
// only when positive (`if avg > 0.0`), and prints the grad norm only when the last iteration
// returned one (an fp16 overflow returns None): both fields are optional.
const ITERATION = new RegExp(
  "^ \\[(\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2})\\] iteration ([ \\d]{8})/([ \\d]{8}) \\| " +
    "consumed samples: ([ \\d]{12}) \\| elapsed time per iteration \\(ms\\): (\\d+\\.\\d) \\| " +
    "throughput per GPU \\(TFLOP/s/GPU\\): (\\d+\\.\\d) \\| learning rate: (\\d\\.\\d{6}E[+-]\\d{2}) \\| " +
    "global batch size: ([ \\d]{5}) \\|(?: lm loss: (\\d\\.\\d{6}E[+-]\\d{2}) \\|)? loss scale: (\\d+\\.\\d) \\|" +
    "(?: grad norm: (\\d+\\.\\d{3}) \\|)? number of skipped iterations: ([ \\d]{3}) \\| " +
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
    if (w.skipped === w.steps) {
      assert.equal(m[9], undefined, "no loss when every iteration skipped");
    } else assert.ok(nearSci(m[9]!, w.meanLoss, 6), `loss ${m[9]} vs ${w.meanLoss}`);
    assert.equal(Number(m[10]), r.lossScale);
    if (r.skipped) assert.equal(m[11], undefined, "an overflowed iteration has no grad norm");
    else assert.ok(near(Number(m[11]), r.gradNorm, 3), `grad norm ${m[11]} vs ${r.gradNorm}`);
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
  assert.ok(p.windows[0]!.last.lossScale <= 2 ** 32, "the scale starts at 2^32 or below");
  // hysteresis 2: the first overflow keeps 2^32, the next ones halve it
  const walk = p.windows.filter((w) => w.last.skipped).map((w) => w.last.lossScale);
  assert.equal(walk[0], 2 ** 32, "the first overflow is absorbed by the hysteresis");
  assert.equal(walk[1], 2 ** 31, "the second halves the scale");
  // skipped iterations apply no update: the first loss printed after the burst is still the
  // initial one, however many iterations the burst took
  const first = p.windows.find((w) => w.skipped < w.steps)!;
  const skippedBefore = p.windows.filter((w) => w.last.step < first.last.step)
    .reduce((n, w) => n + w.skipped, 0);
  assert.ok(skippedBefore >= 14, `a burst of ${skippedBefore} skipped iterations`);
  const printed = /lm loss: (\S+) \|/.exec(p.stepLines[p.windows.indexOf(first)]!)!;
  assert.ok(
    Math.abs(Number(printed[1]) - Math.log(p.cfg.arch.vocab)) < 0.6,
    `the loss after the burst (${printed[1]}) is still near ln V`,
  );
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

Deno.test("MegatronDialect windows exit on the iteration that crosses --exit-duration-in-mins", async () => {
  let windows = 0;
  for (const seed of [1, 4, 7, 10, 37]) {
    const clock: StepClock = { steps: [], startMs: 0, windowEndMs: 0 };
    const p = await play(() => watchClock(make(), clock), { framework: "megatron" }, seed, {
      wrap: false,
    });
    // the save timer starts and stops on barriers: ranks differ by well under a millisecond
    for (const [, lo, hi] of p.text.matchAll(/^ {4}save-checkpoint \.+: \((\S+), (\S+)\)$/gm)) {
      const spread = Number(hi) - Number(lo);
      assert.ok(spread > 0 && spread < 2, `save-checkpoint spread ${spread.toFixed(2)} ms`);
    }
    const limit = /^ {2}exit_duration_in_mins \.+ (\S+)$/m.exec(p.text)![1]!;
    if (p.cfg.endStep >= p.cfg.totalSteps) {
      assert.equal(limit, "None");
      continue;
    }
    windows++;
    assert.match(p.text, new RegExp(`--exit-duration-in-mins ${limit} `), "command and dump agree");
    const limitMs = Number(limit) * 60_000;
    const [lastStep, lastEnd, lastMs] = clock.steps.at(-1)!;
    assert.equal(lastStep, p.cfg.endStep);
    // train_time is checked after every iteration (after its eval and save), from the start
    // of the process: still under the limit when the last iteration began, over it after
    assert.ok(lastEnd - lastMs - clock.startMs <= limitMs, "not crossed before the last iteration");
    assert.ok(clock.windowEndMs - clock.startMs > limitMs, "crossed by the last iteration");
    const exit = /^\[exiting program after (\S+) minutes\] datetime: /m.exec(p.text);
    assert.ok(exit, "the exit line");
    assert.ok(
      Math.abs(Number(exit[1]) * 60_000 - (clock.windowEndMs - clock.startMs)) < 1,
      "train_time as measured at the check, before the final save",
    );
  }
  assert.ok(windows >= 3, "several windows");
});

Deno.test("MegatronDialect save times differ from one save to the next", async () => {
  const p = await play(make, { framework: "megatron", kind: "pretrain" }, 3, { wrap: false });
  const saves = [...p.text.matchAll(/^ {4}save-checkpoint \.+: \((\S+), (\S+)\)$/gm)]
    .map((m) => m[2]);
  assert.ok(saves.length >= 2, `${saves.length} saves`);
  assert.equal(new Set(saves).size, saves.length, "no two saves take the same time");
});

Deno.test("MegatronDialect on a flaky cluster: timeouts agree, restarts are new processes, torchrun blames the hung rank", async () => {
  const p = await play(make, { framework: "megatron" }, 8, { wrap: false, chaos: true });
  const text = p.text;
  const lines = text.split("\n");
  // --distributed-timeout-minutes is the timeout the watchdog enforces
  const minutes = Number(/^ {2}distributed_timeout_minutes \.+ (\d+)$/m.exec(text)![1]);
  const timeouts = [...text.matchAll(/Timeout\(ms\)=(\d+)\)/g)].map((m) => Number(m[1]));
  assert.ok(timeouts.length >= 4, `${timeouts.length} watchdog timeouts`);
  for (const t of timeouts) assert.equal(t, minutes * 60_000);
  assert.match(lines[0]!, new RegExp(`--distributed-timeout-minutes ${minutes} `));
  // every restart starts new processes: new PIDs, a new communicator
  const inits = [
    ...text.matchAll(
      /^[\w-]+:(\d+):\d+ \[0\] NCCL INFO ncclCommInitRank comm (0x\w+) .* commId (0x\w+) - Init START$/gm,
    ),
  ];
  assert.equal(inits.length, 4, "the first start and three restarts");
  for (const i of [1, 2, 3]) assert.ok(Number(inits[i]![1]) > Number(inits[i - 1]![1]), "new PIDs");
  assert.equal(new Set(inits.map((m) => m[2])).size, 4, "new communicators");
  assert.equal(new Set(inits.map((m) => m[3])).size, 4, "new commIds");
  // torchrun's glog lines carry the agent's PID, never a worker's
  const workers = new Set(inits.map((m) => m[1]));
  const agents = new Set<string>();
  for (const m of text.matchAll(/^[IWE]\d{4} [\d:.]+ (\d+) \S*torch\/distributed\/\S+\] /gm)) {
    assert.ok(!workers.has(m[1]!), `agent line with a worker PID ${m[1]}`);
    agents.add(m[1]!);
  }
  // the agent stops this node's workers: processes of the generation that was running
  for (const m of text.matchAll(/Sending process (\d+) closing signal SIGTERM/g)) {
    const pid = Number(m[1]);
    assert.ok(inits.some((i) => pid >= Number(i[1]) && pid < Number(i[1]) + 8), `SIGTERM ${pid}`);
  }
  // the job gives up on its fourth fault: the root cause is the rank whose watchdog fired
  const lastFault = [
    ...text.matchAll(/^\[rank(\d+)\]:\[E\d{4} [\d:.]+ ProcessGroupNCCL\.cpp:607\]/gm),
  ]
    .at(-1)!;
  const rank = Number(lastFault[1]);
  const report = text.slice(text.indexOf("ChildFailedError"));
  assert.match(report, new RegExp(`^ {2}rank {6}: ${rank} \\(local_rank: ${rank % 8}\\)$`, "m"));
  assert.match(
    report,
    new RegExp(`^ {2}host {6}: \\S+-${String(Math.floor(rank / 8)).padStart(3, "0")}$`, "m"),
  );
  assert.match(
    report,
    /^ {2}exitcode {2}: -6 \(pid: (\d+)\)\n {2}error_file: <N\/A>\n {2}traceback : Signal 6 \(SIGABRT\) received by PID \1$/m,
  );
  // killed by a signal, the workers never reach the process group's destructor
  assert.doesNotMatch(text.slice(lastFault.index), /process group has NOT been destroyed/);
});
