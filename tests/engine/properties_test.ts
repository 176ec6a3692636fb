/**
 * Properties of every scenario the engine can build: from a seed and whatever a user may fix
 * (run kind, model, GPU, precision) to a layout that fits, a consistent throughput, a run whose
 * numbers stay physical, and a stream that the same seed reproduces. fast-check runs with a
 * fixed seed so a failure names a reproducible counterexample.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { GPUS, MODELS } from "../../lib/data.ts";
import { layoutProblem } from "../../lib/engine/layout.ts";
import { expectedTrainLoss, expectedValLoss } from "../../lib/engine/loss.ts";
import { GIB, MIB } from "../../lib/engine/memory.ts";
import { mfuPeakTflops } from "../../lib/engine/perf.ts";
import { derivePhysics, type Physics, RunSim, type StepRecord } from "../../lib/engine/run.ts";
import {
  buildScenario,
  type Infeasible,
  isInfeasible,
  type Scenario,
  type ScenarioRequest,
} from "../../lib/engine/scenario.ts";
import { learningRate } from "../../lib/engine/schedule.ts";
import { type Precision, PRECISIONS, type RunKind } from "../../lib/engine/types.ts";

const FC_SEED = 42;
const NUM_RUNS = 300;
/** Steps a run property simulates at most (fine-tunes run their whole first epoch). */
const MAX_STEPS = 400;

/** What fast-check draws: ids rather than catalog objects, so counterexamples stay readable. */
interface Draw {
  seed: number;
  kind: RunKind | undefined;
  model: string | undefined;
  gpu: string | undefined;
  precision: Precision | undefined;
}

const drawArb: fc.Arbitrary<Draw> = fc.record({
  seed: fc.integer({ min: 0, max: 0xffff_ffff }),
  kind: fc.option(fc.constantFrom<RunKind>("pretrain", "finetune"), { nil: undefined }),
  model: fc.option(fc.constantFrom(...MODELS.map((m) => m.id)), { nil: undefined }),
  gpu: fc.option(fc.constantFrom(...GPUS.map((g) => g.id)), { nil: undefined }),
  precision: fc.option(fc.constantFrom(...PRECISIONS), { nil: undefined }),
});

function request(d: Draw): ScenarioRequest {
  const req: ScenarioRequest = { seed: d.seed };
  if (d.kind) req.kind = d.kind;
  const model = MODELS.find((m) => m.id === d.model);
  if (model) req.model = model;
  const gpu = GPUS.find((g) => g.id === d.gpu);
  if (gpu) req.gpu = gpu;
  if (d.precision) req.precision = d.precision;
  return req;
}

// Every property draws the same sequence (same fc seed), so scenarios are built once.
const scenarios = new Map<string, Scenario | Infeasible>();
function scenario(d: Draw): Scenario | Infeasible {
  const key = JSON.stringify(d);
  let s = scenarios.get(key);
  if (!s) {
    s = buildScenario(request(d));
    scenarios.set(key, s);
  }
  return s;
}

interface Run {
  sim: RunSim;
  physics: Physics;
  records: StepRecord[];
  /** Simulated milliseconds the records took. */
  elapsedMs: number;
}

/** A fresh simulation of the scenario, stepped to its end or MAX_STEPS (a fine-tune's epoch). */
function run(s: Scenario): Run {
  const physics = derivePhysics(s.config, s.candidate);
  const sim = new RunSim(s.config, physics);
  const limit = s.config.kind === "finetune"
    ? Math.max(MAX_STEPS, physics.stepsPerEpoch)
    : MAX_STEPS;
  const records: StepRecord[] = [];
  let elapsedMs = 0;
  while (!sim.done && records.length < limit) {
    const r = sim.next();
    elapsedMs += r.stepMs;
    records.push(r);
  }
  return { sim, physics, records, elapsedMs };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function assertRel(actual: number, expected: number, rel: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.abs(expected),
    `${what}: ${actual} vs ${expected}`,
  );
}

/** Runs `check` on every feasible scenario fast-check draws. */
/** Runs `check` on every draw that trains (feasible and fitting). */
function forScenarios(check: (s: Scenario, d: Draw) => void, numRuns = NUM_RUNS): void {
  fc.assert(
    fc.property(drawArb, (d) => {
      const s = scenario(d);
      if (!isInfeasible(s) && s.fits) check(s, d);
    }),
    { seed: FC_SEED, numRuns },
  );
}

Deno.test("buildScenario() marks a fixed model that cannot fit as an out-of-memory run", () => {
  let oom = 0;
  fc.assert(
    fc.property(drawArb, (d) => {
      const s = scenario(d);
      if (isInfeasible(s) || s.fits) return;
      oom++;
      // only a configuration the user fixed runs into the wall; random draws are redrawn
      assert.ok(d.model !== undefined, "unfitting scenarios come from a fixed model");
      assert.equal(s.candidate.memory.fits, false);
      assert.ok(s.candidate.memory.worst.reserved > s.candidate.memory.capacity);
    }),
    { seed: FC_SEED, numRuns: NUM_RUNS },
  );
  assert.ok(oom > 0, "the draws include fixed models too large for their GPUs");
});

Deno.test("buildScenario() refuses an infeasible request with a reason and an overflowing layout", () => {
  let refused = 0;
  fc.assert(
    fc.property(drawArb, (d) => {
      const s = scenario(d);
      if (!isInfeasible(s)) return;
      refused++;
      assert.equal(typeof s.reason, "string");
      assert.ok(s.reason.trim().length > 0, "the reason is not empty");
      if (s.closest) assert.equal(s.closest.memory.fits, false, s.reason);
    }),
    { seed: FC_SEED, numRuns: NUM_RUNS },
  );
  assert.ok(refused > 0, "the draws include refusals (e.g. fp8 on parts without fp8)");
  assert.ok(refused < NUM_RUNS / 2, `${refused} of ${NUM_RUNS} draws refused`);
});

Deno.test("buildScenario() picks a layout whose memory fits the GPU", () => {
  forScenarios(({ candidate: { memory }, config }) => {
    assert.equal(memory.fits, true);
    assert.ok(memory.worst.reserved <= config.gpu.capacityGiB * GIB, "reserved ≤ capacity");
    assert.equal(memory.stages.length, config.layout.pp);
    for (const st of memory.stages) {
      assert.ok(st.reserved <= memory.worst.reserved);
      assert.ok(st.smiUsed > st.reserved, "nvidia-smi adds the CUDA context");
      assert.ok(st.smiUsed <= config.gpu.smiMiB * MIB, "nvidia-smi used ≤ its total");
    }
  });
});

Deno.test("buildScenario() picks a legal parallel layout", () => {
  forScenarios(({ config: c, candidate }) => {
    const l = c.layout;
    assert.deepEqual(candidate.layout, l);
    assert.equal(l.tp * l.pp * l.dp, c.gpus, "TP·PP·DP = world size");
    assert.equal(c.arch.heads % l.tp, 0, "TP divides the heads");
    assert.equal(c.globalBatch % (l.microBatch * l.dp), 0, "micro-batch·DP divides the batch");
    assert.equal(c.nodes * c.gpusPerNode, c.gpus);
    assert.equal(
      layoutProblem({
        arch: c.arch,
        gpu: c.gpu,
        gpus: c.gpus,
        precision: c.precision,
        seqLen: c.seqLen,
        globalBatch: c.globalBatch,
      }, l),
      null,
    );
  });
});

Deno.test("estimateThroughput() step time, tokens/s, TFLOP/s and MFU agree", () => {
  forScenarios(({ config: c, candidate: { perf } }) => {
    assertRel(perf.stepSeconds * perf.tokensPerSecond, c.globalBatch * c.seqLen, 1e-9, "tokens");
    assertRel(perf.tokensPerSecondPerGpu * c.gpus, perf.tokensPerSecond, 1e-9, "per GPU");
    assertRel(
      perf.tflopsPerGpu,
      (perf.flopsPerToken * perf.tokensPerSecondPerGpu) / 1e12,
      1e-9,
      "TFLOP/s/GPU",
    );
    // REALISM 2.3: published large runs reach 38–49 % MFU (Megatron H100 table, Llama 3),
    // MegaScale's best is 55.2 %; torchtitan's float8 8B run is ≈50 % of the bf16 peak. The band
    // allows small or poorly connected set-ups well below that (PCIe parts, tiny models,
    // thousands of small GPUs) but nothing above what any system has published plus a margin:
    // 5 %–65 %. MFU is quoted against the 16-bit peak while an fp32 run computes at the TF32 peak
    // (half of it), so the 5 % floor applies to the peak the run's math actually has.
    const runPeak = c.precision === "fp32" ? c.gpu.peakTflops.tf32 : mfuPeakTflops(c.gpu);
    const at = `MFU ${perf.mfu} (${c.model.id} ${c.precision} on ${c.gpus} × ${c.gpu.id})`;
    assert.ok(perf.tflopsPerGpu / runPeak >= 0.05, at);
    assert.ok(perf.mfu <= 0.65, at);
    assert.ok(perf.hfu >= perf.mfu);
  });
});

Deno.test("RunSim.next() keeps loss, lr, grad norm and counters physical", () => {
  forScenarios((s) => {
    const c = s.config;
    const { records, physics } = run(s);
    assert.ok(records.length > 0);
    const floor = physics.loss.floor;
    records.forEach((r, i) => {
      const at = `step ${r.step}`;
      assert.equal(r.step, c.startStep + i + 1, at);
      assert.ok(Number.isFinite(r.loss) && r.loss >= floor, `${at}: loss ${r.loss} < ${floor}`);
      assert.ok(r.lr >= 0, `${at}: lr ${r.lr}`);
      assert.ok(r.lr <= c.lr.peak, `${at}: lr ${r.lr}`);
      assert.ok(Number.isFinite(r.gradNorm) && r.gradNorm > 0, `${at}: grad norm ${r.gradNorm}`);
      assert.equal(r.samples, (c.startStep + i + 1) * c.globalBatch, `${at}: samples`);
      assert.equal(r.tokens, r.samples * c.seqLen, `${at}: tokens`);
      assertRel(r.tokensPerSecond * r.stepMs / 1000, c.globalBatch * c.seqLen, 1e-9, at);
    });
  });
});

Deno.test("RunSim.next() loss falls from ≈ ln(vocab) in a fresh pretraining run", () => {
  let fresh = 0;
  forScenarios((s) => {
    const c = s.config;
    if (c.kind !== "pretrain" || c.startStep !== 0) return;
    fresh++;
    const { records } = run(s);
    assert.ok(records.length >= 40, `${records.length} steps`);
    const losses = records.map((r) => r.loss);
    const first = mean(losses.slice(0, 20));
    const last = mean(losses.slice(-20));
    assert.ok(last < first, `mean of last 20 ${last} ≥ mean of first 20 ${first}`);
    // REALISM 3.2: the first logged loss is within ~0.5 of ln V
    const first1 = losses[0] as number;
    assert.ok(Math.abs(first1 - Math.log(c.arch.vocab)) <= 0.6, `first loss ${first1}`);
  });
  assert.ok(fresh > 0, "the draws include fresh pretraining runs");
});

Deno.test("RunSim.next() fine-tuning loss falls over the first epoch", () => {
  let finetunes = 0;
  forScenarios((s) => {
    if (s.config.kind !== "finetune") return;
    finetunes++;
    const { records, physics } = run(s);
    const epoch = records.slice(0, physics.stepsPerEpoch).map((r) => r.loss);
    assert.equal(epoch.length, physics.stepsPerEpoch);
    const k = Math.min(20, Math.floor(epoch.length / 2));
    const first = mean(epoch.slice(0, k));
    const last = mean(epoch.slice(-k));
    assert.ok(last < first, `over ${epoch.length} steps: last ${k} ${last} ≥ first ${k} ${first}`);
  });
  assert.ok(finetunes > 0, "the draws include fine-tunes");
});

Deno.test("expectedValLoss() and RunSim.evaluate() never undercut the expected train loss", () => {
  forScenarios((s) => {
    const c = s.config;
    const { sim, physics } = run(s);
    const m = physics.loss;
    const lrFrac = (step: number) =>
      step <= c.lr.warmupSteps ? 1 : sim.lrFraction(learningRate(c.lr, Math.max(1, step)));
    for (let i = 0; i <= 60; i++) {
      const step = Math.round((c.totalSteps * i) / 60);
      const train = expectedTrainLoss(m, step, lrFrac(step));
      const val = expectedValLoss(m, step, lrFrac(step));
      assert.ok(Number.isFinite(val) && val >= train, `step ${step}: val ${val} < train ${train}`);
    }
    const e = sim.evaluate();
    assert.equal(e.step, sim.step);
    const train = expectedTrainLoss(m, sim.step, lrFrac(sim.step));
    assert.ok(e.loss >= train, `eval ${e.loss} < expected train ${train}`);
    assert.ok(e.loss < 20);
    assertRel(e.perplexity, Math.exp(e.loss), 1e-12, "perplexity");
    assert.ok(e.best <= e.loss && e.improved && e.badEvals === 0, "the first eval is the best");
    assert.ok(e.durationMs > 0);
  });
});

Deno.test("Telemetry.sample() stays within the GPU's limits", () => {
  forScenarios((s) => {
    const c = s.config;
    const { sim, elapsedMs } = run(s);
    const ranks = [...new Set([0, Math.floor(c.gpus / 2), c.gpus - 1])];
    const check = (tMs: number, phase: string) => {
      for (const rank of ranks) {
        const g = sim.telemetry.sample(rank, tMs);
        const at = `${phase} rank ${rank}: ${JSON.stringify(g)}`;
        assert.equal(g.rank, rank);
        assert.ok(g.util >= 0 && g.util <= 100, at);
        assert.ok(g.powerW > 0 && g.powerW <= c.gpu.tdpW, at);
        assert.ok(g.tempC >= 20 && g.tempC <= c.gpu.thermal.shutdownC, at);
        assert.equal(g.memTotalMiB, c.gpu.smiMiB);
        assert.ok(g.memUsedMiB >= 0 && g.memUsedMiB <= g.memTotalMiB, at);
      }
    };
    check(elapsedMs, "training");
    sim.evaluate();
    check(elapsedMs + sim.physics.evalSeconds * 1000, "eval");
    sim.checkpoint();
    check(elapsedMs + 3_600_000, "checkpoint");
    sim.idle(600_000);
    check(elapsedMs + 4_200_000, "idle");
  }, 150);
});

Deno.test("buildScenario() and RunSim repeat themselves for the same seed", () => {
  forScenarios((_, d) => {
    const a = buildScenario(request(d));
    const b = buildScenario(request(d));
    assert.ok(!isInfeasible(a) && !isInfeasible(b));
    assert.deepEqual(a.config, b.config);
    assert.deepEqual(a.candidate, b.candidate);
    const simA = new RunSim(a.config, derivePhysics(a.config, a.candidate));
    const simB = new RunSim(b.config, derivePhysics(b.config, b.candidate));
    for (let i = 0; i < 50 && !simA.done; i++) assert.deepEqual(simA.next(), simB.next());
    assert.deepEqual(simA.state(), simB.state());
  }, 150);
});

Deno.test("new RunSim(cfg, physics, state()) restores the saved state", () => {
  forScenarios((s) => {
    const p = derivePhysics(s.config, s.candidate);
    const sim = new RunSim(s.config, p);
    for (let i = 0; i < 25 && !sim.done; i++) sim.next();
    const saved = JSON.parse(JSON.stringify(sim.state()));
    const resumed = new RunSim(s.config, p, saved);
    assert.equal(resumed.step, sim.step);
    assert.equal(resumed.samples, sim.samples);
    // a new process counts its own steps (its first ones are slow); everything else carries over
    assert.deepEqual(resumed.state(), { ...sim.state(), processSteps: 0 });
    // ...and it continues the same run: the same losses, lr, grad norms, counters and random
    // stream. Only the step time of its first two steps differs (a restarted process warms up).
    for (let i = 0; i < 50 && !sim.done; i++) {
      const a = sim.next(), b = resumed.next();
      const timing = (r: typeof a) => ({
        ...r,
        stepMs: 0,
        tokensPerSecond: 0,
        tokensPerSecondPerGpu: 0,
        tflopsPerGpu: 0,
        mfu: 0,
      });
      if (i < 2) assert.deepEqual(timing(b), timing(a), `step ${a.step}`);
      else assert.deepEqual(b, a, `step ${a.step}`);
    }
  }, 150);
});
