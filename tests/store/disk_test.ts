import assert from "node:assert/strict";
import { join } from "node:path";
import {
  appendText,
  atomicWriteJson,
  atomicWriteText,
  DEAD_REASON,
  readJson,
  repairTail,
  RunLock,
  RunStore,
} from "../../lib/store/disk.ts";
import { parseState, StoreError } from "../../lib/store/schema.ts";
import { manifest, meta, state } from "./_fixtures.ts";

const DISK = new URL("../../lib/store/disk.ts", import.meta.url).href;

/** Runs `fn` with a fresh temp directory, removed afterwards. */
async function inTemp(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "llm-sim-store-" });
  try {
    await fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** The StoreError message `fn` throws. */
function storeError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StoreError, `not a StoreError: ${e}`);
    assert.ok(!e.message.includes("\n"), e.message);
    return e.message;
  }
  assert.fail("no StoreError");
}

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

/** A `deno eval` child running `code`, and a reader of its stdout lines. */
function child(code: string) {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  /** The child's next stdout line (polling its output, no timing involved). */
  async function nextLine(): Promise<string> {
    while (!buffered.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`child exited; output so far: ${JSON.stringify(buffered)}`);
      buffered += value;
    }
    const i = buffered.indexOf("\n");
    const line = buffered.slice(0, i);
    buffered = buffered.slice(i + 1);
    return line;
  }
  async function finish(): Promise<Deno.CommandStatus> {
    await lines.cancel();
    return await proc.status;
  }
  return { proc, nextLine, finish };
}

/** A child that takes the run lock of `dir`, says "ready" (or "busy"), then waits to be killed. */
function lockHolder(dir: string) {
  return child(`
    import { RunLock } from ${JSON.stringify(DISK)};
    const lock = RunLock.tryAcquire(${JSON.stringify(dir)});
    console.log(lock ? "ready" : "busy");
    if (lock) setInterval(() => {}, 60_000);
  `);
}

Deno.test("atomicWriteText: writes and replaces, leaving no temp file", () =>
  inTemp((dir) => {
    const path = join(dir, "state.json");
    atomicWriteText(path, "one\n");
    atomicWriteJson(path, { a: 1 });
    assert.equal(Deno.readTextFileSync(path), '{\n  "a": 1\n}\n');
    assert.deepEqual(names(dir), ["state.json"]);
  }));

Deno.test("atomicWriteText: a failed rename leaves the target as it was and no temp file", () =>
  inTemp((dir) => {
    // Renaming a file over a (non-empty) directory fails after the temp file is written.
    const path = join(dir, "state.json");
    Deno.mkdirSync(path);
    Deno.writeTextFileSync(join(path, "keep"), "old");
    assert.throws(() => atomicWriteText(path, "new"));
    assert.deepEqual(names(dir), ["state.json"]);
    assert.equal(Deno.readTextFileSync(join(path, "keep")), "old");
    // A missing directory: nothing to clean, the error still surfaces.
    assert.throws(() => atomicWriteText(join(dir, "nope", "x.json"), "x"), Deno.errors.NotFound);
  }));

Deno.test("atomicWriteText: a reader in another process never sees a partial file", () =>
  inTemp(async (dir) => {
    const path = join(dir, "big.json");
    const done = join(dir, "done");
    // Versions of different lengths and fillers: a torn read is short or mixes characters.
    const version = (i: number) => String.fromCharCode(97 + (i % 26)).repeat((1 + (i % 3)) << 19);
    atomicWriteText(path, version(0));
    const reader = child(`
      let reads = 0, bad = 0, sample = "";
      const ok = new Set([${[0, 1, 2].map((k) => (1 + k) << 19).join(", ")}]);
      console.log("ready");
      for (;;) {
        let finished = false;
        try { Deno.statSync(${JSON.stringify(done)}); finished = true; } catch { /* not yet */ }
        const text = Deno.readTextFileSync(${JSON.stringify(path)});
        reads++;
        if (!ok.has(text.length) || text.split(text[0]).join("") !== "") {
          bad++;
          sample = text.length + " " + text.slice(0, 3) + "…" + text.slice(-3);
        }
        if (finished) break;
      }
      console.log(JSON.stringify({ reads, bad, sample }));
    `);
    assert.equal(await reader.nextLine(), "ready");
    for (let i = 1; i <= 120; i++) {
      atomicWriteText(path, version(i));
      await new Promise((r) => setTimeout(r, 0)); // let the reader's output in
    }
    atomicWriteText(done, "");
    const result = JSON.parse(await reader.nextLine());
    assert.equal((await reader.finish()).code, 0);
    assert.equal(result.bad, 0, `torn reads, e.g. ${result.sample}`);
    assert.ok(result.reads > 10, `the reader only read ${result.reads} times`);
  }));

Deno.test("appendText appends whole lines; repairTail cuts a partial last line", () =>
  inTemp((dir) => {
    const path = join(dir, "train.log");
    assert.equal(repairTail(path), 0);
    assert.deepEqual(names(dir), [], "repairTail created the file");
    appendText(path, "a\n");
    appendText(path, "");
    appendText(path, "b\nc\n");
    assert.throws(() => appendText(path, "partial"), /newline/);
    assert.equal(Deno.readTextFileSync(path), "a\nb\nc\n");
    assert.equal(repairTail(path), 0);
    Deno.writeTextFileSync(path, "d-was-cut", { append: true });
    assert.equal(repairTail(path), 9);
    assert.equal(Deno.readTextFileSync(path), "a\nb\nc\n");
    // No newline at all: the whole file is one partial line.
    Deno.writeTextFileSync(path, "half");
    assert.equal(repairTail(path), 4);
    assert.equal(Deno.readTextFileSync(path), "");
    assert.equal(repairTail(path), 0);
    // A partial line longer than the scan chunk, after many lines.
    const lines = "x".repeat(99) + "\n";
    Deno.writeTextFileSync(path, lines.repeat(3000) + "y".repeat(150_000));
    assert.equal(repairTail(path), 150_000);
    assert.equal(Deno.readTextFileSync(path), lines.repeat(3000));
  }));

Deno.test("readJson: missing, invalid and wrongly typed files are StoreErrors naming the file", () =>
  inTemp((dir) => {
    const path = join(dir, "state.json");
    const read = () => readJson(path, "runs/x/state.json", parseState);
    assert.equal(storeError(read), "runs/x/state.json: missing");
    Deno.writeTextFileSync(path, '{"schema": 1, ');
    assert.match(storeError(read), /^runs\/x\/state\.json: not valid JSON \(.+\)$/);
    Deno.writeTextFileSync(path, JSON.stringify({ ...state("x"), step: "7" }));
    assert.equal(storeError(read), 'runs/x/state.json: "step" must be a number');
    Deno.writeTextFileSync(path, JSON.stringify(state("x")));
    assert.deepEqual(read(), state("x"));
  }));

Deno.test("RunLock: another process's lock excludes us, and dies with it (SIGKILL)", () =>
  inTemp(async (dir) => {
    assert.equal(RunLock.held(dir), false);
    assert.deepEqual(names(dir), [], "held() created the lock file");
    const holder = lockHolder(dir);
    try {
      assert.equal(await holder.nextLine(), "ready");
      assert.equal(RunLock.held(dir), true);
      assert.equal(RunLock.tryAcquire(dir), null);
      assert.equal(Deno.readTextFileSync(join(dir, "lock")), `${holder.proc.pid}\n`);
    } finally {
      holder.proc.kill("SIGKILL");
      await holder.finish();
    }
    assert.equal(RunLock.held(dir), false);
    const lock = RunLock.tryAcquire(dir);
    assert.ok(lock, "the killed process's lock was not released");
    assert.equal(Deno.readTextFileSync(join(dir, "lock")), `${Deno.pid}\n`);
    // Now we hold it: another process is refused.
    const other = lockHolder(dir);
    assert.equal(await other.nextLine(), "busy");
    assert.equal((await other.finish()).code, 0);
    lock.release();
    lock.release();
    assert.equal(RunLock.held(dir), false);
  }));

Deno.test("RunLock: within one process a second acquire fails and held() sees our own lock", () =>
  inTemp((dir) => {
    const lock = RunLock.tryAcquire(dir);
    assert.ok(lock);
    assert.equal(RunLock.tryAcquire(dir), null);
    assert.equal(RunLock.held(dir), true);
    lock.release();
    assert.equal(RunLock.held(dir), false);
    {
      using again = RunLock.tryAcquire(dir);
      assert.ok(again);
    }
    assert.equal(RunLock.held(dir), false, "using did not release");
    // A probe in progress (a shared lock) does not look like a holder to another probe.
    const probe = Deno.openSync(join(dir, "lock"), { read: true });
    try {
      assert.ok(probe.tryLockSync(false));
      assert.equal(RunLock.held(dir), false);
    } finally {
      probe.close();
    }
  }));

// ---------------------------------------------------------------------------------------------

const ID_A = "20261126-090507-gpt2-beef";
const ID_B = "20261127-120000-llama-3.1-8b-0a0a";
const ID_C = "20261128-080000-gpt2-c0de";

/** A store with runs A, B, C created a day apart (C newest). */
function threeRuns(root: string): RunStore {
  const store = new RunStore(join(root, "runs"));
  const days = { [ID_A]: 26, [ID_B]: 27, [ID_C]: 28 };
  for (const [id, day] of Object.entries(days)) {
    const at = `2026-11-${day}T09:00:00.000Z`;
    store.create(meta(id, at), state(id, { queuedAt: at }));
  }
  return store;
}

Deno.test("RunStore: create, read back, update; an existing id or a bad value is refused", () =>
  inTemp((root) => {
    const store = threeRuns(root);
    const p = store.paths(ID_A);
    assert.deepEqual(names(p.dir), [
      "checkpoints",
      "meta.json",
      "metrics.jsonl",
      "state.json",
      "train.log",
    ]);
    assert.equal(Deno.readTextFileSync(p.metrics), "", "metrics.jsonl starts empty");
    assert.deepEqual(store.meta(ID_A), meta(ID_A, "2026-11-26T09:00:00.000Z"));
    const s = state(ID_A, { status: "running", pid: 7, step: 12, loss: 3.5 });
    store.writeState(s);
    assert.deepEqual(store.state(ID_A), s);
    assert.match(storeError(() => store.create(meta(ID_A), state(ID_A))), /already exists/);
    // NaN would be written as null and make the file unreadable: refused before anything is made.
    const nan = state("20261129-000000-x-0000", { loss: NaN });
    assert.match(
      storeError(() => store.create(meta(nan.id), nan)),
      /"loss" must be a number or null/,
    );
    assert.match(
      storeError(() => store.writeState({ ...s, step: NaN })),
      /"step" must be a number/,
    );
    assert.deepEqual(store.ids(), [ID_A, ID_B, ID_C]);
    // A file whose id is not its directory's.
    Deno.writeTextFileSync(p.meta, JSON.stringify(meta(ID_B)));
    assert.match(storeError(() => store.meta(ID_A)), /"id" is '20261127.*not the directory's/);
    for (const bad of ["", "..", "a/b", "a\\b"]) {
      assert.match(storeError(() => store.paths(bad)), /invalid run id/);
    }
  }));

Deno.test("RunStore.list: newest first; a corrupt run reports its file and the rest still list", () =>
  inTemp((root) => {
    assert.deepEqual(new RunStore(join(root, "none")).list(), []);
    const store = threeRuns(root);
    Deno.writeTextFileSync(store.paths(ID_B).state, '{"schema": 1, "id"');
    Deno.writeTextFileSync(store.paths(ID_C).meta, JSON.stringify({ ...meta(ID_C), seed: "42" }));
    // Not runs: a stray file, a dot directory, a directory without meta or state.
    Deno.writeTextFileSync(join(store.root, "notes.txt"), "");
    Deno.mkdirSync(join(store.root, ".hidden"));
    Deno.writeTextFileSync(
      join(store.root, ".hidden", "meta.json"),
      JSON.stringify(meta(".hidden")),
    );
    Deno.mkdirSync(join(store.root, "empty"));
    const list = store.list();
    assert.deepEqual(list.map((r) => r.id), [ID_C, ID_B, ID_A]);
    const [c, b, a] = list;
    assert.equal(a?.error, null);
    assert.deepEqual(a?.state, state(ID_A, { queuedAt: "2026-11-26T09:00:00.000Z" }));
    assert.equal(b?.state, null);
    assert.ok(b?.meta);
    assert.match(b?.error ?? "", new RegExp(`^${store.paths(ID_B).state}: not valid JSON \\(`));
    assert.equal(c?.meta, null);
    assert.ok(c?.state, "c's state.json is fine");
    assert.equal(c?.error, `${store.paths(ID_C).meta}: "seed" must be a number`);
  }));

Deno.test("RunStore: a running run whose process was killed is observed as failed", () =>
  inTemp(async (root) => {
    const store = threeRuns(root);
    const running = state(ID_A, { status: "running", pid: 1 });
    store.writeState(running);
    const holder = lockHolder(store.paths(ID_A).dir);
    try {
      assert.equal(await holder.nextLine(), "ready");
      assert.equal(store.alive(ID_A), true);
      assert.deepEqual(store.observedState(ID_A), running);
      assert.equal(store.list().find((r) => r.id === ID_A)?.state?.status, "running");
    } finally {
      holder.proc.kill("SIGKILL");
      await holder.finish();
    }
    assert.equal(store.alive(ID_A), false);
    const dead = { ...running, status: "failed", pid: null, reason: DEAD_REASON };
    assert.deepEqual(store.observedState(ID_A), dead);
    assert.deepEqual(store.list().find((r) => r.id === ID_A)?.state, dead);
    assert.deepEqual(store.state(ID_A), running, "observing wrote to state.json");
    // Other lifecycles are taken as written, lock or not.
    assert.equal(store.observedState(ID_B).status, "queued");
  }));

Deno.test("RunStore.resolve: newest, exact, unique prefix, else suggestions", () =>
  inTemp((root) => {
    const empty = new RunStore(join(root, "runs"));
    assert.match(
      storeError(() => empty.resolve(undefined)),
      /^no runs in .*runs yet \(start one with llm-sim train\)$/,
    );
    assert.match(storeError(() => empty.resolve("x")), /^unknown run 'x': no runs in/);
    const store = threeRuns(root);
    assert.equal(store.resolve(undefined), ID_C);
    assert.equal(store.resolve(ID_B), ID_B);
    assert.equal(store.resolve("20261127"), ID_B);
    assert.equal(store.resolve("llama"), ID_B); // the part after the timestamp
    assert.equal(store.resolve("gpt2-c"), ID_C);
    assert.equal(
      storeError(() => store.resolve("gpt2")),
      `run 'gpt2' is ambiguous: 2 runs match (${ID_C}, ${ID_A})`,
    );
    assert.match(storeError(() => store.resolve("2026")), /ambiguous: 3 runs match/);
    assert.equal(
      storeError(() => store.resolve("20261126-090507-gpt2-beeg")),
      `unknown run '20261126-090507-gpt2-beeg' (did you mean ${ID_A}?)`,
    );
    assert.match(storeError(() => store.resolve("gtp2-beef")), new RegExp(`did you mean ${ID_A}`));
    assert.match(
      storeError(() => store.resolve("llama-3.1-8b-0a0b")),
      new RegExp(`did you mean ${ID_B}\\?`),
    );
    assert.match(
      storeError(() => store.resolve("zzzzzzzzzzzzzzzzzzzz")),
      /^unknown run 'zzz.*no run in .* is close\)$/,
    );
  }));

Deno.test("RunStore checkpoints: only complete ones, ascending", () =>
  inTemp((root) => {
    const store = threeRuns(root);
    assert.deepEqual(store.checkpoints(ID_A), []);
    for (const step of [100, 20, 300]) store.writeCheckpoint(ID_A, manifest(step));
    const dir = store.paths(ID_A).checkpoints;
    Deno.mkdirSync(join(dir, "step-400")); // a save that never finished
    Deno.mkdirSync(join(dir, "junk"));
    Deno.writeTextFileSync(join(dir, "step-500"), "a file, not a directory");
    assert.deepEqual(store.checkpoints(ID_A), [20, 100, 300]);
    assert.deepEqual(store.checkpoint(ID_A, 100), manifest(100));
    assert.match(
      storeError(() => store.checkpoint(ID_A, 400)),
      /step-400\/manifest\.json: missing$/,
    );
    Deno.writeTextFileSync(join(dir, "step-20", "manifest.json"), JSON.stringify(manifest(21)));
    assert.match(storeError(() => store.checkpoint(ID_A, 20)), /"step" is 21, expected 20/);
    assert.match(
      storeError(() => store.writeCheckpoint(ID_A, { ...manifest(1), bytes: NaN })),
      /"bytes"/,
    );
  }));

Deno.test("RunStore: stop requests, log and metrics appends, tail repair", () =>
  inTemp((root) => {
    const store = threeRuns(root);
    assert.equal(store.stopRequested(ID_A), false);
    store.requestStop(ID_A);
    assert.equal(store.stopRequested(ID_A), true);
    assert.equal(store.stopRequested(ID_B), false);
    store.clearStop(ID_A);
    store.clearStop(ID_A);
    assert.equal(store.stopRequested(ID_A), false);

    const p = store.paths(ID_A);
    store.appendLog(ID_A, "step 1 | loss 4.0\n");
    store.appendMetrics(ID_A, ['{"step":1}', '{"step":2}']);
    store.appendMetrics(ID_A, []);
    assert.throws(() => store.appendMetrics(ID_A, ['{"a":\n1}']), /newline/);
    Deno.writeTextFileSync(p.log, "step 2 | lo", { append: true });
    Deno.writeTextFileSync(p.metrics, '{"st', { append: true });
    store.repairTails(ID_A);
    assert.equal(Deno.readTextFileSync(p.log), "step 1 | loss 4.0\n");
    assert.equal(Deno.readTextFileSync(p.metrics), '{"step":1}\n{"step":2}\n');
    store.repairTails(ID_B); // empty log and metrics: nothing to cut
    assert.equal(Deno.readTextFileSync(store.paths(ID_B).log), "");
    assert.equal(Deno.readTextFileSync(store.paths(ID_B).metrics), "");
  }));

Deno.test("RunLock.previousHolder: the pid the lock file named when the lock was taken", () =>
  inTemp((dir) => {
    const first = RunLock.tryAcquire(dir)!;
    assert.equal(first.previousHolder, null, "a new lock file names nobody");
    first.release();
    const second = RunLock.tryAcquire(dir)!;
    assert.equal(second.previousHolder, Deno.pid);
    assert.equal(Deno.readTextFileSync(`${dir}/lock`), `${Deno.pid}\n`, "then names us alone");
    second.release();
    Deno.writeTextFileSync(`${dir}/lock`, "4242\n");
    const third = RunLock.tryAcquire(dir)!;
    assert.equal(third.previousHolder, 4242);
    third.release();
  }));
