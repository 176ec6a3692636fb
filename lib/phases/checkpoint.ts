/** A checkpoint save: where, how big (from the engine), how long at the storage bandwidth. */
import { play, type RunContext, say } from "./context.ts";
import { fillWarning, warningsFor } from "./warnings.ts";
import { timedBar } from "./init.ts";

export async function runCheckpoint(ctx: RunContext): Promise<void> {
  const d = ctx.dialect;
  const dir = d.checkpointDir(ctx, ctx.sim.step);
  await play(ctx, d.checkpointStart(ctx, dir));
  if (ctx.totals.checkpoints === 0) {
    for (const w of warningsFor(ctx, "checkpoint")) {
      say(ctx, d.warning(ctx, w, fillWarning(ctx, w, 0)));
    }
  }
  const rec = ctx.sim.checkpoint();
  const secs = rec.durationMs / 1000;
  await timedBar(
    ctx,
    secs,
    (frac, elapsed) =>
      `saving ${dir.split("/").pop()}: ${Math.round(frac * 100)}% · ${elapsed.toFixed(0)}s/${
        secs.toFixed(0)
      }s`,
  );
  ctx.totals.checkpoints++;
  ctx.totals.lastCheckpoint = dir;
  await play(ctx, d.checkpointDone(ctx, rec, dir));
  ctx.recorder?.checkpoint(ctx, dir, rec);
}
