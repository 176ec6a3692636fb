/** Dialects by name, and the one that formats a framework's run. */
import type { Framework } from "../engine/types.ts";
import type { Dialect } from "./dialect.ts";
import { JsonlDialect } from "./jsonl.ts";
import { TorchrunDialect } from "./torchrun.ts";

/** `--style` values, as users name the frameworks. */
export const STYLES = ["torchrun"] as const;
export type Style = typeof STYLES[number];

/** The framework whose engine numbers a style formats. */
export const STYLE_FRAMEWORK: Record<Style, Framework> = {
  torchrun: "fsdp",
};

/** The dialect that prints a framework's run. */
export function dialectFor(framework: Framework): Dialect {
  switch (framework) {
    default:
      return new TorchrunDialect();
  }
}

export function jsonlDialect(): Dialect {
  return new JsonlDialect();
}
