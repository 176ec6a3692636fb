/** Dialects by name, and the one that formats a framework's run. */
import type { Framework } from "../engine/types.ts";
import type { Dialect } from "./dialect.ts";
import { DeepSpeedDialect } from "./deepspeed.ts";
import { HfDialect } from "./hf.ts";
import { JsonlDialect } from "./jsonl.ts";
import { LightningDialect } from "./lightning.ts";
import { MegatronDialect } from "./megatron.ts";
import { NanoGptDialect } from "./nanogpt.ts";
import { TorchrunDialect } from "./torchrun.ts";
import { TorchtitanDialect } from "./torchtitan.ts";

/** `--style` values, as users name the frameworks. */
export const STYLES = [
  "megatron",
  "hf",
  "torchtitan",
  "deepspeed",
  "lightning",
  "nanogpt",
  "torchrun",
] as const;
export type Style = typeof STYLES[number];

/** The framework whose engine numbers a style formats. */
export const STYLE_FRAMEWORK: Record<Style, Framework> = {
  megatron: "megatron",
  hf: "hf",
  torchtitan: "torchtitan",
  deepspeed: "deepspeed",
  lightning: "lightning",
  nanogpt: "nanogpt",
  torchrun: "fsdp",
};

/** The dialect that prints a framework's run. */
export function dialectFor(framework: Framework): Dialect {
  switch (framework) {
    case "megatron":
    case "megascale":
      return new MegatronDialect();
    case "deepspeed":
      return new DeepSpeedDialect();
    case "hf":
      return new HfDialect();
    case "lightning":
      return new LightningDialect();
    case "torchtitan":
      return new TorchtitanDialect();
    case "nanogpt":
      return new NanoGptDialect();
    case "fsdp":
      return new TorchrunDialect();
  }
}

export function jsonlDialect(): Dialect {
  return new JsonlDialect();
}
