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

export function requireModel(flag: string, name: string): ModelChoice {
  const found = findModel(name);
  if (found) return found;
  const entries = MODELS.flatMap((m) =>
    [m.id, m.name, ...m.aliases].map((s) => ({ spelling: s, name: m.id }))
  ).concat(FUN_MODELS.map((f) => ({ spelling: f.name, name: f.name })));
  throw new UsageError(
    `${flag}: unknown model '${name}'${
      suggestion(closest(name, entries))
    } (llm-sim --list models shows all)`,
  );
}

export function requireGpu(flag: string, name: string): GpuSpec {
  const found = findGpu(name);
  if (found) return found;
  const entries = GPUS.flatMap((g) =>
    [g.id, g.name, g.smiName, ...g.aliases].map((s) => ({ spelling: s, name: g.id }))
  );
  throw new UsageError(
    `${flag}: unknown GPU '${name}'${
      suggestion(closest(name, entries))
    } (llm-sim --list gpus shows all)`,
  );
}

export function requireDataset(flag: string, name: string): DatasetSpec {
  const found = findDataset(name);
  if (found) return found;
  const entries = DATASETS.flatMap((d) => [d.id, d.name].map((s) => ({ spelling: s, name: d.id })));
  throw new UsageError(
    `${flag}: unknown dataset '${name}'${
      suggestion(closest(name, entries))
    } (llm-sim --list datasets shows all)`,
  );
}
