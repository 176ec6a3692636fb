/** Validation: a bar over the eval batches, then the loss, perplexity and patience. */
import { play, type RunContext } from "./context.ts";
import type { EvalRecord } from "../engine/run.ts";
import { timedBar } from "./init.ts";

export async function runValidation(ctx: RunContext): Promise<EvalRecord> {
  const d = ctx.dialect;
  await play(ctx, d.evalStart(ctx));
  const e = ctx.sim.evaluate();
  await timedBar(ctx, e.durationMs / 1000, (frac, elapsed) => d.evalBar(ctx, frac, elapsed));
  ctx.totals.lastVal = e.loss;
  ctx.totals.lastPerplexity = e.perplexity;
  await play(ctx, d.evalDone(ctx, e));
  ctx.recorder?.eval(ctx, e);
  return e;
}
