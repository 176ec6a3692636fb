/**
 * The training loop: one simulated optimizer step per engine record, a log line per log
 * interval (averaged over it, as frameworks do), live bars and the GPU grid on a TTY, warnings
 * at their catalogued rates, validation and checkpoints at their intervals, early stopping, and
 * the end of a window onto a long run (job time limit) with its final save. The cluster lives
 * too (REALISM 3.9): a node may turn slow for a while, and a rank may hang until the NCCL
 * watchdog takes the job down, which then restarts from its last checkpoint and replays the
 * steps it lost. A configuration that does not fit dies on its first step, out of memory.
 */
import type { LiveState, LogWindow } from "../dialects/dialect.ts";
import type { RunEvent } from "../engine/events.ts";
import { outOfMemory } from "../engine/memory.ts";
import type { RunState, StepRecord } from "../engine/run.ts";
import { play, type RunContext, say } from "./context.ts";
import type { Phase } from "./phase.ts";
import { runCheckpoint } from "./checkpoint.ts";
import { runValidation } from "./validation.ts";
import { fillWarning, warningsFor } from "./warnings.ts";
import { LiveRegion } from "./live.ts";

/** torchrun --max-restarts: the attempts a job has after its first failure. */
const MAX_RESTARTS = 3;

/** On a TTY a pause longer than this redraws the bars while it lasts, simulated ms. */
const LIVE_TICK_MS = 1000;

function emptyWindow(): { steps: number; loss: number; ms: number; skipped: number } {
  return { steps: 0, loss: 0, ms: 0, skipped: 0 };
}

/** Pause for `ms`, keeping the live region moving on a TTY. */
async function pause(ctx: RunContext, ms: number, redraw: () => void): Promise<void> {
  if (!ctx.screen.live || ms <= LIVE_TICK_MS) {
    await ctx.clock.sleep(ms);
    return;
  }
  for (let left = ms; left > 0; left -= LIVE_TICK_MS) {
    await ctx.clock.sleep(Math.min(left, LIVE_TICK_MS));
    redraw();
  }
}

async function emit(ctx: RunContext, e: RunEvent): Promise<void> {
  await play(ctx, ctx.dialect.event(ctx, e));
}

export const trainingPhase: Phase = {
  name: "training",
  async run(ctx: RunContext): Promise<void> {
    const { cfg, sim, clock, screen, dialect: d, totals, events, rates } = ctx;
    if (totals.outcome === "oom") return; // it died loading the weights
    await play(ctx, d.trainStart(ctx));
    if (!ctx.physics.candidate.memory.fits) {
      // the first forward/backward allocates past the GPU's memory, seconds into the step
      await clock.sleep(events.uniform(2000, 8000));
      await play(ctx, d.oom(ctx, outOfMemory(ctx.physics.candidate.memory, cfg.gpu.capacityGiB)));
      totals.outcome = "oom";
      return;
    }
    const live = new LiveRegion(ctx);
    ctx.live = live;
    const randomWarnings = warningsFor(ctx, "training").filter((w) => (w.perHour ?? 0) > 0);
    const started = clock.now();
    let rate = 0;
    let win = emptyWindow();
    let lastSaved = -1;
    let lastEval = -1;
    // A restart goes back to the checkpoint this process started from, or the last one saved.
    let saved: { step: number; state: RunState } = { step: sim.step, state: sim.state() };
    let straggler: { node: number; until: number } | null = null;
    let inSpike = false;
    const state = (phase: LiveState["phase"], evalFrac = 0): LiveState => ({
      step: sim.step,
      elapsed: (clock.now() - started) / 1000,
      rate,
      phase,
      evalFrac,
    });
    const redraw = () => live.train(state("train"));
    while (!sim.done) {
      // The cluster: a slow node comes and goes.
      if (straggler && clock.now() >= straggler.until) {
        await emit(ctx, {
          kind: "straggler",
          step: sim.step,
          node: straggler.node,
          slowdown: sim.slowdown,
          on: false,
        });
        sim.slowdown = 1;
        straggler = null;
      }
      const r: StepRecord = sim.next();
      if (!straggler && events.chance((rates.stragglersPerHour * r.stepMs) / 3.6e6)) {
        straggler = {
          node: events.int(0, cfg.nodes - 1),
          until: clock.now() + events.uniform(10, 120) * 60_000,
        };
        sim.slowdown = events.uniform(1.03, 1.1);
        await emit(ctx, {
          kind: "straggler",
          step: r.step,
          node: straggler.node,
          slowdown: sim.slowdown,
          on: true,
        });
      }
      // A rank hangs in this step's collectives: the watchdog fires after its timeout, the job
      // comes down and restarts from the last checkpoint.
      if (events.chance((rates.faultsPerHour * r.stepMs) / 3.6e6)) {
        const rank = events.int(0, cfg.gpus - 1);
        sim.hang(rates.watchdogMs);
        await pause(ctx, rates.watchdogMs, redraw);
        await emit(ctx, {
          kind: "fault",
          step: r.step,
          rank,
          node: Math.floor(rank / cfg.gpusPerNode),
          timeoutMs: rates.watchdogMs,
          seqNum: r.step * 7 + 3,
        });
        if (totals.restarts >= MAX_RESTARTS) {
          // no attempts left: the launcher gives up and the job fails
          await play(ctx, d.jobFailed(ctx));
          totals.outcome = "failed";
          break;
        }
        totals.restarts++;
        const lost = r.step - 1 - saved.step;
        totals.lostSteps += lost;
        await emit(ctx, {
          kind: "restart",
          fromStep: saved.step,
          lostSteps: lost,
          attempt: totals.restarts,
        });
        sim.restore(saved.state);
        continue;
      }
      await pause(ctx, r.stepMs, redraw);
      if (r.spike && !inSpike) {
        await emit(ctx, { kind: "spike", step: r.step, loss: r.loss, gradNorm: r.gradNorm });
      }
      inSpike = r.spike;
      if (r.overflow) {
        await emit(ctx, {
          kind: "overflow",
          step: r.step,
          attempted: r.overflow.attempted,
          reduced: r.overflow.reduced,
        });
      }
      rate = rate === 0 ? 1000 / r.stepMs : 0.7 * rate + 0.3 * (1000 / r.stepMs);
      totals.trainMs += r.stepMs;
      totals.stepsRun++;
      totals.tokensRun += cfg.globalBatch * cfg.seqLen;
      totals.firstLoss ??= r.loss;
      totals.lastLoss = r.loss;
      totals.tpsSum += r.tokensPerSecondPerGpu;
      totals.mfuSum += r.mfu;
      win.steps++;
      win.loss += r.loss;
      win.ms += r.stepMs;
      if (r.skipped) win.skipped++;
      if (d.stepRecord) {
        say(ctx, d.stepRecord(ctx, r));
      }
      ctx.recorder?.step(ctx, r);
      if (
        d.logsAt ? d.logsAt(ctx, r.step, sim.done) : r.step % cfg.logInterval === 0 || sim.done
      ) {
        const w: LogWindow = {
          steps: win.steps,
          last: r,
          meanLoss: win.loss / win.steps,
          meanStepMs: win.ms / win.steps,
          skipped: win.skipped,
        };
        const line = d.stepLog(ctx, w);
        say(ctx, line);
        win = emptyWindow();
      }
      for (const w of randomWarnings) {
        if (events.chance(((w.perHour ?? 0) * r.stepMs) / 3.6e6)) {
          say(ctx, d.warning(ctx, w, fillWarning(ctx, w, events.int(0, cfg.gpus - 1))));
        }
      }
      if (screen.live) live.train(state("train"));
      if (r.step % cfg.evalInterval === 0) {
        const e = await runValidation(ctx);
        lastEval = r.step;
        // patience running out at the last step's evaluation stops nothing: the run completed
        const patienceOut = cfg.kind === "finetune" && cfg.patience > 0 &&
          e.badEvals >= cfg.patience;
        if (patienceOut && !sim.done) {
          totals.outcome = "early-stopped";
          break;
        }
      }
      if (r.step % cfg.saveInterval === 0) {
        await runCheckpoint(ctx);
        lastSaved = r.step;
        saved = { step: r.step, state: sim.state() };
      }
      // `llm-sim stop`: this step is done; save it below and end
      if (ctx.recorder?.stopRequested() && !sim.done) {
        totals.outcome = "stopped";
        break;
      }
    }
    live.train(state("train"), true);
    if (totals.outcome === "failed") {
      ctx.live = null;
      screen.keepRegion();
      return;
    }
    if (totals.outcome === "running") {
      totals.outcome = sim.step >= cfg.totalSteps ? "completed" : "window";
    }
    // a trainer's own loop reports a final validation loss even when the run ended mid-interval
    if (totals.outcome === "completed" && cfg.evalAtEnd && lastEval !== sim.step) {
      await runValidation(ctx);
    }
    // a window ends at the job's time limit, a stopped run at the user's request: both save
    // where they are and wind down the same way
    const cut = totals.outcome === "window" || totals.outcome === "stopped";
    if (cut) await play(ctx, d.windowEnd(ctx));
    if (lastSaved !== sim.step) await runCheckpoint(ctx);
    ctx.live = null;
    screen.keepRegion();
    if (!cut) await play(ctx, d.trainEnd(ctx));
  },
};
