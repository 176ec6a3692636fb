/** `llm-sim monitor`'s flags (parsed in lib/shell/monitor.ts; completions list them too). */
import type { FlagSpec } from "./values.ts";

export const MONITOR_FLAGS: FlagSpec = {
  "runs-dir": { type: "string" },
  /** The bench's baseline: every frame painted whole. */
  "full-redraw": { type: "boolean" },
  "refresh-ms": { type: "string" },
  help: { type: "boolean", short: "h" },
};
