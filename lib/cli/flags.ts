/**
 * Flag parsing shared by every command: node:util parseArgs, with its errors turned into one
 * clear UsageError line, and typed value checks that name the flag and what it allows.
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";
import { closest } from "./suggest.ts";
import { parseDuration } from "./duration.ts";

export type FlagSpec = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

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

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === "string" ? v : undefined;
}

export function bool(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

/** A whole number in [min, max]. */
export function intFlag(p: Parsed, name: string, min: number, max: number): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\s*-?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${v}'`);
  }
  return n;
}

/** A number in [min, max]. */
export function numFlag(p: Parsed, name: string, min: number, max: number): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, not '${v}'`);
  }
  return n;
}

/** One of the allowed words. */
export function choiceFlag<T extends string>(
  p: Parsed,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, not '${v}'`);
  }
  return v as T;
}

/** A duration (90s, 2m, 1h30m) in milliseconds. */
export function durationFlag(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const ms = parseDuration(v);
  if (ms === null || ms <= 0) {
    throw new UsageError(`--${name} must be a duration like 90s, 2m or 1h30m, not '${v}'`);
  }
  return ms;
}
