/** Between runs: a blank line and a pause while the next job is submitted. */
import type { RunContext } from "./context.ts";
import type { Phase } from "./phase.ts";

export const transitionPhase: Phase = {
  name: "transition",
  async run(ctx: RunContext): Promise<void> {
    if (!ctx.dialect.structured) ctx.screen.log("");
    await ctx.clock.sleep(ctx.events.uniform(3000, 6000));
  },
};
