/**
 * The run store's pure half: validators for the files under runs/<id>/ (meta.json, state.json,
 * checkpoint manifests), lifecycle transitions, run ids and checkpoint directory names.
 * No Deno.* here; lib/store/disk.ts does the I/O.
 */
import { PRECISIONS } from "../engine/types.ts";
import type { CheckpointManifest, Lifecycle, RunMeta, RunState } from "../trainer/types.ts";
import { LIFECYCLES } from "../trainer/types.ts";

/** A problem with the run store; the message is the one line to show the user. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreError";
  }
}

// ---------------------------------------------------------------------------------------------
// Validators. A rule checks a value found at a dotted path and returns what is wrong with it.

type Rule = (v: unknown, at: string) => string | undefined;
type Spec = Record<string, Rule>;

const is = (want: string, ok: (v: unknown) => boolean): Rule => (v, at) =>
  ok(v) ? undefined : `"${at}" must be ${want}`;
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const str = is("a string", (v) => typeof v === "string");
const num = is("a number", (v) => typeof v === "number" && Number.isFinite(v));
const bool = is("true or false", (v) => typeof v === "boolean");
const date = is(
  "an ISO 8601 date",
  (v) => typeof v === "string" && Number.isFinite(Date.parse(v)),
);
const oneOf = (xs: readonly unknown[]): Rule =>
  is(`one of ${xs.join(", ")}`, (v) => xs.includes(v));
const one = is("1", (v) => v === 1);

/** `rule`, or null; "must be a number" becomes "must be a number or null" for the value itself. */
const nullable = (rule: Rule): Rule => (v, at) => {
  if (v === null) return undefined;
  const e = rule(v, at);
  return e?.startsWith(`"${at}" `) ? `${e} or null` : e;
};

const arrayOf = (rule: Rule): Rule => (v, at) => {
  if (!Array.isArray(v)) return `"${at}" must be an array`;
  for (const [i, x] of v.entries()) {
    const e = rule(x, `${at}[${i}]`);
    if (e) return e;
  }
  return undefined;
};

/** An object with these fields (a key ending in "?" may be absent); other keys are allowed. */
const object = (spec: Spec): Rule => (v, at) => {
  if (!isRecord(v)) return at ? `"${at}" must be an object` : "not a JSON object";
  for (const [key, rule] of Object.entries(spec)) {
    const optional = key.endsWith("?");
    const k = optional ? key.slice(0, -1) : key;
    const path = at ? `${at}.${k}` : k;
    if (v[k] === undefined) {
      if (optional) continue;
      return `"${path}" is missing`;
    }
    const e = rule(v[k], path);
    if (e) return e;
  }
  return undefined;
};

const numbers = (...keys: string[]): Spec => Object.fromEntries(keys.map((k) => [k, num]));
const nullableNumbers = (...keys: string[]): Spec =>
  Object.fromEntries(keys.map((k) => [k, nullable(num)]));

const DECAYS = ["cosine", "linear", "wsd"] as const;

const CONFIG = object({
  model: str,
  dataset: str,
  ...numbers("seqLen", "batchSize", "gradAccum", "workers", "epochs", "lr", "minLr"),
  ...numbers("warmupSteps"),
  schedule: oneOf(DECAYS),
  precision: oneOf([...PRECISIONS, "auto"]),
  ...numbers("seed", "evalEvery", "saveEvery"),
  device: str,
  gpus: num,
  strictDevice: bool,
});

const DEVICE = object({
  requested: str,
  kind: oneOf(["cuda", "cpu"]),
  torchDevice: str,
  id: str,
  name: str,
  ...numbers("count", "available"),
  warnings: arrayOf(str),
});

const META = object({
  schema: one,
  id: str,
  version: str,
  createdAt: date,
  seed: num,
  config: CONFIG,
  device: DEVICE,
  precision: oneOf(PRECISIONS),
  hidden: object({}),
  argv: arrayOf(str),
});

const STATE = object({
  schema: one,
  id: str,
  status: oneOf(LIFECYCLES),
  pid: nullable(num),
  reason: nullable(str),
  queuedAt: date,
  startedAt: nullable(date),
  updatedAt: date,
  endedAt: nullable(date),
  ...numbers("step", "totalSteps", "epoch", "epochs", "samples", "tokens"),
  ...nullableNumbers("loss", "valLoss", "valStep", "lr", "tokensPerSecond"),
  elapsedS: num,
  etaAt: nullable(date),
  remainingS: nullable(num),
  lastCheckpoint: nullable(num),
  resumes: num,
  gpu: nullable(object(numbers("util", "memUsedMiB", "memTotalMiB", "powerW", "tempC"))),
});

/** An LrSchedule; an extended one nests the schedule it extended. */
const LR_SCHEDULE: Rule = object({
  ...numbers("peak", "min", "warmupSteps", "totalSteps"),
  decay: oneOf(DECAYS),
  decaySteps: num,
  "extendedAt?": (v, at) => object({ ...numbers("step", "lr"), before: LR_SCHEDULE })(v, at),
});

const MANIFEST = object({
  schema: one,
  ...numbers("step", "epoch", "samples", "tokens"),
  savedAt: date,
  totalSteps: num,
  lr: LR_SCHEDULE,
  // The engine's state is the engine's business; the store only needs its step.
  sim: object({ step: num }),
  ...nullableNumbers("loss", "valLoss"),
  files: arrayOf(object({ name: str, bytes: num })),
  bytes: num,
});

function check<T>(rule: Rule, value: unknown, file: string): T {
  const e = rule(value, "");
  if (e) throw new StoreError(`${file}: ${e}`);
  return value as T;
}

/** meta.json's content, or a StoreError naming `file` and the first bad field. */
export const parseMeta = (value: unknown, file: string): RunMeta => check(META, value, file);
/** state.json's content, or a StoreError naming `file` and the first bad field. */
export const parseState = (value: unknown, file: string): RunState => check(STATE, value, file);
/** A checkpoint's manifest.json, or a StoreError naming `file` and the first bad field. */
export const parseManifest = (value: unknown, file: string): CheckpointManifest =>
  check(MANIFEST, value, file);

// ---------------------------------------------------------------------------------------------

const NEXT: Record<Lifecycle, readonly Lifecycle[]> = {
  queued: ["running", "failed", "stopped"],
  running: ["running", "completed", "failed", "stopped"], // running → running: a progress update
  completed: ["queued", "running"], // the ended states go back by a resume
  failed: ["queued", "running"],
  stopped: ["queued", "running"],
};

/** Whether state.json may go from `from` to `to`. */
export function canTransition(from: Lifecycle, to: Lifecycle): boolean {
  return NEXT[from].includes(to);
}

/** `YYYYMMDD-HHMMSS-<slug>-<4 hex>` (UTC); the hex is the low 16 bits of `random` (a uint32). */
export function newRunId(createdMs: number, modelSlug: string, random: number): string {
  const d = new Date(createdMs);
  const p = (n: number) => String(n).padStart(2, "0");
  const day = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
  const time = `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  const trim = (s: string) => s.replace(/^[-.]+|[-.]+$/g, "");
  const clean = trim(modelSlug.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/-+/g, "-"));
  const slug = trim(clean.slice(0, 24)) || "run";
  const hex = ((random >>> 0) & 0xffff).toString(16).padStart(4, "0");
  return `${day}-${time}-${slug}-${hex}`;
}

/** The part of a run id after its timestamp ("gpt2-1a2b"), or the id itself when it has none. */
export function runIdTail(id: string): string {
  return /^\d{8}-\d{6}-(.+)$/.exec(id)?.[1] ?? id;
}

/** The creation time a run id's timestamp records, in ms; null when it has none. */
export function runIdTime(id: string): number | null {
  const m = /^(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)(?:-|$)/.exec(id);
  if (!m) return null;
  const [y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0] = m.slice(1).map(Number);
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isFinite(t) ? t : null;
}

/** checkpoints/<name> of the checkpoint saved at `step`. */
export function checkpointDirName(step: number): string {
  return `step-${step}`;
}

/** The step of a checkpoint directory name ("step-1200" → 1200); null for anything else. */
export function parseCheckpointDirName(name: string): number | null {
  const m = /^step-(0|[1-9]\d{0,15})$/.exec(name);
  return m ? Number(m[1]) : null;
}
