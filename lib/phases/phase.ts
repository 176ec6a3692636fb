/** A phase of a run: one step of the show, in its own file. */
import type { RunContext } from "./context.ts";

export interface Phase {
  readonly name: string;
  run(ctx: RunContext): Promise<void>;
}
