/**
 * A training run's pure core end to end: the configuration the engine derives from what the
 * user asked for, the recorder's files, and a resume from a checkpoint that continues the run
 * (step, samples, learning rate and loss) where it stood.
 */
import assert from "node:assert/strict";
import { VirtualClock } from "../../lib/core/clock.ts";
import { DATASETS } from "../../lib/data.ts";
import { JsonlDialect } from "../../lib/dialects/jsonl.ts";
import { TeeDialect } from "../../lib/dialects/tee.ts";
import { TrainerDialect } from "../../lib/dialects/trainer.ts";
import { derivePhysics, RunSim } from "../../lib/engine/run.ts";
import { isInfeasible, type Scenario } from "../../lib/engine/scenario.ts";
import { learningRate } from "../../lib/engine/schedule.ts";
import { samplesPerEpoch, withDataLoader } from "../../lib/engine/train_scenario.ts";
import { MemoryTerminal } from "../../lib/term/memory_terminal.ts";
import { Screen } from "../../lib/term/screen.ts";
import { DEFAULT_TRAIN_CONFIG, mergeConfig } from "../../lib/trainer/config.ts";
import { resolveDevice } from "../../lib/trainer/device.ts";
import { type RunFiles, RunRecorder } from "../../lib/trainer/recorder.ts";
import { playTrain, resumedConfig, trainScenario } from "../../lib/trainer/session.ts";
import { queuedState } from "../../lib/trainer/state.ts";
import type { CheckpointManifest, RunState, TrainConfig } from "../../lib/trainer/types.ts";

const START = Date.parse("2026-11-26T09:00:00Z");

function scenario(over: Partial<TrainConfig> = {}): Scenario {
  const c = mergeConfig(over);
  const { device, precision } = resolveDevice(c);
  const s = trainScenario(c, device, precision, { checkpointDir: "runs/x/checkpoints", pid: 4242 });
  if ("reason" in s) throw new Error(s.reason);
  return s;
}

function queued(): RunState {
  return queuedState("x", START);
}

/** Files in memory; the wall clock advances 10 ms a call, so throttles are exercised. */
class MemoryFiles implements RunFiles {
  states: RunState[] = [];
  manifests: CheckpointManifest[] = [];
  metrics: string[] = [];
  wall = START;
  stopAtStep: number | null = null;
  lastStep = 0;
  writeState(s: RunState): void {
    this.states.push(structuredClone(s));
    this.lastStep = s.step;
  }
  writeCheckpoint(m: CheckpointManifest): void {
    this.manifests.push(structuredClone(m));
  }
  stopRequested(): boolean {
    return this.stopAtStep !== null && this.lastStep >= this.stopAtStep;
  }
  /** When set, the wall clock is the run's own clock (for times the recorder derives). */
  clock: VirtualClock | null = null;
  wallNow(): number {
    return this.clock ? this.clock.now() : (this.wall += 10);
  }
}

async function play(
  s: Scenario,
  files: MemoryFiles,
  state: RunState,
  restore?: CheckpointManifest,
  moreEpochs = 0,
  over: Partial<TrainConfig> = {},
) {
  const term = new MemoryTerminal({ columns: 120 });
  const recorder = new RunRecorder(files, state, 4242);
  const c = mergeConfig(over);
  const dialect = new TeeDialect(
    new TrainerDialect({
      runId: "x",
      runDir: "runs/x",
      command: "llm-sim train",
      device: resolveDevice(c).device,
      moreEpochs,
      guidance: [],
    }),
    new JsonlDialect(),
    (l) => files.metrics.push(...l.split("\n")),
  );
  const sc = restore ? { ...s, config: resumedConfig(s.config, restore, moreEpochs) } : s;
  const outcome = await playTrain({
    scenario: sc,
    dialect,
    recorder,
    screen: new Screen(term),
    clock: files.clock ?? new VirtualClock(START),
    tz: 0,
    ...(restore ? { restore: restore.sim } : {}),
  });
  return { outcome, text: term.text, recorder };
}

Deno.test("trainScenario() takes the user's batch and data as given: steps per epoch from the tokens", () => {
  const s = scenario();
  const c = s.config;
  const wiki = DATASETS.find((d) => d.id === "wikitext-2")!;
  assert.equal(c.globalBatch, DEFAULT_TRAIN_CONFIG.batchSize * DEFAULT_TRAIN_CONFIG.gradAccum);
  const sequences = Math.floor(wiki.tokens / c.seqLen);
  assert.equal(c.samplesPerEpoch, sequences - (sequences % c.globalBatch), "drop_last");
  assert.equal(c.totalSteps, (c.samplesPerEpoch / c.globalBatch) * DEFAULT_TRAIN_CONFIG.epochs);
  assert.equal(c.evalInterval, c.samplesPerEpoch / c.globalBatch, "eval_every 0: each epoch");
  assert.equal(c.layout.microBatch, DEFAULT_TRAIN_CONFIG.batchSize);
  assert.equal(c.gpu.id, "a30");
  const big = trainScenario(
    mergeConfig({ dataset: "tinyshakespeare", batchSize: 64, gradAccum: 8 }),
    resolveDevice(mergeConfig({})).device,
    "bf16",
    { checkpointDir: "c", pid: 1 },
  );
  assert.ok(
    "reason" in big && /one step needs 512/.test(big.reason),
    "a batch the data cannot fill",
  );
});

Deno.test("withDataLoader(): no workers blocks every step; enough workers cost nothing", () => {
  const perf = scenario({ workers: 64 }).candidate.perf;
  assert.equal(withDataLoader(perf, 64, 1), perf);
  const inline = withDataLoader(perf, 0, 1);
  assert.ok(
    withDataLoader(perf, 0, 8).stepSeconds < inline.stepSeconds,
    "8 ranks load an eighth each",
  );
  assert.ok(inline.stepSeconds > perf.stepSeconds);
  assert.ok(Math.abs(inline.tokensPerSecond * inline.stepSeconds - perf.tokensPerStep) < 1e-6);
  assert.ok(inline.mfu < perf.mfu);
  assert.equal(
    samplesPerEpoch(DATASETS.find((d) => d.id === "tinyshakespeare")!, 1024, 4096).constructor,
    String,
  );
});

Deno.test("a run on the CPU trains in fp32 with no GPU telemetry", async () => {
  const cpu: Partial<TrainConfig> = { device: "cpu", epochs: 1, dataset: "tinyshakespeare" };
  const s = scenario(cpu);
  assert.equal(s.config.precision, "fp32");
  assert.equal(s.config.gpu.vendor, "cpu");
  const files = new MemoryFiles();
  const { outcome, text } = await play(s, files, queued(), undefined, 0, cpu);
  assert.equal(outcome, "completed");
  assert.ok(files.states.every((x) => x.gpu === null), "n/a on CPU");
  assert.ok(!files.metrics.some((l) => l.includes('"event":"gpu"')), "no GPU events");
  assert.ok(text.includes("Using cpu (AMD EPYC 7763 64-Core Processor)"));
});

Deno.test("the recorder: running then completed, throttled writes, one manifest per save", async () => {
  const s = scenario({ epochs: 2 });
  const files = new MemoryFiles();
  const { outcome } = await play(s, files, queued());
  assert.equal(outcome, "completed");
  const states = files.states;
  assert.equal(states[0]?.status, "running");
  assert.equal(states[0]?.pid, 4242);
  assert.equal(states.at(-1)?.status, "completed");
  assert.equal(states.at(-1)?.pid, null);
  assert.equal(states.at(-1)?.step, s.config.totalSteps);
  // at most one progress write a wall second, plus one each for start, end, evals and saves
  const seconds = (files.wall - START) / 1000;
  const events = 2 + 2 * files.manifests.length;
  assert.ok(states.length <= seconds + events, `${states.length} writes in ${seconds} s`);
  assert.ok(states.length < s.config.totalSteps / 2, "not one a step");
  for (let i = 1; i < states.length; i++) {
    assert.ok(states[i]!.step >= states[i - 1]!.step, "progress never goes back");
  }
  const perEpoch = s.config.samplesPerEpoch / s.config.globalBatch;
  assert.deepEqual(files.manifests.map((m) => m.step), [perEpoch, 2 * perEpoch]);
  for (const m of files.manifests) {
    assert.equal(m.sim.step, m.step);
    assert.equal(m.samples, m.step * s.config.globalBatch);
    assert.equal(m.bytes, m.files.reduce((a, f) => a + f.bytes, 0));
  }
  const steps = files.metrics.filter((l) => l.includes('"event":"step"')).map((l) => JSON.parse(l));
  assert.deepEqual(
    steps.map((e) => e.step),
    Array.from({ length: s.config.totalSteps }, (_, i) => i + 1),
  );
});

Deno.test("the recorder's ETA leaves out start-up and the first step's warm-up", async () => {
  const s = scenario({ epochs: 3 });
  const files = new MemoryFiles();
  files.clock = new VirtualClock(START);
  await play(s, files, queued());
  const end = Date.parse(files.states.at(-1)!.endedAt!);
  const early = files.states.filter((st) => st.status === "running" && st.etaAt !== null);
  assert.ok(early.length > 10);
  // from the first estimate on, the ETA is within 10 % of the time that was really left (the
  // evaluations and saves still to come are what it cannot know)
  for (const st of early) {
    const left = end - Date.parse(st.updatedAt);
    const err = Math.abs(Date.parse(st.etaAt!) - end);
    assert.ok(err <= 0.1 * left + 5_000, `step ${st.step}: off by ${err} ms of ${left} ms left`);
  }
});

Deno.test("a stop request ends the run after its step, with a checkpoint of that step", async () => {
  const s = scenario({ epochs: 3 });
  const files = new MemoryFiles();
  files.stopAtStep = 100;
  const { outcome, text } = await play(s, files, queued());
  assert.equal(outcome, "stopped");
  const last = files.states.at(-1)!;
  assert.equal(last.status, "stopped");
  assert.equal(last.lastCheckpoint, last.step);
  assert.equal(files.manifests.at(-1)?.step, last.step);
  assert.ok(last.step >= 100 && last.step < s.config.totalSteps);
  assert.match(text, /Stop requested: stopping at step \d+\/219 after saving a checkpoint/);
});

Deno.test("resume --more-epochs N: exactly N more epochs from the checkpoint, no jump in lr or loss", async () => {
  const s = scenario({ epochs: 3 });
  const perEpoch = s.config.samplesPerEpoch / s.config.globalBatch;
  const first = new MemoryFiles();
  first.stopAtStep = 100;
  await play(s, first, queued());
  const ckpt = first.manifests.at(-1)!;
  const before = first.metrics.filter((l) => l.includes('"event":"step"')).map((l) =>
    JSON.parse(l)
  );
  const second = new MemoryFiles();
  const { outcome, text } = await play(s, second, first.states.at(-1)!, ckpt, 2);
  assert.equal(outcome, "completed");
  const end = second.states.at(-1)!;
  assert.equal(end.step, ckpt.step + 2 * perEpoch, "exactly 2 more epochs");
  assert.equal(end.totalSteps, ckpt.step + 2 * perEpoch);
  const after = second.metrics.filter((l) => l.includes('"event":"step"')).map((l) =>
    JSON.parse(l)
  );
  assert.equal(after[0].step, ckpt.step + 1);
  for (const e of after) assert.equal(e.samples, e.step * s.config.globalBatch, "consumed samples");
  // the learning rate goes on from where it stood, the loss from its level
  const lrAt = learningRate(ckpt.lr, ckpt.step);
  assert.ok(after[0].lr <= lrAt && lrAt - after[0].lr < lrAt * 0.02, `lr ${lrAt} → ${after[0].lr}`);
  const near = (xs: { loss: number }[]) => xs.reduce((a, x) => a + x.loss, 0) / xs.length;
  const lastBefore = near(before.filter((e) => e.step > ckpt.step - 5 && e.step <= ckpt.step));
  const firstAfter = near(after.slice(0, 5));
  assert.ok(Math.abs(firstAfter - lastBefore) < 0.15, `loss ${lastBefore} → ${firstAfter}`);
  assert.match(text, new RegExp(`Resuming at step ${ckpt.step} .*: 2 more epochs`));
  assert.match(text, new RegExp(`Resumed from runs/x/checkpoints/step-${ckpt.step}`));
});

Deno.test("a restored engine replays an uninterrupted run exactly (same state, same steps)", () => {
  const s = scenario({ epochs: 1 });
  const cfg = s.config;
  const physics = derivePhysics(cfg, s.candidate);
  const whole = new RunSim(cfg, physics);
  const losses: number[] = [];
  let saved = null;
  while (!whole.done) {
    const r = whole.next();
    losses.push(r.loss);
    if (r.step === 30) saved = whole.state();
  }
  const again = new RunSim({ ...cfg, startStep: 30 }, physics, saved!);
  const replay: number[] = [];
  while (!again.done) replay.push(again.next().loss);
  assert.deepEqual(replay, losses.slice(30));
  assert.ok(!isInfeasible(s));
});
