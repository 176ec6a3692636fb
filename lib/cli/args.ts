/**
 * The show's flags: a pure parse from argv to a ShowConfig; bad input throws UsageError. The
 * flag table and the checks live in show_config.ts (shared with the browser build).
 */
import { parseFlags } from "./flags.ts";
import { SHOW_FLAGS, type ShowConfig, showConfig } from "./show_config.ts";

export {
  checkGpuCount,
  type Format,
  FORMATS,
  type ListName,
  LISTS,
  SHOW_FLAGS,
  SHOW_PRECISIONS,
  type ShowConfig,
  showConfig,
  showRequest,
} from "./show_config.ts";

export function parseShowArgs(argv: string[]): ShowConfig {
  return showConfig(parseFlags(argv, SHOW_FLAGS, "llm-sim"));
}
