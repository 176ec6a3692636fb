/**
 * Flag parsing shared by every command: node:util parseArgs, with its errors turned into one
 * clear UsageError line; the typed value checks that name the flag and what it allows live in
 * values.ts (no `node:` import there, for the browser build) and are re-exported here.
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";
import { closest } from "./suggest.ts";
import type { FlagSpec, Parsed } from "./values.ts";

export type { FlagSpec, Parsed } from "./values.ts";
export { bool, choiceFlag, durationFlag, intFlag, numFlag, str } from "./values.ts";

/** Parse `argv` against `spec`; `command` names the command in messages ("llm-sim plan"). */
export function parseFlags(argv: string[], spec: FlagSpec, command: string): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: spec,
      strict: true,
      allowPositionals: true,
      allowNegative: false,
    });
    return { values: values as Parsed["values"], positionals };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const unknown = /Unknown option '([^']+)'/.exec(msg);
    if (unknown) {
      const flag = unknown[1] as string;
      const names = Object.keys(spec).map((k) => ({ spelling: `--${k}`, name: `--${k}` }));
      const near = closest(flag, names, 2);
      throw new UsageError(
        `unknown flag '${flag}'${
          near.length ? `; did you mean ${near.join(", ")}?` : ""
        } (${command} --help lists flags)`,
      );
    }
    const missing = /Option '(-\w, )?(--[\w-]+)[^']*' argument missing/.exec(msg);
    if (missing) throw new UsageError(`${missing[2]} needs a value`);
    const ambiguous = /Option '(-\w, )?(--[\w-]+)' argument is ambiguous/.exec(msg);
    if (ambiguous) {
      throw new UsageError(
        `${ambiguous[2]} needs a value; to pass one that starts with '-', write ${
          ambiguous[2]
        }=VALUE`,
      );
    }
    const noValue = /Option '(-\w, )?(--[\w-]+)' does not take an argument/.exec(msg);
    if (noValue) throw new UsageError(`${noValue[2]} takes no value`);
    throw new UsageError(msg.split("\n")[0] ?? msg);
  }
}
