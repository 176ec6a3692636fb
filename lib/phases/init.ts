/**
 * Start-up: launcher, distributed init (NCCL, ranks, bandwidth check), model build, weights
 * load (a bar for as long as the bytes take to read at the cluster's storage bandwidth),
 * tokenizer and data.
 */
import { type Beat, play, type RunContext, say } from "./context.ts";
import type { Phase } from "./phase.ts";
import { fillWarning, warningsFor } from "./warnings.ts";
import { GIB, outOfMemory } from "../engine/memory.ts";

/** Refresh period of bars while something loads, simulated ms. */
const BAR_TICK_MS = 250;

/**
 * Show a bar for `seconds` (under the training bars while training runs), then remove it.
 * Off a TTY nothing is drawn and the time passes in one pause.
 */
export async function timedBar(
  ctx: RunContext,
  seconds: number,
  render: (frac: number, elapsed: number) => string,
): Promise<void> {
  const total = seconds * 1000;
  if (!ctx.screen.live) {
    await ctx.clock.sleep(total);
    return;
  }
  const ticks = Math.max(1, Math.ceil(total / BAR_TICK_MS));
  for (let i = 0; i < ticks; i++) {
    const line = render(i / ticks, (i * total) / ticks / 1000);
    if (ctx.live) ctx.live.extra([line]);
    else ctx.screen.region([line]);
    await ctx.clock.sleep(total / ticks);
  }
  if (ctx.live) ctx.live.extra([]);
  else ctx.screen.clearRegion();
}

export const initPhase: Phase = {
  name: "init",
  async run(ctx: RunContext): Promise<void> {
    const d = ctx.dialect;
    ctx.recorder?.start(ctx);
    await play(ctx, d.launch(ctx));
    await play(ctx, d.distributed(ctx));
    // NCCL's own start-up lines belong to the dialect's NCCL block
    const startup: Beat[] = warningsFor(ctx, "startup").filter((w) => !w.id.startsWith("nccl-"))
      .map((w) => ({
        wait: 40,
        text: () => d.warning(ctx, w, fillWarning(ctx, w, 0)),
      }));
    await play(ctx, startup);
    await play(ctx, d.model(ctx));
    const mem = ctx.physics.candidate.memory;
    const oom = mem.fits ? null : outOfMemory(mem, ctx.cfg.gpu.capacityGiB);
    if (oom?.phase === "load") {
      // the weights alone do not fit: loading stops where the allocator gives up, after every
      // GPU has read what it could hold, at the storage bandwidth
      const p = ctx.physics;
      const readBps = p.loadBytes / Math.max(1, p.loadSeconds - 2);
      const seconds = Math.min(
        p.loadSeconds,
        2 + (oom.allocatedGiB * GIB * ctx.cfg.gpus) / readBps,
      );
      await timedBar(ctx, seconds, (f, e) => d.loadBar(ctx, f * oom.loaded, e));
      await play(ctx, d.oom(ctx, oom));
      ctx.totals.outcome = "oom";
      return;
    }
    const seconds = ctx.physics.loadSeconds;
    await timedBar(ctx, seconds, (f, e) => d.loadBar(ctx, f, e));
    ctx.sim.idle(seconds * 1000);
    const loadedBar = d.loadBar(ctx, 1, seconds);
    say(ctx, loadedBar);
    await play(ctx, d.loaded(ctx, seconds));
    await play(ctx, d.data(ctx));
  },
};
