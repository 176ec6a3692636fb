/**
 * `llm-sim monitor`'s shell: raw mode and the alternate screen (always restored, also on an
 * exception or a signal), input, four refreshes a second from the run store, and the effects
 * of keys — carried out by the same application functions as the CLI.
 */
import { type Clock, Interrupted, RealClock } from "../core/clock.ts";
import { UsageError } from "../cli/errors.ts";
import { bool, intFlag, parseFlags, str } from "../cli/flags.ts";
import { MONITOR_FLAGS } from "../cli/monitor_args.ts";
import { generate } from "../generate/session.ts";
import { RunStore } from "../store/disk.ts";
import { StoreError } from "../store/schema.ts";
import { parseConfigToml } from "../trainer/config.ts";
import { statusView } from "../trainer/status.ts";
import { renderDiff } from "../tui/diff.ts";
import { parseKeys } from "../tui/keys.ts";
import { RunMetrics } from "../tui/metrics.ts";
import {
  type Effect,
  initialState,
  type MonitorState,
  type Profile,
  type RunEntry,
  selectedRun,
  update,
  withRuns,
} from "../tui/monitor.ts";
import { renderMonitor } from "../tui/monitor_view.ts";
import type { ScreenBuffer } from "../tui/buffer.ts";
import { granted, listen, randomUint32, writeOut } from "./io.ts";
import { prepareGeneration, statsLine } from "./generate.ts";
import { observe, requestStop, resumeDetached, runsRoot, startDetached } from "./trainer.ts";

export const MONITOR_HELP =
  `llm-sim monitor: a live terminal UI over your runs (like nvitop for training).

Usage:
  llm-sim monitor [--runs-dir DIR]

Every run at a glance; the selected one's loss chart, lr and throughput, progress and ETA,
GPU heat map and log; launch (n), resume (r), stop (s) and generate (g) from forms checked
as you type. ? lists the keys; q quits (the runs go on). Needs a terminal: scripts use
llm-sim status --json.

  --runs-dir DIR             where runs live (default: $LLM_SIM_RUNS, else ./runs)
`;

const ENTER_ALT = "\x1b[?1049h\x1b[?25l";
const LEAVE_ALT = "\x1b[0m\x1b[?25h\x1b[?1049l";
const REFRESH_MS = 250;
const LOG_LINES = 400;

/** Bytes of a file from `offset` on (and the new offset); "" when it does not exist yet. */
function readFrom(path: string, offset: number): { text: string; bytes: number } {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return { text: "", bytes: 0 };
  }
  try {
    const size = file.statSync().size;
    if (size <= offset) return { text: "", bytes: 0 };
    file.seekSync(offset, Deno.SeekMode.Start);
    const buf = new Uint8Array(size - offset);
    let got = 0;
    while (got < buf.length) {
      const n = file.readSync(buf.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    return { text: new TextDecoder().decode(buf.subarray(0, got)), bytes: got };
  } finally {
    file.close();
  }
}

function profiles(): Profile[] {
  const list: Profile[] = [{ name: "defaults", settings: {} }];
  if (!granted({ name: "read", path: "llm-sim.toml" })) return list;
  try {
    list.push({
      name: "llm-sim.toml",
      settings: parseConfigToml(Deno.readTextFileSync("llm-sim.toml"), "llm-sim.toml"),
    });
  } catch {
    // absent or invalid: only the defaults (train --config names the problem)
  }
  return list;
}

export async function monitorMain(argv: string[]): Promise<number> {
  const p = parseFlags(argv, MONITOR_FLAGS, "llm-sim monitor");
  if (bool(p, "help")) {
    writeOut(MONITOR_HELP);
    return 0;
  }
  if (p.positionals.length > 0) {
    throw new UsageError(`monitor takes no arguments, got '${p.positionals[0]}'`);
  }
  if (!Deno.stdin.isTerminal() || !Deno.stdout.isTerminal()) {
    throw new UsageError(
      "monitor needs a terminal; for scripts use llm-sim status --json (or runs --json)",
    );
  }
  const root = runsRoot(str(p, "runs-dir") ?? null);
  if (!granted({ name: "read", path: root })) {
    throw new UsageError(
      `the runs directory needs permissions: deno run --allow-read=${root} --allow-write=${root} … (see the README)`,
    );
  }
  const store = new RunStore(root);
  const fullRedraw = bool(p, "full-redraw"); // the bench's baseline: every frame painted whole
  const refreshMs = intFlag(p, "refresh-ms", 50, 10_000) ?? REFRESH_MS;
  const color = !Deno.noColor;
  const size = () => {
    try {
      const s = Deno.consoleSize();
      return { width: Math.max(40, s.columns), height: Math.max(12, s.rows) };
    } catch {
      return { width: 80, height: 24 };
    }
  };
  let state: MonitorState = initialState({
    ...size(),
    color,
    now: Date.now(),
    tz: -new Date().getTimezoneOffset(),
    runsDir: root,
    profiles: profiles(),
  });
  const metrics = new Map<string, RunMetrics>();
  const logs = new Map<string, { offset: number; lines: string[]; partial: string }>();
  let prev: ScreenBuffer | null = null;
  let done = false;
  /** 0 for q; 130 for Ctrl-C, SIGINT and SIGTERM (interrupted, as everywhere in llm-sim). */
  let code = 0;
  const interrupt = () => {
    code = 130;
    done = true;
  };
  const gen: { current: AbortController | null } = { current: null };
  let messageAt = 0;

  const say = (text: string, error = false) => {
    state = { ...state, message: { text, error } };
    messageAt = Date.now();
  };

  /** The run list and the selected run's metrics and log, read again. */
  const refresh = () => {
    const now = Date.now();
    let problem: string | null = null;
    let runs: RunEntry[] = [];
    try {
      Deno.statSync(root);
      runs = store.ids().map((id): RunEntry => {
        try {
          const { meta, state: s, alive } = observe(store, id);
          return {
            id,
            view: statusView(meta, s, alive, store.checkpoints(id), store.paths(id).dir, now),
            error: null,
          };
        } catch (e) {
          if (!(e instanceof StoreError)) throw e;
          return { id, view: null, error: e.message };
        }
      }).sort((a, b) => (b.view?.created_at ?? "").localeCompare(a.view?.created_at ?? ""));
    } catch (e) {
      problem = e instanceof Deno.errors.NotFound
        ? `No runs directory at ${root} yet.`
        : `${root}: ${e instanceof Error ? e.message : e}`;
    }
    state = withRuns({ ...state, now }, runs, problem);
    if (state.message && now - messageAt > 6000 && !state.form) state = { ...state, message: null };
    const run = selectedRun(state);
    if (!run?.view) {
      state = { ...state, metrics: null, log: [] };
      return;
    }
    const paths = store.paths(run.id);
    let m = metrics.get(run.id);
    if (!m) metrics.set(run.id, m = new RunMetrics());
    let log = logs.get(run.id);
    if (!log) logs.set(run.id, log = { offset: 0, lines: [], partial: "" });
    try {
      const chunk = readFrom(paths.metrics, m.offset);
      if (chunk.bytes) m.ingest(chunk.text, chunk.bytes);
      const more = readFrom(paths.log, log.offset);
      if (more.bytes) {
        log.offset += more.bytes;
        const text = log.partial + more.text;
        const end = text.lastIndexOf("\n");
        log.partial = text.slice(end + 1);
        if (end >= 0) {
          log.lines = [...log.lines, ...text.slice(0, end).split("\n")].slice(-LOG_LINES);
        }
      }
    } catch (e) {
      // one run's unreadable file: said where its log would be; the other runs work
      const why = e instanceof Error ? e.message : String(e);
      state = {
        ...state,
        metrics: m,
        log: [...log.lines, `llm-sim monitor: cannot read ${run.id}'s files: ${why}`],
      };
      return;
    }
    state = { ...state, metrics: m, log: log.lines };
  };

  /** What the screen shows depends on: when none of it changed, the frame is not rendered. */
  let drawn = "";
  const fingerprint = () => {
    const m = state.metrics;
    return [
      Math.floor(state.now / 1000),
      state.width,
      state.height,
      state.problem,
      state.message?.text ?? "",
      state.output?.text.length ?? -1,
      m?.offset ?? -1,
      state.log.length,
      state.log.at(-1) ?? "",
      ...state.runs.map((r) => `${r.id}:${r.view?.updated_at}:${r.view?.status}:${r.view?.alive}`),
    ].join("|");
  };
  const refreshAndDraw = () => {
    refresh();
    const key = fingerprint();
    if (key !== drawn) draw();
  };

  const draw = () => {
    drawn = fingerprint();
    const buf = renderMonitor(state);
    const out = renderDiff(fullRedraw ? null : prev, buf, color);
    prev = buf;
    if (out.length > 0 && !writeOut(out)) done = true;
  };

  const startGeneration = async (e: Extract<Effect, { kind: "generate" }>) => {
    gen.current?.abort();
    const controller = new AbortController();
    gen.current = controller;
    try {
      const g = prepareGeneration(store, e.id, e.checkpoint, e.prompt);
      const seed = randomUint32();
      const clock: Clock = new RealClock({
        speed: 1,
        startMs: Date.now(),
        realNow: () => performance.now(),
        signal: controller.signal,
        beforeSleep: draw,
      });
      const append = (text: string) => {
        if (state.output) {
          state = { ...state, output: { ...state.output, text: state.output.text + text } };
        }
      };
      append(e.prompt);
      const r = await generate(
        g.model,
        g.quality,
        {
          prompt: e.prompt,
          maxNewTokens: e.maxNewTokens,
          temperature: e.temperature,
          topK: e.topK,
          topP: e.topP,
          repetitionPenalty: 1,
          seed,
        },
        g.timing,
        { clock, write: append },
      );
      if (state.output) {
        state = {
          ...state,
          output: { ...state.output, running: false, stats: statsLine(r, g, seed) },
        };
      }
    } catch (err) {
      if (err instanceof Interrupted) return;
      state = { ...state, output: null };
      say(err instanceof UsageError || err instanceof StoreError ? err.message : String(err), true);
    } finally {
      if (gen.current === controller) gen.current = null;
      draw();
    }
  };

  const run = async (e: Effect) => {
    try {
      switch (e.kind) {
        case "quit":
          if (e.interrupted) interrupt();
          else done = true;
          return;
        case "select":
          refresh(); // the newly selected run's metrics and log
          return;
        case "launch": {
          if (!granted({ name: "write", path: root })) {
            throw new UsageError(`launching needs --allow-write=${root}`);
          }
          say("starting the run …");
          draw();
          const { id, pid } = await startDetached(store, e.config, e.argv, {
            speed: 1,
            instant: false,
            width: null,
            noColor: false,
          });
          refresh();
          const at = state.runs.findIndex((r) => r.id === id);
          if (at >= 0) state = { ...state, selected: at };
          say(`launched ${id} (pid ${pid})`);
          return;
        }
        case "resume": {
          if (!granted({ name: "write", path: root })) {
            throw new UsageError(`resuming needs --allow-write=${root}`);
          }
          const { step, pid } = await resumeDetached(store, e.id, e.checkpoint, e.moreEpochs, {
            speed: 1,
            instant: false,
            width: null,
            noColor: false,
          });
          say(`resumed ${e.id} from step-${step} (pid ${pid})`);
          return;
        }
        case "stop":
          if (!granted({ name: "write", path: root })) {
            throw new UsageError(`stopping needs --allow-write=${root}`);
          }
          requestStop(store, e.id);
          say(`asked ${e.id} to stop: it finishes its step and saves`);
          return;
        case "generate":
          void startGeneration(e);
          return;
        case "cancel-generate":
          gen.current?.abort();
          return;
      }
    } catch (err) {
      // whatever went wrong is said on the screen; the monitor goes on
      if (err instanceof UsageError || err instanceof StoreError) say(err.message, true);
      else say(`${e.kind} failed: ${err instanceof Error ? err.message : String(err)}`, true);
    }
  };

  Deno.stdin.setRaw(true);
  writeOut(ENTER_ALT);
  const unlisten = [
    listen("SIGWINCH", () => {
      state = { ...state, ...size() };
      prev = null; // a new size: paint it whole once
      draw();
    }),
    listen("SIGTERM", interrupt),
    listen("SIGINT", interrupt),
  ];
  const reader = Deno.stdin.readable.getReader();
  let failure: unknown = null;
  const input = (async () => {
    try {
      await readKeys();
    } catch (e) {
      // stdin released at exit is expected; anything before that is a bug to report once the
      // terminal is restored
      if (!done) failure = e;
      done = true;
    }
  })();
  async function readKeys() {
    while (!done) {
      const { value, done: end } = await reader.read();
      if (end || !value) {
        done = true;
        break;
      }
      for (const key of parseKeys(value)) {
        if (state.message && !state.form) state = { ...state, message: null };
        const before = state.message;
        const r = update(state, key);
        state = r.state;
        // a message a key brought (a refusal, guidance) stays as long as one the shell says
        if (state.message && state.message !== before) messageAt = Date.now();
        for (const e of r.effects) await run(e);
      }
      if (!done) draw();
    }
  }
  try {
    refresh();
    draw();
    while (!done) {
      await Promise.race([input, new Promise((r) => setTimeout(r, refreshMs))]);
      if (done) break;
      if (fullRedraw) {
        refresh();
        draw();
      } else refreshAndDraw();
    }
  } finally {
    gen.current?.abort();
    for (const off of unlisten) off();
    reader.releaseLock();
    try {
      Deno.stdin.setRaw(false);
    } catch {
      // stdin went away: nothing to restore there
    }
    writeOut(LEAVE_ALT);
  }
  if (failure !== null) throw failure;
  return code;
}
