/**
 * The run store on disk: runs/<id>/ holds meta.json, state.json, train.log, metrics.jsonl,
 * checkpoints/step-<n>/manifest.json, a `lock` file and, while a stop is asked for, `stop`.
 * JSON files are replaced atomically (temp file + fsync + rename), logs are appended in whole
 * lines, and the lock decides whether a process is driving a run. The only store file that
 * touches Deno.*.
 */
import { basename, dirname, join } from "node:path";
import type { CheckpointManifest, RunMeta, RunState } from "../trainer/types.ts";
import { closest, editDistance } from "../cli/suggest.ts";
import {
  checkpointDirName,
  parseCheckpointDirName,
  parseManifest,
  parseMeta,
  parseState,
  runIdTail,
  runIdTime,
  StoreError,
} from "./schema.ts";

const encoder = new TextEncoder();

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let n = 0; n < bytes.length;) n += file.writeSync(bytes.subarray(n));
}

function isNotFound(e: unknown): boolean {
  return e instanceof Deno.errors.NotFound;
}

/**
 * Replaces `path` with `text` so that a reader (or a crash) sees the old content or the new,
 * never a mix: write a temp file beside it, fsync, rename over the target, fsync the directory.
 */
export function atomicWriteText(path: string, text: string): void {
  const dir = dirname(path);
  const rand = crypto.getRandomValues(new Uint32Array(1))[0]?.toString(16) ?? "0";
  const tmp = join(dir, `.${basename(path)}.tmp-${Deno.pid}-${rand}`);
  let file: Deno.FsFile | undefined;
  try {
    file = Deno.openSync(tmp, { write: true, createNew: true });
    writeAll(file, encoder.encode(text));
    file.syncSync();
    file.close();
    file = undefined;
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      file?.close();
    } catch { /* already failing */ }
    try {
      Deno.removeSync(tmp);
    } catch { /* never created */ }
    throw e;
  }
  // Make the rename itself durable. Best effort: directories cannot be opened on Windows.
  try {
    const d = Deno.openSync(dir, { read: true });
    try {
      d.syncSync();
    } finally {
      d.close();
    }
  } catch { /* not supported here */ }
}

export function atomicWriteJson(path: string, value: unknown): void {
  atomicWriteText(path, JSON.stringify(value, null, 2) + "\n");
}

/** Appends whole lines (`text` ends with "\n") in one open–write–close. */
export function appendText(path: string, text: string): void {
  if (text === "") return;
  if (!text.endsWith("\n")) throw new Error(`appendText(${path}): text must end with a newline`);
  const file = Deno.openSync(path, { append: true, create: true });
  try {
    writeAll(file, encoder.encode(text));
  } finally {
    file.close();
  }
}

/**
 * Cuts a partial last line (a writer killed mid-line) back to the last "\n"; returns the bytes
 * removed. A missing or empty file is left alone.
 */
export function repairTail(path: string): number {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true, write: true });
  } catch (e) {
    if (isNotFound(e)) return 0;
    throw e;
  }
  try {
    const size = file.statSync().size;
    const buf = new Uint8Array(64 * 1024);
    let keep = 0;
    // Scan back from the end a chunk at a time: logs can be large, the tail is what matters.
    for (let pos = size; pos > 0;) {
      const n = Math.min(buf.length, pos);
      pos -= n;
      file.seekSync(pos, Deno.SeekMode.Start);
      for (let got = 0; got < n;) got += file.readSync(buf.subarray(got, n)) ?? n;
      const nl = buf.subarray(0, n).lastIndexOf(10);
      if (nl >= 0) {
        keep = pos + nl + 1;
        break;
      }
    }
    if (keep < size) file.truncateSync(keep);
    return size - keep;
  } finally {
    file.close();
  }
}

/** Reads and parses a JSON file; every problem is a StoreError naming `display`. */
export function readJson<T>(
  path: string,
  display: string,
  parse: (v: unknown, file: string) => T,
): T {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (isNotFound(e)) throw new StoreError(`${display}: missing`);
    throw new StoreError(`${display}: cannot read (${e instanceof Error ? e.message : e})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new StoreError(`${display}: not valid JSON (${e instanceof Error ? e.message : e})`);
  }
  return parse(value, display);
}

/** The pid a lock file holds ("4242\n"), or null for an empty or foreign one. */
function parsePid(text: string): number | null {
  const n = Number(text.trim());
  return Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * The lock that keeps two processes from driving one run: an exclusive lock on <dir>/lock,
 * which the OS drops when its holder exits, however it exits.
 *
 * Measured with Deno 2.9.6 on Linux (/proc/locks shows FLOCK ... WRITE): the locks are
 * flock(2)-style, owned by the open file description, not the process. So
 *   - another process's tryLockSync fails while we hold it, and succeeds once the holder is
 *     killed (SIGKILL included) — tests/store/disk_test.ts checks both;
 *   - a second open of the file in the SAME process conflicts too: tryAcquire twice in one
 *     process gives null the second time, and held() is true for this process's own lock;
 *   - closing some other descriptor of the file does not drop the lock (unlike fcntl locks).
 * held() probes with a SHARED lock, so concurrent probes (two `status` commands) never see
 * each other as holders; a probe can still make a simultaneous tryAcquire fail, hence the
 * short retry there. Liveness never uses the pid written into the file; it says who took the
 * lock last (a detaching command tells its own worker apart by it, and a resume tells a resume
 * still starting from one whose worker died).
 */
export class RunLock {
  #file: Deno.FsFile | null;
  private constructor(
    readonly path: string,
    file: Deno.FsFile,
    /** The pid the file named when this lock was taken: the last holder before it, or null. */
    readonly previousHolder: number | null,
  ) {
    this.#file = file;
  }

  /** Takes the lock of the run in `dir`; null when another holder has it. */
  static tryAcquire(dir: string): RunLock | null {
    const path = join(dir, "lock");
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    let previous: number | null = null;
    try {
      for (let attempt = 0;; attempt++) {
        if (file.tryLockSync(true)) break;
        if (attempt === 3) {
          file.close();
          return null;
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // outlast a held() probe
      }
      // read under the lock: nobody can take it and write between this read and ours
      const was = new Uint8Array(32);
      previous = parsePid(new TextDecoder().decode(was.subarray(0, file.readSync(was) ?? 0)));
      file.truncateSync(0);
      file.seekSync(0, Deno.SeekMode.Start);
      writeAll(file, encoder.encode(`${Deno.pid}\n`));
    } catch (e) {
      file.close();
      throw e;
    }
    return new RunLock(path, file, previous);
  }

  /** The pid the lock file of the run in `dir` names (who took the lock last), or null. */
  static lastHolder(dir: string): number | null {
    try {
      return parsePid(Deno.readTextFileSync(join(dir, "lock")));
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  /** Whether some holder (another process, or another RunLock in this one) has the lock. */
  static held(dir: string): boolean {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(join(dir, "lock"), { read: true });
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
    try {
      if (!file.tryLockSync(false)) return true;
      file.unlockSync();
      return false;
    } finally {
      file.close();
    }
  }

  /** Drops the lock (the file stays). Idempotent. */
  release(): void {
    const file = this.#file;
    if (!file) return;
    this.#file = null;
    try {
      file.unlockSync();
    } finally {
      file.close();
    }
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

export interface RunPaths {
  dir: string;
  meta: string;
  state: string;
  log: string;
  metrics: string;
  checkpoints: string;
  lock: string;
  stop: string;
}

export interface RunListing {
  id: string;
  meta: RunMeta | null;
  /** As observed: "running" with no lock holder reads "failed" (see RunStore.observedState). */
  state: RunState | null;
  /** The first problem reading the run (naming the file), or null. */
  error: string | null;
}

/** Why a run that says "running" but has no lock holder is reported as failed. */
export const DEAD_REASON = "the process driving the run exited without finishing";

/** The runs under one root directory (runs/ by default). */
export class RunStore {
  constructor(readonly root: string) {}

  paths(id: string): RunPaths {
    if (id === "" || id === "." || id === ".." || /[/\\]/.test(id)) {
      throw new StoreError(`invalid run id '${id}'`);
    }
    const dir = join(this.root, id);
    return {
      dir,
      meta: join(dir, "meta.json"),
      state: join(dir, "state.json"),
      log: join(dir, "train.log"),
      metrics: join(dir, "metrics.jsonl"),
      checkpoints: join(dir, "checkpoints"),
      lock: join(dir, "lock"),
      stop: join(dir, "stop"),
    };
  }

  /**
   * Makes runs/<id>/ with its meta.json, first state.json and empty train.log and
   * metrics.jsonl (a log shipper can tail them before the first line; a run killed before its
   * first step still has them); an existing id is an error.
   */
  create(meta: RunMeta, state: RunState): void {
    if (meta.id !== state.id) throw new Error(`create: meta.id ${meta.id} ≠ state.id ${state.id}`);
    const p = this.paths(meta.id);
    parseMeta(meta, p.meta); // refuse to write what could not be read back (NaN, bad status)
    parseState(state, p.state);
    Deno.mkdirSync(this.root, { recursive: true });
    try {
      Deno.mkdirSync(p.dir);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new StoreError(`run ${meta.id} already exists in ${this.root}`);
      }
      throw e;
    }
    Deno.mkdirSync(p.checkpoints);
    atomicWriteJson(p.meta, meta);
    atomicWriteJson(p.state, state);
    Deno.writeTextFileSync(p.log, "", { createNew: true });
    Deno.writeTextFileSync(p.metrics, "", { createNew: true });
  }

  meta(id: string): RunMeta {
    const file = this.paths(id).meta;
    return sameId(readJson(file, file, parseMeta), id, file);
  }

  /** state.json as written (a dead "running" run still says running; see observedState). */
  state(id: string): RunState {
    const file = this.paths(id).state;
    return sameId(readJson(file, file, parseState), id, file);
  }

  writeState(state: RunState): void {
    const file = this.paths(state.id).state;
    atomicWriteJson(file, parseState(state, file));
  }

  /** Whether a process holds the run's lock (is driving it). */
  alive(id: string): boolean {
    return RunLock.held(this.paths(id).dir);
  }

  /**
   * state.json as the user should see it: "running" with nobody holding the lock means its
   * process died (kill -9, power loss), so it reads as failed. Nothing is written.
   */
  observedState(id: string): RunState {
    const s = this.state(id);
    if (s.status !== "running" || this.alive(id)) return s;
    // The trainer writes its final state before releasing the lock: read again so a run that
    // just finished between the two reads is not called dead.
    const again = this.state(id);
    if (again.status !== "running") return again;
    return { ...again, status: "failed", pid: null, reason: again.reason ?? DEAD_REASON };
  }

  /** Run directories (those with a meta.json or state.json), sorted by name. */
  ids(): string[] {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.root)];
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
    const exists = (path: string) => {
      try {
        Deno.statSync(path);
        return true;
      } catch {
        return false;
      }
    };
    return entries
      .filter((e) => e.isDirectory && !e.name.startsWith("."))
      .map((e) => e.name)
      .filter((id) =>
        exists(join(this.root, id, "meta.json")) || exists(join(this.root, id, "state.json"))
      )
      .sort();
  }

  /** Every run, newest first; a run that cannot be read has `error` set and does not stop the rest. */
  list(): RunListing[] {
    const runs = this.ids().map((id): RunListing & { time: number } => {
      const errors: string[] = [];
      const read = <T>(f: () => T): T | null => {
        try {
          return f();
        } catch (e) {
          if (!(e instanceof StoreError)) throw e;
          errors.push(e.message);
          return null;
        }
      };
      const meta = read(() => this.meta(id));
      const state = read(() => this.observedState(id));
      const time = Date.parse(meta?.createdAt ?? state?.queuedAt ?? "") || runIdTime(id) ||
        -Infinity;
      return { id, meta, state, error: errors.length ? errors.join("; ") : null, time };
    });
    runs.sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return runs.map(({ time: _, ...run }) => run);
  }

  /**
   * The run `id` names: none → the newest run; else the exact id, or the one run whose id (or
   * the part after its timestamp) starts with it; else a StoreError with the closest ids.
   */
  resolve(id: string | undefined): string {
    const noRuns = `no runs in ${this.root} yet (start one with llm-sim train)`;
    if (id === undefined) {
      const newest = this.list()[0];
      if (!newest) throw new StoreError(noRuns);
      return newest.id;
    }
    const ids = this.ids();
    if (ids.includes(id)) return id;
    if (ids.length === 0) throw new StoreError(`unknown run '${id}': ${noRuns}`);
    const matches = ids.filter((x) => x.startsWith(id) || runIdTail(x).startsWith(id));
    if (matches.length === 1 && matches[0] !== undefined) return matches[0];
    if (matches.length > 1) {
      const few = matches.slice(-3).reverse().join(", ");
      throw new StoreError(
        `run '${id}' is ambiguous: ${matches.length} runs match (${few}${
          matches.length > 3 ? ", …" : ""
        })`,
      );
    }
    const near = closest(
      id,
      ids.flatMap((x) => [{ spelling: x, name: x }, { spelling: runIdTail(x), name: x }]),
    );
    // Ids share their timestamps' shape, so many are "close": keep only the best tier.
    const dist = (x: string) => Math.min(editDistance(id, x), editDistance(id, runIdTail(x)));
    const best = Math.min(...near.map(dist));
    const shown = near.filter((x, i) => i === 0 || dist(x) <= best);
    throw new StoreError(
      `unknown run '${id}' (${
        near.length ? `did you mean ${shown.join(", ")}?` : `no run in ${this.root} is close`
      })`,
    );
  }

  writeCheckpoint(id: string, manifest: CheckpointManifest): void {
    const dir = join(this.paths(id).checkpoints, checkpointDirName(manifest.step));
    const file = join(dir, "manifest.json");
    parseManifest(manifest, file);
    Deno.mkdirSync(dir, { recursive: true });
    // The manifest lands last and atomically: a directory without one is an unfinished save.
    atomicWriteJson(file, manifest);
  }

  /** Steps of the run's complete checkpoints (with a manifest.json), ascending. */
  checkpoints(id: string): number[] {
    const root = this.paths(id).checkpoints;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(root)];
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
    const steps: number[] = [];
    for (const e of entries) {
      const step = e.isDirectory ? parseCheckpointDirName(e.name) : null;
      if (step === null) continue;
      try {
        if (Deno.statSync(join(root, e.name, "manifest.json")).isFile) steps.push(step);
      } catch { /* an unfinished save */ }
    }
    return steps.sort((a, b) => a - b);
  }

  checkpoint(id: string, step: number): CheckpointManifest {
    const file = join(this.paths(id).checkpoints, checkpointDirName(step), "manifest.json");
    const m = readJson(file, file, parseManifest);
    if (m.step !== step) throw new StoreError(`${file}: "step" is ${m.step}, expected ${step}`);
    return m;
  }

  /** Asks the process driving the run to stop (it polls stopRequested). */
  requestStop(id: string): void {
    atomicWriteText(this.paths(id).stop, `${new Date().toISOString()} pid ${Deno.pid}\n`);
  }

  stopRequested(id: string): boolean {
    try {
      Deno.statSync(this.paths(id).stop);
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  clearStop(id: string): void {
    try {
      Deno.removeSync(this.paths(id).stop);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** Appends whole lines of what the run printed to train.log. */
  appendLog(id: string, text: string): void {
    appendText(this.paths(id).log, text);
  }

  /** Appends JSON lines (each without its "\n") to metrics.jsonl. */
  appendMetrics(id: string, lines: readonly string[]): void {
    if (lines.some((l) => l.includes("\n"))) {
      throw new Error("appendMetrics: a line holds a newline");
    }
    appendText(this.paths(id).metrics, lines.map((l) => l + "\n").join(""));
  }

  /** Cuts partial last lines from train.log and metrics.jsonl (after a crash, before resuming). */
  repairTails(id: string): void {
    const p = this.paths(id);
    repairTail(p.log);
    repairTail(p.metrics);
  }
}

function sameId<T extends { id: string }>(value: T, id: string, file: string): T {
  if (value.id !== id) {
    throw new StoreError(`${file}: "id" is '${value.id}', not the directory's '${id}'`);
  }
  return value;
}
