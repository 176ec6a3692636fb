/**
 * The DeepSpeed dialect: a golden excerpt of one run, and the per-interval lines parsed back with
 * regexes written from REALISM 1.5 (DeepSpeed's logger, `step=…`, the throughput timer, the
 * overflow message) and 1.1.2 (the Megatron-DeepSpeed iteration variant), compared with the
 * engine's numbers.
 */
import assert from "node:assert/strict";
import { GPUS, MODELS } from "../../lib/data.ts";
import { DeepSpeedDialect } from "../../lib/dialects/deepspeed.ts";
import { paramCount, trainingFlopsPerToken } from "../../lib/engine/arch.ts";
import type { ScenarioRequest } from "../../lib/engine/scenario.ts";
import { assertGolden } from "../_golden.ts";
import { near, play, type Played, type StepClock, watchClock } from "./_harness.ts";

const A100 = GPUS.find((g) => g.id === "a100-80gb")!;
const make = () => new DeepSpeedDialect();

/** The launch and engine set-up up to the first intervals, the first eval and save, the end. */
function excerpt(text: string): string {
  const lines = text.replace(/\n$/, "").split("\n");
  const keep = new Set<number>();
  const span = (from: number, to: number) => {
    for (let i = Math.max(0, from); i <= Math.min(lines.length - 1, to); i++) keep.add(i);
  };
  const find = (re: RegExp, from = 0) => lines.findIndex((l, i) => i >= from && re.test(l));
  const first = find(/\[Rank 0\] step=[1-9]/);
  span(0, first + 6);
  const evaluation = find(/^eval step|^ validation loss at/, first);
  if (evaluation >= 0) span(evaluation - 3, evaluation + 2);
  const save = find(/is about to be saved!$/, first);
  if (save >= 0) span(save - 1, save + 12);
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

// REALISM 1.5: `[%(asctime)s] [%(levelname)s] [%(filename)s:%(lineno)d:%(funcName)s] %(message)s`
const LOGGER =
  /^\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3})\] \[(INFO|WARNING|ERROR)\] \[([\w.]+):(\d+):(\w+)\] (.*)$/;
// REALISM 1.5 `_report_progress` through log_dist: `step={step}, skipped={skipped}, lr=[…], mom=[…]`
const PROGRESS = /^\[Rank 0\] step=(\d+), skipped=(\d+), lr=\[([^\]]*)\], mom=\[(.*)\]$/;
// REALISM 1.5 throughput timer
const TIMER =
  /^epoch=(\d+)\/micro_step=(\d+)\/global_step=(\d+), RunningAvgSamplesPerSec=([\d.e+-]+), CurrSamplesPerSec=([\d.e+-]+), MemAllocated=([\d.]+)GB, MaxMemAllocated=([\d.]+)GB$/;
// REALISM 1.5 fp16 overflow: the scale halves, or the hysteresis (2) absorbs the overflow
const OVERFLOW =
  /^\[deepspeed\] OVERFLOW! Rank 0 Skipping step\. Attempted loss scale: (\d+), (?:reducing to (\d+)|but hysteresis is (\d+)\. Reducing hysteresis to (\d+))$/;
// REALISM 1.1.2, the Megatron-DeepSpeed (BLOOM) variant: seconds, consumed tokens, samples per
// second and TFLOPs, no timestamp; `loss scale` only with fp16
const MDS_ITERATION = new RegExp(
  "^ iteration ([ \\d]{8})/([ \\d]{8}) \\| consumed samples: ([ \\d]{12}) \\| " +
    "consumed tokens: ([ \\d]{12}) \\| elapsed time per iteration \\(s\\): (\\d+\\.\\d{2}) \\| " +
    "learning rate: (\\d\\.\\d{3}E[+-]\\d{2}) \\| global batch size: ([ \\d]{5}) \\| " +
    "lm loss: (\\d\\.\\d{6}E[+-]\\d{2}) \\|(?: loss scale: (\\d+\\.\\d) \\|)? " +
    "grad norm: (\\d+\\.\\d{3}) \\| number of skipped iterations: ([ \\d]{3}) \\| " +
    "number of nan iterations: ([ \\d]{3}) \\| samples per second: (\\d+\\.\\d{3}) \\| " +
    "TFLOPs: (\\d+\\.\\d{2}) \\|$",
);
// The training script's own loss line (plain DeepSpeed): step, mean loss, grad norm, lr.
const USER =
  /^step (\d+)\/(\d+) \| loss (\d+\.\d{4}) \| grad_norm (\d+\.\d{4}) \| lr (\d\.\d{3}e[+-]\d{2})(?: \| loss_scale (\d+))? \| (\d+\.\d) ms\/step \| ([\d,]+) tokens\/s$/;

interface Parsed {
  progress: RegExpExecArray[];
  timers: RegExpExecArray[];
  overflows: RegExpExecArray[];
}

function parseLogger(text: string): Parsed {
  const out: Parsed = { progress: [], timers: [], overflows: [] };
  let previous = "";
  for (const line of text.split("\n")) {
    const m = LOGGER.exec(line);
    if (!m) continue;
    assert.ok(m[1]! >= previous, `logger timestamps never go back: ${line}`);
    previous = m[1]!;
    const msg = m[6]!;
    const p = PROGRESS.exec(msg);
    if (p) {
      assert.deepEqual([m[3], m[5]], ["logging.py", "log_dist"]);
      if (p[1] !== "0") out.progress.push(p);
    }
    const t = TIMER.exec(msg);
    if (t) {
      assert.deepEqual([m[3], m[5]], ["timer.py", "stop"]);
      out.timers.push(t);
    }
    const o = OVERFLOW.exec(msg);
    if (o) out.overflows.push(o);
  }
  return out;
}

function checkRun(p: Played, fresh: boolean): void {
  const c = p.cfg;
  const l = c.layout;
  const ga = c.globalBatch / (l.microBatch * l.dp);
  const parsed = parseLogger(p.text);
  assert.equal(parsed.progress.length, p.windows.length, "one step= line per log window");
  // the throughput timer reports from the third global step of the process on (start_step=2)
  const timed = p.windows.filter((w) => w.last.step - c.startStep > 2);
  assert.equal(parsed.timers.length, timed.length, "one throughput line per timed log window");
  let skipped = -1;
  let windowSkips = 0;
  p.windows.forEach((w, i) => {
    const r = w.last;
    const s = parsed.progress[i]!;
    assert.equal(Number(s[1]), r.step);
    windowSkips += w.skipped;
    const total = Number(s[2]);
    assert.ok(total >= skipped, "the skipped count only grows");
    skipped = total;
    if (fresh) assert.equal(total, windowSkips, "skipped = overflows so far");
    const lrs = s[3]!.split(", ").map(Number);
    assert.ok(lrs.length >= 1 && lrs.every((x) => x === r.lr), `lr ${s[3]} vs ${r.lr}`);
    assert.equal(
      s[4],
      `(${c.optimizer.beta1}, ${c.optimizer.beta2}), (${c.optimizer.beta1}, ${c.optimizer.beta2})`,
    );
    const local = r.step - c.startStep;
    if (local <= 2) return;
    const t = parsed.timers[i - (p.windows.length - timed.length)]!;
    assert.equal(Number(t[3]), local, "the timer counts this process's steps");
    assert.equal(Number(t[2]), local * ga);
    const current = c.globalBatch / (r.stepMs / 1000);
    assert.ok(Math.abs(Number(t[5]) - current) <= 1e-9 * current, `CurrSamplesPerSec ${t[5]}`);
    assert.ok(
      Number(t[4]) > current / 10 && Number(t[4]) < current * 2,
      "running average in range",
    );
    assert.ok(Number(t[6]) <= Number(t[7]) && Number(t[7]) < c.gpu.capacityGiB, "memory fits");
  });
  // every skipped step printed DeepSpeed's overflow line, with the scale halving, or the
  // hysteresis going from 2 to 1 and the next overflow attempting the same scale
  assert.equal(parsed.overflows.length, windowSkips);
  parsed.overflows.forEach((o, i) => {
    if (o[2] !== undefined) assert.equal(Number(o[1]), 2 * Number(o[2]));
    else {
      assert.deepEqual([o[3], o[4]], ["2", "1"]);
      const next = parsed.overflows[i + 1];
      if (next) assert.equal(next[1], o[1], "the scale was kept");
    }
  });
  const lines = p.text.split("\n");
  if (l.tp > 1 || l.pp > 1) {
    const flopsPerToken = trainingFlopsPerToken(c.arch, c.seqLen);
    const hardware = l.recompute === "full" ? 4 / 3 : 1;
    const iterations = lines.filter((x) => x.startsWith(" iteration "));
    assert.equal(iterations.length, p.windows.length, "one iteration line per log window");
    iterations.forEach((line, i) => {
      const m = MDS_ITERATION.exec(line);
      assert.ok(m, `iteration line does not parse: ${JSON.stringify(line)}`);
      const w = p.windows[i]!;
      const r = w.last;
      assert.equal(Number(m[1]), r.step);
      assert.equal(Number(m[2]), c.totalSteps);
      assert.equal(Number(m[3]), r.samples);
      assert.equal(Number(m[4]), r.samples * c.seqLen);
      assert.ok(near(Number(m[5]), w.meanStepMs / 1000, 2));
      assert.ok(nearSci(m[6]!, r.lr, 3), `lr ${m[6]} vs ${r.lr}`);
      assert.equal(Number(m[7]), c.globalBatch);
      assert.ok(nearSci(m[8]!, w.meanLoss, 6), `loss ${m[8]} vs ${w.meanLoss}`);
      if (c.precision === "fp16") assert.equal(Number(m[9]), r.lossScale);
      else assert.equal(m[9], undefined, "bf16 runs print no loss scale");
      assert.ok(near(Number(m[10]), r.gradNorm, 3));
      assert.equal(Number(m[11]), w.skipped);
      assert.equal(Number(m[12]), 0);
      assert.ok(near(Number(m[13]), c.globalBatch / (w.meanStepMs / 1000), 3));
      const tflops = (flopsPerToken * c.globalBatch * c.seqLen * hardware) /
        (w.meanStepMs / 1000) / c.gpus / 1e12;
      assert.ok(near(Number(m[14]), tflops, 2), `TFLOPs ${m[14]} vs ${tflops}`);
    });
  } else {
    const users = lines.filter((x) => x.startsWith("step "));
    assert.equal(users.length, p.windows.length, "one loss line per log window");
    users.forEach((line, i) => {
      const m = USER.exec(line);
      assert.ok(m, `loss line does not parse: ${JSON.stringify(line)}`);
      const w = p.windows[i]!;
      assert.equal(Number(m[1]), w.last.step);
      assert.ok(near(Number(m[3]), w.meanLoss, 4));
      assert.ok(near(Number(m[4]), w.last.gradNorm, 4));
      assert.ok(near(Number(m[7]), w.meanStepMs, 1));
    });
  }
}

function stageOf(p: Played): number {
  const m = /Creating [\w.]+ ZeRO stage (\d) optimizer$/m.exec(p.text);
  return m ? Number(m[1]) : 0;
}

Deno.test("DeepSpeedDialect prints a run the way DeepSpeed does (golden excerpt)", async () => {
  const p = await play(make, { framework: "deepspeed" }, 8, { wrap: false });
  await assertGolden("dialect-deepspeed.txt", excerpt(p.text));
});

Deno.test("DeepSpeedDialect interval lines parse back to the engine's numbers", async () => {
  const stages = new Set<number>();
  let mds = 0;
  const cases: [number, Omit<ScenarioRequest, "seed">][] = [
    [4, { framework: "deepspeed" }],
    [8, { framework: "deepspeed" }],
    [12, { framework: "deepspeed" }],
    [6, { framework: "deepspeed" }],
    [1, { framework: "deepspeed" }],
    [5, { framework: "deepspeed", model: MODELS.find((m) => m.id === "llama-3.1-70b")! }],
  ];
  for (const [seed, req] of cases) {
    const p = await play(make, req, seed, { wrap: false });
    checkRun(p, p.cfg.startStep === 0);
    stages.add(stageOf(p));
    if (p.cfg.layout.tp > 1 || p.cfg.layout.pp > 1) mds++;
    assert.equal(
      stageOf(p),
      { ddp: 0, zero1: 1, zero2: 2, zero3: 3 }[p.cfg.layout.sharding],
      "ZeRO stage from the engine's sharding",
    );
  }
  assert.ok(stages.size >= 2 && mds >= 1, "several ZeRO stages and a Megatron-DeepSpeed run");
});

Deno.test("DeepSpeedDialect fp16 runs print each overflow with the engine's scales", async () => {
  // seeds whose gradients tolerate only 2^15: the scale walks down from DeepSpeed's 2^16
  for (const seed of [3, 7]) {
    const p = await play(
      make,
      { framework: "deepspeed", precision: "fp16", gpu: A100, kind: "pretrain", fresh: true },
      seed,
      { wrap: false },
    );
    checkRun(p, true);
    const first = OVERFLOW.exec(
      p.text.split("\n").map((l) => LOGGER.exec(l)?.[6] ?? "").find((m) => OVERFLOW.test(m))!,
    );
    assert.ok(first, "an overflow while the scale walks down");
    // initial_scale_power 16 (DeepSpeed's default); the first overflow uses up the hysteresis
    assert.equal(Number(first[1]), 2 ** 16);
    assert.deepEqual([first[2], first[3]], [undefined, "2"]);
    assert.match(p.text, /"initial_scale_power": 16/);
    assert.match(p.text, /initial_dynamic_scale \.+ 65536$/m);
  }
});

Deno.test("DeepSpeedDialect checkpoints write global_step tags with a ZeRO shard per rank", async () => {
  const p = await play(make, { framework: "deepspeed" }, 4, { wrap: false });
  const c = p.cfg;
  const saves = [
    ...p.text.matchAll(/\[Torch\] Checkpoint global_step(\d+) is about to be saved!$/gm),
  ];
  assert.ok(saves.length > 0);
  for (const [, step] of saves) {
    assert.equal(Number(step) % c.saveInterval === 0 || Number(step) === c.endStep, true);
  }
  const dir = `${c.site.checkpointDir}/global_step${saves[0]![1]}`;
  const prefix = c.precision === "bf16" ? "bf16_" : "";
  for (let dp = 0; dp < Math.min(c.layout.dp, c.gpusPerNode); dp++) {
    assert.ok(
      p.text.includes(
        `checkpoint saved ${dir}/${prefix}zero_pp_rank_${dp}_mp_rank_00_optim_states.pt`,
      ),
      `optimizer shard of rank ${dp}`,
    );
  }
});

Deno.test("DeepSpeedDialect Megatron-DeepSpeed windows exit on the iteration that crosses the limit", async () => {
  for (const seed of [1, 9, 31]) {
    const clock: StepClock = { steps: [], startMs: 0, windowEndMs: 0 };
    const p = await play(() => watchClock(make(), clock), { framework: "deepspeed" }, seed, {
      wrap: false,
    });
    const limit = Number(/^ {2}exit_duration_in_mins \.+ (\d+)$/m.exec(p.text)![1]) * 60_000;
    const [lastStep, lastEnd, lastMs] = clock.steps.at(-1)!;
    assert.equal(lastStep, p.cfg.endStep);
    assert.ok(lastEnd - lastMs - clock.startMs <= limit, "not crossed before the last iteration");
    assert.ok(clock.windowEndMs - clock.startMs > limit, "crossed by the last iteration");
    const exit = /^\[exiting program after (\S+) minutes\] datetime: /m.exec(p.text)!;
    assert.ok(Math.abs(Number(exit[1]) * 60_000 - (clock.windowEndMs - clock.startMs)) < 1);
  }
});

Deno.test("DeepSpeedDialect zero_to_fp32.py writes fp32 shards of ≤ 5 GB where it was told", async () => {
  let exports = 0;
  for (const seed of [3, 5, 6, 8]) {
    const p = await play(make, { framework: "deepspeed", kind: "finetune" }, seed, {
      wrap: false,
    });
    const cmd = /^\$ cd \S+ && python zero_to_fp32\.py \. (\S+) --safe_serialization$/m.exec(
      p.text,
    );
    if (!cmd) continue;
    exports++;
    const dir = cmd[1]!;
    assert.match(p.text, new RegExp(`^\\| Saved to +\\| ${dir} +\\|$`, "m"), "the summary agrees");
    const after = p.text.slice(cmd.index);
    assert.doesNotMatch(after, /config\.json|tokenizer|ForCausalLM|bfloat16/, "weights only");
    const listing = [
      ...after.matchAll(/^-rw-r--r-- 1 \S+ \S+ +(\d+) \w{3} [ \d]\d \d\d:\d\d (\S+)$/gm),
    ];
    const shards = listing.filter((m) => m[2]!.endsWith(".safetensors"));
    const n = shards.length;
    assert.ok(n >= 1);
    const bar = new RegExp(`^Saving checkpoint shards: 100%\\|█+\\| ${n}/${n} \\[`, "m");
    assert.match(after, bar, "its progress bar counts the shards");
    const total = shards.reduce((t, m) => t + Number(m[1]), 0);
    const params = paramCount(p.cfg.arch).total;
    // fp32: 4 bytes a parameter (tied weights once), plus the safetensors headers
    assert.ok(total > 4 * params * 0.9 && total < 4 * params * 1.01, `${total} B for ${params}`);
    for (const m of shards) assert.ok(Number(m[1]) <= 5e9 + 1e6, `${m[2]} under 5 GB`);
    if (n > 1) {
      assert.ok(shards.every((m, i) => m[2] === `model-${pad5(i + 1)}-of-${pad5(n)}.safetensors`));
      assert.ok(listing.some((m) => m[2] === "model.safetensors.index.json"));
    }
  }
  assert.ok(exports >= 2, "several ZeRO exports");
});

function pad5(i: number): string {
  return String(i).padStart(5, "0");
}
