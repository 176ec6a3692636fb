/** The end-of-run summary, and end-of-job warnings. */
import { type RunContext, say } from "./context.ts";
import type { Phase } from "./phase.ts";
import { fillWarning, warningsFor } from "./warnings.ts";

export const summaryPhase: Phase = {
  name: "summary",
  async run(ctx: RunContext): Promise<void> {
    const d = ctx.dialect;
    // workers killed by a signal (the watchdog's SIGABRT, the agent's SIGTERM) never run the
    // process group's destructor: its end-of-program warning is not printed
    const signalled = ctx.totals.outcome === "failed";
    for (const w of signalled ? [] : warningsFor(ctx, "end")) {
      say(ctx, d.warning(ctx, w, fillWarning(ctx, w, 0)));
    }
    await ctx.clock.sleep(400);
    say(ctx, d.summary(ctx).join("\n"));
    ctx.recorder?.end(ctx);
  },
};
