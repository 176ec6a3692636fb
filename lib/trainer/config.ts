/**
 * `llm-sim train`'s configuration: llm-sim.toml, flags over it, and the defaults under both.
 * One table (CONFIG_KEYS) ties each TOML key to its TrainConfig field, its check and its flag,
 * so the file and the flags cannot drift apart. Pure: no file or environment access.
 */
import { parse, TomlError } from "smol-toml";
import { findModel, requireDataset, requireModel } from "../cli/catalog.ts";
import { UsageError } from "../cli/errors.ts";
import { bool, type FlagSpec, type Parsed, str } from "../cli/flags.ts";
import { closest } from "../cli/suggest.ts";
import { PRECISIONS } from "../engine/types.ts";
import type { TrainConfig } from "./types.ts";

/** A small local run: GPT-2 (124M) on WikiText-2 on one GPU of a hobbyist's workstation. */
export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  model: "gpt2",
  dataset: "wikitext-2",
  seqLen: 1024,
  batchSize: 8,
  gradAccum: 4,
  workers: 4,
  epochs: 3,
  lr: 6e-4,
  minLr: 6e-5,
  warmupSteps: 100,
  schedule: "cosine",
  precision: "auto",
  seed: 1337,
  evalEvery: 0,
  saveEvery: 0,
  device: "auto",
  gpus: 1,
  strictDevice: false,
};

export const SCHEDULES: readonly TrainConfig["schedule"][] = ["cosine", "linear", "wsd"];
export const TRAIN_PRECISIONS: readonly TrainConfig["precision"][] = ["auto", ...PRECISIONS];
export const SECTIONS = ["model", "data", "train", "device"] as const;
export type Section = typeof SECTIONS[number];

/** One setting: where it lives in llm-sim.toml, its field, its flag and what it accepts. */
export interface ConfigKey {
  section: Section;
  key: string;
  field: keyof TrainConfig;
  /** "--seq-len". */
  flag: string;
  kind: "int" | "num" | "str" | "bool" | "choice";
  min?: number;
  /** Absent: no upper bound. */
  max?: number;
  /** The minimum itself is not allowed. */
  open?: boolean;
  choices?: readonly string[];
  /** One line for init-config: what it means. */
  doc: string;
}

export const CONFIG_KEYS: readonly ConfigKey[] = [
  {
    section: "model",
    key: "preset",
    field: "model",
    flag: "--model",
    kind: "str",
    doc: "model preset: a catalog id, alias or name (llm-sim --list models)",
  },
  {
    section: "data",
    key: "dataset",
    field: "dataset",
    flag: "--dataset",
    kind: "str",
    doc: "dataset: a catalog id or name (llm-sim --list datasets)",
  },
  ...([
    ["seqLen", "seq_len", 1, 1048576, "tokens per sample, at most the model's context"],
    ["batchSize", "batch_size", 1, 65536, "samples per GPU per micro-step"],
    ["gradAccum", "grad_accum", 1, 65536, "micro-steps (gradient accumulation) per optimizer step"],
    ["workers", "workers", 0, 256, "DataLoader worker processes"],
  ] as const).map(([field, key, min, max, doc]): ConfigKey => ({
    section: "data",
    key,
    field,
    flag: `--${key.replace("_", "-")}`,
    kind: "int",
    min,
    max,
    doc,
  })),
  {
    section: "train",
    key: "epochs",
    field: "epochs",
    flag: "--epochs",
    kind: "int",
    min: 1,
    max: 10000,
    doc: "passes over the dataset",
  },
  {
    section: "train",
    key: "lr",
    field: "lr",
    flag: "--lr",
    kind: "num",
    min: 0,
    open: true,
    max: 1,
    doc: "peak learning rate",
  },
  {
    section: "train",
    key: "min_lr",
    field: "minLr",
    flag: "--min-lr",
    kind: "num",
    min: 0,
    max: 1,
    doc: "learning rate at the end of the decay, at most lr",
  },
  {
    section: "train",
    key: "warmup_steps",
    field: "warmupSteps",
    flag: "--warmup-steps",
    kind: "int",
    min: 0,
    doc: "optimizer steps of linear warmup up to lr",
  },
  {
    section: "train",
    key: "schedule",
    field: "schedule",
    flag: "--schedule",
    kind: "choice",
    choices: SCHEDULES,
    doc: "learning-rate decay after the warmup",
  },
  {
    section: "train",
    key: "precision",
    field: "precision",
    flag: "--precision",
    kind: "choice",
    choices: TRAIN_PRECISIONS,
    doc: "training precision; auto = bf16 where the GPU has it, else fp16, fp32 on CPU",
  },
  {
    section: "train",
    key: "seed",
    field: "seed",
    flag: "--seed",
    kind: "int",
    min: 0,
    max: 4294967295,
    doc: "random seed: the same config and seed give the same run",
  },
  {
    section: "train",
    key: "eval_every",
    field: "evalEvery",
    flag: "--eval-every",
    kind: "int",
    min: 0,
    doc: "optimizer steps between evaluations; 0 = at the end of each epoch",
  },
  {
    section: "train",
    key: "save_every",
    field: "saveEvery",
    flag: "--save-every",
    kind: "int",
    min: 0,
    doc: "optimizer steps between checkpoints; 0 = at the end of each epoch",
  },
  {
    section: "device",
    key: "device",
    field: "device",
    flag: "--device",
    kind: "str",
    doc: "auto, cpu, cuda, cuda:N or a GPU name (A30, H100 …; llm-sim --list gpus)",
  },
  {
    section: "device",
    key: "gpus",
    field: "gpus",
    flag: "--gpus",
    kind: "int",
    min: 1,
    max: 4096,
    doc: "GPUs the run uses, from the device's index on",
  },
  {
    section: "device",
    key: "strict",
    field: "strictDevice",
    flag: "--strict-device",
    kind: "bool",
    doc: "fail instead of falling back when the device is not available",
  },
];

/** What a key accepts, as error messages and init-config comments say it. */
function must(k: ConfigKey, quote: boolean): string {
  const min = k.min ?? 0;
  switch (k.kind) {
    case "int":
      return k.max === undefined ? `an integer ≥ ${min}` : `an integer from ${min} to ${k.max}`;
    case "num":
      return `a number ${k.open ? ">" : "≥"} ${min}${k.max === undefined ? "" : ` and ≤ ${k.max}`}`;
    case "choice":
      return `one of ${(k.choices ?? []).map((c) => quote ? `"${c}"` : c).join(", ")}`;
    case "bool":
      return "true or false";
    case "str":
      return "a non-empty string";
  }
}

function fits(k: ConfigKey, v: unknown): boolean {
  switch (k.kind) {
    case "bool":
      return typeof v === "boolean";
    case "str":
      return typeof v === "string" && v.trim() !== "";
    case "choice":
      return typeof v === "string" && (k.choices ?? []).includes(v);
    default: {
      if (typeof v !== "number" || !(k.kind === "int" ? Number.isSafeInteger(v) : isFinite(v))) {
        return false;
      }
      const min = k.min ?? 0;
      return (k.open ? v > min : v >= min) && v <= (k.max ?? Infinity);
    }
  }
}

/** The value checked (model and dataset against the catalogs); a dataset becomes its id. */
function accept(k: ConfigKey, v: unknown, label: string, shown: string, quote: boolean): unknown {
  if (!fits(k, v)) throw new UsageError(`${label} must be ${must(k, quote)}, got ${shown}`);
  if (k.field === "model") requireModel(label, v as string);
  if (k.field === "dataset") return requireDataset(label, v as string).id;
  return v;
}

/** A TOML value as an error message shows it. */
function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return "an array";
  if (v instanceof Date) return "a date";
  if (typeof v === "object" && v !== null) return "a table";
  return String(v);
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * Where things are in the file, which smol-toml does not tell: the line of each `[section]`
 * header (key `[name]`) and of each `key =` line (key `section\0key`; top level: `\0key`).
 */
function locate(text: string, file: string): Map<string, number> {
  const at = new Map<string, number>();
  let section = "";
  let multiline: string | null = null;
  text.split(/\r?\n/).forEach((line, i) => {
    const n = i + 1;
    if (multiline !== null) {
      if (line.includes(multiline)) multiline = null;
      return;
    }
    const header = /^\s*\[\[?\s*([^\]]*?)\s*\]\]?\s*(#.*)?$/.exec(line);
    if (header) {
      section = header[1] ?? "";
      at.set(`[${section}]`, n);
      return;
    }
    const kv = /^\s*([\w-]+(?:\s*\.\s*[\w-]+)*)\s*=(.*)$/.exec(line);
    if (!kv) return;
    const key = kv[1] ?? "";
    if (key.includes(".")) {
      throw new UsageError(
        `${file}:${n}: dotted keys like '${key}' are not supported; write a [section] header and plain keys`,
      );
    }
    at.set(`${section}\0${key}`, n);
    for (const q of ['"""', "'''"]) {
      if (((kv[2] ?? "").split(q).length - 1) % 2 === 1) multiline = q;
    }
  });
  return at;
}

/** llm-sim.toml's settings; bad syntax, unknown keys and bad values name `file:line`. */
export function parseConfigToml(text: string, file: string): Partial<TrainConfig> {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    const problem = (e.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
    throw new UsageError(`${file}:${e.line}: TOML syntax error: ${problem} (column ${e.column})`);
  }
  const at = locate(text, file);
  const out: Record<string, unknown> = {};
  for (const [name, table] of Object.entries(doc)) {
    const line = at.get(`[${name}]`) ?? at.get(`\0${name}`) ?? 1;
    const home = (key: string) => CONFIG_KEYS.find((k) => k.key === key)?.section;
    if (!(SECTIONS as readonly string[]).includes(name)) {
      if (isTable(table)) {
        const near = closest(name, SECTIONS.map((s) => ({ spelling: s, name: `[${s}]` })), 1);
        throw new UsageError(
          `${file}:${line}: unknown section [${name}]${
            near.length
              ? ` (did you mean ${near[0]}?)`
              : ` (sections: ${SECTIONS.map((s) => `[${s}]`).join(", ")})`
          }`,
        );
      }
      const h = home(name);
      throw new UsageError(
        `${file}:${line}: ${h ? `key '${name}' belongs in [${h}]` : `unknown key '${name}'`}; ` +
          `keys go under ${SECTIONS.map((s) => `[${s}]`).join(", ")}`,
      );
    }
    if (!isTable(table)) {
      throw new UsageError(`${file}:${line}: '${name}' must be a [${name}] section, not a value`);
    }
    for (const [key, value] of Object.entries(table)) {
      const n = at.get(`${name}\0${key}`) ?? line;
      const k = CONFIG_KEYS.find((c) => c.section === name && c.key === key);
      if (!k) {
        const mine = CONFIG_KEYS.filter((c) => c.section === name).map((c) => c.key);
        const near = closest(key, mine.map((m) => ({ spelling: m, name: m })), 1)[0];
        const h = home(key);
        throw new UsageError(
          `${file}:${n}: unknown key '${key}' in [${name}] (${
            h
              ? `it belongs in [${h}]`
              : near
              ? `did you mean '${near}'?`
              : `[${name}] has ${mine.join(", ")}`
          })`,
        );
      }
      out[k.field] = accept(k, value, `${file}:${n}: [${name}] ${key}`, describe(value), true);
    }
  }
  return out as Partial<TrainConfig>;
}

/** The flags of every setting, for parseFlags (merge with the command's own flags). */
export const configFlagSpec: FlagSpec = Object.fromEntries(
  CONFIG_KEYS.map((k) => [k.flag.slice(2), { type: k.kind === "bool" ? "boolean" : "string" }]),
);

/** The settings given as flags, checked like the file's. */
export function configFromFlags(p: Parsed): Partial<TrainConfig> {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) {
    const name = k.flag.slice(2);
    if (k.kind === "bool") {
      if (bool(p, name)) out[k.field] = true;
      continue;
    }
    const raw = str(p, name);
    if (raw === undefined) continue;
    out[k.field] = settingFromText(k, raw);
  }
  return out as Partial<TrainConfig>;
}

/** One setting typed as text (a flag, a form field), checked like the file's; UsageError if bad. */
export function settingFromText(k: ConfigKey, raw: string): unknown {
  const v = k.kind === "int"
    ? (/^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN)
    : k.kind === "num"
    ? (raw.trim() === "" ? NaN : Number(raw))
    : k.kind === "bool"
    ? (raw === "true" ? true : raw === "false" ? false : raw)
    : raw;
  return accept(k, v, k.flag, `'${raw}'`, false);
}

/** The defaults, then each layer over the one before (file, then flags). */
export function mergeConfig(...layers: Partial<TrainConfig>[]): TrainConfig {
  const out: Record<string, unknown> = { ...DEFAULT_TRAIN_CONFIG };
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) out[k] = v;
  }
  return out as unknown as TrainConfig;
}

/** Checks across settings, and each setting again (a config may come from meta.json). */
export function validateConfig(c: TrainConfig): void {
  for (const k of CONFIG_KEYS) {
    accept(k, c[k.field], `${k.flag} ([${k.section}] ${k.key})`, describe(c[k.field]), false);
  }
  if (c.minLr > c.lr) {
    throw new UsageError(
      `min_lr ${c.minLr} is above lr ${c.lr}: the decay must end at or below the peak (--min-lr, --lr; [train] in llm-sim.toml)`,
    );
  }
  const model = findModel(c.model)?.model;
  if (model && c.seqLen > model.arch.context) {
    throw new UsageError(
      `seq_len ${c.seqLen} is longer than ${model.name}'s context of ${model.arch.context} tokens (--seq-len; [data] seq_len in llm-sim.toml)`,
    );
  }
}

function tomlValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" && v !== 0 && Math.abs(v) < 1e-3) return v.toExponential();
  return String(v);
}

/** The commented default llm-sim.toml that `llm-sim init-config` writes. */
export function initConfigText(): string {
  const lines = [
    "# llm-sim.toml: settings of `llm-sim train`, written by `llm-sim init-config`.",
    "# Every key is optional; a key left out keeps the default shown here.",
    "# Flags override this file: `llm-sim train --epochs 1` beats [train] epochs below.",
    "# Unknown keys and wrong types are errors. Each comment ends with the key's flag.",
  ];
  for (const s of SECTIONS) {
    lines.push("", `[${s}]`);
    for (const k of CONFIG_KEYS.filter((c) => c.section === s)) {
      lines.push(`# ${k.doc}${k.kind === "str" ? "" : `; ${must(k, true)}`} (${k.flag})`);
      lines.push(`${k.key} = ${tomlValue(DEFAULT_TRAIN_CONFIG[k.field])}`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * The command-line flags that give `config` over `base` (the defaults, or the settings a config
 * file gives; null: every setting): what a run started another way (the monitor's form) records
 * as its command, so that `llm-sim train` with them replays it.
 */
export function configArgv(
  config: TrainConfig,
  base: TrainConfig | null = DEFAULT_TRAIN_CONFIG,
): string[] {
  const out: string[] = [];
  for (const k of CONFIG_KEYS) {
    const v = config[k.field];
    if (base !== null && v === base[k.field]) continue;
    if (k.kind === "bool") {
      if (v === true) out.push(k.flag);
    } else out.push(k.flag, String(v));
  }
  return out;
}
