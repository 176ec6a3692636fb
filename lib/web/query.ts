/**
 * The page's options from its URL query: `?seed=7&speed=2&model=70b&gpus=1024&style=megatron`.
 * Each is a show flag without its dashes (a switch is on when present: `?instant`, or
 * `instant=1`), checked by the same code as the command line (show_config.ts), so a bad value
 * gets the CLI's message. Pure.
 */
import { UsageError } from "../cli/errors.ts";
import { SHOW_FLAGS, type ShowConfig, showConfig } from "../cli/show_config.ts";
import { closest } from "../cli/suggest.ts";
import type { Parsed } from "../cli/values.ts";

/** Show flags the page has no use for: they write files. */
const NOT_IN_BROWSER: Record<string, string> = {
  record: "record writes a file: use the command line (llm-sim --record demo.cast)",
};

/** The show's config from `location.search`; bad options throw UsageError (one line). */
export function parseQuery(search: string): ShowConfig {
  const values: Parsed["values"] = {};
  const names = Object.keys(SHOW_FLAGS).filter((k) => !(k in NOT_IN_BROWSER));
  for (const [raw, value] of new URLSearchParams(search)) {
    const key = raw.replace(/^-{1,2}/, "");
    const spec = SHOW_FLAGS[key];
    if (key in NOT_IN_BROWSER) throw new UsageError(NOT_IN_BROWSER[key] as string);
    if (spec === undefined) {
      const near = closest(key, names.map((n) => ({ spelling: n, name: n })), 2);
      throw new UsageError(
        `unknown option '${raw}'${near.length ? `; did you mean ${near.join(", ")}?` : ""} (${
          names.join(", ")
        })`,
      );
    }
    if (values[key] !== undefined) throw new UsageError(`option '${key}' is given twice`);
    if (spec.type === "boolean") {
      if (["", "1", "true", "yes", "on"].includes(value)) values[key] = true;
      else if (["0", "false", "no", "off"].includes(value)) values[key] = false;
      else throw new UsageError(`${key} is a switch: give it no value (or 1 / 0), not '${value}'`);
    } else {
      values[key] = value;
    }
  }
  return showConfig({ values, positionals: [] });
}
