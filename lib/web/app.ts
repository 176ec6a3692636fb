/**
 * The show in a page, without the DOM: options from the URL query, then the same scheduler,
 * phases and dialects as the command line, on whatever Terminal the page gives (xterm.js in
 * lib/web/main.ts, a MemoryTerminal in tests). Bad options are one red line in the terminal.
 */
import denoJson from "../../deno.json" with { type: "json" };
import { UsageError } from "../cli/errors.ts";
import { renderList } from "../cli/lists.ts";
import { type ShowConfig, showRequest } from "../cli/show_config.ts";
import { SHOW_HELP } from "../cli/usage.ts";
import { type Clock, RealClock, VirtualClock } from "../core/clock.ts";
import { InfeasibleError, runShow } from "../core/scheduler.ts";
import { dialectFor, jsonlDialect } from "../dialects/mod.ts";
import { HIDE_CURSOR, paint } from "../term/ansi.ts";
import { Screen } from "../term/screen.ts";
import type { Terminal } from "../term/terminal.ts";
import { parseQuery } from "./query.ts";

const WEB_INTRO =
  `llm-sim in the browser: the show's options go in the page's address, without dashes:
  ?seed=7&speed=2&model=70b&gpus=1024&style=megatron      (a switch: ?instant or ?chaos)

`;

/**
 * `?help`: the command line's flags as address options (`--seed N` → `seed=N`), without those
 * a page has no use for (--record, --help, --version) and without the subcommands.
 */
export function webHelp(showHelp: string): string {
  const flags = showHelp.slice(showHelp.indexOf("\nFlags:\n") + 1);
  const lines = flags.slice(0, flags.indexOf("\n\n") + 1).split("\n");
  const out: string[] = ["Options:"];
  let skip = false;
  for (const line of lines.slice(1)) {
    const flag = /^ {2}(-\w, )?--([\w-]+)( \S+)?( *)(.*)$/.exec(line);
    if (flag) {
      const [, , name, value, pad, text] = flag;
      skip = ["record", "help", "version"].includes(name!);
      if (!skip) {
        // in the column the flag took, so the descriptions stay aligned
        const was = `${flag[1] ?? ""}--${name}${value ?? ""}${pad}`;
        const opt = `${name}${value ? `=${value.trim()}` : ""}`;
        out.push(`  ${opt.padEnd(was.length)}${text}`);
      }
    } else if (!skip && line !== "") out.push(line);
  }
  return WEB_INTRO + out.join("\n").replace(/--list (\w+)/g, "list=$1") + "\n";
}

export interface PageEnv {
  /** Wall clock, epoch ms (Date.now). */
  wallNow: () => number;
  /** Monotonic ms (performance.now). */
  realNow: () => number;
  /** A seed when the URL gives none. */
  randomSeed: () => number;
  /** Minutes east of UTC at a time (default: the browser's zone). */
  tz?: (ms: number) => number;
  /** Aborts the show (the page going away, tests). */
  signal?: AbortSignal;
  /** Told the options once they are checked, before anything plays (width, colour). */
  onConfig?: (cfg: ShowConfig) => void;
  /** A promise to wait on while the terminal is behind (xterm.js's backlog), else null. */
  drain?: () => Promise<void> | null;
}

/** `clock`, whose pauses also wait for the terminal to catch up when it is behind. */
function pacedBy(clock: Clock, drain: () => Promise<void> | null): Clock {
  return {
    now: () => clock.now(),
    sleep(ms: number): Promise<void> {
      const slept = clock.sleep(ms);
      const behind = drain();
      return behind ? slept.then(() => behind) : slept;
    },
  };
}

export type PageOutcome = "done" | "stopped" | "usage" | "info";

/** Play the show the query asks for on `term`; resolves when it ends. */
export async function playPage(
  search: string,
  term: Terminal,
  env: PageEnv,
): Promise<PageOutcome> {
  const fail = (msg: string) => term.write(paint(term.color, "red", `llm-sim: ${msg}`) + "\n");
  let cfg: ShowConfig;
  try {
    cfg = parseQuery(search);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    fail(e.message);
    return "usage";
  }
  env.onConfig?.(cfg);
  if (cfg.help || cfg.version || cfg.list) {
    const text = cfg.help
      ? webHelp(SHOW_HELP)
      : cfg.version
      ? `llm-sim ${denoJson.version}\n`
      : renderList(cfg.list ?? "models");
    term.write(text);
    return "info";
  }
  const controller = new AbortController();
  const signal = controller.signal;
  const stop = () => controller.abort();
  env.signal?.addEventListener("abort", stop, { once: true });
  const startMs = cfg.startTime ?? env.wallNow();
  const base: Clock = cfg.instant
    ? new VirtualClock(startMs, { signal, wallNow: env.realNow })
    : new RealClock({ speed: cfg.speed, startMs, realNow: env.realNow, signal });
  const clock = env.drain ? pacedBy(base, env.drain) : base;
  const timer = cfg.exitAfterTimeMs !== null ? setTimeout(stop, cfg.exitAfterTimeMs) : undefined;
  const jsonl = cfg.format === "jsonl";
  const screen = new Screen(term, { wrap: !jsonl, live: !jsonl });
  term.write(HIDE_CURSOR);
  try {
    const result = await runShow({
      seed: cfg.seed ?? env.randomSeed(),
      exitAfterRuns: cfg.exitAfterRuns,
      tz: env.tz ? env.tz(startMs) : -new Date(startMs).getTimezoneOffset(),
      request: showRequest(cfg),
      replayFlags: cfg.replayFlags,
      dialect: (s) => (jsonl ? jsonlDialect() : dialectFor(s.config.framework)),
      chaos: cfg.chaos,
    }, { screen, clock });
    return result.interrupted ? "stopped" : "done";
  } catch (e) {
    if (!(e instanceof InfeasibleError)) throw e;
    fail(`cannot run this configuration: ${e.message}`);
    return "usage";
  } finally {
    clearTimeout(timer);
    env.signal?.removeEventListener("abort", stop);
  }
}
