/**
 * The trainer workflow's shell: runs directory, permissions, files, processes, signals. The
 * decisions live in lib/trainer (pure); this file does the I/O they need.
 *
 * Permissions: the runs directory read and write, and --allow-run of llm-sim itself for
 * `--detach`. Nothing else: the show still needs none.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Clock, Interrupted, RealClock, VirtualClock } from "../core/clock.ts";
import { UsageError } from "../cli/errors.ts";
import { type Pace, paceArgs, TRAINER_HELP, type TrainerRequest } from "../cli/trainer_args.ts";
import { configRecord, derivedRecord, JsonlDialect } from "../dialects/jsonl.ts";
import { TeeDialect } from "../dialects/tee.ts";
import { TrainerDialect } from "../dialects/trainer.ts";
import { derivePhysics } from "../engine/run.ts";
import { slug } from "../engine/scenario.ts";
import { isoUtc } from "../render/format.ts";
import { RunLock, RunStore } from "../store/disk.ts";
import { newRunId, StoreError } from "../store/schema.ts";
import { HIDE_CURSOR, RESET, SHOW_CURSOR } from "../term/ansi.ts";
import { DenoTerminal } from "../term/deno_terminal.ts";
import { Screen } from "../term/screen.ts";
import type { Terminal } from "../term/terminal.ts";
import { initConfigText, mergeConfig, parseConfigToml, validateConfig } from "../trainer/config.ts";
import { resolveDevice } from "../trainer/device.ts";
import { guidance } from "../trainer/guidance.ts";
import { RunRecorder } from "../trainer/recorder.ts";
import { queuedState } from "../trainer/state.ts";
import { playTrain, resumedConfig, trainScenario } from "../trainer/session.ts";
import {
  effectiveState,
  latestCheckpointOf,
  QUEUED_GRACE_S,
  runsTable,
  statusText,
  statusView,
} from "../trainer/status.ts";
import type { RunMeta, TrainConfig } from "../trainer/types.ts";
import { granted, listen, randomUint32, writeErr, writeOut } from "./io.ts";

const DEFAULT_CONFIG_FILE = "llm-sim.toml";

/** The runs directory: --runs-dir, else $LLM_SIM_RUNS (when readable without asking), else ./runs. */
export function runsRoot(flag: string | null): string {
  if (flag !== null) return flag;
  if (granted({ name: "env", variable: "LLM_SIM_RUNS" })) {
    const env = Deno.env.get("LLM_SIM_RUNS");
    if (env) return env;
  }
  return "runs";
}

/** Refuse up front, with the flags to add, rather than let Deno prompt or throw mid-run. */
function needFiles(root: string, write: boolean): void {
  const read = granted({ name: "read", path: root });
  const writable = !write || granted({ name: "write", path: root });
  if (read && writable) return;
  throw new UsageError(
    `the runs directory needs permissions: deno run --allow-read=${root}${
      write ? ` --allow-write=${root}` : ""
    } … (or --runs-dir DIR; see the README)`,
  );
}

export function storeOf(flag: string | null, write: boolean): RunStore {
  const root = runsRoot(flag);
  needFiles(root, write);
  return new RunStore(root);
}

/** A run's files, buffered: log and metrics lines go out before every pause and every state write. */
class RunFilesIO {
  #log: string[] = [];
  #metrics: string[] = [];
  constructor(readonly store: RunStore, readonly id: string) {}

  log(text: string): void {
    this.#log.push(text);
    if (this.#log.length >= 512) this.flush();
  }

  metrics(lines: string): void {
    this.#metrics.push(lines);
    if (this.#metrics.length >= 2048) this.flush();
  }

  flush(): void {
    if (this.#log.length > 0) {
      this.store.appendLog(this.id, this.#log.join("\n") + "\n");
      this.#log = [];
    }
    if (this.#metrics.length > 0) {
      this.store.appendMetrics(this.id, this.#metrics.join("\n").split("\n"));
      this.#metrics = [];
    }
  }
}

/** No screen: a detached run writes only its files. */
class NullTerminal implements Terminal {
  readonly live = false;
  readonly color = false;
  readonly columns = 120;
  readonly rows = 40;
  write(_s: string): void {}
}

interface PlayOptions {
  store: RunStore;
  id: string;
  /** Resume from this checkpoint for `moreEpochs` epochs (null: a new run from step 0). */
  checkpoint: number | null;
  moreEpochs: number;
  pace: Pace;
  /** Show the run on this process's terminal (false: detached worker). */
  foreground: boolean;
}

/** Play a run (new or resumed) in this process; returns the exit code. */
async function playRun(o: PlayOptions): Promise<number> {
  const { store, id } = o;
  const paths = store.paths(id);
  const lock = RunLock.tryAcquire(paths.dir);
  if (!lock) throw new UsageError(`run ${id} is being driven by another process (${paths.lock})`);
  const files = new RunFilesIO(store, id);
  let recorder: RunRecorder | null = null;
  const unlisten: (() => void)[] = [];
  let term: DenoTerminal | null = null;
  let interrupted = false;
  try {
    const meta = store.meta(id);
    const state = store.state(id);
    store.clearStop(id);
    store.repairTails(id);
    const runDir = paths.dir;
    const made = trainScenario(meta.config, meta.device, meta.precision, {
      checkpointDir: paths.checkpoints,
      pid: Deno.pid,
    });
    if ("reason" in made) throw new UsageError(made.reason);
    let scenario = made;
    const manifest = o.checkpoint === null ? null : store.checkpoint(id, o.checkpoint);
    if (manifest) {
      scenario = {
        ...made,
        config: resumedConfig(made.config, manifest, o.moreEpochs),
      };
      files.metrics(JSON.stringify({
        event: "resume",
        time: isoUtc(Date.now()),
        from_step: manifest.step,
        more_epochs: o.moreEpochs,
        end_step: scenario.config.endStep,
      }));
    }
    const controller = new AbortController();
    term = o.foreground
      ? new DenoTerminal({
        ...(o.pace.width !== null ? { width: o.pace.width } : {}),
        noColor: o.pace.noColor,
        onBrokenPipe: () => {}, // the run goes on; its files still get everything
      })
      : null;
    const screen = new Screen(term ?? new NullTerminal(), {
      wrap: term !== null && (term.live || o.pace.width !== null),
      mirror: (text) => files.log(text),
    });
    const flushAll = () => {
      term?.flush();
      files.flush();
    };
    const startMs = Date.now();
    const clock: Clock = o.pace.instant
      ? new VirtualClock(startMs, {
        signal: controller.signal,
        wallNow: () => performance.now(),
        beforeYield: flushAll,
      })
      : new RealClock({
        speed: o.pace.speed,
        startMs,
        realNow: () => performance.now(),
        signal: controller.signal,
        beforeSleep: flushAll,
      });
    const rec = new RunRecorder(
      {
        writeState: (s) => {
          files.flush();
          store.writeState(s);
        },
        writeCheckpoint: (m) => {
          files.flush();
          store.writeCheckpoint(id, m);
        },
        stopRequested: () => store.stopRequested(id),
        wallNow: () => Date.now(),
      },
      manifest ? { ...state, resumes: state.resumes } : state,
      Deno.pid,
    );
    recorder = rec;
    // Ctrl-C or SIGTERM: finish the step, save, end as stopped; a second one quits at once.
    let signals = 0;
    const onSignal = () => {
      signals++;
      interrupted = true;
      if (signals === 1) {
        rec.requestStop();
        screen.log(
          "[train] stop requested: finishing this step and saving a checkpoint (again to quit now)",
        );
        flushAll();
      } else controller.abort();
    };
    unlisten.push(listen("SIGINT", onSignal), listen("SIGTERM", onSignal));
    if (term?.live) term.write(HIDE_CURSOR);
    const dialect = new TeeDialect(
      new TrainerDialect({
        runId: id,
        runDir,
        command: commandLine(meta, o),
        device: meta.device,
        moreEpochs: manifest ? o.moreEpochs : 0,
        guidance: manifest ? [] : guidance(scenario, meta.config.workers),
      }),
      new JsonlDialect(),
      (lines) => files.metrics(lines),
    );
    const outcome = await playTrain({
      scenario,
      dialect,
      recorder: rec,
      screen,
      clock,
      tz: -new Date(startMs).getTimezoneOffset(),
      ...(manifest ? { restore: manifest.sim } : {}),
    });
    flushAll();
    return outcome === "completed" || outcome === "early-stopped"
      ? 0
      : outcome === "stopped"
      ? (interrupted ? 130 : 0)
      : 1;
  } catch (e) {
    files.flush();
    if (e instanceof Interrupted) {
      recorder?.abort("interrupted before its final checkpoint", "stopped");
      return 130;
    }
    if (!(e instanceof UsageError)) {
      recorder?.abort(`internal error: ${e instanceof Error ? e.message : String(e)}`, "failed");
    }
    throw e;
  } finally {
    for (const off of unlisten) off();
    if (term) {
      if (term.live) term.write(RESET + SHOW_CURSOR);
      term.flush();
    }
    try {
      store.clearStop(id);
    } finally {
      lock.release(); // after the final state: status reads a released lock as "the end was written"
    }
  }
}

function commandLine(meta: RunMeta, o: PlayOptions): string {
  if (o.checkpoint !== null) {
    return `llm-sim resume ${meta.id} --checkpoint ${o.checkpoint} --more-epochs ${o.moreEpochs}`;
  }
  return ["llm-sim", ...meta.argv].join(" ");
}

/** `--detach` spawns llm-sim itself: check before anything is written. */
function needRun(): void {
  const exec = Deno.execPath();
  if (!granted({ name: "run", command: exec })) throw runNotAllowed(exec);
}

function runNotAllowed(exec: string): UsageError {
  return new UsageError(
    `starting a run in the background needs --allow-run=${exec} (see the README)`,
  );
}

/**
 * Start a worker process for the run and wait until it holds the run's lock (so `status` can
 * tell a dead run from one still starting); returns its pid. It outlives this process.
 */
async function detachWorker(
  store: RunStore,
  id: string,
  extra: string[],
  pace: Pace,
): Promise<number> {
  const child = spawnWorker(store, id, extra, pace);
  let exited = false;
  const status = child.status.then(() => (exited = true));
  const deadline = performance.now() + 20_000;
  // ours holds the lock when the lock file names its pid (another holder is not our worker)
  const ours = () => store.alive(id) && RunLock.lastHolder(store.paths(id).dir) === child.pid;
  while (!exited && !ours() && performance.now() < deadline) {
    await Promise.race([status, new Promise((res) => setTimeout(res, 20))]);
  }
  if (exited && !ours()) {
    const s = store.state(id);
    if (s.status === "queued") {
      store.writeState({
        ...s,
        status: "failed",
        pid: null,
        reason: "its process exited before it started",
        updatedAt: new Date().toISOString(),
      });
    }
    throw new UsageError(`run ${id} did not start (llm-sim logs ${id}; llm-sim status ${id})`);
  }
  child.unref();
  return child.pid;
}

function spawnWorker(store: RunStore, id: string, extra: string[], pace: Pace): Deno.ChildProcess {
  const root = isAbsolute(store.root) ? store.root : resolve(store.root);
  const args = ["worker", id, "--runs-dir", root, ...extra, ...paceArgs(pace)];
  const exec = Deno.execPath();
  const argv = Deno.build.standalone ? args : [
    "run",
    "--no-prompt",
    `--allow-read=${root}`,
    `--allow-write=${root}`,
    fileURLToPath(new URL("../../main.ts", import.meta.url)),
    ...args,
  ];
  try {
    const child = new Deno.Command(exec, {
      args: argv,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      detached: true,
    }).spawn();
    return child;
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw runNotAllowed(exec);
    }
    throw e;
  }
}

function readConfigFile(file: string | null): Partial<TrainConfig> {
  const path = file ?? DEFAULT_CONFIG_FILE;
  // ./llm-sim.toml is read when the user allowed it; never ask (a prompt would stall a terminal)
  if (!granted({ name: "read", path })) {
    if (file === null) return {};
    throw new UsageError(`reading the config '${file}' needs --allow-read=${file}`);
  }
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      if (file === null) return {}; // no llm-sim.toml here: defaults and flags
      throw new UsageError(`cannot read config '${file}': no such file`);
    }
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      if (file === null) return {};
      throw new UsageError(`cannot read config '${file}': add --allow-read=${file}`);
    }
    throw new UsageError(`cannot read config '${path}': ${e instanceof Error ? e.message : e}`);
  }
  return parseConfigToml(text, path);
}

/**
 * A new run on disk (meta.json and a queued state.json) from its settings: the application
 * function behind `llm-sim train` and the monitor's launch form. Checks everything first.
 */
export function createRun(
  store: RunStore,
  config: TrainConfig,
  argv: string[],
): { id: string; meta: RunMeta } {
  validateConfig(config);
  const { device, precision } = resolveDevice(config);
  const now = Date.now();
  const id = newRunId(now, slug(config.model), randomUint32());
  const made = trainScenario(config, device, precision, {
    checkpointDir: store.paths(id).checkpoints,
    pid: Deno.pid,
  });
  if ("reason" in made) throw new UsageError(made.reason);
  const physics = derivePhysics(made.config, made.candidate);
  const meta: RunMeta = {
    schema: 1,
    id,
    version: VERSION.value,
    createdAt: new Date(now).toISOString(),
    seed: config.seed,
    config,
    device,
    precision,
    hidden: {
      ...configRecord(made.config, physics),
      derived: derivedRecord(made.config, physics),
    },
    argv,
  };
  // the plan is known from the start: a queued run already says how long it will be
  store.create(meta, {
    ...queuedState(id, now),
    totalSteps: made.config.totalSteps,
    epochs: config.epochs,
  });
  return { id, meta };
}

/** Start a new run in the background; returns its id and pid. */
export async function startDetached(
  store: RunStore,
  config: TrainConfig,
  argv: string[],
  pace: Pace,
): Promise<{ id: string; pid: number }> {
  needRun();
  const { id } = createRun(store, config, argv);
  return { id, pid: await detachWorker(store, id, [], pace) };
}

/**
 * Queue a resume of run `id` from a checkpoint for `moreEpochs` epochs: refused while the run
 * is locked or without that checkpoint. Returns the checkpoint's step and the worker's flags.
 */
export function prepareResume(
  store: RunStore,
  id: string,
  checkpoint: number | "latest",
  moreEpochs: number,
): { step: number; extra: string[] } {
  const locked = () => {
    const s = store.state(id);
    return new UsageError(
      `run ${id} is ${s.status}${
        s.pid ? ` (pid ${s.pid})` : ""
      } and locked; stop it first: llm-sim stop ${id}`,
    );
  };
  // hold the lock while deciding and queueing: a second resume at the same moment is refused.
  // Queued by another resume whose worker has not taken the lock yet: the lock was last held by
  // that resume's process, which the queued state names too. Once its worker took the lock, the
  // worker was the last holder: a worker killed before it said "running" leaves a run to resume.
  const lock = RunLock.tryAcquire(store.paths(id).dir);
  if (!lock) throw locked();
  try {
    const state = store.state(id);
    const queuedFor = (Date.now() - Date.parse(state.queuedAt)) / 1000;
    if (
      state.status === "queued" && queuedFor < QUEUED_GRACE_S && state.pid !== null &&
      state.pid === lock.previousHolder
    ) {
      throw new UsageError(`run ${id} is already queued to resume; llm-sim status ${id}`);
    }
    const step = savedCheckpoint(
      store,
      id,
      checkpoint,
      `run ${id} has no checkpoint to resume from`,
      state,
    );
    // everything the worker will need must read back before the state changes
    const meta = store.meta(id);
    store.checkpoint(id, step);
    const made = trainScenario(meta.config, meta.device, meta.precision, {
      checkpointDir: store.paths(id).checkpoints,
      pid: Deno.pid,
    });
    if ("reason" in made) throw new UsageError(made.reason);
    const now = new Date().toISOString();
    store.writeState({
      ...state,
      status: "queued",
      pid: Deno.pid, // the process starting its worker, until the worker writes its own
      reason: null,
      // the run goes on from here: later saves of the continuation it leaves are not "latest"
      lastCheckpoint: step,
      queuedAt: now,
      updatedAt: now,
      endedAt: null,
      resumes: state.resumes + 1,
    });
    return { step, extra: ["--checkpoint", String(step), "--more-epochs", String(moreEpochs)] };
  } finally {
    lock.release();
  }
}

/**
 * The saved checkpoint `checkpoint` names for run `id` ("latest": see latestCheckpointOf).
 * UsageError `none` when the run has saved none yet; naming the saved ones when that step is not
 * among them.
 */
export function savedCheckpoint(
  store: RunStore,
  id: string,
  checkpoint: number | "latest",
  none: string,
  state = store.state(id),
): number {
  const saved = store.checkpoints(id);
  const step = checkpoint === "latest"
    ? latestCheckpointOf(state.lastCheckpoint, saved)
    : checkpoint;
  if (step === null || saved.length === 0) throw new UsageError(none);
  if (!saved.includes(step)) {
    throw new UsageError(
      `run ${id} has no checkpoint at step ${step} (saved: ${
        saved.map((s) => `step-${s}`).join(", ")
      })`,
    );
  }
  return step;
}

/** Resume run `id` in the background; returns the checkpoint step and the worker's pid. */
export async function resumeDetached(
  store: RunStore,
  id: string,
  checkpoint: number | "latest",
  moreEpochs: number,
  pace: Pace,
): Promise<{ step: number; pid: number }> {
  needRun();
  const { step, extra } = prepareResume(store, id, checkpoint, moreEpochs);
  return { step, pid: await detachWorker(store, id, extra, pace) };
}

/** Ask a running run to stop after its step (it saves and ends as stopped). */
export function requestStop(store: RunStore, id: string): void {
  const { state, alive } = observe(store, id);
  if (!alive) throw new UsageError(`run ${id} is not running (${state.status}); nothing to stop`);
  store.requestStop(id);
}

async function train(
  r: Extract<TrainerRequest, { cmd: "train" }>,
  argv: string[],
): Promise<number> {
  const config = mergeConfig(readConfigFile(r.configFile), r.settings);
  const store = storeOf(r.runsDir, true);
  if (r.detach) {
    const { id, pid } = await startDetached(store, config, argv, r.pace);
    writeOut(
      `started run ${id} in the background (pid ${pid})\n` +
        `  llm-sim status ${id}\n  llm-sim logs ${id} -f\n  llm-sim stop ${id}\n`,
    );
    return 0;
  }
  const { id } = createRun(store, config, argv);
  return await playRun({
    store,
    id,
    checkpoint: null,
    moreEpochs: 0,
    pace: r.pace,
    foreground: true,
  });
}

async function resume(r: Extract<TrainerRequest, { cmd: "resume" }>): Promise<number> {
  const store = storeOf(r.runsDir, true);
  const id = store.resolve(r.run ?? undefined);
  if (r.detach) {
    const { step, pid } = await resumeDetached(store, id, r.checkpoint, r.moreEpochs, r.pace);
    writeOut(
      `resumed run ${id} from step-${step} for ${r.moreEpochs} more epoch${
        r.moreEpochs > 1 ? "s" : ""
      } in the background (pid ${pid})\n`,
    );
    return 0;
  }
  const { step } = prepareResume(store, id, r.checkpoint, r.moreEpochs);
  return await playRun({
    store,
    id,
    checkpoint: step,
    moreEpochs: r.moreEpochs,
    pace: r.pace,
    foreground: true,
  });
}

/** A run's meta and its state as it really stands (a dead process reads as failed). */
export function observe(store: RunStore, id: string) {
  let alive = store.alive(id);
  let state = store.state(id);
  if (!alive && (state.status === "running" || state.status === "queued")) {
    // it may have just started: look again before calling it dead
    alive = store.alive(id);
    state = store.state(id);
  }
  return { meta: store.meta(id), state: effectiveState(state, alive, Date.now()), alive };
}

function status(r: Extract<TrainerRequest, { cmd: "status" }>): number {
  const store = storeOf(r.runsDir, false);
  const id = store.resolve(r.run ?? undefined);
  const { meta, state, alive } = observe(store, id);
  const view = statusView(
    meta,
    state,
    alive,
    store.checkpoints(id),
    store.paths(id).dir,
    Date.now(),
  );
  writeOut(
    r.json
      ? JSON.stringify(view) + "\n"
      : statusText(view, Date.now(), -new Date().getTimezoneOffset()),
  );
  return 0;
}

function runs(r: Extract<TrainerRequest, { cmd: "runs" }>): number {
  const store = storeOf(r.runsDir, false);
  const now = Date.now();
  const rows = store.ids().map((id) => {
    try {
      const { meta, state, alive } = observe(store, id);
      return {
        id,
        view: statusView(meta, state, alive, store.checkpoints(id), store.paths(id).dir, now),
        error: null,
      };
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      return { id, view: null, error: e.message };
    }
  }).sort((a, b) => (b.view?.created_at ?? "").localeCompare(a.view?.created_at ?? ""));
  if (r.json) {
    writeOut(JSON.stringify(rows.map((x) => x.view ?? { id: x.id, error: x.error })) + "\n");
  } else if (rows.length === 0) {
    writeOut(`no runs in ${store.root} yet (start one with llm-sim train)\n`);
  } else {
    writeOut(runsTable(rows, now, -new Date().getTimezoneOffset()));
  }
  return 0;
}

async function logs(r: Extract<TrainerRequest, { cmd: "logs" }>): Promise<number> {
  const store = storeOf(r.runsDir, false);
  const id = store.resolve(r.run ?? undefined);
  const path = store.paths(id).log;
  let offset = 0;
  const decoder = new TextDecoder();
  const pump = (): boolean => {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { read: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return true;
      throw e;
    }
    try {
      file.seekSync(offset, Deno.SeekMode.Start);
      const buf = new Uint8Array(1 << 16);
      for (;;) {
        const n = file.readSync(buf);
        if (n === null || n === 0) break;
        offset += n;
        if (!writeOut(decoder.decode(buf.subarray(0, n), { stream: true }))) return false;
      }
    } finally {
      file.close();
    }
    return true;
  };
  if (!pump()) return 0; // | head: the reader is done
  if (!r.follow) return 0;
  let stop = false;
  const off = [listen("SIGINT", () => (stop = true)), listen("SIGTERM", () => (stop = true))];
  try {
    while (!stop) {
      await new Promise((res) => setTimeout(res, 200));
      const alive = store.alive(id);
      if (!pump()) return 0;
      if (!alive) {
        pump();
        return 0; // the run ended: nothing more will come
      }
    }
    return 130;
  } finally {
    for (const o of off) o();
  }
}

async function stop(r: Extract<TrainerRequest, { cmd: "stop" }>): Promise<number> {
  const store = storeOf(r.runsDir, true);
  const id = store.resolve(r.run ?? undefined);
  requestStop(store, id);
  if (!r.wait) {
    writeOut(`asked run ${id} to stop\n`);
    return 0;
  }
  writeOut(`stopping run ${id}: it finishes its step and saves a checkpoint …\n`);
  while (store.alive(id)) await new Promise((res) => setTimeout(res, 100));
  const end = store.state(id);
  writeOut(
    `run ${id} ${end.status} at step ${end.step}` +
      (end.lastCheckpoint !== null ? ` (checkpoint step-${end.lastCheckpoint})` : "") + "\n",
  );
  return 0;
}

function initConfig(r: Extract<TrainerRequest, { cmd: "init-config" }>): number {
  const text = initConfigText();
  if (r.stdout) {
    writeOut(text);
    return 0;
  }
  if (!granted({ name: "write", path: r.file })) {
    throw new UsageError(`writing ${r.file} needs --allow-write=${r.file} (or use --stdout)`);
  }
  try {
    // createNew refuses an existing file in the same call that creates it
    Deno.writeTextFileSync(r.file, text, { createNew: !r.force });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(`${r.file} already exists (--force overwrites it)`);
    }
    throw e;
  }
  writeOut(`wrote ${r.file}: edit it, then run llm-sim train\n`);
  return 0;
}

/** The llm-sim version, set by main.ts (it owns deno.json). */
export const VERSION = { value: "0.0.0" };

/** Run one trainer command; UsageError and StoreError become one line on stderr, exit 2. */
export async function trainerMain(r: TrainerRequest, argv: string[]): Promise<number> {
  try {
    switch (r.cmd) {
      case "help":
        writeOut(TRAINER_HELP[r.of]);
        return 0;
      case "train":
        return await train(r, argv);
      case "resume":
        return await resume(r);
      case "status":
        return status(r);
      case "runs":
        return runs(r);
      case "logs":
        return await logs(r);
      case "stop":
        return await stop(r);
      case "init-config":
        return initConfig(r);
      case "worker": {
        // a background worker has no terminal: whatever stops it goes into the run's log
        const store = new RunStore(r.runsDir);
        try {
          return await playRun({
            store,
            id: r.run,
            checkpoint: r.checkpoint,
            moreEpochs: r.moreEpochs,
            pace: r.pace,
            foreground: false,
          });
        } catch (e) {
          try {
            store.appendLog(r.run, `llm-sim: ${e instanceof Error ? e.message : String(e)}\n`);
          } catch {
            // the run's directory itself is the problem: nowhere to write
          }
          throw e;
        }
      }
    }
  } catch (e) {
    if (e instanceof StoreError) {
      writeErr(`llm-sim: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
