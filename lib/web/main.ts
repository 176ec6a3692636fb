/// <reference lib="dom" />
/**
 * The page: xterm.js fitted to the window (and re-fitted when it resizes), then the show the
 * URL asks for (app.ts). The only module of lib/web/ that touches the DOM; bundled by
 * web/build.ts into dist/web/app.js. `globalThis.llmSim` lets tests read the terminal.
 */
import { FitAddon } from "@xterm/addon-fit";
import { Terminal as Xterm } from "@xterm/xterm";
import xtermCss from "@xterm/xterm/css/xterm.css" with { type: "text" };
import { type PageOutcome, playPage } from "./app.ts";
import { XtermTerminal } from "./xterm_terminal.ts";

const PAGE_CSS = `
html, body { margin: 0; height: 100%; background: #101010; overflow: hidden; }
#terminal { position: fixed; inset: 8px; }
`;

export interface PageState {
  xterm: Xterm;
  /** Set when the show ended (exit-after-runs, exit-after-time, a bad option). */
  outcome: PageOutcome | null;
  error: string | null;
}

function main(): void {
  const style = document.createElement("style");
  style.textContent = xtermCss + PAGE_CSS;
  document.head.append(style);
  let host = document.getElementById("terminal");
  if (host === null) {
    host = document.createElement("div");
    host.id = "terminal";
    document.body.append(host);
  }
  const xterm = new Xterm({
    convertEol: true,
    disableStdin: true,
    cursorBlink: false,
    scrollback: 10_000,
    fontSize: 14,
    lineHeight: 1.15, // DejaVu Sans Mono draws "_" below a 1.0 line: it would vanish
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
    theme: { background: "#101010" },
  });
  const fit = new FitAddon();
  xterm.loadAddon(fit);
  xterm.open(host);
  fit.fit();
  let pending = false;
  globalThis.addEventListener("resize", () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      fit.fit();
    });
  });
  const state: PageState = { xterm, outcome: null, error: null };
  (globalThis as unknown as { llmSim: PageState }).llmSim = state;
  const term = new XtermTerminal(xterm);
  playPage(location.search, term, {
    wallNow: () => Date.now(),
    realNow: () => performance.now(),
    randomSeed: () => crypto.getRandomValues(new Uint32Array(1))[0] as number,
    drain: () => term.drain(),
    onConfig: (cfg) => {
      term.width = cfg.width;
      term.color = !cfg.noColor;
      if (cfg.seed !== null) document.title = `llm-sim · seed ${cfg.seed}`;
    },
  }).then((outcome) => {
    // xterm parses writes asynchronously: the outcome is announced once all of it is on screen
    xterm.write("", () => {
      state.outcome = outcome;
    });
  }, (e: unknown) => {
    state.error = e instanceof Error ? e.message : String(e);
    xterm.write(`\r\nllm-sim: internal error: ${state.error}\r\n`);
  });
}

main();
