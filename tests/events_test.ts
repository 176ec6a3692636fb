/**
 * Lived-in events at their configured rates (REALISM 3.3, 3.9), over many seeds, and the
 * consistency of a restart: it resumes from the last checkpoint, replays the lost steps, and
 * the step counter and consumed samples never disagree.
 */
import assert from "node:assert/strict";
import { VirtualClock } from "../lib/core/clock.ts";
import type { Dialect, LogWindow } from "../lib/dialects/dialect.ts";
import { TorchrunDialect } from "../lib/dialects/torchrun.ts";
import type { RunEvent } from "../lib/engine/events.ts";
import { derivePhysics, lossScaler, RunSim, type StepRecord } from "../lib/engine/run.ts";
import { buildScenario, isInfeasible, type Scenario } from "../lib/engine/scenario.ts";
import { MODELS } from "../lib/data.ts";
import { createRunContext } from "../lib/phases/context.ts";
import { trainingPhase } from "../lib/phases/training.ts";
import { MemoryTerminal } from "../lib/term/memory_terminal.ts";
import { Screen } from "../lib/term/screen.ts";

function scenario(req: Parameters<typeof buildScenario>[0]): Scenario {
  const s = buildScenario(req);
  if (isInfeasible(s)) throw new Error(s.reason);
  return s;
}

/** A Poisson count lies within 4.5 standard deviations of its mean (a failure every ~10^5 runs). */
function poissonBand(count: number, mean: number, what: string): void {
  const sd = Math.sqrt(mean);
  assert.ok(
    Math.abs(count - mean) <= 4.5 * sd + 1,
    `${what}: ${count} events, expected ${mean.toFixed(1)} ± ${(4.5 * sd).toFixed(1)}`,
  );
}

Deno.test("RunSim spikes at its configured rate for ≥100B models, never for small ones", () => {
  const big = MODELS.find((m) => m.id === "llama-3.1-405b")!;
  let spikes = 0, expected = 0;
  for (let seed = 1; seed <= 6; seed++) {
    const s = scenario({ seed, model: big, kind: "pretrain", gpus: 16384 });
    const cfg = { ...s.config, endStep: s.config.startStep + 60_000, totalSteps: 10_000_000 };
    const physics = derivePhysics(cfg, s.candidate);
    assert.ok(physics.spikeRate >= 1 / 20_000 && physics.spikeRate <= 1 / 5_000);
    const sim = new RunSim(cfg, physics);
    let inSpike = false;
    let steps = 0;
    while (!sim.done) {
      const r = sim.next();
      if (!inSpike) steps++; // a new spike can only begin outside one
      if (r.spike && !inSpike) spikes++;
      inSpike = r.spike;
    }
    expected += steps * physics.spikeRate;
  }
  poissonBand(spikes, expected, "spikes over 360k steps of 405B runs");
  const small = scenario({
    seed: 1,
    model: MODELS.find((m) => m.id === "llama-3.1-8b")!,
    kind: "pretrain",
  });
  assert.equal(derivePhysics(small.config, small.candidate).spikeRate, 0);
});

Deno.test("a spike's grad norm grows 10²–10³× before the loss peaks, and the loss recovers", () => {
  const big = MODELS.find((m) => m.id === "llama-3.1-405b")!;
  for (let seed = 1; seed <= 30; seed++) {
    const s = scenario({ seed, model: big, kind: "pretrain" });
    const cfg = { ...s.config, endStep: s.config.startStep + 40_000, totalSteps: 10_000_000 };
    const sim = new RunSim(cfg, derivePhysics(cfg, s.candidate));
    const recs: StepRecord[] = [];
    while (!sim.done) recs.push(sim.next());
    const start = recs.findIndex((r, i) => r.spike && !(recs[i - 1]?.spike ?? false));
    if (start < 1) continue;
    const before = recs[start - 1]!;
    const window = recs.slice(start, start + 120);
    const end = window.findIndex((r) => !r.spike);
    assert.ok(end > 0 && end <= 100, `recovers within tens of steps (${end})`);
    const peakGrad = Math.max(...window.slice(0, end).map((r) => r.gradNorm));
    assert.ok(peakGrad / before.gradNorm >= 50, `grad norm ×${peakGrad / before.gradNorm}`);
    const peakLoss = Math.max(...window.slice(0, end).map((r) => r.loss));
    assert.ok(peakLoss - before.loss >= 0.2, "the loss jumps");
    assert.ok(Math.abs(window[end]!.loss - before.loss) < 0.3, "and comes back");
    return;
  }
  assert.fail("no spike in 30 seeds × 40k steps of a 405B run");
});

Deno.test("fp16 overflows: a burst down to the run's ceiling, then one (two with hysteresis) per scaler window; bf16 never", () => {
  const seen = new Set<string>();
  for (let seed = 1; seed <= 80 && seen.size < 3; seed++) {
    const s = buildScenario({ seed, precision: "fp16", kind: "pretrain", fresh: true });
    if (isInfeasible(s) || !s.fits) continue;
    const scaler = lossScaler(s.config.framework);
    const cfg = { ...s.config, startStep: 0, endStep: 20_000, totalSteps: 1_000_000 };
    const sim = new RunSim(cfg, derivePhysics(cfg, s.candidate));
    const ceiling = sim.state().scaleCeiling;
    let burst = 0, later = 0, k = 0, prevLr = 0, skipped = 0, kept = 0;
    while (!sim.done) {
      const r = sim.next();
      k++;
      if (r.overflow) {
        skipped++;
        // hysteresis 2 (Megatron, DeepSpeed): the first overflow after a growth keeps the
        // scale; every other overflow halves it
        if (r.overflow.hysteresis > 1) {
          assert.equal(r.overflow.reduced, r.overflow.attempted, "hysteresis keeps the scale");
          kept++;
        } else assert.equal(r.overflow.reduced, r.overflow.attempted / 2, "the scale halves");
        assert.ok(r.skipped);
        if (k <= 40) burst++;
        else later++;
        // Megatron and DeepSpeed hold the LR scheduler on a skipped step
        if (scaler.holdsLr) assert.equal(r.lr, prevLr, `step ${r.step}: the LR is held`);
      } else if (k > 1 && k <= cfg.lr.warmupSteps) {
        assert.ok(r.lr > prevLr, `step ${r.step}: warm-up climbs`);
      }
      prevLr = r.lr;
    }
    // every skipped step is counted: the curves follow the updates actually applied
    assert.equal(sim.appliedSteps, cfg.endStep - skipped);
    assert.equal(sim.state().skippedSteps, skipped);
    if (scaler.hysteresis === 1) assert.equal(kept, 0, "GradScaler has no hysteresis");
    // from the initial scale (Megatron 2^32, DeepSpeed and GradScaler 2^16) down to a ceiling
    // of 2^15..2^19: one halving per power of two, plus the overflow the hysteresis absorbs
    const walk = Math.max(0, Math.log2(scaler.initial / ceiling));
    const expectBurst = walk > 0 ? walk + scaler.hysteresis - 1 : 0;
    assert.ok(
      burst >= expectBurst && burst <= expectBurst + 2,
      `${cfg.framework}: start burst of ${burst}, expected ${expectBurst}`,
    );
    // the scale doubles after a window of good steps and overflows again: once more than it
    // halves with hysteresis 2 (the first overflow only uses the hysteresis up)
    const expected = (20_000 / scaler.window) * scaler.hysteresis;
    assert.ok(
      later >= expected * 0.5 && later <= expected * 1.5 + 10,
      `${cfg.framework}: ${later} overflows in ~20k steps, expected ~${expected}`,
    );
    seen.add(
      cfg.framework === "megascale" ? "megatron" : scaler.holdsLr ? cfg.framework : "scaler",
    );
  }
  assert.deepEqual([...seen].sort(), ["deepspeed", "megatron", "scaler"], "all scaler kinds");
  const bf = scenario({ seed: 3, precision: "bf16", kind: "pretrain" });
  const sim = new RunSim(bf.config, derivePhysics(bf.config, bf.candidate));
  for (let i = 0; i < 5000 && !sim.done; i++) assert.equal(sim.next().overflow, null);
});

Deno.test("fp16: skipped steps apply no update, so the loss stays flat while the scale walks down", () => {
  const s = scenario({
    seed: 10,
    precision: "fp16",
    kind: "pretrain",
    fresh: true,
    framework: "megatron",
  });
  const cfg = { ...s.config, startStep: 0, endStep: 400, totalSteps: 100_000 };
  const physics = derivePhysics(cfg, s.candidate);
  const sim = new RunSim(cfg, physics);
  const recs: StepRecord[] = [];
  while (!sim.done) recs.push(sim.next());
  const burst = recs.findIndex((r) => !r.skipped);
  // 2^32 down to a ceiling ≤ 2^19: at least 13 halvings and the hysteresis overflow
  assert.ok(burst >= 14, `a burst of ${burst} skipped steps at the start`);
  const losses = recs.slice(0, burst).map((r) => r.loss);
  const spread = Math.max(...losses) - Math.min(...losses);
  // batch noise only (an updating run falls by nats over these steps)
  assert.ok(spread < 0.4, `the loss moves ${spread.toFixed(3)} over ${burst} skipped steps`);
  assert.ok(losses.at(-1)! > losses[0]! - 0.3, "no downward trend while skipping");
  // once updates apply, it falls as a fresh run does
  assert.ok(recs[burst + 200]!.loss < losses[0]! - 1, "the loss falls after the burst");
  // a state saved before the skipped-step count existed loads with none
  const old = sim.state();
  delete old.skippedSteps;
  delete old.hysteresis;
  const back = new RunSim(cfg, physics, old);
  assert.equal(back.appliedSteps, back.step);
  assert.ok(Number.isFinite(back.next().loss));
});

interface Watched {
  events: RunEvent[];
  windows: LogWindow[];
  checkpoints: number[];
  trainHours: number;
}

/** Run the training phase with given cluster rates, recording events, windows and saves. */
async function trainWith(
  s: Scenario,
  rates: { faultsPerHour: number; stragglersPerHour: number; watchdogMs: number },
): Promise<Watched> {
  const cfg = s.config;
  const physics = derivePhysics(cfg, s.candidate);
  const d: Dialect = new TorchrunDialect();
  const seen: Watched = { events: [], windows: [], checkpoints: [], trainHours: 0 };
  const event = d.event.bind(d);
  d.event = (ctx, e) => (seen.events.push(e), event(ctx, e));
  const stepLog = d.stepLog.bind(d);
  d.stepLog = (ctx, w) => (seen.windows.push(w), stepLog(ctx, w));
  const done = d.checkpointDone.bind(d);
  d.checkpointDone = (ctx, c, dir) => (seen.checkpoints.push(c.step), done(ctx, c, dir));
  const ctx = createRunContext({
    screen: new Screen(new MemoryTerminal({ columns: 200 })),
    clock: new VirtualClock(0),
    cfg,
    physics,
    sim: new RunSim(cfg, physics),
    dialect: d,
    runIndex: 1,
    tz: 0,
    replay: "",
  });
  ctx.rates = rates;
  await trainingPhase.run(ctx);
  seen.trainHours = ctx.totals.trainMs / 3.6e6;
  return seen;
}

Deno.test("faults come at the configured rate and each restarts from the last checkpoint", async () => {
  let faults = 0, expected = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const s = scenario({ seed, kind: "pretrain", gpus: 64 });
    const cfg = {
      ...s.config,
      endStep: s.config.startStep + 3000,
      totalSteps: s.config.startStep + 1_000_000,
      saveInterval: 200,
      evalInterval: 1_000_000,
    };
    const rates = { faultsPerHour: 4, stragglersPerHour: 0, watchdogMs: 60_000 };
    const seen = await trainWith({ ...s, config: cfg }, rates);
    const restarts = seen.events.filter((e) => e.kind === "restart");
    const faultEvents = seen.events.filter((e) => e.kind === "fault");
    faults += faultEvents.length;
    // time actually stepping (the replayed steps included) is what the fault clock ran on
    expected += rates.faultsPerHour * seen.trainHours;
    for (const r of restarts) {
      if (r.kind !== "restart") continue;
      const saves = seen.checkpoints.filter((c) => c <= r.fromStep);
      const last = saves.length ? Math.max(...saves) : cfg.startStep;
      assert.equal(r.fromStep, last, "restarts from the last checkpoint");
    }
    // every logged step: consumed samples = step × global batch, and after a restart the steps
    // continue from the checkpoint (replayed), never skipping one
    let prev = cfg.startStep;
    for (const w of seen.windows) {
      const r = w.last;
      assert.equal(r.samples, r.step * cfg.globalBatch, `samples at step ${r.step}`);
      assert.equal(r.tokens, r.samples * cfg.seqLen);
      if (r.step <= prev) {
        const back = restarts.find((e) => e.kind === "restart" && e.fromStep < r.step);
        assert.ok(back, `step ${r.step} after ${prev} without a restart`);
      }
      prev = r.step;
    }
    if (faultEvents.length > 3) assert.ok(seen.events.length > 0);
  }
  assert.ok(expected >= 10, `enough simulated hours (${expected.toFixed(1)} faults expected)`);
  poissonBand(faults, expected, "faults at 4 per hour");
});

Deno.test("a node turns slow and recovers at the configured rate", async () => {
  let stragglers = 0, expected = 0;
  for (let seed = 1; seed <= 8; seed++) {
    const s = scenario({ seed, kind: "pretrain", gpus: 256 });
    const cfg = { ...s.config, endStep: s.config.startStep + 3000, totalSteps: 10_000_000 };
    const rates = { faultsPerHour: 0, stragglersPerHour: 3, watchdogMs: 60_000 };
    const seen = await trainWith({ ...s, config: cfg }, rates);
    const on = seen.events.filter((e) => e.kind === "straggler" && e.on);
    stragglers += on.length;
    for (const e of on) {
      if (e.kind !== "straggler") continue;
      assert.ok(e.slowdown >= 1.03 && e.slowdown <= 1.1, `slowdown ${e.slowdown}`);
      assert.ok(e.node >= 0 && e.node < cfg.nodes);
    }
    // while no straggler is active new ones may start: the expectation uses the training time
    expected += rates.stragglersPerHour * seen.trainHours;
  }
  // a straggler lasts 10–120 min, and none starts while one is active: fewer than time × rate
  assert.ok(expected >= 5, `enough simulated hours (${expected.toFixed(1)} expected)`);
  assert.ok(stragglers > 0 && stragglers <= expected + 4.5 * Math.sqrt(expected) + 1);
});

Deno.test("cluster rates follow the published figures: 1 interruption per ~3 h at 16,384 GPUs", async () => {
  const { clusterRates } = await import("../lib/engine/events.ts");
  const s = scenario({
    seed: 1,
    model: MODELS.find((m) => m.id === "llama-3.1-405b")!,
    gpus: 16384,
  });
  const r = clusterRates(s.config);
  assert.ok(r.faultsPerHour > 0.28 && r.faultsPerHour < 0.36, `${r.faultsPerHour} per hour`);
  assert.equal(r.watchdogMs, 600_000);
  const one = scenario({ seed: 1, model: MODELS.find((m) => m.id === "gpt2")!, gpus: 1 });
  assert.equal(clusterRates(one.config).faultsPerHour, 0, "one GPU has no collective to hang");
});

Deno.test("RunSim validation and save durations vary by a few % and replay identically", () => {
  const s = scenario({ seed: 4, kind: "pretrain" });
  const physics = derivePhysics(s.config, s.candidate);
  const sim = new RunSim(s.config, physics);
  const run = () => {
    const evals: number[] = [], saves: number[] = [];
    for (let i = 0; i < 12; i++) {
      sim.next();
      evals.push(sim.evaluate().durationMs);
      saves.push(sim.checkpoint().durationMs);
    }
    return { evals, saves };
  };
  const saved = sim.state();
  const first = run();
  for (
    const [xs, mean] of [[first.evals, physics.evalSeconds], [
      first.saves,
      physics.checkpointSeconds,
    ]] as const
  ) {
    assert.ok(new Set(xs).size === xs.length, "no two alike");
    for (const x of xs) {
      const r = x / (mean * 1000);
      assert.ok(r > 0.85 && r < 1.15, `within a few % of the physics (${r.toFixed(3)})`);
    }
  }
  sim.restore(saved);
  assert.deepEqual(run(), first, "a restart replays the same durations");
  // a state saved before the stream existed still loads
  const old = sim.state();
  delete old.ioRng;
  assert.ok(new RunSim(s.config, physics, old).evaluate().durationMs > 0);
});
