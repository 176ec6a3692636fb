/**
 * llm-sim: the thin shell. Flags → config → terminal, clock and signals → scheduler → exit
 * code. Only this file, lib/term/deno_terminal.ts, lib/shell/ and lib/store/disk.ts touch
 * Deno.*; the show needs no permission at all (the trainer commands need the runs directory).
 */
import denoJson from "./deno.json" with { type: "json" };
import { parseShowArgs, type ShowConfig } from "./lib/cli/args.ts";
import { showRequest } from "./lib/cli/show_config.ts";
import { UsageError } from "./lib/cli/errors.ts";
import { renderList } from "./lib/cli/lists.ts";
import { SHOW_HELP } from "./lib/cli/usage.ts";
import { computePlan, parsePlanArgs, PLAN_HELP, planJson, planText } from "./lib/cli/plan.ts";
import { type Clock, RealClock, VirtualClock } from "./lib/core/clock.ts";
import { InfeasibleError, runShow } from "./lib/core/scheduler.ts";
import { dialectFor, jsonlDialect } from "./lib/dialects/mod.ts";
import { HIDE_CURSOR, RESET, SHOW_CURSOR } from "./lib/term/ansi.ts";
import { CastRecorder } from "./lib/term/cast.ts";
import { DenoTerminal } from "./lib/term/deno_terminal.ts";
import type { Terminal } from "./lib/term/terminal.ts";
import { Screen } from "./lib/term/screen.ts";
import { listen, randomUint32, writeErr, writeOut } from "./lib/shell/io.ts";
import { openCastFile } from "./lib/shell/record.ts";

export const VERSION: string = denoJson.version;

/** Commands of the trainer workflow (lib/cli/trainer_args.ts parses them). */
export const TRAINER_WORDS = [
  "train",
  "status",
  "runs",
  "logs",
  "stop",
  "resume",
  "init-config",
  "worker",
];

async function show(cfg: ShowConfig): Promise<number> {
  // --record refuses (exit 2) before anything plays unless --allow-write=FILE was given
  const cast = cfg.record !== null ? openCastFile(cfg.record) : null;
  const controller = new AbortController();
  let why: "signal" | "time" | "pipe" | null = null;
  const stop = (reason: "signal" | "time" | "pipe") => {
    if (why === null) why = reason;
    controller.abort();
  };
  const term = new DenoTerminal({
    ...(cfg.width !== null ? { width: cfg.width } : {}),
    noColor: cfg.noColor,
    onBrokenPipe: () => stop("pipe"),
  });
  const jsonl = cfg.format === "jsonl";
  const startMs = cfg.startTime ?? Date.now();
  const signal = controller.signal;
  let rec: CastRecorder | null = null;
  const flush = () => {
    term.flush();
    rec?.flush();
    cast?.flush();
  };
  const clock: Clock = cfg.instant
    ? new VirtualClock(startMs, {
      signal,
      wallNow: () => performance.now(),
      beforeYield: flush,
    })
    : new RealClock({
      speed: cfg.speed,
      startMs,
      realNow: () => performance.now(),
      signal,
      beforeSleep: flush,
    });
  const seed = cfg.seed ?? randomUint32();
  const out: Terminal = cast === null ? term : (rec = new CastRecorder(term, {
    now: () => clock.now(),
    sink: cast.write,
    title: `llm-sim --seed ${seed}${cfg.replayFlags}`,
  }));
  // a JSONL stream is objects only: no bars or GPU grid between them, on a TTY either
  const screen = new Screen(out, {
    wrap: !jsonl && (term.live || cfg.width !== null),
    live: !jsonl,
  });
  const unlisten = [
    listen("SIGINT", () => stop("signal")),
    listen("SIGTERM", () => stop("signal")),
    listen("SIGWINCH", () => term.refreshSize()),
  ];
  const timer = cfg.exitAfterTimeMs !== null
    ? setTimeout(() => stop("time"), cfg.exitAfterTimeMs)
    : undefined;
  if (term.live) out.write(HIDE_CURSOR);
  let refused = false;
  try {
    await runShow({
      seed,
      exitAfterRuns: cfg.exitAfterRuns,
      tz: -new Date(startMs).getTimezoneOffset(),
      request: showRequest(cfg),
      replayFlags: cfg.replayFlags,
      dialect: (s) => (jsonl ? jsonlDialect() : dialectFor(s.config.framework)),
      chaos: cfg.chaos,
    }, { screen, clock });
  } catch (e) {
    // refused before anything played: no recording either
    refused = e instanceof InfeasibleError && e.afterRuns === 0;
    throw e;
  } finally {
    clearTimeout(timer);
    for (const off of unlisten) off();
    if (term.live) out.write(RESET + SHOW_CURSOR);
    if (refused) cast?.discard();
    else {
      rec?.flush();
      cast?.close();
    }
    term.flush();
  }
  return why === "signal" ? 130 : 0;
}

function plan(argv: string[]): number {
  const req = parsePlanArgs(argv);
  if (req.help) {
    writeOut(PLAN_HELP);
    return 0;
  }
  const result = computePlan(req);
  if (!result.candidate) {
    if (req.json) writeOut(planJson(result));
    writeErr(`llm-sim plan: cannot run: ${result.reason}\n`);
    return 2;
  }
  writeOut(req.json ? planJson(result) : planText(result));
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  try {
    if (argv[0] === "plan") return plan(argv.slice(1));
    // The trainer and generate commands load on demand: the show starts without their code
    // (and without the 1.2 MB corpus the sampler is built from).
    if (argv[0] === "generate") {
      const [{ generateMain }, { parseGenerateArgs }] = await Promise.all([
        import("./lib/shell/generate.ts"),
        import("./lib/cli/generate_args.ts"),
      ]);
      return await generateMain(parseGenerateArgs(argv.slice(1)));
    }
    if (argv[0] === "monitor") {
      const { monitorMain } = await import("./lib/shell/monitor.ts");
      return await monitorMain(argv.slice(1));
    }
    if (argv[0] === "completions") {
      const c = await import("./lib/cli/completions.ts");
      const shell = c.parseCompletionsArgs(argv.slice(1));
      writeOut(shell === null ? c.COMPLETIONS_HELP : c.completionScript(shell));
      return 0;
    }
    if (TRAINER_WORDS.includes(argv[0] ?? "")) {
      const [shell, args] = await Promise.all([
        import("./lib/shell/trainer.ts"),
        import("./lib/cli/trainer_args.ts"),
      ]);
      shell.VERSION.value = VERSION;
      const command = argv[0] as Parameters<typeof args.parseTrainerArgs>[0];
      return await shell.trainerMain(args.parseTrainerArgs(command, argv.slice(1)), argv);
    }
    const cfg = parseShowArgs(argv);
    if (cfg.help) {
      writeOut(SHOW_HELP);
      return 0;
    }
    if (cfg.version) {
      writeOut(`llm-sim ${VERSION}\n`);
      return 0;
    }
    if (cfg.list) {
      writeOut(renderList(cfg.list));
      return 0;
    }
    return await show(cfg);
  } catch (e) {
    if (e instanceof UsageError) {
      writeErr(`llm-sim: ${e.message}\n`);
      return 2;
    }
    if (e instanceof InfeasibleError) {
      writeErr(`llm-sim: cannot run this configuration: ${e.message}\n`);
      return 2;
    }
    writeErr(`llm-sim: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
