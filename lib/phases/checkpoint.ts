/** A checkpoint save: where, how big (from the engine), how long at the storage bandwidth. */
import { play, type RunContext } from "./context.ts";
import { fillWarning, warningsFor } from "./warnings.ts";

export async function runCheckpoint(ctx: RunContext): Promise<void> {
  const d = ctx.dialect;
  const dir = d.checkpointDir(ctx, ctx.sim.step);
  await play(ctx, d.checkpointStart(ctx, dir));
  if (ctx.totals.checkpoints === 0) {
    for (const w of warningsFor(ctx, "checkpoint")) {
      ctx.screen.log(d.warning(ctx, w, fillWarning(ctx, w, 0)));
    }
  }
  const rec = ctx.sim.checkpoint();
  await ctx.clock.sleep(rec.durationMs);
  ctx.totals.checkpoints++;
  ctx.totals.lastCheckpoint = dir;
  await play(ctx, d.checkpointDone(ctx, rec, dir));
}
