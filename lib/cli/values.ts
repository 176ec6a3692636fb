/**
 * Typed value checks for parsed flags, and the shapes they work on. Pure and free of `node:`
 * imports, so the browser build (lib/web/) validates its URL options exactly like the CLI.
 */
import { UsageError } from "./errors.ts";
import { parseDuration } from "./duration.ts";

export type FlagSpec = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
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
