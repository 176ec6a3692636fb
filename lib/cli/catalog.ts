/** Looking up catalog entries by the names users type, with suggestions when they miss. */
import {
  DATASETS,
  type DatasetSpec,
  FUN_MODELS,
  GPUS,
  type GpuSpec,
  type ModelPreset,
  MODELS,
} from "../data.ts";
import { UsageError } from "./errors.ts";
import { closest } from "./suggest.ts";

function norm(s: string): string {
  return s.trim().toLowerCase();
}

export interface ModelChoice {
  model: ModelPreset;
  /** Set when the user named a humorous alias. */
  displayName?: string;
}

/** Find a model by id, alias, display name or humorous name. */
export function findModel(name: string): ModelChoice | null {
  const q = norm(name);
  const m = MODELS.find((x) =>
    norm(x.id) === q || norm(x.name) === q || x.aliases.some((a) => norm(a) === q)
  );
  if (m) return { model: m };
  const fun = FUN_MODELS.find((f) => norm(f.name) === q);
  if (fun) {
    const base = MODELS.find((x) => x.id === fun.base);
    if (base) return { model: base, displayName: fun.name };
  }
  return null;
}

export function findGpu(name: string): GpuSpec | null {
  const q = norm(name).replace(/^nvidia[ -]/, "");
  return GPUS.find((g) =>
    norm(g.id) === q || norm(g.name) === q || norm(g.smiName) === norm(name) ||
    g.aliases.some((a) => norm(a) === q)
  ) ?? null;
}

export function findDataset(name: string): DatasetSpec | null {
  const q = norm(name);
  return DATASETS.find((d) => norm(d.id) === q || norm(d.name) === q) ?? null;
}

function suggestion(names: string[]): string {
  return names.length > 0 ? `; did you mean ${names.join(", ")}?` : "";
}

/** The entry, or a UsageError naming the flag, suggesting the closest spellings. */
function require<T>(
  what: string,
  list: string,
  flag: string,
  name: string,
  found: T | null,
  spellings: () => { spelling: string; name: string }[],
): T {
  if (found) return found;
  throw new UsageError(
    `${flag}: unknown ${what} '${name}'${
      suggestion(closest(name, spellings()))
    } (llm-sim --list ${list} shows all)`,
  );
}

export function requireModel(flag: string, name: string): ModelChoice {
  return require(
    "model",
    "models",
    flag,
    name,
    findModel(name),
    () =>
      MODELS.flatMap((m) => [m.id, m.name, ...m.aliases].map((s) => ({ spelling: s, name: m.id })))
        .concat(FUN_MODELS.map((f) => ({ spelling: f.name, name: f.name }))),
  );
}

export function requireGpu(flag: string, name: string): GpuSpec {
  return require(
    "GPU",
    "gpus",
    flag,
    name,
    findGpu(name),
    () =>
      GPUS.flatMap((g) =>
        [g.id, g.name, g.smiName, ...g.aliases].map((s) => ({ spelling: s, name: g.id }))
      ),
  );
}

export function requireDataset(flag: string, name: string): DatasetSpec {
  return require(
    "dataset",
    "datasets",
    flag,
    name,
    findDataset(name),
    () => DATASETS.flatMap((d) => [d.id, d.name].map((s) => ({ spelling: s, name: d.id }))),
  );
}
