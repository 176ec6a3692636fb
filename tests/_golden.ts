/**
 * Golden files: byte-for-byte comparison with tests/golden/<name>. Run the tests with
 * LLM_SIM_UPDATE=1 (deno task test:update) to rewrite them on purpose, then review the diff.
 */
import assert from "node:assert/strict";

const DIR = new URL("./golden/", import.meta.url);

export async function assertGolden(name: string, actual: string): Promise<void> {
  const url = new URL(name, DIR);
  if (Deno.env.get("LLM_SIM_UPDATE") === "1") {
    await Deno.writeTextFile(url, actual);
    return;
  }
  let expected: string;
  try {
    expected = await Deno.readTextFile(url);
  } catch {
    throw new Error(`golden file ${name} is missing: run deno task test:update and review it`);
  }
  if (actual !== expected) {
    const a = actual.split("\n"), e = expected.split("\n");
    const i = a.findIndex((line, k) => line !== e[k]);
    assert.fail(
      `${name} differs from line ${i + 1}:\n  expected: ${JSON.stringify(e[i])}\n  actual:   ${
        JSON.stringify(a[i])
      }`,
    );
  }
}

/** The show's start time in goldens (and the TZ the e2e runs get). */
export const GOLDEN_START = "2026-11-26T09:00:00Z";
export const GOLDEN_SEEDS = [26, 8, 38];
export const GOLDEN_WIDTHS = [80, 132];
