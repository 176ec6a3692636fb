/**
 * The show's options: the flag table, the typed config and the checks from parsed values to a
 * ShowConfig. Pure and free of `node:` imports: args.ts parses argv into it, and the browser
 * build (lib/web/) parses the page's URL query into the same checks.
 */
import type { GpuSpec, ModelPreset } from "../data.ts";
import type { Precision } from "../engine/types.ts";
import type { ScenarioRequest } from "../engine/scenario.ts";
import { torchtitanTrains } from "../engine/scenario.ts";
import { type Style, STYLE_FRAMEWORK, STYLES } from "../dialects/mod.ts";
import { requireGpu, requireModel } from "./catalog.ts";
import { UsageError } from "./errors.ts";
import {
  bool,
  choiceFlag,
  durationFlag,
  type FlagSpec,
  intFlag,
  numFlag,
  type Parsed,
  str,
} from "./values.ts";

export const LISTS = ["models", "gpus", "datasets"] as const;
export type ListName = typeof LISTS[number];
export const SHOW_PRECISIONS: readonly Precision[] = ["bf16", "fp16", "fp8", "fp32"];
export const FORMATS = ["text", "jsonl"] as const;
export type Format = typeof FORMATS[number];

export interface ShowConfig {
  seed: number | null;
  speed: number;
  instant: boolean;
  exitAfterTimeMs: number | null;
  exitAfterRuns: number | null;
  model: ModelPreset | null;
  displayName: string | null;
  gpu: GpuSpec | null;
  gpus: number | null;
  precision: Precision | null;
  list: ListName | null;
  width: number | null;
  noColor: boolean;
  /** How runs are printed: a framework's logs, or a JSON object per line. */
  format: Format;
  /** The framework whose logs to print (default: the one that fits each run). */
  style: Style | null;
  /** A flaky cluster: faults, restarts and slow nodes every few minutes. */
  chaos: boolean;
  /** Write an asciicast v2 recording of the show to this file (`--record`). */
  record: string | null;
  help: boolean;
  version: boolean;
  /** Fixed simulated start time (epoch ms), for reproducible timestamps. */
  startTime: number | null;
  /** The flags that shape scenarios, to repeat in replay commands. */
  replayFlags: string;
}

export const SHOW_FLAGS: FlagSpec = {
  seed: { type: "string" },
  speed: { type: "string" },
  instant: { type: "boolean" },
  "exit-after-time": { type: "string" },
  "exit-after-runs": { type: "string" },
  model: { type: "string" },
  gpu: { type: "string" },
  gpus: { type: "string" },
  precision: { type: "string" },
  list: { type: "string" },
  width: { type: "string" },
  "no-color": { type: "boolean" },
  chaos: { type: "boolean" },
  format: { type: "string" },
  style: { type: "string" },
  "start-time": { type: "string" },
  record: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
};

/** GPU counts a job can have: part of one node, or whole nodes of 8. */
export function checkGpuCount(n: number, flag = "--gpus"): number {
  if (n > 8 && n % 8 !== 0) {
    throw new UsageError(`${flag} must be 1–8 or a multiple of 8 (whole nodes of 8), not ${n}`);
  }
  return n;
}

/** The show's config from parsed flag values; bad values throw UsageError. */
export function showConfig(p: Parsed): ShowConfig {
  if (p.positionals.length > 0) {
    throw new UsageError(
      `unknown command '${p.positionals[0]}' (llm-sim --help lists commands)`,
    );
  }
  const speed = numFlag(p, "speed", 0.01, 1000) ?? 1;
  const modelName = str(p, "model");
  const model = modelName === undefined ? null : requireModel("--model", modelName);
  const gpuName = str(p, "gpu");
  const gpus = intFlag(p, "gpus", 1, 65536);
  if (gpus !== undefined) checkGpuCount(gpus);
  const startText = str(p, "start-time");
  let startTime: number | null = null;
  if (startText !== undefined) {
    startTime = Date.parse(startText);
    if (Number.isNaN(startTime)) {
      throw new UsageError(
        `--start-time must be a date like 2026-11-26T09:00:00Z, not '${startText}'`,
      );
    }
  }
  const record = str(p, "record");
  if (record !== undefined && record.trim() === "") {
    throw new UsageError("--record needs a file name, like --record demo.cast");
  }
  const replay: string[] = [];
  for (const k of ["model", "gpu", "gpus", "precision", "style"]) {
    const v = str(p, k);
    if (v !== undefined) replay.push(`--${k} ${/\s/.test(v) ? JSON.stringify(v) : v}`);
  }
  if (bool(p, "chaos")) replay.push("--chaos");
  const style = choiceFlag(p, "style", STYLES) ?? null;
  if (style === "nanogpt" && model && model.model.arch.style !== "gpt2") {
    throw new UsageError(
      `--style nanogpt trains GPT-2-shaped models only (gpt2, gpt2-medium, gpt2-large, gpt2-xl), not '${modelName}'`,
    );
  }
  if (style === "torchtitan" && model && !torchtitanTrains(model.model)) {
    throw new UsageError(
      `--style torchtitan trains Llama models (llama-2-*, llama-3.x-*) and DeepSeek-V3 only, not '${modelName}'`,
    );
  }
  return {
    seed: intFlag(p, "seed", 0, 4294967295) ?? null,
    speed,
    instant: bool(p, "instant"),
    exitAfterTimeMs: durationFlag(p, "exit-after-time") ?? null,
    exitAfterRuns: intFlag(p, "exit-after-runs", 1, 1_000_000) ?? null,
    model: model?.model ?? null,
    displayName: model?.displayName ?? null,
    gpu: gpuName === undefined ? null : requireGpu("--gpu", gpuName),
    gpus: gpus ?? null,
    precision: choiceFlag(p, "precision", SHOW_PRECISIONS) ?? null,
    list: choiceFlag(p, "list", LISTS) ?? null,
    width: intFlag(p, "width", 20, 400) ?? null,
    noColor: bool(p, "no-color"),
    chaos: bool(p, "chaos"),
    format: choiceFlag(p, "format", FORMATS) ?? "text",
    style,
    record: record ?? null,
    help: bool(p, "help"),
    version: bool(p, "version"),
    startTime,
    replayFlags: replay.length ? " " + replay.join(" ") : "",
  };
}

/** What the user fixed, as the scenario request the scheduler takes. */
export function showRequest(cfg: ShowConfig): Omit<ScenarioRequest, "seed"> {
  return {
    ...(cfg.model ? { model: cfg.model } : {}),
    ...(cfg.displayName ? { displayName: cfg.displayName } : {}),
    ...(cfg.gpu ? { gpu: cfg.gpu } : {}),
    ...(cfg.gpus !== null ? { gpus: cfg.gpus } : {}),
    ...(cfg.precision ? { precision: cfg.precision } : {}),
    ...(cfg.style ? { framework: STYLE_FRAMEWORK[cfg.style] } : {}),
  };
}
