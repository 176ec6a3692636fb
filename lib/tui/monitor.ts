/**
 * `llm-sim monitor`'s state and what keys do to it. Pure: the shell feeds runs, metrics, log
 * lines and generated text in, and carries out the effects (launch, resume, stop, generate)
 * with the same application functions the CLI uses. Forms check every field as it is typed,
 * with the trainer's own validation, and show what the engine makes of a launch before it
 * happens.
 */
import { UsageError } from "../cli/errors.ts";
import type { GenerateArgs } from "../cli/generate_args.ts";
import { commas, humanDuration } from "../render/format.ts";
import {
  CONFIG_KEYS,
  configArgv,
  mergeConfig,
  settingFromText,
  validateConfig,
} from "../trainer/config.ts";
import { resolveDevice } from "../trainer/device.ts";
import { trainScenario } from "../trainer/session.ts";
import { latestCheckpointOf, type StatusView } from "../trainer/status.ts";
import type { TrainConfig } from "../trainer/types.ts";
import type { Key } from "./keys.ts";
import type { RunMetrics } from "./metrics.ts";

export interface RunEntry {
  id: string;
  view: StatusView | null;
  /** Why the run cannot be read (names the file); the others still work. */
  error: string | null;
}

export interface Field {
  key: string;
  label: string;
  value: string;
  /** Cycled with ←/→ instead of typed. */
  choices?: readonly string[];
  error: string | null;
}

export interface Form {
  kind: "launch" | "resume" | "generate" | "stop";
  title: string;
  /** The run a resume or generation is for. */
  runId: string | null;
  fields: Field[];
  focus: number;
  stage: "edit" | "confirm";
  /** What the engine makes of it, shown at the confirmation step. */
  summary: string[];
  error: string | null;
}

export interface Profile {
  /** "defaults", or the config file's name. */
  name: string;
  settings: Partial<TrainConfig>;
}

export type Effect =
  /** `argv`: the command the run records, which replays it (`train --detach …`). */
  | { kind: "launch"; config: TrainConfig; argv: string[] }
  | { kind: "resume"; id: string; checkpoint: number | "latest"; moreEpochs: number }
  | { kind: "stop"; id: string }
  | (
    & { kind: "generate"; id: string }
    & Pick<GenerateArgs, "checkpoint" | "prompt" | "maxNewTokens" | "temperature" | "topK" | "topP">
  )
  | { kind: "cancel-generate" }
  | { kind: "select"; id: string }
  | { kind: "quit"; interrupted?: boolean };

export interface MonitorState {
  width: number;
  height: number;
  color: boolean;
  /** Wall clock, epoch ms, and minutes east of UTC (ETA shown in local time). */
  now: number;
  tz: number;
  runsDir: string;
  /** Why the runs directory cannot be listed (missing, unreadable), or null. */
  problem: string | null;
  runs: RunEntry[];
  selected: number;
  /** The selected run's metrics and log tail (the shell keeps them current). */
  metrics: RunMetrics | null;
  log: string[];
  focus: "list" | "detail";
  /** Lines the log panel is scrolled up by. */
  logScroll: number;
  help: boolean;
  form: Form | null;
  /** The generate panel: its text as it streams in. */
  output: { runId: string; text: string; running: boolean; stats: string | null } | null;
  message: { text: string; error: boolean } | null;
  profiles: Profile[];
}

export function initialState(
  o: Pick<MonitorState, "width" | "height" | "color" | "now" | "tz" | "runsDir" | "profiles">,
): MonitorState {
  return {
    ...o,
    problem: null,
    runs: [],
    selected: 0,
    metrics: null,
    log: [],
    focus: "list",
    logScroll: 0,
    help: false,
    form: null,
    output: null,
    message: null,
  };
}

export function selectedRun(s: MonitorState): RunEntry | null {
  return s.runs[s.selected] ?? null;
}

/** New run list; the selection stays on the same run when it is still there. */
export function withRuns(s: MonitorState, runs: RunEntry[], problem: string | null): MonitorState {
  const current = selectedRun(s)?.id;
  const at = runs.findIndex((r) => r.id === current);
  return {
    ...s,
    runs,
    problem,
    selected: at >= 0 ? at : Math.min(s.selected, Math.max(0, runs.length - 1)),
  };
}

// ---- forms --------------------------------------------------------------------------------

const LAUNCH_FIELDS: [keyof TrainConfig | "profile", string][] = [
  ["profile", "config profile"],
  ["model", "model"],
  ["dataset", "dataset"],
  ["epochs", "epochs"],
  ["batchSize", "batch size"],
  ["seqLen", "seq length"],
  ["gradAccum", "grad accumulation"],
  ["device", "device"],
  ["gpus", "GPUs"],
  ["precision", "precision"],
  ["seed", "seed"],
];

function configKey(field: string) {
  return CONFIG_KEYS.find((k) => k.field === field);
}

function launchForm(profiles: readonly Profile[], profile = 0): Form {
  const p = profiles[profile] ?? { name: "defaults", settings: {} };
  const c = mergeConfig(p.settings);
  return {
    kind: "launch",
    title: "New run",
    runId: null,
    fields: LAUNCH_FIELDS.map(([key, label]): Field => {
      if (key === "profile") {
        return { key, label, value: p.name, choices: profiles.map((x) => x.name), error: null };
      }
      const k = configKey(key);
      return {
        key,
        label,
        value: String(c[key]),
        ...(k?.choices ? { choices: k.choices } : {}),
        error: null,
      };
    }),
    focus: 1,
    stage: "edit",
    summary: [],
    error: null,
  };
}

function checkpointChoices(view: StatusView | null): string[] {
  return ["latest", ...(view?.checkpoints ?? []).slice().reverse().map((s) => `step-${s}`)];
}

/** A form about one run whose first field is its checkpoint (latest, then newest first). */
function runForm(kind: "resume" | "generate", title: string, run: RunEntry, rest: Field[]): Form {
  const checkpoint: Field = {
    key: "checkpoint",
    label: "checkpoint",
    value: "latest",
    choices: checkpointChoices(run.view),
    error: null,
  };
  return {
    kind,
    title,
    runId: run.id,
    fields: [checkpoint, ...rest],
    focus: 1,
    stage: "edit",
    summary: [],
    error: null,
  };
}

function resumeForm(run: RunEntry): Form {
  return runForm("resume", `Resume ${run.id}`, run, [
    { key: "moreEpochs", label: "more epochs", value: "1", error: null },
  ]);
}

function generateForm(run: RunEntry): Form {
  const field = (key: string, label: string, value: string): Field => ({
    key,
    label,
    value,
    error: null,
  });
  return runForm("generate", `Generate from ${run.id}`, run, [
    field("prompt", "prompt", ""),
    field("maxNewTokens", "max tokens", "80"),
    field("temperature", "temperature", "0.8"),
    field("topK", "top-k", "0"),
    field("topP", "top-p", "0.95"),
  ]);
}

function message(e: unknown): string {
  return e instanceof UsageError ? e.message : e instanceof Error ? e.message : String(e);
}

function numberIn(
  raw: string,
  min: number,
  max: number,
  int: boolean,
  open = false,
): string | null {
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v) || (int && !Number.isInteger(v))) {
    return `must be ${int ? "a whole number" : "a number"}`;
  }
  if (v < min || (open && v === min) || v > max) {
    return `must be ${open ? "above" : "from"} ${min}${open ? " and at most" : " to"} ${max}`;
  }
  return null;
}

/** The error of one field as it stands (null: fine). */
function fieldError(form: Form, f: Field): string | null {
  if (f.choices) return null;
  switch (form.kind) {
    case "launch": {
      const k = configKey(f.key);
      if (!k) return null;
      try {
        settingFromText(k, f.value);
        return null;
      } catch (e) {
        return message(e).replace(/^--[\w-]+:? /, "");
      }
    }
    case "resume":
      return numberIn(f.value, 1, 10_000, true);
    case "generate":
      switch (f.key) {
        case "maxNewTokens":
          return numberIn(f.value, 1, 4096, true);
        case "temperature":
          return numberIn(f.value, 0, 100, false);
        case "topK":
          return numberIn(f.value, 0, 1_000_000, true);
        case "topP":
          return numberIn(f.value, 0, 1, false, true);
      }
      return null;
    case "stop":
      return null;
  }
}

function value(form: Form, key: string): string {
  return form.fields.find((f) => f.key === key)?.value ?? "";
}

/** The step a checkpoint field names for a run (latest resolved as the CLI does), or null. */
function checkpointStep(raw: string, v: StatusView | null): number | null {
  const c = checkpointValue(raw);
  return c === "latest" ? (v ? latestCheckpointOf(v.last_checkpoint, v.checkpoints) : null) : c;
}

function checkpointValue(raw: string): number | "latest" {
  return raw === "latest" ? "latest" : Number(raw.replace("step-", ""));
}

/** The launch settings of a form, over its profile. */
function launchConfig(form: Form, profiles: readonly Profile[]): TrainConfig {
  const profile = profiles.find((p) => p.name === value(form, "profile"));
  const typed: Record<string, unknown> = {};
  for (const f of form.fields) {
    const k = configKey(f.key);
    if (k) typed[f.key] = settingFromText(k, f.value);
  }
  return mergeConfig(profile?.settings ?? {}, typed as Partial<TrainConfig>);
}

/** Check the whole form; on success move to the confirmation with the engine's summary. */
function confirm(form: Form, s: MonitorState): Form {
  const fields = form.fields.map((f) => ({ ...f, error: fieldError(form, f) }));
  const bad = fields.findIndex((f) => f.error !== null);
  if (bad >= 0) return { ...form, fields, focus: bad, error: "fix the marked field first" };
  // the run a resume or generation is for
  const view = s.runs.find((r) => r.id === form.runId)?.view ?? null;
  try {
    let summary: string[];
    if (form.kind === "launch") {
      const c = launchConfig(form, s.profiles);
      validateConfig(c);
      const { device, precision } = resolveDevice(c);
      const made = trainScenario(c, device, precision, { checkpointDir: "", pid: 0 });
      if ("reason" in made) throw new UsageError(made.reason);
      const h = made.config;
      const perEpoch = h.samplesPerEpoch / h.globalBatch;
      const seconds = made.candidate.perf.stepSeconds * h.totalSteps;
      summary = [
        `${h.displayName} on ${device.count} × ${device.name} (${device.torchDevice}, ${precision})`,
        `${h.dataset.name}: ${c.epochs} epoch${
          c.epochs > 1 ? "s" : ""
        } × ${perEpoch} steps of ${h.globalBatch} × ${h.seqLen} tokens`,
        `about ${humanDuration(seconds)} of training at ${
          Math.round(made.candidate.perf.tokensPerSecond).toLocaleString("en-US")
        } tokens/s${made.fits ? "" : " — it does NOT fit in memory and will fail"}`,
        ...device.warnings,
      ];
    } else if (form.kind === "resume") {
      const step = checkpointStep(value(form, "checkpoint"), view);
      if (step === null) throw new UsageError(`run ${form.runId} has no checkpoint to resume from`);
      const more = Number(value(form, "moreEpochs"));
      // whole epochs of the run's own length: a resume plays exactly that many more steps
      const perEpoch = view && view.epochs > 0 ? Math.round(view.total_steps / view.epochs) : 0;
      summary = [
        `from step-${step} for ${more} more epoch${more === 1 ? "" : "s"}` +
        (perEpoch ? `: steps ${commas(step + 1)}–${commas(step + more * perEpoch)}` : ""),
        `the learning rate decays on from its value at step-${step} to the new end`,
      ];
    } else {
      const step = checkpointStep(value(form, "checkpoint"), view);
      summary = [
        `${value(form, "maxNewTokens")} tokens from ${
          step === null ? value(form, "checkpoint") : `step-${step}`
        }`,
      ];
    }
    return { ...form, fields, stage: "confirm", summary, error: null };
  } catch (e) {
    // an error that names a flag ("--precision fp8: …") puts the cursor on that field
    const flag = /^(--[\w-]+)/.exec(message(e))?.[1];
    const at = fields.findIndex((f) => flag !== undefined && configKey(f.key)?.flag === flag);
    return { ...form, fields, focus: at >= 0 ? at : form.focus, error: message(e) };
  }
}

/**
 * The command a run launched from the form records, which replays it: `llm-sim train` with the
 * settings that differ from what it would read anyway — the profile's file, named with
 * --config, or the defaults; every setting when ./llm-sim.toml exists but the form used the
 * defaults (train would read that file) — and the runs directory when it is not ./runs.
 */
function replayArgv(
  config: TrainConfig,
  profile: string,
  list: readonly Profile[],
  root: string,
): string[] {
  const file = list.find((p) => p.name === profile && p.name !== "defaults");
  const base = file
    ? mergeConfig(file.settings)
    : list.some((p) => p.name !== "defaults")
    ? null
    : mergeConfig({});
  return [
    "train",
    "--detach",
    ...(file ? ["--config", file.name] : []),
    ...configArgv(config, base),
    ...(root !== "runs" ? ["--runs-dir", root] : []),
  ];
}

function submit(form: Form, s: MonitorState): Effect {
  const id = form.runId ?? "";
  switch (form.kind) {
    case "stop":
      return { kind: "stop", id };
    case "launch": {
      const config = launchConfig(form, s.profiles);
      return {
        kind: "launch",
        config,
        argv: replayArgv(config, value(form, "profile"), s.profiles, s.runsDir),
      };
    }
    case "resume":
      return {
        kind: "resume",
        id,
        checkpoint: checkpointValue(value(form, "checkpoint")),
        moreEpochs: Number(value(form, "moreEpochs")),
      };
    case "generate":
      return {
        kind: "generate",
        id,
        checkpoint: checkpointValue(value(form, "checkpoint")),
        prompt: value(form, "prompt"),
        maxNewTokens: Number(value(form, "maxNewTokens")),
        temperature: Number(value(form, "temperature")),
        topK: Number(value(form, "topK")),
        topP: Number(value(form, "topP")),
      };
  }
}

function editForm(
  s: MonitorState,
  form: Form,
  key: Key,
): { state: MonitorState; effects: Effect[] } {
  const done = (f: Form | null, effects: Effect[] = []) => ({ state: { ...s, form: f }, effects });
  if (form.stage === "confirm") {
    if (key.name === "enter" || (key.name === "char" && key.char === "y")) {
      const effect = submit(form, s);
      if (effect.kind === "generate") {
        return {
          state: {
            ...s,
            form: null,
            output: { runId: effect.id, text: "", running: true, stats: null },
          },
          effects: [effect],
        };
      }
      return done(null, [effect]);
    }
    if (key.name === "escape" || (key.name === "char" && key.char === "n")) {
      return done(form.kind === "stop" ? null : { ...form, stage: "edit" });
    }
    return done(form);
  }
  const fields = form.fields.slice();
  const f = fields[form.focus]!;
  const set = (v: string) => {
    fields[form.focus] = { ...f, value: v, error: null };
    const changed = { ...form, fields, error: null };
    fields[form.focus] = {
      ...fields[form.focus]!,
      error: fieldError(changed, fields[form.focus]!),
    };
    if (f.key === "profile") {
      const i = s.profiles.findIndex((p) => p.name === v);
      return done({ ...launchForm(s.profiles, Math.max(0, i)), focus: form.focus });
    }
    return done(changed);
  };
  switch (key.name) {
    case "escape":
      return done(null);
    case "tab":
    case "down":
      return done({ ...form, focus: (form.focus + 1) % fields.length });
    case "backtab":
    case "up":
      return done({ ...form, focus: (form.focus + fields.length - 1) % fields.length });
    case "enter":
      return done(confirm(form, s));
    case "left":
    case "right": {
      if (!f.choices?.length) return done(form);
      const i = f.choices.indexOf(f.value);
      const n = f.choices.length;
      return set(f.choices[(i + (key.name === "right" ? 1 : n - 1) + n) % n]!);
    }
    case "backspace":
      return f.choices ? done(form) : set(f.value.slice(0, -1));
    case "char":
      return f.choices ? done(form) : set(f.value + key.char);
    case "ctrl":
      if (key.key === "u" && !f.choices) return set("");
      return done(form);
    default:
      return done(form);
  }
}

// ---- keys ---------------------------------------------------------------------------------

/** What a key does: a new state and the effects the shell must carry out. */
export function update(s: MonitorState, key: Key): { state: MonitorState; effects: Effect[] } {
  const same = (state: MonitorState, effects: Effect[] = []) => ({ state, effects });
  // Ctrl-C quits from anywhere, as an interruption (exit 130); q quits from the screen (exit 0)
  if (key.name === "ctrl" && key.key === "c") return same(s, [{ kind: "quit", interrupted: true }]);
  if (s.form) return editForm(s, s.form, key);
  if (s.help) return same({ ...s, help: false });
  const run = selectedRun(s);
  const move = (by: number) => {
    if (s.focus === "detail") {
      // scrolled up by at most the log's length less one line: something always shows
      const logScroll = Math.max(0, Math.min(s.log.length - 1, s.logScroll - by));
      return same({ ...s, logScroll });
    }
    const selected = Math.max(0, Math.min(s.runs.length - 1, s.selected + by));
    const id = s.runs[selected]?.id;
    if (!id || selected === s.selected) return same(s);
    // another run: its own log from the bottom, and generated text of the last one closes
    const effects: Effect[] = [{ kind: "select", id }];
    if (s.output?.running) effects.push({ kind: "cancel-generate" });
    return same({ ...s, selected, logScroll: 0, output: null }, effects);
  };
  switch (key.name) {
    case "up":
      return move(-1);
    case "down":
      return move(1);
    case "pageup":
      return move(-10);
    case "pagedown":
      return move(10);
    case "home":
      return move(-s.runs.length);
    case "end":
      return move(s.runs.length);
    case "tab":
    case "backtab":
      return same({ ...s, focus: s.focus === "list" ? "detail" : "list" });
    case "enter":
      return same({ ...s, focus: "detail" });
    case "escape":
      if (s.output) {
        return same({ ...s, output: null }, s.output.running ? [{ kind: "cancel-generate" }] : []);
      }
      return same({ ...s, focus: "list", message: null });
    case "char":
      break;
    default:
      return same(s);
  }
  switch (key.char) {
    case "q":
      return same(s, [{ kind: "quit" }]);
    case "j":
      return move(1);
    case "k":
      return move(-1);
    case "?":
      return same({ ...s, help: true });
    case "n":
      return same({ ...s, form: launchForm(s.profiles) });
    case "r":
      if (!run?.view) {
        return same({ ...s, message: { text: "select a run to resume", error: true } });
      }
      if (run.view.alive) {
        return same({
          ...s,
          message: { text: `${run.id} is running: stop it first (s)`, error: true },
        });
      }
      if (run.view.checkpoints.length === 0) {
        return same({
          ...s,
          message: { text: `${run.id} has no checkpoint to resume from`, error: true },
        });
      }
      return same({ ...s, form: resumeForm(run) });
    case "g":
      if (!run?.view) {
        return same({ ...s, message: { text: "select a run to sample from", error: true } });
      }
      if (run.view.checkpoints.length === 0) {
        return same({
          ...s,
          message: {
            text: `${run.id} has no checkpoint yet: generation needs one (wait for the first save)`,
            error: true,
          },
        });
      }
      return same({ ...s, form: generateForm(run) });
    case "s":
      if (!run?.view?.alive) {
        return same({ ...s, message: { text: "no running run selected", error: true } });
      }
      return same({
        ...s,
        form: {
          kind: "stop",
          title: `Stop ${run.id}?`,
          runId: run.id,
          fields: [],
          focus: 0,
          stage: "confirm",
          summary: ["it finishes its step, saves a checkpoint and ends as stopped"],
          error: null,
        },
      }, []);
  }
  return same(s);
}
