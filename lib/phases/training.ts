/**
 * The training loop: one simulated optimizer step per engine record, a log line per log
 * interval (averaged over it, as frameworks do), live bars and the GPU grid on a TTY, warnings
 * at their catalogued rates, validation and checkpoints at their intervals, early stopping, and
 * the end of a window onto a long run (job time limit) with its final save.
 */
import type { LiveState, LogWindow } from "../dialects/dialect.ts";
import type { StepRecord } from "../engine/run.ts";
import { play, type RunContext } from "./context.ts";
import type { Phase } from "./phase.ts";
import { runCheckpoint } from "./checkpoint.ts";
import { runValidation } from "./validation.ts";
import { fillWarning, warningsFor } from "./warnings.ts";
import { LiveRegion } from "./live.ts";

/** On a TTY a step longer than this redraws the bars while it runs, simulated ms. */
const LIVE_TICK_MS = 1000;

function emptyWindow(): { steps: number; loss: number; ms: number; skipped: number } {
  return { steps: 0, loss: 0, ms: 0, skipped: 0 };
}

export const trainingPhase: Phase = {
  name: "training",
  async run(ctx: RunContext): Promise<void> {
    const { cfg, sim, clock, screen, dialect: d, totals } = ctx;
    await play(ctx, d.trainStart(ctx));
    const live = new LiveRegion(ctx);
    ctx.live = live;
    const randomWarnings = warningsFor(ctx, "training").filter((w) => (w.perHour ?? 0) > 0);
    const started = clock.now();
    let rate = 0;
    let win = emptyWindow();
    let lastSaved = -1;
    const state = (phase: LiveState["phase"], evalFrac = 0): LiveState => ({
      step: sim.step,
      elapsed: (clock.now() - started) / 1000,
      rate,
      phase,
      evalFrac,
    });
    while (!sim.done) {
      const r: StepRecord = sim.next();
      if (screen.live && r.stepMs > LIVE_TICK_MS) {
        // a slow step: keep the bars' elapsed time moving while it runs
        for (let left = r.stepMs; left > 0; left -= LIVE_TICK_MS) {
          await clock.sleep(Math.min(left, LIVE_TICK_MS));
          live.train(state("train"));
        }
      } else await clock.sleep(r.stepMs);
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
      if (r.step % cfg.logInterval === 0 || sim.done) {
        const w: LogWindow = {
          steps: win.steps,
          last: r,
          meanLoss: win.loss / win.steps,
          meanStepMs: win.ms / win.steps,
          skipped: win.skipped,
        };
        screen.log(d.stepLog(ctx, w));
        win = emptyWindow();
      }
      for (const w of randomWarnings) {
        if (ctx.events.chance(((w.perHour ?? 0) * r.stepMs) / 3.6e6)) {
          screen.log(d.warning(ctx, w, fillWarning(ctx, w, ctx.events.int(0, cfg.gpus - 1))));
        }
      }
      if (screen.live) live.train(state("train"));
      if (r.step % cfg.evalInterval === 0) {
        const e = await runValidation(ctx);
        if (cfg.kind === "finetune" && cfg.patience > 0 && e.badEvals >= cfg.patience) {
          totals.outcome = "early-stopped";
          break;
        }
      }
      if (r.step % cfg.saveInterval === 0) {
        await runCheckpoint(ctx);
        lastSaved = r.step;
      }
    }
    live.train(state("train"), true);
    if (totals.outcome === "running") {
      totals.outcome = sim.step >= cfg.totalSteps ? "completed" : "window";
    }
    if (totals.outcome === "window") await play(ctx, d.windowEnd(ctx));
    if (lastSaved !== sim.step) await runCheckpoint(ctx);
    ctx.live = null;
    screen.keepRegion();
    if (totals.outcome !== "window") await play(ctx, d.trainEnd(ctx));
  },
};
