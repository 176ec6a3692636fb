/**
 * The trainer workflow's commands (train, status, runs, logs, stop, resume, init-config) from
 * argv to a typed request. Pure: reading files, runs and the environment is the shell's job.
 */
import { configFlagSpec, configFromFlags } from "../trainer/config.ts";
import type { TrainConfig } from "../trainer/types.ts";
import { UsageError } from "./errors.ts";
import { bool, type FlagSpec, intFlag, numFlag, parseFlags, str } from "./flags.ts";

export const TRAINER_COMMANDS = [
  "train",
  "status",
  "runs",
  "logs",
  "stop",
  "resume",
  "init-config",
] as const;
export type TrainerCommandName = typeof TRAINER_COMMANDS[number];

/** How a run plays: at wall speed (× factor) or as fast as it computes. */
export interface Pace {
  speed: number;
  instant: boolean;
  width: number | null;
  noColor: boolean;
}

export type TrainerRequest =
  | { cmd: "help"; of: TrainerCommandName }
  | {
    cmd: "train";
    configFile: string | null;
    settings: Partial<TrainConfig>;
    runsDir: string | null;
    detach: boolean;
    pace: Pace;
  }
  | { cmd: "status"; run: string | null; json: boolean; runsDir: string | null }
  | { cmd: "runs"; json: boolean; runsDir: string | null }
  | { cmd: "logs"; run: string | null; follow: boolean; runsDir: string | null }
  | { cmd: "stop"; run: string | null; wait: boolean; runsDir: string | null }
  | {
    cmd: "resume";
    run: string | null;
    checkpoint: number | "latest";
    moreEpochs: number;
    runsDir: string | null;
    detach: boolean;
    pace: Pace;
  }
  | { cmd: "init-config"; file: string; force: boolean; stdout: boolean }
  | {
    /** Internal: the process that plays a run (foreground train/resume call it in-process). */
    cmd: "worker";
    run: string;
    runsDir: string;
    checkpoint: number | null;
    moreEpochs: number;
    pace: Pace;
  };

const PACE_FLAGS: FlagSpec = {
  speed: { type: "string" },
  instant: { type: "boolean" },
  width: { type: "string" },
  "no-color": { type: "boolean" },
};
const RUNS_DIR: FlagSpec = { "runs-dir": { type: "string" } };
const HELP: FlagSpec = { help: { type: "boolean", short: "h" } };

/** Each command's flags (shell completions are generated from these too). */
export const TRAINER_FLAGS: Record<TrainerCommandName | "worker", FlagSpec> = {
  train: {
    ...configFlagSpec,
    ...PACE_FLAGS,
    ...RUNS_DIR,
    ...HELP,
    config: { type: "string" },
    detach: { type: "boolean" },
  },
  status: { ...RUNS_DIR, ...HELP, json: { type: "boolean" } },
  runs: { ...RUNS_DIR, ...HELP, json: { type: "boolean" } },
  logs: { ...RUNS_DIR, ...HELP, follow: { type: "boolean", short: "f" } },
  stop: { ...RUNS_DIR, ...HELP, "no-wait": { type: "boolean" } },
  resume: {
    ...PACE_FLAGS,
    ...RUNS_DIR,
    ...HELP,
    checkpoint: { type: "string" },
    "more-epochs": { type: "string" },
    detach: { type: "boolean" },
  },
  "init-config": { ...HELP, force: { type: "boolean" }, stdout: { type: "boolean" } },
  worker: {
    ...PACE_FLAGS,
    ...RUNS_DIR,
    checkpoint: { type: "string" },
    "more-epochs": { type: "string" },
  },
};

function pace(p: ReturnType<typeof parseFlags>): Pace {
  return {
    speed: numFlag(p, "speed", 0.01, 1e6) ?? 1,
    instant: bool(p, "instant"),
    width: intFlag(p, "width", 20, 1000) ?? null,
    noColor: bool(p, "no-color"),
  };
}

function oneRun(p: ReturnType<typeof parseFlags>, command: string): string | null {
  if (p.positionals.length > 1) {
    throw new UsageError(`${command} takes one run id, got ${p.positionals.length}`);
  }
  return p.positionals[0] ?? null;
}

function noPositionals(p: ReturnType<typeof parseFlags>, command: string): void {
  if (p.positionals.length > 0) {
    throw new UsageError(`${command} takes no arguments, got '${p.positionals[0]}'`);
  }
}

function checkpointArg(p: ReturnType<typeof parseFlags>): number | "latest" {
  const v = str(p, "checkpoint");
  if (v === undefined || v === "latest") return "latest";
  const step = /^(?:step-)?(\d+)$/.exec(v.trim());
  if (!step) {
    throw new UsageError(`--checkpoint must be a step number, step-N or latest, not '${v}'`);
  }
  return Number(step[1]);
}

function moreEpochs(p: ReturnType<typeof parseFlags>): number {
  const v = str(p, "more-epochs");
  if (v === undefined) throw new UsageError("resume needs --more-epochs N (N ≥ 1)");
  if (!/^\s*-?\d+\s*$/.test(v) || Number(v) < 1 || Number(v) > 10_000) {
    throw new UsageError(`--more-epochs must be a whole number from 1 to 10000, not '${v}'`);
  }
  return Number(v);
}

/** Parse `llm-sim <command> …` (argv without the command word). */
export function parseTrainerArgs(
  command: TrainerCommandName | "worker",
  argv: string[],
): TrainerRequest {
  const name = `llm-sim ${command}`;
  const p = parseFlags(argv, TRAINER_FLAGS[command], name);
  switch (command) {
    case "train": {
      if (bool(p, "help")) return { cmd: "help", of: "train" };
      noPositionals(p, name);
      return {
        cmd: "train",
        configFile: str(p, "config") ?? null,
        settings: configFromFlags(p),
        runsDir: str(p, "runs-dir") ?? null,
        detach: bool(p, "detach"),
        pace: pace(p),
      };
    }
    case "status": {
      if (bool(p, "help")) return { cmd: "help", of: "status" };
      return {
        cmd: "status",
        run: oneRun(p, name),
        json: bool(p, "json"),
        runsDir: str(p, "runs-dir") ?? null,
      };
    }
    case "runs": {
      if (bool(p, "help")) return { cmd: "help", of: "runs" };
      noPositionals(p, name);
      return { cmd: "runs", json: bool(p, "json"), runsDir: str(p, "runs-dir") ?? null };
    }
    case "logs": {
      if (bool(p, "help")) return { cmd: "help", of: "logs" };
      return {
        cmd: "logs",
        run: oneRun(p, name),
        follow: bool(p, "follow"),
        runsDir: str(p, "runs-dir") ?? null,
      };
    }
    case "stop": {
      if (bool(p, "help")) return { cmd: "help", of: "stop" };
      return {
        cmd: "stop",
        run: oneRun(p, name),
        wait: !bool(p, "no-wait"),
        runsDir: str(p, "runs-dir") ?? null,
      };
    }
    case "resume": {
      if (bool(p, "help")) return { cmd: "help", of: "resume" };
      return {
        cmd: "resume",
        run: oneRun(p, name),
        checkpoint: checkpointArg(p),
        moreEpochs: moreEpochs(p),
        runsDir: str(p, "runs-dir") ?? null,
        detach: bool(p, "detach"),
        pace: pace(p),
      };
    }
    case "init-config": {
      if (bool(p, "help")) return { cmd: "help", of: "init-config" };
      if (p.positionals.length > 1) throw new UsageError(`${name} takes one file name`);
      return {
        cmd: "init-config",
        file: p.positionals[0] ?? "llm-sim.toml",
        force: bool(p, "force"),
        stdout: bool(p, "stdout"),
      };
    }
    case "worker": {
      const run = oneRun(p, name);
      const dir = str(p, "runs-dir");
      if (run === null || dir === undefined) {
        throw new UsageError("worker needs a run id and --runs-dir");
      }
      const ckpt = str(p, "checkpoint");
      return {
        cmd: "worker",
        run,
        runsDir: dir,
        checkpoint: ckpt === undefined ? null : Number(ckpt),
        moreEpochs: intFlag(p, "more-epochs", 0, 10_000) ?? 0,
        pace: pace(p),
      };
    }
  }
}

/** The flags a worker needs to play at the same pace as the command that started it. */
export function paceArgs(p: Pace): string[] {
  return p.instant ? ["--instant"] : p.speed !== 1 ? ["--speed", String(p.speed)] : [];
}

const RUNS_DIR_HELP =
  "  --runs-dir DIR             where runs live (default: $LLM_SIM_RUNS, else ./runs)";
const PACE_HELP = `  --speed X                  simulated time factor (default 1: real time)
  --instant                  no pauses: the run plays as fast as it computes
  --width N, --no-color      as for the show`;

export const TRAINER_HELP: Record<TrainerCommandName, string> = {
  train: `llm-sim train: one simulated training run, shown live and kept in runs/<id>/.

Usage:
  llm-sim train [--config FILE] [flags]

Settings (each also a key of llm-sim.toml; flags win over the file):
  --model NAME               preset (llm-sim --list models)             [model] preset
  --dataset NAME             dataset (llm-sim --list datasets)          [data] dataset
  --seq-len N                tokens per sample                          [data] seq_len
  --batch-size N             samples per device per micro-step          [data] batch_size
  --grad-accum N             micro-steps per optimizer step             [data] grad_accum
  --workers N                DataLoader worker processes                [data] workers
  --epochs N                                                            [train] epochs
  --lr X, --min-lr X         peak and final learning rate               [train] lr, min_lr
  --warmup-steps N                                                      [train] warmup_steps
  --schedule NAME            cosine | linear | wsd                      [train] schedule
  --precision NAME           auto | bf16 | fp16 | fp8 | fp32            [train] precision
  --seed N                                                              [train] seed
  --eval-every N, --save-every N   steps; 0 = at the end of each epoch  [train]
  --device NAME              auto | cpu | cuda | cuda:N | a GPU (A30 …) [device] device
  --gpus N                   devices to use                             [device] gpus
  --strict-device            fail instead of falling back               [device] strict

Run:
  --config FILE              settings file (default: ./llm-sim.toml when present)
  --detach                   run in the background; print the run id and PID
${RUNS_DIR_HELP}
${PACE_HELP}

Write a commented llm-sim.toml with: llm-sim init-config
`,
  status: `llm-sim status: where a run stands.

Usage:
  llm-sim status [RUN] [--json]

Without RUN, the most recent run. A run whose process is gone reads as failed.
  --json                     one JSON object (fields in the README)
${RUNS_DIR_HELP}
`,
  runs: `llm-sim runs: every run, newest first (id, status, model, epoch, loss, device, ETA).

Usage:
  llm-sim runs [--json]
${RUNS_DIR_HELP}
`,
  logs: `llm-sim logs: what a run printed (runs/<id>/train.log).

Usage:
  llm-sim logs [RUN] [-f]

  -f, --follow               keep printing new lines until the run ends (Ctrl-C to leave)
${RUNS_DIR_HELP}
`,
  stop: `llm-sim stop: stop a run gracefully: it finishes its step, saves a checkpoint and ends
as stopped. Resume it later with llm-sim resume.

Usage:
  llm-sim stop [RUN] [--no-wait]

  --no-wait                  ask and return at once
${RUNS_DIR_HELP}
`,
  resume: `llm-sim resume: continue a run from a checkpoint for exactly N more epochs.

Usage:
  llm-sim resume [RUN] [--checkpoint STEP|latest] --more-epochs N

The engine's state (step, learning-rate schedule, loss curve, random streams) comes back from
the checkpoint; the learning rate decays on from where it stood.
  --checkpoint STEP          a saved step (llm-sim status lists them); default latest
  --more-epochs N            epochs to train from the checkpoint (N ≥ 1)
  --detach                   run in the background
${RUNS_DIR_HELP}
${PACE_HELP}
`,
  "init-config": `llm-sim init-config: write a commented default llm-sim.toml.

Usage:
  llm-sim init-config [FILE] [--force] [--stdout]

  --force                    overwrite an existing file
  --stdout                   print it instead of writing a file
`,
};
