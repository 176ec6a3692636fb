/**
 * nanoGPT dialect: a golden excerpt of a fresh GPT-2 run, every `iter` line parsed back (the
 * running MFU recomputed here from the log windows the way train.py computes it), nanoGPT's
 * parameter counts, the per-rank start-up prints, evals and checkpoints, a restart.
 */
import assert from "node:assert/strict";
import { VirtualClock } from "../../lib/core/clock.ts";
import { runShow } from "../../lib/core/scheduler.ts";
import { MODELS } from "../../lib/data.ts";
import { NanoGptDialect } from "../../lib/dialects/nanogpt.ts";
import type { LogWindow } from "../../lib/dialects/dialect.ts";
import type { ScenarioRequest } from "../../lib/engine/scenario.ts";
import type { HiddenConfig } from "../../lib/engine/types.ts";
import { MemoryTerminal } from "../../lib/term/memory_terminal.ts";
import { Screen } from "../../lib/term/screen.ts";
import { assertGolden } from "../_golden.ts";
import { near, play, START } from "./_harness.ts";

const GPT2 = MODELS.find((m) => m.id === "gpt2")!;
const FRESH: Omit<ScenarioRequest, "seed"> = {
  framework: "nanogpt",
  kind: "pretrain",
  model: GPT2,
  fresh: true,
};
const make = () => new NanoGptDialect();

/** First lines, the lines around the first eval and the first save, the last lines. */
function excerpt(text: string, marks: string[]): string {
  const lines = text.split("\n");
  const ranges: [number, number][] = [[0, 120]];
  for (const mark of marks) {
    const i = lines.findIndex((l, k) => k >= 120 && l.startsWith(mark));
    if (i >= 0) ranges.push([Math.max(0, i - 4), i + 6]);
  }
  ranges.push([Math.max(0, lines.length - 40), lines.length]);
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [a, b] of ranges) {
    const top = merged[merged.length - 1];
    if (top && a <= top[1]) top[1] = Math.max(top[1], b);
    else merged.push([a, b]);
  }
  return merged.map(([a, b]) =>
    [`--- lines ${a + 1}-${Math.min(b, lines.length)} ---`, ...lines.slice(a, b)].join("\n")
  ).join("\n") + "\n";
}

/**
 * train.py's running MFU, recomputed from the windows: model.py's estimate_mfu (6N + 12·L·H·Q·T
 * FLOPs per token, N without position embeddings, vocab 50304, no biases) against 312 TFLOP/s,
 * averaged 0.9/0.1 from the fifth iteration of the process on, −1 before.
 */
function runningMfu(cfg: HiddenConfig, windows: LogWindow[], dts: number[]): number[] {
  const a = cfg.arch;
  const h = a.hidden;
  const n = 50304 * h + a.layers * (3 * h * h + h * h + 2 * h * a.ffn + 2 * h) + h;
  const flopsPerToken = 6 * n + 12 * a.layers * a.heads * (h / a.heads) * cfg.seqLen;
  const tokensPerGpu = (cfg.globalBatch * cfg.seqLen) / cfg.gpus;
  let local = 0;
  let running = -1;
  return windows.map((w, i) => {
    local += w.steps;
    if (local - 1 >= 5) {
      const mfu = (flopsPerToken * tokensPerGpu) / (dts[i]! / 1000) / 312e12;
      running = running === -1 ? mfu : 0.9 * running + 0.1 * mfu;
    }
    return running * 100;
  });
}

const ITER = /^iter (\d+): loss (\d+\.\d{4}), time (\d+\.\d\d)ms, mfu (-?\d+\.\d\d)%$/gm;
const EVAL = /^step (\d+): train loss (\d+\.\d{4}), val loss (\d+\.\d{4})$/gm;

Deno.test("nanoGPT: golden excerpt of a fresh GPT-2 run on 4 GPUs", async () => {
  const { text } = await play(make, FRESH, 35);
  const golden = excerpt(text, [
    "tokens per iteration",
    "number of parameters",
    "compiling the model",
    "step 50:",
    "saving checkpoint",
  ]);
  assert.ok(golden.length < 40_000, `excerpt is ${golden.length} bytes`);
  await assertGolden("dialect-nanogpt.txt", golden);
});

for (
  const [seed, request] of [
    [35, FRESH],
    [19, FRESH],
    [50, FRESH],
    [15, FRESH],
    [1, { ...FRESH, fresh: false }],
  ] as const
) {
  Deno.test(`nanoGPT: every iter line of seed ${seed} parses back, running MFU included`, async () => {
    const { text, windows, cfg } = await play(make, request, seed);
    const matches = [...text.matchAll(ITER)];
    assert.equal(matches.length, windows.length, "one iter line per log window");
    const mfu = runningMfu(cfg, windows, matches.map((m) => Number(m[3])));
    // train.py logs `iter_num % log_interval == 0`, iter_num 0-based: iteration 0 of a fresh run
    // and multiples of log_interval only, the last iteration included only if it is one
    const iters = matches.map((m) => Number(m[1]));
    for (const it of iters) assert.equal(it % cfg.logInterval, 0, `iter ${it}`);
    if (cfg.startStep === 0) assert.equal(iters[0], 0, "iteration 0 is logged");
    const firstIter = Math.ceil(cfg.startStep / cfg.logInterval) * cfg.logInterval;
    assert.equal(iters[0], firstIter, "from the first multiple of log_interval");
    matches.forEach((m, i) => {
      const w = windows[i]!;
      assert.equal(Number(m[1]), w.last.step - 1, "engine step k is iter_num k - 1");
      // the loss of the iteration it logs (lossf) and that iteration's dt: its own step time,
      // plus the evaluation at its top if it had one (or the process's start)
      assert.ok(near(Number(m[2]), w.last.loss, 4), `loss ${m[2]} vs ${w.last.loss}`);
      const top = (w.last.step - 1) % cfg.evalInterval === 0 || w.last.step === cfg.startStep + 1;
      if (top) assert.ok(Number(m[3]) >= w.last.stepMs - 0.01, `time ${m[3]} at an eval`);
      else assert.ok(near(Number(m[3]), w.last.stepMs, 2), `time ${m[3]} vs ${w.last.stepMs}`);
      // (recomputed from the printed time, itself rounded to 0.01 ms)
      assert.ok(Math.abs(Number(m[4]) - mfu[i]!) <= 0.006, `mfu ${m[4]} vs ${mfu[i]}`);
    });
    // the evaluation at the top of iteration N prints before "iter N"
    for (const e of text.matchAll(EVAL)) {
      const at = text.indexOf(`\niter ${e[1]}: `);
      if (at >= 0) assert.ok(e.index! < at, `step ${e[1]} before iter ${e[1]}`);
    }
    if (windows[0]!.steps < 5) assert.equal(matches[0]![4], "-100.00", "no estimate yet");
    assert.ok(mfu[mfu.length - 1]! > 5 && mfu[mfu.length - 1]! < 80, "a plausible MFU");
    assert.ok(!/undefined|NaN|Infinity/.test(text));
  });
}

Deno.test("nanoGPT: every local rank prints the set-up; rank 0 alone trains", async () => {
  const { text, cfg } = await play(make, FRESH, 35);
  const count = (s: string) => text.split("\n").filter((l) => l === s).length;
  const ranks = cfg.gpusPerNode;
  assert.ok(ranks > 1);
  const tokens = cfg.globalBatch * cfg.seqLen;
  assert.equal(count("Overriding config with config/train_gpt2.py:"), ranks);
  assert.equal(count(`tokens per iteration will be: ${tokens.toLocaleString("en-US")}`), ranks);
  assert.equal(count("Initializing a new model from scratch"), ranks);
  assert.equal(
    count("defaulting to vocab_size of GPT-2 to 50304 (50257 rounded up for efficiency)"),
    ranks,
  );
  // bias=False, vocab 50304: nanoGPT's numbers for the 124M model
  assert.equal(count("number of parameters: 123.59M"), ranks);
  assert.equal(count("num decayed parameter tensors: 50, with 124,354,560 parameters"), ranks);
  assert.equal(count("num non-decayed parameter tensors: 25, with 19,200 parameters"), ranks);
  assert.equal(count("using fused AdamW: True"), ranks);
  assert.equal(count("compiling the model... (takes a ~minute)"), ranks);
  const perGpu = cfg.globalBatch / (cfg.layout.microBatch * cfg.gpus);
  assert.ok(text.includes(`batch_size = ${cfg.layout.microBatch}\nblock_size = ${cfg.seqLen}\n`));
  assert.ok(text.includes(`gradient_accumulation_steps = ${perGpu} * ${cfg.gpus}\n`));
  assert.ok(text.includes(`max_iters = ${cfg.totalSteps}\n`));
  assert.ok(text.includes(`eval_interval = ${cfg.evalInterval}\n`));
  assert.ok(text.includes(`log_interval = ${cfg.logInterval}\n`));
  assert.ok(
    text.startsWith("$ nvidia-smi\n"),
    "nvidia-smi is typed on the node before the launch",
  );
  assert.ok(text.includes(`$ torchrun --standalone --nproc_per_node=${ranks} `));
  // rank-0 lines: evals (step 0 first on a fresh run), saves, iters
  const evals = [...text.matchAll(EVAL)].map((m) => Number(m[1]));
  assert.equal(evals[0], 0, "a fresh run evaluates before its first iteration");
  for (const s of evals.slice(1)) assert.equal(s % cfg.evalInterval, 0);
  assert.ok(count(`saving checkpoint to ${cfg.site.checkpointDir}`) >= 1);
  const iter0 = text.indexOf("\niter ");
  assert.ok(text.indexOf("\nstep 0: ") < iter0, "step 0 eval before the first iter line");
  assert.ok(text.indexOf("compiling the model") < text.indexOf("\nstep 0: "));
});

Deno.test("nanoGPT: one GPU runs python train.py, printing everything once", async () => {
  const gpus = { ...FRESH, gpus: 1 };
  const { text } = await play(make, gpus, 35);
  assert.ok(text.includes("$ python train.py config/train_gpt2.py\n"));
  assert.equal(text.split("\n").filter((l) => l === "using fused AdamW: True").length, 1);
  assert.ok(text.includes("gradient_accumulation_steps = "));
  assert.ok(!text.includes("torch/distributed/run.py"), "no torchrun, no OMP warning");
});

Deno.test("nanoGPT: a resumed session resumes from out_dir and saves at its first eval", async () => {
  const { text, cfg } = await play(make, { ...FRESH, fresh: false }, 1);
  assert.ok(cfg.startStep > 0);
  assert.ok(text.includes(" train.py config/train_gpt2.py --init_from=resume\n"));
  assert.ok(text.includes("Overriding: init_from = resume\n"));
  assert.ok(text.includes(`Resuming training from ${cfg.site.checkpointDir}\n`));
  assert.ok(!text.includes("Initializing a new model from scratch"));
  if (cfg.startStep % cfg.evalInterval === 0) {
    const evalLine = text.indexOf(`\nstep ${cfg.startStep}: train loss `);
    assert.ok(evalLine > 0, "always evaluates at an eval_interval multiple");
    assert.ok(
      text.startsWith(
        `\nsaving checkpoint to ${cfg.site.checkpointDir}`,
        text.indexOf("\n", evalLine + 1),
      ),
      "always_save_checkpoint saves right after",
    );
  }
});

Deno.test("nanoGPT: a fault restarts the processes, which print their set-up again", async () => {
  const term = new MemoryTerminal({ columns: 400 });
  await runShow({
    seed: 1,
    exitAfterRuns: 1,
    tz: 0,
    request: { framework: "nanogpt", kind: "pretrain", model: GPT2 },
    replayFlags: "",
    chaos: true,
    dialect: make,
  }, { screen: new Screen(term, { wrap: false }), clock: new VirtualClock(START) });
  const text = term.text;
  const fault = text.indexOf("Watchdog caught collective operation timeout");
  assert.ok(fault > 0, "chaos makes this seed fault");
  const after = text.slice(fault);
  let at = -1;
  for (
    const s of [
      "Worker group FAILED. 3/3 attempts left; will restart worker group",
      "Overriding config with config/train_gpt2.py:",
      "Resuming training from ",
      "number of parameters: ",
      "compiling the model... (takes a ~minute)",
      "mfu -100.00%",
    ]
  ) {
    const i = after.indexOf(s, at + 1);
    assert.ok(i > at, `"${s}" after the fault`);
    at = i;
  }
});
