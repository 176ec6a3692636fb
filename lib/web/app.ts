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

export const WEB_HELP =
  `In the browser, the show's flags go in the page's address without their dashes:
  ?seed=7&speed=2&model=70b&gpus=1024&style=megatron      (a switch: ?instant or ?chaos)

`;

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
      ? WEB_HELP + SHOW_HELP
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
  const clock: Clock = cfg.instant
    ? new VirtualClock(startMs, { signal, wallNow: env.realNow })
    : new RealClock({ speed: cfg.speed, startMs, realNow: env.realNow, signal });
  const timer = cfg.exitAfterTimeMs !== null ? setTimeout(stop, cfg.exitAfterTimeMs) : undefined;
  const screen = new Screen(term, { wrap: cfg.format !== "jsonl" });
  const jsonl = cfg.format === "jsonl";
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
