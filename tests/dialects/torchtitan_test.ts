/**
 * torchtitan dialect: a golden excerpt of one run, every step line parsed back into the numbers
 * the engine produced (REALISM 1.2's HEAD template), the start-up order, the end of a run, a
 * restart after a fault, an out-of-memory death, and colour only on a colour terminal.
 */
import assert from "node:assert/strict";
import { VirtualClock } from "../../lib/core/clock.ts";
import { runShow, scenarioFor } from "../../lib/core/scheduler.ts";
import { GPUS, MODELS } from "../../lib/data.ts";
import { TorchtitanDialect } from "../../lib/dialects/torchtitan.ts";
import { GIB } from "../../lib/engine/memory.ts";
import { derivePhysics, RunSim } from "../../lib/engine/run.ts";
import {
  buildScenario,
  isInfeasible,
  type Scenario,
  type ScenarioRequest,
} from "../../lib/engine/scenario.ts";
import { parseShowArgs } from "../../lib/cli/args.ts";
import { UsageError } from "../../lib/cli/errors.ts";
import { createRunContext, play as playBeats } from "../../lib/phases/context.ts";
import { MemoryTerminal } from "../../lib/term/memory_terminal.ts";
import { Screen } from "../../lib/term/screen.ts";
import { assertGolden } from "../_golden.ts";
import { near, play, START } from "./_harness.ts";

const REQUEST: Omit<ScenarioRequest, "seed"> = { framework: "torchtitan", kind: "pretrain" };
/** A small fresh run: Llama 3.2 1B on 4 GPUs. */
const FRESH4: Omit<ScenarioRequest, "seed"> = {
  ...REQUEST,
  model: MODELS.find((m) => m.id === "llama-3.2-1b")!,
  gpus: 4,
  fresh: true,
};
const make = () => new TorchtitanDialect();

function scenario(seed: number, request = REQUEST): Scenario {
  const found = scenarioFor(seed, request);
  if ("reason" in found) throw new Error(`seed ${seed}: ${found.reason}`);
  return found.scenario;
}

/** First lines, the lines around the first eval and the first save, the last lines. */
function excerpt(text: string, marks: string[]): string {
  const lines = text.split("\n");
  const ranges: [number, number][] = [[0, 120]];
  for (const mark of marks) {
    const i = lines.findIndex((l) => l.includes(mark));
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

/** The step line of REALISM 1.2 (HEAD), fields captured with their padding. */
const STEP = new RegExp(
  String.raw`^\[rank(\d+)\]:\[titan\] (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - root - INFO - ` +
    String.raw`step: ( ?\d+)  loss: ( *\d+\.\d{5})  grad_norm: ( *\d+\.\d{4})  ` +
    String.raw`memory: ( *\d+\.\d\d)GiB\((\d+\.\d\d)%\)  tps: (\d{1,3}(?:,\d{3})*)  ` +
    String.raw`tflops: (\d{1,3}(?:,\d{3})*\.\d\d)  mfu: (\d+\.\d\d)%$`,
  "gm",
);

/** One run through the scheduler (for what the harness does not cover: chaos, colour, OOM). */
async function show(
  seed: number,
  request: Omit<ScenarioRequest, "seed">,
  opts: { chaos?: boolean; color?: boolean } = {},
): Promise<string> {
  const term = new MemoryTerminal({ columns: 400, color: opts.color ?? false });
  await runShow({
    seed,
    exitAfterRuns: 1,
    tz: 0,
    request,
    replayFlags: "",
    chaos: opts.chaos ?? false,
    dialect: make,
  }, { screen: new Screen(term, { wrap: false }), clock: new VirtualClock(START) });
  return term.text;
}

const num = (s: string) => Number(s.replaceAll(",", "").trim());

Deno.test("torchtitan: golden excerpt of a fresh 4-GPU run", async () => {
  const { text } = await play(make, FRESH4, 226);
  assert.ok(text.includes("Saving the checkpoint (or staging if async is enabled)."));
  assert.ok(text.includes("validate step:"));
  const golden = excerpt(text, ["validate step:", "Saving the checkpoint"]);
  assert.ok(golden.length < 40_000, `excerpt is ${golden.length} bytes`);
  await assertGolden("dialect-torchtitan.txt", golden);
});

for (const seed of [1, 10, 21, 31, 226]) {
  Deno.test(`torchtitan: every step line of seed ${seed} parses back to the engine's numbers`, async () => {
    const { text, windows, cfg } = await play(make, REQUEST, seed);
    const sc = scenario(seed);
    assert.equal(sc.config.seed, cfg.seed);
    const l = cfg.layout;
    const mem = sc.candidate.memory;
    const stage = mem.stages[l.pp > 1 ? l.pp - 1 : 0]!;
    const cap = cfg.gpu.capacityGiB * GIB;
    const fpt = sc.candidate.perf.flopsPerToken;
    const peakLine = /Peak FLOPS used for computing MFU: (\d\.\d{3}e\+\d\d)$/m.exec(text);
    assert.ok(peakLine, "the peak FLOPS line is printed");
    const peak = Number(peakLine[1]);
    const matches = [...text.matchAll(STEP)];
    assert.equal(matches.length, windows.length, "one step line per log window");
    const rank = l.pp > 1 ? (cfg.gpus / l.pp) * (l.pp - 1) : 0;
    let last = "";
    matches.forEach((m, i) => {
      const w = windows[i]!;
      const [, r, ts, step, loss, gn, memGiB, pct, tps, tflops, mfu] = m as unknown as string[];
      assert.equal(Number(r), rank, "the logging rank's torchrun prefix");
      assert.ok(ts! >= last, "timestamps never go back");
      last = ts!;
      // Python's {:2}, {:8.5f}, {:7.4f}, {:5.2f}: right-aligned to at least that width
      assert.equal(step!.length, Math.max(2, step!.trim().length));
      assert.equal(loss!.length, Math.max(8, loss!.trim().length));
      assert.equal(gn!.length, Math.max(7, gn!.trim().length));
      assert.equal(memGiB!.length, Math.max(5, memGiB!.trim().length));
      assert.equal(num(step!), w.last.step);
      // train_step logs the loss and grad norm of the step it logs at
      assert.ok(near(num(loss!), w.last.loss, 5), `loss ${loss} vs ${w.last.loss}`);
      assert.ok(near(num(gn!), w.last.gradNorm, 4), `grad_norm ${gn} vs ${w.last.gradNorm}`);
      assert.ok(near(num(memGiB!), stage.reserved / GIB, 2));
      assert.ok(near(num(pct!), (100 * stage.reserved) / cap, 2));
      // tokens per second per device over the window's mean step time
      const perGpu = (cfg.globalBatch * cfg.seqLen) / cfg.gpus / (w.meanStepMs / 1000);
      assert.equal(num(tps!), Math.round(perGpu));
      assert.ok(near(num(tflops!), (fpt * perGpu) / 1e12, 2), `tflops ${tflops}`);
      assert.ok(near(num(mfu!), (100 * fpt * perGpu) / peak, 2), `mfu ${mfu}`);
    });
    // (torchtitan's own fallback warning says "Peak flops undefined for: …")
    assert.ok(!/undefined|NaN|Infinity/.test(text.replaceAll("flops undefined for", "")));
  });
}

Deno.test("torchtitan: start-up lines come in train.py's order", async () => {
  const { text, cfg } = await play(make, FRESH4, 226);
  const order = [
    "$ PYTORCH_ALLOC_CONF=",
    "torch/distributed/run.py",
    "Starting job: ",
    `Building 1-D device mesh with ['dp_shard'], [${cfg.gpus}]`,
    "[GC] Initial GC collection took 0.00 seconds",
    `[rank0]:NCCL version ${cfg.site.ncclVersion}`,
    "Loading tokenizer from tokenizer.json",
    "Preparing ",
    "Building llama3 1B with TransformerModelArgs(",
    `CUDA capacity: ${cfg.gpu.smiName} with ${cfg.gpu.capacityGiB.toFixed(2)}GiB memory`,
    "Model llama3 1B size: 1,235,814,400 total parameters",
    "Applied selective activation checkpointing to the model",
    "Compiling each TransformerBlock with torch.compile",
    "Applied FSDP to the model",
    "Peak FLOPS used for computing MFU: 9.890e+14",
    "CUDA memory usage for model: ",
    "Checkpointing active. Checkpoints will be loaded from and saved to ",
    "Mixed precision training is handled by fully_shard",
    "Trainer is initialized with local batch size ",
    "Training starts at step 1",
    "step:  1  loss: ",
    "Synchronizing and adjusting timeout for all ProcessGroups to 0:10:00",
    "step:  2  loss: ",
    "validate step: 20  loss: ",
    "Saving the checkpoint (or staging if async is enabled).",
    "Finished saving the checkpoint (or staging if async is enabled)in ",
  ];
  let at = -1;
  for (const s of order) {
    const i = text.indexOf(s, at + 1);
    assert.ok(i > at, `"${s}" after the previous line`);
    at = i;
  }
  assert.ok(text.includes(`${cfg.site.checkpointDir}/checkpoint`));
  assert.ok(!text.includes("Saving a full checkpoint at last step"), "a window is not the end");
});

Deno.test("torchtitan: the last step saves a full checkpoint and the job winds down", async () => {
  const sc = scenario(226, FRESH4);
  const cfg = { ...sc.config, totalSteps: sc.config.startStep };
  const term = new MemoryTerminal({ columns: 200 });
  const physics = derivePhysics(cfg, sc.candidate);
  const ctx = createRunContext({
    screen: new Screen(term, { wrap: false }),
    clock: new VirtualClock(START),
    cfg,
    physics,
    sim: new RunSim(cfg, physics),
    dialect: make(),
    runIndex: 1,
    tz: 0,
    replay: "",
  });
  const d = ctx.dialect;
  const dir = d.checkpointDir(ctx, ctx.sim.step);
  await playBeats(ctx, d.checkpointStart(ctx, dir));
  await playBeats(ctx, d.checkpointDone(ctx, ctx.sim.checkpoint(), dir));
  await playBeats(ctx, d.trainEnd(ctx));
  const lines = term.text.trimEnd().split("\n").map((l) => l.slice(l.indexOf(" - root - ") + 10));
  assert.deepEqual(lines.map((l) => l.replace(/\d+\.\d\d seconds/, "T seconds")), [
    "INFO - Saving the checkpoint (or staging if async is enabled).",
    "INFO - Saving a full checkpoint at last step, step 0.",
    "INFO - [GC] GC collection invoked by checkpointer. took T seconds",
    "INFO - Finished saving the checkpoint (or staging if async is enabled)in T seconds.",
    "INFO - Sleeping 2 seconds for other ranks to complete",
    "INFO - Training completed",
    "INFO - Process group destroyed",
  ]);
  assert.equal(dir, `${cfg.site.checkpointDir}/checkpoint/step-0`);
  const times = term.text.split("\n").slice(4, 6).map((l) => l.slice(17, 40));
  assert.ok(times[1]! > times[0]!, "the sleep takes its 2 seconds");
});

Deno.test("torchtitan: a fault restarts the worker group, which starts up again", async () => {
  const text = await show(7, REQUEST, { chaos: true });
  const fault = text.indexOf("Watchdog caught collective operation timeout");
  assert.ok(fault > 0, "chaos makes this seed fault");
  // the watchdog enforces the timeout train.py set after step 1
  const timeout = /Timeout\(ms\)=(\d+)\)/.exec(text.slice(fault))![1];
  const [h, m, s] = /adjusting timeout for all ProcessGroups to (\d+):(\d\d):(\d\d)$/m.exec(text)!
    .slice(1).map(Number) as [number, number, number];
  assert.equal((h * 3600 + m * 60 + s) * 1000, Number(timeout));
  const after = text.slice(fault);
  let at = -1;
  for (
    const s of [
      "Worker group FAILED. 3/3 attempts left; will restart worker group",
      "[default] Starting worker group",
      "Starting job: ",
      "Trainer is initialized with ",
      "Training starts at step ",
      "step: ",
    ]
  ) {
    const i = after.indexOf(s, at + 1);
    assert.ok(i > at, `"${s}" after the fault`);
    at = i;
  }
});

Deno.test("torchtitan: weights that do not fit die in model.to_empty", async () => {
  const model = MODELS.find((m) => m.id === "llama-3.1-405b")!;
  const gpu = GPUS.find((g) => g.id === "a100-40gb")!;
  const out = await show(3, { ...REQUEST, model, gpu, gpus: 8 });
  assert.ok(out.includes("[rank0]:     model.to_empty(device=init_device)"));
  assert.ok(out.includes("torch.OutOfMemoryError: CUDA out of memory."));
  assert.ok(out.includes("torchtitan.train FAILED"));
  assert.ok(!out.includes("Peak FLOPS used for computing MFU"), "it dies before");
});

Deno.test("torchtitan: colour paints the step fields only on a colour terminal", async () => {
  const { text } = await play(make, REQUEST, 10);
  assert.ok(!text.includes("\x1b"), "the harness terminal has no colour");
  const colored = await show(10, REQUEST, { color: true });
  const line = colored.split("\n").find((l) => l.includes("step:  2"))!;
  assert.ok(line.includes("\x1b[31mstep:  2  \x1b[0m"), "step in red");
  assert.ok(line.includes("\x1b[32mloss: "), "loss in green");
  assert.ok(line.includes("\x1b[35mmfu: "), "mfu in magenta");
});

Deno.test("torchtitan runs only the models it has train specs for (Llama, DeepSeek-V3)", () => {
  const trains = (id: string, family: string, style: string) =>
    family.startsWith("Llama") || style === "deepseek_v3" || assert.fail(`torchtitan ran ${id}`);
  let titan = 0;
  for (let seed = 1; seed <= 300; seed++) {
    for (const req of [{ seed, framework: "torchtitan" as const }, { seed }]) {
      const s = buildScenario(req);
      if (isInfeasible(s) || s.config.framework !== "torchtitan") continue;
      titan++;
      trains(s.config.model.id, s.config.model.family, s.config.model.arch.style);
    }
  }
  assert.ok(titan > 100, `${titan} torchtitan runs`);
  // asked for a model it has no train spec for, the command line says so in one line
  for (const model of ["gpt2", "qwen2.5-7b", "gemma-2-9b"]) {
    assert.throws(
      () => parseShowArgs(["--style", "torchtitan", "--model", model]),
      (e: unknown) =>
        e instanceof UsageError && !e.message.includes("\n") &&
        e.message.includes(`not '${model}'`),
    );
  }
  assert.equal(
    parseShowArgs(["--style", "torchtitan", "--model", "llama-3.1-8b"]).style,
    "torchtitan",
  );
});
